//! Task history (issue 21): every change to a task is recorded in the same
//! statement as the change — who, when, which field, from what to what,
//! creation included — and `GET /tasks/{id}/history` pages it, newest first.

use api_tests::team::Team;
use api_tests::{body, unknown};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// `(field, from, to, changed_by)` of each entry, as the API lists them.
fn summary(entries: &Value) -> Vec<(String, Value, Value, Value)> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["from"].clone(),
                e["to"].clone(),
                e["changed_by"].clone(),
            )
        })
        .collect()
}

fn total(response: &reqwest::Response) -> i64 {
    response.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn every_change_is_recorded_with_who_what_and_from_what_to_what() {
    let team = Team::new().await;
    let (admin, member) = (json!(team.admin_id), json!(team.member_id));
    let task = team.task_for(&team.member_id, "todo").await;
    let path = format!("/api/tasks/{task}");

    // The member moves their task and gives it a due date in one change;
    // the admin renames it and reassigns it to themself.
    let moved = team
        .as_member(
            Method::PATCH,
            &path,
            Some(&json!({"status": "in_progress", "due_date": "2026-12-01"})),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let renamed = team
        .as_admin(
            Method::PATCH,
            &path,
            Some(&json!({"title": "Renamed", "assignee_id": team.admin_id, "description": null})),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    // A change that changes nothing is no entry.
    let same = team
        .as_admin(Method::PATCH, &path, Some(&json!({"title": "Renamed"})))
        .await;
    assert_eq!(same.status(), StatusCode::OK);

    let history = team
        .as_member(Method::GET, &format!("{path}/history"), None)
        .await;
    assert_eq!(history.status(), StatusCode::OK);
    assert_eq!(total(&history), 5);
    let entries = body(history).await;
    assert_eq!(
        summary(&entries),
        [
            (
                "assignee_id".into(),
                member.clone(),
                admin.clone(),
                admin.clone()
            ),
            ("title".into(), json!("T"), json!("Renamed"), admin.clone()),
            (
                "due_date".into(),
                Value::Null,
                json!("2026-12-01"),
                member.clone()
            ),
            (
                "status".into(),
                json!("todo"),
                json!("in_progress"),
                member.clone()
            ),
            ("created".into(), Value::Null, json!("T"), admin.clone()),
        ]
    );
    // One change of several fields: one entry each, same time and person;
    // newest first by id.
    assert_eq!(entries[2]["changed_at"], entries[3]["changed_at"]);
    let ids: Vec<i64> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    assert!(
        entries
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["task_id"] == json!(task))
    );

    // Paged like the lists: X-Total-Count is over all pages.
    let page = team
        .as_admin(
            Method::GET,
            &format!("{path}/history?limit=2&offset=1"),
            None,
        )
        .await;
    assert_eq!(total(&page), 5);
    let page = body(page).await;
    assert_eq!(
        summary(&page).into_iter().map(|e| e.0).collect::<Vec<_>>(),
        ["title", "due_date"]
    );
    let past_end = team
        .as_admin(Method::GET, &format!("{path}/history?offset=9"), None)
        .await;
    assert_eq!((past_end.status(), total(&past_end)), (StatusCode::OK, 5));
    assert_eq!(body(past_end).await, json!([]));
}

#[tokio::test]
async fn a_refused_change_leaves_no_entry_and_unknown_tasks_are_404() {
    let team = Team::new().await;
    let task = team.task_for(&team.member_id, "todo").await;
    let path = format!("/api/tasks/{task}");
    // Stale (If-Match) and not allowed (a member, another's task): nothing
    // written, nothing recorded.
    let stale = team
        .app
        .api(Method::PATCH, &format!("/tasks/{task}"))
        .header("if-match", "\"7\"")
        .json(&json!({"title": "No"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let admins = team.task_for(&team.admin_id, "todo").await;
    let refused = team
        .as_member(
            Method::PATCH,
            &format!("/api/tasks/{admins}"),
            Some(&json!({"status": "done"})),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    for task in [&task, &admins] {
        let history = team
            .as_admin(Method::GET, &format!("/api/tasks/{task}/history"), None)
            .await;
        assert_eq!(total(&history), 1, "{task}");
    }

    // Programs with a token read it without the gateway too.
    let direct = team.app.get(&format!("/tasks/{task}/history")).await;
    assert_eq!(direct.status(), StatusCode::OK);
    let gone = team
        .app
        .get(&format!("{}/history", unknown("/tasks")))
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    for bad in [
        format!("/tasks/{task}/history?limit=0"),
        "/tasks/x/history".into(),
    ] {
        let response = team.app.get(&bad).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    // A deleted task takes its history with it.
    team.as_admin(Method::PATCH, &path, Some(&json!({"status": "done"})))
        .await;
    let deleted = team.as_admin(Method::DELETE, &path, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        team.app
            .get(&format!("/tasks/{task}/history"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let left = team
        .app
        .row(
            "SELECT count(*) FROM task_history WHERE task_id = $1::text::uuid",
            &task,
        )
        .await;
    assert_eq!(left.get::<_, i64>(0), 0);

    // A change the database makes itself names nobody: a deleted person's
    // done task loses its assignee.
    let leaver = team.app.create_user("leaver@example.com").await;
    let done = team.task_for(api_tests::id(&leaver), "done").await;
    let removed = team
        .as_admin(
            Method::DELETE,
            &format!("/api/users/{}", api_tests::id(&leaver)),
            None,
        )
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let history = team
        .as_admin(Method::GET, &format!("/api/tasks/{done}/history"), None)
        .await;
    let latest = &body(history).await[0];
    assert_eq!(
        (&latest["field"], &latest["to"], &latest["changed_by"]),
        (&json!("assignee_id"), &Value::Null, &Value::Null)
    );
}
