//! The task_history table: what changed in a task, field by field.
//!
//! Entries are written by the trigger of migration 0008_task_history, in the
//! same statement as the change they describe; this module only reads them.

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
