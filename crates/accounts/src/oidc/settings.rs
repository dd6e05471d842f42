//! The OpenID Connect variables (spin.toml), parsed once per request into
//! [`Settings`]. `oidc_issuer` empty: OIDC is off and none of the others is
//! read. A bad value is the operator's mistake: a 500 naming the variable
//! (never a secret's value), and the frontend's health check says so too.

use mth_shared::{ApiError, config};

/// How the app signs people in with the provider.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Exactly as the provider's discovery document and tokens spell it.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Shown on the button: "Sign in with <name>".
    pub provider_name: String,
    /// The claim that carries the email (`email`; Entra ID: often
    /// `preferred_username`).
    pub email_claim: String,
    /// Only emails of this domain may sign in (lower case, no `@`).
    pub email_domain: Option<String>,
    /// The claim listing groups, and the value in it that makes an admin.
    pub groups_claim: String,
    pub admin_group: Option<String>,
    /// Unknown emails become members (just-in-time creation) instead of
    /// being refused.
    pub create_users: bool,
}

fn misconfigured(name: &str, why: &str) -> ApiError {
    ApiError::internal(format!("Server misconfigured: variable '{name}' {why}."))
}

/// A variable the component may lack (an older manifest): empty then.
fn text(name: &str) -> String {
    spin_sdk::variables::get(name)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn flag(name: &str, default: bool) -> Result<bool, ApiError> {
    match text(name).to_ascii_lowercase().as_str() {
        "" => Ok(default),
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(misconfigured(name, "must be true or false")),
    }
}

/// `https://host[:port][/path]`, or `http://` for a loopback address (a
/// provider on the same machine: development and the tests).
pub fn parse_issuer(raw: &str) -> Result<String, String> {
    let (scheme, rest) = raw
        .split_once("://")
        .ok_or("must be an absolute URL, like https://id.example.com/realms/team")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let hostname = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let loopback = matches!(hostname, "localhost" | "127.0.0.1" | "[::1]");
    if host.is_empty() || rest.contains(['?', '#']) {
        return Err("must be a URL with a host and no query or fragment".to_owned());
    }
    match scheme {
        "https" => Ok(raw.to_owned()),
        "http" if loopback => Ok(raw.to_owned()),
        _ => Err("must be an https:// URL (http:// only for localhost)".to_owned()),
    }
}

impl Settings {
    /// The settings, or `None` when `oidc_issuer` is empty.
    pub fn load() -> Result<Option<Self>, ApiError> {
        let issuer = text("oidc_issuer");
        if issuer.is_empty() {
            return Ok(None);
        }
        let issuer = parse_issuer(&issuer).map_err(|why| misconfigured("oidc_issuer", &why))?;
        let client_id = text("oidc_client_id");
        if client_id.is_empty() {
            return Err(misconfigured(
                "oidc_client_id",
                "is not set (oidc_issuer is)",
            ));
        }
        let client_secret = config::var("oidc_client_secret")?;
        let or = |name: &str, default: &str| {
            let value = text(name);
            if value.is_empty() {
                default.to_owned()
            } else {
                value
            }
        };
        let provider_name = or("oidc_provider_name", host_of(&issuer));
        let domain = text("oidc_email_domain")
            .trim_start_matches('@')
            .to_lowercase();
        let admin_group = text("oidc_admin_group");
        Ok(Some(Settings {
            issuer,
            client_id,
            client_secret,
            provider_name,
            email_claim: or("oidc_email_claim", "email"),
            email_domain: (!domain.is_empty()).then_some(domain),
            groups_claim: or("oidc_groups_claim", "groups"),
            admin_group: (!admin_group.is_empty()).then_some(admin_group),
            create_users: flag("oidc_create_users", false)?,
        }))
    }

    /// Where the discovery document is (OIDC Discovery 1.0, section 4).
    pub fn discovery_url(&self) -> String {
        format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        )
    }
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', ':']).next().unwrap_or(rest)
}

/// Whether people may sign in with a password (`password_sign_in`, on by
/// default). Off only counts while OIDC is configured: turning it off
/// without another way in would lock everyone out. The first admin
/// (`ui_username`) keeps their password either way, for recovery.
///
/// Reads only whether an issuer is set, not the other settings: a provider
/// misconfigured (say, its secret missing) must not take password sign-in
/// down with it.
pub fn password_sign_in() -> Result<bool, ApiError> {
    let on = flag("password_sign_in", true)?;
    Ok(on || text("oidc_issuer").is_empty())
}

/// The variables' problems, for the health check.
pub fn check() -> Result<(), ApiError> {
    Settings::load().map(drop)?;
    password_sign_in().map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_are_https_urls_or_loopback_http() {
        for ok in [
            "https://id.example.com/realms/team",
            "https://login.microsoftonline.com/tid/v2.0",
            "http://127.0.0.1:8080",
            "http://localhost:9000/oidc",
        ] {
            assert_eq!(parse_issuer(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "id.example.com",
            "http://id.example.com",
            "ftp://x",
            "https://",
            "https://a?b=c",
        ] {
            assert!(parse_issuer(bad).is_err(), "{bad}");
        }
        assert_eq!(host_of("https://id.example.com:8443/x"), "id.example.com");
    }
}
