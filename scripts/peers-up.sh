#!/usr/bin/env bash
# Installs and starts the interop peers on 127.0.0.1 high ports (see tests/peers/README.md):
#   nsd      serving tests/peers/nsd/zones/*.zone              (XDIAG_PEER_NSD)
#   aiosmtpd the Exchange-like SMTP peer, STARTTLS + XOAUTH2   (XDIAG_PEER_SMTP, XDIAG_PEER_SMTP_TLS12)
#   a venv   with checkdmarc, the SPF oracle                    (XDIAG_PEER_PYTHON)
# and writes their addresses into $XDIAG_PEERS_DIR/peers.env (default target/peers/peers.env),
# which the interop tests read. Stop them with scripts/peers-down.sh.
#
# Ports can be moved with XDIAG_PEER_NSD_PORT, XDIAG_PEER_SMTP_PORT, XDIAG_PEER_SMTP_TLS12_PORT.
# Installing needs root (apt-get) only when nsd is missing; the Python venv is scripts/peers-venv.sh's.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=$ROOT/tests/peers
STATE=${XDIAG_PEERS_DIR:-$ROOT/target/peers}
NSD_PORT=${XDIAG_PEER_NSD_PORT:-15354}
SMTP_PORT=${XDIAG_PEER_SMTP_PORT:-12525}
SMTP_TLS12_PORT=${XDIAG_PEER_SMTP_TLS12_PORT:-12526}

say() { printf 'peers-up: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
apt_install() {
  # apt-get update only when the package is not known yet (a fresh machine has no lists).
  if ! apt-cache show "$1" >/dev/null 2>&1; then as_root apt-get update -qq || return 1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$1" >/dev/null
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

"$ROOT/scripts/peers-down.sh" --quiet || true
mkdir -p "$STATE/nsd" "$STATE/smtp"
rm -f "$STATE/peers.env" "$STATE/smtp/smtp.ready"

# --- install -------------------------------------------------------------------------------------
t=$(now)
NSD=$(command -v nsd || true); [ -n "$NSD" ] || [ ! -x /usr/sbin/nsd ] || NSD=/usr/sbin/nsd
if [ -z "$NSD" ]; then
  apt_install nsd || die "nsd is missing and could not be installed (apt-get install nsd needs root)"
  NSD=$(command -v nsd || echo /usr/sbin/nsd)
fi
NSD_CHECKCONF=$(dirname "$NSD")/nsd-checkconf
say "nsd ready ($("$NSD" -v 2>&1 | head -1)) in $(took "$t")"

t=$(now)
PY=$("$ROOT/scripts/peers-venv.sh") || die "the Python venv could not be set up"
say "venv ready ($PY) in $(took "$t")"

# --- nsd -----------------------------------------------------------------------------------------
t=$(now)
port_busy "$NSD_PORT" && die "127.0.0.1:$NSD_PORT is already in use (set XDIAG_PEER_NSD_PORT)"
conf=$STATE/nsd/nsd.conf
sed -e "s#@STATE@#$STATE/nsd#g" -e "s#@PORT@#$NSD_PORT#g" -e "s#@ZONES@#$PEERS/nsd/zones#g" \
  "$PEERS/nsd/nsd.conf.in" > "$conf"
zones=()
for f in "$PEERS"/nsd/zones/*.zone; do
  z=$(basename "$f" .zone); zones+=("$z")
  printf 'zone:\n  name: %s\n  zonefile: %s\n' "$z" "$(basename "$f")" >> "$conf"
done
"$NSD_CHECKCONF" "$conf" || die "nsd-checkconf refused $conf"
rm -f "$STATE/nsd/nsd.log"
"$NSD" -c "$conf" || die "nsd did not start: $(tail -5 "$STATE/nsd/nsd.log" 2>/dev/null)"
# Ready when every zone answers its SOA with the AA bit.
"$PY" - "$NSD_PORT" "${zones[@]}" <<'EOF' || die "nsd on 127.0.0.1:$NSD_PORT does not answer: $(tail -5 "$STATE/nsd/nsd.log")"
import sys, time
import dns.flags, dns.message, dns.query
port, zones = int(sys.argv[1]), sys.argv[2:]
deadline = time.monotonic() + 15
for zone in zones:
    while True:
        try:
            reply = dns.query.udp(dns.message.make_query(zone, "SOA"), "127.0.0.1", port=port, timeout=0.5)
            if reply.flags & dns.flags.AA and reply.answer:
                break
        except Exception:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"zone {zone} not served")
        time.sleep(0.1)
EOF
say "nsd serving ${#zones[@]} zones on 127.0.0.1:$NSD_PORT in $(took "$t")"

# --- SMTP ----------------------------------------------------------------------------------------
t=$(now)
for p in "$SMTP_PORT" "$SMTP_TLS12_PORT"; do
  port_busy "$p" && die "127.0.0.1:$p is already in use (set XDIAG_PEER_SMTP_PORT / XDIAG_PEER_SMTP_TLS12_PORT)"
done
nohup "$PY" "$PEERS/smtp/exchange_like.py" --state "$STATE/smtp" --port "$SMTP_PORT" \
  --tls12-port "$SMTP_TLS12_PORT" > "$STATE/smtp/smtp.log" 2>&1 < /dev/null &
echo $! > "$STATE/smtp/smtp.pid"
"$PY" - "$SMTP_PORT" "$SMTP_TLS12_PORT" <<'EOF' || die "SMTP peer does not answer: $(tail -5 "$STATE/smtp/smtp.log")"
import socket, sys, time
deadline = time.monotonic() + 20
for port in map(int, sys.argv[1:]):
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.makefile("rb").readline().startswith(b"220 "):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"no 220 banner on {port}")
        time.sleep(0.1)
EOF
say "SMTP peer on 127.0.0.1:$SMTP_PORT and :$SMTP_TLS12_PORT in $(took "$t")"

cat > "$STATE/peers.env" <<EOF
XDIAG_PEER_NSD=127.0.0.1:$NSD_PORT
XDIAG_PEER_SMTP=127.0.0.1:$SMTP_PORT
XDIAG_PEER_SMTP_TLS12=127.0.0.1:$SMTP_TLS12_PORT
XDIAG_PEER_CA=$STATE/smtp/ca.pem
XDIAG_PEER_PYTHON=$PY
XDIAG_PEER_ORACLE=$PEERS/oracle/spf_oracle.py
EOF
say "wrote $STATE/peers.env"
cat "$STATE/peers.env"
