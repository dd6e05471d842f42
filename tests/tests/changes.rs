//! The change feed (issue 21, live updates): `GET /api/changes?after=` says
//! which tasks and people changed after a cursor, every change once, in an
//! order no later change can precede — also when transactions commit out
//! of order, which a cursor on the sequence alone would skip.

use api_tests::feed::{entry, head, poll, poll_until};
use api_tests::id;
use api_tests::team::Team;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn every_change_once_in_order_from_a_cursor() {
    let team = Team::new().await;
    let start = head(&team).await;
    let task = team.task_for(&team.member_id, "todo").await;
    let moved = team
        .as_member(
            Method::PATCH,
            &format!("/api/tasks/{task}"),
            Some(&json!({"status": "in_progress"})),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let person = team.app.create_user("new.person@example.com").await;

    let (changes, cursor) = poll_until(&team, &start, 3).await;
    assert_eq!(
        changes,
        [
            entry("task", &task, "created"),
            entry("task", &task, "changed"),
            entry("user", id(&person), "created"),
        ]
    );
    // From the new cursor: nothing repeated, nothing new.
    let (again, same) = poll(&team, &cursor).await;
    assert!(again.is_empty());
    assert_eq!(same["cursor"], cursor.as_str());

    // A write that changes nothing is no change; a delete is one.
    team.as_member(
        Method::PATCH,
        &format!("/api/tasks/{task}"),
        Some(&json!({"status": "done"})),
    )
    .await;
    let deleted = team
        .as_admin(Method::DELETE, &format!("/api/tasks/{task}"), None)
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let (changes, _) = poll_until(&team, &cursor, 2).await;
    assert_eq!(
        changes,
        [
            entry("task", &task, "changed"),
            entry("task", &task, "deleted")
        ]
    );
}

#[tokio::test]
async fn a_change_committed_late_is_not_skipped() {
    let team = Team::new().await;
    let slow_task = team.task_for(&team.member_id, "todo").await;
    let fast_task = team.task_for(&team.member_id, "todo").await;
    let start = head(&team).await;

    // A transaction that writes first and commits last (its row gets the
    // lower id), while another change commits in between.
    let mut db = team.app.db().await;
    let slow = db.transaction().await.unwrap();
    slow.execute(
        "UPDATE tasks SET title = 'slow' WHERE id = $1::text::uuid",
        &[&slow_task],
    )
    .await
    .unwrap();
    let fast = team
        .as_admin(
            Method::PATCH,
            &format!("/api/tasks/{fast_task}"),
            Some(&json!({"title": "fast"})),
        )
        .await;
    assert_eq!(fast.status(), StatusCode::OK);
    // Not yet: an older transaction is still open, and what it may write
    // must not land behind the cursor.
    let (early, feed) = poll(&team, &start).await;
    assert!(early.is_empty(), "{early:?}");
    assert_eq!(feed["cursor"], start.as_str());

    slow.commit().await.unwrap();
    let (changes, _) = poll_until(&team, &start, 2).await;
    assert_eq!(
        changes,
        [
            entry("task", &slow_task, "changed"),
            entry("task", &fast_task, "changed"),
        ]
    );
}

#[tokio::test]
async fn far_behind_or_foreign_cursors_reset_and_strangers_are_refused() {
    let team = Team::new().await;
    let start = head(&team).await;
    let task = team.task_for(&team.member_id, "todo").await;
    let db = team.app.db().await;
    for n in 0..101 {
        let title = format!("t{n}");
        db.execute(
            "UPDATE tasks SET title = $2 WHERE id = $1::text::uuid",
            &[&task, &title],
        )
        .await
        .unwrap();
    }
    let (changes, feed) = poll(&team, &start).await;
    assert_eq!((feed["reset"].as_bool(), changes.len()), (Some(true), 0));
    let now = head(&team).await;
    assert_eq!(feed["cursor"], now.as_str());

    let (_, foreign) = poll(&team, "999999999999.1").await;
    assert_eq!(foreign["reset"], true);

    for bad in ["x", "1", "1.-2"] {
        let response = team
            .as_admin(Method::GET, &format!("/api/changes?after={bad}"), None)
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let stranger = team
        .app
        .client
        .get(team.app.url("/api/changes"))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
}
