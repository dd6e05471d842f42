//! No lost update (issue 21): every task has a version, `ETag` says it and
//! `If-Match` makes a change conditional on it. A change based on an old
//! version is refused with 412 and the current task, and nothing is written.

use api_tests::{TestApp, body, id};
use futures::future::join_all;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

fn etag(response: &Response) -> &str {
    response.headers()["etag"].to_str().unwrap()
}

/// A change to task `task_id` sent to task-service with `If-Match: if_match`.
async fn change(app: &TestApp, task_id: &str, if_match: &str, change: &Value) -> Response {
    app.api(Method::PATCH, &format!("/tasks/{task_id}"))
        .header("if-match", if_match)
        .json(change)
        .send()
        .await
        .unwrap()
}

async fn stored_title_and_version(app: &TestApp, task_id: &str) -> (String, i64) {
    let row = app
        .row(
            "SELECT title, version FROM tasks WHERE id = $1::text::uuid",
            task_id,
        )
        .await;
    (row.get(0), row.get(1))
}

#[tokio::test]
async fn a_change_based_on_an_old_version_gets_412_with_the_current_task() {
    let app = TestApp::spawn().await;
    let user = app.create_user("ada@example.com").await;
    let new = json!({"title": "Draft", "assignee_id": user["id"]});
    let created = app.post("/tasks", &new).await;
    assert_eq!(etag(&created), "\"1\"");
    let task = body(created).await;
    assert_eq!(task["version"], 1);
    let task_id = id(&task);
    let shown = app.get(&format!("/tasks/{task_id}")).await;
    assert_eq!(etag(&shown), "\"1\"");

    // Ada saves first, from version 1: applied, version 2.
    let first = change(&app, task_id, "\"1\"", &json!({"title": "Ada's"})).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(etag(&first), "\"2\"");
    assert_eq!(body(first).await["version"], 2);

    // Bob saves from version 1 too: refused, and told what is current.
    let second = change(&app, task_id, "\"1\"", &json!({"title": "Bob's"})).await;
    assert_eq!(second.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(etag(&second), "\"2\"");
    let refused = body(second).await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("nothing was changed"),
        "{refused}"
    );
    assert_eq!(refused["current"]["title"], "Ada's");
    assert_eq!(refused["current"]["version"], 2);
    assert_eq!(
        stored_title_and_version(&app, task_id).await,
        ("Ada's".to_owned(), 2)
    );

    // Tags that are not ours never match (strong comparison); `*` and one
    // current tag in a list do.
    for stale in ["W/\"2\"", "2", "\"x\"", "\"1\", \"3\""] {
        let refused = change(&app, task_id, stale, &json!({"title": "No"})).await;
        assert_eq!(refused.status(), StatusCode::PRECONDITION_FAILED, "{stale}");
    }
    // An empty change is a read, but still checked: it says the version moved.
    let empty = change(&app, task_id, "\"1\"", &json!({})).await;
    assert_eq!(empty.status(), StatusCode::PRECONDITION_FAILED);
    // (`*` moves it to version 3, which the list then names.)
    for current in ["*", "\"1\", \"3\""] {
        let applied = change(&app, task_id, current, &json!({"status": "in_progress"})).await;
        assert_eq!(applied.status(), StatusCode::OK, "{current}");
    }
    // Without If-Match, the change applies to whatever is current (API
    // clients of before versions keep working: last writer wins).
    let blind = app
        .patch(&format!("/tasks/{task_id}"), &json!({"title": "Blind"}))
        .await;
    assert_eq!(blind.status(), StatusCode::OK);
    assert_eq!(
        stored_title_and_version(&app, task_id).await,
        ("Blind".to_owned(), 5)
    );
}

#[tokio::test]
async fn a_delete_based_on_an_old_version_deletes_nothing() {
    let app = TestApp::spawn().await;
    let user = app.create_user("ada@example.com").await;
    let task = app.create_task(id(&user), "done").await;
    let task_id = id(&task);
    let reopened = change(&app, task_id, "\"1\"", &json!({"title": "Still done"})).await;
    assert_eq!(reopened.status(), StatusCode::OK);

    let path = format!("/tasks/{task_id}");
    let stale = app
        .api(Method::DELETE, &path)
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let refused = body(stale).await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("nothing was deleted"),
        "{refused}"
    );
    assert_eq!(refused["current"]["title"], "Still done");
    assert_eq!(app.count_rows("tasks").await, 1);

    let current = app
        .api(Method::DELETE, &path)
        .header("if-match", "\"2\"")
        .send()
        .await
        .unwrap();
    assert_eq!(current.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.count_rows("tasks").await, 0);
}

/// Through the gateway, as the UI sends them: ten saves from one version at
/// once. Exactly one is applied; the nine others are told, with the task as
/// the one left it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_saves_from_one_version_let_exactly_one_through() {
    let app = TestApp::spawn().await;
    let admin = app.session_cookie().await;
    let user = app.create_user("ada@example.com").await;
    let task = app.create_task(id(&user), "todo").await;
    let path = app.url(&format!("/api/tasks/{}", id(&task)));
    let saves = (0..10).map(|n| {
        app.client_at(1)
            .patch(&path)
            .header("origin", app.url(""))
            .header("cookie", &admin)
            .header("if-match", "\"1\"")
            .json(&json!({"title": format!("Save {n}")}))
            .send()
    });
    let mut applied = Vec::new();
    let mut refused = Vec::new();
    for response in join_all(saves).await {
        let response = response.unwrap();
        let status = response.status();
        let tag = etag(&response).to_owned();
        let answer = body(response).await;
        match status {
            StatusCode::OK => applied.push((tag, answer["title"].clone())),
            StatusCode::PRECONDITION_FAILED => {
                refused.push((tag, answer["current"]["title"].clone()))
            }
            other => panic!("{other}: {answer}"),
        }
    }
    assert_eq!(
        (applied.len(), refused.len()),
        (1, 9),
        "{applied:?} {refused:?}"
    );
    assert!(
        refused.iter().all(|r| *r == applied[0]),
        "{applied:?} {refused:?}"
    );
    assert_eq!(applied[0].0, "\"2\"");
    let stored = stored_title_and_version(&app, id(&task)).await;
    assert_eq!((Value::from(stored.0), stored.1), (applied[0].1.clone(), 2));
}
