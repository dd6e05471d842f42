//! The change feed (`changes`, migration 0009_change_feed): what every open
//! board polls, `GET /api/changes?after=<cursor>`. Triggers write it; this
//! module only reads it, one bounded statement per poll, and holds no
//! connection between polls (nor any response open: Spin 3.6 has no inbound
//! WebSockets, and a streamed answer would hold an instance per board).

use mth_shared::ApiError;
use mth_shared::db::{self, Db};
use serde::Serialize;
use uuid::Uuid;

/// At most this many changes per answer; a browser further behind is told to
/// reload everything (`reset`), which is cheaper than replaying them.
pub const PAGE: i64 = 100;

/// A position in the feed: after the change of transaction `tx` with id
/// `id`. On the wire `"<tx>.<id>"`; `0.0` is before everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    tx: i64,
    id: i64,
}

impl Cursor {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::invalid("after", "must be a cursor from an earlier answer");
        let (tx, id) = raw.split_once('.').ok_or_else(bad)?;
        let number = |s: &str| {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<i64>().ok())
                .flatten()
                .ok_or_else(bad)
        };
        Ok(Cursor {
            tx: number(tx)?,
            id: number(id)?,
        })
    }
}

impl Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}.{}", self.tx, self.id))
    }
}

#[derive(Debug, Serialize)]
pub struct Change {
    /// `task`, `user` or `comment` (migration 0010_task_comments).
    pub entity: String,
    /// The task's or the person's id; for a comment, its task's (what a
    /// board reloads).
    pub id: Uuid,
    /// `created`, `changed` or `deleted`.
    pub action: String,
}

/// An answer: the changes after the cursor (oldest first) and where to ask
/// from next; or `reset`: the browser's cursor is too far behind (more than
/// [`PAGE`] changes) or not of this database: reload everything, then go
/// on from `cursor`.
#[derive(Debug, Serialize)]
pub struct Feed {
    pub cursor: Cursor,
    pub reset: bool,
    pub changes: Vec<Change>,
}

/// One row of the feed's query: the horizon, and a change if there is one.
struct Row {
    xmax: i64,
    tx: Option<i64>,
    id: Option<i64>,
    entity: Option<String>,
    entity_id: Option<Uuid>,
    action: Option<String>,
}

mth_shared::from_row!(Row {
    xmax,
    tx,
    id,
    entity,
    entity_id,
    action
});

// The snapshot's xmin: every transaction older has ended, so rows below it
// are final (see the migration). xmax: the next transaction id; a cursor at
// or past it is not of this database (restored, or made up).
const HORIZON: &str = "SELECT pg_snapshot_xmin(s)::text::bigint AS xmin, \
                       pg_snapshot_xmax(s)::text::bigint AS xmax \
                       FROM pg_current_snapshot() AS s";

/// The horizon's xmax, with the final rows (`tx < xmin`) that match
/// `condition`, in `order`, at most `limit` (one row of NULLs when none).
fn final_rows(condition: &str, order: &str, limit: &str) -> String {
    format!(
        "WITH h AS ({HORIZON}) \
         SELECT h.xmax, c.tx, c.id, c.entity, c.entity_id, c.action FROM h \
         LEFT JOIN LATERAL (SELECT tx, id, entity, entity_id, action FROM changes \
           WHERE {condition} AND tx < h.xmin ORDER BY {order} LIMIT {limit}) c ON true"
    )
}

/// The changes after `after`, or (without a cursor) none and the head.
pub fn read(db: &Db, after: Option<Cursor>) -> Result<Feed, ApiError> {
    let Some(after) = after else {
        return head(db);
    };
    let rows: Vec<Row> = db::all(db.query(
        &final_rows("(tx, id) > ($1, $2)", "tx, id", "$3"),
        &[after.tx.into(), after.id.into(), (PAGE + 1).into()],
    )?)?;
    let xmax = rows.first().map_or(0, |r| r.xmax);
    let changes: Vec<(Cursor, Change)> = rows.into_iter().filter_map(change).collect();
    if after.tx >= xmax || changes.len() as i64 > PAGE {
        return Ok(Feed {
            reset: true,
            ..head(db)?
        });
    }
    Ok(Feed {
        cursor: changes.last().map_or(after, |(c, _)| *c),
        reset: false,
        changes: changes.into_iter().map(|(_, c)| c).collect(),
    })
}

fn change(row: Row) -> Option<(Cursor, Change)> {
    Some((
        Cursor {
            tx: row.tx?,
            id: row.id?,
        },
        Change {
            entity: row.entity?,
            id: row.entity_id?,
            action: row.action?,
        },
    ))
}

/// Where the feed ends now: after its last final change.
fn head(db: &Db) -> Result<Feed, ApiError> {
    let last: Option<Row> =
        db::first(db.query(&final_rows("true", "tx DESC, id DESC", "1"), &[])?)?;
    let cursor = last
        .and_then(change)
        .map_or(Cursor { tx: 0, id: 0 }, |(c, _)| c);
    Ok(Feed {
        cursor,
        reset: false,
        changes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_two_whole_numbers() {
        assert_eq!(Cursor::parse("12.34").unwrap(), Cursor { tx: 12, id: 34 });
        for bad in [
            "",
            "12",
            "12.",
            ".3",
            "-1.2",
            "1.2.3",
            "+1.2",
            "a.b",
            "99999999999999999999.1",
        ] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }
}
