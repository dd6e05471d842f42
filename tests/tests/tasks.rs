//! The `/tasks` contract, end to end.

use api_tests::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

#[tokio::test]
async fn create_embeds_the_assignee_and_defaults_the_status() {
    let app = TestApp::spawn().await;
    let user = app.create_user("ada@example.com").await;
    let response = app
        .api(Method::POST, "/tasks")
        .json(&json!({"title": "Write the notes", "assignee_id": user["id"], "due_date": "2028-02-29"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let task = json_of(response).await;
    assert_eq!(location, format!("/tasks/{}", task["id"].as_str().unwrap()));
    assert_eq!(task["status"], "todo");
    assert_eq!(task["description"], Value::Null);
    assert_eq!(task["due_date"], "2028-02-29");
    assert_eq!(task["assignee_id"], user["id"]);
    assert_eq!(
        task["assignee"],
        json!({"id": user["id"], "email": "ada@example.com", "full_name": user["full_name"], "role": "member"})
    );
    assert_eq!(task["created_at"], task["updated_at"]);
}

#[tokio::test]
async fn text_is_stored_exactly_as_sent() {
    let app = TestApp::spawn().await;
    let user = app.create_user("text@example.com").await;
    let title = "  Ünïcødé ✓ 'quotes' \"double\" ); DROP TABLE tasks; --  ";
    let description = "line one\nline two\t🙂 \\ backslash";
    let task = json_of(
        app.api(Method::POST, "/tasks")
            .json(&json!({"title": title, "description": description, "assignee_id": user["id"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let fetched = json_of(
        app.api(
            Method::GET,
            &format!("/tasks/{}", task["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(fetched["title"], title);
    assert_eq!(fetched["description"], description);
    let count = app
        .db()
        .await
        .query_one("SELECT count(*) FROM tasks", &[])
        .await
        .unwrap();
    assert_eq!(count.get::<_, i64>(0), 1);
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
    for (body, fields) in cases {
        let response = app
            .api(Method::POST, "/tasks")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let error = json_of(response).await;
        let got: Vec<&str> = error["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(got, fields, "{body}");
    }
    let count = app
        .db()
        .await
        .query_one("SELECT count(*) FROM tasks", &[])
        .await
        .unwrap();
    assert_eq!(count.get::<_, i64>(0), 0);
}

#[tokio::test]
async fn list_filters_by_assignee_and_status_newest_first() {
    let app = TestApp::spawn().await;
    let a = app.create_user("a@example.com").await;
    let b = app.create_user("b@example.com").await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let first = app.create_task(a, "todo").await;
    app.create_task(a, "done").await;
    let third = app.create_task(a, "todo").await;
    app.create_task(b, "todo").await;

    let response = app
        .api(Method::GET, &format!("/tasks?assignee_id={a}&status=todo"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-total-count"], "2");
    let tasks: Vec<Value> = response.json().await.unwrap();
    let ids: Vec<&Value> = tasks.iter().map(|t| &t["id"]).collect();
    assert_eq!(ids, [&third["id"], &first["id"]]);

    let all = app.api(Method::GET, "/tasks?limit=1").send().await.unwrap();
    assert_eq!(all.headers()["x-total-count"], "4");
    assert_eq!(all.json::<Vec<Value>>().await.unwrap().len(), 1);

    let done = app
        .api(Method::GET, "/tasks?status=done")
        .send()
        .await
        .unwrap();
    assert_eq!(done.headers()["x-total-count"], "1");

    let none = app
        .api(
            Method::GET,
            &format!("/tasks?assignee_id={}", uuid::Uuid::new_v4()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(none.headers()["x-total-count"], "0");

    for bad in ["status=open", "assignee_id=42", "limit=1000", "colour=red"] {
        let response = app
            .api(Method::GET, &format!("/tasks?{bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

#[tokio::test]
async fn get_embeds_the_assignee_unless_asked_not_to() {
    let app = TestApp::spawn().await;
    let user = app.create_user("e@example.com").await;
    let task = app.create_task(user["id"].as_str().unwrap(), "todo").await;
    let path = format!("/tasks/{}", task["id"].as_str().unwrap());

    let full = json_of(app.api(Method::GET, &path).send().await.unwrap()).await;
    assert_eq!(full["assignee"]["email"], "e@example.com");
    let bare = json_of(
        app.api(Method::GET, &format!("{path}?include_assignee=false"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(bare["assignee"], Value::Null);
    assert_eq!(bare["assignee_id"], user["id"]);

    let bad = app
        .api(Method::GET, &format!("{path}?include_assignee=maybe"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let missing = app
        .api(Method::GET, &format!("/tasks/{}", uuid::Uuid::new_v4()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let malformed = app.api(Method::GET, "/tasks/123").send().await.unwrap();
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn patch_moves_updated_at_and_validates_a_new_assignee() {
    let app = TestApp::spawn().await;
    let ada = app.create_user("ada@example.com").await;
    let bob = app.create_user("bob@example.com").await;
    let task = app.create_task(ada["id"].as_str().unwrap(), "todo").await;
    let path = format!("/tasks/{}", task["id"].as_str().unwrap());

    let moved = json_of(
        app.api(Method::PATCH, &path)
            .json(&json!({"status": "in_progress", "due_date": "2030-01-31", "description": "now"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(moved["status"], "in_progress");
    assert_eq!(moved["due_date"], "2030-01-31");
    assert_eq!(moved["title"], task["title"]);
    assert!(moved["updated_at"].as_str() > task["updated_at"].as_str());
    assert_eq!(moved["created_at"], task["created_at"]);

    let cleared = json_of(
        app.api(Method::PATCH, &path)
            .json(&json!({"due_date": null, "description": null, "assignee_id": bob["id"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(cleared["due_date"], Value::Null);
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["assignee"]["email"], "bob@example.com");

    let unknown = app
        .api(Method::PATCH, &path)
        .json(&json!({"assignee_id": uuid::Uuid::new_v4()}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for body in [
        json!({"status": "nope"}),
        json!({"title": ""}),
        json!({"title": null}),
        json!({"due_date": "2030-02-30"}),
    ] {
        let response = app
            .api(Method::PATCH, &path)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
    }
    let after = json_of(app.api(Method::GET, &path).send().await.unwrap()).await;
    assert_eq!(
        after["assignee_id"], bob["id"],
        "failed patches changed nothing"
    );

    let missing = app
        .api(Method::PATCH, &format!("/tasks/{}", uuid::Uuid::new_v4()))
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_done_tasks_can_be_deleted() {
    let app = TestApp::spawn().await;
    let user = app.create_user("d@example.com").await;
    let task = app
        .create_task(user["id"].as_str().unwrap(), "in_progress")
        .await;
    let path = format!("/tasks/{}", task["id"].as_str().unwrap());

    let refused = app.api(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        json_of(refused).await["detail"]
            .as_str()
            .unwrap()
            .contains("in_progress")
    );

    app.api(Method::PATCH, &path)
        .json(&json!({"status": "done"}))
        .send()
        .await
        .unwrap();
    let deleted = app.api(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.api(Method::GET, &path).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.api(Method::DELETE, &path)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn reopening_a_task_whose_assignee_was_deleted_needs_a_new_assignee() {
    let app = TestApp::spawn().await;
    let gone = app.create_user("gone@example.com").await;
    let task = app.create_task(gone["id"].as_str().unwrap(), "done").await;
    let deleted = app
        .api(
            Method::DELETE,
            &format!("/users/{}", gone["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    let path = format!("/tasks/{}", task["id"].as_str().unwrap());
    let reopen = app
        .api(Method::PATCH, &path)
        .json(&json!({"status": "todo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reopen.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(reopen).await["errors"][0]["field"], "assignee_id");

    let new = app.create_user("new@example.com").await;
    let reopened = app
        .api(Method::PATCH, &path)
        .json(&json!({"status": "todo", "assignee_id": new["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(reopened.status(), StatusCode::OK);
}

#[tokio::test]
async fn stats_count_a_users_tasks_per_status() {
    let app = TestApp::spawn().await;
    let user = app.create_user("s@example.com").await;
    let id = user["id"].as_str().unwrap();
    for status in ["todo", "todo", "done"] {
        app.create_task(id, status).await;
    }
    let stats = json_of(
        app.api(Method::GET, &format!("/tasks/stats?assignee_id={id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        stats["counts"],
        json!({"todo": 2, "in_progress": 0, "done": 1})
    );
    let missing = app.api(Method::GET, "/tasks/stats").send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
