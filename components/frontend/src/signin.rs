//! Signing in with an email and a password, and the first admin.

use mth_shared::auth::secrets_equal;
use mth_shared::body::{JsonObject, string};
use mth_shared::db::{self, Db};
use mth_shared::{ApiError, config, token};
use spin_sdk::http::Request;
use uuid::Uuid;

use crate::session::{self, Session};
use crate::{password, throttle};

/// Emails compare as the users table's unique index does (NFC, case-folded).
const SAME_EMAIL: &str = "lower(normalize(u.email, NFC) COLLATE \"und-x-icu\") \
                          = lower(normalize(trim($1), NFC) COLLATE \"und-x-icu\")";

struct Account {
    id: Uuid,
    password_hash: String,
}

mth_shared::from_row!(Account { id, password_hash });

/// Checks the credentials and starts a session: the cookie value and the
/// session. Unknown emails, people without a password and deactivated
/// people get the same answer, in about the same time, as a wrong password.
pub fn sign_in(req: &Request) -> Result<(String, Session), ApiError> {
    let mut body = JsonObject::from_request(req)?;
    let email = body.required("email", string);
    let password = body.required("password", string);
    let (email, password) = body.finish(|| Some((email?, password?)))?;
    let keys = throttle::Keys::new(req, &email);

    let account = {
        let db = Db::connect()?;
        throttle::check(&db, &keys)?;
        first_admin(&db, &email, &password)?;
        account(&db, &email)?
    };
    // Hashing takes a while: no connection is held meanwhile.
    let verified = match &account {
        Some(a) => password::verify(&password, &a.password_hash),
        None => {
            password::waste_equal_time(&password);
            false
        }
    };
    let db = Db::connect()?;
    let Some(account) = account.filter(|_| verified) else {
        throttle::failed(&db, &keys)?;
        return Err(ApiError::new(401, "Incorrect email or password."));
    };
    throttle::succeeded(&db, &keys)?;
    session::start(&db, account.id)?
        .ok_or_else(|| ApiError::new(401, "Incorrect email or password."))
}

/// The active person with this email and a password, if any.
fn account(db: &Db, email: &str) -> Result<Option<Account>, ApiError> {
    db::first(db.query(
        &format!(
            "SELECT u.id, c.password_hash FROM users u JOIN credentials c ON c.user_id = u.id \
             WHERE {SAME_EMAIL} AND u.active"
        ),
        &[email.to_owned().into()],
    )?)
}

/// The first admin comes from the `ui_username` / `ui_password` variables:
/// while no active admin has a password, signing in with them makes that
/// person (created if need be) an admin with that password. Once an admin
/// exists the variables sign nobody in; should every admin be lost, they
/// bring one back.
fn first_admin(db: &Db, email: &str, given_password: &str) -> Result<(), ApiError> {
    let username = config::var("ui_username")?;
    let ui_password = config::var("ui_password")?;
    let same = |a: &str, b: &str| {
        secrets_equal(
            &token::digest(a).into_bytes(),
            &token::digest(b).into_bytes(),
        )
    };
    let matches = same(
        &email.trim().to_lowercase(),
        &username.trim().to_lowercase(),
    ) & same(given_password, &ui_password);
    if !matches || ui_password.is_empty() || admin_exists(db)? {
        return Ok(());
    }
    let password = password::NewPassword::parse(given_password)
        .map_err(|m| ApiError::internal(format!("Server misconfigured: ui_password {m}.")))?;
    let hash = password::hash(&password)?;
    db.execute(
        &format!(
            "WITH promoted AS (UPDATE users u SET access = 'admin', active = true \
               WHERE {SAME_EMAIL} RETURNING id), \
             created AS (INSERT INTO users (email, full_name, role, access) \
               SELECT trim($1), 'Administrator', 'admin', 'admin' \
               WHERE NOT EXISTS (SELECT 1 FROM promoted) RETURNING id) \
             INSERT INTO credentials (user_id, password_hash) \
             SELECT id, $2 FROM promoted UNION ALL SELECT id, $2 FROM created \
             ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, \
               updated_at = (now() AT TIME ZONE 'utc')"
        ),
        &[email.to_owned().into(), hash.into()],
    )?;
    Ok(())
}

struct Exists {
    exists: bool,
}

mth_shared::from_row!(Exists { exists });

fn admin_exists(db: &Db) -> Result<bool, ApiError> {
    let rows = db.query(
        "SELECT EXISTS (SELECT 1 FROM users u JOIN credentials c ON c.user_id = u.id \
         WHERE u.access = 'admin' AND u.active) AS exists",
        &[],
    )?;
    Ok(db::first::<Exists>(rows)?.is_some_and(|e| e.exists))
}
