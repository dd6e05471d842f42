//! Device cookies (OWASP's answer to lockout attacks): a browser in which a
//! person once signed in carries a signed cookie naming them. Signing in
//! from it counts against that browser's own throttle key only, so failures
//! from everywhere else — an attacker locking the account — do not hold
//! the owner back; browsers without one stay throttled per email and per
//! address.
//!
//! The value is `d1.<user id>.<nonce>.<HMAC-SHA256>`, keyed with a key
//! derived from `api_token` (a secret the frontend already holds; rotating
//! it makes browsers unknown again until their next sign-in, nothing worse).

use hmac::{Hmac, Mac};
use mth_shared::{ApiError, config, hex, token};
use sha2::Sha256;
use uuid::Uuid;

const VERSION: &str = "d1";
pub const COOKIE: &str = "mth_device";
/// Over HTTPS the cookie is `__Host-` prefixed: the browser then keeps it
/// only if set by this host, `Secure`, `Path=/`, without `Domain`.
pub const SECURE_COOKIE: &str = "__Host-mth_device";
/// A browser stays known this long after its last successful sign-in.
pub const MAX_AGE_SECS: i64 = 180 * 24 * 60 * 60;

/// A device cookie whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub user_id: Uuid,
    nonce: String,
}

impl Device {
    /// The throttle key of this browser.
    pub fn throttle_key(&self) -> String {
        format!("device:{}", self.nonce)
    }
}

fn mac(key: &[u8], payload: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(payload.as_bytes());
    hex::encode(&mac.finalize().into_bytes())
}

/// The signing key: an HMAC of a fixed label under `api_token`, so the
/// token itself never signs anything a client holds.
fn key() -> Result<Vec<u8>, ApiError> {
    let secret = config::var("api_token")?;
    Ok(mac(secret.as_bytes(), "microtaskhub device cookie v1").into_bytes())
}

fn sign(key: &[u8], user_id: Uuid, nonce: &str) -> String {
    let payload = format!("{VERSION}.{}.{nonce}", user_id.simple());
    let signature = mac(key, &payload);
    format!("{payload}.{signature}")
}

fn verify(key: &[u8], value: &str) -> Option<Device> {
    let mut parts = value.split('.');
    let (version, user, nonce, signature) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version != VERSION || parts.next().is_some() || nonce.len() != 32 {
        return None;
    }
    let user_id = Uuid::try_parse(user).ok()?;
    let expected = sign(key, user_id, nonce);
    let given_signature = expected.rsplit('.').next()?;
    mth_shared::auth::secrets_equal(signature.as_bytes(), given_signature.as_bytes()).then(|| {
        Device {
            user_id,
            nonce: nonce.to_owned(),
        }
    })
}

/// The device a cookie value names, if its signature is ours.
pub fn from_cookie(value: Option<&str>) -> Result<Option<Device>, ApiError> {
    match value {
        Some(value) => Ok(verify(&key()?, value)),
        None => Ok(None),
    }
}

/// A new cookie value for a person's browser.
pub fn issue(user_id: Uuid) -> Result<String, ApiError> {
    let nonce = hex::encode(&token::random::<16>()?);
    Ok(sign(&key()?, user_id, &nonce))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_signature_names_a_device() {
        let (key, other_key) = (b"k1".as_slice(), b"k2".as_slice());
        let user = Uuid::new_v4();
        let value = sign(key, user, &"ab".repeat(16));
        let device = verify(key, &value).unwrap();
        assert_eq!(device.user_id, user);
        assert_eq!(device.throttle_key(), format!("device:{}", "ab".repeat(16)));
        assert_eq!(verify(other_key, &value), None);
        let other_user = value.replace(
            &user.simple().to_string(),
            &Uuid::new_v4().simple().to_string(),
        );
        assert_eq!(verify(key, &other_user), None);
        for bad in [
            "",
            "d1",
            "d1.x.y.z",
            &format!("{value}.x"),
            &value[..value.len() - 1],
        ] {
            assert_eq!(verify(key, bad), None, "{bad}");
        }
    }
}
