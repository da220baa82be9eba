#!/usr/bin/env bash
# SPF analysis speed on the 25-domain zone of ../shared/bench/spf-zone, served by nsd (installed
# with apt-get when missing; the shared nsd.conf copied to a scratch folder with its paths moved
# there, rate limiting kept off). Runs crates/diag-core/examples/spf_bench.rs (release build):
# one pass = a new resolver with an empty cache, all 25 domains; prints the median time of $RUNS
# passes, one domain after another and all at once, and the DNS queries the client sent.
# Targets (issue 4): at most half of checkdmarc's ~183 ms, no more than its 223 queries.
# No Python needed; bench/spf-oracle.sh adds checkdmarc side by side and counts on the wire.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${XDIAG_SHARED:-$ROOT/../shared}
ZONE_DIR=$SHARED/bench/spf-zone
PORT=${BENCH_NSD_PORT:-15353}
RUNS=${RUNS:-9}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
DOMAINS=(trivial ip-only m365 m365-office mx-a redirect saas-soup chain5 chain10 chain11 wide12 two-spf
  typo bad-ip void3 include-nx include-nospf loop no-spf long-split plus-all ptr-macro mx-eleven
  redirect-all absent)
DOMAINS=("${DOMAINS[@]/%/.lab.test}")

die() { echo "spf.sh: ERROR: $*" >&2; exit 1; }
[ -f "$ZONE_DIR/nsd.conf" ] || die "no $ZONE_DIR/nsd.conf (set XDIAG_SHARED to the shared/ folder)"
if ! command -v nsd >/dev/null && [ ! -x /usr/sbin/nsd ]; then
  echo "installing nsd ..." >&2
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends nsd >/dev/null
fi
NSD=$(command -v nsd || echo /usr/sbin/nsd)

WORK=$(mktemp -d /tmp/xdiag-spf.XXXXXX)
cleanup() {
  [ ! -f "$WORK/nsd.pid" ] || kill "$(cat "$WORK/nsd.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
cp "$ZONE_DIR/lab.test.zone" "$WORK/"
start_nsd() { # start_nsd PORT: nsd from the shared config, moved to $WORK and PORT
  sed -e "s#/tmp/xdiag-spf-nsd#$WORK#g" -e "s#zonesdir: \".\"#zonesdir: \"$WORK\"#" \
    -e "s#127.0.0.1@15353#127.0.0.1@$1#" -e "s#port: 15353#port: $1#" "$ZONE_DIR/nsd.conf" > "$WORK/nsd.conf"
  grep -q '^ *rrl-ratelimit: 0' "$WORK/nsd.conf" || die "the shared nsd.conf no longer turns rate limiting off"
  "$NSD" -c "$WORK/nsd.conf" 2>/dev/null
}
# The shared port may be taken (another nsd of a test run): then a random free one.
for try in 1 2 3 4 5 6; do
  start_nsd "$PORT" && break
  [ "$try" = 6 ] && die "nsd did not start: $(tail -3 "$WORK/nsd.log" 2>/dev/null)"
  PORT=$((20000 + RANDOM % 20000))
done

echo "building examples/spf_bench (release) ..." >&2
(cd "$ROOT" && cargo build -q --release -p diag-core --example spf_bench)
BENCH=$TARGET/release/examples/spf_bench
# nsd forks into the background: wait until a pass finds the zone (trivial.lab.test valid).
for _ in $(seq 50); do
  "$BENCH" --server "127.0.0.1:$PORT" --runs 1 trivial.lab.test 2>/dev/null | grep -q '"verdict":"valid"' && break
  sleep 0.1
done

"$BENCH" --server "127.0.0.1:$PORT" --runs "$RUNS" "${DOMAINS[@]}" > "$WORK/seq.json"
"$BENCH" --server "127.0.0.1:$PORT" --runs "$RUNS" --concurrent "${DOMAINS[@]}" > "$WORK/par.json"

# Print without Python: pull the figures out of the one-line JSON objects.
field() { grep -o "\"$2\":[0-9.e-]*" "$WORK/$1" | head -1 | cut -d: -f2; }
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
echo "SPF analysis of the ${#DOMAINS[@]} domains of shared/bench/spf-zone (nsd on 127.0.0.1:$PORT), median of $RUNS passes"
printf '  %-32s %8s ms %5s queries\n' "one domain after another" "$(ms "$(field seq.json median_s)")" "$(field seq.json queries)"
printf '  %-32s %8s ms %5s queries\n' "all domains at once" "$(ms "$(field par.json median_s)")" "$(field par.json queries)"
printf '  %-32s %8s ms %5s queries\n' "checkdmarc 6.0.4 (bench/README)" "~183" "223"
echo "verdicts (one pass): $(grep -o '"verdict":"[a-z-]*"' "$WORK/seq.json" | cut -d'"' -f4 | sort | uniq -c | tr -s ' ' | tr '\n' ',' | sed 's/,$//')"
