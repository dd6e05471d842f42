//! The invariants that must hold when requests race.

use api_tests::{TestApp, assert_detail, error_fields, id};
use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_signups_with_one_email_yield_exactly_one_user() {
    let app = TestApp::spawn().await;
    let attempts = (0..20).map(|i| {
        let email = if i % 2 == 0 {
            "race@example.com"
        } else {
            "RACE@Example.COM"
        };
        app.api(Method::POST, "/users")
            .json(&json!({"email": email, "full_name": format!("Racer {i}")}))
            .send()
    });
    let statuses: Vec<StatusCode> = join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap().status())
        .collect();
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 19), "{statuses:?}");
    assert_eq!(app.count_rows("users").await, 1);
}

/// Unfinished tasks without an existing assignee: there must never be any.
async fn orphans(app: &TestApp) -> i64 {
    app.db()
        .await
        .query_one(
            "SELECT count(*) FROM tasks t WHERE t.status <> 'done' \
             AND (t.assignee_id IS NULL OR NOT EXISTS (SELECT 1 FROM users u WHERE u.id = t.assignee_id))",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

/// Deleting a user while tasks are being created for, and reassigned to, them:
/// whatever wins, no unfinished task may point at a deleted user.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_open_task_is_left_with_a_deleted_assignee() {
    let app = TestApp::spawn().await;
    let keeper = app.create_user("keeper@example.com").await;
    for round in 0..8 {
        let victim = app.create_user(&format!("victim{round}@example.com")).await;
        let victim_id = id(&victim).to_owned();
        let to_reassign: Vec<String> = {
            let mut ids = Vec::new();
            for _ in 0..3 {
                let task = app.create_task(id(&keeper), "todo").await;
                ids.push(id(&task).to_owned());
            }
            ids
        };

        let mut requests = Vec::new();
        for _ in 0..3 {
            requests.push(
                app.api(Method::POST, "/tasks")
                    .json(&json!({"title": "racing", "assignee_id": victim_id}))
                    .send(),
            );
        }
        for id in &to_reassign {
            requests.push(
                app.api(Method::PATCH, &format!("/tasks/{id}"))
                    .json(&json!({"assignee_id": victim_id}))
                    .send(),
            );
        }
        requests.insert(
            2,
            app.api(Method::DELETE, &format!("/users/{victim_id}"))
                .send(),
        );
        let responses = join_all(requests).await;
        for response in responses {
            let status = response.unwrap().status();
            assert!(
                [200, 201, 204, 409, 422].contains(&status.as_u16()),
                "unexpected {status} in round {round}"
            );
        }

        assert_eq!(orphans(&app).await, 0, "round {round}");
    }
}

/// The two ways a user delete and a task create for that user can
/// interleave, each made to happen: both requests are parked on the user's
/// row (held by the test) in a chosen order, then let go.
/// - The delete first: it goes through, and the create, whose check of the
///   user came too early, fails the database's foreign key (422).
/// - The create first: it is written, and the delete, whose question to
///   task-service came too early, is refused by the database (409).
///
/// Either way no unfinished task is left without its user.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delete_and_a_create_for_one_user_race_either_way_without_an_orphan() {
    let app = TestApp::spawn().await;
    for delete_first in [true, false] {
        let victim = id(&app
            .create_user(&format!("{delete_first}@example.com"))
            .await)
        .to_owned();
        let held = app
            .hold_locks(&format!(
                "SELECT 1 FROM users WHERE id = '{victim}' FOR UPDATE"
            ))
            .await;
        let delete = app.api(Method::DELETE, &format!("/users/{victim}")).send();
        let create = app
            .api(Method::POST, "/tasks")
            .json(&json!({"title": "racing", "assignee_id": victim}))
            .send();
        let (delete, create) = if delete_first {
            let delete = tokio::spawn(delete);
            app.wait_until_blocked("DELETE FROM users", 1).await;
            let create = tokio::spawn(create);
            app.wait_until_blocked("WITH t AS (INSERT INTO tasks", 1)
                .await;
            (delete, create)
        } else {
            let create = tokio::spawn(create);
            app.wait_until_blocked("WITH t AS (INSERT INTO tasks", 1)
                .await;
            let delete = tokio::spawn(delete);
            app.wait_until_blocked("DELETE FROM users", 1).await;
            (delete, create)
        };
        held.commit().await;
        let (delete, create) = (
            delete.await.unwrap().unwrap(),
            create.await.unwrap().unwrap(),
        );

        let sql = "SELECT count(*) FROM tasks WHERE assignee_id = $1::text::uuid";
        let tasks: i64 = app.row(sql, &victim).await.get(0);
        let user_stays = app.get(&format!("/users/{victim}")).await.status();
        if delete_first {
            assert_eq!(delete.status(), StatusCode::NO_CONTENT);
            assert_eq!(error_fields(create).await, ["assignee_id"]);
            assert_eq!((user_stays, tasks), (StatusCode::NOT_FOUND, 0));
        } else {
            assert_eq!(create.status(), StatusCode::CREATED);
            assert_detail(delete, StatusCode::CONFLICT, "was just given").await;
            assert_eq!((user_stays, tasks), (StatusCode::OK, 1));
        }
        assert_eq!(orphans(&app).await, 0, "delete first: {delete_first}");
    }
}
