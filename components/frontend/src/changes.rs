//! The change feed (`changes`, migration 0009_change_feed): what every open
//! board follows, `GET /api/changes?after=<cursor>` (a poll) or as a stream
//! ([`crate::live`]). Triggers write it; this module only reads it, one
//! bounded statement per read (the session check included), and holds no
//! connection between reads.

use mth_accounts::sessions;
use mth_accounts::signin::signed_out;
use mth_shared::ApiError;
use mth_shared::db::{self, Db};
use serde::Serialize;
use spin_sdk::pg4::ParameterValue;
use uuid::Uuid;

/// Where the feed is served.
pub const PATH: &str = "/api/changes";

/// At most this many changes per answer; a browser further behind is told to
/// reload everything (`reset`), which is cheaper than replaying them.
pub const PAGE: i64 = 100;

/// A position in the feed: after the change of transaction `tx` with id
/// `id`. On the wire `"<tx>.<id>"`; `0.0` is before everything. Ordered as
/// the feed is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.tx, self.id)
    }
}

impl Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Debug, PartialEq, Serialize)]
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
    /// How many statements had ended sessions when this was read
    /// ([`sessions::ENDED_COUNT_SQL`]): for a stream, not for the browser.
    #[serde(skip)]
    pub sessions_ended: i64,
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
    sessions_ended: i64,
}

mth_shared::from_row!(Row {
    xmax,
    pruned_tx,
    pruned_id,
    tx,
    id,
    entity,
    entity_id,
    action,
    sessions_ended
});

/// Whose read it is, and whether the statement checks their session.
#[derive(Debug, Clone, Copy)]
pub enum Reader<'a> {
    /// The browser whose session cookie value this is: the statement
    /// returns nothing unless the session is live (a poll, a stream's
    /// opening, and a stream every few seconds: [`crate::live`]).
    Session(&'a str),
    /// A stream whose session was found live moments ago: the feed alone.
    CheckedStream,
}

/// The statement of a read: the function of migration
/// 0012_change_feed_reader (its plan kept per connection), which returns
/// the horizon's xmax, the pruning watermark and the final changes after
/// the cursor (one row of NULL changes when none) — for a `Session` reader
/// only while the session is live (`WHERE` the accounts crate's condition)
/// — each with the count of statements that ended sessions, as of the same
/// snapshot. One statement: an idle page costs one indexed query a second.
fn read_sql(reader: Reader<'_>) -> String {
    let read = format!(
        "SELECT f.*, {} AS sessions_ended FROM change_feed($1, $2, $3) AS f",
        sessions::ENDED_COUNT_SQL
    );
    match reader {
        Reader::Session(_) => format!("{read} WHERE {}", sessions::live_sql(4)),
        Reader::CheckedStream => read,
    }
}

/// Runs the read: after `after`, at most `limit` changes; without a
/// cursor, the newest change. No row: the session is not live.
fn rows(
    db: &Db,
    reader: Reader<'_>,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Vec<Row>, ApiError> {
    let (tx, id) = match after {
        Some(after) => (after.tx.into(), after.id.into()),
        None => (ParameterValue::DbNull, ParameterValue::DbNull),
    };
    let mut params = vec![tx, id, limit.into()];
    if let Reader::Session(value) = reader {
        params.extend(sessions::live_params(value));
    }
    db::all(db.query(&read_sql(reader), &params)?)
}

/// The changes after `after` for `reader`, or (without a cursor) none and
/// the head; 401 when a `Session` reader's session is not live. The
/// session's idle clock is left alone (see [`sessions::live_sql`]).
pub fn read(db: &Db, reader: Reader<'_>, after: Option<Cursor>) -> Result<Feed, ApiError> {
    let Some(after) = after else {
        return head(db, reader);
    };
    let (found, sessions_ended) = read_after(db, reader, after)?;
    Ok(match found {
        After::Changes(changes) => Feed {
            cursor: changes.last().map_or(after, |(c, _)| *c),
            reset: false,
            changes: changes.into_iter().map(|(_, c)| c).collect(),
            sessions_ended,
        },
        After::Reset(head) => Feed {
            cursor: head,
            reset: true,
            changes: Vec::new(),
            sessions_ended,
        },
    })
}

/// What follows a cursor.
pub enum After {
    /// Every final change after it (at most [`PAGE`]), oldest first, each
    /// with its own cursor.
    Changes(Vec<(Cursor, Change)>),
    /// It is too far behind, or not of this database: the head to reload at.
    Reset(Cursor),
}

/// [`read`] with a cursor, keeping each change's cursor (what
/// [`crate::feed_tail`] shares between streams); with the count of
/// statements that ended sessions, read in the same statement.
pub fn read_after(db: &Db, reader: Reader<'_>, after: Cursor) -> Result<(After, i64), ApiError> {
    let rows = rows(db, reader, Some(after), PAGE + 1)?;
    let Some(first) = rows.first() else {
        return Err(signed_out());
    };
    let sessions_ended = first.sessions_ended;
    // Too far behind: rows after the cursor may have been pruned, it is not
    // of this database, or more changes than a page replays.
    let pruned_past = (after.tx, after.id) < (first.pruned_tx, first.pruned_id);
    let foreign = after.tx >= first.xmax;
    let changes: Vec<(Cursor, Change)> = rows.into_iter().filter_map(change).collect();
    if pruned_past || foreign || changes.len() as i64 > PAGE {
        return Ok((After::Reset(head(db, reader)?.cursor), sessions_ended));
    }
    Ok((After::Changes(changes), sessions_ended))
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
fn head(db: &Db, reader: Reader<'_>) -> Result<Feed, ApiError> {
    let Some(last) = rows(db, reader, None, 1)?.into_iter().next() else {
        return Err(signed_out());
    };
    let sessions_ended = last.sessions_ended;
    let cursor = change(last).map_or(Cursor { tx: 0, id: 0 }, |(c, _)| c);
    Ok(Feed {
        cursor,
        reset: false,
        changes: Vec::new(),
        sessions_ended,
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
