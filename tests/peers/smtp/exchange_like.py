"""An SMTP submission peer that answers like Exchange Online on 587, for xdiag's interop tests.

Independent of xdiag and of the lab (crates/diag-lab): aiosmtpd's SMTP state machine and Python's
ssl module (OpenSSL) do the protocol work; this file only scripts the replies Exchange gives, word
for word from shared/reference/microsoft-facts.md section 5 and field-facts.md section 1.2.

At start it makes a CA and a server certificate (SAN localhost, smtp.peer.test, 127.0.0.1) with
the `cryptography` package and writes ca.pem into the state folder; then it serves:
- PORT: STARTTLS (TLS 1.2 or 1.3, OpenSSL defaults), AUTH advertised only after TLS;
- TLS12_PORT: the same, but TLS 1.2 only and one cipher suite, ECDHE-RSA-AES128-GCM-SHA256, so a
  client's report of version and cipher can be checked against a known answer.

XOAUTH2 replies are scripted by the local part of `user=` (the domain does not matter):
  scanner         token GOOD-TOKEN -> 235 2.7.0 Authentication successful; other token -> 535 5.7.3
  tenant-off      535 5.7.139 ... SmtpClientAuthentication is disabled for the Tenant ...
  mailbox-off     535 5.7.139 ... SmtpClientAuthentication is disabled for the Mailbox ...
  secdefaults     535 5.7.139 ... locked by your organization's security defaults policy ...
  policy          535 5.7.139 ... the request did not meet the criteria ...
  basic-off       535 5.7.139 Authentication unsuccessful, basic authentication is disabled.
  bad-password    535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.
  challenge       334 <base64 JSON> first; after the client's empty line, 535 5.7.3
  multiline       the tenant-off reply split over two lines (535-... / 535 ...)
  anything else   535 5.7.3 Authentication unsuccessful
A blob that is not base64 or lacks user=/auth= gets 501 5.5.124 Invalid XOAUTH2 auth data.
AUTH LOGIN (Basic) always gets 535 5.7.139 ... basic authentication is disabled.
Before STARTTLS: AUTH -> 504 5.7.4 Unrecognized authentication type, MAIL -> 451 5.7.3 STARTTLS is
required to send mail. MAIL without AUTH -> 530 5.7.57; MAIL FROM another address than the
authenticated user -> 550 5.7.60.

Nothing secret is logged: the log names the user and the reply code, never the token.
"""

import argparse
import asyncio
import base64
import collections
import datetime
import ipaddress
import json
import logging
import os
import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

GOOD_TOKEN = "GOOD-TOKEN"
COMMAND_LIMIT = 16384
BANNER_HOST = "SN4PR0501CA0056.outlook.office365.com"
TAG = "[SN4PR0501CA0056.namprd05.prod.outlook.com]"
VISIT = "Visit https://aka.ms/smtp_auth_disabled for more information."

R_OK = "235 2.7.0 Authentication successful"
R_GENERIC = f"535 5.7.3 Authentication unsuccessful {TAG}"
R_139 = "535 5.7.139 Authentication unsuccessful, "
SCRIPTED = {
    "tenant-off": f"{R_139}SmtpClientAuthentication is disabled for the Tenant. {VISIT} {TAG}",
    "mailbox-off": f"{R_139}SmtpClientAuthentication is disabled for the Mailbox. {VISIT} {TAG}",
    "secdefaults": f"{R_139}user is locked by your organization's security defaults policy. Contact your administrator. {TAG}",
    "policy": f"{R_139}the request did not meet the criteria to be authenticated successfully. Contact your administrator. {TAG}",
    "basic-off": f"{R_139}basic authentication is disabled. {TAG}",
    "bad-password": f"{R_139}the user credentials were incorrect. {TAG}",
    "multiline": (
        "535-5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.\r\n"
        f"535 5.7.139 {VISIT} {TAG}"
    ),
}
R_MALFORMED = "501 5.5.124 Invalid XOAUTH2 auth data"
R_BASIC = f"{R_139}basic authentication is disabled. {TAG}"
R_NO_TLS_AUTH = "504 5.7.4 Unrecognized authentication type"
R_NO_TLS_MAIL = f"451 5.7.3 STARTTLS is required to send mail {TAG}"
R_NOT_AUTHED = f"530 5.7.57 Client not authenticated to send mail. {TAG}"
R_SEND_AS = "550 5.7.60 SMTP; Client does not have permissions to send as this sender"
CHALLENGE = json.dumps({"status": "401", "schemes": "bearer", "scope": "https://outlook.office365.com/.default"})

log = logging.getLogger("exchange-like")


def tls_active(server, session) -> bool:
    return bool(session.ssl) or getattr(server, "_tls_protocol", None) is not None


def parse_xoauth2(raw: bytes):
    """user=<u>^Aauth=Bearer <t>^A^A -> (user, token), or None when malformed."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    fields = dict(p.split("=", 1) for p in text.split("\x01") if "=" in p)
    user, auth = fields.get("user"), fields.get("auth", "")
    if not user or not auth.startswith("Bearer "):
        return None
    return user, auth[len("Bearer "):]


class ExchangeLike:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        lines = [f"250-{BANNER_HOST} Hello [{session.peer[0]}]", "250-SIZE 157286400", "250-PIPELINING",
                 "250-ENHANCEDSTATUSCODES"]
        lines.append("250-AUTH LOGIN XOAUTH2" if tls_active(server, session) else "250-STARTTLS")
        lines += ["250-8BITMIME", "250 SMTPUTF8"]
        return lines

    async def handle_AUTH(self, server, session, envelope, args):
        # Exchange does not offer AUTH before TLS: a client that tries anyway gets 504 5.7.4.
        if not tls_active(server, session):
            return R_NO_TLS_AUTH
        return MISSING

    async def auth_XOAUTH2(self, server, args):
        if len(args) == 2:
            try:
                raw = base64.b64decode(args[1], validate=True)
            except ValueError:
                return self._fail(server, None, R_MALFORMED)
        else:
            raw = await server.challenge_auth("")
            if raw is MISSING:
                return AuthResult(success=False, handled=True)
        parsed = parse_xoauth2(raw)
        if parsed is None:
            return self._fail(server, None, R_MALFORMED)
        user, token = parsed
        local = user.split("@", 1)[0].lower()
        if local == "scanner" and token == GOOD_TOKEN:
            log.info("XOAUTH2 user=%s -> 235", user)
            return AuthResult(success=True, auth_data=user, message=R_OK)
        if local == "challenge":
            # Gmail-style: a 334 with a base64 JSON error first; the client must answer with an
            # empty line, then gets the final reply.
            answer = await server.challenge_auth(CHALLENGE)
            if answer is MISSING:
                return AuthResult(success=False, handled=True)
            return self._fail(server, user, R_GENERIC)
        return self._fail(server, user, SCRIPTED.get(local, R_GENERIC))

    async def auth_LOGIN(self, server, args):
        # Basic auth: read the user name and password the usual way, then refuse like Exchange now.
        if len(args) == 1:
            if await server.challenge_auth("Username:") is MISSING:
                return AuthResult(success=False, handled=True)
        if await server.challenge_auth("Password:") is MISSING:
            return AuthResult(success=False, handled=True)
        return self._fail(server, "(basic)", R_BASIC)

    @staticmethod
    def _fail(server, user, reply):
        log.info("AUTH user=%s -> %s", user, reply[:12])
        return AuthResult(success=False, handled=False, message=reply)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if not tls_active(server, session):
            return R_NO_TLS_MAIL
        if not session.authenticated:
            return R_NOT_AUTHED
        if address.lower() != str(session.auth_data).lower():
            return R_SEND_AS
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Sender OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server, session, envelope):
        log.info("DATA from=%s to=%s bytes=%d", envelope.mail_from, envelope.rcpt_tos, len(envelope.content or b""))
        return f"250 2.0.0 OK <peer-{os.getpid()}@{BANNER_HOST}> [Hostname={BANNER_HOST}]"


class LongLineSMTP(SMTP):
    # Entra access tokens make AUTH lines of 2-4 KB, which Exchange takes; aiosmtpd's defaults
    # (512 for a command, 1001 for a line: RFC 5321's minimums) would answer 500.
    command_size_limit = COMMAND_LIMIT
    command_size_limits = collections.defaultdict(lambda: COMMAND_LIMIT)
    line_length_limit = COMMAND_LIMIT


class LongLineController(Controller):
    def factory(self):
        return LongLineSMTP(self.handler, **self.SMTP_kwargs)


def make_certs(state: str):
    """A CA and a server certificate signed by it; writes ca.pem, server.pem, server.key."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xdiag interop peer CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    # RSA, as Microsoft's submission endpoint uses; it also makes the ECDHE-RSA suite possible.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    san = x509.SubjectAlternativeName([
        x509.DNSName("localhost"), x509.DNSName("smtp.peer.test"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ])
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.peer.test")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = {name: os.path.join(state, name) for name in ("ca.pem", "server.pem", "server.key")}
    with open(paths["ca.pem"], "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(paths["server.pem"], "wb") as f:
        f.write(cert.public_bytes(pem))
    with open(paths["server.key"], "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


def tls_context(paths, tls12_only: bool) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(paths["server.pem"], paths["server.key"])
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls12_only:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
    return ctx


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--state", required=True, help="writable folder for ca.pem, the server key and the ready file")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tls12-port", type=int, required=True)
    a = ap.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # aiosmtpd logs each session at INFO and a deprecation notice at WARNING: neither helps here.
    logging.getLogger("mail.log").setLevel(logging.ERROR)

    paths = make_certs(a.state)
    ident = "Microsoft ESMTP MAIL Service ready at " + datetime.datetime.now(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000")
    controllers = []
    for port, tls12 in ((a.port, False), (a.tls12_port, True)):
        c = LongLineController(
            ExchangeLike(), hostname="127.0.0.1", port=port, server_hostname=BANNER_HOST, ident=ident,
            tls_context=tls_context(paths, tls12), require_starttls=False, auth_required=False,
            auth_require_tls=False, auth_exclude_mechanism=["PLAIN"], ready_timeout=10,
        )
        c.start()
        controllers.append(c)
    with open(os.path.join(a.state, "smtp.ready"), "w") as f:
        f.write(f"{a.port} {a.tls12_port}\n")
    log.info("serving on 127.0.0.1:%d (TLS 1.2+) and 127.0.0.1:%d (TLS 1.2, one suite)", a.port, a.tls12_port)

    loop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    loop.run_forever()
    for c in controllers:
        c.stop()


if __name__ == "__main__":
    main()
