//! The `/tasks` contract, end to end.

use api_tests::{TestApp, assert_detail, body, error_fields, id, unknown};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn create_embeds_the_assignee_and_defaults_the_status() {
    let app = TestApp::spawn().await;
    let user = app.create_user("ada@example.com").await;
    let request =
        json!({"title": "Write the notes", "assignee_id": user["id"], "due_date": "2028-02-29"});
    let response = app.post("/tasks", &request).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let task = body(response).await;
    assert_eq!(location, format!("/tasks/{}", id(&task)));
    assert_eq!(task["status"], "todo");
    assert_eq!(task["description"], Value::Null);
    assert_eq!(task["due_date"], "2028-02-29");
    assert_eq!(task["assignee_id"], user["id"]);
    let expected = json!({"id": user["id"], "email": "ada@example.com", "full_name": user["full_name"], "role": "member"});
    assert_eq!(task["assignee"], expected);
    assert_eq!(task["created_at"], task["updated_at"]);
}

#[tokio::test]
async fn text_is_stored_exactly_as_sent() {
    let app = TestApp::spawn().await;
    let user = app.create_user("text@example.com").await;
    let title = "  Ünïcødé ✓ 'quotes' \"double\" ); DROP TABLE tasks; --  ";
    let description = "line one\nline two\t🙂 \\ backslash";
    let request = json!({"title": title, "description": description, "assignee_id": user["id"]});
    let task = body(app.post("/tasks", &request).await).await;
    let fetched = body(app.get(&format!("/tasks/{}", id(&task))).await).await;
    assert_eq!(fetched["title"], title);
    assert_eq!(fetched["description"], description);
    assert_eq!(app.count_rows("tasks").await, 1);
}

#[tokio::test]
async fn invalid_tasks_are_422_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let user = app.create_user("v@example.com").await;
    let id = user["id"].clone();
    let cases = [
        (json!({"assignee_id": id}), vec!["title"]),
        (json!({"title": " ", "assignee_id": id}), vec!["title"]),
        (
            json!({"title": "t".repeat(256), "assignee_id": id}),
            vec!["title"],
        ),
        (
            json!({"title": "T", "assignee_id": id, "description": "d".repeat(1025)}),
            vec!["description"],
        ),
        (
            json!({"title": "T", "assignee_id": id, "status": "blocked"}),
            vec!["status"],
        ),
        (
            json!({"title": "T", "assignee_id": id, "due_date": "2027-02-29"}),
            vec!["due_date"],
        ),
        (
            json!({"title": "T", "assignee_id": id, "due_date": "31/12/2027"}),
            vec!["due_date"],
        ),
        (
            json!({"title": "T", "assignee_id": "nope"}),
            vec!["assignee_id"],
        ),
        (json!({"title": "T"}), vec!["assignee_id"]),
        (
            json!({"title": ["T"], "assignee_id": 5}),
            vec!["title", "assignee_id"],
        ),
        (
            json!({"title": "T", "assignee_id": uuid::Uuid::new_v4()}),
            vec!["assignee_id"],
        ),
    ];
    app.assert_invalid(Method::POST, "/tasks", cases).await;
    assert_eq!(app.count_rows("tasks").await, 0);
}

#[tokio::test]
async fn list_filters_by_assignee_and_status_newest_first() {
    let (app, [a, b]) = TestApp::with_users(["a@example.com", "b@example.com"]).await;
    let first = app.create_task(id(&a), "todo").await;
    app.create_task(id(&a), "done").await;
    let third = app.create_task(id(&a), "todo").await;
    app.create_task(id(&b), "todo").await;

    let response = app
        .get(&format!("/tasks?assignee_id={}&status=todo", id(&a)))
        .await;
    assert_eq!(response.headers()["x-total-count"], "2");
    let tasks = body(response).await;
    let ids: Vec<&str> = tasks.as_array().unwrap().iter().map(id).collect();
    assert_eq!(ids, [id(&third), id(&first)]);

    let all = app.get("/tasks?limit=1").await;
    assert_eq!(all.headers()["x-total-count"], "4");
    assert_eq!(body(all).await.as_array().unwrap().len(), 1);
    assert_eq!(
        app.get("/tasks?status=done").await.headers()["x-total-count"],
        "1"
    );
    let nobody = app
        .get(&format!("/tasks?assignee_id={}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(nobody.headers()["x-total-count"], "0");

    for bad in ["status=open", "assignee_id=42", "limit=1000", "colour=red"] {
        let response = app.get(&format!("/tasks?{bad}")).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

#[tokio::test]
async fn get_embeds_the_assignee_unless_asked_not_to() {
    let (app, [user]) = TestApp::with_users(["e@example.com"]).await;
    let task = app.create_task(id(&user), "todo").await;
    let path = format!("/tasks/{}", id(&task));

    assert_eq!(
        body(app.get(&path).await).await["assignee"]["email"],
        "e@example.com"
    );
    let bare = body(app.get(&format!("{path}?include_assignee=false")).await).await;
    assert_eq!(bare["assignee"], Value::Null);
    assert_eq!(bare["assignee_id"], user["id"]);

    let maybe = app.get(&format!("{path}?include_assignee=maybe")).await;
    assert_eq!(error_fields(maybe).await, ["include_assignee"]);
    let missing = app.get(&unknown("/tasks")).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_fields(app.get("/tasks/123").await).await, ["id"]);
}

#[tokio::test]
async fn patch_moves_updated_at_and_validates_a_new_assignee() {
    let (app, [ada, bob]) = TestApp::with_users(["ada@example.com", "bob@example.com"]).await;
    let task = app.create_task(id(&ada), "todo").await;
    let path = format!("/tasks/{}", id(&task));

    let change = json!({"status": "in_progress", "due_date": "2030-01-31", "description": "now"});
    let moved = body(app.patch(&path, &change).await).await;
    assert_eq!(moved["status"], "in_progress");
    assert_eq!(moved["due_date"], "2030-01-31");
    assert_eq!(moved["title"], task["title"]);
    assert!(moved["updated_at"].as_str() > task["updated_at"].as_str());
    assert_eq!(moved["created_at"], task["created_at"]);

    let clear = json!({"due_date": null, "description": null, "assignee_id": bob["id"]});
    let cleared = body(app.patch(&path, &clear).await).await;
    assert_eq!(cleared["due_date"], Value::Null);
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["assignee"]["email"], "bob@example.com");

    let invalid = [
        (
            json!({"assignee_id": uuid::Uuid::new_v4()}),
            ["assignee_id"],
        ),
        (json!({"status": "nope"}), ["status"]),
        (json!({"title": ""}), ["title"]),
        (json!({"title": null}), ["title"]),
        (json!({"due_date": "2030-02-30"}), ["due_date"]),
    ];
    app.assert_invalid(Method::PATCH, &path, invalid).await;
    assert_eq!(
        body(app.get(&path).await).await["assignee_id"],
        bob["id"],
        "failed patches changed nothing"
    );

    let missing = app.patch(&unknown("/tasks"), &json!({"title": "x"})).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_done_tasks_can_be_deleted() {
    let (app, [user]) = TestApp::with_users(["d@example.com"]).await;
    let task = app.create_task(id(&user), "in_progress").await;
    let path = format!("/tasks/{}", id(&task));

    let refused = app.delete(&path).await;
    assert_detail(refused, StatusCode::CONFLICT, "in_progress").await;

    assert_eq!(
        app.patch(&path, &json!({"status": "done"})).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.delete(&path).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.delete(&path).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn reopening_a_task_whose_assignee_was_deleted_needs_a_new_assignee() {
    let app = TestApp::spawn().await;
    let gone = app.create_user("gone@example.com").await;
    let task = app.create_task(id(&gone), "done").await;
    assert_eq!(
        app.delete(&format!("/users/{}", id(&gone))).await.status(),
        StatusCode::NO_CONTENT
    );

    let path = format!("/tasks/{}", id(&task));
    assert_eq!(
        error_fields(app.patch(&path, &json!({"status": "todo"})).await).await,
        ["assignee_id"]
    );

    let new = app.create_user("new@example.com").await;
    let reopened = app
        .patch(&path, &json!({"status": "todo", "assignee_id": new["id"]}))
        .await;
    assert_eq!(reopened.status(), StatusCode::OK);
}

#[tokio::test]
async fn stats_count_a_users_tasks_per_status() {
    let app = TestApp::spawn().await;
    let user = app.create_user("s@example.com").await;
    for status in ["todo", "todo", "done"] {
        app.create_task(id(&user), status).await;
    }
    let stats = body(
        app.get(&format!("/tasks/stats?assignee_id={}", id(&user)))
            .await,
    )
    .await;
    assert_eq!(
        stats["counts"],
        json!({"todo": 2, "in_progress": 0, "done": 1})
    );
    assert_eq!(
        error_fields(app.get("/tasks/stats").await).await,
        ["assignee_id"]
    );
}
