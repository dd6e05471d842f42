//! The tasks table. One statement per operation, all parameterised.

use mth_accounts::Scope;
use mth_shared::ApiError;
use mth_shared::db::{self, Db, DbError, Page, PageQuery, constraint, sqlstate};
use mth_shared::precondition::IfMatch;
use mth_shared::query;
use spin_sdk::pg4::ParameterValue;
use uuid::Uuid;

use crate::comments;
use crate::domain::{NewTask, Status, Task, TaskPatch};
use crate::filters::DueWindow;
use crate::labels;

/// A task's own columns, by name: not `tasks.*`, which would carry its
/// search document (0015) to every answer.
const ROW_COLUMNS: &str = "tasks.id, tasks.title, tasks.description, tasks.status, \
     tasks.due_date, tasks.assignee_id, tasks.created_by, tasks.updated_by, \
     tasks.created_at, tasks.updated_at, tasks.version";

/// What a statement on `tasks` selects or returns: the row, its comment
/// count and its labels (every answer about a task carries them).
pub fn task_columns() -> String {
    format!(
        "{ROW_COLUMNS}, {}, {}",
        comments::COUNT_COLUMN,
        labels::column()
    )
}

/// The same for a statement that writes the task in CTE `t` and sets its
/// labels to the list in parameter `$labels` (NULL: leaves them).
fn written_task_columns(labels: usize) -> String {
    format!(
        "{ROW_COLUMNS}, {}, {}",
        comments::COUNT_COLUMN,
        labels::column_after(labels)
    )
}

const ASSIGNEE_FK: &str = "tasks_assignee_id_fkey";

fn opt<T: Into<ParameterValue>>(value: Option<T>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, Into::into)
}

/// Maps the constraint violations a write can meet to the client's mistake.
fn write_error(e: DbError) -> ApiError {
    if e.violates(sqlstate::FOREIGN_KEY_VIOLATION, ASSIGNEE_FK) {
        // The user existed when checked but was deleted before the write.
        ApiError::invalid("assignee_id", "no user has this id")
    } else if e.violates(
        sqlstate::CHECK_VIOLATION,
        constraint::OPEN_TASK_NEEDS_ASSIGNEE,
    ) {
        ApiError::invalid(
            "assignee_id",
            "an unfinished task needs an assignee; set assignee_id as well",
        )
    } else if e.violates(sqlstate::FOREIGN_KEY_VIOLATION, labels::LABEL_FK) {
        // Deleted since the client loaded the labels, or never one.
        ApiError::invalid(
            "label_ids",
            "lists an id that is no label's (deleted meanwhile?); reload the labels",
        )
    } else {
        e.into()
    }
}

/// Who writes, and which tasks they may change.
#[derive(Debug, Clone, Copy)]
pub struct Writer {
    /// Recorded as `created_by` / `updated_by` (`None`: a service).
    pub person: Option<Uuid>,
    /// The tasks they may change (the policy's rule, as data).
    pub scope: Scope,
}

impl Writer {
    pub fn may_change(&self, task: &Task) -> bool {
        self.scope.allows(task.assignee_id)
    }
}

/// Creates the task and gives it its labels, in one statement.
pub fn insert(db: &Db, new: &NewTask, writer: Writer) -> Result<Task, ApiError> {
    let sql = format!(
        "WITH t AS (INSERT INTO tasks \
           (title, description, status, due_date, assignee_id, created_by, updated_by) \
           VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING *){} \
         SELECT {} FROM t AS tasks",
        labels::set_ctes(7, false),
        written_task_columns(7),
    );
    let params = [
        new.title.as_str().to_owned().into(),
        opt(new.description.as_ref().map(|d| d.as_str().to_owned())),
        new.status.as_str().to_owned().into(),
        opt(new.due_date),
        new.assignee_id.into(),
        opt(writer.person),
        labels::param(Some(&new.label_ids)),
    ];
    let rows = db.query(&sql, &params).map_err(write_error)?;
    db::first(rows)?.ok_or_else(|| ApiError::internal("The insert returned no row."))
}

/// Which tasks a list shows.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub assignee_id: Option<Uuid>,
    pub status: Option<Status>,
    /// The tasks with these labels: all of them, or any (`match_any`).
    pub labels: Option<Vec<Uuid>>,
    pub match_any: bool,
    /// The due dates kept (filters.rs's `Due::window`; default: any).
    pub due: DueWindow,
}

/// The condition of [`Filter`] on `tasks`, with its parameters ($1–$8,
/// [`filter_params`]; the statements number theirs from $9). `$n IS NULL OR ...` is folded away when Postgres
/// plans with the actual values, so each filter combination still uses its
/// index. Labels: the tasks with at least $4 of the labels listed in $3
/// (all of them, or one), from the index on (label_id, task_id). Due
/// dates: $5–$8 are the window the rule of filters.rs made.
pub const FILTER: &str = "($1::uuid IS NULL OR tasks.assignee_id = $1) \
     AND ($2::text IS NULL OR tasks.status = $2) \
     AND ($3::text[] IS NULL OR tasks.id IN (SELECT tl.task_id FROM task_labels tl \
       WHERE tl.label_id = ANY($3::text[]::uuid[]) GROUP BY tl.task_id HAVING count(*) >= $4)) \
     AND (NOT $5::bool OR tasks.due_date IS NULL) \
     AND ($6::date IS NULL OR tasks.due_date >= $6) \
     AND ($7::date IS NULL OR tasks.due_date <= $7) \
     AND (NOT $8::bool OR tasks.status <> 'done')";

pub fn filter_params(filter: &Filter) -> [ParameterValue; 8] {
    let wanted = match (&filter.labels, filter.match_any) {
        (Some(ids), false) => ids.len(),
        _ => 1,
    };
    [
        opt(filter.assignee_id),
        opt(filter.status.map(|s| s.as_str().to_owned())),
        labels::param(filter.labels.as_deref()),
        i64::try_from(wanted).unwrap_or(i64::MAX).into(),
        filter.due.without.into(),
        opt(filter.due.from),
        opt(filter.due.through),
        filter.due.open_only.into(),
    ]
}

/// A page of tasks, newest first, and how many match the filter in all.
pub fn list(db: &Db, filter: Filter, page: query::Page) -> Result<Page<Task>, ApiError> {
    let filter_params = filter_params(&filter);
    let mut params = filter_params.to_vec();
    params.extend([page.limit.into(), page.offset.into()]);
    db.page(PageQuery {
        select: &format!(
            "SELECT {}, count(*) OVER () AS total FROM tasks WHERE {FILTER} \
             ORDER BY created_at DESC, id DESC LIMIT $9 OFFSET $10",
            task_columns()
        ),
        params: &params,
        count: &format!("SELECT count(*) AS total FROM tasks WHERE {FILTER}"),
        count_params: &filter_params,
    })
}

pub fn find(db: &Db, id: Uuid) -> Result<Option<Task>, ApiError> {
    let sql = format!("SELECT {} FROM tasks WHERE id = $1", task_columns());
    db::first(db.query(&sql, &[id.into()])?)
}

/// What became of a change to one task.
pub enum Changed {
    Yes(Box<Task>),
    NoSuchTask,
    /// The task exists, but the writer may not change it.
    NotYours,
    /// Someone changed the task since the version the writer asked for
    /// (`If-Match`): nothing was written; this is the current task.
    Stale(Box<Task>),
}

/// Applies the fields present in `patch` (its labels too), moves `version`
/// and `updated_at`, in one statement that also checks the writer may and
/// that the task is still the version `expected` (so neither a
/// reassignment nor another person's change can slip between a check and
/// the write).
pub fn update(
    db: &Db,
    id: Uuid,
    patch: &TaskPatch,
    writer: Writer,
    expected: &IfMatch,
) -> Result<Changed, ApiError> {
    let sql = format!(
        "WITH t AS (UPDATE tasks SET \
           title = COALESCE($2, title), \
           description = CASE WHEN $3 THEN $4 ELSE description END, \
           status = COALESCE($5, status), \
           due_date = CASE WHEN $6 THEN $7 ELSE due_date END, \
           assignee_id = COALESCE($8, assignee_id), \
           updated_by = $9, \
           updated_at = (now() AT TIME ZONE 'utc'), \
           version = version + 1 \
         WHERE id = $1 AND {} AND {} RETURNING tasks.*){} \
         SELECT {} FROM t AS tasks",
        Scope::sql_condition("assignee_id", 10),
        IfMatch::sql_condition("version", 11),
        labels::set_ctes(12, true),
        written_task_columns(12),
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
        opt(writer.person),
        writer.scope.param(),
        expected.param(),
        labels::param(patch.label_ids.as_deref()),
    ];
    match db::first(db.query(&sql, &params).map_err(write_error)?)? {
        Some(task) => Ok(Changed::Yes(Box::new(task))),
        None => why_not_changed(db, id, writer, expected),
    }
}

/// The task as it is, if it is still the version `expected`: what an
/// empty change answers (as a read, whoever asks).
pub fn current(db: &Db, id: Uuid, expected: &IfMatch) -> Result<Changed, ApiError> {
    Ok(match find(db, id)? {
        None => Changed::NoSuchTask,
        Some(task) if !expected.matches(task.version) => Changed::Stale(Box::new(task)),
        Some(task) => Changed::Yes(Box::new(task)),
    })
}

fn why_not_changed(
    db: &Db,
    id: Uuid,
    writer: Writer,
    expected: &IfMatch,
) -> Result<Changed, ApiError> {
    Ok(match find(db, id)? {
        None => Changed::NoSuchTask,
        Some(task) if !writer.may_change(&task) => Changed::NotYours,
        Some(task) if !expected.matches(task.version) => Changed::Stale(Box::new(task)),
        // Reassigned away and back in between: the writer's scope refused it.
        Some(_) => Changed::NotYours,
    })
}

pub enum Deleted {
    Yes,
    NoSuchTask,
    NotYours,
    /// Changed since the version asked for (`If-Match`); this is the current task.
    Stale(Box<Task>),
    NotDone(Status),
}

/// Deletes the task only if it is done, the writer may and it is still the
/// version `expected`, in one statement, so a concurrent change cannot slip
/// between check and delete.
pub fn delete_done(
    db: &Db,
    id: Uuid,
    writer: Writer,
    expected: &IfMatch,
) -> Result<Deleted, ApiError> {
    let deleted = db.execute(
        &format!(
            "DELETE FROM tasks WHERE id = $1 AND status = 'done' AND {} AND {}",
            Scope::sql_condition("assignee_id", 2),
            IfMatch::sql_condition("version", 3),
        ),
        &[id.into(), writer.scope.param(), expected.param()],
    )?;
    if deleted > 0 {
        return Ok(Deleted::Yes);
    }
    Ok(match find(db, id)? {
        None => Deleted::NoSuchTask,
        Some(task) if !writer.may_change(&task) => Deleted::NotYours,
        Some(task) if !expected.matches(task.version) => Deleted::Stale(Box::new(task)),
        Some(task) => Deleted::NotDone(task.status),
    })
}

/// How many of a user's tasks are in each status.
pub fn counts_by_status(db: &Db, assignee_id: Uuid) -> Result<Vec<(Status, i64)>, ApiError> {
    let found: Vec<StatusCount> = db::all(db.query(
        "SELECT status, count(*) AS n FROM tasks WHERE assignee_id = $1 GROUP BY status",
        &[assignee_id.into()],
    )?)?;
    Ok(Status::ALL
        .iter()
        .map(|s| {
            let n = found.iter().find(|f| f.status == *s).map_or(0, |f| f.n);
            (*s, n)
        })
        .collect())
}

struct StatusCount {
    status: Status,
    n: i64,
}

mth_shared::from_row!(StatusCount { status, n });

// ------------------------------------------------ export and import

/// Up to `limit` tasks after `after` (their `created_at` and id), oldest
/// first: a page of an export, which reads the tasks a page at a time.
pub fn export_page(
    db: &Db,
    after: Option<(mth_shared::time::Timestamp, Uuid)>,
    limit: i64,
) -> Result<Vec<Task>, ApiError> {
    let sql = format!(
        "SELECT {} FROM tasks WHERE $1::text IS NULL \
           OR (created_at, id) > ($1::text::timestamp, $2::text::uuid) \
         ORDER BY created_at, id LIMIT $3",
        task_columns()
    );
    let (at, id) = match after {
        Some((at, id)) => (
            mth_accounts::workspace::timestamp_text(at.0).into(),
            id.to_string().into(),
        ),
        None => (ParameterValue::DbNull, ParameterValue::DbNull),
    };
    db::all(db.query(&sql, &[at, id, limit.into()])?)
}

/// Creates imported tasks with their ids, times, authors and versions, a
/// batch per statement (their labels: [`labels::import_task_labels`]). The
/// history trigger writes each one's `created` entry, as for any new task.
pub fn import(db: &Db, tasks: &[crate::transfer::ImportTask]) -> Result<(), ApiError> {
    use mth_accounts::workspace::{BATCH, texts, timestamp_text};
    for batch in tasks.chunks(BATCH) {
        let column =
            |f: &dyn Fn(&crate::transfer::ImportTask) -> Option<String>| texts(batch.iter().map(f));
        db.execute(
            "INSERT INTO tasks (id, title, description, status, due_date, assignee_id, \
               created_by, updated_by, created_at, updated_at, version) \
             SELECT r.id::uuid, r.title, r.description, r.status, r.due_date::date, \
               r.assignee_id::uuid, r.created_by::uuid, r.updated_by::uuid, \
               r.created_at::timestamp, r.updated_at::timestamp, r.version::bigint \
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
               $7::text[], $8::text[], $9::text[], $10::text[], $11::text[]) \
               AS r (id, title, description, status, due_date, assignee_id, created_by, \
                 updated_by, created_at, updated_at, version)",
            &[
                column(&|t| Some(t.id.to_string())),
                column(&|t| Some(t.title.as_str().to_owned())),
                column(&|t| t.description.as_ref().map(|d| d.as_str().to_owned())),
                column(&|t| Some(t.status.as_str().to_owned())),
                column(&|t| t.due_date.map(|d| d.to_string())),
                column(&|t| t.assignee_id.map(|id| id.to_string())),
                column(&|t| t.created_by.map(|id| id.to_string())),
                column(&|t| t.updated_by.map(|id| id.to_string())),
                column(&|t| Some(timestamp_text(t.created_at))),
                column(&|t| Some(timestamp_text(t.updated_at))),
                column(&|t| Some(t.version.to_string())),
            ],
        )
        .map_err(write_error)?;
    }
    Ok(())
}

/// How many tasks, labels and comments there are, and people other than
/// `except`: an import goes only into a workspace without any.
pub fn workspace_counts(db: &Db, except: Option<Uuid>) -> Result<WorkspaceCounts, ApiError> {
    db::first(db.query(
        "SELECT (SELECT count(*) FROM tasks) AS tasks, (SELECT count(*) FROM labels) AS labels, \
           (SELECT count(*) FROM task_comments) AS comments, \
           (SELECT count(*) FROM users WHERE $1::uuid IS NULL OR id <> $1) AS people",
        &[opt(except)],
    )?)?
    .ok_or_else(|| ApiError::internal("The counts returned no row."))
}

#[derive(Debug, Clone, Copy)]
pub struct WorkspaceCounts {
    pub tasks: i64,
    pub labels: i64,
    pub comments: i64,
    pub people: i64,
}

mth_shared::from_row!(WorkspaceCounts {
    tasks,
    labels,
    comments,
    people
});
