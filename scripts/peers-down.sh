#!/usr/bin/env bash
# Stops the peers scripts/peers-up.sh started (by the process ids it recorded) and removes
# peers.env, so the interop tests no longer find them. --quiet: say nothing when none runs.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${XDIAG_PEERS_DIR:-$ROOT/target/peers}
quiet=${1:-}

stop() { # stop NAME PIDFILE
  local pid
  pid=$(cat "$2" 2>/dev/null) || return 0
  rm -f "$2"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    [ "$quiet" = --quiet ] || echo "peers-down: stopped $1 (pid $pid)" >&2
  fi
}

stop nsd "$STATE/nsd/nsd.pid"
stop "SMTP peer" "$STATE/smtp/smtp.pid"
rm -f "$STATE/peers.env" "$STATE/smtp/smtp.ready"
