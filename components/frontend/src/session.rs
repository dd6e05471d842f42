//! The browser session: a signed, self-contained cookie.
//!
//! The value is `v1.<hex username>.<expiry, unix seconds>.<hex HMAC-SHA256>`,
//! the MAC taken over everything before the last dot with `session_secret`
//! as the key. Nothing is stored server-side: a valid signature and an
//! expiry in the future are the whole check, so the cookie can be neither
//! forged nor extended without the secret.

use hmac::{Hmac, Mac};
use mth_shared::hex;
use sha2::{Digest, Sha256};

pub const COOKIE_NAME: &str = "mth_session";
/// How long a sign-in lasts.
pub const LIFETIME_SECS: i64 = 8 * 60 * 60;
/// Clock skew tolerated for an expiry further away than a fresh session's.
const SKEW_SECS: i64 = 60;
const VERSION: &str = "v1";

type HmacSha256 = Hmac<Sha256>;

/// A verified session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub username: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Why a cookie value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// Not in the expected shape.
    Malformed,
    /// The signature does not match (forged or tampered with), or no secret is configured.
    BadSignature,
    /// Signed by us, but its time is over.
    Expired,
}

fn mac(secret: &[u8], payload: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(payload.as_bytes());
    mac
}

/// The signed cookie value for `username`, valid until `expires_at`.
pub fn sign(secret: &[u8], username: &str, expires_at: i64) -> String {
    let payload = format!(
        "{VERSION}.{}.{expires_at}",
        hex::encode(username.as_bytes())
    );
    let signature = mac(secret, &payload).finalize().into_bytes();
    format!("{payload}.{}", hex::encode(&signature))
}

/// Checks a cookie value: shape, then signature (in constant time), then expiry.
pub fn verify(secret: &[u8], value: &str, now: i64) -> Result<Session, Invalid> {
    let (payload, signature) = value.rsplit_once('.').ok_or(Invalid::Malformed)?;
    let mut parts = payload.split('.');
    let (Some(version), Some(user_hex), Some(expiry), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Invalid::Malformed);
    };
    if version != VERSION || expiry.is_empty() || !expiry.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Invalid::Malformed);
    }
    let expires_at: i64 = expiry.parse().map_err(|_| Invalid::Malformed)?;
    let username = hex::decode(user_hex)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or(Invalid::Malformed)?;
    let signature = hex::decode(signature).ok_or(Invalid::Malformed)?;
    // An empty key would let anyone who guesses that sign sessions.
    if secret.is_empty() || mac(secret, payload).verify_slice(&signature).is_err() {
        return Err(Invalid::BadSignature);
    }
    if expires_at <= now {
        return Err(Invalid::Expired);
    }
    // Only we sign, and never further ahead than one lifetime: anything more
    // means the secret leaked or the clock jumped back; either way, refuse.
    if expires_at > now + LIFETIME_SECS + SKEW_SECS {
        return Err(Invalid::BadSignature);
    }
    Ok(Session {
        username,
        expires_at,
    })
}

/// The first session in a `Cookie` header that verifies.
pub fn from_cookie_header(header: &str, secret: &[u8], now: i64) -> Result<Session, Invalid> {
    let mut outcome = Err(Invalid::Malformed);
    for value in cookie_values(header, COOKIE_NAME) {
        outcome = verify(secret, value, now);
        if outcome.is_ok() {
            break;
        }
    }
    outcome
}

/// Every value of cookie `name` in a `Cookie` header (there may be several).
pub fn cookie_values<'a>(header: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    header.split(';').filter_map(move |pair| {
        let (key, value) = pair.split_once('=')?;
        (key.trim() == name).then(|| value.trim().trim_matches('"'))
    })
}

/// `Set-Cookie` for a new session.
pub fn set_cookie(value: &str, expires_at: i64, now: i64, secure: bool) -> String {
    let max_age = (expires_at - now).max(0);
    let expires = chrono::DateTime::from_timestamp(expires_at, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT");
    let mut cookie = format!(
        "{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}; Expires={expires}"
    );
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// `Set-Cookie` that removes the session.
pub fn clear_cookie(secure: bool) -> String {
    let mut cookie = format!(
        "{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
    );
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// Whether a submitted credential equals the configured one, in time that
/// depends on neither its content nor its length (both sides are hashed to
/// 32 bytes first, then compared in constant time).
pub fn credential_matches(given: &str, expected: &str) -> bool {
    let given = Sha256::digest(given.as_bytes());
    let expected_digest = Sha256::digest(expected.as_bytes());
    mth_shared::auth::secrets_equal(&given, &expected_digest) && !expected.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-session-secret";
    const NOW: i64 = 1_800_000_000;

    fn fresh() -> String {
        sign(SECRET, "admin", NOW + LIFETIME_SECS)
    }

    #[test]
    fn a_fresh_cookie_verifies() {
        let session = verify(SECRET, &fresh(), NOW).unwrap();
        assert_eq!(session.username, "admin");
        assert_eq!(session.expires_at, NOW + LIFETIME_SECS);
        // Still valid one second before the end.
        assert!(verify(SECRET, &fresh(), NOW + LIFETIME_SECS - 1).is_ok());
    }

    #[test]
    fn usernames_of_any_text_round_trip() {
        let value = sign(SECRET, "ä.b; c=d", NOW + 10);
        assert!(
            value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.')
        );
        assert_eq!(verify(SECRET, &value, NOW).unwrap().username, "ä.b; c=d");
    }

    #[test]
    fn a_forged_signature_is_refused() {
        let value = fresh();
        let (payload, _) = value.rsplit_once('.').unwrap();
        let forged = format!("{payload}.{}", "0".repeat(64));
        assert_eq!(verify(SECRET, &forged, NOW), Err(Invalid::BadSignature));
        // Signed with another key.
        let other = sign(b"another-secret", "admin", NOW + 100);
        assert_eq!(verify(SECRET, &other, NOW), Err(Invalid::BadSignature));
        // Last hex digit flipped.
        let mut flipped = value.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        assert_eq!(verify(SECRET, &flipped, NOW), Err(Invalid::BadSignature));
    }

    #[test]
    fn a_tampered_expiry_or_username_is_refused() {
        let value = fresh();
        let parts: Vec<&str> = value.split('.').collect();
        let extended = format!(
            "{}.{}.{}.{}",
            parts[0],
            parts[1],
            NOW + LIFETIME_SECS + 1,
            parts[3]
        );
        assert_eq!(verify(SECRET, &extended, NOW), Err(Invalid::BadSignature));
        let renamed = format!(
            "{}.{}.{}.{}",
            parts[0],
            hex::encode(b"root"),
            parts[2],
            parts[3]
        );
        assert_eq!(verify(SECRET, &renamed, NOW), Err(Invalid::BadSignature));
    }

    #[test]
    fn an_expired_cookie_is_refused() {
        assert_eq!(
            verify(SECRET, &fresh(), NOW + LIFETIME_SECS),
            Err(Invalid::Expired)
        );
        assert_eq!(
            verify(SECRET, &sign(SECRET, "admin", NOW - 1), NOW),
            Err(Invalid::Expired)
        );
    }

    #[test]
    fn an_expiry_beyond_one_lifetime_is_refused_even_if_signed() {
        let far = sign(SECRET, "admin", NOW + 365 * 24 * 3600);
        assert_eq!(verify(SECRET, &far, NOW), Err(Invalid::BadSignature));
    }

    #[test]
    fn malformed_values_are_refused() {
        let sig = "ab".repeat(32);
        for bad in [
            String::new(),
            "garbage".to_owned(),
            "v1.61646d696e".to_owned(),
            format!("v1.61646d696e.{}", NOW + 10),
            format!("v2.61646d696e.{}.{sig}", NOW + 10),
            format!("v1.zz.{}.{sig}", NOW + 10),
            format!("v1.616.{}.{sig}", NOW + 10),
            format!("v1.61646d696e.+{}.{sig}", NOW + 10),
            format!("v1.61646d696e.-5.{sig}"),
            format!("v1.61646d696e.99999999999999999999999.{sig}"),
            format!("v1.61646d696e.{}.xyz", NOW + 10),
            format!("v1.61646d696e.{}.{}.{sig}", NOW + 10, NOW),
            format!("v1.ff.{}.{sig}", NOW + 10), // not UTF-8
        ] {
            assert_eq!(verify(SECRET, &bad, NOW), Err(Invalid::Malformed), "{bad}");
        }
    }

    #[test]
    fn an_empty_secret_verifies_nothing() {
        let value = sign(b"", "admin", NOW + 10);
        assert_eq!(verify(b"", &value, NOW), Err(Invalid::BadSignature));
    }

    #[test]
    fn picks_the_session_out_of_a_cookie_header() {
        let header = format!("theme=dark; {COOKIE_NAME}=junk; {COOKIE_NAME}={}", fresh());
        assert_eq!(
            from_cookie_header(&header, SECRET, NOW).unwrap().username,
            "admin"
        );
        assert_eq!(
            from_cookie_header("theme=dark", SECRET, NOW),
            Err(Invalid::Malformed)
        );
        assert_eq!(
            from_cookie_header(&format!("x{COOKIE_NAME}={}", fresh()), SECRET, NOW),
            Err(Invalid::Malformed)
        );
    }

    #[test]
    fn cookie_attributes() {
        let set = set_cookie("v", NOW + LIFETIME_SECS, NOW, false);
        for attr in [
            "mth_session=v;",
            "Path=/",
            "HttpOnly",
            "SameSite=Strict",
            "Max-Age=28800",
            "Expires=",
        ] {
            assert!(set.contains(attr), "{set}");
        }
        assert!(!set.contains("Secure"));
        assert!(set_cookie("v", NOW + 1, NOW, true).ends_with("; Secure"));
        let cleared = clear_cookie(true);
        assert!(cleared.contains("Max-Age=0") && cleared.contains("Secure"));
        assert!(cleared.starts_with("mth_session=;"));
    }

    #[test]
    fn credentials_compare_exactly() {
        assert!(credential_matches("s3cret", "s3cret"));
        assert!(!credential_matches("s3cre", "s3cret"));
        assert!(!credential_matches("s3cret ", "s3cret"));
        assert!(!credential_matches("S3CRET", "s3cret"));
        assert!(!credential_matches("", ""));
    }
}
