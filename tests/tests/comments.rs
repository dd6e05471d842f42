//! Comments on tasks (issue 21): anyone signed in comments on any task;
//! authors edit and delete their own, admins delete any (never edit);
//! refusals are 403 with a `detail`; tasks carry their `comment_count`; a
//! task's comments go with it; every comment change reaches open boards
//! through the change feed.

use api_tests::feed::{entry, head, poll_until};
use api_tests::team::Team;
use api_tests::{assert_detail, body, error_fields, id, unknown};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

fn total(response: &Response) -> i64 {
    response.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Whose browser a request comes from.
#[derive(Clone, Copy)]
enum Who {
    Admin,
    Member,
}
use Who::{Admin, Member};

async fn send(team: &Team, who: Who, method: Method, path: &str, json: Option<&Value>) -> Response {
    match who {
        Admin => team.as_admin(method, path, json).await,
        Member => team.as_member(method, path, json).await,
    }
}

/// A comment by `who` on `task`, as created.
async fn comment(team: &Team, who: Who, task: &str, text: &str) -> Value {
    let path = format!("/api/tasks/{task}/comments");
    let created = send(
        team,
        who,
        Method::POST,
        &path,
        Some(&json!({ "body": text })),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    body(created).await
}

/// The path of `comment` (as created) through the gateway.
fn path_of(comment: &Value) -> String {
    format!(
        "/api/tasks/{}/comments/{}",
        comment["task_id"].as_str().unwrap(),
        id(comment)
    )
}

/// `who` changes `comment`'s text.
async fn edit(team: &Team, who: Who, comment: &Value, text: &str) -> Response {
    let new = json!({ "body": text });
    send(team, who, Method::PATCH, &path_of(comment), Some(&new)).await
}

/// `who` deletes `comment`.
async fn delete(team: &Team, who: Who, comment: &Value) -> Response {
    send(team, who, Method::DELETE, &path_of(comment), None).await
}

fn bodies(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect()
}

async fn comment_count(team: &Team, task: &str) -> i64 {
    let task = body(
        team.as_admin(Method::GET, &format!("/api/tasks/{task}"), None)
            .await,
    )
    .await;
    task["comment_count"].as_i64().unwrap()
}

#[tokio::test]
async fn anyone_comments_on_any_task_newest_first_and_tasks_count_them() {
    let team = Team::new().await;
    // The admin's task: a member cannot change it, but comments on it.
    let task = team.task_for(&team.admin_id, "todo").await;
    let other = team.task_for(&team.member_id, "todo").await;
    let first = comment(
        &team,
        Member,
        &task,
        "Is this <b>x</b>?\nSee https://example.com/a",
    )
    .await;
    assert_eq!(
        (
            &first["task_id"],
            &first["author_id"],
            &first["body"],
            &first["edited_at"]
        ),
        (
            &json!(task),
            &json!(team.member_id),
            &json!("Is this <b>x</b>?\nSee https://example.com/a"),
            &Value::Null
        ),
        "stored exactly as sent, by who acts"
    );
    comment(&team, Admin, &task, "second").await;
    comment(&team, Member, &task, "third").await;
    comment(&team, Admin, &other, "elsewhere").await;

    let list = team
        .as_member(Method::GET, &format!("/api/tasks/{task}/comments"), None)
        .await;
    assert_eq!((list.status(), total(&list)), (StatusCode::OK, 3));
    let list = body(list).await;
    assert_eq!(
        bodies(&list),
        [
            "third",
            "second",
            "Is this <b>x</b>?\nSee https://example.com/a"
        ]
    );
    // Paged like the history: X-Total-Count is over all pages.
    let page = team
        .as_admin(
            Method::GET,
            &format!("/api/tasks/{task}/comments?limit=1&offset=1"),
            None,
        )
        .await;
    assert_eq!(total(&page), 3);
    assert_eq!(bodies(&body(page).await), ["second"]);

    // Every answer about a task counts its comments; comments are not
    // changes to the task (its version stays).
    assert_eq!(comment_count(&team, &task).await, 3);
    let tasks = body(team.as_member(Method::GET, "/api/tasks", None).await).await;
    let counts: Vec<(String, i64)> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (id(t).to_owned(), t["comment_count"].as_i64().unwrap()))
        .collect();
    assert!(counts.contains(&(task.clone(), 3)), "{counts:?}");
    assert!(counts.contains(&(other.clone(), 1)), "{counts:?}");
    let moved = team
        .as_admin(
            Method::PATCH,
            &format!("/api/tasks/{task}"),
            Some(&json!({"status": "in_progress"})),
        )
        .await;
    let moved = body(moved).await;
    assert_eq!(
        (moved["comment_count"].as_i64(), moved["version"].as_i64()),
        (Some(3), Some(2))
    );

    // A program with the internal token comments as no one.
    let service = team
        .app
        .post(
            &format!("/tasks/{task}/comments"),
            &json!({"body": "from a service"}),
        )
        .await;
    assert_eq!(service.status(), StatusCode::CREATED);
    assert_eq!(body(service).await["author_id"], Value::Null);
}

#[tokio::test]
async fn authors_edit_and_delete_their_own_and_admins_delete_any() {
    let team = Team::new().await;
    let task = team.task_for(&team.member_id, "todo").await;
    let mine = comment(&team, Member, &task, "mine").await;
    let admins = comment(&team, Admin, &task, "the admin's").await;

    // The member edits their own: the text changes and edited_at is set.
    let edited = edit(&team, Member, &mine, "mine, edited").await;
    assert_eq!(edited.status(), StatusCode::OK);
    let edited = body(edited).await;
    assert_eq!(edited["body"], "mine, edited");
    assert!(edited["edited_at"].is_string(), "{edited}");
    assert_eq!(edited["created_at"], mine["created_at"]);
    // The same text again is no edit.
    let again = edit(&team, Member, &mine, "mine, edited").await;
    assert_eq!(body(again).await["edited_at"], edited["edited_at"]);

    // Nobody edits another's words, admins included; members do not delete
    // others' comments.
    let not_author = "Only its author can edit a comment";
    let refused = edit(&team, Member, &admins, "hijacked").await;
    assert_detail(refused, StatusCode::FORBIDDEN, not_author).await;
    let refused = edit(&team, Admin, &mine, "hijacked").await;
    assert_detail(refused, StatusCode::FORBIDDEN, not_author).await;
    let refused = delete(&team, Member, &admins).await;
    let only_own = "Members can delete only their own comments";
    assert_detail(refused, StatusCode::FORBIDDEN, only_own).await;
    // So with the member's personal API token, without the gateway.
    let direct = team
        .as_member_program(Method::DELETE, path_of(&admins).trim_start_matches("/api"))
        .await;
    assert_detail(direct, StatusCode::FORBIDDEN, only_own).await;
    let listed = send(
        &team,
        Admin,
        Method::GET,
        &format!("/api/tasks/{task}/comments"),
        None,
    )
    .await;
    assert_eq!(
        bodies(&body(listed).await),
        ["the admin's", "mine, edited"],
        "nothing refused was written"
    );

    // The member deletes their own; the admin deletes anyone's.
    assert_eq!(
        delete(&team, Member, &mine).await.status(),
        StatusCode::NO_CONTENT
    );
    let theirs = comment(&team, Member, &task, "moderate me").await;
    assert_eq!(
        delete(&team, Admin, &theirs).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&team, Admin, &theirs).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(comment_count(&team, &task).await, 1);
}

#[tokio::test]
async fn bad_comments_are_422_and_unknown_ones_404() {
    let team = Team::new().await;
    let task = team.task_for(&team.member_id, "todo").await;
    let path = format!("/tasks/{task}/comments");
    team.app
        .assert_invalid(
            Method::POST,
            &path,
            [
                (json!({}), vec!["body"]),
                (json!({"body": ""}), vec!["body"]),
                (json!({"body": " \n\t "}), vec!["body"]),
                (json!({"body": "c".repeat(4001)}), vec!["body"]),
                (json!({"body": "nul \u{0} here"}), vec!["body"]),
                (json!({"body": 7}), vec!["body"]),
                (json!({"body": null}), vec!["body"]),
                (
                    json!({"body": "ok", "author_id": team.admin_id}),
                    vec!["author_id"],
                ),
            ],
        )
        .await;
    // Characters, not bytes: 4000 of a two-byte letter fit.
    let long = team
        .app
        .post(&path, &json!({"body": "é".repeat(4000)}))
        .await;
    assert_eq!(long.status(), StatusCode::CREATED);
    let existing = body(long).await;
    let item = format!("{path}/{}", id(&existing));
    assert_eq!(
        error_fields(team.app.patch(&item, &json!({"body": ""})).await).await,
        ["body"]
    );
    for bad in [format!("{path}?limit=0"), "/tasks/x/comments".to_owned()] {
        let response = team.app.get(&bad).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let bad_id = team.app.delete(&format!("{path}/x")).await;
    assert_eq!(error_fields(bad_id).await, ["comment_id"]);

    // Unknown task or comment: 404 with a detail; a comment is found only
    // under its own task.
    let nowhere = format!("{}/comments", unknown("/tasks"));
    assert_eq!(team.app.get(&nowhere).await.status(), StatusCode::NOT_FOUND);
    assert_detail(
        team.app.post(&nowhere, &json!({"body": "hello"})).await,
        StatusCode::NOT_FOUND,
        "No task with id",
    )
    .await;
    let stranger = format!("{path}/{}", uuid::Uuid::new_v4());
    assert_detail(
        team.app.patch(&stranger, &json!({"body": "x"})).await,
        StatusCode::NOT_FOUND,
        "No comment with id",
    )
    .await;
    assert_eq!(
        team.app.delete(&stranger).await.status(),
        StatusCode::NOT_FOUND
    );
    let other = team.task_for(&team.member_id, "todo").await;
    let elsewhere = format!("/tasks/{other}/comments/{}", id(&existing));
    assert_eq!(
        team.app.delete(&elsewhere).await.status(),
        StatusCode::NOT_FOUND
    );
    // A method the path does not serve: 405 with Allow.
    let put = team.app.send(Method::PUT, &path, None).await;
    assert_eq!(put.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn comment_changes_reach_the_feed_and_go_with_their_task() {
    let team = Team::new().await;
    let task = team.task_for(&team.member_id, "todo").await;
    let start = head(&team).await;
    let kept = comment(&team, Member, &task, "kept").await;
    let dropped = comment(&team, Admin, &task, "dropped").await;
    let edited = edit(&team, Member, &kept, "kept, edited").await;
    assert_eq!(edited.status(), StatusCode::OK);
    assert_eq!(
        delete(&team, Admin, &dropped).await.status(),
        StatusCode::NO_CONTENT
    );

    // The task goes, and its comment with it: one change for the task,
    // none for the comments it took along.
    team.as_member(
        Method::PATCH,
        &format!("/api/tasks/{task}"),
        Some(&json!({"status": "done"})),
    )
    .await;
    let removed = team
        .as_member(Method::DELETE, &format!("/api/tasks/{task}"), None)
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);

    let (changes, _) = poll_until(&team, &start, 6).await;
    assert_eq!(
        changes,
        [
            entry("comment", &task, "created"),
            entry("comment", &task, "created"),
            entry("comment", &task, "changed"),
            entry("comment", &task, "deleted"),
            entry("task", &task, "changed"),
            entry("task", &task, "deleted"),
        ]
    );
    let left = team
        .app
        .row(
            "SELECT count(*) FROM task_comments WHERE task_id = $1::text::uuid",
            &task,
        )
        .await;
    assert_eq!(left.get::<_, i64>(0), 0);
    let listed = team.app.get(&format!("/tasks/{task}/comments")).await;
    assert_eq!(listed.status(), StatusCode::NOT_FOUND);
}
