#!/usr/bin/env bash
# SPF speed against the oracle (issue 5, item 3). Serves ../shared/bench/spf-zone with nsd
# (its nsd.conf copied to a scratch folder, paths moved there; rrl-ratelimit 0 kept), then
# measures on the 25 domains of that zone:
#   1. checkdmarc in-process: check_spf over the whole set, median of $RUNS passes (fresh cache
#      each pass, timed after the imports: tests/peers/oracle/spf_oracle.py --bench);
#   2. xdiag's SPF analysis over the same set, median of $RUNS passes (new resolver, empty cache,
#      one session per pass; crates/diag-core/examples/spf_bench.rs, release build), one domain
#      after another and all at once;
#   3. the DNS queries each sends for one pass, counted on the wire by bench/dns-count-proxy.py
#      (a UDP+TCP forwarder in front of nsd), and xdiag's own counter beside it;
#   4. the verdicts: checkdmarc's category against xdiag's, domain by domain;
#   5. one domain as a whole process: `xdiag check --only dns --dns-server ... --domain ...`
#      (release build) and, for scale, a python process running checkdmarc on it.
# Prints the figures and whether each target of the issue is met; exits 1 if one is not.
# Needs nsd, python3 and cargo; scripts/peers-venv.sh provides checkdmarc.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${XDIAG_SHARED:-$ROOT/../shared}
ZONE_DIR=$SHARED/bench/spf-zone
PORT=${BENCH_NSD_PORT:-15353}          # the port the shared nsd.conf names
PROXY_PORT=${BENCH_PROXY_PORT:-15363}
RUNS=${RUNS:-9}
ONE=${ONE_DOMAIN:-m365.lab.test}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
DOMAINS=(trivial ip-only m365 m365-office mx-a redirect saas-soup chain5 chain10 chain11 wide12 two-spf
  typo bad-ip void3 include-nx include-nospf loop no-spf long-split plus-all ptr-macro mx-eleven
  redirect-all absent)
DOMAINS=("${DOMAINS[@]/%/.lab.test}")

say() { printf '%s\n' "$*" >&2; }
die() { say "spf-oracle: ERROR: $*"; exit 1; }
[ -f "$ZONE_DIR/nsd.conf" ] || die "no $ZONE_DIR/nsd.conf (set XDIAG_SHARED to the shared/ folder)"
[ ${#DOMAINS[@]} = 25 ] || die "expected 25 domains"
NSD=$(command -v nsd || echo /usr/sbin/nsd)
[ -x "$NSD" ] || die "nsd is not installed (apt-get install -y --no-install-recommends nsd)"

WORK=$(mktemp -d /tmp/xdiag-spf-bench.XXXXXX)
PROXY_PID=
cleanup() {
  [ -z "$PROXY_PID" ] || kill "$PROXY_PID" 2>/dev/null || true
  if [ -f "$WORK/nsd.pid" ]; then
    local pid; pid=$(cat "$WORK/nsd.pid")
    kill "$pid" 2>/dev/null || true
    # nsd writes its state files while it stops: remove the folder after it is gone.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- nsd, from the shared config ------------------------------------------------------------------
cp "$ZONE_DIR/lab.test.zone" "$WORK/"
sed -e "s#/tmp/xdiag-spf-nsd#$WORK#g" -e "s#zonesdir: \".\"#zonesdir: \"$WORK\"#" \
  -e "s#127.0.0.1@15353#127.0.0.1@$PORT#" -e "s#port: 15353#port: $PORT#" "$ZONE_DIR/nsd.conf" > "$WORK/nsd.conf"
grep -q '^ *rrl-ratelimit: 0' "$WORK/nsd.conf" || die "the shared nsd.conf no longer turns rate limiting off"
"$NSD" -c "$WORK/nsd.conf" || die "nsd did not start: $(cat "$WORK/nsd.log" 2>/dev/null)"

PY=$("$ROOT/scripts/peers-venv.sh")
"$PY" - "$PORT" <<'EOF' || die "nsd on 127.0.0.1:$PORT does not answer"
import sys, time, dns.message, dns.query
for _ in range(100):
    try:
        if dns.query.udp(dns.message.make_query("lab.test", "SOA"), "127.0.0.1", port=int(sys.argv[1]), timeout=0.3).answer:
            sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
EOF

# --- builds (release) -------------------------------------------------------------------------------
say "building the release binaries (xdiag, examples/spf_bench) ..."
(cd "$ROOT" && cargo build -q --release -p diag-core --example spf_bench && cargo build -q --release -p diag-cli)
BENCH=$TARGET/release/examples/spf_bench
XDIAG=$TARGET/release/xdiag

proxy_count() { # proxy_count COMMAND...: runs COMMAND with the proxy in front of nsd; prints its JSON
  rm -f "$WORK/proxy.ready"
  "$PY" "$ROOT/bench/dns-count-proxy.py" --listen "127.0.0.1:$PROXY_PORT" --upstream "127.0.0.1:$PORT" \
    --ready "$WORK/proxy.ready" --names > "$WORK/proxy.out" &
  PROXY_PID=$!
  for _ in $(seq 100); do [ -f "$WORK/proxy.ready" ] && break; sleep 0.05; done
  "$@" > /dev/null
  kill "$PROXY_PID"; wait "$PROXY_PID" || true; PROXY_PID=
  cat "$WORK/proxy.out"
}

# --- measurements -----------------------------------------------------------------------------------
ORACLE=$ROOT/tests/peers/oracle/spf_oracle.py
"$PY" "$ORACLE" --server "127.0.0.1:$PORT" --bench "$RUNS" "${DOMAINS[@]}" > "$WORK/cd-time.json"
proxy_count "$PY" "$ORACLE" --server "127.0.0.1:$PROXY_PORT" --bench 1 "${DOMAINS[@]}" > "$WORK/cd-queries.json"
"$PY" "$ORACLE" --server "127.0.0.1:$PORT" "${DOMAINS[@]}" > "$WORK/cd-verdicts.json"

"$BENCH" --server "127.0.0.1:$PORT" --runs "$RUNS" "${DOMAINS[@]}" > "$WORK/x-seq.json"
"$BENCH" --server "127.0.0.1:$PORT" --runs "$RUNS" --concurrent "${DOMAINS[@]}" > "$WORK/x-par.json"
proxy_count "$BENCH" --server "127.0.0.1:$PROXY_PORT" --runs 1 "${DOMAINS[@]}" > "$WORK/x-queries.json"
proxy_count "$BENCH" --server "127.0.0.1:$PROXY_PORT" --runs 1 --concurrent "${DOMAINS[@]}" > "$WORK/x-par-queries.json"

# One domain, whole processes (wall time, median of $RUNS).
time_process() { # time_process COMMAND...: prints the median wall time in seconds
  local t=()
  for _ in $(seq "$RUNS"); do
    local s e; s=$(date +%s%N); "$@" > "$WORK/process.out" 2>&1 || true; e=$(date +%s%N)
    t+=("$(( (e - s) / 1000 ))")
  done
  printf '%s\n' "${t[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.4f\n", v[int((NR + 1) / 2)] / 1e6 }'
}
# direct-send needs no app: the config check wants only the tenant (the domain will do).
XDIAG_ONE=(--only dns --method direct-send --tenant "$ONE" --dns-server "127.0.0.1:$PORT" --domain "$ONE" --format json)
x_one=$(time_process "$XDIAG" check "${XDIAG_ONE[@]}")
"$XDIAG" check "${XDIAG_ONE[@]}" > "$WORK/x-one.json" 2> "$WORK/x-one.err" || true
cd_one=$(time_process "$PY" -c "import sys, dns.nameserver, checkdmarc; print(checkdmarc.spf.check_spf(sys.argv[1], nameservers=[dns.nameserver.Do53Nameserver('127.0.0.1', $PORT)]))" "$ONE")

"$PY" - "$WORK" "$x_one" "$cd_one" "$ONE" <<'EOF'
import json, sys
work, x_one, cd_one, one = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
load = lambda name: json.load(open(f"{work}/{name}"))
cd, cdq, cdv = load("cd-time.json"), load("cd-queries.json"), load("cd-verdicts.json")
xs, xp, xq, xpq = load("x-seq.json"), load("x-par.json"), load("x-queries.json"), load("x-par-queries.json")
loop = {"include-loop": "loop", "redirect-loop": "loop"}
oracle = {r["domain"]: r for r in cdv["results"]}
print(f"SPF set: {xs['domains']} domains of shared/bench/spf-zone, served by nsd; medians of {len(xs['runs_s'])} passes\n")
print(f"{'':34}{'time (ms)':>10}{'queries':>9}{'(udp/tcp)':>11}  client's own count")
print(f"{'checkdmarc ' + cd['checkdmarc'] + ' in-process':34}{cd['median_s']*1e3:10.1f}{cdq['total']:9d}{cdq.get('udp',0):6d}/{cdq.get('tcp',0):<4d}")
for name, t, q in (("xdiag, one domain after another", xs, xq), ("xdiag, all domains at once", xp, xpq)):
    print(f"{name:34}{t['median_s']*1e3:10.1f}{q['total']:9d}{q.get('udp',0):6d}/{q.get('tcp',0):<4d}  {t['queries']}")
print(f"\none domain ({one}) as a whole process, wall time: xdiag check --only dns {x_one*1e3:.1f} ms; "
      f"python + checkdmarc.check_spf {cd_one*1e3:.0f} ms")

differ = []
print(f"\n{'domain':26}{'checkdmarc':24}{'L/V':>7}   {'xdiag':24}{'L/V':>7}")
for d, v in xs["verdicts"].items():
    o = oracle[d]
    theirs = loop.get(o["verdict"], o["verdict"])
    lv = lambda a, b: f"{'-' if a is None else a}/{'-' if b is None else b}"
    mark = "" if theirs == v["verdict"] else "  <- differs"
    if mark:
        differ.append(d)
    print(f"{d:26}{theirs:24}{lv(o['dns_lookups'], o['void_dns_lookups']):>7}   {v['verdict']:24}{lv(v['lookups'], v['voids']):>7}{mark}")

# The whole-process figure counts only if that process really ran the dns check.
try:
    report = json.load(open(f"{work}/x-one.json"))
    dns_ran = any(f.get("check") == "dns" and f.get("status") not in (None, "skip", "error") for f in report.get("findings", []))
except (OSError, ValueError):
    dns_ran = False
if not dns_ran:
    print("\nxdiag check --only dns did not run the dns check: " + open(f"{work}/x-one.err").read().strip()[:300])

checks = [
    ("xdiag's time <= half of checkdmarc's (sequential)", xs["median_s"] <= cd["median_s"] / 2),
    ("xdiag sends no more queries than checkdmarc", xq["total"] <= cdq["total"]),
    ("same verdicts on every domain", not differ),
    ("one domain as a whole xdiag process <= 50 ms", dns_ran and x_one <= 0.050),
]
print()
for what, ok in checks:
    print(f"{'PASS' if ok else 'FAIL'}  {what}")
sys.exit(0 if all(ok for _, ok in checks) else 1)
EOF
