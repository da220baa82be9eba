//! The built-in scenarios, compiled in from `crates/diag-lab/scenarios/*.toml`.
//! A test checks that every file in that folder is listed here and the other way round.

macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../scenarios/", $name, ".toml")))),*]
    };
}

/// (name, TOML text), healthy first, then faults in the order a technician meets them.
pub(super) const FILES: &[(&str, &str)] = builtin![
    "healthy",
    "healthy-graph",
    "healthy-certificate",
    "healthy-direct-send",
    "healthy-relay",
    "smtp-auth-enabled-mailbox-tenant-off",
    "token-endpoint-down",
    "tenant-not-found",
    "app-not-found",
    "app-disabled",
    "secret-id-pasted",
    "wrong-secret",
    "expired-secret",
    "certificate-mismatch",
    "graph-scope-for-smtp",
    "conditional-access-blocked",
    "missing-consent",
    "delegated-permission",
    "no-smtp-sendasapp",
    "device-code-wrong-user",
    "unlicensed-mailbox",
    "mailbox-not-enabled",
    "mailbox-not-found",
    "shared-mailbox",
    "on-premises-mailbox",
    "application-access-policy",
    "port-587-refused",
    "port-25-blocked",
    "tls-ecdhe-only",
    "device-tls-1-1",
    "smtp-auth-disabled-tenant",
    "smtp-auth-disabled-mailbox",
    "no-service-principal",
    "no-mailbox-permission",
    "shared-mailbox-identity",
    "spf-missing-site-ip",
    "two-spf-records",
    "spf-too-many-lookups",
    "direct-send-rejected",
    "external-recipient-direct-send",
    "connector-mismatch",
];
