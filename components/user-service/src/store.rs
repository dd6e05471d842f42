//! The users table. One statement per operation, all parameterised.

use mth_shared::ApiError;
use mth_shared::db::{Db, get, sqlstate};
use mth_shared::query::Page;
use mth_shared::time::rfc3339;
use spin_sdk::pg4::{DbValue, ParameterValue, RowSet};
use uuid::Uuid;

use crate::domain::{NewUser, User, UserPatch};

const COLUMNS: &str = "id, email, full_name, role, created_at";
const EMAIL_KEY: &str = "users_email_key";
/// The tasks check that refuses clearing the assignee of an unfinished task.
const OPEN_TASK_CHECK: &str = "tasks_open_needs_assignee";

fn user(row: &[DbValue]) -> Result<User, ApiError> {
    Ok(User {
        id: get(row, 0)?,
        email: get(row, 1)?,
        full_name: get(row, 2)?,
        role: get(row, 3)?,
        created_at: rfc3339(get(row, 4)?),
    })
}

fn first_user(rows: RowSet) -> Result<Option<User>, ApiError> {
    rows.rows.first().map(|row| user(row)).transpose()
}

fn email_taken(email: &str) -> ApiError {
    ApiError::conflict(format!("A user with the email '{email}' already exists."))
}

pub fn insert(db: &Db, new: &NewUser) -> Result<User, ApiError> {
    let sql = format!(
        "INSERT INTO users (email, full_name, role) VALUES ($1, $2, $3) RETURNING {COLUMNS}"
    );
    let params = [
        new.email.as_str().to_owned().into(),
        new.full_name.as_str().to_owned().into(),
        new.role.as_str().to_owned().into(),
    ];
    match db.query(&sql, &params) {
        Ok(rows) => {
            first_user(rows)?.ok_or_else(|| ApiError::internal("The insert returned no row."))
        }
        Err(e) if e.violates(sqlstate::UNIQUE_VIOLATION, EMAIL_KEY) => {
            Err(email_taken(new.email.as_str()))
        }
        Err(e) => Err(e.into()),
    }
}

/// A page of users, newest first, and the total number of users.
pub fn list(db: &Db, page: Page) -> Result<(Vec<User>, i64), ApiError> {
    // The window count saves a second round trip on every non-empty page.
    let sql = format!(
        "SELECT {COLUMNS}, count(*) OVER () FROM users ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
    );
    let rows = db.query(&sql, &[page.limit.into(), page.offset.into()])?;
    let total = match rows.rows.first() {
        Some(row) => get(row, 5)?,
        None => count(db)?,
    };
    let users = rows
        .rows
        .iter()
        .map(|row| user(row))
        .collect::<Result<_, _>>()?;
    Ok((users, total))
}

fn count(db: &Db) -> Result<i64, ApiError> {
    let rows = db.query("SELECT count(*) FROM users", &[])?;
    rows.rows.first().map(|row| get(row, 0)).unwrap_or(Ok(0))
}

pub fn find(db: &Db, id: Uuid) -> Result<Option<User>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    first_user(db.query(&sql, &[id.into()])?)
}

/// Applies the fields present in `patch`; `None` when there is no such user.
pub fn update(db: &Db, id: Uuid, patch: &UserPatch) -> Result<Option<User>, ApiError> {
    let text = |v: Option<&str>| v.map_or(ParameterValue::DbNull, |s| s.to_owned().into());
    let sql = format!(
        "UPDATE users SET email = COALESCE($2, email), full_name = COALESCE($3, full_name), \
         role = COALESCE($4, role) WHERE id = $1 RETURNING {COLUMNS}"
    );
    let params = [
        id.into(),
        text(patch.email.as_ref().map(|e| e.as_str())),
        text(patch.full_name.as_ref().map(|n| n.as_str())),
        text(patch.role.as_ref().map(|r| r.as_str())),
    ];
    match db.query(&sql, &params) {
        Ok(rows) => first_user(rows),
        Err(e) if e.violates(sqlstate::UNIQUE_VIOLATION, EMAIL_KEY) => {
            Err(email_taken(patch.email.as_ref().map_or("", |e| e.as_str())))
        }
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
        Err(e) if e.violates(sqlstate::CHECK_VIOLATION, OPEN_TASK_CHECK) => {
            Ok(Deleted::HasOpenTasks)
        }
        Err(e) => Err(e.into()),
    }
}
