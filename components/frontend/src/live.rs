//! `GET /api/changes` with `Accept: text/event-stream`: the change feed as
//! Server-Sent Events, what every open board listens to.
//!
//! Why a stream rather than polls (docs/api.md, Live updates): a poll costs
//! a fresh instance of this component, a request through the host and an
//! answer each second per open page; the stream's instance stays and looks
//! for changes once a second ([`TICK`]) in the feed's tail that all
//! streams of the process share ([`crate::feed_tail`]), which one of them reads
//! from the database for all every [`crate::feed_tail::FRESH`]. It checks
//! its own session (in the same statement as such a read) only when the
//! tail says some session has ended since its last check, or its person
//! changed, and once a minute for the session's time limits
//! ([`SESSION_CHECK`]). No connection is held in between. Its instance is
//! bounded in time ([`LIFETIME`]): the browser then reconnects from its
//! cursor (`Last-Event-ID`), which also lets a pod that is shut down hand
//! its boards over. Polls
//! (`?after=` without the header) stay, for clients that cannot stream.

use std::time::{Duration, Instant};

use mth_accounts::sessions;
use mth_accounts::signin::{Browser, signed_out};
use mth_shared::ApiError;
use mth_shared::db::Db;
use mth_shared::deadline::sleep;
use mth_shared::event_stream::EventStream;
use mth_shared::incoming::Incoming;
use mth_shared::query::Query;
use mth_shared::request::header;
use spin_sdk::http::{Method, Request, Response};
use uuid::Uuid;

use crate::changes::{self, Change, Cursor, Feed, Reader};
use crate::feed_tail::Tails;
use crate::security;

/// How often a stream looks at the feed's tail: an idle board costs at
/// most one read of the database a second (issue 21), and, with the
/// tail's own age ([`crate::feed_tail::FRESH`] and a share of
/// [`crate::feed_tail::PATIENCE`]), a change shows within
/// about a second (half a second on average).
pub const TICK: Duration = Duration::from_secs(1);
/// How long one stream lasts before the browser is asked to reconnect.
pub const LIFETIME: Duration = Duration::from_secs(300);
/// A comment line after this long without an event, so that proxies on the
/// way (and the browser) see the connection is alive.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How often the stream checks that its session is still live when
/// nothing says it may have ended: for its limits (idle and absolute, hours
/// and days), which end a session without deleting it. Besides, it checks
/// at the next tick once the feed's count of ended sessions moves (a
/// sign-out, a password changed on another device, a deactivation:
/// migration 0018_sessions_ended), and after a change to its own person or
/// a reset.
pub const SESSION_CHECK: Duration = Duration::from_secs(60);
/// How long a browser waits before it reconnects (the SSE `retry` field).
pub const RETRY_MS: u64 = 1000;

/// Whether `req` asks for the stream rather than one poll.
pub fn wanted(req: &Request) -> bool {
    *req.method() == Method::Get
        && req.path() == changes::PATH
        && header(req, "accept").is_some_and(|accept| accept.contains("text/event-stream"))
}

/// What keeps the stream going once its head is sent.
#[derive(Debug)]
pub struct Follow {
    session: String,
    /// The session's person: a change to them (deactivated, a new
    /// password) may have ended it; a change to anyone else cannot.
    person: Uuid,
    cursor: Cursor,
    /// The count of statements that had ended sessions, read no later than
    /// the last check of this one: once the feed shows a greater count,
    /// this session may be among them.
    sessions_ended: i64,
}

/// Answers a stream request as every request is answered (errors as JSON,
/// logged, with a request id): the head and first event, and what follows
/// them; or an error (`401` without a live session, `400` for a bad cursor).
pub async fn serve(req: Incoming) -> (Response, Option<Follow>) {
    let mut follow = None;
    let slot = &mut follow;
    let response = mth_shared::serve("frontend", req, move |req, _ctx| async move {
        let (response, opened) = open(&req)?;
        *slot = Some(opened);
        Ok(response)
    })
    .await;
    (response, follow)
}

/// Checks the request as a poll would and reads the feed once: the first
/// event carries the cursor to go on from (the feed's head when the browser
/// has none, else what changed since its cursor, or `reset`).
fn open(req: &Request) -> Result<(Response, Follow), ApiError> {
    let query = Query::parse(req.query(), &["after"])?;
    // A browser's EventSource resends the last event's id as Last-Event-ID.
    let after = query
        .get("after")
        .or_else(|| header(req, "last-event-id"))
        .filter(|cursor| !cursor.is_empty())
        .map(Cursor::parse)
        .transpose()?;
    let browser = Browser {
        req,
        https: security::is_https(req),
    };
    let session = browser.session_value().ok_or_else(signed_out)?;
    let db = Db::connect()?;
    // The feed first: its count of ended sessions is then no later than the
    // check, so a session ended in between moves it.
    let feed = changes::read(&db, Reader::CheckedStream, after)?;
    let person = sessions::person_of(&db, session)?.ok_or_else(signed_out)?;
    let mut response = Response::new(200, format!("retry: {RETRY_MS}\n{}", event(&feed)));
    response.set_header("content-type", "text/event-stream");
    response.set_header("cache-control", "no-store");
    // nginx (ingress-nginx) would otherwise buffer the stream.
    response.set_header("x-accel-buffering", "no");
    let follow = Follow {
        session: session.to_owned(),
        person,
        cursor: feed.cursor,
        sessions_ended: feed.sessions_ended,
    };
    Ok((response, follow))
}

/// One event: the answer a poll would give, with its cursor as the id.
fn event(feed: &Feed) -> String {
    let data = serde_json::to_string(feed).unwrap_or_default();
    format!("id: {}\ndata: {data}\n\n", feed.cursor)
}

/// A number in [0, 1) from the host's randomness.
fn random_fraction() -> f64 {
    (uuid::Uuid::new_v4().as_u128() as u64 >> 11) as f64 / (1u64 << 53) as f64
}

/// What tells the browser that its session has ended (it then checks, and
/// shows the sign-in).
const SIGNED_OUT: &[u8] = b"event: signed-out\ndata: {}\n\n";

impl Follow {
    /// Sends each change as it becomes final, until the browser leaves, the
    /// session ends or [`LIFETIME`] is up.
    pub fn run(mut self, out: &EventStream) {
        let started = Instant::now();
        let tails = Tails::open(random_fraction());
        let mut last_sent = Instant::now();
        let mut checked = Some(Instant::now());
        // Boards opened together (a page of them, or all reconnecting after
        // a restart) would tick together, all find the shared tail stale at
        // once and all read the database: each starts at a random point of
        // the tick instead, so that one reads for the others.
        sleep(TICK.mul_f64(random_fraction()));
        while started.elapsed() < LIFETIME {
            sleep(TICK);
            if !out.open() {
                return;
            }
            let reader = match checked {
                Some(at) if at.elapsed() < SESSION_CHECK => Reader::CheckedStream,
                _ => Reader::Session(&self.session),
            };
            // No connection is held across the next sleep.
            let read = tails.read(reader, self.cursor);
            match (&read, reader) {
                (Ok(feed), Reader::Session(_)) => {
                    checked = Some(Instant::now());
                    self.sessions_ended = feed.sessions_ended;
                }
                // Some session ended since the last check: check at the
                // next tick whether it was this one.
                (Ok(feed), _) if feed.sessions_ended > self.sessions_ended => checked = None,
                _ => {}
            }
            let sent = match read {
                Ok(feed) if feed.reset || !feed.changes.is_empty() => {
                    self.cursor = feed.cursor;
                    // Its person changed (deactivated?): check at the next
                    // tick. Only its own: in a busy team people are added
                    // and edited every second, and every open board would
                    // otherwise check its session each time.
                    if feed.reset || feed.changes.iter().any(|c| self.concerns_session(c)) {
                        checked = None;
                    }
                    out.send(event(&feed).as_bytes())
                }
                Ok(_) if last_sent.elapsed() >= KEEP_ALIVE => out.send(b": keep-alive\n\n"),
                Ok(_) => continue,
                Err(error) if error.status == 401 => {
                    out.send(SIGNED_OUT);
                    return;
                }
                // The database is away for now: the next tick tries again
                // from the same cursor, so nothing is missed.
                Err(_) => continue,
            };
            if !sent {
                return;
            }
            last_sent = Instant::now();
        }
    }

    /// Whether `change` may have ended this stream's session: a change to
    /// its person (a new person cannot be it).
    fn concerns_session(&self, change: &Change) -> bool {
        change.entity == "user" && change.id == self.person && change.action != "created"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_change_to_its_own_person_may_have_ended_a_session() {
        let person = Uuid::from_bytes([1; 16]);
        let follow = Follow {
            session: "s".into(),
            person,
            cursor: Cursor::parse("1.1").unwrap(),
            sessions_ended: 0,
        };
        let change = |entity: &str, id, action: &str| Change {
            entity: entity.into(),
            id,
            action: action.into(),
        };
        let other = Uuid::from_bytes([2; 16]);
        assert!(follow.concerns_session(&change("user", person, "changed")));
        assert!(follow.concerns_session(&change("user", person, "deleted")));
        assert!(!follow.concerns_session(&change("user", other, "changed")));
        assert!(!follow.concerns_session(&change("user", other, "created")));
        assert!(!follow.concerns_session(&change("task", person, "changed")));
    }

    #[test]
    fn an_event_names_its_cursor() {
        let feed = Feed {
            cursor: Cursor::parse("7.42").unwrap(),
            reset: false,
            changes: Vec::new(),
            sessions_ended: 3,
        };
        assert_eq!(
            event(&feed),
            "id: 7.42\ndata: {\"cursor\":\"7.42\",\"reset\":false,\"changes\":[]}\n\n"
        );
    }
}
