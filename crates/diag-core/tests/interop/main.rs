//! Interop tests: xdiag's DNS, SPF and SMTP client against independent implementations, run as
//! processes on 127.0.0.1 by scripts/peers-up.sh (tests/peers/README.md): nsd, an aiosmtpd
//! server that answers like Exchange Online, and checkdmarc as the SPF oracle. Without the peers a
//! test prints why it skipped; under CI=true it fails instead.
mod dns_parity;
mod peers;
mod smtp;
mod smtp_checks;
mod spf_oracle;
