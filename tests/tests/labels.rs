//! Labels (issue 22): admins keep a set of named labels in the palette's
//! colours; everyone signed in reads them; refusals are 403 with a
//! `detail`, a name taken is a 409; tasks carry any number of them
//! (`label_ids` in, `labels` out, in their history too), the board filters
//! by one or more (all of them, or any); a rename, a new colour or a
//! deletion shows on every task and reaches open boards through the feed.

use api_tests::feed::{entry, head, poll_until};
use api_tests::team::Team;
use api_tests::{assert_detail, body, error_fields, id, unknown};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A label made by the admin's browser, as created.
async fn label(team: &Team, name: &str, color: &str) -> Value {
    let new = json!({ "name": name, "color": color });
    let created = team.as_admin(Method::POST, "/api/labels", Some(&new)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let label = body(created).await;
    assert_eq!(location, format!("/api/labels/{}", id(&label)));
    label
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect()
}

fn titles(list: &Value) -> Vec<&str> {
    let mut titles: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    titles.sort_unstable();
    titles
}

/// A task titled `title` for the member, by the admin, with `labels`.
async fn task_with(team: &Team, title: &str, labels: &[&Value]) -> Value {
    let ids: Vec<&str> = labels.iter().map(|l| id(l)).collect();
    let new = json!({"title": title, "assignee_id": team.member_id, "label_ids": ids});
    let created = team.as_admin(Method::POST, "/api/tasks", Some(&new)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    body(created).await
}

async fn get(team: &Team, path: &str) -> Value {
    let response = team.as_member(Method::GET, path, None).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    body(response).await
}

#[tokio::test]
async fn admins_manage_labels_and_everyone_reads_them() {
    let team = Team::new().await;
    let bug = label(&team, "bug", "red").await;
    assert_eq!(
        (&bug["name"], &bug["color"], &bug["task_count"]),
        (&json!("bug"), &json!("red"), &json!(0))
    );
    label(&team, "Design", "purple").await;
    label(&team, "chore", "gray").await;

    // Everyone signed in reads them, by name whatever its case.
    let list = team.as_member(Method::GET, "/api/labels", None).await;
    assert_eq!(list.headers()["x-total-count"], "3");
    assert_eq!(names(&body(list).await), ["bug", "chore", "Design"]);
    let one = get(&team, &format!("/api/labels/{}", id(&bug))).await;
    assert_eq!(one["name"], "bug");

    // Members may not write them: 403 with the reason, nothing written.
    let only_admins = "Only admins can manage labels.";
    let path = format!("/api/labels/{}", id(&bug));
    let refused = [
        team.as_member(
            Method::POST,
            "/api/labels",
            Some(&json!({"name": "mine", "color": "blue"})),
        )
        .await,
        team.as_member(Method::PATCH, &path, Some(&json!({"name": "x"})))
            .await,
        team.as_member(Method::DELETE, &path, None).await,
    ];
    for response in refused {
        assert_detail(response, StatusCode::FORBIDDEN, only_admins).await;
    }
    // So with the member's personal API token, without the gateway.
    let direct = team
        .as_member_program(Method::DELETE, &format!("/labels/{}", id(&bug)))
        .await;
    assert_detail(direct, StatusCode::FORBIDDEN, only_admins).await;
    assert_eq!(team.app.count_rows("labels").await, 3);

    // Names are unique whatever their case: 409, on create and rename.
    let taken = team
        .as_admin(
            Method::POST,
            "/api/labels",
            Some(&json!({"name": "BUG", "color": "blue"})),
        )
        .await;
    assert_detail(taken, StatusCode::CONFLICT, "already a label named “BUG”").await;
    let design = format!("/api/labels/{}", id(&label(&team, "ux", "teal").await));
    let taken = team
        .as_admin(Method::PATCH, &design, Some(&json!({"name": "Chore"})))
        .await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);

    // Rename and recolour; `{}` changes nothing; a label's own case may change.
    let renamed = team
        .as_admin(
            Method::PATCH,
            &path,
            Some(&json!({"name": "Bug", "color": "orange"})),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let renamed = body(renamed).await;
    assert_eq!(
        (&renamed["name"], &renamed["color"]),
        (&json!("Bug"), &json!("orange"))
    );
    let same = body(team.as_admin(Method::PATCH, &path, Some(&json!({}))).await).await;
    assert_eq!(same, renamed);

    // Deleted: gone, and a second delete is a 404.
    assert_eq!(
        team.as_admin(Method::DELETE, &path, None).await.status(),
        StatusCode::NO_CONTENT
    );
    for method in [Method::GET, Method::DELETE] {
        let again = team.as_admin(method, &path, None).await;
        assert_detail(again, StatusCode::NOT_FOUND, "No label with id").await;
    }
    let gone = team
        .as_admin(Method::PATCH, &path, Some(&json!({"name": "back"})))
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_labels_are_422_and_unknown_ones_404() {
    let team = Team::new().await;
    team.app
        .assert_invalid(
            Method::POST,
            "/labels",
            [
                (json!({}), vec!["name", "color"]),
                (json!({"name": "", "color": "red"}), vec!["name"]),
                (json!({"name": "  ", "color": "red"}), vec!["name"]),
                (json!({"name": " bug", "color": "red"}), vec!["name"]),
                (json!({"name": "a\nb", "color": "red"}), vec!["name"]),
                (
                    json!({"name": "n".repeat(51), "color": "red"}),
                    vec!["name"],
                ),
                (json!({"name": "bug", "color": "#ff0000"}), vec!["color"]),
                (json!({"name": "bug", "color": "Red"}), vec!["color"]),
                (json!({"name": 7, "color": null}), vec!["name", "color"]),
                (
                    json!({"name": "bug", "color": "red", "id": "x"}),
                    vec!["id"],
                ),
            ],
        )
        .await;
    assert_eq!(team.app.count_rows("labels").await, 0);
    // 50 characters, not bytes.
    let long = team
        .app
        .post("/labels", &json!({"name": "é".repeat(50), "color": "teal"}))
        .await;
    assert_eq!(long.status(), StatusCode::CREATED);
    let existing = format!("/labels/{}", id(&body(long).await));
    assert_eq!(
        error_fields(team.app.patch(&existing, &json!({"name": null})).await).await,
        ["name"]
    );
    assert_eq!(
        error_fields(team.app.patch(&existing, &json!({"color": "mauve"})).await).await,
        ["color"]
    );
    for bad in ["/labels?limit=0", "/labels/x", "/labels?sort=name"] {
        let response = team.app.get(bad).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let malformed = team
        .app
        .client
        .post(team.app.url("/labels"))
        .bearer_auth(&team.app.api_token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let nowhere = unknown("/labels");
    assert_eq!(team.app.get(&nowhere).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        team.app.delete(&nowhere).await.status(),
        StatusCode::NOT_FOUND
    );
    let put = team.app.send(Method::PUT, "/labels", None).await;
    assert_eq!(put.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn tasks_carry_labels_and_the_board_filters_by_them() {
    let team = Team::new().await;
    let (bug, ux, urgent) = (
        label(&team, "bug", "red").await,
        label(&team, "UX", "purple").await,
        label(&team, "urgent", "orange").await,
    );
    // Given at creation, an id twice counts once; shown by name.
    let both = task_with(&team, "both", &[&ux, &bug, &ux]).await;
    assert_eq!(names(&both["labels"]), ["bug", "UX"]);
    assert_eq!(
        both["labels"][0],
        json!({"id": id(&bug), "name": "bug", "color": "red"})
    );
    let only_bug = task_with(&team, "only bug", &[&bug]).await;
    let only_ux = task_with(&team, "only ux", &[&ux]).await;
    let none = task_with(&team, "none", &[]).await;
    assert_eq!(none["labels"], json!([]));
    let plain = team.task_for(&team.member_id, "todo").await;
    assert_eq!(
        get(&team, &format!("/api/tasks/{plain}")).await["labels"],
        json!([])
    );
    let count = get(&team, &format!("/api/labels/{}", id(&bug))).await;
    assert_eq!(count["task_count"], 2);

    // Filters: all the labels listed (repeated or comma-separated), or any.
    let (b, u) = (id(&bug), id(&ux));
    for (query, want) in [
        (format!("label={b}"), vec!["both", "only bug"]),
        (format!("label={b}&label={u}"), vec!["both"]),
        (format!("label={b},{u}"), vec!["both"]),
        (format!("label={b},{u}&label_match=all"), vec!["both"]),
        (
            format!("label={b},{u}&label_match=any"),
            vec!["both", "only bug", "only ux"],
        ),
        (format!("label={}", id(&urgent)), vec![]),
        (format!("label={}", uuid::Uuid::new_v4()), vec![]),
        (
            format!("label={u}&assignee_id={}&status=todo", team.member_id),
            vec!["both", "only ux"],
        ),
    ] {
        let response = team
            .as_member(Method::GET, &format!("/api/tasks?{query}"), None)
            .await;
        assert_eq!(
            response.headers()["x-total-count"],
            want.len().to_string().as_str(),
            "{query}"
        );
        assert_eq!(titles(&body(response).await), want, "{query}");
    }
    for bad in ["label=", "label=x", "label_match=some"] {
        let response = team
            .as_member(Method::GET, &format!("/api/tasks?{bad}"), None)
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    // Set by PATCH as a whole: the version moves and the history names them.
    let path = format!("/api/tasks/{}", id(&both));
    let set = team
        .as_member(
            Method::PATCH,
            &path,
            Some(&json!({"label_ids": [id(&urgent), b]})),
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    let set = body(set).await;
    assert_eq!(names(&set["labels"]), ["bug", "urgent"]);
    assert_eq!(set["version"], 2);
    // Other fields leave them alone.
    let moved = team
        .as_member(
            Method::PATCH,
            &path,
            Some(&json!({"status": "in_progress"})),
        )
        .await;
    assert_eq!(names(&body(moved).await["labels"]), ["bug", "urgent"]);
    let history = get(&team, &format!("{path}/history")).await;
    let labelled: Vec<(&Value, &Value)> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["field"] == "labels")
        .map(|e| (&e["from"], &e["to"]))
        .collect();
    assert_eq!(labelled, [(&json!("bug, UX"), &json!("bug, urgent"))]);
    let cleared = team
        .as_member(Method::PATCH, &path, Some(&json!({"label_ids": []})))
        .await;
    assert_eq!(body(cleared).await["labels"], json!([]));

    // Client mistakes are 422 on `label_ids`; nothing is written.
    let ghost = uuid::Uuid::new_v4().to_string();
    for bad in [
        json!({"label_ids": null}),
        json!({"label_ids": "x"}),
        json!({"label_ids": ["x"]}),
        json!({"label_ids": [ghost]}),
        json!({"label_ids": (0..21).map(|_| uuid::Uuid::new_v4().to_string()).collect::<Vec<_>>()}),
    ] {
        let response = team.as_member(Method::PATCH, &path, Some(&bad)).await;
        assert_eq!(error_fields(response).await, ["label_ids"], "{bad}");
    }
    let new = json!({"title": "ghostly", "assignee_id": team.member_id, "label_ids": [ghost]});
    let refused = team.as_admin(Method::POST, "/api/tasks", Some(&new)).await;
    assert_eq!(error_fields(refused).await, ["label_ids"]);
    assert_eq!(team.app.count_rows("tasks").await, 5);

    // Members set labels only on the tasks they may change.
    let admins = team.task_for(&team.admin_id, "todo").await;
    let refused = team
        .as_member(
            Method::PATCH,
            &format!("/api/tasks/{admins}"),
            Some(&json!({"label_ids": [b]})),
        )
        .await;
    assert_detail(refused, StatusCode::FORBIDDEN, "Members can change").await;

    // A rename or a new colour shows on every task with the label, without
    // moving its version; a deleted label leaves every task.
    let before = get(&team, &format!("/api/tasks/{}", id(&only_bug))).await;
    let renamed = team
        .as_admin(
            Method::PATCH,
            &format!("/api/labels/{b}"),
            Some(&json!({"name": "defect", "color": "pink"})),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let after = get(&team, &format!("/api/tasks/{}", id(&only_bug))).await;
    assert_eq!(
        after["labels"],
        json!([{"id": b, "name": "defect", "color": "pink"}])
    );
    assert_eq!(after["version"], before["version"]);
    let deleted = team
        .as_admin(Method::DELETE, &format!("/api/labels/{u}"), None)
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let after = get(&team, &format!("/api/tasks/{}", id(&only_ux))).await;
    assert_eq!(after["labels"], json!([]));
    let listed = get(&team, "/api/tasks").await;
    assert!(
        listed.as_array().unwrap().iter().all(|t| t["labels"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["id"] != u)),
        "{listed}"
    );
    // A task's deletion takes its labels along, not the labels.
    let done = format!("/api/tasks/{}", id(&only_bug));
    team.as_member(Method::PATCH, &done, Some(&json!({"status": "done"})))
        .await;
    assert_eq!(
        team.as_member(Method::DELETE, &done, None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        get(&team, &format!("/api/labels/{b}")).await["task_count"],
        0
    );
}

#[tokio::test]
async fn label_changes_reach_the_feed() {
    let team = Team::new().await;
    let task = task_with(&team, "watched", &[]).await;
    let start = head(&team).await;
    let bug = label(&team, "bug", "red").await;
    let path = format!("/api/labels/{}", id(&bug));
    let renamed = team
        .as_admin(Method::PATCH, &path, Some(&json!({"name": "defect"})))
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    // The same values again are no change.
    team.as_admin(Method::PATCH, &path, Some(&json!({"name": "defect"})))
        .await;
    // Setting a task's labels is a change to the task.
    let set = team
        .as_admin(
            Method::PATCH,
            &format!("/api/tasks/{}", id(&task)),
            Some(&json!({"label_ids": [id(&bug)]})),
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(
        team.as_admin(Method::DELETE, &path, None).await.status(),
        StatusCode::NO_CONTENT
    );
    let (changes, _) = poll_until(&team, &start, 4).await;
    assert_eq!(
        changes,
        [
            entry("label", id(&bug), "created"),
            entry("label", id(&bug), "changed"),
            entry("task", id(&task), "changed"),
            entry("label", id(&bug), "deleted"),
        ]
    );
}
