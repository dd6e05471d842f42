//! Accounts (issue 13), black-box over HTTP against the real components: an
//! admin invites a member, the member sets a password and signs in, works on
//! their own tasks, is refused on others', is deactivated and loses access
//! at once; sign-out, throttled guessing, personal API tokens, set-password
//! links. Where a rule needs time to pass (a link's expiry, a throttle's
//! wait), the test moves the rows' timestamps back instead of sleeping.

use api_tests::RequestBuilder;
use api_tests::team::{PASSWORD, Team};
use api_tests::{TestApp, assert_detail, body, detail, id, session_cookie, sha256_hex};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

const WRONG: &str = "wrong guess!!";

/// A sign-in from client address `127.0.0.<from>` (see [`TestApp::client_at`]).
async fn sign_in_from(app: &TestApp, from: u8, email: &str, password: &str) -> Response {
    let request = sign_in_request(app, from, email, password);
    request.send().await.unwrap()
}

/// Seconds until a key's block ends, by the database's clock.
async fn seconds_blocked(app: &TestApp, key: &str) -> f64 {
    app.db()
        .await
        .query_one(
            "SELECT extract(epoch FROM blocked_until - (now() AT TIME ZONE 'utc'))::float8 \
             FROM sign_in_failures WHERE key = $1",
            &[&key],
        )
        .await
        .unwrap()
        .get(0)
}

/// Lets `interval` pass for a throttle key (its last failure and its block).
async fn time_passes_for(app: &TestApp, key: &str, interval: &str) {
    let filter = format!("key = '{key}'");
    let columns = ["last_failure_at", "blocked_until"];
    let moved = app
        .move_back("sign_in_failures", &columns, &filter, interval)
        .await;
    assert_eq!(moved, 1, "{key}");
}

/// Makes a key's current wait an hour longer, so that it cannot run out
/// during the checks that follow, however slow the machine.
async fn prolong_block(app: &TestApp, key: &str) {
    let prolonged = app
        .db()
        .await
        .execute(
            "UPDATE sign_in_failures SET blocked_until = blocked_until + interval '1 hour' \
             WHERE key = $1 AND blocked_until IS NOT NULL",
            &[&key],
        )
        .await
        .unwrap();
    assert_eq!(prolonged, 1, "{key} is blocked");
}

/// Asserts a 429 whose `Retry-After` is the block's remaining time, read
/// from the database just before (`at_most`) and just after (`at_least`).
async fn assert_throttled(app: &TestApp, key: &str, attempt: RequestBuilder) {
    let at_most = seconds_blocked(app, key).await.ceil();
    let response = attempt.send().await.unwrap();
    let at_least = seconds_blocked(app, key).await.ceil();
    let wait: f64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (at_least.max(1.0)..=at_most.max(1.0)).contains(&wait),
        "Retry-After {wait}, blocked for {at_least}..={at_most} s"
    );
    let detail = detail(response, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(detail.contains("Try again in"), "{detail}");
}

/// A sign-in request from client address `127.0.0.<from>`, to send later.
fn sign_in_request(app: &TestApp, from: u8, email: &str, password: &str) -> RequestBuilder {
    app.client_at(from)
        .post(app.url("/auth/login"))
        .header("origin", app.url(""))
        .json(&json!({"email": email, "password": password}))
}

#[tokio::test]
async fn an_invited_member_signs_in_and_works_on_their_own_tasks_only() {
    let team = Team::new().await;
    let app = &team.app;
    // The link was used up; the password signs in; the session says who.
    let reused = app
        .set_password(&team.used_link, "a password of an intruder")
        .await;
    assert_detail(reused, StatusCode::GONE, "no longer works").await;
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
    let admin_id = team.admin_id.clone();
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
    let token = app.invite(&team.admin, &team.member_id).await;
    let back = app.set_password(&token, "a brand new passphrase").await;
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

/// The first failures of an email are free; the sixth starts a wait of a
/// second; while the wait lasts, every attempt gets 429, the right
/// password too, and is not counted. Unknown emails are treated the same.
#[tokio::test]
async fn repeated_failures_are_throttled_alike_for_known_and_unknown_emails() {
    let team = Team::new().await;
    let app = &team.app;
    let mut refusals = Vec::new();
    for email in ["mia@example.com", "nobody@example.com"] {
        let key = format!("email:{email}");
        // From a new address each time: this is the email's count.
        for failures in 1..=6 {
            let response = sign_in_from(app, 10 + failures as u8, email, WRONG).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{email}");
            refusals.push(body(response).await);
            let wait = (failures == 6).then_some(1.0);
            assert_eq!(
                app.sign_in_failures(&key).await,
                Some((failures, wait)),
                "{email}"
            );
        }
        prolong_block(app, &key).await;
        for password in [WRONG, PASSWORD] {
            let attempt = sign_in_request(app, 9, email, password);
            assert_throttled(app, &key, attempt).await;
        }
        assert_eq!(
            app.sign_in_failures(&key).await.unwrap().0,
            6,
            "429s are not counted"
        );
    }
    assert!(refusals.windows(2).all(|w| w[0] == w[1]), "{refusals:?}");
}

/// Each failure past the allowance doubles the wait, up to 15 minutes; a
/// day without failures starts over; a success clears the count.
#[tokio::test]
async fn each_further_failure_doubles_the_wait_up_to_fifteen_minutes() {
    let team = Team::new().await;
    let app = &team.app;
    let (email, key) = ("mia@example.com", "email:mia@example.com");
    // From a new address each time, so that only the email's count grows.
    let from = |n: i32| 10 + n as u8;
    for failures in 1..=17 {
        let response = sign_in_from(app, from(failures), email, WRONG).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{failures}");
        let wait = (failures > 5).then(|| 2f64.powi(failures - 6).min(900.0));
        assert_eq!(app.sign_in_failures(key).await, Some((failures, wait)));
        if failures == 16 {
            // Blocked for 15 minutes: the right password waits too.
            let attempt = sign_in_request(app, from(100), email, PASSWORD);
            assert_throttled(app, key, attempt).await;
            assert_eq!(
                app.sign_in_failures(key).await,
                Some((16, wait)),
                "not counted"
            );
        }
        if let Some(wait) = wait {
            time_passes_for(app, key, &format!("{wait} seconds")).await;
        }
    }

    time_passes_for(app, key, "1 day").await;
    let fresh = sign_in_from(app, from(101), email, WRONG).await;
    assert_eq!(fresh.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.sign_in_failures(key).await,
        Some((1, None)),
        "starts over"
    );

    let signed_in = sign_in_from(app, from(102), email, PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    assert_eq!(
        app.sign_in_failures(key).await,
        None,
        "a success clears the count"
    );
}

/// Twenty failures from one client address, whatever the emails, block
/// that address (an office shares one) for everyone, and only it; its own
/// success does not clear its count.
#[tokio::test]
async fn failures_from_one_address_past_twenty_throttle_that_address_only() {
    let team = Team::new().await;
    let app = &team.app;
    let (office, key) = (7, "client:127.0.0.7");
    for n in 1..=21 {
        let guess = sign_in_from(app, office, &format!("guess{n}@example.com"), WRONG).await;
        assert_eq!(guess.status(), StatusCode::UNAUTHORIZED, "{n}");
    }
    assert_eq!(app.sign_in_failures(key).await, Some((21, Some(1.0))));
    let one_email = app.sign_in_failures("email:guess21@example.com").await;
    assert_eq!(one_email, Some((1, None)), "each email failed once");

    prolong_block(app, key).await;
    let attempt = sign_in_request(app, office, "mia@example.com", PASSWORD);
    assert_throttled(app, key, attempt).await;
    let elsewhere = sign_in_from(app, 8, "mia@example.com", PASSWORD).await;
    assert_eq!(elsewhere.status(), StatusCode::OK);

    time_passes_for(app, key, "2 hours").await;
    let back = sign_in_from(app, office, "mia@example.com", PASSWORD).await;
    assert_eq!(back.status(), StatusCode::OK);
    assert_eq!(
        app.sign_in_failures(key).await.unwrap().0,
        21,
        "the address's count stays"
    );
}

#[tokio::test]
async fn personal_api_tokens_act_with_their_owners_permissions_until_revoked() {
    let team = Team::new().await;
    let app = &team.app;
    let created = team.member_token().await;
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
    assert_eq!(stored, sha256_hex(&secret), "stored as its SHA-256 only");

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

/// `x-mth-actor` names a person only on the gateway's own calls (with the
/// internal token): sent with a personal token, or by a browser, it is
/// ignored, and the caller keeps their own permissions.
#[tokio::test]
async fn an_actor_header_from_outside_grants_nothing() {
    let team = Team::new().await;
    let app = &team.app;
    let forged = format!("{} admin", team.admin_id);
    let theirs = team.task_for(&team.admin_id, "todo").await;
    let token = team.member_token().await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let writes = [
        (
            Method::POST,
            "/users".to_owned(),
            json!({"email": "x@example.com", "full_name": "X"}),
        ),
        (
            Method::PATCH,
            format!("/tasks/{theirs}"),
            json!({"status": "done"}),
        ),
        (
            Method::PATCH,
            format!("/users/{}", team.member_id),
            json!({"access": "admin"}),
        ),
    ];
    for (method, path, json) in writes {
        let with_token = app
            .client
            .request(method.clone(), app.url(&path))
            .bearer_auth(&token);
        let from_browser = app
            .client
            .request(method.clone(), app.url(&format!("/api{path}")))
            .header("cookie", &team.member)
            .header("origin", app.url(""));
        for (via, request) in [("token", with_token), ("browser", from_browser)] {
            let response = request
                .header("x-mth-actor", &forged)
                .json(&json)
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{via} {method} {path}"
            );
        }
    }
    assert_eq!(app.count_rows("users").await, 2);
    assert_eq!(
        team.stored_user(&team.member_id).await,
        ("member".to_owned(), true)
    );
    let task = body(
        team.as_admin(Method::GET, &format!("/api/tasks/{theirs}"), None)
            .await,
    )
    .await;
    assert_eq!(task["status"], "todo");
}

/// Only admins change access and deactivate people: a member can do
/// neither, to themselves or to anyone else.
#[tokio::test]
async fn a_member_can_neither_raise_their_own_access_nor_deactivate_anyone() {
    let team = Team::new().await;
    for (whom, change) in [
        (&team.member_id, json!({"access": "admin"})),
        (&team.member_id, json!({"access": "admin", "role": "lead"})),
        (&team.admin_id, json!({"active": false})),
        (&team.member_id, json!({"active": false})),
    ] {
        let path = format!("/api/users/{whom}");
        let refused = team.as_member(Method::PATCH, &path, Some(&change)).await;
        assert_detail(refused, StatusCode::FORBIDDEN, "Only admins").await;
    }
    assert_eq!(
        team.stored_user(&team.member_id).await,
        ("member".to_owned(), true)
    );
    assert_eq!(
        team.stored_user(&team.admin_id).await,
        ("admin".to_owned(), true)
    );
    let admin_still = team.as_admin(Method::GET, "/auth/session", None).await;
    assert_eq!(admin_still.status(), StatusCode::OK);
}

/// A member's change racing the admin's reassignment of that task away
/// from them: both wait on the task's row (held by the test); the
/// reassignment goes first, and the member's change, checked in the same
/// statement that would write it, is refused and writes nothing.
#[tokio::test]
async fn a_members_change_racing_a_reassignment_away_from_them_is_refused() {
    let team = Team::new().await;
    let app = &team.app;
    let task = team.task_for(&team.member_id, "todo").await;
    let path = format!("/api/tasks/{task}");
    let send = |cookie: &str, change: Value| {
        app.client
            .patch(app.url(&path))
            .header("cookie", cookie)
            .header("origin", app.url(""))
            .json(&change)
            .send()
    };

    let held = app
        .hold_locks(&format!(
            "SELECT 1 FROM tasks WHERE id = '{task}' FOR UPDATE"
        ))
        .await;
    let reassign = tokio::spawn(send(&team.admin, json!({"assignee_id": team.admin_id})));
    app.wait_until_blocked("WITH t AS (UPDATE tasks", 1).await;
    let change = tokio::spawn(send(
        &team.member,
        json!({"status": "done", "title": "Mine"}),
    ));
    app.wait_until_blocked("WITH t AS (UPDATE tasks", 2).await;
    held.commit().await;

    let reassigned = reassign.await.unwrap().unwrap();
    assert_eq!(reassigned.status(), StatusCode::OK);
    let refused = change.await.unwrap().unwrap();
    assert_detail(refused, StatusCode::FORBIDDEN, "assigned to them").await;
    let stored = body(team.as_admin(Method::GET, &path, None).await).await;
    assert_eq!(
        (&stored["assignee_id"], &stored["status"], &stored["title"]),
        (&json!(team.admin_id), &json!("todo"), &json!("T"))
    );
    assert_eq!(stored["updated_by"], team.admin_id.as_str());
}

/// A set-password link works once, for 72 hours, and only while it is the
/// person's newest; otherwise 410 and nothing changes. The database keeps
/// only the link's SHA-256.
#[tokio::test]
async fn used_expired_and_replaced_links_are_gone() {
    let team = Team::new().await;
    let app = &team.app;
    let bob = id(&app.create_user("bob@example.com").await).to_owned();
    let set = |token: String| async move { app.set_password(&token, "bob's own passphrase").await };
    let bobs_links = format!("user_id = '{bob}'");

    let replaced = app.invite(&team.admin, &bob).await;
    let sql = "SELECT token_hash FROM invitations WHERE user_id = $1::text::uuid";
    let stored: String = app.row(sql, &bob).await.get(0);
    assert_eq!(stored, sha256_hex(&replaced), "stored as its SHA-256 only");
    let expired = app.invite(&team.admin, &bob).await;
    assert_detail(set(replaced).await, StatusCode::GONE, "no longer works").await;

    let columns = ["created_at", "expires_at"];
    app.move_back("invitations", &columns, &bobs_links, "72 hours")
        .await;
    assert_detail(set(expired).await, StatusCode::GONE, "no longer works").await;

    let nearly_expired = app.invite(&team.admin, &bob).await;
    app.move_back("invitations", &columns, &bobs_links, "71 hours")
        .await;
    assert_eq!(set(nearly_expired.clone()).await.status(), StatusCode::OK);
    assert_detail(
        set(nearly_expired).await,
        StatusCode::GONE,
        "no longer works",
    )
    .await;
    // The member's link, used before: gone, and their password unchanged.
    assert_eq!(set(team.used_link.clone()).await.status(), StatusCode::GONE);
    let mia = app.sign_in("mia@example.com", PASSWORD).await;
    assert_eq!(mia.status(), StatusCode::OK);
}
