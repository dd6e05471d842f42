//! The first admin, from the `ui_username` / `ui_password` variables: while
//! no active admin has a password, signing in with them makes that person
//! (created if need be) an admin with that password. Once an admin exists
//! the variables sign nobody in; should every admin be lost, they bring one
//! back.
//!
//! Ownership: `users` is user-service's table, and this is the one
//! statement outside user-service that writes it — on purpose, behind this
//! one function. Signing in must not depend on user-service being up (the
//! gateway's "a service is down" answers need a session first), and the
//! person and their password must appear together: one statement here
//! does both, atomically, and only while no active admin has a password.
//! The alternative, creating the person through user-service's API and then
//! the password here, would make a fresh install's first sign-in fail
//! whenever user-service is unreachable, and could leave an admin without
//! a password between the two steps.

use mth_shared::auth::secrets_equal;
use mth_shared::db::{self, Db};
use mth_shared::{ApiError, config, token};

use crate::{email, password};

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

/// Whether `typed_email` is the first admin's (`ui_username`): that
/// account keeps password sign-in when it is turned off for everyone else,
/// so that an admin can always get in (recovery).
pub fn is_first_admin(typed_email: &str) -> Result<bool, ApiError> {
    let username = config::var("ui_username")?;
    Ok(typed_email.trim().to_lowercase() == username.trim().to_lowercase())
}

/// Makes `email` the first admin if these are the variables' credentials
/// and no active admin has a password; otherwise does nothing.
pub fn first_admin(typed_email: &str, given_password: &str) -> Result<(), ApiError> {
    let username = config::var("ui_username")?;
    let ui_password = config::var("ui_password")?;
    // Compared as digests, in constant time, so timing tells nothing.
    let same = |a: &str, b: &str| {
        secrets_equal(
            &token::digest(a).into_bytes(),
            &token::digest(b).into_bytes(),
        )
    };
    let matches = same(
        &typed_email.trim().to_lowercase(),
        &username.trim().to_lowercase(),
    ) & same(given_password, &ui_password);
    if !matches || ui_password.is_empty() || admin_exists(&Db::connect()?)? {
        return Ok(());
    }
    let password = password::NewPassword::parse(given_password)
        .map_err(|m| ApiError::internal(format!("Server misconfigured: ui_password {m}.")))?;
    let hash = password::hash(&password)?;
    let sql = format!(
        "WITH promoted AS (UPDATE users u SET access = 'admin', active = true \
           WHERE {same} RETURNING id), \
         created AS (INSERT INTO users (email, full_name, role, access) \
           SELECT trim($1), 'Administrator', 'admin', 'admin' \
           WHERE NOT EXISTS (SELECT 1 FROM promoted) RETURNING id) \
         INSERT INTO credentials (user_id, password_hash) \
         SELECT id, $2 FROM promoted UNION ALL SELECT id, $2 FROM created \
         ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, \
           updated_at = {now}",
        same = email::same_sql("u.email", 1),
        now = now!(),
    );
    Db::connect()?.execute(&sql, &[typed_email.to_owned().into(), hash.into()])?;
    Ok(())
}
