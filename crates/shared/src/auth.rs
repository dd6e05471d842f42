//! Bearer-token authentication between the gateway and the APIs.

use subtle::ConstantTimeEq;

use spin_sdk::http::Request;

use crate::{ApiError, config};

/// Constant-time equality, so response timing does not leak how much of a
/// secret a guess got right.
pub fn secrets_equal(given: &[u8], expected: &[u8]) -> bool {
    given.ct_eq(expected).into()
}

/// Checks an `Authorization` header value against the shared API token.
pub fn check_bearer(header: Option<&str>, token: &str) -> Result<(), ApiError> {
    let given = header
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(ApiError::unauthorized)?;
    // An empty configured token would make every empty guess valid.
    if token.is_empty() || !secrets_equal(given.as_bytes(), token.as_bytes()) {
        return Err(ApiError::unauthorized());
    }
    Ok(())
}

/// Requires the `api_token` variable as the request's bearer token.
pub fn require_api_token(req: &Request) -> Result<(), ApiError> {
    let token = config::var("api_token")?;
    check_bearer(crate::request::header(req, "authorization"), &token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_the_exact_token() {
        assert!(check_bearer(Some("Bearer s3cret"), "s3cret").is_ok());
        assert_eq!(
            check_bearer(Some("Bearer s3cre"), "s3cret")
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(
            check_bearer(Some("Bearer s3cretx"), "s3cret")
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(
            check_bearer(Some("Basic s3cret"), "s3cret")
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(
            check_bearer(Some("s3cret"), "s3cret").unwrap_err().status,
            401
        );
        assert_eq!(check_bearer(None, "s3cret").unwrap_err().status, 401);
    }

    #[test]
    fn an_empty_configured_token_accepts_nothing() {
        assert!(check_bearer(Some("Bearer "), "").is_err());
    }
}
