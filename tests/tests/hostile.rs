//! Hostile input: every text field of every write, odd query strings and
//! paths. A client's mistake is a 4xx naming what is wrong, never a 5xx.

use api_tests::{TestApp, body, error_fields, id};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Values no text field may hold: NUL (Postgres cannot store it) and other
/// C0 controls.
const CONTROLS: [&str; 4] = ["nul\u{0}here", "\u{0}", "esc\u{1b}[31m", "bell\u{7}"];

#[tokio::test]
async fn control_characters_are_refused_in_every_text_field_with_422() {
    let app = TestApp::spawn().await;
    let user = app.create_user("walker@example.com").await;
    let user_id = id(&user).to_owned();
    let task = app.create_task(&user_id, "todo").await;
    let task_path = format!("/tasks/{}", id(&task));
    let user_path = format!("/users/{user_id}");

    // (method, path, a valid body, the text fields of that body)
    let writes: [(Method, &str, Value, &[&str]); 4] = [
        (
            Method::POST,
            "/users",
            json!({"email": "new@example.com", "full_name": "New", "role": "member"}),
            &["email", "full_name", "role"],
        ),
        (
            Method::PATCH,
            &user_path,
            json!({"email": "walker2@example.com", "full_name": "W", "role": "lead"}),
            &["email", "full_name", "role"],
        ),
        (
            Method::POST,
            "/tasks",
            json!({"title": "T", "description": "D", "assignee_id": user_id}),
            &["title", "description"],
        ),
        (
            Method::PATCH,
            &task_path,
            json!({"title": "T", "description": "D"}),
            &["title", "description"],
        ),
    ];
    for (method, path, valid, fields) in &writes {
        for field in *fields {
            for bad in CONTROLS {
                let mut request = valid.clone();
                request[*field] = json!(bad);
                let response = app
                    .api(method.clone(), path)
                    .json(&request)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    error_fields(response).await,
                    [*field],
                    "{method} {path} {field}={bad:?}"
                );
            }
        }
    }
    // Single-line fields refuse line breaks; a description keeps them.
    let two_lines = app
        .post("/tasks", &json!({"title": "a\nb", "assignee_id": user_id}))
        .await;
    assert_eq!(error_fields(two_lines).await, ["title"]);
    let described = app
        .patch(&task_path, &json!({"description": "line 1\r\nline 2\tend"}))
        .await;
    assert_eq!(described.status(), StatusCode::OK);

    // Nothing of the refused writes reached the database.
    assert_eq!(app.count_rows("users").await, 1);
    assert_eq!(app.count_rows("tasks").await, 1);
    let stored = body(app.get(&user_path).await).await;
    assert_eq!(stored, user);
}

#[tokio::test]
async fn odd_query_strings_and_paths_are_client_errors() {
    let app = TestApp::spawn().await;
    // Each is a 422 naming the value that is wrong (not a 401, a 404 or
    // any other 4xx that a broken check would give).
    for (path, field) in [
        ("/tasks?status=%00", "status"),
        ("/tasks?assignee_id=%00", "assignee_id"),
        (
            "/tasks?assignee_id=00000000-0000-0000-0000-00000000000%00",
            "assignee_id",
        ),
        ("/tasks?limit=%00", "limit"),
        ("/tasks?offset=99999999999999999999999", "offset"),
        ("/tasks?status=todo%00", "status"),
        ("/tasks/%00", "id"),
        ("/users/%00", "id"),
        ("/users?limit=1e3", "limit"),
        ("/tasks/stats?assignee_id=%FF%FE", "assignee_id"),
        ("/users/%C0%AF", "id"),
        ("/tasks?%00=1", "\u{0}"),
    ] {
        assert_eq!(
            error_fields(app.get(path).await).await,
            [field],
            "GET {path}"
        );
    }
    // Bytes that are not UTF-8, and JSON nested deeper than the parser takes.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for raw in [vec![0xff, 0xfe, b'{', b'}'], deep.into_bytes()] {
        let response = app
            .api(Method::POST, "/users")
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
}

/// `josé` typed as one code point (NFC) or as `e` + combining accent (NFD),
/// in any letter case, is one address: the second is a 409, and the address
/// is stored in NFC.
#[tokio::test]
async fn look_alike_emails_in_other_normal_forms_or_cases_are_one_person() {
    let app = TestApp::spawn().await;
    let nfd = "jose\u{301}@example.com";
    let created = app
        .post("/users", &json!({"email": nfd, "full_name": "José"}))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let user = body(created).await;
    assert_eq!(user["email"], "jos\u{e9}@example.com", "stored in NFC");

    for look_alike in [
        "jos\u{e9}@example.com",
        "JOS\u{c9}@EXAMPLE.COM",
        "JOSE\u{301}@Example.com",
    ] {
        let response = app
            .post("/users", &json!({"email": look_alike, "full_name": "Twin"}))
            .await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "{look_alike:?}");
    }
    let other = app.create_user("other@example.com").await;
    let renamed = app
        .patch(
            &format!("/users/{}", id(&other)),
            &json!({"email": "JOS\u{c9}@example.com"}),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::CONFLICT);
    assert_eq!(app.count_rows("users").await, 2);
}
