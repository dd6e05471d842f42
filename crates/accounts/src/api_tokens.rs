//! Personal API tokens (table `api_tokens`): a person's permissions, for
//! programs. Made only with the password (see [`crate::account`]), each
//! with an expiry (default 90 days, at most 365), revoked one by one, all
//! at once by a recovery, or on request by a password change.

use mth_shared::db::{self, Db};
use mth_shared::time::Timestamp;
use mth_shared::{ApiError, token};
use serde::Serialize;
use uuid::Uuid;

use crate::actor::{Access, Actor};

pub const DEFAULT_DAYS: i32 = 90;
pub const MAX_DAYS: i32 = 365;

/// A token as its owner sees it (the secret only at creation).
#[derive(Debug, Serialize)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

mth_shared::from_row!(ApiToken {
    id,
    name,
    created_at,
    last_used_at,
    expires_at
}, token: None);

struct Owner {
    id: Uuid,
    access: Access,
}

mth_shared::from_row!(Owner { id, access });

/// The actor a personal token acts as: its active owner, while the token
/// is neither revoked nor expired. `last_used_at` is written at most once
/// a minute, not on every call. The connection is dropped before the
/// handler runs (see `mth_shared::db::open_connections`).
pub fn owner(given: &str) -> Result<Actor, ApiError> {
    let rows = Db::connect()?.query(
        concat!(
            "WITH owner AS ( \
               SELECT u.id, u.access FROM api_tokens t JOIN users u ON u.id = t.user_id \
               WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > ",
            now!(),
            " AND u.active), \
             touched AS (UPDATE api_tokens SET last_used_at = ",
            now!(),
            " WHERE token_hash = $1 AND EXISTS (SELECT 1 FROM owner) \
                 AND (last_used_at IS NULL OR last_used_at < ",
            now!(),
            " - interval '1 minute')) \
             SELECT id, access FROM owner"
        ),
        &[token::digest(given).into()],
    )?;
    match db::first::<Owner>(rows)? {
        Some(owner) => Ok(Actor::person(owner.id, owner.access)),
        None => Err(ApiError::unauthorized_because(
            "This API token is not valid: it was revoked, it expired, or its owner was deactivated.",
        )),
    }
}

/// The person's tokens that are neither revoked nor expired, newest first.
pub fn list(db: &Db, user_id: Uuid) -> Result<Vec<ApiToken>, ApiError> {
    db::all(db.query(
        concat!(
            "SELECT * FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > ",
            now!(),
            " ORDER BY created_at DESC, id DESC"
        ),
        &[user_id.into()],
    )?)
}

/// A new token, valid `days`; its value is in the answer and nowhere else.
pub fn create(db: &Db, user_id: Uuid, name: String, days: i32) -> Result<ApiToken, ApiError> {
    let value = token::generate(token::API_TOKEN_PREFIX)?;
    let mut created: ApiToken = db::first(db.query(
        concat!(
            "INSERT INTO api_tokens (user_id, name, token_hash, expires_at) \
             VALUES ($1, $2, $3, ",
            now!(),
            " + make_interval(days => $4)) RETURNING *"
        ),
        &[
            user_id.into(),
            name.into(),
            token::digest(&value).into(),
            days.into(),
        ],
    )?)?
    .ok_or_else(|| ApiError::internal("The insert returned no row."))?;
    created.token = Some(value);
    Ok(created)
}

/// Revokes one of the person's own live tokens; `false` if they have no
/// such token.
pub fn revoke(db: &Db, user_id: Uuid, id: Uuid) -> Result<bool, ApiError> {
    let revoked = db.execute(
        concat!(
            "UPDATE api_tokens SET revoked_at = ",
            now!(),
            " WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL"
        ),
        &[id.into(), user_id.into()],
    )?;
    Ok(revoked > 0)
}

/// SQL that revokes every token of the people `users` selects (a
/// `user_id` column), for statements that change a password.
pub(crate) fn revoke_all_sql(users: &str) -> String {
    format!(
        "UPDATE api_tokens SET revoked_at = {} WHERE revoked_at IS NULL AND user_id IN ({users})",
        now!()
    )
}

/// Housekeeping: tokens revoked or expired more than a day ago.
pub(crate) fn delete_dead(db: &Db) -> Result<u64, ApiError> {
    crate::delete_ended_a_day_ago(db, "api_tokens", &["revoked_at", "expires_at"])
}
