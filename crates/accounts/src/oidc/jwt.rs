//! ID tokens (signed JWTs, RFC 7519) and the provider's signing keys (JWKS,
//! RFC 7517): parsed at the edge into types, then verified — signature
//! (RS256 or ES256, nothing else: `none` and HMAC are never accepted),
//! issuer, audience, expiry with [`CLOCK_SKEW_SECS`] and nonce.
//!
//! No I/O here: [`super::provider`] fetches the keys, and asks again when a
//! token names a key id that the cached set lacks ([`Unverified::key_id`]).

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use p256::ecdsa::signature::Verifier as _;
use rsa::BigUint;
use rsa::traits::PublicKeyParts;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::Sha256;

/// How far our clock and the provider's may disagree.
pub const CLOCK_SKEW_SECS: i64 = 60;
/// Smaller RSA moduli are refused (NIST: 2048 bits at least).
const MIN_RSA_BITS: usize = 2048;

/// base64url, with or without padding (RFC 7515 says without; some
/// providers' JWKS pad).
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    B64URL.decode(text).ok()
}

pub fn b64url_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Why a token is refused, as the person (and the log) reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    Malformed(&'static str),
    UnsupportedAlgorithm(String),
    UnknownKey(Option<String>),
    BadSignature,
    WrongIssuer,
    WrongAudience,
    Expired,
    NotYetValid,
    WrongNonce,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Malformed(why) => write!(f, "it is malformed ({why})"),
            TokenError::UnsupportedAlgorithm(alg) => {
                write!(
                    f,
                    "it is signed with {alg}; only RS256 and ES256 are accepted"
                )
            }
            TokenError::UnknownKey(Some(kid)) => write!(
                f,
                "it is signed with key id {kid:?}, which the provider does not publish"
            ),
            TokenError::UnknownKey(None) => {
                f.write_str("it names no key id and no published key fits it")
            }
            TokenError::BadSignature => f.write_str("its signature is not valid"),
            TokenError::WrongIssuer => f.write_str("it was issued by another issuer"),
            TokenError::WrongAudience => f.write_str("it was issued for another application"),
            TokenError::Expired => f.write_str("it has expired"),
            TokenError::NotYetValid => f.write_str("it was issued in the future"),
            TokenError::WrongNonce => f.write_str("it belongs to another sign-in (nonce)"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Rs256,
    Es256,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

/// A token split and decoded, its signature not yet checked.
pub struct Unverified {
    alg: Algorithm,
    kid: Option<String>,
    signing_input: String,
    signature: Vec<u8>,
    claims: Map<String, Value>,
}

impl Unverified {
    pub fn parse(token: &str) -> Result<Self, TokenError> {
        let mut parts = token.trim().split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed("not three dot-separated parts"));
        };
        let decode = |part: &str, what| b64url_decode(part).ok_or(TokenError::Malformed(what));
        let header: Header = serde_json::from_slice(&decode(header, "header encoding")?)
            .map_err(|_| TokenError::Malformed("header"))?;
        let alg = match header.alg.as_str() {
            "RS256" => Algorithm::Rs256,
            "ES256" => Algorithm::Es256,
            other => return Err(TokenError::UnsupportedAlgorithm(other.to_owned())),
        };
        let claims: Map<String, Value> =
            serde_json::from_slice(&decode(payload, "payload encoding")?)
                .map_err(|_| TokenError::Malformed("payload is not a JSON object"))?;
        Ok(Self {
            alg,
            kid: header.kid,
            signing_input: format!(
                "{}.{}",
                token.trim().split('.').next().unwrap_or(""),
                payload
            ),
            signature: decode(signature, "signature encoding")?,
            claims,
        })
    }

    pub fn key_id(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Whether `keys` holds the key this token names (by id, or the only
    /// key of its type when it names none).
    pub fn has_key_in(&self, keys: &KeySet) -> bool {
        keys.find(self.alg, self.kid.as_deref()).is_some()
    }

    /// Checks signature and claims; `now` in seconds since the epoch.
    pub fn verify(
        self,
        keys: &KeySet,
        expected: &Expected<'_>,
        now: i64,
    ) -> Result<Claims, TokenError> {
        let key = keys
            .find(self.alg, self.kid.as_deref())
            .ok_or_else(|| TokenError::UnknownKey(self.kid.clone()))?;
        if !key.verifies(self.signing_input.as_bytes(), &self.signature) {
            return Err(TokenError::BadSignature);
        }
        let claims = Claims(self.claims);
        if claims.str("iss") != Some(expected.issuer) {
            return Err(TokenError::WrongIssuer);
        }
        let audiences: Vec<&str> = match claims.0.get("aud") {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        // Several audiences: the authorized party must be us (OIDC Core 3.1.3.7).
        let azp_ok = match claims.str("azp") {
            Some(azp) => azp == expected.client_id,
            None => audiences.len() == 1,
        };
        if !audiences.contains(&expected.client_id) || !azp_ok {
            return Err(TokenError::WrongAudience);
        }
        let exp = claims
            .number("exp")
            .ok_or(TokenError::Malformed("no exp"))?;
        if exp + CLOCK_SKEW_SECS <= now {
            return Err(TokenError::Expired);
        }
        let iat = claims
            .number("iat")
            .ok_or(TokenError::Malformed("no iat"))?;
        if iat - CLOCK_SKEW_SECS > now {
            return Err(TokenError::NotYetValid);
        }
        let nonce_ok = claims.str("nonce").is_some_and(|nonce| {
            mth_shared::auth::secrets_equal(nonce.as_bytes(), expected.nonce.as_bytes())
        });
        if !nonce_ok {
            return Err(TokenError::WrongNonce);
        }
        if claims.str("sub").is_none_or(str::is_empty) {
            return Err(TokenError::Malformed("no sub"));
        }
        Ok(claims)
    }
}

/// What a token must say to be ours.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
}

/// The claims of a verified token.
#[derive(Debug, Clone)]
pub struct Claims(Map<String, Value>);

impl Claims {
    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    fn number(&self, name: &str) -> Option<i64> {
        let value = self.0.get(name)?;
        value.as_i64().or_else(|| value.as_f64().map(|f| f as i64))
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.0.get(name)? {
            Value::Bool(b) => Some(*b),
            // Some providers (older Cognito, some Entra configurations) send "true".
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// A claim that holds one string or a list of them (groups, roles).
    pub fn strings(&self, name: &str) -> Vec<&str> {
        match self.0.get(name) {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

/// One public key of the provider's.
#[derive(Debug, Clone)]
enum PublicKey {
    Rsa(rsa::RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
}

impl PublicKey {
    fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Rsa(_) => Algorithm::Rs256,
            PublicKey::P256(_) => Algorithm::Es256,
        }
    }

    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Rsa(key) => {
                let key = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.clone());
                rsa::pkcs1v15::Signature::try_from(signature)
                    .is_ok_and(|s| rsa::signature::Verifier::verify(&key, message, &s).is_ok())
            }
            // JWS ES256 signatures are r || s, 64 bytes (not DER).
            PublicKey::P256(key) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|s| key.verify(message, &s).is_ok()),
        }
    }
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    alg: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

impl Jwk {
    /// The key, if it is a signing key of a kind we verify; others (an
    /// encryption key, Ed25519, a weak RSA key) are skipped, not errors.
    fn public_key(&self) -> Option<PublicKey> {
        if self.usage.as_deref().is_some_and(|u| u != "sig") {
            return None;
        }
        let field = |value: &Option<String>| b64url_decode(value.as_deref()?);
        match (self.kty.as_str(), self.alg.as_deref()) {
            ("RSA", None | Some("RS256")) => {
                let n = BigUint::from_bytes_be(&field(&self.n)?);
                let e = BigUint::from_bytes_be(&field(&self.e)?);
                let key = rsa::RsaPublicKey::new(n, e).ok()?;
                (key.size() * 8 >= MIN_RSA_BITS).then_some(PublicKey::Rsa(key))
            }
            ("EC", None | Some("ES256")) if self.crv.as_deref() == Some("P-256") => {
                let (x, y) = (field(&self.x)?, field(&self.y)?);
                if x.len() != 32 || y.len() != 32 {
                    return None;
                }
                let point = p256::EncodedPoint::from_affine_coordinates(
                    x.as_slice().into(),
                    y.as_slice().into(),
                    false,
                );
                p256::ecdsa::VerifyingKey::from_encoded_point(&point)
                    .ok()
                    .map(PublicKey::P256)
            }
            _ => None,
        }
    }
}

/// The provider's signing keys we can use, by key id.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<(Option<String>, PublicKey)>,
}

impl KeySet {
    /// Parses a JWKS document (`{"keys": [...]}`).
    pub fn parse(json: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Document {
            keys: Vec<Value>,
        }
        let document: Document =
            serde_json::from_str(json).map_err(|e| format!("not a JWKS document: {e}"))?;
        let keys = document
            .keys
            .into_iter()
            .filter_map(|key| serde_json::from_value::<Jwk>(key).ok())
            .filter_map(|jwk| Some((jwk.kid.clone(), jwk.public_key()?)))
            .collect();
        Ok(Self { keys })
    }

    fn find(&self, alg: Algorithm, kid: Option<&str>) -> Option<&PublicKey> {
        let mut fitting = self.keys.iter().filter(|(_, key)| key.algorithm() == alg);
        match kid {
            Some(kid) => fitting
                .find(|(id, _)| id.as_deref() == Some(kid))
                .map(|(_, key)| key),
            // No key id: only unambiguous when one key fits.
            None => match (fitting.next(), fitting.next()) {
                (Some((_, key)), None) => Some(key),
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn signing_key(seed: u8) -> SigningKey {
        SigningKey::from_slice(&[seed; 32]).unwrap()
    }

    fn jwks(keys: &[(&str, &SigningKey)]) -> KeySet {
        let keys: Vec<Value> = keys
            .iter()
            .map(|(kid, key)| {
                let point = key.verifying_key().to_encoded_point(false);
                json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
                       "x": b64url_encode(point.x().unwrap()), "y": b64url_encode(point.y().unwrap())})
            })
            .collect();
        KeySet::parse(&json!({ "keys": keys }).to_string()).unwrap()
    }

    fn sign(header: Value, claims: &Value, key: &SigningKey) -> String {
        let input = format!(
            "{}.{}",
            b64url_encode(header.to_string().as_bytes()),
            b64url_encode(claims.to_string().as_bytes())
        );
        let signature: p256::ecdsa::Signature = key.sign(input.as_bytes());
        format!("{input}.{}", b64url_encode(&signature.to_bytes()))
    }

    fn claims() -> Value {
        json!({"iss": "https://id.example", "aud": "app", "sub": "s1", "nonce": "n1",
               "iat": NOW - 5, "exp": NOW + 300, "email": "ada@example.com"})
    }

    const EXPECTED: Expected<'static> = Expected {
        issuer: "https://id.example",
        client_id: "app",
        nonce: "n1",
    };

    fn check(token: &str, keys: &KeySet) -> Result<Claims, TokenError> {
        Unverified::parse(token)?.verify(keys, &EXPECTED, NOW)
    }

    fn with(change: impl FnOnce(&mut Value)) -> Value {
        let mut c = claims();
        change(&mut c);
        c
    }

    #[test]
    fn a_good_es256_token_verifies_and_gives_its_claims() {
        let key = signing_key(7);
        let keys = jwks(&[("k1", &key)]);
        let token = sign(json!({"alg": "ES256", "kid": "k1"}), &claims(), &key);
        let claims = check(&token, &keys).unwrap();
        assert_eq!(claims.str("email"), Some("ada@example.com"));
    }

    #[test]
    fn every_claim_and_the_signature_are_checked() {
        let key = signing_key(7);
        let keys = jwks(&[("k1", &key)]);
        let header = || json!({"alg": "ES256", "kid": "k1"});
        let refused = |claims: Value| check(&sign(header(), &claims, &key), &keys).unwrap_err();
        assert_eq!(
            refused(with(|c| c["iss"] = json!("https://evil"))),
            TokenError::WrongIssuer
        );
        assert_eq!(
            refused(with(|c| c["aud"] = json!("other"))),
            TokenError::WrongAudience
        );
        assert_eq!(
            refused(with(|c| c["aud"] = json!(["app", "other"]))),
            TokenError::WrongAudience,
            "several audiences need azp"
        );
        assert!(
            check(
                &sign(
                    header(),
                    &with(|c| {
                        c["aud"] = json!(["app", "other"]);
                        c["azp"] = json!("app");
                    }),
                    &key
                ),
                &keys
            )
            .is_ok()
        );
        assert_eq!(
            refused(with(|c| c["exp"] = json!(NOW - 61))),
            TokenError::Expired
        );
        assert!(
            check(
                &sign(header(), &with(|c| c["exp"] = json!(NOW - 30)), &key),
                &keys
            )
            .is_ok(),
            "within the skew"
        );
        assert_eq!(
            refused(with(|c| c["iat"] = json!(NOW + 120))),
            TokenError::NotYetValid
        );
        assert_eq!(
            refused(with(|c| c["nonce"] = json!("n2"))),
            TokenError::WrongNonce
        );
        assert_eq!(
            refused(with(|c| {
                c.as_object_mut().unwrap().remove("nonce");
            })),
            TokenError::WrongNonce
        );
        // Signed by another key under the same id.
        let forged = sign(header(), &claims(), &signing_key(8));
        assert_eq!(check(&forged, &keys).unwrap_err(), TokenError::BadSignature);
        // A changed payload under the original signature.
        let token = sign(header(), &claims(), &key);
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            b64url_encode(with(|c| c["sub"] = json!("s2")).to_string().as_bytes()),
            parts[2]
        );
        assert_eq!(
            check(&tampered, &keys).unwrap_err(),
            TokenError::BadSignature
        );
    }

    #[test]
    fn unknown_key_ids_and_other_algorithms_are_refused() {
        let key = signing_key(7);
        let keys = jwks(&[("k1", &key)]);
        let token = sign(json!({"alg": "ES256", "kid": "k9"}), &claims(), &key);
        assert_eq!(
            check(&token, &keys).unwrap_err(),
            TokenError::UnknownKey(Some("k9".into()))
        );
        assert!(!Unverified::parse(&token).unwrap().has_key_in(&keys));
        for alg in ["none", "HS256", "RS512"] {
            let token = sign(json!({"alg": alg, "kid": "k1"}), &claims(), &key);
            assert_eq!(
                check(&token, &keys).unwrap_err(),
                TokenError::UnsupportedAlgorithm(alg.into())
            );
        }
        // No key id: the only key of its type is used; with two, none is.
        let token = sign(json!({"alg": "ES256"}), &claims(), &key);
        assert!(check(&token, &keys).is_ok());
        let two = jwks(&[("k1", &key), ("k2", &signing_key(9))]);
        assert_eq!(
            check(&token, &two).unwrap_err(),
            TokenError::UnknownKey(None)
        );
        assert!(matches!(check("a.b", &keys), Err(TokenError::Malformed(_))));
    }

    #[test]
    fn keys_that_we_cannot_use_are_skipped() {
        let keys = KeySet::parse(
            &json!({"keys": [
                {"kty": "RSA", "kid": "small", "n": b64url_encode(&[0xff; 128]), "e": "AQAB"},
                {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AA"},
                {"kty": "RSA", "kid": "enc", "use": "enc", "n": b64url_encode(&[0xff; 256]), "e": "AQAB"},
                {"kty": "RSA", "kid": "big", "n": b64url_encode(&[0xff; 256]), "e": "AQAB"}
            ]})
            .to_string(),
        )
        .unwrap();
        let kids: Vec<_> = keys
            .keys
            .iter()
            .map(|(kid, _)| kid.as_deref().unwrap())
            .collect();
        assert_eq!(kids, ["big"]);
        assert!(KeySet::parse("{}").is_err());
    }
}
