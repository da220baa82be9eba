//! The `--config FILE` file: named profiles, one per customer site, so a technician types
//! `xdiag check --config sites.toml --profile branch-office` instead of ten flags.
//!
//! ```toml
//! default_profile = "head-office"        # optional: used when --profile is not given
//!
//! [profiles.head-office]
//! tenant = "contoso.com"                 # GUID or verified domain
//! client_id = "00000000-0000-0000-0000-000000000000"
//! client_secret_env = "XDIAG_SECRET_HQ"  # or client_secret_file = "hq.secret"
//! mailbox = "scanner@contoso.com"
//! from = "scanner@contoso.com"
//! method = "smtp"                        # graph | smtp | direct-send | relay | auto
//! domain = "contoso.com"
//! public_ip = "203.0.113.10"
//! cloud = "global"                       # global | gcc-high | dod | china
//! scope = "https://outlook.office365.com/.default"
//! timeout = 10                           # seconds, per network operation
//!
//! [profiles.branch-office]
//! tenant = "fabrikam.com"
//! client_id = "11111111-1111-1111-1111-111111111111"
//! certificate = "certs/branch.pem"       # certificate (and key, or certificate_key) for an assertion
//! device_code = false
//! ```
//!
//! Every key is optional; command-line flags win over the profile. Endpoint overrides for the
//! lab and sovereign setups: `login_url`, `graph_url`, `smtp_host`, `smtp_port`, `dns_server`
//! (`ADDR:PORT`), `ca_file`. Relative paths (`client_secret_file`, `certificate`,
//! `certificate_key`, `ca_file`) are taken relative to the config file's folder.
//!
//! **A plain `client_secret` key is refused**: a config file is copied between machines and
//! attached to tickets, so a secret in it leaks. Name an environment variable
//! (`client_secret_env`) or a file readable only by the technician (`client_secret_file`).
//!
//! Unknown keys and wrong types are errors that name the key and its line; error messages never
//! quote the file's text or a value, so a secret pasted into the wrong key is not echoed.
use std::{
    collections::BTreeMap,
    fmt,
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
};

use serde::{Deserialize, de::IgnoredAny};

use crate::target::{Cloud, Method};

/// `method` in a profile or on the command line: a send method, or `auto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MethodChoice {
    Graph,
    Smtp,
    DirectSend,
    Relay,
    Auto,
}

impl MethodChoice {
    /// The fixed method, or `None` for `auto`.
    pub fn fixed(self) -> Option<Method> {
        match self {
            MethodChoice::Graph => Some(Method::Graph),
            MethodChoice::Smtp => Some(Method::Smtp),
            MethodChoice::DirectSend => Some(Method::DirectSend),
            MethodChoice::Relay => Some(Method::Relay),
            MethodChoice::Auto => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CloudChoice {
    Global,
    GccHigh,
    Dod,
    China,
}

impl From<CloudChoice> for Cloud {
    fn from(c: CloudChoice) -> Cloud {
        match c {
            CloudChoice::Global => Cloud::Global,
            CloudChoice::GccHigh => Cloud::GccHigh,
            CloudChoice::Dod => Cloud::Dod,
            CloudChoice::China => Cloud::China,
        }
    }
}

/// One customer site. Every field is optional; flags win.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    /// Name of an environment variable that holds the client secret.
    pub client_secret_env: Option<String>,
    /// A file whose content (trailing newline trimmed) is the client secret.
    pub client_secret_file: Option<PathBuf>,
    /// PEM file with the certificate (and the private key unless `certificate_key` is given).
    pub certificate: Option<PathBuf>,
    pub certificate_key: Option<PathBuf>,
    pub device_code: Option<bool>,
    pub mailbox: Option<String>,
    pub from: Option<String>,
    pub method: Option<MethodChoice>,
    pub domain: Option<String>,
    pub public_ip: Option<IpAddr>,
    pub cloud: Option<CloudChoice>,
    pub scope: Option<String>,
    /// Seconds per network operation.
    pub timeout: Option<u64>,
    pub login_url: Option<String>,
    pub graph_url: Option<String>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub dns_server: Option<SocketAddr>,
    pub ca_file: Option<PathBuf>,
    /// Accepted by the parser only so that it can be refused with a clear message.
    #[serde(default, rename = "client_secret")]
    plain_secret: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    default_profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// A loaded config file.
#[derive(Clone, Debug)]
pub struct Config {
    path: PathBuf,
    default_profile: Option<String>,
    profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// TOML syntax, an unknown key or a wrong type. `message` never quotes a value.
    #[error("config file {path}, line {line}: {message}")]
    Parse {
        path: String,
        line: usize,
        message: String,
    },
    /// `client_secret = ...` in a profile.
    #[error(
        "config file {path}, profile `{profile}`: a plain `client_secret` is not accepted in a config file \
         (it would be copied along with the file); use `client_secret_env` or `client_secret_file`"
    )]
    PlainSecret { path: String, profile: String },
    /// A value that parses but makes no sense (`timeout = 0`).
    #[error("config file {path}, profile `{profile}`: `{key}` {message}")]
    Invalid {
        path: String,
        profile: String,
        key: &'static str,
        message: String,
    },
    #[error("config file {path} has no profile `{name}`; known profiles: {}", known_list(.known))]
    UnknownProfile {
        path: String,
        name: String,
        known: Vec<String>,
    },
    #[error("config file {path} has several profiles; choose one with --profile ({})", known_list(.known))]
    NoProfileChosen { path: String, known: Vec<String> },
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "(none)".to_string()
    } else {
        known.join(", ")
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::parse(path, &text)
    }

    /// Parses `text` as the file at `path` (relative paths in profiles are resolved against
    /// its folder).
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let file: File = toml::from_str(text).map_err(|e| parse_error(&shown, text, &e))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut profiles = BTreeMap::new();
        for (name, mut profile) in file.profiles {
            if profile.plain_secret.is_some() {
                return Err(ConfigError::PlainSecret {
                    path: shown,
                    profile: name,
                });
            }
            if profile.timeout == Some(0) {
                let message = "must be at least 1 (seconds)".to_string();
                return Err(ConfigError::Invalid {
                    path: shown,
                    profile: name,
                    key: "timeout",
                    message,
                });
            }
            for p in [
                &mut profile.client_secret_file,
                &mut profile.certificate,
                &mut profile.certificate_key,
                &mut profile.ca_file,
            ]
            .into_iter()
            .flatten()
            {
                if p.is_relative() {
                    *p = base.join(&*p);
                }
            }
            profiles.insert(name, profile);
        }
        if let Some(d) = &file.default_profile
            && !profiles.contains_key(d)
        {
            return Err(ConfigError::UnknownProfile {
                path: shown,
                name: d.clone(),
                known: profiles.keys().cloned().collect(),
            });
        }
        Ok(Config {
            path: path.to_path_buf(),
            default_profile: file.default_profile,
            profiles,
        })
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.profiles.keys().map(String::as_str)
    }

    /// `--profile NAME`, else `default_profile`, else the only profile in the file.
    pub fn profile(&self, name: Option<&str>) -> Result<(&str, &Profile), ConfigError> {
        let known = || self.profiles.keys().cloned().collect::<Vec<_>>();
        let path = self.path.display().to_string();
        let chosen = match name.or(self.default_profile.as_deref()) {
            Some(n) => n,
            None if self.profiles.len() == 1 => self
                .profiles
                .keys()
                .next()
                .map(String::as_str)
                .unwrap_or_default(),
            None => {
                return Err(ConfigError::NoProfileChosen {
                    path,
                    known: known(),
                });
            }
        };
        self.profiles
            .get_key_value(chosen)
            .map(|(k, v)| (k.as_str(), v))
            .ok_or_else(|| ConfigError::UnknownProfile {
                path,
                name: chosen.to_string(),
                known: known(),
            })
    }
}

/// Turns a toml/serde error into one line that names the line and key but quotes no value.
fn parse_error(path: &str, text: &str, e: &toml::de::Error) -> ConfigError {
    let start = e.span().map(|s| s.start).unwrap_or(0).min(text.len());
    let line = text[..start].matches('\n').count() + 1;
    let line_text = text.lines().nth(line - 1).unwrap_or("");
    let key = line_text
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"'))
        .filter(|k| !k.is_empty());
    let message = first_line(e.message());
    let message = match (without_values(&message), key) {
        (WithoutValues::WrongType { expected, found }, Some(key)) => {
            format!("`{key}` has the wrong type: expected {expected}, found {found}")
        }
        (WithoutValues::WrongType { expected, found }, None) => {
            format!("wrong type: expected {expected}, found {found}")
        }
        (WithoutValues::Other(m), Some(key)) if !m.contains('`') => format!("`{key}`: {m}"),
        (WithoutValues::Other(m), _) => m,
    };
    ConfigError::Parse {
        path: path.to_string(),
        line,
        message,
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

enum WithoutValues {
    WrongType {
        expected: String,
        found: &'static str,
    },
    Other(String),
}

/// serde says `invalid type: string "…", expected u16`; keep the kinds, drop the value.
fn without_values(message: &str) -> WithoutValues {
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let expected = rest
            .rsplit_once(", expected ")
            .map(|(_, e)| e.to_string())
            .unwrap_or_default();
        let found = [
            ("string", "a string"),
            ("integer", "an integer"),
            ("boolean", "a boolean"),
            ("floating point", "a number"),
            ("sequence", "an array"),
            ("map", "a table"),
        ]
        .into_iter()
        .find(|(kind, _)| rest.starts_with(kind))
        .map(|(_, shown)| shown)
        .unwrap_or("another type");
        return WithoutValues::WrongType {
            expected: friendly_expected(&expected),
            found,
        };
    }
    if message.starts_with("invalid value: ") {
        let expected = message
            .rsplit_once(", expected ")
            .map(|(_, e)| e.to_string())
            .unwrap_or_default();
        return WithoutValues::Other(format!(
            "invalid value, expected {}",
            friendly_expected(&expected)
        ));
    }
    // `unknown field`/`unknown variant` name keys and allowed words, which are not secret;
    // other messages (IP address syntax, TOML syntax) quote no value. `client_secret` is a known
    // field only so that it can be refused, so it is not offered as a choice.
    WithoutValues::Other(message.replace(", `client_secret`", ""))
}

fn friendly_expected(e: &str) -> String {
    match e {
        "u16" => "a port number (integer)".to_string(),
        "u64" => "a whole number".to_string(),
        "a boolean" | "bool" => "true or false".to_string(),
        _ => e.to_string(),
    }
}

impl fmt::Display for MethodChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MethodChoice::Graph => "graph",
            MethodChoice::Smtp => "smtp",
            MethodChoice::DirectSend => "direct-send",
            MethodChoice::Relay => "relay",
            MethodChoice::Auto => "auto",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/etc/xdiag/sites.toml"), text)
    }

    #[test]
    fn reads_profiles_and_resolves_relative_paths() {
        let c = parse(
            "[profiles.hq]\ntenant = \"contoso.com\"\nmethod = \"direct-send\"\ncloud = \"gcc-high\"\n\
             client_secret_file = \"hq.secret\"\ntimeout = 5\nsmtp_port = 2525\ndns_server = \"127.0.0.1:53\"\n",
        )
        .expect("parses");
        let (name, p) = c.profile(None).expect("only profile");
        assert_eq!(name, "hq");
        assert_eq!(p.method, Some(MethodChoice::DirectSend));
        assert_eq!(p.cloud, Some(CloudChoice::GccHigh));
        assert_eq!(
            p.client_secret_file.as_deref(),
            Some(Path::new("/etc/xdiag/hq.secret"))
        );
        assert_eq!(p.timeout, Some(5));
    }

    #[test]
    fn unknown_profile_lists_the_known_ones() {
        let c = parse("[profiles.a]\n[profiles.b]\n").expect("parses");
        let e = c.profile(Some("c")).expect_err("unknown").to_string();
        assert!(e.contains("no profile `c`") && e.contains("a, b"), "{e}");
        let e = c.profile(None).expect_err("ambiguous").to_string();
        assert!(e.contains("--profile"), "{e}");
    }

    #[test]
    fn default_profile_must_exist() {
        assert!(parse("default_profile = \"x\"\n[profiles.a]\n").is_err());
        let c = parse("default_profile = \"b\"\n[profiles.a]\n[profiles.b]\n").expect("parses");
        assert_eq!(c.profile(None).expect("default").0, "b");
    }

    #[test]
    fn wrong_type_names_the_key_and_line_but_not_the_value() {
        let e = parse("[profiles.a]\ntenant = \"x\"\ntimeout = \"ten-seconds-xyz\"\n")
            .expect_err("type")
            .to_string();
        assert!(
            e.contains("line 3") && e.contains("`timeout`") && e.contains("wrong type"),
            "{e}"
        );
        assert!(!e.contains("ten-seconds-xyz"), "{e}");
        let e = parse("[profiles.a]\nsmtp_port = 99999\n")
            .expect_err("range")
            .to_string();
        assert!(e.contains("smtp_port") && !e.contains("99999"), "{e}");
    }

    #[test]
    fn unknown_key_is_named_without_its_value() {
        let e = parse("[profiles.a]\nclient_secrt = \"s3cr3t-value\"\n")
            .expect_err("unknown")
            .to_string();
        assert!(e.contains("client_secrt") && e.contains("line 2"), "{e}");
        assert!(
            e.contains("`client_secret_env`") && !e.contains("`client_secret`"),
            "{e}"
        );
        assert!(!e.contains("s3cr3t-value"), "{e}");
    }

    #[test]
    fn plain_secret_is_refused_without_echo() {
        let e = parse("[profiles.a]\nclient_secret = \"s3cr3t-value\"\n")
            .expect_err("refused")
            .to_string();
        assert!(
            e.contains("client_secret_env") && !e.contains("s3cr3t-value"),
            "{e}"
        );
    }

    #[test]
    fn syntax_error_does_not_quote_the_line() {
        let e = parse("[profiles.a]\nclient_id = s3cr3t-value\n")
            .expect_err("syntax")
            .to_string();
        assert!(e.contains("line 2") && !e.contains("s3cr3t-value"), "{e}");
    }

    #[test]
    fn zero_timeout_is_refused() {
        let e = parse("[profiles.a]\ntimeout = 0\n")
            .expect_err("zero")
            .to_string();
        assert!(e.contains("timeout"), "{e}");
    }
}
