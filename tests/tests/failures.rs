//! When a dependency fails: a JSON 503, no partial write, recovery without restart.

use api_tests::{TestApp, dead_url};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn database_down_is_503_and_recovers_without_restart() {
    let app = TestApp::spawn_with(|o| o.own_cluster = true).await;
    let user = app.create_user("before@example.com").await;

    app.cluster.stop();
    for (method, path, body) in [
        (Method::GET, "/users".to_owned(), None),
        (
            Method::POST,
            "/users".to_owned(),
            Some(json!({"email": "during@example.com", "full_name": "D"})),
        ),
        (Method::GET, "/tasks".to_owned(), None),
        (
            Method::DELETE,
            format!("/users/{}", user["id"].as_str().unwrap()),
            None,
        ),
    ] {
        let mut request = app.api(method.clone(), &path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "{method} {path}"
        );
        assert!(response.json::<Value>().await.unwrap()["detail"].is_string());
    }
    for path in ["/users/health", "/tasks/health"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
    }

    app.cluster.restart();
    let users: Vec<Value> = app
        .api(Method::GET, "/users")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let emails: Vec<&str> = users.iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(
        emails,
        ["before@example.com"],
        "nothing written while down, nothing lost"
    );
    app.create_user("after@example.com").await;
}

#[tokio::test]
async fn user_service_unreachable_means_no_task_is_written() {
    let app = TestApp::spawn_with(|o| {
        o.set("user_service_url", dead_url());
    })
    .await;
    // Seed a user directly: the API path to user-service is what is dead.
    let db = app.db().await;
    let row = db
        .query_one(
            "INSERT INTO users (email, full_name) VALUES ('x@example.com', 'X') RETURNING id::text",
            &[],
        )
        .await
        .unwrap();
    let user_id: String = row.get(0);

    let response = app
        .api(Method::POST, "/tasks")
        .json(&json!({"title": "T", "assignee_id": user_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("user service")
    );
    let count = db
        .query_one("SELECT count(*) FROM tasks", &[])
        .await
        .unwrap();
    assert_eq!(count.get::<_, i64>(0), 0);
}

#[tokio::test]
async fn task_service_unreachable_means_no_user_is_deleted() {
    let app = TestApp::spawn_with(|o| {
        o.set("task_service_url", dead_url());
    })
    .await;
    let user = app.create_user("keep@example.com").await;
    let path = format!("/users/{}", user["id"].as_str().unwrap());
    let response = app.api(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("task service")
    );
    assert_eq!(
        app.api(Method::GET, &path).send().await.unwrap().status(),
        StatusCode::OK
    );
}
