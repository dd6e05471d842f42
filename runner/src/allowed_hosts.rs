//! `allowed_outbound_hosts`, with Spin's grammar: `<scheme>://<host>[:<port>]`
//! where scheme, host (`*` or `*.suffix`) and port (`*`, `n`, `a..b`) may be
//! wildcards, a missing port means the scheme's well-known port, and `self`
//! allows relative (self) requests.

use anyhow::{Context, Result, bail};

pub const SERVICE_CHAINING_SUFFIX: &str = ".spin.internal";

#[derive(Debug, Clone, PartialEq)]
enum SchemeRule {
    Any,
    Is(String),
}

#[derive(Debug, Clone, PartialEq)]
enum HostRule {
    Any,
    /// `*.example.com` is stored as ".example.com".
    Subdomain(String),
    ToSelf,
    Is(String),
}

#[derive(Debug, Clone, PartialEq)]
enum PortRule {
    Any,
    Is(u16),
    /// Half-open, as Spin's `a..b`.
    Range(u16, u16),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AllowedHost {
    scheme: SchemeRule,
    host: HostRule,
    port: PortRule,
}

pub fn well_known_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "postgres" => 5432,
        "mysql" => 3306,
        "redis" => 6379,
        "mqtt" => 1883,
        "http" => 80,
        "https" => 443,
        _ => return None,
    })
}

impl AllowedHost {
    pub fn parse(entry: &str) -> Result<Self> {
        let url = entry.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            bail!(
                "{url:?} is not an allowed outbound host: it must be <scheme>://<host>[:<port>] ('*' wildcards allowed)"
            );
        };
        let (host, port) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let port = match port.split_once('/') {
            Some((port, "")) => port,
            Some(_) => bail!("{url:?} has a path but is not allowed to"),
            None => port,
        };
        let scheme_rule = if scheme == "*" {
            SchemeRule::Any
        } else if !scheme.is_empty() && scheme.chars().all(char::is_alphabetic) {
            SchemeRule::Is(scheme.to_string())
        } else {
            bail!("{url:?}: scheme {scheme:?} is not valid");
        };
        let host = host.trim();
        let host_rule = if host == "*" {
            HostRule::Any
        } else if host == "self" || host == "self.alt" {
            HostRule::ToSelf
        } else if let Some(domain) = host.strip_prefix("*.") {
            if domain.contains('*') {
                bail!("invalid allowed host {host}: wildcards are allowed only as prefixes");
            }
            HostRule::Subdomain(format!(".{domain}"))
        } else if host.contains('*') {
            bail!("invalid allowed host {host}: wildcards are allowed only as subdomains");
        } else {
            let host = host.trim_end_matches('/');
            if host.contains('/') {
                bail!("{url:?}: hosts must not contain paths");
            }
            HostRule::Is(host.to_string())
        };
        let port_rule = if port.is_empty() {
            let p = well_known_port(scheme).with_context(|| {
                format!("{url:?}: no port was provided and the scheme {scheme:?} has no known default port")
            })?;
            PortRule::Is(p)
        } else if port == "*" {
            PortRule::Any
        } else if let Some((a, b)) = port.split_once("..") {
            let a = a
                .parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?;
            let b = b
                .parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?;
            PortRule::Range(a, b)
        } else {
            PortRule::Is(
                port.parse()
                    .with_context(|| format!("port {port:?} is not a number"))?,
            )
        };
        Ok(Self {
            scheme: scheme_rule,
            host: host_rule,
            port: port_rule,
        })
    }

    fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let scheme_ok = match &self.scheme {
            SchemeRule::Any => true,
            SchemeRule::Is(s) => s == scheme,
        };
        let host_ok = match &self.host {
            HostRule::Any => true,
            HostRule::Subdomain(suffix) => host.ends_with(suffix.as_str()),
            HostRule::ToSelf => false,
            HostRule::Is(h) => h.eq_ignore_ascii_case(host),
        };
        let port_ok = match &self.port {
            PortRule::Any => true,
            rule => match port.or_else(|| well_known_port(scheme)) {
                Some(p) => match rule {
                    PortRule::Is(q) => *q == p,
                    PortRule::Range(a, b) => (*a..*b).contains(&p),
                    PortRule::Any => true,
                },
                None => false,
            },
        };
        scheme_ok && host_ok && port_ok
    }

    fn allows_relative(&self) -> bool {
        let scheme_ok = match &self.scheme {
            SchemeRule::Any => true,
            SchemeRule::Is(s) => s == "http" || s == "https",
        };
        scheme_ok && matches!(self.host, HostRule::Any | HostRule::ToSelf)
    }
}

/// One component's resolved allow-list.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    hosts: Vec<AllowedHost>,
}

impl AllowedHosts {
    /// `entries` are already template-expanded.
    pub fn parse(entries: &[String]) -> Result<Self> {
        if entries.len() == 1 && entries[0] == "insecure:allow-all" {
            bail!("'insecure:allow-all' is not allowed - use '*://*:*' instead");
        }
        let hosts = entries
            .iter()
            .map(|e| AllowedHost::parse(e))
            .collect::<Result<_>>()?;
        Ok(Self { hosts })
    }

    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        self.hosts.iter().any(|h| h.allows(scheme, host, port))
    }

    pub fn allows_relative(&self) -> bool {
        self.hosts.iter().any(AllowedHost::allows_relative)
    }
}

/// `<component>` for `<component>.spin.internal[:port]`.
pub fn service_chaining_target(host: &str) -> Option<&str> {
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let (first, rest) = host.split_once('.')?;
    (rest == &SERVICE_CHAINING_SUFFIX[1..]).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(entries: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(&entries.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn exact_host_default_port() {
        let h = hosts(&["http://example.com"]);
        assert!(h.allows("http", "example.com", None));
        assert!(h.allows("http", "example.com", Some(80)));
        assert!(!h.allows("http", "example.com", Some(8080)));
        assert!(!h.allows("https", "example.com", None));
        assert!(!h.allows("http", "other.com", None));
    }

    #[test]
    fn wildcards() {
        let h = hosts(&[
            "*://*.spin.internal:*",
            "postgres://db:*",
            "https://a.com:8000..8002",
        ]);
        assert!(h.allows("http", "users.spin.internal", None));
        assert!(h.allows("postgres", "db", Some(6543)));
        assert!(h.allows("https", "a.com", Some(8001)));
        assert!(!h.allows("https", "a.com", Some(8002)));
        assert!(hosts(&["*://*:*"]).allows("ftp", "x", Some(1)));
    }

    #[test]
    fn postgres_default_port() {
        let h = hosts(&["postgres://localhost:5432"]);
        assert!(h.allows("postgres", "localhost", None));
        assert!(!h.allows("postgres", "localhost", Some(5433)));
    }

    #[test]
    fn bad_entries() {
        for bad in [
            "example.com",
            "*",
            "http://a.com/path",
            "http://a.*.com",
            "ftp://a.com",
        ] {
            assert!(AllowedHost::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn chaining_target() {
        assert_eq!(
            service_chaining_target("users.spin.internal"),
            Some("users")
        );
        assert_eq!(
            service_chaining_target("users.spin.internal:80"),
            Some("users")
        );
        assert_eq!(service_chaining_target("a.b.spin.internal"), None);
        assert_eq!(service_chaining_target("example.com"), None);
    }

    #[test]
    fn self_requests() {
        assert!(hosts(&["http://self"]).allows_relative());
        assert!(!hosts(&["http://example.com"]).allows_relative());
    }
}
