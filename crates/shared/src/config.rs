//! Spin variables, the components' only configuration.

use crate::ApiError;

/// Reads a component variable. A missing one is the operator's mistake, not
/// the client's, so it is a 500 that names the variable (never its value).
pub fn var(name: &str) -> Result<String, ApiError> {
    spin_sdk::variables::get(name)
        .map_err(|e| ApiError::internal(format!("Server misconfigured: variable '{name}' ({e}).")))
}

/// A base URL variable without its trailing slash, ready for `format!("{base}/path")`.
pub fn base_url(name: &str) -> Result<String, ApiError> {
    Ok(var(name)?.trim_end_matches('/').to_owned())
}
