//! The change feed (`changes`, migration 0009_change_feed): what every open
//! board polls, `GET /api/changes?after=<cursor>`. Triggers write it; this
//! module only reads it, one bounded statement per poll (the session check
//! included), and holds no connection between polls (nor any response open: Spin 3.6 has no inbound
//! WebSockets, and a streamed answer would hold an instance per board).

use mth_accounts::sessions;
use mth_accounts::signin::signed_out;
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
    /// `task`, `user`, `comment` (migration 0010_task_comments) or `label` (0011_labels).
    pub entity: String,
    /// The task's, the person's or the label's id; for a comment, its task's (what a
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

/// One row of the feed's query: the horizon, where pruning has reached, and
/// a change if there is one. No row at all: the session is not live.
struct Row {
    xmax: i64,
    pruned_tx: i64,
    pruned_id: i64,
    tx: Option<i64>,
    id: Option<i64>,
    entity: Option<String>,
    entity_id: Option<Uuid>,
    action: Option<String>,
}

mth_shared::from_row!(Row {
    xmax,
    pruned_tx,
    pruned_id,
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

/// The statement of a poll: for a live session only (`live`, the session's
/// condition), the horizon's xmax and the pruning watermark (table
/// `changes_pruned`), with the final rows (`tx < xmin`) that match
/// `condition`, in `order`, at most `limit` (one row of NULLs when none).
/// One statement: an idle page costs one indexed query a second.
fn poll_sql(live: &str, condition: &str, order: &str, limit: &str) -> String {
    format!(
        "WITH h AS ({HORIZON}) \
         SELECT h.xmax, COALESCE(p.tx, 0) AS pruned_tx, COALESCE(p.id, 0) AS pruned_id, \
           c.tx, c.id, c.entity, c.entity_id, c.action \
         FROM h LEFT JOIN changes_pruned p ON true \
         LEFT JOIN LATERAL (SELECT tx, id, entity, entity_id, action FROM changes \
           WHERE {condition} AND tx < h.xmin ORDER BY {order} LIMIT {limit}) c ON true \
         WHERE {live}"
    )
}

/// The changes after `after` for the browser whose session cookie value
/// is `session`, or (without a cursor) none and the head; 401 when the
/// session is not live. The session's idle clock is left alone (see
/// [`sessions::live_sql`]).
pub fn read(db: &Db, session: &str, after: Option<Cursor>) -> Result<Feed, ApiError> {
    let Some(after) = after else {
        return head(db, session);
    };
    let [digest, idle] = sessions::live_params(session);
    let rows: Vec<Row> = db::all(db.query(
        &poll_sql(
            &sessions::live_sql(4),
            "(tx, id) > ($1, $2)",
            "tx, id",
            "$3",
        ),
        &[
            after.tx.into(),
            after.id.into(),
            (PAGE + 1).into(),
            digest,
            idle,
        ],
    )?)?;
    let Some(first) = rows.first() else {
        return Err(signed_out());
    };
    // Too far behind: rows after the cursor may have been pruned, it is not
    // of this database, or more changes than a page replays.
    let pruned_past = (after.tx, after.id) < (first.pruned_tx, first.pruned_id);
    let foreign = after.tx >= first.xmax;
    let changes: Vec<(Cursor, Change)> = rows.into_iter().filter_map(change).collect();
    if pruned_past || foreign || changes.len() as i64 > PAGE {
        return Ok(Feed {
            reset: true,
            ..head(db, session)?
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
fn head(db: &Db, session: &str) -> Result<Feed, ApiError> {
    let rows: Vec<Row> = db::all(db.query(
        &poll_sql(&sessions::live_sql(1), "true", "tx DESC, id DESC", "1"),
        &sessions::live_params(session),
    )?)?;
    let Some(last) = rows.into_iter().next() else {
        return Err(signed_out());
    };
    let cursor = change(last).map_or(Cursor { tx: 0, id: 0 }, |(c, _)| c);
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
