//! Domain names as people type them when they block a server: `Example.COM`,
//! `https://example.com/@someone`, `bücher.example`. Normalised as Mastodon
//! normalises them (lower case, IDNA to ASCII) and kept with a port when one
//! is given, since Skein's actors carry `host[:port]`.

use url::{Host, Url};

/// Mastodon's limits (`DomainValidator`): under 256 characters, labels of 1
/// to 63 letters, digits and hyphens.
const MAX_LENGTH: usize = 255;
const MAX_LABEL: usize = 63;

/// The normalised `host[:port]` of what was typed, or None when it is not a
/// domain name.
pub fn normalize(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let url = if raw.contains("://") {
        Url::parse(raw).ok()?
    } else {
        Url::parse(&format!("http://{raw}")).ok()?
    };
    if !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    // The url crate lower-cases the host and applies IDNA (punycode).
    let host = match url.host()? {
        Host::Domain(d) => d.trim_end_matches('.').to_string(),
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(_) => return None,
    };
    let valid_labels = host.split('.').all(|label| {
        (1..=MAX_LABEL).contains(&label.len())
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    if host.is_empty() || host.len() > MAX_LENGTH || !valid_labels {
        return None;
    }
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// The one form in which Skein compares and stores hosts: `host[:port]` of
/// a URL, lower case, IDNA to ASCII (done by the url crate for http(s)),
/// without the trailing dot of a fully qualified name, so that
/// `https://Evil.Example./` and `https://evil.example/` are one server.
pub fn authority(url: &Url) -> String {
    let host = match url.host() {
        Some(Host::Domain(d)) => d.trim_end_matches('.').to_ascii_lowercase(),
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(ip)) => format!("[{ip}]"),
        None => String::new(),
    };
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

/// A stored or received `host[:port]` in the form of [`authority`].
pub fn canonical_host(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    match host.rsplit_once(':') {
        Some((name, port))
            if !name.is_empty()
                && !name.contains(':')
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            format!("{}:{port}", name.trim_end_matches('.'))
        }
        _ => host.trim_end_matches('.').to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_domains_become_lower_case_hosts() {
        for (typed, expected) in [
            ("example.com", "example.com"),
            ("  Example.COM ", "example.com"),
            ("https://Example.com/@alice?x=1", "example.com"),
            ("example.com/path", "example.com"),
            ("example.com.", "example.com"),
            ("beta.test:8443", "beta.test:8443"),
            ("http://beta.test:8443/", "beta.test:8443"),
            ("bücher.example", "xn--bcher-kva.example"),
            ("localhost", "localhost"),
        ] {
            assert_eq!(normalize(typed).as_deref(), Some(expected), "{typed}");
        }
    }

    #[test]
    fn hosts_of_urls_compare_in_one_form() {
        for (url, expected) in [
            ("https://Evil.Example./users/x", "evil.example"),
            ("https://evil.example/users/x", "evil.example"),
            ("http://beta.test.:8443/inbox", "beta.test:8443"),
            ("https://bücher.example/", "xn--bcher-kva.example"),
            ("http://127.0.0.2:80/", "127.0.0.2"),
        ] {
            let url = Url::parse(url).expect("a URL");
            assert_eq!(authority(&url), expected, "{url}");
        }
        for (host, expected) in [
            ("Evil.Example.", "evil.example"),
            ("beta.test.:8443", "beta.test:8443"),
            ("beta.test:8443", "beta.test:8443"),
            ("example.com", "example.com"),
        ] {
            assert_eq!(canonical_host(host), expected, "{host}");
        }
    }

    #[test]
    fn what_is_not_a_domain_is_refused() {
        let long_label = format!("{}.example", "a".repeat(64));
        for typed in [
            "",
            "   ",
            "exa mple.com",
            "under_score.example",
            "alice@example.com",
            "[::1]",
            "a..b",
            "http://",
            long_label.as_str(),
        ] {
            assert_eq!(normalize(typed), None, "{typed:?}");
        }
    }
}
