#!/usr/bin/env bash
# Benchmark of `xdiag explain` on the synthetic device log (a benchmark, not a timed test).
#
#   bench/explain.sh            # 200 MB, seed 1, 5 runs each
#   SIZE_MB=50 RUNS=3 bench/explain.sh
#
# It builds the release binary, writes the log with ../shared/bench/gen-log.py under target/bench/
# (never committed), checks that the scan reports every injected error line of the manifest and
# no other line, then times in one run: `rg -c -f`, `LC_ALL=C grep -E -c -f` (the patterns of
# ../shared/bench/explain-patterns.ere) and `xdiag explain --file`, the peak RSS of
# `cat log | xdiag explain -`, and the start-up of `xdiag explain AADSTS7000215`.
# Exit status: 1 when the correctness check fails; the figures are reported, not enforced.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
SIZE_MB=${SIZE_MB:-200}
SEED=${SEED:-1}
RUNS=${RUNS:-5}
OUT=$ROOT/target/bench
LOG=$OUT/device-${SIZE_MB}MB-seed${SEED}.log
MANIFEST=$OUT/device-${SIZE_MB}MB-seed${SEED}.manifest.json
PATTERNS=$SHARED/bench/explain-patterns.ere
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
XDIAG=$CARGO_TARGET_DIR/release/xdiag

mkdir -p "$OUT"

# Peers and tools, installed only when missing (Debian package names).
need=()
command -v rg >/dev/null || need+=(ripgrep)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    else
        echo "missing: ${need[*]} (install them, or run as root)" >&2
        exit 2
    fi
fi

echo "== build (release)"
(cd "$ROOT" && cargo build --release -q -p diag-cli)

if [ ! -s "$LOG" ] || [ ! -s "$MANIFEST" ]; then
    echo "== generate $SIZE_MB MB log (seed $SEED)"
    python3 "$SHARED/bench/gen-log.py" --size-mb "$SIZE_MB" --seed "$SEED" -o "$LOG" --manifest "$MANIFEST" >/dev/null
fi
cat "$LOG" >/dev/null # warm the page cache

echo "== correctness: every injected line reported, nothing else"
"$XDIAG" --format json explain --file "$LOG" >"$OUT/explain.json" || true
python3 - "$OUT/explain.json" "$MANIFEST" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
manifest = json.load(open(sys.argv[2]))
injected = {x["line"] for x in manifest["injected"]}
reported = set()
for f in report["findings"]:
    if f["line_count"] > len(f["lines"]):
        sys.exit(f"{f['rule']}: line list capped ({f['line_count']} lines), cannot check")
    reported |= set(f["lines"])
missing, extra = sorted(injected - reported), sorted(reported - injected)
for f in report["findings"]:
    print(f"  {f['rule']:<32} {f['line_count']:>5} lines  score {f['score']}")
print(f"  injected {len(injected)}, reported {len(reported)}, missing {len(missing)}, extra {len(extra)}")
if missing or extra:
    print(f"  missing: {missing[:20]}\n  extra: {extra[:20]}")
    sys.exit(1)
print("  PASS")
EOF

echo "== timing ($RUNS runs each, median; same run for all)"
python3 - "$RUNS" "$LOG" "$PATTERNS" "$XDIAG" <<'EOF'
import os, statistics, subprocess, sys, time
runs, log, patterns, xdiag = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
size_mb = os.path.getsize(log) / 1e6
env_c = dict(os.environ, LC_ALL="C")
cmds = {
    "rg -c -f": (["rg", "-c", "-f", patterns, log], None),
    "LC_ALL=C grep -E -c -f": (["grep", "-E", "-c", "-f", patterns, log], env_c),
    "xdiag explain --file": ([xdiag, "--format", "json", "explain", "--file", log], None),
}
med = {}
for name, (cmd, env) in cmds.items():
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        # Output to a pipe, not /dev/null: GNU grep stops at the first match when it sees /dev/null.
        r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - t)
        if r.returncode not in (0, 1):
            sys.exit(f"{name} failed ({r.returncode}): {r.stderr.decode(errors='replace')[:300]}")
    med[name] = statistics.median(times)
    print(f"  {name:<24} {med[name]:7.3f} s  {size_mb / med[name]:7.0f} MB/s   (min {min(times):.3f}, max {max(times):.3f})")
best_peer = min(med["rg -c -f"], med["LC_ALL=C grep -E -c -f"])
x = med["xdiag explain --file"]
print(f"  xdiag / faster peer: {x / best_peer:.2f}x (target <= 1.5x); throughput {size_mb / x:.0f} MB/s (target >= 200)")

startup = []
for _ in range(max(runs, 20)):
    t = time.perf_counter()
    subprocess.run([xdiag, "explain", "AADSTS7000215"], stdout=subprocess.DEVNULL)
    startup.append(time.perf_counter() - t)
print(f"  xdiag explain AADSTS7000215: median {statistics.median(startup) * 1000:.1f} ms (target <= 15 ms)")
EOF

echo "== memory (peak RSS)"
rss_pipe=$( { cat "$LOG" | /usr/bin/time -f "%M" "$XDIAG" explain - >/dev/null; } 2>&1 | tail -1)
rss_file=$( { /usr/bin/time -f "%M" "$XDIAG" explain --file "$LOG" >/dev/null; } 2>&1 | tail -1)
rss_start=$( { /usr/bin/time -f "%M" "$XDIAG" explain AADSTS7000215 >/dev/null; } 2>&1 | tail -1)
echo "  cat log | xdiag explain -     $((rss_pipe / 1024)) MB (target < 32 MB)"
echo "  xdiag explain --file log      $((rss_file / 1024)) MB"
echo "  xdiag explain AADSTS7000215   $((rss_start / 1024)) MB (target < 20 MB)"
