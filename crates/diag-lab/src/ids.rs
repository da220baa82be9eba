//! GUIDs (recognising them, deriving stable ones from names, random ones for trace ids) and
//! the shape of domain names and addresses.

use sha2::{Digest, Sha256};

/// True for the hyphenated 8-4-4-4-12 hex form Entra prints.
pub(crate) fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A GUID derived from `seed`, so object ids stay the same from run to run.
pub(crate) fn derived(seed: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // Mark it as a version-4-shaped, RFC 4122 variant GUID like the ones Entra issues.
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).hyphenated().to_string()
}

/// A fresh random GUID (trace ids, correlation ids, request ids).
pub(crate) fn random() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

/// A DNS name with at least two labels (`contoso.com`).
pub(crate) fn is_domain(s: &str) -> bool {
    s.contains('.')
        && s.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// `local@domain` with a plausible domain.
pub(crate) fn is_address(s: &str) -> bool {
    s.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !local.contains(' ') && is_domain(domain)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_shape() {
        assert!(is_guid("11111111-2222-3333-4444-555555555555"));
        assert!(is_guid("9AAF7827-D63C-4B61-89C3-182F06F82E5C"));
        assert!(!is_guid("11111111-2222-3333-4444-55555555555"));
        assert!(!is_guid("contoso.com"));
        assert!(!is_guid("{11111111-2222-3333-4444-555555555555}"));
    }

    #[test]
    fn derived_is_stable_and_guid_shaped() {
        let a = derived("scanner@contoso.com");
        assert_eq!(a, derived("scanner@contoso.com"));
        assert_ne!(a, derived("admin@contoso.com"));
        assert!(is_guid(&a));
    }
}
