//! Browser sessions, kept server-side in Postgres so that every instance and
//! pod shares them, they survive restarts, and they can be revoked.
//!
//! The cookie holds a random token; the `sessions` table holds its digest, the
//! person, and two limits: idle (from the last request) and absolute.

use mth_shared::auth::{Access, Person};
use mth_shared::db::{self, Db};
use mth_shared::time::Timestamp;
use mth_shared::{ApiError, token};
use spin_sdk::pg4::ParameterValue;
use uuid::Uuid;

pub const COOKIE_NAME: &str = "mth_session";
/// A session ends this long after it began, however active.
pub const ABSOLUTE_SECS: i64 = 7 * 24 * 60 * 60;
/// A session ends after this long without a request.
pub const IDLE_SECS: i64 = 8 * 60 * 60;

/// A signed-in person, as the session says.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Session {
    #[serde(skip)]
    pub person: Person,
    pub user: SessionUser,
    pub expires_at: Timestamp,
}

/// Who is signed in, as the browser is told.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionUser {
    pub id: Uuid,
    pub email: String,
    pub full_name: String,
    pub access: Access,
}

struct SessionRow {
    id: Uuid,
    email: String,
    full_name: String,
    access: Access,
    expires_at: Timestamp,
}

mth_shared::from_row!(SessionRow {
    id,
    email,
    full_name,
    access,
    expires_at
});

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            person: Person {
                id: r.id,
                access: r.access,
            },
            user: SessionUser {
                id: r.id,
                email: r.email,
                full_name: r.full_name,
                access: r.access,
            },
            expires_at: r.expires_at,
        }
    }
}

/// Starts a session for an active user; returns the cookie value and the
/// session, or `None` if the user is not (or no longer) active. Their
/// sessions that have ended are deleted on the way, so the table keeps only
/// live ones (and those of people who never come back).
pub fn start(db: &Db, user_id: Uuid) -> Result<Option<(String, Session)>, ApiError> {
    let value = token::generate("")?;
    let rows = db.query(
        "WITH pruned AS (DELETE FROM sessions WHERE user_id = $2 \
           AND (expires_at <= (now() AT TIME ZONE 'utc') \
             OR last_seen_at <= (now() AT TIME ZONE 'utc') - make_interval(secs => $4))), \
         s AS (INSERT INTO sessions (token_hash, user_id, expires_at) \
           SELECT $1, id, (now() AT TIME ZONE 'utc') + make_interval(secs => $3) \
           FROM users WHERE id = $2 AND active RETURNING user_id, expires_at) \
         SELECT u.id, u.email, u.full_name, u.access, s.expires_at FROM s JOIN users u ON u.id = s.user_id",
        &[
            token::digest(&value).into(),
            user_id.into(),
            ParameterValue::Floating64(ABSOLUTE_SECS as f64),
            ParameterValue::Floating64(IDLE_SECS as f64),
        ],
    )?;
    Ok(db::first::<SessionRow>(rows)?.map(|row| (value, row.into())))
}

/// The live session a cookie value names; `None` when it is unknown, ended,
/// idle too long, past its end, or its person was deactivated. Every API
/// call comes through here, so the idle clock is moved (a row write) at most
/// once a minute per session, not on every call.
pub fn find(db: &Db, value: &str) -> Result<Option<Session>, ApiError> {
    let rows = db.query(
        "WITH live AS ( \
           SELECT u.id, u.email, u.full_name, u.access, s.expires_at, s.last_seen_at \
           FROM sessions s JOIN users u ON u.id = s.user_id \
           WHERE s.token_hash = $1 AND u.active \
             AND s.expires_at > (now() AT TIME ZONE 'utc') \
             AND s.last_seen_at > (now() AT TIME ZONE 'utc') - make_interval(secs => $2)), \
         touched AS (UPDATE sessions SET last_seen_at = (now() AT TIME ZONE 'utc') \
           WHERE token_hash = $1 \
             AND last_seen_at < (now() AT TIME ZONE 'utc') - interval '1 minute' \
             AND EXISTS (SELECT 1 FROM live)) \
         SELECT id, email, full_name, access, expires_at FROM live",
        &[
            token::digest(value).into(),
            ParameterValue::Floating64(IDLE_SECS as f64),
        ],
    )?;
    Ok(db::first::<SessionRow>(rows)?.map(Session::from))
}

/// Ends the session a cookie value names (sign-out).
pub fn end(db: &Db, value: &str) -> Result<(), ApiError> {
    db.execute(
        "DELETE FROM sessions WHERE token_hash = $1",
        &[token::digest(value).into()],
    )?;
    Ok(())
}

/// Ends every session of a person (a password change or reset).
pub fn end_all(db: &Db, user_id: Uuid) -> Result<(), ApiError> {
    db.execute("DELETE FROM sessions WHERE user_id = $1", &[user_id.into()])?;
    Ok(())
}

/// Every value of cookie `name` in a `Cookie` header (there may be several).
pub fn cookie_values<'a>(header: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    header.split(';').filter_map(move |pair| {
        let (key, value) = pair.split_once('=')?;
        (key.trim() == name).then(|| value.trim().trim_matches('"'))
    })
}

/// `Set-Cookie` for a new session, kept by the browser until its absolute end.
pub fn set_cookie(value: &str, secure: bool) -> String {
    cookie(value, ABSOLUTE_SECS, secure)
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    cookie("", 0, secure)
}

fn cookie(value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_strict_and_secure_over_https() {
        let c = set_cookie("abc", true);
        assert!(c.starts_with("mth_session=abc; Path=/; HttpOnly; SameSite=Strict"));
        assert!(c.contains(&format!("Max-Age={ABSOLUTE_SECS}")) && c.ends_with("; Secure"));
        assert!(!set_cookie("abc", false).contains("Secure"));
        assert!(
            clear_cookie(false).contains("mth_session=; ")
                && clear_cookie(false).contains("Max-Age=0")
        );
    }

    #[test]
    fn every_value_of_the_cookie_is_found() {
        let values: Vec<_> =
            cookie_values("a=1; mth_session=x; b=2; mth_session=\"y\"", COOKIE_NAME).collect();
        assert_eq!(values, ["x", "y"]);
    }
}
