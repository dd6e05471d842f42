//! The newest part of the change feed, shared by every stream of this
//! process through Spin's `default` key-value store, so that 200 open
//! boards do not ask the database 200 times a second what one answer
//! tells them all (docs/benchmarks.md, Idle boards).
//!
//! The store holds one [`Tail`]: the final changes after `from`, each with
//! its cursor; `read_at`, when the database read that produced it began;
//! and how many statements had ended sessions by then (what tells a stream
//! to check its own: [`crate::live`]). What it promises: every change that
//! became final before `read_at` is at or before its head. So a stream
//! whose cursor is at the head, reading a tail less than [`FRESH`] old,
//! knows that nothing newer is final but what became so within [`FRESH`]:
//! it need not ask. A stream finding the tail older (by more than its own
//! share of [`PATIENCE`]) refreshes it — reads the feed after the tail's
//! head, for everyone. Streams racing to write it may put back an older
//! tail; it still keeps its promise, so none misses a change, one only asks
//! again. A change therefore shows within [`FRESH`] and [`PATIENCE`] plus a
//! stream's tick.
//!
//! The tail is only a cache, shared by instances of one process and kept in
//! its memory: SpinKube's shim has no state directory, so its `default`
//! store is in memory; the project runs `spin up` with `--state-dir ""` to
//! match (its default, an SQLite file under `.spin/`, is synced to disk at
//! each write); the runner keeps stores in memory. The database stays the
//! truth. Keyed by the database's address (without
//! its credentials), so apps on other databases that share a store file
//! do not mix. Without a store, or when it fails, streams read the
//! database as before.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mth_shared::ApiError;
use mth_shared::config;
use mth_shared::db::Db;
use spin_sdk::key_value::Store;
use uuid::Uuid;

use crate::changes::{self, After, Change, Cursor, Feed, Reader};

/// How old a tail may be and still answer a stream without the database:
/// short, as it adds to the time a change takes to show; long enough that
/// the process reads the feed only a few times a second whatever the
/// number of its streams.
pub const FRESH: Duration = Duration::from_millis(150);
/// How much longer than [`FRESH`] each stream lets the tail age before it
/// refreshes it: its own share of this, drawn when it opens. Without it,
/// every stream that looked while one was reading (a few milliseconds, and
/// 200 boards look every 5 ms) found the tail stale too and read as well:
/// two or three reads and writes of the store where one does.
pub const PATIENCE: Duration = Duration::from_millis(50);
/// How long a change stays in the tail: a stream looks every second, so
/// this covers one that is a little late; one further behind reads the
/// database for itself.
const RETAIN: Duration = Duration::from_secs(3);
/// At most this many changes stay: enough for a few seconds of a busy
/// team (the API benchmark's mix writes about 100 a second); a stream
/// reads only the lines after its cursor (see [`Tail::encode`]).
const KEEP: usize = 1000;

/// One change of the tail: its cursor, the change, and when the read that
/// found it began (ms since the epoch; to let it go after [`RETAIN`]).
type Entry = (Cursor, Change, u64);

#[derive(Debug, PartialEq)]
struct Tail {
    read_at: u64,
    from: Cursor,
    sessions_ended: i64,
    changes: Vec<Entry>,
}

impl Tail {
    fn empty(head: Cursor, read_at: u64, sessions_ended: i64) -> Self {
        Self {
            read_at,
            from: head,
            sessions_ended,
            changes: Vec::new(),
        }
    }

    fn head(&self) -> Cursor {
        self.changes.last().map_or(self.from, |(c, _, _)| *c)
    }

    /// This tail with `found` (read after its head at `read_at`, with
    /// `sessions_ended`) added, and what is older than [`RETAIN`] or beyond
    /// [`KEEP`] let go.
    fn extended(mut self, found: Vec<(Cursor, Change)>, read_at: u64, sessions_ended: i64) -> Self {
        self.read_at = read_at;
        self.sessions_ended = sessions_ended;
        self.changes
            .extend(found.into_iter().map(|(c, change)| (c, change, read_at)));
        let retain_from = read_at.saturating_sub(RETAIN.as_millis() as u64);
        let old = self
            .changes
            .iter()
            .take_while(|e| e.2 < retain_from)
            .count();
        let drop = old.max(self.changes.len().saturating_sub(KEEP));
        if drop > 0 {
            self.from = self.changes[drop - 1].0;
            self.changes.drain(..drop);
        }
        self
    }

    /// The stored form: a line `<read_at> <from> <head> <sessions_ended>`,
    /// then a line per change, oldest first: `<cursor> <seen> <entity> <id>
    /// <action>`. Lines, not JSON, so that a stream reads only the header
    /// and, from the end, the changes after its cursor.
    fn encode(&self) -> String {
        let mut text = format!(
            "{} {} {} {}\n",
            self.read_at,
            self.from,
            self.head(),
            self.sessions_ended
        );
        for (cursor, change, seen) in &self.changes {
            text += &format!(
                "{cursor} {seen} {} {} {}\n",
                change.entity, change.id, change.action
            );
        }
        text
    }

    fn decode(text: &str) -> Option<Self> {
        let stored = Stored::parse(text)?;
        let changes = stored
            .lines
            .lines()
            .map(parse_entry)
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            read_at: stored.read_at,
            from: stored.from,
            sessions_ended: stored.sessions_ended,
            changes,
        })
    }
}

fn parse_entry(line: &str) -> Option<Entry> {
    let mut words = line.split(' ');
    let cursor = Cursor::parse(words.next()?).ok()?;
    let seen = words.next()?.parse().ok()?;
    let change = Change {
        entity: words.next()?.to_owned(),
        id: Uuid::parse_str(words.next()?).ok()?,
        action: words.next()?.to_owned(),
    };
    Some((cursor, change, seen))
}

/// A stored tail, its change lines not yet read.
struct Stored<'a> {
    read_at: u64,
    from: Cursor,
    head: Cursor,
    sessions_ended: i64,
    lines: &'a str,
}

impl<'a> Stored<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let (header, lines) = text.split_once('\n')?;
        let mut words = header.split(' ');
        Some(Self {
            read_at: words.next()?.parse().ok()?,
            from: Cursor::parse(words.next()?).ok()?,
            head: Cursor::parse(words.next()?).ok()?,
            sessions_ended: words.next()?.parse().ok()?,
            lines,
        })
    }

    /// Whether it is younger than [`FRESH`] and `patience` (ms).
    fn fresh(&self, now: u64, patience: u64) -> bool {
        now.saturating_sub(self.read_at) < FRESH.as_millis() as u64 + patience
    }

    /// What a read after `cursor` gives, if this tail reaches back to it:
    /// its last lines, read from the end back to the cursor.
    fn after(&self, cursor: Cursor) -> Option<Feed> {
        if cursor < self.from {
            return None;
        }
        if cursor >= self.head {
            return Some(Feed {
                cursor,
                reset: false,
                changes: Vec::new(),
                sessions_ended: self.sessions_ended,
            });
        }
        let mut newer = Vec::new();
        for line in self.lines.trim_end_matches('\n').rsplit('\n') {
            let (at, change, _) = parse_entry(line)?;
            if at <= cursor {
                break;
            }
            newer.push(change);
        }
        newer.reverse();
        Some(Feed {
            cursor: self.head,
            reset: false,
            changes: newer,
            sessions_ended: self.sessions_ended,
        })
    }
}

/// The store and this database's key in it.
pub struct Tails {
    store: Option<Store>,
    key: String,
    /// This stream's share of [`PATIENCE`], in ms.
    patience: u64,
}

impl Tails {
    /// The default store, if the host gives it, for a stream that waits
    /// `share` (in [0, 1)) of [`PATIENCE`] more than [`FRESH`].
    pub fn open(share: f64) -> Self {
        let address = config::var("database_url").unwrap_or_default();
        Self {
            store: Store::open_default().ok(),
            key: format!("changes/tail@{}", without_credentials(&address)),
            patience: PATIENCE.mul_f64(share.clamp(0.0, 1.0)).as_millis() as u64,
        }
    }

    /// What a stream at `cursor` gets this tick, as [`changes::read`]
    /// would answer: from the tail when it is fresh and reaches back to
    /// `cursor`, else from the database. A `Session` reader always reads
    /// the database (its session is checked in the same statement), and
    /// so refreshes the tail for the others.
    pub fn read(&self, reader: Reader<'_>, cursor: Cursor) -> Result<Feed, ApiError> {
        let Some(store) = &self.store else {
            return changes::read(&Db::connect()?, reader, Some(cursor));
        };
        let now = now_ms();
        let text = store.get(&self.key).ok().flatten().unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let refreshed;
        // The count of ended sessions read with the refresh, which checked
        // the session if it had to.
        let mut checked_with = None;
        let found = match Stored::parse(&text) {
            Some(stored)
                if stored.fresh(now, self.patience) && matches!(reader, Reader::CheckedStream) =>
            {
                stored.after(cursor)
            }
            stored => {
                let fresh = stored.is_some_and(|s| s.fresh(now, 0));
                refreshed = self.refresh(store, reader, Tail::decode(&text), fresh, now)?;
                let stored = Stored::parse(&refreshed);
                checked_with = stored.as_ref().map(|s| s.sessions_ended);
                stored.and_then(|s| s.after(cursor))
            }
        };
        match found {
            Some(feed) => Ok(feed),
            // Further behind than the tail reaches: the feed alone. The
            // count stays the refresh's, read in the same statement as the
            // session's check: a later one might hide a session ended
            // between the two.
            None => {
                let mut feed = changes::read(&Db::connect()?, Reader::CheckedStream, Some(cursor))?;
                feed.sessions_ended = checked_with.unwrap_or(feed.sessions_ended);
                Ok(feed)
            }
        }
    }

    /// Reads the feed after the stored tail's head (or its head, if none is
    /// stored) and returns the new tail in its stored form, which it stores
    /// unless it tells nothing new (`fresh`: the stored one was, and the
    /// read found nothing after it).
    fn refresh(
        &self,
        store: &Store,
        reader: Reader<'_>,
        stored: Option<Tail>,
        fresh: bool,
        read_at: u64,
    ) -> Result<String, ApiError> {
        let old = stored.as_ref().map(|t| (t.head(), t.sessions_ended));
        let tail = {
            // The connection goes back to the pool before the store is
            // written.
            let db = Db::connect()?;
            match stored {
                Some(tail) => match changes::read_after(&db, reader, tail.head())? {
                    (After::Changes(found), ended) => tail.extended(found, read_at, ended),
                    (After::Reset(head), ended) => Tail::empty(head, read_at, ended),
                },
                None => {
                    let feed = changes::read(&db, reader, None)?;
                    Tail::empty(feed.cursor, read_at, feed.sessions_ended)
                }
            }
        };
        let text = tail.encode();
        if !fresh || old != Some((tail.head(), tail.sessions_ended)) {
            // A failed write leaves an older tail, which keeps its promise.
            let _ = store.set(&self.key, text.as_bytes());
        }
        Ok(text)
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `postgres://user:secret@host:5432/db?x` → `host:5432/db?x`: the store is
/// a file on disk under `spin up`, where a password has no place.
fn without_credentials(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.rsplit_once('@').map_or(rest, |(_, host)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(raw: &str) -> Cursor {
        Cursor::parse(raw).unwrap()
    }

    fn change(n: u8) -> Change {
        Change {
            entity: "task".into(),
            id: uuid::Uuid::from_bytes([n; 16]),
            action: "changed".into(),
        }
    }

    /// What a stream at `at` reads from `tail` once stored.
    fn after(tail: &Tail, at: &str) -> Option<(Cursor, Vec<Change>)> {
        let text = tail.encode();
        let feed = Stored::parse(&text).unwrap().after(cursor(at))?;
        assert!(!feed.reset);
        Some((feed.cursor, feed.changes))
    }

    #[test]
    fn a_stream_gets_what_follows_its_cursor_if_the_tail_reaches_it() {
        let tail = Tail::empty(cursor("5.1"), 1_000, 0).extended(
            vec![
                (cursor("6.1"), change(1)),
                (cursor("6.2"), change(2)),
                (cursor("7.1"), change(3)),
            ],
            1_000,
            0,
        );
        assert_eq!(tail.head(), cursor("7.1"));
        let all = vec![change(1), change(2), change(3)];
        assert_eq!(after(&tail, "5.1"), Some((cursor("7.1"), all)));
        assert_eq!(
            after(&tail, "6.1"),
            Some((cursor("7.1"), vec![change(2), change(3)]))
        );
        assert_eq!(after(&tail, "7.1"), Some((cursor("7.1"), vec![])));
        // Ahead of a tail an older write put back: nothing new, and its
        // own cursor kept.
        assert_eq!(after(&tail, "9.1"), Some((cursor("9.1"), vec![])));
        assert_eq!(after(&tail, "4.9"), None);
        assert_eq!(
            after(&Tail::empty(cursor("3.0"), 5, 0), "3.0"),
            Some((cursor("3.0"), vec![]))
        );
    }

    #[test]
    fn old_changes_and_those_beyond_the_limit_are_let_go() {
        let retained = RETAIN.as_millis() as u64;
        let tail = Tail::empty(cursor("1.0"), 0, 0)
            .extended(vec![(cursor("2.1"), change(1))], 1_000, 0)
            .extended(vec![(cursor("3.1"), change(2))], 1_001 + retained, 0);
        assert_eq!(tail.from, cursor("2.1"));
        assert_eq!(tail.changes.len(), 1);
        assert_eq!(after(&tail, "1.0"), None);

        let many = (1..=KEEP as i64 + 3)
            .map(|n| (cursor(&format!("{n}.0")), change(1)))
            .collect();
        let full = Tail::empty(cursor("0.0"), 0, 0).extended(many, 10, 0);
        assert_eq!(full.changes.len(), KEEP);
        assert_eq!(full.from, cursor("3.0"));
        assert_eq!(full.head(), cursor(&format!("{}.0", KEEP + 3)));
    }

    #[test]
    fn a_tail_is_fresh_for_a_moment() {
        let text = Tail::empty(cursor("1.0"), 10_000, 0).encode();
        let stored = Stored::parse(&text).unwrap();
        let fresh = FRESH.as_millis() as u64;
        assert!(stored.fresh(10_000 + fresh - 1, 0));
        assert!(!stored.fresh(10_000 + fresh, 0));
        // A patient stream lets it age a little longer.
        assert!(stored.fresh(10_000 + fresh + 29, 30));
        assert!(!stored.fresh(10_000 + fresh + 30, 30));
    }

    #[test]
    fn a_tail_survives_the_store() {
        let tail = Tail::empty(cursor("3.4"), 7, 2).extended(
            vec![(cursor("5.6"), change(9)), (cursor("5.7"), change(8))],
            8,
            3,
        );
        let text = tail.encode();
        let stored = Stored::parse(&text).unwrap();
        for at in ["5.6", "5.7", "9.9"] {
            assert_eq!(stored.after(cursor(at)).unwrap().sessions_ended, 3);
        }
        assert_eq!(Tail::decode(&text), Some(tail));
        assert_eq!(Tail::decode("12 1.0 1.0 0\n1.1 oops\n"), None);
        // A tail stored by an older version (no count): a refresh.
        assert!(Stored::parse("12 1.0 1.0\n").is_none());
        assert!(Stored::parse("garbage").is_none());
    }

    #[test]
    fn the_key_carries_no_credentials() {
        assert_eq!(
            without_credentials("postgres://app:s3cr@t@db:5432/mth?sslmode=disable"),
            "db:5432/mth?sslmode=disable"
        );
        assert_eq!(
            without_credentials("host=db dbname=mth"),
            "host=db dbname=mth"
        );
    }
}
