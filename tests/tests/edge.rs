//! What every endpoint does at the edge: authentication, bad input, health.

use std::time::Duration;

use api_tests::{TestApp, id};
use reqwest::{Method, StatusCode};
use serde_json::Value;

const ENDPOINTS: [(&str, &str); 10] = [
    ("POST", "/users"),
    ("GET", "/users"),
    ("GET", "/users/00000000-0000-0000-0000-000000000000"),
    ("PATCH", "/users/00000000-0000-0000-0000-000000000000"),
    ("DELETE", "/users/00000000-0000-0000-0000-000000000000"),
    ("POST", "/tasks"),
    ("GET", "/tasks"),
    ("GET", "/tasks/00000000-0000-0000-0000-000000000000"),
    ("PATCH", "/tasks/00000000-0000-0000-0000-000000000000"),
    ("DELETE", "/tasks/00000000-0000-0000-0000-000000000000"),
];

#[tokio::test]
async fn every_endpoint_requires_the_bearer_token() {
    let app = TestApp::spawn().await;
    for (method, path) in ENDPOINTS {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let wrong_token = format!("{}x", app.api_token);
        let attempts = [
            app.client.request(method.clone(), app.url(path)),
            app.client
                .request(method.clone(), app.url(path))
                .bearer_auth(&wrong_token),
            app.client
                .request(method.clone(), app.url(path))
                .bearer_auth(""),
            app.client
                .request(method.clone(), app.url(path))
                .header("authorization", format!("Basic {}", app.api_token)),
        ];
        for attempt in attempts {
            let response = attempt.send().await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path}"
            );
            assert_eq!(response.headers()["www-authenticate"], "Bearer");
            assert!(response.json::<Value>().await.unwrap()["detail"].is_string());
        }
    }
}

#[tokio::test]
async fn health_endpoints_are_open() {
    let app = TestApp::spawn().await;
    for (path, component) in [
        ("/users/health", "user-service"),
        ("/tasks/health", "task-service"),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok");
        assert_eq!(body["component"], component);
    }
}

#[tokio::test]
async fn malformed_bodies_are_client_errors_never_5xx() {
    let app = TestApp::spawn().await;
    let user = app.create_user("edge@example.com").await;
    let user_path = format!("/users/{}", id(&user));
    let big = format!(
        "{{\"email\":\"a@b.co\",\"full_name\":\"{}\"}}",
        "x".repeat(70 * 1024)
    );
    let cases: [(&str, &str, &str, Vec<u8>, u16); 9] = [
        (
            "/users",
            "POST",
            "application/json",
            b"{\"email\":".to_vec(),
            400,
        ),
        (
            "/users",
            "POST",
            "application/json",
            b"not json".to_vec(),
            400,
        ),
        (
            "/users",
            "POST",
            "application/json",
            b"[1,2,3]".to_vec(),
            422,
        ),
        (
            "/users",
            "POST",
            "application/json",
            b"\"text\"".to_vec(),
            422,
        ),
        ("/users", "POST", "text/plain", b"{}".to_vec(), 415),
        ("/users", "POST", "application/json", big.into_bytes(), 413),
        (
            "/tasks",
            "POST",
            "application/x-www-form-urlencoded",
            b"title=x".to_vec(),
            415,
        ),
        (
            &user_path,
            "PATCH",
            "application/json",
            b"{\"role\": [\"admin\"]}".to_vec(),
            422,
        ),
        (
            "/tasks",
            "POST",
            "application/json",
            b"{\"title\": {\"nested\": true}}".to_vec(),
            422,
        ),
    ];
    for (path, method, content_type, body, status) in cases {
        let response = app
            .api(Method::from_bytes(method.as_bytes()).unwrap(), path)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            status,
            "{method} {path} {content_type}"
        );
        assert!(response.json::<Value>().await.unwrap()["detail"].is_string());
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_are_json_errors() {
    let app = TestApp::spawn().await;
    let response = app.api(Method::GET, "/users/a/b").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app.api(Method::PUT, "/tasks").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(response.json::<Value>().await.unwrap()["detail"].is_string());
}

#[tokio::test]
async fn request_ids_are_kept_or_made() {
    let app = TestApp::spawn().await;
    let response = app
        .api(Method::GET, "/users")
        .header("x-request-id", "trace-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-123");
    let response = app.api(Method::GET, "/users").send().await.unwrap();
    let made = response.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::try_parse(made).is_ok(), "{made}");
}

/// A request that sends its headers and part of its body, then nothing
/// more. Each component that reads bodies must answer it with an error of
/// its own (408, JSON) rather than wait for the rest for ever, and write
/// nothing. The answer is one like any other: tagged with a request id and,
/// from the frontend, with the UI's security headers.
#[tokio::test]
async fn a_body_that_stalls_after_the_headers_gets_a_timely_error() {
    /// Far longer than any deadline the app may set for a body.
    const NO_HANG: Duration = Duration::from_secs(120);
    let app = TestApp::spawn().await;
    let stalled = ["/users", "/auth/login", "/api/users"].map(|path| {
        let app = &app;
        async move {
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n\
                 Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
                 Content-Length: 100\r\n\r\n{{\"email\":",
                host = app.addr(),
                token = app.api_token,
            );
            let answer = tokio::time::timeout(NO_HANG, app.raw_exchange(head.as_bytes())).await;
            (path, answer)
        }
    });
    for (path, answer) in futures::future::join_all(stalled).await {
        let answer = answer.unwrap_or_else(|_| panic!("POST {path}: no answer in {NO_HANG:?}"));
        assert!(answer.starts_with("HTTP/1.1 408"), "POST {path}: {answer}");
        assert!(answer.contains("\"detail\""), "POST {path}: {answer}");
        let head = answer.to_ascii_lowercase();
        assert!(head.contains("\r\nx-request-id: "), "POST {path}: {answer}");
        if path != "/users" {
            assert!(
                head.contains("\r\ncontent-security-policy: "),
                "POST {path}: {answer}"
            );
        }
    }
    assert_eq!(app.count_rows("users").await, 0);
}
