//! Which proxy the environment sends a request through. reqwest applies the same variables on
//! its own; we work it out too so that a failure can name the proxy instead of the origin.

/// The proxy for `url` from `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` (either case) unless `NO_PROXY`
/// exempts the host, with any user:password stripped.
pub fn proxy_for(url: &url::Url) -> Option<String> {
    proxy_for_with(url, |name| std::env::var(name).ok())
}

pub(crate) fn proxy_for_with(
    url: &url::Url,
    env: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    let host = url
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let get = |upper: &str| {
        env(upper)
            .or_else(|| env(&upper.to_ascii_lowercase()))
            .filter(|v| !v.trim().is_empty())
    };
    let no_proxy = get("NO_PROXY").unwrap_or_default();
    if exempt(&host, &no_proxy) {
        return None;
    }
    let raw = match url.scheme() {
        "https" => get("HTTPS_PROXY"),
        _ => get("HTTP_PROXY"),
    }
    .or_else(|| get("ALL_PROXY"))?;
    Some(strip_credentials(raw.trim()))
}

fn exempt(host: &str, no_proxy: &str) -> bool {
    no_proxy
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.trim_start_matches("*.").trim_start_matches('.');
            host == entry || host.ends_with(&format!(".{entry}"))
        })
}

fn strip_credentials(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Ok(u) => u.to_string(),
        // `host:port` without a scheme: keep only what follows an `@`.
        Err(_) => raw.rsplit('@').next().unwrap_or(raw).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn picks_the_https_proxy_and_hides_its_password() {
        let url = url::Url::parse("https://login.microsoftonline.com/x").expect("url");
        let got = proxy_for_with(
            &url,
            env(&[("https_proxy", "http://bob:hunter2@proxy.corp:3128")]),
        );
        assert_eq!(got.as_deref(), Some("http://proxy.corp:3128/"));
        assert_eq!(proxy_for_with(&url, env(&[])), None);
    }

    #[test]
    fn no_proxy_exempts_suffixes_and_star() {
        let url = url::Url::parse("https://login.microsoftonline.com/x").expect("url");
        let p = ("HTTPS_PROXY", "proxy.corp:3128");
        assert_eq!(
            proxy_for_with(
                &url,
                env(&[p, ("NO_PROXY", "localhost,.microsoftonline.com")])
            ),
            None
        );
        assert_eq!(proxy_for_with(&url, env(&[p, ("NO_PROXY", "*")])), None);
        assert_eq!(
            proxy_for_with(&url, env(&[p, ("NO_PROXY", "example.com")])).as_deref(),
            Some("proxy.corp:3128")
        );
    }
}
