//! Browser sessions (table `sessions`), kept in Postgres so that every
//! instance and pod shares them, they survive restarts, and they can be
//! ended at once.
//!
//! The cookie holds a random token; the table holds its digest, the person,
//! and two limits: idle (from the last request) and absolute.

use mth_shared::db::{self, Db};
use mth_shared::time::Timestamp;
use mth_shared::{ApiError, token};
use spin_sdk::pg4::ParameterValue;
use uuid::Uuid;

use crate::actor::{Access, Actor};

use crate::policy;

pub const COOKIE: &str = "mth_session";
/// Over HTTPS: `__Host-` makes the browser keep it only as set by this
/// host, `Secure`, `Path=/` and without `Domain`, so no sibling subdomain
/// can plant or overwrite it.
pub const SECURE_COOKIE: &str = "__Host-mth_session";
/// A session ends this long after it began, however active.
pub const ABSOLUTE_SECS: i64 = 7 * 24 * 60 * 60;
/// A session ends after this long without a request.
pub const IDLE_SECS: i64 = 8 * 60 * 60;

/// A signed-in person, as their session says.
#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    pub email: String,
    pub full_name: String,
    pub expires_at: Timestamp,
}

impl Session {
    pub fn user_id(&self) -> Uuid {
        self.actor.person_id().unwrap_or_default()
    }

    /// What `GET /auth/session` (and sign-in) answers: who, until when, and
    /// what they may do (from the policy, so the UI derives nothing).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "user": {
                "id": self.user_id(),
                "email": self.email,
                "full_name": self.full_name,
                "access": self.actor.access(),
            },
            "expires_at": self.expires_at,
            "can": policy::can(&self.actor),
        })
    }
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
            actor: Actor::person(r.id, r.access),
            email: r.email,
            full_name: r.full_name,
            expires_at: r.expires_at,
        }
    }
}

/// Starts a session for an active user; returns the cookie value and the
/// session, or `None` if the user is not (or no longer) active. Their
/// sessions that have ended are deleted on the way.
pub fn start(db: &Db, user_id: Uuid) -> Result<Option<(String, Session)>, ApiError> {
    let value = token::generate("")?;
    let rows = db.query(
        concat!(
            "WITH pruned AS (DELETE FROM sessions WHERE user_id = $2 AND (expires_at <= ",
            now!(),
            " OR last_seen_at <= ",
            now!(),
            " - make_interval(secs => $4))), \
             s AS (INSERT INTO sessions (token_hash, user_id, expires_at) \
               SELECT $1, id, ",
            now!(),
            " + make_interval(secs => $3) \
               FROM users WHERE id = $2 AND active RETURNING user_id, expires_at) \
             SELECT u.id, u.email, u.full_name, u.access, s.expires_at \
             FROM s JOIN users u ON u.id = s.user_id"
        ),
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
///
/// The move never waits for the row (`SKIP LOCKED`): a transaction that
/// holds it — an import handing the importer's sign-in to the file's person
/// holds it until it commits, minutes for a large file — would otherwise
/// hold up every call of that person's, and then answer with the person
/// they were before. A move left out is made by the next call.
pub fn find(db: &Db, value: &str) -> Result<Option<Session>, ApiError> {
    let rows = db.query(
        &format!(
            concat!(
                "WITH live AS ( \
                   SELECT u.id, u.email, u.full_name, u.access, s.expires_at, s.last_seen_at {live}), \
                 touched AS (UPDATE sessions SET last_seen_at = ",
                now!(),
                " WHERE token_hash = (SELECT token_hash FROM sessions WHERE token_hash = $1 \
                   AND last_seen_at < ",
                now!(),
                " - interval '1 minute' FOR UPDATE SKIP LOCKED) AND EXISTS (SELECT 1 FROM live)) \
                 SELECT id, email, full_name, access, expires_at FROM live"
            ),
            live = live_rows(1)
        ),
        &live_params(value),
    )?;
    Ok(db::first::<SessionRow>(rows)?.map(Session::from))
}

/// For a statement about something else that must run only for a live
/// session — the change feed's poll, one statement a second per open page:
/// SQL that is true when the session a cookie value names is live, as
/// [`find`] judges it, but without moving its idle clock (a page asking by
/// itself is not its person's doing, and an open tab must not keep a session
/// from idling out). Its parameters, `$n` and `$n+1`, are [`live_params`].
pub fn live_sql(n: usize) -> String {
    format!("EXISTS (SELECT 1 {})", live_rows(n))
}

/// `FROM … WHERE …`: the live session a cookie value names, joined to its
/// person, as [`find`] judges it; parameters as [`live_sql`]'s.
fn live_rows(n: usize) -> String {
    format!(
        concat!(
            "FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = ${digest} AND u.active AND s.expires_at > ",
            now!(),
            " AND s.last_seen_at > ",
            now!(),
            " - make_interval(secs => ${idle})"
        ),
        digest = n,
        idle = n + 1
    )
}

/// Whose live session a cookie value names, like [`live_sql`] without
/// moving the idle clock: what a change feed stream needs to know which
/// changes to people concern its own session (`None`: not live).
pub fn person_of(db: &Db, value: &str) -> Result<Option<Uuid>, ApiError> {
    struct Person {
        id: Uuid,
    }
    mth_shared::from_row!(Person { id });
    let rows = db.query(
        &format!("SELECT u.id {}", live_rows(1)),
        &live_params(value),
    )?;
    Ok(db::first::<Person>(rows)?.map(|p| p.id))
}

/// SQL for how many statements have ended sessions so far (migration
/// 0018_sessions_ended): a count that only grows. Read in the same
/// statement as a check of one session, it tells later whether any session
/// may have ended since: what lets an open board follow the change feed
/// without checking its session on every read.
pub const ENDED_COUNT_SQL: &str = "(SELECT count FROM sessions_ended)";

/// The parameters of [`live_sql`] for a cookie value.
pub fn live_params(value: &str) -> [ParameterValue; 2] {
    [
        token::digest(value).into(),
        ParameterValue::Floating64(IDLE_SECS as f64),
    ]
}

/// Ends the session a cookie value names (sign-out).
pub fn end(db: &Db, value: &str) -> Result<(), ApiError> {
    db.execute(
        "DELETE FROM sessions WHERE token_hash = $1",
        &[token::digest(value).into()],
    )?;
    Ok(())
}

/// Ends every session of a person (a password change or reset, a
/// deactivation).
pub fn end_all(db: &Db, user_id: Uuid) -> Result<(), ApiError> {
    db.execute("DELETE FROM sessions WHERE user_id = $1", &[user_id.into()])?;
    Ok(())
}

/// SQL that ends the sessions of the people `users` selects (a
/// `user_id` column), for statements that change what lets them in.
pub(crate) fn end_all_sql(users: &str) -> String {
    format!("DELETE FROM sessions WHERE user_id IN ({users})")
}

/// Housekeeping: sessions past their end or idle limit.
pub(crate) fn delete_ended(db: &Db) -> Result<u64, ApiError> {
    Ok(db.execute(
        concat!(
            "DELETE FROM sessions WHERE expires_at <= ",
            now!(),
            " OR last_seen_at <= ",
            now!(),
            " - make_interval(secs => $1)"
        ),
        &[ParameterValue::Floating64(IDLE_SECS as f64)],
    )?)
}

/// The cookie's name: `__Host-` prefixed over HTTPS.
pub fn cookie_name(https: bool) -> &'static str {
    if https { SECURE_COOKIE } else { COOKIE }
}

/// The first non-empty value of cookie `name` in a `Cookie` header. Only
/// one is ever looked up: a request stuffed with thousands of session
/// cookies costs what a request with one does.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        let value = value.trim().trim_matches('"');
        (key.trim() == name && !value.is_empty()).then_some(value)
    })
}

/// `Set-Cookie` for a cookie of ours (`HttpOnly`, `SameSite=Strict`,
/// `Path=/`, `Secure` over HTTPS).
pub fn set_cookie(name: &str, value: &str, max_age: i64, https: bool) -> String {
    cookie_with(name, value, max_age, https, "Strict")
}

/// [`set_cookie`] with `SameSite=Lax`: for the one cookie that must come
/// back on a cross-site navigation (the identity provider's redirect back
/// to us, see [`crate::oidc::STATE_COOKIE`]).
pub fn set_lax_cookie(name: &str, value: &str, max_age: i64, https: bool) -> String {
    cookie_with(name, value, max_age, https, "Lax")
}

fn cookie_with(name: &str, value: &str, max_age: i64, https: bool, same_site: &str) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}")
}

/// `Set-Cookie` for a new session, kept by the browser until its absolute end.
pub fn session_cookie(value: &str, https: bool) -> String {
    set_cookie(cookie_name(https), value, ABSOLUTE_SECS, https)
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(https: bool) -> String {
    set_cookie(cookie_name(https), "", 0, https)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_strict_and_host_prefixed_over_https() {
        let c = session_cookie("abc", true);
        assert!(c.starts_with("__Host-mth_session=abc; Path=/; HttpOnly; SameSite=Strict"));
        assert!(c.contains(&format!("Max-Age={ABSOLUTE_SECS}")) && c.ends_with("; Secure"));
        let plain = session_cookie("abc", false);
        assert!(plain.starts_with("mth_session=abc;") && !plain.contains("Secure"));
        assert!(
            clear_cookie(false).contains("mth_session=; ")
                && clear_cookie(false).contains("Max-Age=0")
        );
    }

    #[test]
    fn only_the_first_value_of_the_cookie_is_taken() {
        let header = "a=1; mth_session=; mth_session=\"x\"; b=2; mth_session=y";
        assert_eq!(cookie_value(header, COOKIE), Some("x"));
        assert_eq!(cookie_value("a=1", COOKIE), None);
        assert_eq!(cookie_value(header, SECURE_COOKIE), None);
    }
}
