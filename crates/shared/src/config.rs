//! Spin variables, the components' only configuration.
//!
//! A Spin component has no start-up hook, so a bad secret cannot stop the
//! process. Instead every read of a secret goes through [`var`], which refuses
//! a value that is empty, a placeholder, or too short: each request that needs
//! the secret answers 500 naming the variable, and the health endpoints answer
//! 503 with the same message ([`check_secrets`]), so a pod with a bad secret
//! never becomes Ready.

use crate::ApiError;

/// What a secret variable must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// At least this many bytes (keys: HMAC, bearer token).
    MinBytes(usize),
    /// At least this many characters (a password a person types).
    MinChars(usize),
    /// Set, and not a placeholder (a URL holding a password).
    Set,
}

/// The secret variables of `spin.toml` and their rules. Each is optional at
/// app level (`default = ""`) so that a SpinApp only receives the secrets of
/// its own component; the component that reads one checks it here.
const SECRETS: &[(&str, Rule)] = &[
    ("api_token", Rule::MinBytes(32)),
    ("api_token_previous", Rule::MinBytes(32)),
    ("ui_password", Rule::MinChars(12)),
    ("database_url", Rule::Set),
    ("oidc_client_secret", Rule::Set),
];

/// Secrets that may be empty (read with [`optional_var`]).
const OPTIONAL_SECRETS: &[&str] = &["api_token_previous"];

/// Markers of the example values of documentation and old manifests
/// (matched case-insensitively): a value holding one was never generated.
pub const PLACEHOLDER_MARKERS: &[&str] = &["change_me", "changeme", "change-me", "replace_me"];

/// Why a secret variable's value is refused, as an operator-facing sentence
/// that names the variable and never shows its value. `None`: acceptable, or
/// not a secret this module knows.
pub fn secret_problem(name: &str, value: &str) -> Option<String> {
    let (_, rule) = SECRETS.iter().find(|(secret, _)| *secret == name)?;
    let lower = value.to_ascii_lowercase();
    let problem = if value.trim().is_empty() {
        "is not set".to_owned()
    } else if PLACEHOLDER_MARKERS.iter().any(|m| lower.contains(m)) {
        "holds a placeholder value, not a generated secret".to_owned()
    } else {
        match *rule {
            Rule::MinBytes(min) if value.len() < min => {
                format!("is shorter than {min} bytes")
            }
            Rule::MinChars(min) if value.chars().count() < min => {
                format!("is shorter than {min} characters")
            }
            _ => return None,
        }
    };
    Some(format!(
        "Server misconfigured: variable '{name}' {problem}; \
         generate the secrets as docs/deploy.md explains."
    ))
}

/// Reads a component variable. A missing one is the operator's mistake, not
/// the client's, so it is a 500 that names the variable (never its value);
/// so is a secret variable that [`secret_problem`] refuses.
pub fn var(name: &str) -> Result<String, ApiError> {
    let value = spin_sdk::variables::get(name).map_err(|e| {
        ApiError::internal(format!("Server misconfigured: variable '{name}' ({e})."))
    })?;
    match secret_problem(name, &value) {
        Some(problem) => Err(ApiError::internal(problem)),
        None => Ok(value),
    }
}

/// Reads an optional secret variable: `None` when it is empty, else checked
/// like [`var`].
pub fn optional_var(name: &str) -> Result<Option<String>, ApiError> {
    let value = spin_sdk::variables::get(name).unwrap_or_default();
    if value.is_empty() {
        return Ok(None);
    }
    var(name).map(Some)
}

/// Checks that each of `names` reads and passes its rule: the health
/// endpoints call this with the secrets their component uses.
pub fn check_secrets(names: &[&str]) -> Result<(), ApiError> {
    names.iter().try_for_each(|name| {
        if OPTIONAL_SECRETS.contains(name) {
            optional_var(name).map(drop)
        } else {
            var(name).map(drop)
        }
    })
}

/// A base URL variable without its trailing slash, ready for `format!("{base}/path")`.
pub fn base_url(name: &str) -> Result<String, ApiError> {
    Ok(var(name)?.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_32: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn generated_secrets_pass() {
        assert_eq!(secret_problem("api_token", KEY_32), None);
        assert_eq!(secret_problem("ui_password", "twelve chars"), None);
        assert_eq!(
            secret_problem("database_url", "postgres://a:b@h:5432/d"),
            None
        );
    }

    #[test]
    fn other_variables_are_not_checked() {
        assert_eq!(secret_problem("ui_username", ""), None);
        assert_eq!(secret_problem("user_service_url", "CHANGE_ME"), None);
    }

    #[test]
    fn short_secrets_are_refused_by_name_without_the_value() {
        let problem = secret_problem("api_token", &KEY_32[1..]).unwrap();
        assert!(
            problem.contains("'api_token' is shorter than 32 bytes"),
            "{problem}"
        );
        assert!(!problem.contains(&KEY_32[1..]));
        let problem = secret_problem("api_token", "short").unwrap();
        assert!(problem.contains("'api_token' is shorter than 32 bytes"));
        // Characters, not bytes: eleven two-byte letters are still too few.
        let problem = secret_problem("ui_password", &"é".repeat(11)).unwrap();
        assert!(problem.contains("'ui_password' is shorter than 12 characters"));
    }

    #[test]
    fn placeholders_and_empty_values_are_refused() {
        let long_placeholder = format!("CHANGE_ME_api_token_{KEY_32}");
        let problem = secret_problem("api_token", &long_placeholder).unwrap();
        assert!(
            problem.contains("'api_token' holds a placeholder"),
            "{problem}"
        );
        assert!(!problem.contains(&long_placeholder));
        let url = "postgres://app:change_me_please@db:5432/app";
        assert!(
            secret_problem("database_url", url)
                .unwrap()
                .contains("placeholder")
        );
        assert!(
            secret_problem("ui_password", "  ")
                .unwrap()
                .contains("'ui_password' is not set")
        );
    }
}
