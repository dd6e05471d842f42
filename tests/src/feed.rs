//! The change feed as an open board reads it (`GET /api/changes`), for
//! the suites that check what a change puts in it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::team::Team;
use crate::{TestApp, body};

/// One poll as the admin's browser: (the changes as (entity, id, action), the answer).
pub async fn poll(team: &Team, cursor: &str) -> (Vec<(String, String, String)>, Value) {
    poll_on(&team.app, &team.admin, cursor).await
}

/// One poll of `app`'s feed (another instance, say) with the session `cookie`.
pub async fn poll_on(
    app: &TestApp,
    cookie: &str,
    cursor: &str,
) -> (Vec<(String, String, String)>, Value) {
    let path = format!("/api/changes?after={cursor}");
    let response = app.browse(Method::GET, &path, cookie, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let feed = body(response).await;
    (changes_of(&feed), feed)
}

/// The changes of one answer (or event) as (entity, id, action).
fn changes_of(feed: &Value) -> Vec<(String, String, String)> {
    feed["changes"]
        .as_array()
        .expect("an answer of the feed has changes")
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_owned();
            (s("entity"), s("id"), s("action"))
        })
        .collect()
}

/// Polls from `cursor`, as a board does, until `want` changes have come (or
/// 10 s passed): a change shows once every older writing transaction of the
/// cluster has ended, and the tests of a suite run at once on one
/// PostgreSQL, so another test's write can hold one back for a moment.
/// Returns every change received, and the last cursor.
pub async fn poll_until(
    team: &Team,
    cursor: &str,
    want: usize,
) -> (Vec<(String, String, String)>, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let (mut all, mut cursor) = (Vec::new(), cursor.to_owned());
    loop {
        let (changes, feed) = poll(team, &cursor).await;
        assert_eq!(feed["reset"], false);
        all.extend(changes);
        cursor = feed["cursor"].as_str().unwrap().to_owned();
        if all.len() >= want || std::time::Instant::now() > deadline {
            return (all, cursor);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Where the feed ends now, past every change made before this call: a
/// change shows once every transaction older than it on the cluster has
/// ended (see migration 0009), and the suites' other tests write to the same
/// PostgreSQL at the same time, so the head is read once every transaction
/// that began before this call has ended.
pub async fn head(team: &Team) -> String {
    settle(team).await;
    let feed = body(team.as_admin(Method::GET, "/api/changes", None).await).await;
    assert_eq!(
        (feed["reset"].as_bool(), feed["changes"].clone()),
        (Some(false), json!([]))
    );
    feed["cursor"].as_str().unwrap().to_owned()
}

/// Three changes of two kinds: a task created for the member, moved to
/// `in_progress`, and a person added (`email`): the task's id, and what the
/// feed must then list, in that order.
pub async fn make_three_changes(
    team: &Team,
    email: &str,
) -> (String, Vec<(String, String, String)>) {
    let task = team.task_for(&team.member_id, "todo").await;
    let moved = team
        .as_member(
            Method::PATCH,
            &format!("/api/tasks/{task}"),
            Some(&json!({"status": "in_progress"})),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let person = team.app.create_user(email).await;
    let expected = vec![
        entry("task", &task, "created"),
        entry("task", &task, "changed"),
        entry("user", crate::id(&person), "created"),
    ];
    (task, expected)
}

/// A change as [`poll`] lists it.
pub fn entry(entity: &str, id: &str, action: &str) -> (String, String, String) {
    (entity.into(), id.into(), action.into())
}

/// Waits until every transaction of the cluster that began before this call
/// has ended (at most 10 s): from then on, every change made before it
/// shows in the feed.
pub async fn settle(team: &Team) {
    let db = team.app.db().await;
    let horizon = |edge: &'static str| {
        let (db, sql) = (
            &db,
            format!("SELECT pg_snapshot_{edge}(pg_current_snapshot())::text::bigint"),
        );
        async move { db.query_one(&sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    let next = horizon("xmax").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while horizon("xmin").await < next {
        assert!(
            std::time::Instant::now() < deadline,
            "a transaction older than the test kept running for 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The feed as a board follows it: `GET /api/changes` with `Accept:
/// text/event-stream`, read event by event.
pub struct Stream {
    response: reqwest::Response,
    buffer: String,
}

/// One Server-Sent Event (comments and `retry` dropped).
#[derive(Debug, Default)]
pub struct Event {
    /// The `event:` field; `None` for the feed's own (`message`) events.
    pub name: Option<String>,
    pub id: Option<String>,
    pub data: String,
}

impl Event {
    /// The changes this event carries, as [`poll`] lists them, and its data.
    pub fn changes(&self) -> (Vec<(String, String, String)>, Value) {
        let feed: Value = serde_json::from_str(&self.data).expect("an event's data is JSON");
        (changes_of(&feed), feed)
    }
}

impl Stream {
    /// Opens the stream of `app` with the session `cookie`, from
    /// `last_event_id` (as a browser's EventSource resends it) if any.
    /// Panics unless the answer is a stream.
    pub async fn open(app: &TestApp, cookie: &str, last_event_id: Option<&str>) -> Self {
        let response = Self::request(app, cookie, last_event_id).await;
        assert_eq!(response.status(), StatusCode::OK);
        let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
        assert_eq!(header("content-type"), "text/event-stream");
        assert_eq!(header("cache-control"), "no-store");
        Stream {
            response,
            buffer: String::new(),
        }
    }

    /// The answer to a stream request, unread (reqwest's own client: the
    /// suites' checks read whole answers, and a stream does not end).
    pub async fn request(
        app: &TestApp,
        cookie: &str,
        last_event_id: Option<&str>,
    ) -> reqwest::Response {
        let mut request = reqwest::Client::new()
            .get(app.url("/api/changes"))
            .header("accept", "text/event-stream");
        if !cookie.is_empty() {
            request = request.header("cookie", cookie);
        }
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        request.send().await.expect("the stream's request")
    }

    /// The next event within `within`; `None` once the server has ended the
    /// stream. Panics when nothing came in time.
    pub async fn next(&mut self, within: std::time::Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Event::default();
                let mut fields = false;
                for line in block.lines() {
                    let (field, value) = line.split_once(": ").unwrap_or((line, ""));
                    match field {
                        "event" => event.name = Some(value.to_owned()),
                        "id" => event.id = Some(value.to_owned()),
                        "data" => event.data.push_str(value),
                        _ => continue, // a comment (keep-alive) or `retry`
                    }
                    fields = true;
                }
                if fields {
                    return Some(event);
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no event within {within:?}"))
                .expect("the stream breaks off");
            match chunk {
                Some(bytes) => self.buffer.push_str(std::str::from_utf8(&bytes).unwrap()),
                None => return None,
            }
        }
    }

    /// Reads events until `want` changes have come (10 s at most, see
    /// [`poll_until`]); returns them and the last event's id.
    pub async fn changes(&mut self, want: usize) -> (Vec<(String, String, String)>, String) {
        let (mut all, mut id) = (Vec::new(), String::new());
        while all.len() < want {
            let event = self
                .next(std::time::Duration::from_secs(10))
                .await
                .expect("the stream goes on");
            assert_eq!(event.name, None, "{event:?}");
            let (changes, feed) = event.changes();
            assert_eq!(feed["reset"], false);
            assert!(!changes.is_empty(), "an event with nothing new: {event:?}");
            id = event.id.clone().expect("every event has an id");
            assert_eq!(feed["cursor"], id.as_str());
            all.extend(changes);
        }
        (all, id)
    }
}
