//! The change feed (issue 21, live updates): `GET /api/changes?after=` says
//! which tasks and people changed after a cursor, every change once, in an
//! order no later change can precede — also when transactions commit out
//! of order, which a cursor on the sequence alone would skip.

use api_tests::TestApp;
use api_tests::feed::{entry, head, make_three_changes, poll, poll_on, poll_until, settle};
use api_tests::team::Team;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn every_change_once_in_order_from_a_cursor() {
    let team = Team::new().await;
    let start = head(&team).await;
    let (task, expected) = make_three_changes(&team, "new.person@example.com").await;

    let (changes, cursor) = poll_until(&team, &start, 3).await;
    assert_eq!(changes, expected);
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
    // All 102 changes shown (another test's open transaction would hold
    // some back, and fewer than 101 would not reset).
    settle(&team).await;
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

#[tokio::test]
async fn a_poll_leaves_the_idle_clock_alone_and_ends_with_the_session() {
    let team = Team::new().await;
    let db = team.app.db().await;
    let admin_sessions = "FROM sessions WHERE user_id = $1::text::uuid";
    let last_seen = || {
        let (db, sql) = (&db, format!("SELECT last_seen_at::text {admin_sessions}"));
        let admin = team.admin_id.clone();
        async move {
            db.query_one(&sql, &[&admin])
                .await
                .unwrap()
                .get::<_, String>(0)
        }
    };
    let idle_for = |minutes: i32| {
        let (db, admin) = (&db, team.admin_id.clone());
        let sql = "UPDATE sessions SET last_seen_at = (now() AT TIME ZONE 'utc') \
                   - make_interval(mins => $2) WHERE user_id = $1::text::uuid";
        async move { db.execute(sql, &[&admin, &minutes]).await.unwrap() }
    };
    // Five minutes idle: any call of the person's would move the clock.
    idle_for(5).await;
    let before = last_seen().await;
    let start = head(&team).await;
    poll(&team, &start).await;
    assert_eq!(
        last_seen().await,
        before,
        "a poll is not the person's activity"
    );
    let call = team.as_admin(Method::GET, "/api/tasks", None).await;
    assert_eq!(call.status(), StatusCode::OK);
    assert_ne!(last_seen().await, before, "a call of the person's is");

    // An open page does not keep an idle session alive: past the idle
    // limit, the poll is refused like any call.
    idle_for(8 * 60 + 1).await;
    let response = team
        .as_admin(Method::GET, &format!("/api/changes?after={start}"), None)
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn pruned_changes_reset_the_cursors_behind_them() {
    let team = Team::new().await;
    let before = head(&team).await;
    let first = team.task_for(&team.member_id, "todo").await;
    let (_, after_first) = poll_until(&team, &before, 1).await;
    // The next change is the 100,000th: it prunes every change 10,000 or
    // more older than itself — all of this database's so far.
    let db = team.app.db().await;
    db.execute("SELECT setval('changes_id_seq', 99999)", &[])
        .await
        .unwrap();
    let second = team.task_for(&team.member_id, "todo").await;
    let kept: i64 = db
        .query_one("SELECT count(*) FROM changes", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, 1, "only the pruning change is left");

    // A cursor from before the first task's change lost it: reset.
    let (changes, feed) = poll(&team, &before).await;
    assert_eq!((feed["reset"].as_bool(), changes.len()), (Some(true), 0));
    // One after it lost nothing: the second task's change, no reset.
    let (changes, _) = poll_until(&team, &after_first, 1).await;
    assert_eq!(changes, [entry("task", &second, "created")]);
    assert_ne!(first, second);
}

/// One poll of `app`'s feed as the admin: the changes and the next cursor.
async fn poll_at(
    app: &TestApp,
    team: &Team,
    cursor: &str,
) -> (Vec<(String, String, String)>, String) {
    let (changes, feed) = poll_on(app, &team.admin, cursor).await;
    assert_eq!(feed["reset"], false);
    (changes, feed["cursor"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_board_on_another_instance_sees_each_change_and_resumes_after_a_restart() {
    let team = Team::new().await;
    let start = head(&team).await;
    let other = team.another_instance().await;

    // A change made through one instance, polled from the other.
    let first = team.task_for(&team.member_id, "todo").await;
    let (_, cursor) = poll_until(&team, &start, 1).await;
    let (changes, _) = poll_at(&other, &team, &start).await;
    assert_eq!(changes, [entry("task", &first, "created")]);

    // The other instance goes away (a restart, a pod replaced); a change is
    // made meanwhile; the board, polling again from its cursor once the
    // instance is back, gets exactly that change.
    other.shutdown().await;
    let second = team.task_for(&team.member_id, "todo").await;
    poll_until(&team, &cursor, 1).await;
    let restarted = team.another_instance().await;
    let (changes, next) = poll_at(&restarted, &team, &cursor).await;
    assert_eq!(changes, [entry("task", &second, "created")]);
    let (again, _) = poll_at(&restarted, &team, &next).await;
    assert!(again.is_empty(), "nothing repeated: {again:?}");
}
