//! When a dependency fails: a JSON 503, no partial write, recovery without restart.

use std::time::Duration;

use api_tests::{ClosedPort, HangingServer, TestApp, assert_detail, body, id};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn database_down_is_503_and_recovers_without_restart() {
    let app = TestApp::spawn_with(|o| o.own_cluster = true).await;
    let user = app.create_user("before@example.com").await;

    app.cluster.stop();
    let new_user = json!({"email": "during@example.com", "full_name": "D"});
    let attempts = [
        app.get("/users").await,
        app.post("/users", &new_user).await,
        app.get("/tasks").await,
        app.delete(&format!("/users/{}", id(&user))).await,
        app.client
            .get(app.url("/users/health"))
            .send()
            .await
            .unwrap(),
        app.client
            .get(app.url("/tasks/health"))
            .send()
            .await
            .unwrap(),
    ];
    for response in attempts {
        let url = response.url().clone();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{url}");
        assert!(body(response).await["detail"].is_string(), "{url}");
    }

    app.cluster.restart();
    let users = body(app.get("/users").await).await;
    assert_eq!(
        users,
        json!([user]),
        "nothing written while down, nothing lost"
    );
    app.create_user("after@example.com").await;
}

#[tokio::test]
async fn user_service_unreachable_means_no_task_is_written() {
    let refusing = ClosedPort::bind();
    let app = TestApp::spawn_with(|o| {
        o.set("user_service_url", refusing.url.clone());
    })
    .await;
    // Seed a user directly: the way to user-service is what is dead.
    let row = app
        .db()
        .await
        .query_one(
            "INSERT INTO users (email, full_name) VALUES ('x@example.com', 'X') RETURNING id::text",
            &[],
        )
        .await
        .unwrap();
    let user_id: String = row.get(0);

    let response = app
        .post("/tasks", &json!({"title": "T", "assignee_id": user_id}))
        .await;
    assert_detail(response, StatusCode::SERVICE_UNAVAILABLE, "user service").await;
    assert_eq!(app.count_rows("tasks").await, 0);
}

/// Refusing or silent (accepts, never answers): either way a 503 within the
/// deadline, and the user stays.
#[tokio::test]
async fn task_service_unreachable_or_hanging_means_no_user_is_deleted() {
    let hanging = HangingServer::start().await;
    let refusing = ClosedPort::bind();
    for task_service in [refusing.url.clone(), hanging.url.clone()] {
        let app = TestApp::spawn_with(|o| {
            o.set("task_service_url", task_service.clone());
            o.set("service_timeout_ms", "1000");
        })
        .await;
        let user = app.create_user("keep@example.com").await;
        let path = format!("/users/{}", id(&user));
        let response = app
            .api(Method::DELETE, &path)
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .expect("an answer, not a hang");
        assert_detail(response, StatusCode::SERVICE_UNAVAILABLE, "task service").await;
        assert_eq!(app.get(&path).await.status(), StatusCode::OK);
    }
}
