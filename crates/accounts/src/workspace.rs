//! The people of a workspace export and import (issue 22).
//!
//! task-service runs an export, and an import in one transaction, over all
//! of the workspace's tables; `users` and the sign-in tables are this
//! crate's and user-service's, so their statements are here, next to the
//! ones that already write `users` ([`crate::bootstrap`],
//! [`crate::oidc::identities`]): a person's fields are parsed with the
//! same types ([`crate::person`]), and no other crate writes these tables.
//!
//! An export carries people without secrets (no password hash, session,
//! token or identity-provider link); imported people have no password and
//! sign in through a set-password link from the Team page, or the identity
//! provider.

use chrono::NaiveDateTime;
use mth_shared::ApiError;
use mth_shared::db::{self, Db};
use mth_shared::time::Timestamp;
use serde::Serialize;
use spin_sdk::pg4::ParameterValue;
use uuid::Uuid;

use crate::Access;
use crate::person::{Email, FullName, Role};

/// A person as `users` holds them: what user-service answers (its `User`)
/// and what an export carries.
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub id: Uuid,
    /// Unique among users, compared in NFC and case-folded.
    pub email: String,
    pub full_name: String,
    /// Their job on the team, free text ("member" unless given).
    pub role: String,
    /// What they may do: `admin` or `member`.
    pub access: Access,
    /// `false`: deactivated (cannot sign in; keeps their name on tasks).
    pub active: bool,
    pub created_at: Timestamp,
}

// A users row: each field from its column (the one place rows become people).
mth_shared::from_row!(Person {
    id,
    email,
    full_name,
    role,
    access,
    active,
    created_at,
});

/// Up to `limit` people after `after` (by id): an export reads them a page
/// at a time, so no statement's answer grows with the team.
pub fn people(db: &Db, after: Option<Uuid>, limit: i64) -> Result<Vec<Person>, ApiError> {
    db::all(db.query(
        "SELECT id, email, full_name, role, access, active, created_at FROM users \
         WHERE $1::uuid IS NULL OR id > $1 ORDER BY id LIMIT $2",
        &[
            after.map_or(ParameterValue::DbNull, Into::into),
            limit.into(),
        ],
    )?)
}

/// A person to create, as an import gives them.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub id: Uuid,
    pub email: Email,
    pub full_name: FullName,
    pub role: Role,
    pub access: Access,
    pub active: bool,
    /// `None`: now.
    pub created_at: Option<NaiveDateTime>,
}

/// How many rows one import statement writes.
pub const BATCH: usize = 500;

/// `timestamp` as text Postgres reads back exactly (to the microsecond).
pub fn timestamp_text(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// Strings as a `text[]` parameter.
pub fn texts(values: impl IntoIterator<Item = Option<String>>) -> ParameterValue {
    ParameterValue::ArrayStr(values.into_iter().collect())
}

/// Creates `people` (without passwords), with their ids and times, a batch
/// per statement. Emails taken are the caller's to refuse beforehand; the
/// unique index refuses them anyway (the transaction then rolls back).
pub fn insert(db: &Db, people: &[NewPerson]) -> Result<(), ApiError> {
    for batch in people.chunks(BATCH) {
        let column = |f: &dyn Fn(&NewPerson) -> Option<String>| texts(batch.iter().map(f));
        db.execute(
            "INSERT INTO users (id, email, full_name, role, access, active, created_at) \
             SELECT r.id::uuid, r.email, r.full_name, r.role, r.access, r.active::boolean, \
               COALESCE(r.created_at::timestamp, (now() AT TIME ZONE 'utc')) \
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
               $7::text[]) AS r (id, email, full_name, role, access, active, created_at)",
            &[
                column(&|p| Some(p.id.to_string())),
                column(&|p| Some(p.email.as_str().to_owned())),
                column(&|p| Some(p.full_name.as_str().to_owned())),
                column(&|p| Some(p.role.as_str().to_owned())),
                column(&|p| Some(p.access.as_str().to_owned())),
                column(&|p| Some(p.active.to_string())),
                column(&|p| p.created_at.map(timestamp_text)),
            ],
        )?;
    }
    Ok(())
}

/// The id of the person with this email (compared as the unique index
/// does: trimmed, NFC, case-folded), if there is one.
pub fn with_email(db: &Db, email: &str) -> Result<Option<Uuid>, ApiError> {
    struct Found {
        id: Uuid,
    }
    mth_shared::from_row!(Found { id });
    let sql = format!(
        "SELECT id FROM users u WHERE {}",
        crate::email::same_sql("u.email", 1)
    );
    Ok(db::first::<Found>(db.query(&sql, &[email.to_owned().into()])?)?.map(|f| f.id))
}

/// Person `id`'s email, if there is such a person.
pub fn email_of(db: &Db, id: Uuid) -> Result<Option<String>, ApiError> {
    struct Found {
        email: String,
    }
    mth_shared::from_row!(Found { email });
    let found =
        db::first::<Found>(db.query("SELECT email FROM users WHERE id = $1", &[id.into()])?)?;
    Ok(found.map(|f| f.email))
}

/// Frees person `id`'s email for the person who takes over from them
/// ([`hand_over`]): a placeholder no one can sign in with.
pub fn set_email_aside(db: &Db, id: Uuid) -> Result<(), ApiError> {
    db.execute(
        "UPDATE users SET email = id::text || '@import.invalid' WHERE id = $1",
        &[id.into()],
    )?;
    Ok(())
}

/// Moves everything person `from` signs in with — password, sessions,
/// set-password links, API tokens, identity-provider links — and their
/// saved views to person
/// `to`, makes `to` an active admin and deletes `from`. An import uses it
/// for the admin who imports: the file's person with their email becomes
/// them (the file's id, times and authorship), and they stay signed in.
pub fn hand_over(db: &Db, from: Uuid, to: Uuid) -> Result<(), ApiError> {
    for sql in [
        "UPDATE credentials SET user_id = $2 WHERE user_id = $1",
        "UPDATE sessions SET user_id = $2 WHERE user_id = $1",
        "UPDATE invitations SET user_id = $2 WHERE user_id = $1",
        "UPDATE invitations SET created_by = $2 WHERE created_by = $1",
        "UPDATE api_tokens SET user_id = $2 WHERE user_id = $1",
        "UPDATE oidc_identities SET user_id = $2 WHERE user_id = $1",
        // Their saved views (0014) are theirs still, not deleted with `from`.
        "UPDATE saved_views SET owner_id = $2 WHERE owner_id = $1",
        "UPDATE users SET access = 'admin', active = true WHERE id = $2 AND $1::uuid IS NOT NULL",
        "DELETE FROM users WHERE id = $1 AND $2::uuid IS NOT NULL",
    ] {
        db.execute(sql, &[from.into(), to.into()])?;
    }
    Ok(())
}
