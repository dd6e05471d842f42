//! The invariants that must hold when requests race.

use api_tests::{TestApp, id};
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

        let orphans = app
            .db()
            .await
            .query_one(
                "SELECT count(*) FROM tasks t WHERE t.status <> 'done' \
                 AND (t.assignee_id IS NULL OR NOT EXISTS (SELECT 1 FROM users u WHERE u.id = t.assignee_id))",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(orphans.get::<_, i64>(0), 0, "round {round}");
    }
}
