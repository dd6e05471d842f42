//! The `/users` contract, end to end.

use api_tests::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn create_returns_201_with_location_and_default_role() {
    let app = TestApp::spawn().await;
    let response = app
        .api(Method::POST, "/users")
        .json(&json!({"email": "ada@example.com", "full_name": "  Ada Lovelace "}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let user: Value = response.json().await.unwrap();
    assert_eq!(location, format!("/users/{}", user["id"].as_str().unwrap()));
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["full_name"], "Ada Lovelace");
    assert_eq!(user["role"], "member");
    assert!(user["created_at"].as_str().unwrap().ends_with('Z'));

    let fetched: Value = app
        .api(Method::GET, &location)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, user);
}

#[tokio::test]
async fn email_is_unique_regardless_of_case() {
    let app = TestApp::spawn().await;
    app.create_user("grace@example.com").await;
    let response = app
        .api(Method::POST, "/users")
        .json(&json!({"email": "Grace@EXAMPLE.com", "full_name": "Grace"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("already exists"));
}

#[tokio::test]
async fn invalid_fields_are_422_with_one_error_per_field() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            json!({"email": "not-an-email", "full_name": "X"}),
            vec!["email"],
        ),
        (
            json!({"email": "a@b.co", "full_name": "   "}),
            vec!["full_name"],
        ),
        (
            json!({"email": "a@b.co", "full_name": "x".repeat(256)}),
            vec!["full_name"],
        ),
        (
            json!({"email": "a@b.co", "full_name": "X", "role": ""}),
            vec!["role"],
        ),
        (
            json!({"email": "a@b.co", "full_name": "X", "role": "r".repeat(51)}),
            vec!["role"],
        ),
        (json!({"full_name": 42}), vec!["email", "full_name"]),
        (
            json!({"email": "a@b.co", "full_name": "X", "admin": true}),
            vec!["admin"],
        ),
    ];
    for (body, fields) in cases {
        let response = app
            .api(Method::POST, "/users")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let error: Value = response.json().await.unwrap();
        let got: Vec<&str> = error["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(got, fields, "{body}");
        assert!(error["detail"].is_string());
    }
    let count: Value = app
        .api(Method::GET, "/users")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(count, json!([]), "nothing was written");
}

#[tokio::test]
async fn list_is_newest_first_paginated_with_total() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        app.create_user(&format!("u{i}@example.com")).await;
    }
    let response = app
        .api(Method::GET, "/users?limit=2&offset=1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "5");
    let page: Vec<Value> = response.json().await.unwrap();
    let emails: Vec<&str> = page.iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["u3@example.com", "u2@example.com"]);

    let past_end = app
        .api(Method::GET, "/users?offset=10")
        .send()
        .await
        .unwrap();
    assert_eq!(past_end.headers()["x-total-count"], "5");
    assert_eq!(past_end.json::<Vec<Value>>().await.unwrap().len(), 0);

    for bad in [
        "limit=0",
        "limit=501",
        "limit=abc",
        "offset=-1",
        "sort=name",
    ] {
        let response = app
            .api(Method::GET, &format!("/users?{bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

#[tokio::test]
async fn get_unknown_is_404_and_bad_id_is_422() {
    let app = TestApp::spawn().await;
    let missing = uuid::Uuid::new_v4();
    let response = app
        .api(Method::GET, &format!("/users/{missing}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.json::<Value>().await.unwrap()["detail"].is_string());
    let response = app
        .api(Method::GET, "/users/not-a-uuid")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn patch_changes_only_given_fields() {
    let app = TestApp::spawn().await;
    let user = app.create_user("linus@example.com").await;
    let other = app.create_user("other@example.com").await;
    let path = format!("/users/{}", user["id"].as_str().unwrap());

    let response = app
        .api(Method::PATCH, &path)
        .json(&json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let patched: Value = response.json().await.unwrap();
    assert_eq!(patched["role"], "admin");
    assert_eq!(patched["email"], user["email"]);
    assert_eq!(patched["full_name"], user["full_name"]);

    let unchanged: Value = app
        .api(Method::PATCH, &path)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged, patched);

    let taken = app
        .api(Method::PATCH, &path)
        .json(&json!({"email": other["email"].as_str().unwrap().to_uppercase()}))
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), StatusCode::CONFLICT);

    let invalid = app
        .api(Method::PATCH, &path)
        .json(&json!({"email": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let missing = format!("/users/{}", uuid::Uuid::new_v4());
    let response = app
        .api(Method::PATCH, &missing)
        .json(&json!({"role": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delete_is_refused_while_tasks_are_unfinished() {
    let app = TestApp::spawn().await;
    let user = app.create_user("busy@example.com").await;
    let id = user["id"].as_str().unwrap();
    let todo = app.create_task(id, "todo").await;
    app.create_task(id, "in_progress").await;
    app.create_task(id, "done").await;

    let response = app
        .api(Method::DELETE, &format!("/users/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let detail = response.json::<Value>().await.unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        detail.contains("2 unfinished tasks (1 to do, 1 in progress)"),
        "{detail}"
    );

    // Finish the open ones; then the delete goes through.
    let tasks: Vec<Value> = app
        .api(Method::GET, &format!("/tasks?assignee_id={id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for task in &tasks {
        let path = format!("/tasks/{}", task["id"].as_str().unwrap());
        let done = app
            .api(Method::PATCH, &path)
            .json(&json!({"status": "done"}))
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), StatusCode::OK);
    }
    let response = app
        .api(Method::DELETE, &format!("/users/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let gone = app
        .api(Method::GET, &format!("/users/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    // Their done tasks stay readable, with no assignee.
    let path = format!("/tasks/{}", todo["id"].as_str().unwrap());
    let task: Value = app
        .api(Method::GET, &path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(task["status"], "done");
    assert_eq!(task["assignee_id"], Value::Null);
    assert_eq!(task["assignee"], Value::Null);

    let again = app
        .api(Method::DELETE, &format!("/users/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}
