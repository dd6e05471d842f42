//! The tasks table. One statement per operation, all parameterised.

use chrono::{Datelike, NaiveDate};
use mth_shared::ApiError;
use mth_shared::db::{Db, DbError, get, sqlstate, take_opt_text, take_text};
use mth_shared::query::Page;
use mth_shared::time::rfc3339;
use spin_sdk::pg4::{DbValue, ParameterValue, RowSet};
use uuid::Uuid;

use crate::domain::{NewTask, Status, Task, TaskPatch};

const COLUMNS: &str =
    "id, title, description, status, due_date, assignee_id, created_at, updated_at";
const ASSIGNEE_FK: &str = "tasks_assignee_id_fkey";
const OPEN_TASK_CHECK: &str = "tasks_open_needs_assignee";

/// Consumes the row's text values (see [`take_text`]).
fn task(row: &mut [DbValue]) -> Result<Task, ApiError> {
    Ok(Task {
        id: get(row, 0)?,
        title: take_text(row, 1)?,
        description: take_opt_text(row, 2)?,
        status: take_text(row, 3)?,
        due_date: get::<Option<NaiveDate>>(row, 4)?.map(iso_date),
        assignee_id: get(row, 5)?,
        assignee: None,
        created_at: rfc3339(get(row, 6)?),
        updated_at: rfc3339(get(row, 7)?),
    })
}

/// `YYYY-MM-DD`. Written by hand for the years the API accepts: chrono's
/// `format("%Y-%m-%d")` parses its format string again for every row, which
/// was ~8 % of the guest's work on a list page.
fn iso_date(d: NaiveDate) -> String {
    if (0..=9999).contains(&d.year()) {
        format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    } else {
        d.format("%Y-%m-%d").to_string()
    }
}

fn first_task(rows: RowSet) -> Result<Option<Task>, ApiError> {
    rows.rows
        .into_iter()
        .next()
        .map(|mut row| task(&mut row))
        .transpose()
}

fn opt<T: Into<ParameterValue>>(value: Option<T>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, Into::into)
}

/// Maps the constraint violations a write can meet to the client's mistake.
fn write_error(e: DbError) -> ApiError {
    if e.violates(sqlstate::FOREIGN_KEY_VIOLATION, ASSIGNEE_FK) {
        // The user existed when checked but was deleted before the write.
        ApiError::invalid("assignee_id", "no user has this id")
    } else if e.violates(sqlstate::CHECK_VIOLATION, OPEN_TASK_CHECK) {
        ApiError::invalid(
            "assignee_id",
            "an unfinished task needs an assignee; set assignee_id as well",
        )
    } else {
        e.into()
    }
}

pub fn insert(db: &Db, new: &NewTask) -> Result<Task, ApiError> {
    let sql = format!(
        "INSERT INTO tasks (title, description, status, due_date, assignee_id) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
    );
    let params = [
        new.title.as_str().to_owned().into(),
        opt(new.description.as_ref().map(|d| d.as_str().to_owned())),
        new.status.as_str().to_owned().into(),
        opt(new.due_date),
        new.assignee_id.into(),
    ];
    let rows = db.query(&sql, &params).map_err(write_error)?;
    first_task(rows)?.ok_or_else(|| ApiError::internal("The insert returned no row."))
}

/// Which tasks a list shows.
#[derive(Debug, Default, Clone, Copy)]
pub struct Filter {
    pub assignee_id: Option<Uuid>,
    pub status: Option<Status>,
}

/// A page of tasks, newest first, and how many match the filter in all.
pub fn list(db: &Db, filter: Filter, page: Page) -> Result<(Vec<Task>, i64), ApiError> {
    // `$n IS NULL OR ...` is folded away when Postgres plans with the actual
    // values, so each filter combination still uses its index.
    const WHERE: &str =
        "($1::uuid IS NULL OR assignee_id = $1) AND ($2::text IS NULL OR status = $2)";
    let filter_params = [
        opt(filter.assignee_id),
        opt(filter.status.map(|s| s.as_str().to_owned())),
    ];
    let sql = format!(
        "SELECT {COLUMNS}, count(*) OVER () FROM tasks WHERE {WHERE} \
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    );
    let mut params = filter_params.to_vec();
    params.extend([page.limit.into(), page.offset.into()]);
    let rows = db.query(&sql, &params)?;
    let total = match rows.rows.first() {
        Some(row) => get(row, 8)?,
        None => {
            let counted = db.query(
                &format!("SELECT count(*) FROM tasks WHERE {WHERE}"),
                &filter_params,
            )?;
            counted
                .rows
                .first()
                .map(|row| get(row, 0))
                .unwrap_or(Ok(0))?
        }
    };
    let tasks = rows
        .rows
        .into_iter()
        .map(|mut row| task(&mut row))
        .collect::<Result<_, _>>()?;
    Ok((tasks, total))
}

pub fn find(db: &Db, id: Uuid) -> Result<Option<Task>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM tasks WHERE id = $1");
    first_task(db.query(&sql, &[id.into()])?)
}

/// Applies the fields present in `patch` and moves `updated_at`; `None` when
/// there is no such task.
pub fn update(db: &Db, id: Uuid, patch: &TaskPatch) -> Result<Option<Task>, ApiError> {
    let sql = format!(
        "UPDATE tasks SET \
           title = COALESCE($2, title), \
           description = CASE WHEN $3 THEN $4 ELSE description END, \
           status = COALESCE($5, status), \
           due_date = CASE WHEN $6 THEN $7 ELSE due_date END, \
           assignee_id = COALESCE($8, assignee_id), \
           updated_at = (now() AT TIME ZONE 'utc') \
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let description = patch.description.as_ref();
    let params = [
        id.into(),
        opt(patch.title.as_ref().map(|t| t.as_str().to_owned())),
        description.is_some().into(),
        opt(description
            .cloned()
            .flatten()
            .map(|d| d.as_str().to_owned())),
        opt(patch.status.map(|s| s.as_str().to_owned())),
        patch.due_date.is_some().into(),
        opt(patch.due_date.flatten()),
        opt(patch.assignee_id),
    ];
    first_task(db.query(&sql, &params).map_err(write_error)?)
}

pub enum Deleted {
    Yes,
    NoSuchTask,
    NotDone(String),
}

/// Deletes the task only if it is done, in one statement, so a concurrent
/// status change cannot slip between the check and the delete.
pub fn delete_done(db: &Db, id: Uuid) -> Result<Deleted, ApiError> {
    if db.execute(
        "DELETE FROM tasks WHERE id = $1 AND status = 'done'",
        &[id.into()],
    )? > 0
    {
        return Ok(Deleted::Yes);
    }
    Ok(match find(db, id)? {
        None => Deleted::NoSuchTask,
        Some(task) => Deleted::NotDone(task.status),
    })
}

/// How many of a user's tasks are in each status.
pub fn counts_by_status(db: &Db, assignee_id: Uuid) -> Result<Vec<(Status, i64)>, ApiError> {
    let rows = db.query(
        "SELECT status, count(*) FROM tasks WHERE assignee_id = $1 GROUP BY status",
        &[assignee_id.into()],
    )?;
    let mut found = Vec::new();
    for row in &rows.rows {
        let status: String = get(row, 0)?;
        let status = Status::parse(&status).map_err(ApiError::internal)?;
        found.push((status, get(row, 1)?));
    }
    Ok(Status::ALL
        .iter()
        .map(|s| {
            (
                *s,
                found.iter().find(|(f, _)| f == s).map_or(0, |(_, n)| *n),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_date_is_what_chrono_formats() {
        for (y, m, d) in [
            (2026, 1, 2),
            (999, 12, 31),
            (0, 1, 1),
            (9999, 12, 31),
            (10000, 1, 1),
            (-1, 3, 4),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(iso_date(date), date.format("%Y-%m-%d").to_string());
        }
    }
}
