//! The users table. One statement per operation, all parameterised.

use mth_shared::ApiError;
use mth_shared::db::{self, Db, Page, PageQuery, constraint, sqlstate};
use mth_shared::query;
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

/// Locks every active admin's row (in id order, so two statements cannot
/// deadlock) and counts them, apart from user `$1` and as `$1`. A concurrent
/// demotion waits for the lock and then sees the other's outcome, so two
/// admins removing each other cannot both succeed.
const ADMINS: &str = "admins AS (SELECT id FROM users WHERE access = 'admin' AND active \
                        ORDER BY id FOR UPDATE), \
                      guard AS (SELECT count(*) FILTER (WHERE id <> $1) AS others, \
                        count(*) FILTER (WHERE id = $1) AS me FROM admins)";

/// User `$1` is the only active admin (needs [`ADMINS`]).
const ONLY_ADMIN: &str = "((SELECT me FROM guard) > 0 AND (SELECT others FROM guard) = 0)";

pub fn find(db: &Db, id: Uuid) -> Result<Option<User>, ApiError> {
    db::first(db.query("SELECT * FROM users WHERE id = $1", &[id.into()])?)
}

/// What a [`update`] did.
pub enum Updated {
    Yes(User),
    NoSuchUser,
    /// Another user has the email the patch asks for.
    EmailTaken,
    /// The patch would leave the team without an active admin.
    LastAdmin,
}

/// The one row [`update`]'s statement returns: whether the email was taken,
/// and the user's columns (all NULL when nothing was updated).
impl db::FromRow for Updated {
    fn from_row(row: db::Row<'_>) -> Result<Self, ApiError> {
        if row.get::<bool>("email_taken")? {
            return Ok(Updated::EmailTaken);
        }
        if row.get::<bool>("last_admin")? {
            return Ok(Updated::LastAdmin);
        }
        match row.get::<Option<Uuid>>("id")? {
            Some(_) => <User as db::FromRow>::from_row(row).map(Updated::Yes),
            None => Ok(Updated::NoSuchUser),
        }
    }
}

/// Applies the fields present in `patch`, unless it would demote or
/// deactivate the only active admin. A taken email is an outcome of the
/// statement (the `taken` check uses the unique index's own expression); only
/// two requests racing for one email meet the index itself, an error
/// `mth_shared::db` reads as a unique violation whichever host runs us.
pub fn update(db: &Db, id: Uuid, patch: &UserPatch) -> Result<Updated, ApiError> {
    let text = |v: Option<&str>| v.map_or(ParameterValue::DbNull, |s| s.to_owned().into());
    let sql = format!(
        "WITH {ADMINS}, \
           removes_admin AS (SELECT 1 WHERE {ONLY_ADMIN} \
             AND (($5::text IS NOT NULL AND $5 <> 'admin') OR $6::boolean IS FALSE)), \
           taken AS ( \
             SELECT 1 FROM users WHERE $2::text IS NOT NULL AND id <> $1 \
               AND {same_email}), \
           updated AS ( \
             UPDATE users SET email = COALESCE($2, email), full_name = COALESCE($3, full_name), \
               role = COALESCE($4, role), access = COALESCE($5, access), \
               active = COALESCE($6, active) \
             WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM taken) \
               AND NOT EXISTS (SELECT 1 FROM removes_admin) RETURNING *) \
         SELECT updated.*, EXISTS (SELECT 1 FROM taken) AS email_taken, \
           EXISTS (SELECT 1 FROM removes_admin) AS last_admin \
         FROM (SELECT 1) AS one LEFT JOIN updated ON true",
        same_email = mth_accounts::email::same_sql("email", 2),
    );
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
    match db.query(&sql, &params) {
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
    /// The user is the only active admin.
    LastAdmin,
}

/// Deletes the user unless they are the only active admin, decided in the
/// statement that deletes, under the admins' row locks (taken first, in id
/// order, as [`update`] takes them, so the two cannot deadlock).
pub fn delete(db: &Db, id: Uuid) -> Result<Deleted, ApiError> {
    let sql = "DELETE FROM users WHERE id = $1 AND NOT ( \
                 SELECT count(*) FILTER (WHERE a.id = $1) > 0 \
                   AND count(*) FILTER (WHERE a.id <> $1) = 0 \
                 FROM (SELECT id FROM users WHERE access = 'admin' AND active \
                   ORDER BY id FOR UPDATE) AS a)";
    match db.execute(sql, &[id.into()]) {
        Ok(0) => match find(db, id)? {
            Some(_) => Ok(Deleted::LastAdmin),
            None => Ok(Deleted::NoSuchUser),
        },
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
