//! Reading a credential: a client secret from an environment variable, a file or a hidden prompt,
//! a certificate and its key from PEM files. Errors name where the value was looked for and
//! never contain the value or the file's content.
use std::{
    io::IsTerminal,
    path::{Path, PathBuf},
};

use anyhow::{Context as _, bail};
use diag_core::{secret::Secret, target::Credential};

/// Where the credential comes from, before anything is read.
#[derive(Clone, Debug)]
pub enum CredentialSource {
    /// `--client-secret-env VAR`.
    Env(String),
    /// `--client-secret-file PATH`.
    File(PathBuf),
    /// `--client-secret VALUE`, or a lab scenario's secret.
    Value(Secret<String>),
    /// `--certificate PEM [--certificate-key PEM]`.
    CertificateFiles {
        certificate: PathBuf,
        key: Option<PathBuf>,
    },
    /// A certificate handed over in memory (the lab's generated device certificate).
    CertificatePem {
        certificate_pem: String,
        private_key_pem: Secret<String>,
    },
    /// `--device-code`.
    DeviceCode,
}

impl CredentialSource {
    /// Reads the secret or the PEM files.
    pub fn read(&self) -> anyhow::Result<Credential> {
        match self {
            CredentialSource::Env(var) => secret_from_env(var).map(Credential::Secret),
            CredentialSource::File(path) => secret_from_file(path).map(Credential::Secret),
            CredentialSource::Value(v) => Ok(Credential::Secret(v.clone())),
            CredentialSource::CertificateFiles { certificate, key } => {
                certificate_from_files(certificate, key.as_deref())
            }
            CredentialSource::CertificatePem {
                certificate_pem,
                private_key_pem,
            } => Ok(Credential::Certificate {
                certificate_pem: certificate_pem.clone(),
                private_key_pem: private_key_pem.clone(),
            }),
            CredentialSource::DeviceCode => Ok(Credential::DeviceCode),
        }
    }
}

fn secret_from_env(var: &str) -> anyhow::Result<Secret<String>> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => {
            Ok(Secret::new(v.trim_end_matches(['\r', '\n']).to_string()))
        }
        Ok(_) => bail!("the environment variable {var} (--client-secret-env) is empty"),
        Err(std::env::VarError::NotPresent) => {
            bail!("the environment variable {var} (--client-secret-env) is not set")
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            bail!("the environment variable {var} (--client-secret-env) is not valid UTF-8")
        }
    }
}

/// The file's content with the trailing newline trimmed (editors add one).
pub fn secret_from_file(path: &Path) -> anyhow::Result<Secret<String>> {
    // `io::Error`'s text names the OS error only, never the content.
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the client secret file {} (--client-secret-file)",
            path.display()
        )
    })?;
    let value = text.trim_end_matches(['\r', '\n']);
    if value.trim().is_empty() {
        bail!("the client secret file {} is empty", path.display());
    }
    if value.contains('\n') {
        bail!(
            "the client secret file {} has more than one line; it must hold the secret value only",
            path.display()
        );
    }
    Ok(Secret::new(value.to_string()))
}

fn certificate_from_files(certificate: &Path, key: Option<&Path>) -> anyhow::Result<Credential> {
    let read = |p: &Path, what: &str| {
        std::fs::read_to_string(p)
            .with_context(|| format!("cannot read the {what} {}", p.display()))
    };
    let certificate_pem = read(certificate, "certificate file (--certificate)")?;
    if !certificate_pem.contains("-----BEGIN CERTIFICATE-----") {
        bail!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            certificate.display()
        );
    }
    let (key_text, key_path) = match key {
        Some(k) => (read(k, "private key file (--certificate-key)")?, k),
        None => (certificate_pem.clone(), certificate),
    };
    if !key_text.contains("PRIVATE KEY-----") {
        if key.is_some() {
            bail!(
                "{} holds no PEM private key (-----BEGIN PRIVATE KEY-----)",
                key_path.display()
            );
        }
        bail!(
            "{} holds no private key; give it with --certificate-key PEM",
            certificate.display()
        );
    }
    let private_key_pem = Secret::new(pem_blocks(&key_text, "PRIVATE KEY-----"));
    let certificate_pem = pem_blocks(&certificate_pem, "CERTIFICATE-----");
    Ok(Credential::Certificate {
        certificate_pem,
        private_key_pem,
    })
}

/// Only the PEM blocks whose BEGIN line ends with `kind`, so a combined file hands the key to the
/// signer and the certificate to the thumbprint, each without the other.
fn pem_blocks(text: &str, kind: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with("-----BEGIN ") && l.ends_with(kind) {
            inside = true;
        }
        if inside {
            out.push_str(l);
            out.push('\n');
        }
        if l.starts_with("-----END ") && l.ends_with(kind) {
            inside = false;
        }
    }
    out
}

/// Asks for the secret without echo, when a person is at the terminal. `None` otherwise.
pub fn prompt_secret(client_id: &str) -> anyhow::Result<Option<Secret<String>>> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Ok(None);
    }
    let shown: String = client_id.chars().take(40).collect();
    let value = rpassword::prompt_password(format!("client secret for {shown} (not shown): "))
        .context("cannot read the client secret from the terminal")?;
    let value = value.trim_end_matches(['\r', '\n']).to_string();
    Ok((!value.trim().is_empty()).then(|| Secret::new(value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_file_loses_its_trailing_newline_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("s");
        std::fs::write(&p, " abc~def \r\n").expect("write");
        assert_eq!(secret_from_file(&p).expect("reads").expose(), " abc~def ");
        std::fs::write(&p, "\n").expect("write");
        assert!(secret_from_file(&p).is_err());
        std::fs::write(&p, "alpha\nbravo\n").expect("write");
        let e = secret_from_file(&p).expect_err("two lines").to_string();
        assert!(!e.contains("alpha") && !e.contains("bravo"), "{e}");
    }

    #[test]
    fn an_unreadable_secret_file_names_the_path() {
        let e = secret_from_file(Path::new("/nonexistent/xdiag-secret")).expect_err("missing");
        assert!(
            format!("{e:#}").contains("/nonexistent/xdiag-secret"),
            "{e:#}"
        );
    }

    #[test]
    fn pem_blocks_split_a_combined_file() {
        let text = "junk\n-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            pem_blocks(text, "CERTIFICATE-----"),
            "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n"
        );
        assert_eq!(
            pem_blocks(text, "PRIVATE KEY-----"),
            "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
        );
    }
}
