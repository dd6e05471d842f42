//! A person's own account: setting a password with a one-time link
//! (invitation or recovery), changing it, and personal API tokens.

use mth_shared::body::{Blank, JsonObject, Lines, boolean, bounded_text, string};
use mth_shared::db::Db;
use mth_shared::{ApiError, token};
use uuid::Uuid;

use crate::api_tokens::{self, ApiToken};
use crate::password::{self, NewPassword};
use crate::sessions::Session;
use crate::signin::{self, Browser, SignedIn};
use crate::throttle::{self, Key};
use crate::{client, credentials, housekeeping, invitations};

fn new_password(raw: &serde_json::Value) -> Result<NewPassword, String> {
    NewPassword::parse(&string(raw)?)
}

fn link_gone() -> ApiError {
    ApiError::new(
        410,
        "This link no longer works: it was used, it expired (links last 72 hours), or a newer one was sent. Ask an admin for a new link.",
    )
}

fn deactivated() -> ApiError {
    ApiError::new(
        403,
        "This account is deactivated. Ask an admin to reactivate it.",
    )
}

/// Sets a password with a one-time link: the link is used up, every
/// session and personal token of the person ends (a recovery must lock
/// out whoever had the account), and this browser is signed in. Throttled
/// per client address: a bad link counts as a failure.
pub fn set_with_link(browser: &Browser<'_>) -> Result<SignedIn, ApiError> {
    // A password that could not be used to sign in is not set either.
    if !crate::oidc::settings::password_sign_in()? {
        return Err(signin::password_sign_in_off()?);
    }
    let mut body = JsonObject::from_request(browser.req)?;
    let link = body.required("token", string);
    let password = body.required("password", new_password);
    let (link, password) = body.finish(|| Some((link?, password?)))?;
    let digest = token::digest(link.trim());
    let keys: Vec<Key> = client::address(browser.req)?
        .map(|ip| Key::Client(client::key(ip)))
        .into_iter()
        .collect();
    {
        let db = Db::connect()?;
        if !keys.is_empty() {
            throttle::attempt(&db, &keys, "attempts with password links")?;
        }
        // A cheap look first, so a bad link costs no hashing; the write
        // checks again, atomically.
        if !invitations::is_live(&db, &digest)? {
            return Err(link_gone());
        }
    }
    let hash = password::hash(&password)?;
    let db = Db::connect()?;
    let user_id = credentials::set_with_link(&db, digest, hash)?.ok_or_else(link_gone)?;
    if !keys.is_empty() {
        throttle::succeeded(&db, &keys)?;
    }
    housekeeping::run_if_due_quietly(&db);
    signin::start(&db, user_id, None, browser)?.ok_or_else(deactivated)
}

/// Changes the signed-in person's password; their other sessions end, and
/// with `revoke_tokens: true` their personal tokens too.
pub fn change(browser: &Browser<'_>, session: &Session) -> Result<SignedIn, ApiError> {
    let mut body = JsonObject::from_request(browser.req)?;
    let current = body.required("current_password", string);
    let new = body.required("new_password", new_password);
    let revoke_tokens = body.optional("revoke_tokens", boolean);
    let (current, new) = body.finish(|| Some((current?, new?)))?;
    if !signin::confirm_password(browser, session, &current)? {
        return Err(ApiError::invalid(
            "current_password",
            "is not your current password",
        ));
    }
    let hash = password::hash(&new)?;
    let db = Db::connect()?;
    credentials::change(&db, session.user_id(), hash, revoke_tokens.unwrap_or(false))?;
    let device = browser.device()?;
    signin::start(&db, session.user_id(), device.as_ref(), browser)?.ok_or_else(deactivated)
}

/// The person's live tokens, newest first.
pub fn tokens(session: &Session) -> Result<Vec<ApiToken>, ApiError> {
    api_tokens::list(&Db::connect()?, session.user_id())
}

fn token_name(raw: &serde_json::Value) -> Result<String, String> {
    let name = string(raw)?;
    let name = name.trim();
    bounded_text(name, 100, Lines::Single, Blank::Refused).map(|()| name.to_owned())
}

fn days(raw: &serde_json::Value) -> Result<i32, String> {
    raw.as_i64()
        .filter(|d| (1..=i64::from(api_tokens::MAX_DAYS)).contains(d))
        .map(|d| d as i32)
        .ok_or_else(|| {
            format!(
                "must be a whole number of days from 1 to {}",
                api_tokens::MAX_DAYS
            )
        })
}

/// A new token, made only with the person's password (a session alone —
/// a borrowed laptop, a stolen cookie — cannot mint a lasting credential).
pub fn create_token(browser: &Browser<'_>, session: &Session) -> Result<ApiToken, ApiError> {
    let mut body = JsonObject::from_request(browser.req)?;
    let name = body.required("name", token_name);
    let days = body.optional("expires_in_days", days);
    let password = body.optional("password", string);
    let name = body.finish(|| name)?;
    let Some(password) = password else {
        return Err(ApiError::forbidden(
            "Creating a token needs your password: send it as 'password'.",
        ));
    };
    if !signin::confirm_password(browser, session, &password)? {
        return Err(ApiError::forbidden(
            "That is not your password, so no token was created.",
        ));
    }
    api_tokens::create(
        &Db::connect()?,
        session.user_id(),
        name,
        days.unwrap_or(api_tokens::DEFAULT_DAYS),
    )
}

/// Revokes one of the person's own tokens at once.
pub fn revoke_token(session: &Session, id: Uuid) -> Result<(), ApiError> {
    if api_tokens::revoke(&Db::connect()?, session.user_id(), id)? {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "You have no token with id {id}."
        )))
    }
}
