//! The task_history table: what changed in a task, field by field.
//!
//! Entries are written by the trigger of migration 0008_task_history, in the
//! same statement as the change they describe; this module reads them, and
//! writes those of an import.

use mth_shared::ApiError;
use mth_shared::db::{Db, Page, PageQuery};
use mth_shared::query;
use mth_shared::time::Timestamp;
use serde::Serialize;
use uuid::Uuid;

/// One change: `field` is `created` (then `to` is the title) or the field
/// that changed, with its value before and after, as text.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: i64,
    pub task_id: Uuid,
    /// `None`: a service, or a person since deleted.
    pub changed_by: Option<Uuid>,
    pub changed_at: Timestamp,
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

mth_shared::from_row!(Entry {
    id,
    task_id,
    changed_by,
    changed_at,
    field,
    from,
    to,
});

/// A page of a task's history, newest first (the order of `id`, which
/// follows commit order closely enough within one task: its changes are
/// serialised by the row lock of the UPDATE).
pub fn page(db: &Db, task_id: Uuid, page: query::Page) -> Result<Page<Entry>, ApiError> {
    const COLUMNS: &str = "id, task_id, changed_by, changed_at, field, \
                           old_value AS \"from\", new_value AS \"to\"";
    db.page(PageQuery {
        select: &format!(
            "SELECT {COLUMNS}, count(*) OVER () AS total FROM task_history \
             WHERE task_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"
        ),
        params: &[task_id.into(), page.limit.into(), page.offset.into()],
        count: "SELECT count(*) AS total FROM task_history WHERE task_id = $1",
        count_params: &[task_id.into()],
    })
}

/// Up to `limit` entries after id `after`, in id order: an export's page.
pub fn export_page(db: &Db, after: i64, limit: i64) -> Result<Vec<Entry>, ApiError> {
    mth_shared::db::all(db.query(
        "SELECT id, task_id, changed_by, changed_at, field, old_value AS \"from\", \
           new_value AS \"to\" FROM task_history WHERE id > $1 ORDER BY id LIMIT $2",
        &[after.into(), limit.into()],
    )?)
}

/// An import's history replaces what the trigger wrote for the imported
/// tasks (their `created` entries, stamped as the file says anyway): first
/// the entries of `tasks` go ([`forget`]), then the file's are written with
/// their ids ([`import`], a batch at a time), and the ids' sequence is moved
/// past them ([`advance_past`]), so later changes get new ids.
pub fn forget(db: &Db, tasks: &[Uuid]) -> Result<(), ApiError> {
    use mth_accounts::workspace::{BATCH, texts};
    for batch in tasks.chunks(BATCH) {
        db.execute(
            "DELETE FROM task_history WHERE task_id = ANY($1::text[]::uuid[])",
            &[texts(batch.iter().map(|id| Some(id.to_string())))],
        )?;
    }
    Ok(())
}

/// Writes imported entries with their ids (see [`forget`]).
pub fn import(db: &Db, entries: &[crate::transfer::ImportEntry]) -> Result<(), ApiError> {
    use mth_accounts::workspace::{BATCH, texts, timestamp_text};
    for batch in entries.chunks(BATCH) {
        let column = |f: &dyn Fn(&crate::transfer::ImportEntry) -> Option<String>| {
            texts(batch.iter().map(f))
        };
        db.execute(
            "INSERT INTO task_history (id, task_id, changed_by, changed_at, field, old_value, \
               new_value) \
             SELECT r.id::bigint, r.task_id::uuid, r.changed_by::uuid, r.changed_at::timestamp, \
               r.field, r.old_value, r.new_value \
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
               $7::text[]) AS r (id, task_id, changed_by, changed_at, field, old_value, new_value)",
            &[
                column(&|e| Some(e.id.to_string())),
                column(&|e| Some(e.task_id.to_string())),
                column(&|e| e.changed_by.map(|id| id.to_string())),
                column(&|e| Some(timestamp_text(e.changed_at))),
                column(&|e| Some(e.field.clone())),
                column(&|e| e.from.clone()),
                column(&|e| e.to.clone()),
            ],
        )?;
    }
    Ok(())
}

/// Moves the ids' sequence past `max` (by drawing from it: the apps' role
/// may use the sequence, not set it).
pub fn advance_past(db: &Db, max: i64) -> Result<(), ApiError> {
    db.execute(
        "SELECT count(nextval('task_history_id_seq')) FROM generate_series(1, \
           GREATEST(0, $1::bigint - (SELECT nextval('task_history_id_seq'))))",
        &[max.into()],
    )?;
    Ok(())
}
