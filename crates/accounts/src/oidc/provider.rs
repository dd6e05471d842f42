//! Talking to the identity provider, and its cache (table
//! `oidc_providers`): the discovery document and the signing keys (JWKS),
//! shared by every instance, refreshed after [`DISCOVERY_MAX_AGE_SECS`] and
//! — the keys — at once when a token names a key id they lack (a rotation).
//!
//! Every call is outbound HTTP with the component's deadline
//! (`service_timeout_ms`, the same as its internal calls) and never with a
//! database connection open: the cache is read, closed, the provider
//! asked, and the answer written with a new connection.

use std::time::Duration;

use mth_shared::db::{self, Db};
use mth_shared::outbound::{Call, CallError, Reply};
use mth_shared::{ApiError, internal};
use serde::Deserialize;
use spin_sdk::pg4::ParameterValue;

use super::jwt::KeySet;
use super::settings::Settings;

/// The discovery document is fetched again after a day.
pub const DISCOVERY_MAX_AGE_SECS: i64 = 24 * 60 * 60;
/// Answers larger than this are refused (a JWKS is a few KiB).
const MAX_ANSWER_BYTES: usize = 512 * 1024;

/// What we use of the discovery document.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

/// The provider, as far as a sign-in needs it.
pub struct Provider {
    pub discovery: Discovery,
    pub keys: KeySet,
    /// Whether `keys` came from the cache (so a missing key id is worth a
    /// fresh fetch) rather than just now.
    keys_cached: bool,
}

/// The provider failed us: 503 for no answer in time or a refused
/// connection, 502 for an answer we cannot use. Either way the person sees
/// which, and that they can try again.
fn provider_error(settings: &Settings, what: &str, error: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        502,
        format!(
            "{} gave an answer that cannot be used ({what}); nobody was signed in. Try again, or ask an admin to check the sign-in settings.",
            settings.provider_name
        ),
    )
    .caused_by(format_args!("OIDC {what}: {error}"))
}

fn unreachable(settings: &Settings, what: &str, error: &CallError) -> ApiError {
    match error {
        CallError::NotSent(_) => ApiError::internal("Internal error.")
            .caused_by(format_args!("OIDC {what}: {error}")),
        CallError::TimedOut(_) | CallError::Failed(_) => ApiError::unavailable(format!(
            "{} did not answer in time or could not be reached ({what}); nobody was signed in. Try again shortly.",
            settings.provider_name
        ))
        .caused_by(format_args!("OIDC {what}: {error}")),
    }
}

/// One exchange with the provider, bounded by the component's deadline.
pub fn call(
    settings: &Settings,
    what: &str,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Reply, ApiError> {
    let timeout: Duration = internal::timeout()?;
    let reply = Call {
        method,
        url,
        headers,
        body,
        timeout,
    }
    .send()
    .map_err(|e| unreachable(settings, what, &e))?;
    if reply.body.len() > MAX_ANSWER_BYTES {
        return Err(provider_error(settings, what, "the answer is too large"));
    }
    Ok(reply)
}

fn get_json(settings: &Settings, what: &str, url: &str) -> Result<String, ApiError> {
    let reply = call(
        settings,
        what,
        "GET",
        url,
        &[("accept", "application/json")],
        &[],
    )?;
    if reply.status != 200 {
        return Err(provider_error(
            settings,
            what,
            format_args!("HTTP {}", reply.status),
        ));
    }
    String::from_utf8(reply.body).map_err(|e| provider_error(settings, what, e))
}

struct Cached {
    discovery: String,
    jwks: String,
    fresh: bool,
}

mth_shared::from_row!(Cached {
    discovery,
    jwks,
    fresh
});

fn read_cache(issuer: &str) -> Result<Option<Cached>, ApiError> {
    let db = Db::connect()?;
    let rows = db.query(
        concat!(
            "SELECT discovery, jwks, fetched_at > ",
            now!(),
            " - make_interval(secs => $2) AS fresh FROM oidc_providers WHERE issuer = $1"
        ),
        &[
            issuer.to_owned().into(),
            ParameterValue::Floating64(DISCOVERY_MAX_AGE_SECS as f64),
        ],
    )?;
    db::first::<Cached>(rows)
}

fn parse_discovery(settings: &Settings, json: &str) -> Result<Discovery, ApiError> {
    let discovery: Discovery = serde_json::from_str(json)
        .map_err(|e| provider_error(settings, "discovery document", e))?;
    // OIDC Discovery 4.3: the document must name exactly the issuer asked.
    if discovery.issuer != settings.issuer {
        return Err(provider_error(
            settings,
            "discovery document",
            format_args!(
                "it names issuer {:?}, not {:?}",
                discovery.issuer, settings.issuer
            ),
        ));
    }
    Ok(discovery)
}

fn parse_keys(settings: &Settings, json: &str) -> Result<KeySet, ApiError> {
    KeySet::parse(json).map_err(|e| provider_error(settings, "signing keys", e))
}

/// The provider's discovery document and keys: from the cache while it is
/// fresh, else fetched (and cached).
pub fn load(settings: &Settings) -> Result<Provider, ApiError> {
    if let Some(cached) = read_cache(&settings.issuer)?.filter(|c| c.fresh)
        && let (Ok(discovery), Ok(keys)) = (
            parse_discovery(settings, &cached.discovery),
            parse_keys(settings, &cached.jwks),
        )
    {
        return Ok(Provider {
            discovery,
            keys,
            keys_cached: true,
        });
    }
    let document = get_json(settings, "discovery document", &settings.discovery_url())?;
    let discovery = parse_discovery(settings, &document)?;
    let jwks = get_json(settings, "signing keys", &discovery.jwks_uri)?;
    let keys = parse_keys(settings, &jwks)?;
    Db::connect()?.execute(
        concat!(
            "INSERT INTO oidc_providers (issuer, discovery, jwks, fetched_at, jwks_fetched_at) \
             VALUES ($1, $2, $3, ",
            now!(),
            ", ",
            now!(),
            ") ON CONFLICT (issuer) DO UPDATE SET discovery = EXCLUDED.discovery, \
             jwks = EXCLUDED.jwks, fetched_at = EXCLUDED.fetched_at, \
             jwks_fetched_at = EXCLUDED.jwks_fetched_at"
        ),
        &[settings.issuer.clone().into(), document.into(), jwks.into()],
    )?;
    Ok(Provider {
        discovery,
        keys,
        keys_cached: false,
    })
}

impl Provider {
    /// The keys again, fetched now, when they came from the cache: the
    /// provider rotated its keys since. Returns whether they were fetched.
    pub fn refresh_keys(&mut self, settings: &Settings) -> Result<bool, ApiError> {
        if !self.keys_cached {
            return Ok(false);
        }
        let jwks = get_json(settings, "signing keys", &self.discovery.jwks_uri)?;
        self.keys = parse_keys(settings, &jwks)?;
        self.keys_cached = false;
        Db::connect()?.execute(
            concat!(
                "UPDATE oidc_providers SET jwks = $2, jwks_fetched_at = ",
                now!(),
                " WHERE issuer = $1"
            ),
            &[settings.issuer.clone().into(), jwks.into()],
        )?;
        Ok(true)
    }
}

/// The end-session endpoint the cache knows, without asking the provider
/// (sign-out must not wait on it).
pub fn cached_end_session(settings: &Settings) -> Result<Option<String>, ApiError> {
    Ok(read_cache(&settings.issuer)?
        .and_then(|cached| parse_discovery(settings, &cached.discovery).ok())
        .and_then(|discovery| discovery.end_session_endpoint))
}

#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Exchanges an authorization code (with its PKCE verifier) for the ID
/// token, authenticating as the client: HTTP Basic, unless the provider
/// lists only `client_secret_post`.
pub fn exchange_code(
    settings: &Settings,
    discovery: &Discovery,
    code: &str,
    code_verifier: &str,
    redirect_uri: &str,
) -> Result<String, ApiError> {
    let basic = discovery
        .token_endpoint_auth_methods_supported
        .as_ref()
        .is_none_or(|methods| methods.iter().any(|m| m == "client_secret_basic"));
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("code_verifier", code_verifier);
    let mut authorization = String::new();
    if basic {
        // RFC 6749 2.3.1: id and secret are form-encoded before Basic.
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let pair = format!(
            "{}:{}",
            encode(&settings.client_id),
            encode(&settings.client_secret)
        );
        use base64::Engine;
        authorization = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        );
    } else {
        form.append_pair("client_id", &settings.client_id)
            .append_pair("client_secret", &settings.client_secret);
    }
    let body = form.finish();
    let mut headers = vec![
        ("content-type", "application/x-www-form-urlencoded"),
        ("accept", "application/json"),
    ];
    if basic {
        headers.push(("authorization", authorization.as_str()));
    }
    let what = "token endpoint";
    let reply = call(
        settings,
        what,
        "POST",
        &discovery.token_endpoint,
        &headers,
        body.as_bytes(),
    )?;
    let answer: TokenAnswer = serde_json::from_slice(&reply.body)
        .map_err(|e| provider_error(settings, what, format_args!("HTTP {}: {e}", reply.status)))?;
    match (reply.status, answer.id_token) {
        (200, Some(id_token)) => Ok(id_token),
        (200, None) => Err(provider_error(settings, what, "no id_token in the answer")),
        (status, _) => Err(ApiError::new(
            401,
            format!(
                "{} refused to complete the sign-in ({}); nobody was signed in. Start again.",
                settings.provider_name,
                answer.error.as_deref().unwrap_or("no reason given")
            ),
        )
        .caused_by(format_args!(
            "OIDC token endpoint HTTP {status}: {:?} {:?}",
            answer.error, answer.error_description
        ))),
    }
}
