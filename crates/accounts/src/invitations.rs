//! One-time set-password links (table `invitations`): an invitation, or an
//! account recovery. Valid 72 hours, once, and only the person's newest.

use mth_shared::db::{self, Db};
use mth_shared::time::Timestamp;
use mth_shared::{ApiError, token};
use spin_sdk::pg4::ParameterValue;
use uuid::Uuid;

use crate::actor::Actor;

/// A new link: the token (shown once, in the path) and when it expires.
pub struct Link {
    pub token: String,
    pub expires_at: Timestamp,
}

struct Invited {
    expires_at: Timestamp,
}

mth_shared::from_row!(Invited { expires_at });

/// A link for an active user; any unused earlier link of theirs stops
/// working. `None` when there is no such active user.
pub fn create(db: &Db, user_id: Uuid, by: &Actor) -> Result<Option<Link>, ApiError> {
    let token = token::generate("")?;
    let rows = db.query(
        concat!(
            "WITH target AS (SELECT id FROM users WHERE id = $1 AND active), \
                  replaced AS (DELETE FROM invitations WHERE user_id = $1 AND used_at IS NULL \
                    AND EXISTS (SELECT 1 FROM target)) \
             INSERT INTO invitations (token_hash, user_id, created_by, expires_at) \
             SELECT $2, id, $3, ",
            now!(),
            " + interval '72 hours' FROM target RETURNING expires_at"
        ),
        &[
            user_id.into(),
            token::digest(&token).into(),
            by.person_id().map_or(ParameterValue::DbNull, Into::into),
        ],
    )?;
    Ok(db::first::<Invited>(rows)?.map(|i| Link {
        token,
        expires_at: i.expires_at,
    }))
}

struct Live {
    #[allow(dead_code)] // read only to know that a row came back
    user_id: Uuid,
}

mth_shared::from_row!(Live { user_id });

/// Whether a link (its digest) can still be used: a cheap read, so a bad
/// link costs no password hashing. The write checks again, atomically.
pub fn is_live(db: &Db, digest: &str) -> Result<bool, ApiError> {
    let rows = db.query(
        concat!(
            "SELECT user_id FROM invitations WHERE token_hash = $1 AND used_at IS NULL AND expires_at > ",
            now!()
        ),
        &[digest.to_owned().into()],
    )?;
    Ok(db::first::<Live>(rows)?.is_some())
}

/// SQL that uses up the live link whose digest is `$param`, returning its
/// `user_id` (for the statement that sets the password with it).
pub(crate) fn use_sql(param: usize) -> String {
    format!(
        "UPDATE invitations SET used_at = {now} WHERE token_hash = ${param} \
         AND used_at IS NULL AND expires_at > {now} RETURNING user_id",
        now = now!()
    )
}

/// Housekeeping: links used or expired more than a day ago (a person who
/// clicks a spent link meanwhile still hears "used or expired").
pub(crate) fn delete_spent(db: &Db) -> Result<u64, ApiError> {
    crate::delete_ended_a_day_ago(db, "invitations", &["used_at", "expires_at"])
}
