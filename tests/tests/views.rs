//! Views in the URL (issue 22): the tasks list filters by due date
//! (`due=overdue|this_week|none`, relative to `today=`, the client's date),
//! combined with the other filters; each person keeps named saved views
//! of their own (`/views`), whose filters are checked as the list reads
//! them; another person's view is no view (404); a name taken is a 409.

use api_tests::team::Team;
use api_tests::{assert_detail, body, error_fields, id, unknown};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A task for the member, by the admin, due on `due` (or never), in `status`.
async fn task(team: &Team, title: &str, due: Option<&str>, status: &str) -> Value {
    let new =
        json!({"title": title, "assignee_id": team.member_id, "due_date": due, "status": status});
    let created = team.as_admin(Method::POST, "/api/tasks", Some(&new)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    body(created).await
}

/// The titles `path` lists (as the member), sorted.
async fn titles(team: &Team, path: &str) -> Vec<String> {
    let response = team.as_member(Method::GET, path, None).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let mut titles: Vec<String> = body(response)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect();
    titles.sort_unstable();
    titles
}

#[tokio::test]
async fn due_filters_follow_the_clients_today() {
    let team = Team::new().await;
    // Wednesday 2026-12-09: its ISO week ends on Sunday 2026-12-13.
    task(&team, "late", Some("2026-12-08"), "todo").await;
    task(&team, "late but done", Some("2026-12-01"), "done").await;
    task(&team, "today", Some("2026-12-09"), "in_progress").await;
    task(&team, "sunday", Some("2026-12-13"), "todo").await;
    task(&team, "next monday", Some("2026-12-14"), "todo").await;
    task(&team, "whenever", None, "todo").await;

    let wed = "today=2026-12-09";
    assert_eq!(
        titles(&team, &format!("/api/tasks?due=overdue&{wed}")).await,
        ["late"]
    );
    assert_eq!(
        titles(&team, &format!("/api/tasks?due=this_week&{wed}")).await,
        ["sunday", "today"]
    );
    assert_eq!(titles(&team, "/api/tasks?due=none").await, ["whenever"]);
    // Another day, another answer: on the Monday after, Sunday is overdue
    // and the week is the next one.
    let mon = "today=2026-12-14";
    assert_eq!(
        titles(&team, &format!("/api/tasks?due=overdue&{mon}")).await,
        ["late", "sunday", "today"]
    );
    assert_eq!(
        titles(&team, &format!("/api/tasks?due=this_week&{mon}")).await,
        ["next monday"]
    );
    // On a Sunday the week is that day.
    assert_eq!(
        titles(&team, "/api/tasks?due=this_week&today=2026-12-13").await,
        ["sunday"]
    );

    // Combined with the other filters, the search and paging.
    assert_eq!(
        titles(
            &team,
            &format!("/api/tasks?due=this_week&status=todo&{wed}")
        )
        .await,
        ["sunday"]
    );
    let admin_id = &team.admin_id;
    assert!(
        titles(
            &team,
            &format!("/api/tasks?due=overdue&assignee_id={admin_id}&{wed}")
        )
        .await
        .is_empty()
    );
    assert_eq!(
        titles(&team, &format!("/api/tasks?due=overdue&q=late&{mon}")).await,
        ["late"]
    );
    let page = team
        .as_member(
            Method::GET,
            &format!("/api/tasks?due=overdue&{mon}&limit=1"),
            None,
        )
        .await;
    assert_eq!(page.headers()["x-total-count"], "3");
    assert_eq!(body(page).await.as_array().unwrap().len(), 1);
    // Without `today`, the server's date: far-past dates are overdue.
    task(&team, "ancient", Some("2001-01-01"), "todo").await;
    assert!(
        titles(&team, "/api/tasks?due=overdue")
            .await
            .contains(&"ancient".to_owned())
    );

    // The ends of the calendar the API takes.
    for query in [
        "due=overdue&today=0002-01-01",
        "due=this_week&today=9998-12-31",
    ] {
        let response = team
            .as_member(Method::GET, &format!("/api/tasks?{query}"), None)
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{query}");
    }

    // Invalid values name their parameter.
    for (query, field) in [
        ("due=soon", "due"),
        ("due=", "due"),
        ("due=Overdue", "due"),
        ("due=overdue&today=2026-02-30", "today"),
        ("today=09.12.2026", "today"),
        ("due=overdue&today=0001-01-01", "today"),
        ("due=this_week&today=9999-12-31", "today"),
        ("due=none&due=overdue", "due"),
    ] {
        let response = team
            .as_member(Method::GET, &format!("/api/tasks?{query}"), None)
            .await;
        assert_eq!(error_fields(response).await, [field], "{query}");
    }
}

async fn create_view(team: &Team, as_member: bool, name: &str, query: &str) -> reqwest::Response {
    let new = json!({"name": name, "query": query});
    if as_member {
        team.as_member(Method::POST, "/api/views", Some(&new)).await
    } else {
        team.as_admin(Method::POST, "/api/views", Some(&new)).await
    }
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn people_keep_saved_views_of_their_own() {
    let team = Team::new().await;
    let created = create_view(&team, true, "Overdue", "?due=overdue&status=todo").await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let overdue = body(created).await;
    assert_eq!(location, format!("/api/views/{}", id(&overdue)));
    // Stored in the URL's form, without the "?".
    assert_eq!(
        (&overdue["name"], &overdue["query"]),
        (&json!("Overdue"), &json!("due=overdue&status=todo"))
    );
    let mine = format!("assignee_id={}", team.member_id);
    let created = create_view(&team, true, "mine", &mine).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let everything = create_view(&team, true, "Everything", "").await;
    assert_eq!(everything.status(), StatusCode::CREATED);

    // The list: theirs, by name whatever its case.
    let list = team.as_member(Method::GET, "/api/views", None).await;
    assert_eq!(list.headers()["x-total-count"], "3");
    assert_eq!(names(&body(list).await), ["Everything", "mine", "Overdue"]);

    // A name of theirs taken, whatever its case: 409 naming it.
    assert_detail(
        create_view(&team, true, "OVERDUE", "due=none").await,
        StatusCode::CONFLICT,
        "You already have a view named “OVERDUE”",
    )
    .await;

    // Another person: the same name is theirs to use; they see only theirs.
    let admins = create_view(&team, false, "Overdue", "due=overdue").await;
    assert_eq!(admins.status(), StatusCode::CREATED);
    let admins = body(admins).await;
    let list = team.as_admin(Method::GET, "/api/views", None).await;
    assert_eq!(names(&body(list).await), ["Overdue"]);

    // Another person's view is no view to anyone else, admins included.
    let members_path = format!("/api/views/{}", id(&overdue));
    let admins_path = format!("/api/views/{}", id(&admins));
    for (method, json) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"name": "mine now"}))),
        (Method::DELETE, None),
    ] {
        let response = team
            .as_admin(method.clone(), &members_path, json.as_ref())
            .await;
        assert_detail(response, StatusCode::NOT_FOUND, "no saved view").await;
        let response = team
            .as_member(method.clone(), &admins_path, json.as_ref())
            .await;
        assert_detail(response, StatusCode::NOT_FOUND, "no saved view").await;
    }
    let one = team.as_member(Method::GET, &members_path, None).await;
    assert_eq!(body(one).await["query"], "due=overdue&status=todo");

    // Renamed and refiltered; a rename onto another of theirs is a 409.
    let patch = json!({"name": "Late", "query": "due=overdue"});
    let renamed = team
        .as_member(Method::PATCH, &members_path, Some(&patch))
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let renamed = body(renamed).await;
    assert_eq!(
        (&renamed["name"], &renamed["query"]),
        (&json!("Late"), &json!("due=overdue"))
    );
    let taken = team
        .as_member(Method::PATCH, &members_path, Some(&json!({"name": "Mine"})))
        .await;
    assert_detail(taken, StatusCode::CONFLICT, "“Mine”").await;
    let empty = team
        .as_member(Method::PATCH, &members_path, Some(&json!({})))
        .await;
    assert_eq!(body(empty).await["name"], "Late");

    // Deleted: gone for its owner, the others' views untouched.
    let deleted = team.as_member(Method::DELETE, &members_path, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let again = team.as_member(Method::DELETE, &members_path, None).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let unknown_view = team
        .as_member(Method::GET, &unknown("/api/views"), None)
        .await;
    assert_eq!(unknown_view.status(), StatusCode::NOT_FOUND);
    let list = team.as_member(Method::GET, "/api/views", None).await;
    assert_eq!(names(&body(list).await), ["Everything", "mine"]);
    let list = team.as_admin(Method::GET, "/api/views", None).await;
    assert_eq!(names(&body(list).await), ["Overdue"]);
    assert_eq!(team.app.count_rows("saved_views").await, 3);
}

#[tokio::test]
async fn saved_views_are_checked_like_the_board_filters() {
    let team = Team::new().await;
    let post = |json: Value| {
        let team = &team;
        async move {
            team.as_member(Method::POST, "/api/views", Some(&json))
                .await
        }
    };
    for (json, fields) in [
        (json!({}), vec!["name", "query"]),
        (json!({"name": "", "query": ""}), vec!["name"]),
        (json!({"name": " x", "query": ""}), vec!["name"]),
        (json!({"name": "x".repeat(81), "query": ""}), vec!["name"]),
        (json!({"name": "a\nb", "query": ""}), vec!["name"]),
        (json!({"name": 5, "query": ""}), vec!["name"]),
        (json!({"name": "x", "query": "due=soon"}), vec!["query"]),
        (json!({"name": "x", "query": "status=open"}), vec!["query"]),
        (
            json!({"name": "x", "query": "assignee_id=me"}),
            vec!["query"],
        ),
        (json!({"name": "x", "query": "label=x"}), vec!["query"]),
        (json!({"name": "x", "query": "limit=5"}), vec!["query"]),
        (
            json!({"name": "x", "query": "today=2026-12-09"}),
            vec!["query"],
        ),
        (json!({"name": "x", "query": "q=%21%21"}), vec!["query"]),
        (
            json!({"name": "x", "query": "q=a+".repeat(600)}),
            vec!["query"],
        ),
        (
            json!({"name": "x", "query": "", "owner_id": team.admin_id}),
            vec!["owner_id"],
        ),
    ] {
        assert_eq!(
            error_fields(post(json.clone()).await).await,
            fields,
            "{json}"
        );
    }
    // The message names the filter that is wrong.
    let refused = body(post(json!({"name": "x", "query": "status=todo&due=later"})).await).await;
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("due: must be"), "{message}");
    // The same checks on a change; nothing was stored.
    let view = body(post(json!({"name": "ok", "query": "status=todo"})).await).await;
    let path = format!("/api/views/{}", id(&view));
    let response = team
        .as_member(Method::PATCH, &path, Some(&json!({"query": "due=soon"})))
        .await;
    assert_eq!(error_fields(response).await, ["query"]);
    let response = team
        .as_member(Method::GET, "/api/views/not-a-uuid", None)
        .await;
    assert_eq!(error_fields(response).await, ["id"]);
    let kept = team.as_member(Method::GET, &path, None).await;
    assert_eq!(body(kept).await["query"], "status=todo");
    assert_eq!(team.app.count_rows("saved_views").await, 1);
}

#[tokio::test]
async fn a_service_has_no_saved_views() {
    let team = Team::new().await;
    // The internal token alone names no person.
    let response = team.app.get("/views").await;
    assert_detail(response, StatusCode::FORBIDDEN, "belong to a person").await;
}

#[tokio::test]
async fn an_importing_admin_keeps_their_saved_views() {
    // Another workspace's export, whose admin has the same email (another id).
    let source = Team::new().await;
    let export = source.as_admin(Method::GET, "/api/export", None).await;
    assert_eq!(export.status(), StatusCode::OK);
    let export = body(export).await;

    // A fresh workspace's admin saves a view, then imports: they become the
    // file's admin, and their view goes with them.
    let fresh = Team::with_admin_only(api_tests::TestApp::spawn().await).await;
    let created = create_view(&fresh, false, "Mine, overdue", "due=overdue").await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let imported = fresh
        .as_admin(Method::POST, "/api/import", Some(&export))
        .await;
    assert_eq!(imported.status(), StatusCode::CREATED);
    let session = body(fresh.as_admin(Method::GET, "/auth/session", None).await).await;
    assert_eq!(session["user"]["id"], source.admin_id.as_str());
    let list = fresh.as_admin(Method::GET, "/api/views", None).await;
    assert_eq!(names(&body(list).await), ["Mine, overdue"]);
}
