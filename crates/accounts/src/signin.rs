//! Signing in, and checking a signed-in person's password again: both are
//! password guesses, so both go through the same throttle.

use mth_shared::body::{JsonObject, string};
use mth_shared::db::Db;
use mth_shared::{ApiError, request};
use spin_sdk::http::Request;
use uuid::Uuid;

use crate::device::{self, Device};
use crate::sessions::{self, Session};
use crate::throttle::{self, Key};
use crate::{bootstrap, client, credentials, housekeeping, oidc, password};

/// The browser a request comes from: its cookies, and whether it came over
/// HTTPS (which names the cookies `__Host-…`).
pub struct Browser<'a> {
    pub req: &'a Request,
    pub https: bool,
}

impl<'a> Browser<'a> {
    pub(crate) fn cookie(&self, plain: &str, secure: &str) -> Option<&'a str> {
        let name = if self.https { secure } else { plain };
        sessions::cookie_value(request::header(self.req, "cookie")?, name)
    }

    /// The session cookie's value (the first, if several were sent).
    pub fn session_value(&self) -> Option<&'a str> {
        self.cookie(sessions::COOKIE, sessions::SECURE_COOKIE)
    }

    /// The browser's device cookie, if it carries one we signed.
    pub fn device(&self) -> Result<Option<Device>, ApiError> {
        device::from_cookie(self.cookie(device::COOKIE, device::SECURE_COOKIE))
    }

    /// The live session this browser's cookie names, else 401.
    pub fn session(&self) -> Result<Session, ApiError> {
        let value = self.session_value().ok_or_else(signed_out)?;
        sessions::find(&Db::connect()?, value)?.ok_or_else(signed_out)
    }

    /// `Set-Cookie` values that sign this browser in.
    pub fn cookies(&self, signed_in: &SignedIn) -> [String; 2] {
        [
            sessions::session_cookie(&signed_in.session_value, self.https),
            sessions::set_cookie(
                if self.https {
                    device::SECURE_COOKIE
                } else {
                    device::COOKIE
                },
                &signed_in.device_value,
                device::MAX_AGE_SECS,
                self.https,
            ),
        ]
    }
}

pub fn signed_out() -> ApiError {
    ApiError::new(
        401,
        "You are not signed in, or your session has ended. Please sign in.",
    )
}

/// A browser just signed in: its session and its device cookie values.
pub struct SignedIn {
    pub session: Session,
    pub session_value: String,
    pub device_value: String,
}

/// Starts a session and keeps (or issues) the browser's device cookie.
pub(crate) fn start(
    db: &Db,
    user_id: Uuid,
    device: Option<&Device>,
    browser: &Browser<'_>,
) -> Result<Option<SignedIn>, ApiError> {
    let Some((session_value, session)) = sessions::start(db, user_id)? else {
        return Ok(None);
    };
    let kept = device
        .filter(|d| d.user_id == user_id)
        .and_then(|_| browser.cookie(device::COOKIE, device::SECURE_COOKIE));
    let device_value = match kept {
        Some(value) => value.to_owned(),
        None => device::issue(user_id)?,
    };
    Ok(Some(SignedIn {
        session,
        session_value,
        device_value,
    }))
}

/// What an attempt at `user`'s password counts against: a browser that
/// signed in as them before counts only against itself; any other against
/// the email and the client address.
fn keys(
    db: &Db,
    req: &Request,
    typed_email: &str,
    user: Option<Uuid>,
    device: Option<&Device>,
) -> Result<Vec<Key>, ApiError> {
    if let (Some(device), Some(user)) = (device, user)
        && device.user_id == user
    {
        return Ok(vec![Key::Device(device.throttle_key())]);
    }
    let mut keys = vec![throttle::email_key(db, typed_email)?];
    if let Some(ip) = client::address(req)? {
        keys.push(Key::Client(client::key(ip)));
    }
    Ok(keys)
}

/// The answer to a password sign-in while only the provider signs people in.
pub fn password_sign_in_off() -> Result<ApiError, ApiError> {
    let provider = oidc::Settings::load()?.map(|s| s.provider_name);
    Ok(ApiError::forbidden(format!(
        "Password sign-in is turned off here: sign in with {}.",
        provider.as_deref().unwrap_or("your identity provider")
    )))
}

fn incorrect() -> ApiError {
    ApiError::new(401, "Incorrect email or password.")
}

/// Checks the credentials and starts a session. Unknown emails, people
/// without a password and deactivated people get the same answer, in about
/// the same time, as a wrong password.
pub fn sign_in(browser: &Browser<'_>) -> Result<SignedIn, ApiError> {
    let mut body = JsonObject::from_request(browser.req)?;
    let email = body.required("email", string);
    let password = body.required("password", string);
    let (email, password) = body.finish(|| Some((email?, password?)))?;
    let device = browser.device()?;
    if !oidc::settings::password_sign_in()? && !bootstrap::is_first_admin(&email)? {
        return Err(password_sign_in_off()?);
    }
    bootstrap::first_admin(&email, &password)?;

    let (account, keys) = {
        let db = Db::connect()?;
        let account = credentials::by_email(&db, &email)?;
        let keys = keys(
            &db,
            browser.req,
            &email,
            account.as_ref().map(|a| a.id),
            device.as_ref(),
        )?;
        // Counted before the hash: guesses sent together queue on the
        // counter's row, not behind the hashing.
        throttle::attempt(&db, &keys, "sign-ins")?;
        (account, keys)
    };
    // Hashing takes a while: no connection is held meanwhile.
    let verified = match &account {
        Some(a) => password::verify(&password, &a.password_hash),
        None => {
            password::waste_equal_time(&password);
            false
        }
    };
    let Some(account) = account.filter(|_| verified) else {
        return Err(incorrect());
    };
    let db = Db::connect()?;
    throttle::succeeded(&db, &keys)?;
    housekeeping::run_if_due_quietly(&db);
    start(&db, account.id, device.as_ref(), browser)?.ok_or_else(incorrect)
}

/// Whether `given` is the signed-in person's password, throttled like a
/// sign-in (a stolen session must not be a free password oracle).
pub fn confirm_password(
    browser: &Browser<'_>,
    session: &Session,
    given: &str,
) -> Result<bool, ApiError> {
    let device = browser.device()?;
    let user = session.user_id();
    let (stored, keys) = {
        let db = Db::connect()?;
        let keys = keys(
            &db,
            browser.req,
            &session.email,
            Some(user),
            device.as_ref(),
        )?;
        throttle::attempt(&db, &keys, "password checks")?;
        (credentials::hash_of(&db, user)?, keys)
    };
    let verified = match &stored {
        Some(hash) => password::verify(given, hash),
        None => {
            password::waste_equal_time(given);
            false
        }
    };
    if verified {
        throttle::succeeded(&Db::connect()?, &keys)?;
    }
    Ok(verified)
}
