//! The `/users` contract, end to end.

use api_tests::{TestApp, assert_detail, body, detail, error_fields, id, unknown};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn create_returns_201_with_location_and_default_role() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            "/users",
            &json!({"email": "ada@example.com", "full_name": "  Ada Lovelace "}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let user = body(response).await;
    assert_eq!(location, format!("/users/{}", id(&user)));
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["full_name"], "Ada Lovelace");
    assert_eq!(user["role"], "member");
    assert!(user["created_at"].as_str().unwrap().ends_with('Z'));

    assert_eq!(body(app.get(&location).await).await, user);
}

#[tokio::test]
async fn email_is_unique_regardless_of_case() {
    let (app, _) = TestApp::with_users(["grace@example.com"]).await;
    let response = app
        .post(
            "/users",
            &json!({"email": "Grace@EXAMPLE.com", "full_name": "Grace"}),
        )
        .await;
    assert_detail(response, StatusCode::CONFLICT, "already exists").await;
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
    app.assert_invalid(Method::POST, "/users", cases).await;
    assert_eq!(app.count_rows("users").await, 0, "nothing was written");
}

#[tokio::test]
async fn list_is_newest_first_paginated_with_total() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        app.create_user(&format!("u{i}@example.com")).await;
    }
    let response = app.get("/users?limit=2&offset=1").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "5");
    let page = body(response).await;
    let emails: Vec<&str> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["u3@example.com", "u2@example.com"]);

    let past_end = app.get("/users?offset=10").await;
    assert_eq!(past_end.headers()["x-total-count"], "5");
    assert_eq!(body(past_end).await, json!([]));

    for bad in [
        "limit=0",
        "limit=501",
        "limit=abc",
        "offset=-1",
        "sort=name",
    ] {
        let response = app.get(&format!("/users?{bad}")).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

#[tokio::test]
async fn get_unknown_is_404_and_bad_id_is_422() {
    let app = TestApp::spawn().await;
    let response = app.get(&unknown("/users")).await;
    detail(response, StatusCode::NOT_FOUND).await;
    assert_eq!(
        error_fields(app.get("/users/not-a-uuid").await).await,
        ["id"]
    );
}

#[tokio::test]
async fn patch_changes_only_given_fields() {
    let app = TestApp::spawn().await;
    let user = app.create_user("linus@example.com").await;
    let other = app.create_user("other@example.com").await;
    let path = format!("/users/{}", id(&user));

    let response = app.patch(&path, &json!({"role": "admin"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let patched = body(response).await;
    assert_eq!(patched["role"], "admin");
    assert_eq!(patched["email"], user["email"]);
    assert_eq!(patched["full_name"], user["full_name"]);

    assert_eq!(
        body(app.patch(&path, &json!({})).await).await,
        patched,
        "{{}} changes nothing"
    );

    let shouted = other["email"].as_str().unwrap().to_uppercase();
    let taken = app.patch(&path, &json!({"email": shouted})).await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);

    assert_eq!(
        error_fields(app.patch(&path, &json!({"email": null})).await).await,
        ["email"]
    );

    let missing = app.patch(&unknown("/users"), &json!({"role": "x"})).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        body(app.get(&path).await).await,
        patched,
        "failed patches changed nothing"
    );
}

#[tokio::test]
async fn delete_is_refused_while_tasks_are_unfinished() {
    let app = TestApp::spawn().await;
    let user = app.create_user("busy@example.com").await;
    let user_path = format!("/users/{}", id(&user));
    let todo = app.create_task(id(&user), "todo").await;
    let in_progress = app.create_task(id(&user), "in_progress").await;
    app.create_task(id(&user), "done").await;

    let response = app.delete(&user_path).await;
    let detail = detail(response, StatusCode::CONFLICT).await;
    assert!(
        detail.contains("2 unfinished tasks (1 to do, 1 in progress)"),
        "{detail}"
    );
    assert_eq!(app.get(&user_path).await.status(), StatusCode::OK);

    // Finish the open ones; then the delete goes through.
    for task in [&todo, &in_progress] {
        let done = app
            .patch(&format!("/tasks/{}", id(task)), &json!({"status": "done"}))
            .await;
        assert_eq!(done.status(), StatusCode::OK);
    }
    assert_eq!(
        app.delete(&user_path).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get(&user_path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.delete(&user_path).await.status(), StatusCode::NOT_FOUND);

    // Their done tasks stay readable, with no assignee.
    let task = body(app.get(&format!("/tasks/{}", id(&todo))).await).await;
    assert_eq!(task["status"], "done");
    assert_eq!(task["assignee_id"], Value::Null);
    assert_eq!(task["assignee"], Value::Null);
}
