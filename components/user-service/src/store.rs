//! The users table. One statement per operation, all parameterised.

use mth_shared::ApiError;
use mth_shared::db::{self, Db, Page, PageQuery, constraint, sqlstate};
use mth_shared::query;
use mth_shared::time::Timestamp;
use spin_sdk::pg4::ParameterValue;
use uuid::Uuid;

use crate::domain::{NewUser, User, UserPatch};

const EMAIL_KEY: &str = "users_email_key";

pub fn email_taken(email: &str) -> ApiError {
    ApiError::conflict(format!("A user with the email '{email}' already exists."))
}

/// Inserts a user; a taken email is an outcome (`ON CONFLICT DO NOTHING`
/// returns no row), not an error whose wording differs between hosts.
pub fn insert(db: &Db, new: &NewUser) -> Result<User, ApiError> {
    let sql = "INSERT INTO users (email, full_name, role, access) VALUES ($1, $2, $3, $4) \
               ON CONFLICT DO NOTHING RETURNING *";
    let params = [
        new.email.as_str().to_owned().into(),
        new.full_name.as_str().to_owned().into(),
        new.role.as_str().to_owned().into(),
        new.access.as_str().to_owned().into(),
    ];
    db::first(db.query(sql, &params)?)?.ok_or_else(|| email_taken(new.email.as_str()))
}

/// A page of users, newest first, and the total number of users.
pub fn list(db: &Db, page: query::Page) -> Result<Page<User>, ApiError> {
    db.page(PageQuery {
        select: "SELECT *, count(*) OVER () AS total FROM users \
                 ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2",
        params: &[page.limit.into(), page.offset.into()],
        count: "SELECT count(*) AS total FROM users",
        count_params: &[],
    })
}

pub fn find(db: &Db, id: Uuid) -> Result<Option<User>, ApiError> {
    db::first(db.query("SELECT * FROM users WHERE id = $1", &[id.into()])?)
}

/// What a [`update`] did.
pub enum Updated {
    Yes(User),
    NoSuchUser,
    /// Another user has the email the patch asks for.
    EmailTaken,
}

/// The one row [`update`]'s statement returns: whether the email was taken,
/// and the user's columns (all NULL when nothing was updated).
impl db::FromRow for Updated {
    fn from_row(row: db::Row<'_>) -> Result<Self, ApiError> {
        if row.get::<bool>("email_taken")? {
            return Ok(Updated::EmailTaken);
        }
        match row.get::<Option<Uuid>>("id")? {
            Some(_) => <User as db::FromRow>::from_row(row).map(Updated::Yes),
            None => Ok(Updated::NoSuchUser),
        }
    }
}

/// Applies the fields present in `patch`. Deactivating ends the person's
/// sessions in the same statement. A taken email is an outcome of the
/// statement (the `taken` check uses the unique index's own expression); only
/// two requests racing for one email meet the index itself, an error
/// `mth_shared::db` reads as a unique violation whichever host runs us.
pub fn update(db: &Db, id: Uuid, patch: &UserPatch) -> Result<Updated, ApiError> {
    let text = |v: Option<&str>| v.map_or(ParameterValue::DbNull, |s| s.to_owned().into());
    let sql = "WITH taken AS ( \
                 SELECT 1 FROM users WHERE $2::text IS NOT NULL AND id <> $1 \
                   AND lower(normalize(email, NFC) COLLATE \"und-x-icu\") \
                     = lower(normalize($2::text, NFC) COLLATE \"und-x-icu\")), \
               updated AS ( \
                 UPDATE users SET email = COALESCE($2, email), full_name = COALESCE($3, full_name), \
                   role = COALESCE($4, role), access = COALESCE($5, access), \
                   active = COALESCE($6, active) \
                 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM taken) RETURNING *), \
               ended AS (DELETE FROM sessions WHERE user_id = $1 AND $6::boolean IS FALSE \
                 AND EXISTS (SELECT 1 FROM updated)) \
               SELECT updated.*, EXISTS (SELECT 1 FROM taken) AS email_taken \
               FROM (SELECT 1) AS one LEFT JOIN updated ON true";
    let params = [
        id.into(),
        text(patch.email.as_ref().map(|e| e.as_str())),
        text(patch.full_name.as_ref().map(|n| n.as_str())),
        text(patch.role.as_ref().map(|r| r.as_str())),
        text(patch.access.map(|a| a.as_str())),
        patch
            .active
            .map_or(ParameterValue::DbNull, ParameterValue::Boolean),
    ];
    match db.query(sql, &params) {
        Ok(rows) => Ok(db::first(rows)?.unwrap_or(Updated::NoSuchUser)),
        Err(e) if e.violates(sqlstate::UNIQUE_VIOLATION, EMAIL_KEY) => Ok(Updated::EmailTaken),
        Err(e) => Err(e.into()),
    }
}

/// Outcome of a delete that the database may refuse.
pub enum Deleted {
    Yes,
    NoSuchUser,
    /// A task that is not done was assigned meanwhile: the database refused.
    HasOpenTasks,
}

pub fn delete(db: &Db, id: Uuid) -> Result<Deleted, ApiError> {
    match db.execute("DELETE FROM users WHERE id = $1", &[id.into()]) {
        Ok(0) => Ok(Deleted::NoSuchUser),
        Ok(_) => Ok(Deleted::Yes),
        Err(e)
            if e.violates(
                sqlstate::CHECK_VIOLATION,
                constraint::OPEN_TASK_NEEDS_ASSIGNEE,
            ) =>
        {
            Ok(Deleted::HasOpenTasks)
        }
        Err(e) => Err(e.into()),
    }
}

/// A set-password link for an active user: any unused earlier link of theirs
/// stops working. `None` when there is no such active user.
pub fn invite(
    db: &Db,
    id: Uuid,
    token_digest: String,
    by: Option<Uuid>,
) -> Result<Option<Timestamp>, ApiError> {
    let rows = db.query(
        "WITH target AS (SELECT id FROM users WHERE id = $1 AND active), \
              replaced AS (DELETE FROM invitations WHERE user_id = $1 AND used_at IS NULL \
                AND EXISTS (SELECT 1 FROM target)) \
         INSERT INTO invitations (token_hash, user_id, created_by, expires_at) \
         SELECT $2, id, $3, (now() AT TIME ZONE 'utc') + interval '72 hours' FROM target \
         RETURNING expires_at",
        &[
            id.into(),
            token_digest.into(),
            by.map_or(ParameterValue::DbNull, Into::into),
        ],
    )?;
    Ok(db::first::<Invited>(rows)?.map(|i| i.expires_at))
}

struct Invited {
    expires_at: Timestamp,
}

mth_shared::from_row!(Invited { expires_at });
