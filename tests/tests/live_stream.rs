//! The change feed as a stream (issue 21): `GET /api/changes` with
//! `Accept: text/event-stream` sends each change as a Server-Sent Event as
//! soon as it is final, resumes from `Last-Event-ID` without missing or
//! repeating one, and ends when the session does. What is in the feed is
//! `changes.rs`'s; this file checks how it travels.

use std::time::Duration;

use api_tests::detail;
use api_tests::feed::{Stream, entry, head, make_three_changes, settle};
use api_tests::team::Team;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Long enough for a change to become final on the suite's shared cluster
/// (see `feed::settle`) and for a loaded machine.
const SOON: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_stream_sends_each_change_as_it_comes_and_first_where_the_feed_ends() {
    let team = Team::new().await;
    let start = head(&team).await;
    let mut stream = Stream::open(&team.app, &team.admin, None).await;
    // The first event: no changes, the cursor to go on from.
    let opened = stream.next(SOON).await.expect("a first event");
    let (changes, feed) = opened.changes();
    assert!(changes.is_empty());
    assert_eq!(feed["reset"], false);
    assert_eq!(opened.id.as_deref(), feed["cursor"].as_str());
    assert_eq!(
        feed["cursor"],
        start.as_str(),
        "nothing changed since the head"
    );

    let (_, expected) = make_three_changes(&team, "streamed@example.com").await;
    let (changes, _) = stream.changes(3).await;
    assert_eq!(changes, expected);
}

#[tokio::test]
async fn a_reconnecting_stream_resumes_from_its_last_event_id() {
    let team = Team::new().await;
    // The team's own changes final first (another test's long transaction
    // can hold the horizon back): a stream opened before would get them
    // with the changes this test makes.
    settle(&team).await;
    let mut stream = Stream::open(&team.app, &team.admin, None).await;
    let first = team.task_for(&team.member_id, "todo").await;
    stream.next(SOON).await.expect("a first event");
    let (changes, last_id) = stream.changes(1).await;
    assert_eq!(changes, [entry("task", &first, "created")]);

    // The connection drops; a change is made meanwhile; the browser comes
    // back with the last id it saw: exactly that change, nothing repeated.
    drop(stream);
    let second = team.task_for(&team.member_id, "todo").await;
    settle(&team).await;
    let mut back = Stream::open(&team.app, &team.admin, Some(&last_id)).await;
    let resumed = back.next(SOON).await.expect("a first event");
    let (changes, feed) = resumed.changes();
    assert_eq!(changes, [entry("task", &second, "created")]);
    assert_eq!(feed["reset"], false);

    // A cursor from another database (or made up, but well-formed): reset,
    // and the cursor to go on from.
    let mut foreign = Stream::open(&team.app, &team.admin, Some("999999999999.1")).await;
    let (changes, feed) = foreign.next(SOON).await.unwrap().changes();
    assert_eq!((feed["reset"].as_bool(), changes.len()), (Some(true), 0));
}

#[tokio::test]
async fn a_stream_from_another_instance_resumes_after_that_instance_restarts() {
    let team = Team::new().await;
    let other = team.another_instance().await;
    settle(&team).await;
    let mut stream = Stream::open(&other, &team.admin, None).await;
    stream.next(SOON).await.expect("a first event");
    // A change made through one instance comes down the other's stream.
    let first = team.task_for(&team.member_id, "todo").await;
    let (changes, last_id) = stream.changes(1).await;
    assert_eq!(changes, [entry("task", &first, "created")]);

    // That instance goes away (a restart, a pod replaced) with the stream
    // open; a change is made meanwhile; the board reconnects, once it is
    // back, from its last id: exactly that change.
    other.shutdown().await;
    drop(stream);
    let second = team.task_for(&team.member_id, "todo").await;
    settle(&team).await;
    let restarted = team.another_instance().await;
    let mut back = Stream::open(&restarted, &team.admin, Some(&last_id)).await;
    let (changes, _) = back.next(SOON).await.expect("a first event").changes();
    assert_eq!(changes, [entry("task", &second, "created")]);
}

#[tokio::test]
async fn the_stream_ends_with_the_session_and_refuses_strangers() {
    let team = Team::new().await;
    settle(&team).await;
    let mut stream = Stream::open(&team.app, &team.member, None).await;
    stream.next(SOON).await.expect("a first event");
    let out = team.as_member(Method::POST, "/auth/logout", None).await;
    assert!(out.status().is_success(), "{}", out.status());
    let ended = stream.next(SOON).await.expect("a last event");
    assert_eq!(ended.name.as_deref(), Some("signed-out"));
    assert!(stream.next(SOON).await.is_none(), "then the stream ends");

    // Without a live session, or with a cursor that is not one: refused, as
    // JSON, before any stream starts.
    for (cookie, cursor, status) in [
        ("", None, StatusCode::UNAUTHORIZED),
        (team.member.as_str(), None, StatusCode::UNAUTHORIZED),
        (
            team.admin.as_str(),
            Some("not-a-cursor"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let refused = Stream::request(&team.app, cookie, cursor).await;
        assert_eq!(refused.status(), status);
        assert_eq!(
            refused.headers()["content-type"].to_str().unwrap(),
            "application/json"
        );
        let _ = detail(refused, status).await;
    }
}

#[tokio::test]
async fn the_stream_ends_when_its_person_is_deactivated_not_when_others_change() {
    let team = Team::new().await;
    settle(&team).await;
    let mut stream = Stream::open(&team.app, &team.member, None).await;
    stream.next(SOON).await.expect("a first event");
    // Another person added and changed: told, and the stream goes on.
    let (_, expected) = make_three_changes(&team, "bystander@example.com").await;
    let (changes, _) = stream.changes(3).await;
    assert_eq!(changes, expected);

    let path = format!("/api/users/{}", team.member_id);
    let off = team
        .as_admin(Method::PATCH, &path, Some(&json!({"active": false})))
        .await;
    assert!(off.status().is_success(), "{}", off.status());
    let mut last = None;
    while let Some(event) = stream.next(SOON).await {
        last = event.name.clone();
        if last.as_deref() == Some("signed-out") {
            break;
        }
    }
    assert_eq!(last.as_deref(), Some("signed-out"));
    assert!(stream.next(SOON).await.is_none(), "then the stream ends");
}

/// Open boards share their reads of the feed: one stream a moment reads it
/// for every stream of the process (components/frontend/src/feed_tail.rs),
/// besides each checking its session once a minute (and when some session
/// has ended: none here). So many idle boards cost far fewer reads than
/// one per board and second, what each would cost alone (the most issue
/// 21 allows). Counted by PostgreSQL itself: calls of
/// the feed's function (migration 0012), tracked on an instance whose
/// connections are all new.
#[tokio::test]
async fn open_boards_share_their_reads_of_the_feed() {
    const BOARDS: usize = 40;
    const OPEN_FOR: Duration = Duration::from_secs(6);
    let team = Team::new().await;
    let db = team.app.db().await;
    db.batch_execute(
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET track_functions = ''pl''', \
         current_database()); END $$",
    )
    .await
    .unwrap();
    let other = team.another_instance().await;
    settle(&team).await;
    let mut streams = Vec::new();
    for _ in 0..BOARDS {
        streams.push(Stream::open(&other, &team.admin, None).await);
    }
    for stream in &mut streams {
        stream.next(SOON).await.expect("a first event");
    }
    let opened = std::time::Instant::now();
    tokio::time::sleep(OPEN_FOR).await;
    // Each board still hears of a change.
    let task = team.task_for(&team.member_id, "todo").await;
    for stream in &mut streams {
        let (changes, _) = stream.changes(1).await;
        assert_eq!(changes, [entry("task", &task, "created")]);
    }
    let seconds = opened.elapsed().as_secs_f64();
    drop(streams);
    // Its connections end with it, and report their counts as they go.
    other.shutdown().await;
    let mut calls = -1;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now: i64 = db
            .query_one(
                "SELECT COALESCE(sum(calls), 0)::bigint FROM pg_stat_user_functions \
                 WHERE funcname = 'change_feed'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if now == calls {
            break;
        }
        calls = now;
    }
    // One read each to open; then a few a second for them all (one a
    // moment: about 0.15 per board and second here), well under one per
    // board and second.
    let bound = BOARDS as f64 * (1.0 + 0.4 * seconds);
    assert!(
        (calls as f64) < bound,
        "{calls} reads of the feed by {BOARDS} boards in {seconds:.1} s (bound {bound:.0})"
    );
    assert!(
        calls >= BOARDS as i64,
        "each opening read the feed: {calls}"
    );
}
