//! The internal credential between the components. Who acts, and what
//! they may do, is the `mth-accounts` crate's (`Actor`, `authenticate`,
//! the policy); this module only compares secrets.

use subtle::ConstantTimeEq;

use crate::ApiError;

/// The header the gateway names the signed-in person in.
pub const ACTOR_HEADER: &str = "x-mth-actor";

/// Constant-time equality, so response timing does not leak how much of a
/// secret a guess got right.
pub fn secrets_equal(given: &[u8], expected: &[u8]) -> bool {
    given.ct_eq(expected).into()
}

/// Checks a bearer token against the accepted internal tokens.
pub fn check_internal_token<'a>(
    given: &str,
    accepted: impl IntoIterator<Item = &'a String>,
) -> Result<(), ApiError> {
    // Every token is compared (no early exit tells which one matched); an
    // empty configured token would make every empty guess valid.
    let matched = accepted.into_iter().fold(false, |matched, token| {
        matched | (!token.is_empty() && secrets_equal(given.as_bytes(), token.as_bytes()))
    });
    if matched {
        Ok(())
    } else {
        Err(ApiError::unauthorized())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_the_exact_internal_tokens() {
        let (current, previous) = ("s3cret".to_owned(), "old-s3cret".to_owned());
        for accepted in [vec![&current], vec![&current, &previous]] {
            assert!(check_internal_token("s3cret", accepted.clone()).is_ok());
            for wrong in ["s3cre", "s3cretx", "", "S3CRET", "old-s3cre"] {
                assert_eq!(
                    check_internal_token(wrong, accepted.clone())
                        .unwrap_err()
                        .status,
                    401
                );
            }
        }
        assert!(check_internal_token("old-s3cret", [&current, &previous]).is_ok());
        assert!(check_internal_token("old-s3cret", [&current]).is_err());
        // An empty configured token accepts nothing.
        assert!(check_internal_token("", [&String::new()]).is_err());
    }
}
