//! Passwords: the rules for a new one, and argon2id hashing.
//!
//! Parameters: 19 MiB, 2 passes, 1 lane — OWASP's minimum for argon2id, and
//! what a wasm instance affords per sign-in (see docs/benchmarks.md). The
//! parameters are stored in each hash, so raising them later keeps old
//! hashes verifiable.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use mth_shared::{ApiError, token};

const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;

/// A new password: 12 to 256 characters (long passphrases welcome; the
/// bound keeps hashing cost bounded).
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.chars().count() {
            n if n < 12 => Err("must be at least 12 characters".to_owned()),
            n if n > 256 => Err("must be at most 256 characters".to_owned()),
            _ if raw.trim().is_empty() => Err("must not be only spaces".to_owned()),
            _ => Ok(Self(raw.to_owned())),
        }
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_with(password: &str, salt: &[u8]) -> Result<String, ApiError> {
    let salt = SaltString::encode_b64(salt).map_err(failed)?;
    Ok(argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(failed)?
        .to_string())
}

/// The PHC string to store for a new password.
pub fn hash(password: &NewPassword) -> Result<String, ApiError> {
    hash_with(&password.0, &token::random::<16>()?)
}

/// Whether `password` matches a stored hash (with the hash's own parameters).
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Spends what [`verify`] spends, for an email without a password, so the
/// answer's timing does not tell which emails have accounts.
pub fn waste_equal_time(password: &str) {
    let _ = hash_with(password, b"no-such-account!");
}

fn failed(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal("Could not hash the password.").caused_by(format_args!("argon2: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_are_long_enough_and_bounded() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse(&" ".repeat(12)).is_err());
        assert!(NewPassword::parse(&"x".repeat(257)).is_err());
        assert!(NewPassword::parse("correct horse battery").is_ok());
        assert_eq!(
            format!("{:?}", NewPassword::parse("correct horse battery").unwrap()),
            "NewPassword(..)"
        );
    }

    #[test]
    fn hashes_are_argon2id_and_verify_only_the_password() {
        let stored = hash_with("correct horse battery", b"0123456789abcdef").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterY", &stored));
        assert!(!verify("correct horse battery", "not a hash"));
    }
}
