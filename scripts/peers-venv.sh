#!/usr/bin/env bash
# Makes (or reuses) the Python venv with the interop peers' packages (tests/peers/requirements.txt:
# aiosmtpd, checkdmarc) and prints its python's path on stdout. The venv lives in
# $XDIAG_PEERS_VENV (default ~/.cache/xdiag/peers-venv) and is rebuilt only when
# requirements.txt changes. Used by scripts/peers-up.sh and bench/spf-oracle.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REQ=$ROOT/tests/peers/requirements.txt
VENV=${XDIAG_PEERS_VENV:-${HOME:-/tmp}/.cache/xdiag/peers-venv}
say() { printf 'peers-venv: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

PYTHON=${XDIAG_PEERS_HOST_PYTHON:-$(command -v python3 || true)}
[ -n "$PYTHON" ] || { say "python3 is missing (apt-get install python3 python3-venv)"; exit 1; }
stamp=$(sha256sum "$REQ" | cut -c1-16)
if [ "$(cat "$VENV/.xdiag-requirements" 2>/dev/null)" != "$stamp" ] || [ ! -x "$VENV/bin/python" ]; then
  start=$(date +%s)
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
    # Debian's own python3 needs python3-venv for ensurepip.
    rm -rf "$VENV"
    { apt-cache show python3-venv >/dev/null 2>&1 || as_root apt-get update -qq; } &&
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends python3-venv >/dev/null ||
      { say "python3 -m venv failed and python3-venv could not be installed"; exit 1; }
    "$PYTHON" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ" >&2 ||
    { say "pip install -r $REQ failed"; exit 1; }
  echo "$stamp" > "$VENV/.xdiag-requirements"
  say "built $VENV in $(( $(date +%s) - start )) s"
fi
echo "$VENV/bin/python"
