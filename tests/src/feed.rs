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
    let changes = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_owned();
            (s("entity"), s("id"), s("action"))
        })
        .collect();
    (changes, feed)
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
