//! Signing in with the team's identity provider: OpenID Connect's
//! authorization code flow with PKCE, `state` and `nonce`.
//!
//! 1. [`begin`]: a fresh state, nonce and PKCE verifier are stored
//!    ([`logins`]); the browser gets the state in a cookie of its own and is
//!    sent to the provider's authorization endpoint.
//! 2. [`finish`] (the provider sends the browser back): the state must be
//!    the one this browser's cookie holds and is used up; the code is
//!    exchanged (with the verifier) for an ID token, verified ([`jwt`]:
//!    signature with the provider's published keys, issuer, audience,
//!    expiry, nonce); the person is found by subject, else linked by email,
//!    else created if allowed ([`identities`]); a session starts.
//!
//! The provider is reached only with no database connection open, with the
//! component's deadline ([`provider`]).

pub mod identities;
pub mod jwt;
pub mod logins;
pub mod provider;
pub mod settings;

use std::time::{SystemTime, UNIX_EPOCH};

use mth_shared::ApiError;
use mth_shared::auth::secrets_equal;
use mth_shared::db::Db;
use sha2::{Digest, Sha256};

pub use settings::Settings;

use crate::person::{Email, FullName};
use crate::signin::{self, Browser, SignedIn};
use crate::{housekeeping, sessions};
use identities::{Identity, Resolved};
use jwt::{Expected, Unverified};
use logins::{Login, Taken};

/// The cookie that ties a sign-in to the browser that started it (login
/// CSRF): `SameSite=Lax`, since the provider's redirect back is a
/// cross-site navigation, on which `Strict` cookies are not sent.
pub const STATE_COOKIE: &str = "mth_oidc";
pub const SECURE_STATE_COOKIE: &str = "__Host-mth_oidc";
/// Where the provider sends the browser back (register it there).
pub const CALLBACK_PATH: &str = "/auth/oidc/callback";
/// Asked of the provider: an ID token with the email and the name.
const SCOPES: &str = "openid email profile";

fn not_configured() -> ApiError {
    ApiError::not_found("Sign-in with an identity provider is not configured here.")
}

fn state_cookie_name(https: bool) -> &'static str {
    if https {
        SECURE_STATE_COOKIE
    } else {
        STATE_COOKIE
    }
}

/// What the sign-in page offers: the provider's name, when OIDC is on, and
/// whether the password form is shown.
pub fn methods() -> Result<serde_json::Value, ApiError> {
    let settings = Settings::load()?;
    Ok(serde_json::json!({
        "password": settings::password_sign_in()?,
        "oidc": settings.map(|s| serde_json::json!({
            "name": s.provider_name,
            "start": "/auth/oidc/start",
        })),
    }))
}

/// Where to send the browser, and the state cookie to give it.
pub struct Redirect {
    pub location: String,
    pub state_cookie: String,
}

/// Starts a sign-in: `origin` is this app's as the browser sees it
/// (`https://tasks.example.com`), for the redirect URI.
pub fn begin(browser: &Browser<'_>, origin: &str) -> Result<Redirect, ApiError> {
    let settings = Settings::load()?.ok_or_else(not_configured)?;
    let provider = provider::load(&settings)?;
    let login = Login::new(format!("{origin}{CALLBACK_PATH}"))?;
    logins::store(&Db::connect()?, &login)?;
    let challenge = jwt::b64url_encode(&Sha256::digest(login.code_verifier.as_bytes()));
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &settings.client_id)
        .append_pair("redirect_uri", &login.redirect_uri)
        .append_pair("scope", SCOPES)
        .append_pair("state", &login.state)
        .append_pair("nonce", &login.nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let endpoint = &provider.discovery.authorization_endpoint;
    let separator = if endpoint.contains('?') { '&' } else { '?' };
    Ok(Redirect {
        location: format!("{endpoint}{separator}{query}"),
        state_cookie: sessions::set_lax_cookie(
            state_cookie_name(browser.https),
            &login.state,
            logins::LIFETIME_SECS,
            browser.https,
        ),
    })
}

/// Where the UI may send a person who signed out to end their session at
/// the provider too: its end-session endpoint (from the cached discovery
/// document; sign-out never waits on the provider), or `None`.
pub fn end_session_url() -> Result<Option<String>, ApiError> {
    let Some(settings) = Settings::load()? else {
        return Ok(None);
    };
    Ok(provider::cached_end_session(&settings)?.map(|endpoint| {
        let separator = if endpoint.contains('?') { '&' } else { '?' };
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &settings.client_id)
            .finish();
        format!("{endpoint}{separator}{query}")
    }))
}

/// `Set-Cookie` that removes the state cookie (the callback used it).
pub fn clear_state_cookie(https: bool) -> String {
    sessions::set_lax_cookie(state_cookie_name(https), "", 0, https)
}

/// The callback's query parameters we read (providers add others, such as
/// Keycloak's `session_state`: ignored).
#[derive(Default)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
}

impl CallbackQuery {
    fn parse(query: &str) -> Self {
        let mut parsed = Self::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "code" => &mut parsed.code,
                "state" => &mut parsed.state,
                "error" => &mut parsed.error,
                "error_description" => &mut parsed.error_description,
                "iss" => &mut parsed.iss,
                _ => continue,
            };
            slot.get_or_insert_with(|| value.into_owned());
        }
        parsed
    }
}

fn start_again(why: &str) -> ApiError {
    ApiError::bad_request(format!(
        "{why} Nobody was signed in; start the sign-in again."
    ))
}

fn refused(detail: String) -> ApiError {
    ApiError::forbidden(detail)
}

/// A short, printable excerpt of text the provider chose.
fn excerpt(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Finishes a sign-in from the provider's redirect (`query`: the
/// callback's query string) and signs the browser in.
pub fn finish(browser: &Browser<'_>, query: &str) -> Result<SignedIn, ApiError> {
    let settings = Settings::load()?.ok_or_else(not_configured)?;
    let query = CallbackQuery::parse(query);
    let state = query
        .state
        .as_deref()
        .ok_or_else(|| start_again("The identity provider's answer has no state."))?;
    let cookie = browser.cookie(STATE_COOKIE, SECURE_STATE_COOKIE);
    if !cookie.is_some_and(|c| secrets_equal(c.as_bytes(), state.as_bytes())) {
        return Err(start_again(
            "This sign-in was not started in this browser (or its cookie expired).",
        ));
    }
    let login = match logins::take(&Db::connect()?, state)? {
        Taken::Live(login) => login,
        Taken::Expired => return Err(start_again("This sign-in took too long.")),
        Taken::Gone => {
            return Err(start_again(
                "This sign-in was already completed or is unknown (a state works once).",
            ));
        }
    };
    if let Some(error) = &query.error {
        return Err(ApiError::new(
            401,
            format!(
                "{} did not sign you in: {}{}",
                settings.provider_name,
                excerpt(error),
                query
                    .error_description
                    .as_deref()
                    .map(|d| format!(" ({})", excerpt(d)))
                    .unwrap_or_default()
            ),
        ));
    }
    // RFC 9207: a provider that names itself must be ours (mix-up attacks).
    if query
        .iss
        .as_deref()
        .is_some_and(|iss| iss != settings.issuer)
    {
        return Err(start_again(
            "The answer came from another identity provider.",
        ));
    }
    let code = query
        .code
        .as_deref()
        .ok_or_else(|| start_again("The identity provider's answer has no code."))?;

    let mut provider = provider::load(&settings)?;
    let id_token = provider::exchange_code(
        &settings,
        &provider.discovery,
        code,
        &login.code_verifier,
        &login.redirect_uri,
    )?;
    let token_refused = |e: jwt::TokenError| {
        ApiError::new(
            401,
            format!(
                "The sign-in from {} was refused: its ID token {e}. Nobody was signed in.",
                settings.provider_name
            ),
        )
    };
    let token = Unverified::parse(&id_token).map_err(token_refused)?;
    if !token.has_key_in(&provider.keys) {
        // A key id we have not seen: the provider may have rotated its keys.
        provider.refresh_keys(&settings)?;
    }
    let expected = Expected {
        issuer: &settings.issuer,
        client_id: &settings.client_id,
        nonce: &login.nonce,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let claims = token
        .verify(&provider.keys, &expected, now)
        .map_err(token_refused)?;
    let person = Person::from_claims(&settings, &claims)?;

    let db = Db::connect()?;
    let identity = Identity {
        issuer: &settings.issuer,
        subject: claims.str("sub").unwrap_or_default(),
        email: &person.email,
        full_name: &person.full_name,
    };
    let user_id = match identities::resolve(&db, &identity, settings.create_users)? {
        Resolved::Known(id) | Resolved::Linked(id) | Resolved::Created(id) => id,
        Resolved::Unknown => {
            return Err(refused(format!(
                "There is no account for {} here. Ask an admin to add you.",
                person.email.as_str()
            )));
        }
        Resolved::LinkedToAnother => {
            return Err(refused(format!(
                "The account for {} is linked to another {} identity. Ask an admin.",
                person.email.as_str(),
                settings.provider_name
            )));
        }
        Resolved::Raced => {
            return Err(ApiError::conflict(
                "Your account was being created by another sign-in at the same moment. Sign in again.",
            ));
        }
    };
    if person.admin {
        identities::make_admin(&db, user_id)?;
    }
    housekeeping::run_if_due_quietly(&db);
    let device = browser.device()?;
    signin::start(&db, user_id, device.as_ref(), browser)?.ok_or_else(|| {
        refused("This account is deactivated. Ask an admin to reactivate it.".to_owned())
    })
}

/// Who the verified token says signs in.
struct Person {
    email: Email,
    full_name: FullName,
    admin: bool,
}

impl Person {
    fn from_claims(settings: &Settings, claims: &jwt::Claims) -> Result<Self, ApiError> {
        let name = &settings.provider_name;
        let raw = claims.str(&settings.email_claim).ok_or_else(|| {
            refused(format!(
                "{name} did not send your email (claim '{}'). Ask an admin to check the sign-in settings.",
                settings.email_claim
            ))
        })?;
        // A provider that says the address is unverified is not trusted
        // with it: anyone could have typed it there.
        if claims.bool("email_verified") == Some(false) {
            return Err(refused(format!(
                "{name} has not verified your email {}; verify it there first.",
                excerpt(raw)
            )));
        }
        let email = Email::parse(raw).map_err(|_| {
            refused(format!(
                "{name} sent {:?} as your email, which is not an email address.",
                excerpt(raw)
            ))
        })?;
        if let Some(domain) = &settings.email_domain {
            let in_domain = email
                .as_str()
                .rsplit_once('@')
                .is_some_and(|(_, d)| d.to_lowercase() == *domain);
            if !in_domain {
                return Err(refused(format!(
                    "Only @{domain} accounts may sign in here."
                )));
            }
        }
        let full_name = claims
            .str("name")
            .and_then(|n| FullName::parse(n).ok())
            .or_else(|| FullName::parse(email.as_str()).ok())
            .ok_or_else(|| ApiError::internal("An email is a valid name."))?;
        let admin = settings
            .admin_group
            .as_deref()
            .is_some_and(|group| claims.strings(&settings.groups_claim).contains(&group));
        Ok(Self {
            email,
            full_name,
            admin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_reads_the_first_of_each_known_parameter_and_ignores_others() {
        let q = CallbackQuery::parse(
            "code=c1&state=s%2B1&session_state=x&code=c2&iss=https%3A%2F%2Fid",
        );
        assert_eq!(q.code.as_deref(), Some("c1"));
        assert_eq!(q.state.as_deref(), Some("s+1"));
        assert_eq!(q.iss.as_deref(), Some("https://id"));
        assert!(q.error.is_none());
    }

    #[test]
    fn excerpts_are_short_and_printable() {
        assert_eq!(excerpt("a\nb\u{1b}c"), "abc");
        assert_eq!(excerpt(&"x".repeat(500)).len(), 200);
    }
}
