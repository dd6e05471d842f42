//! Secret tokens (sessions, set-password links, personal API tokens): 256
//! random bits, shown once, stored only as their SHA-256 — a fast hash is
//! enough for values that cannot be guessed.

use sha2::{Digest, Sha256};

use crate::{ApiError, hex};

/// Personal API tokens start with this, so a service can tell one from the
/// internal credential without a database lookup, and leaked ones are easy
/// to find in logs and repositories.
pub const API_TOKEN_PREFIX: &str = "mth_pat_";

/// A fresh random token, `prefix` followed by 64 hex digits.
pub fn generate(prefix: &str) -> Result<String, ApiError> {
    Ok(format!("{prefix}{}", hex::encode(&random::<32>()?)))
}

/// `N` random bytes from the host (WASI random in a component).
pub fn random<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| {
        ApiError::internal("Could not get random bytes.").caused_by(format_args!("{e}"))
    })?;
    Ok(bytes)
}

/// What is stored instead of the token.
pub fn digest(token: &str) -> String {
    hex::encode(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_stored_as_digests() {
        let (a, b) = (generate("x_").unwrap(), generate("x_").unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with("x_") && a.len() == 2 + 64);
        assert_eq!(digest(&a), digest(&a.clone()));
        assert_ne!(digest(&a), digest(&b));
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
