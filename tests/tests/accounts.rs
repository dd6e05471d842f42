//! Accounts (issue 13), black-box over HTTP against the real components: an
//! admin invites a member, the member sets a password and signs in, works on
//! their own tasks, is refused on others', is deactivated and loses access
//! at once; sign-out, throttled guessing, personal API tokens.

use api_tests::{TestApp, assert_detail, body, detail, id, session_cookie};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "a long member passphrase";

/// The signed-in admin and a member who accepted an invitation.
struct Team {
    app: TestApp,
    admin: String,
    member_id: String,
    member: String,
}

impl Team {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let admin = app.session_cookie().await;
        let user = app.create_user("mia@example.com").await;
        assert_eq!(
            (user["access"].as_str(), user["active"].as_bool()),
            (Some("member"), Some(true))
        );
        let member_id = id(&user).to_owned();
        let link = invite(&app, &admin, &member_id).await;
        let member = session_cookie(set_password(&app, &link, PASSWORD).await);
        Team {
            app,
            admin,
            member_id,
            member,
        }
    }

    async fn as_admin(&self, method: Method, path: &str, json: Option<&Value>) -> Response {
        self.app.browse(method, path, &self.admin, json).await
    }

    async fn as_member(&self, method: Method, path: &str, json: Option<&Value>) -> Response {
        self.app.browse(method, path, &self.member, json).await
    }

    /// A task assigned to `assignee`, created by the admin.
    async fn task_for(&self, assignee: &str, status: &str) -> String {
        let new = json!({"title": "T", "assignee_id": assignee, "status": status});
        let created = self.as_admin(Method::POST, "/api/tasks", Some(&new)).await;
        assert_eq!(created.status(), StatusCode::CREATED);
        id(&body(created).await).to_owned()
    }
}

/// An invitation link's token, as an admin gets it.
async fn invite(app: &TestApp, admin: &str, user_id: &str) -> String {
    let path = format!("/api/users/{user_id}/invitation");
    let response = app.browse(Method::POST, &path, admin, None).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let link = body(response).await;
    link["path"]
        .as_str()
        .unwrap()
        .strip_prefix("/set-password#")
        .unwrap()
        .to_owned()
}

async fn set_password(app: &TestApp, token: &str, password: &str) -> Response {
    let json = json!({"token": token, "password": password});
    app.browse(Method::POST, "/auth/set-password", "", Some(&json))
        .await
}

#[tokio::test]
async fn an_invited_member_signs_in_and_works_on_their_own_tasks_only() {
    let team = Team::new().await;
    let app = &team.app;
    // The link was used up; the password signs in; the session says who.
    let reused = set_password(app, "0".repeat(64).as_str(), PASSWORD).await;
    detail(reused, StatusCode::GONE).await;
    let signed_in = app.sign_in("MIA@example.com", PASSWORD).await;
    let cookie = session_cookie(signed_in);
    let me = body(
        app.browse(Method::GET, "/auth/session", &cookie, None)
            .await,
    )
    .await;
    assert_eq!(me["user"]["id"], team.member_id.as_str());
    assert_eq!(me["user"]["access"], "member");

    // Members create tasks, and change and move the ones assigned to them,
    // which records who did it.
    let mine = team.task_for(&team.member_id, "todo").await;
    let moved = team
        .as_member(
            Method::PATCH,
            &format!("/api/tasks/{mine}"),
            Some(&json!({"status": "done"})),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let moved = body(moved).await;
    assert_eq!(moved["updated_by"], team.member_id.as_str());
    assert_ne!(moved["created_by"], team.member_id.as_str());
    let new = json!({"title": "Mine", "assignee_id": team.member_id});
    let created = body(team.as_member(Method::POST, "/api/tasks", Some(&new)).await).await;
    assert_eq!(created["created_by"], team.member_id.as_str());

    // Others' tasks, and people, are refused with 403 and a reason; nothing changes.
    let admin_id =
        body(team.as_admin(Method::GET, "/auth/session", None).await).await["user"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let theirs = team.task_for(&admin_id, "done").await;
    for (method, path, json) in [
        (
            Method::PATCH,
            format!("/api/tasks/{theirs}"),
            Some(json!({"status": "todo"})),
        ),
        (Method::DELETE, format!("/api/tasks/{theirs}"), None),
        (
            Method::POST,
            "/api/users".to_owned(),
            Some(json!({"email": "x@example.com", "full_name": "X"})),
        ),
        (
            Method::PATCH,
            format!("/api/users/{admin_id}"),
            Some(json!({"access": "member"})),
        ),
        (
            Method::POST,
            format!("/api/users/{}/invitation", team.member_id),
            None,
        ),
    ] {
        let response = team.as_member(method.clone(), &path, json.as_ref()).await;
        detail(response, StatusCode::FORBIDDEN).await;
    }
    let task = body(
        team.as_admin(Method::GET, &format!("/api/tasks/{theirs}"), None)
            .await,
    )
    .await;
    assert_eq!(task["status"], "done");
    // Their own done task they may delete.
    let deleted = team
        .as_member(Method::DELETE, &format!("/api/tasks/{mine}"), None)
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn deactivation_and_password_changes_end_sessions_at_once() {
    let team = Team::new().await;
    let app = &team.app;
    let second = session_cookie(app.sign_in("mia@example.com", PASSWORD).await);

    // A password change ends the other sessions; this one goes on.
    let change = json!({"current_password": PASSWORD, "new_password": "another long passphrase"});
    let changed = app
        .browse(Method::POST, "/auth/password", &second, Some(&change))
        .await;
    let second = session_cookie(changed);
    detail(
        team.as_member(Method::GET, "/api/tasks", None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(
        app.browse(Method::GET, "/api/tasks", &second, None)
            .await
            .status(),
        StatusCode::OK
    );
    let wrong =
        json!({"current_password": "not it at all", "new_password": "yet another passphrase"});
    let refused = app
        .browse(Method::POST, "/auth/password", &second, Some(&wrong))
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Deactivated: the session ends, and neither password nor link works.
    let path = format!("/api/users/{}", team.member_id);
    let off = team
        .as_admin(Method::PATCH, &path, Some(&json!({"active": false})))
        .await;
    assert_eq!(body(off).await["active"], false);
    detail(
        app.browse(Method::GET, "/api/tasks", &second, None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let again = app
        .sign_in("mia@example.com", "another long passphrase")
        .await;
    detail(again, StatusCode::UNAUTHORIZED).await;
    let link = format!("/api/users/{}/invitation", team.member_id);
    detail(
        team.as_admin(Method::POST, &link, None).await,
        StatusCode::CONFLICT,
    )
    .await;

    // Reactivated and sent a new link (a reset), they are back.
    let on = team
        .as_admin(Method::PATCH, &path, Some(&json!({"active": true})))
        .await;
    assert_eq!(on.status(), StatusCode::OK);
    let token = invite(app, &team.admin, &team.member_id).await;
    let back = set_password(app, &token, "a brand new passphrase").await;
    assert_eq!(back.status(), StatusCode::OK);
}

#[tokio::test]
async fn sign_out_ends_the_session_everywhere() {
    let team = Team::new().await;
    let out = team.as_member(Method::POST, "/auth/logout", None).await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    // The cookie replayed after sign-out is worthless.
    for path in ["/auth/session", "/api/users", "/api/tasks"] {
        detail(
            team.as_member(Method::GET, path, None).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
}

#[tokio::test]
async fn repeated_failures_are_throttled_alike_for_known_and_unknown_emails() {
    let team = Team::new().await;
    let app = &team.app;
    for email in ["mia@example.com", "nobody@example.com"] {
        let mut answers = Vec::new();
        for _ in 0..8 {
            answers.push(app.sign_in(email, "wrong guess!!").await);
        }
        let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
        // Five free failures, a sixth that starts a wait, then 429s.
        assert_eq!(&statuses[..6], [401; 6], "{email}: {statuses:?}");
        assert!(
            statuses[6..].iter().all(|s| *s == 429),
            "{email}: {statuses:?}"
        );
        let throttled = answers.pop().unwrap();
        let wait: u64 = throttled.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=2).contains(&wait), "Retry-After {wait}");
        let detail_429 = detail(throttled, StatusCode::TOO_MANY_REQUESTS).await;
        assert!(detail_429.contains("Try again in"), "{detail_429}");
    }
    // While throttled, even the right password waits; after the wait it works.
    let early = app.sign_in("mia@example.com", PASSWORD).await;
    assert_eq!(early.status(), StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        app.sign_in("mia@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn personal_api_tokens_act_with_their_owners_permissions_until_revoked() {
    let team = Team::new().await;
    let app = &team.app;
    let created = team
        .as_member(Method::POST, "/auth/tokens", Some(&json!({"name": "ci"})))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = body(created).await;
    let secret = created["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("mth_pat_"));
    // Listed without the secret, which is stored only as a digest.
    let list = body(team.as_member(Method::GET, "/auth/tokens", None).await).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0].get("token").is_none() && list[0]["name"] == "ci");
    let db = app.db().await;
    let stored: String = db
        .query_one("SELECT token_hash FROM api_tokens", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!stored.contains(&secret[8..]));

    // Straight to the services, with the member's permissions.
    let as_token = |method: Method, path: &str| {
        app.client
            .request(method, app.url(path))
            .bearer_auth(&secret)
    };
    let mine = team.task_for(&team.member_id, "todo").await;
    let moved = as_token(Method::PATCH, &format!("/tasks/{mine}"))
        .json(&json!({"status": "in_progress"}))
        .send()
        .await
        .unwrap();
    assert_eq!(body(moved).await["updated_by"], team.member_id.as_str());
    let refused = as_token(Method::POST, "/users")
        .json(&json!({"email": "y@example.com", "full_name": "Y"}))
        .send()
        .await
        .unwrap();
    detail(refused, StatusCode::FORBIDDEN).await;

    // Revoked: refused at once, with a reason.
    let revoke = format!("/auth/tokens/{}", id(&created));
    assert_eq!(
        team.as_member(Method::DELETE, &revoke, None).await.status(),
        StatusCode::NO_CONTENT
    );
    let after = as_token(Method::GET, "/tasks").send().await.unwrap();
    assert_detail(after, StatusCode::UNAUTHORIZED, "revoked").await;
    assert_eq!(
        team.as_member(Method::DELETE, &revoke, None).await.status(),
        StatusCode::NOT_FOUND
    );
}
