//! Sign-in with an identity provider (issue 24), black-box over HTTP against
//! the real components and a real OpenID Connect provider: `oidc-provider`
//! from npm (tests/browser/idp.mjs), on a free port. The attacks are the
//! provider's real answers altered on their way out (see idp.mjs for why).

use std::time::Duration;

use api_tests::idp::{self, Idp, Walk, account, app_with_idp, location};
use api_tests::{HangingServer, Options, TestApp, assert_detail, body, detail, id};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ADA: &str = "ada@example.com";

/// The session a walk's browser holds, as `GET /auth/session` tells it.
/// An app whose provider knows Ada, who has an account there (its JSON).
async fn with_ada(alg: &str, configure: impl FnOnce(&mut Options)) -> (TestApp, Idp, Value) {
    let (app, idp) = app_with_idp(alg, &[account("ada-1", ADA, "Ada")], configure).await;
    let new = json!({"email": ADA, "full_name": "Ada", "role": "dev"});
    let ada = body(app.post("/users", &new).await).await;
    (app, idp, ada)
}

async fn session_of(app: &TestApp, walk: &Walk) -> Value {
    let cookie = walk.cookie_header(&app.url(""));
    let response = app
        .browse(Method::GET, "/auth/session", &cookie, None)
        .await;
    assert_eq!(response.status(), StatusCode::OK, "a session");
    body(response).await
}

async fn signed_in(app: &TestApp, walk: &mut Walk) -> Value {
    let response = walk.sign_in(app).await;
    let status = response.status();
    let to = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "{:?}",
        response.text().await.unwrap_or_default()
    );
    assert_eq!(to.as_deref(), Some("/"));
    session_of(app, walk).await
}

#[tokio::test]
async fn a_known_email_signs_in_is_linked_and_stays_linked_by_subject() {
    let (app, idp) = app_with_idp("RS256", &[account("ada-1", ADA, "Ada L.")], |_| {}).await;
    let ada = body(
        app.post(
            "/users",
            &json!({"email": "Ada@Example.com", "full_name": "Ada", "role": "dev"}),
        )
        .await,
    )
    .await;

    let methods = body(app.get("/auth/methods").await).await;
    assert_eq!(
        methods,
        json!({"password": true, "oidc": {"name": "Test IdP", "start": "/auth/oidc/start"}})
    );

    let mut walk = Walk::new();
    let session = signed_in(&app, &mut walk).await;
    assert_eq!(session["user"]["id"], ada["id"]);
    assert_eq!(session["user"]["access"], "member");
    assert!(
        walk.cookie(&app.url(""), "mth_oidc").is_none(),
        "the state cookie is cleared"
    );
    let link = app
        .row(
            "SELECT user_id::text, subject FROM oidc_identities WHERE issuer = $1",
            &idp.issuer,
        )
        .await;
    assert_eq!(link.get::<_, String>(0), id(&ada));
    assert_eq!(link.get::<_, String>(1), "ada-1");
    assert_eq!(
        app.count_rows("oidc_logins").await,
        0,
        "the state is used up"
    );

    // The provider now gives the address to someone else (another subject):
    // the account stays the first person's.
    idp.set_account(account("ada-2", ADA, "Impostor")).await;
    idp.log_in_as("ada-2").await;
    assert_detail(
        Walk::new().sign_in(&app).await,
        StatusCode::FORBIDDEN,
        "linked to another Test IdP identity",
    )
    .await;
    // And the first subject signs in even after their address changed there.
    idp.set_account(account("ada-1", "ada.lovelace@example.com", "Ada"))
        .await;
    idp.log_in_as("ada-1").await;
    let again = signed_in(&app, &mut Walk::new()).await;
    assert_eq!(again["user"]["id"], ada["id"]);

    // Sign-out ends our session and offers the provider's end-session endpoint.
    let cookie = walk.cookie_header(&app.url(""));
    let out = app
        .browse(Method::POST, "/auth/logout", &cookie, None)
        .await;
    assert_eq!(out.status(), StatusCode::OK);
    let end = body(out).await["end_session_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        end,
        format!("{}/session/end?client_id={}", idp.issuer, idp::CLIENT_ID)
    );
    let after = app
        .browse(Method::GET, "/auth/session", &cookie, None)
        .await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_emails_are_refused_unless_created_and_the_admin_group_makes_admins() {
    let mut grace = account("grace-1", "grace@example.com", "Grace Hopper");
    grace["groups"] = json!(["staff", "mth-admins"]);
    let (app, idp) = app_with_idp(
        "ES256",
        &[account("bob-1", "bob@example.com", "Bob"), grace],
        |o| {
            o.set("oidc_admin_group", "mth-admins");
        },
    )
    .await;
    assert_detail(
        Walk::new().sign_in(&app).await,
        StatusCode::FORBIDDEN,
        "no account for bob@example.com",
    )
    .await;
    assert_eq!(app.count_rows("oidc_identities").await, 0);
    drop(app);
    drop(idp);

    let (app, idp) = app_with_idp(
        "ES256",
        &[account("bob-1", "bob@example.com", "Bob")],
        |o| {
            o.set("oidc_create_users", "true")
                .set("oidc_admin_group", "mth-admins");
        },
    )
    .await;
    let bob = signed_in(&app, &mut Walk::new()).await;
    assert_eq!(bob["user"]["email"], "bob@example.com");
    assert_eq!(bob["user"]["full_name"], "Bob");
    assert_eq!(bob["user"]["access"], "member");
    let mut grace = account("grace-1", "grace@example.com", "Grace Hopper");
    grace["groups"] = json!(["staff", "mth-admins"]);
    idp.set_account(grace).await;
    idp.log_in_as("grace-1").await;
    let grace = signed_in(&app, &mut Walk::new()).await;
    assert_eq!(grace["user"]["access"], "admin");
}

#[tokio::test]
async fn a_deactivated_person_stays_out_and_domain_and_verification_rules_hold() {
    let (app, idp, ada) = with_ada("RS256", |o| {
        o.set("oidc_email_domain", "example.com");
    })
    .await;
    let patched = app
        .patch(&format!("/users/{}", id(&ada)), &json!({"active": false}))
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    assert_detail(
        Walk::new().sign_in(&app).await,
        StatusCode::FORBIDDEN,
        "deactivated",
    )
    .await;
    assert_eq!(app.count_rows("sessions").await, 0);

    idp.set_account(account("eve-1", "eve@elsewhere.org", "Eve"))
        .await;
    idp.log_in_as("eve-1").await;
    assert_detail(
        Walk::new().sign_in(&app).await,
        StatusCode::FORBIDDEN,
        "Only @example.com accounts",
    )
    .await;

    let mut unverified = account("ada-1", ADA, "Ada");
    unverified["email_verified"] = json!(false);
    idp.set_account(unverified).await;
    idp.log_in_as("ada-1").await;
    assert_detail(
        Walk::new().sign_in(&app).await,
        StatusCode::FORBIDDEN,
        "has not verified your email",
    )
    .await;
}

#[tokio::test]
async fn a_state_works_once_and_only_in_the_browser_that_started_it() {
    let (app, _idp, _) = with_ada("RS256", |_| {}).await;

    // Another browser (no state cookie) brings the callback: refused, and
    // the sign-in it carried is not used up by that.
    let mut walk = Walk::new();
    let callback = walk.to_callback(&app).await;
    assert_detail(
        Walk::new().callback(&callback).await,
        StatusCode::BAD_REQUEST,
        "not started in this browser",
    )
    .await;

    let first = walk.callback(&callback).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    // The same callback again (a replay, with the state cookie copied back).
    let state = callback
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let cookie = format!("mth_oidc={state}");
    let response = app
        .browse(
            Method::GET,
            callback.strip_prefix(&app.url("")).unwrap(),
            &cookie,
            None,
        )
        .await;
    let text = response.text().await.unwrap();
    assert!(text.contains("already completed"), "{text}");
    assert_eq!(app.count_rows("sessions").await, 1);

    // A browser is sent back to the sign-in page, which says why.
    let html = walk.get(&callback, "text/html").await;
    assert_eq!(html.status(), StatusCode::SEE_OTHER);
    let to = location(&html, &app.url(""));
    // (Its state cookie went with the first callback.)
    assert!(
        to.contains("/?sign_in_error=") && to.contains("Nobody+was+signed+in"),
        "{to}"
    );
}

#[tokio::test]
async fn tokens_that_are_not_for_us_or_not_genuine_are_refused() {
    for alg in ["RS256", "ES256"] {
        let (app, idp, _) = with_ada(alg, |_| {}).await;
        // A good sign-in first: the provider's keys are cached from here on.
        signed_in(&app, &mut Walk::new()).await;
        for (tamper, says) in [
            ("audience", "issued for another application"),
            ("expired", "has expired"),
            ("signature", "signature is not valid"),
            ("unknown-kid", "which the provider does not publish"),
            ("nonce", "belongs to another sign-in"),
            ("issuer", "issued by another issuer"),
        ] {
            idp.tamper(tamper).await;
            let response = Walk::new().sign_in(&app).await;
            let detail = detail(response, StatusCode::UNAUTHORIZED).await;
            assert!(detail.contains(says), "{alg} {tamper}: {detail}");
        }
        assert_eq!(
            app.count_rows("sessions").await,
            1,
            "{alg}: only the good sign-in"
        );

        // A rotation: a token signed by a new key, published since the keys
        // were cached, is accepted after the keys are fetched again.
        idp.rotate_keys().await;
        idp.tamper("rotated").await;
        let before: String = app
            .row(
                "SELECT jwks FROM oidc_providers WHERE issuer = $1",
                &idp.issuer,
            )
            .await
            .get(0);
        assert!(!before.contains("rotated-"));
        signed_in(&app, &mut Walk::new()).await;
        let after: String = app
            .row(
                "SELECT jwks FROM oidc_providers WHERE issuer = $1",
                &idp.issuer,
            )
            .await
            .get(0);
        assert!(after.contains("rotated-"), "the new keys are cached");
    }
}

/// The answer, which must come well within the test's bound: the
/// app's deadline (1.5 s) and its start-up, not a hang.
async fn bounded<T>(answer: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), answer)
        .await
        .expect("an answer within 10 s")
}

/// A provider that accepts connections and never answers: the app waits no
/// longer than its deadline (gateway_timeout_ms) and says so.
#[tokio::test]
async fn a_provider_that_hangs_gets_a_bounded_wait_and_a_clear_error() {
    let hanging = HangingServer::start().await;
    let app = TestApp::spawn_with(|o| {
        idp::configure(o, &hanging.url);
        o.set("gateway_timeout_ms", "1500");
    })
    .await;
    let start = app.url("/auth/oidc/start");
    let response = bounded(Walk::new().get(&start, "application/json")).await;
    assert_detail(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "did not answer in time",
    )
    .await;
    drop(app);

    // The token endpoint hangs after a normal start.
    let (app, idp, _) = with_ada("RS256", |o| {
        o.set("gateway_timeout_ms", "1500");
    })
    .await;
    let mut walk = Walk::new();
    let callback = walk.to_callback(&app).await;
    idp.hang_token_endpoint(true).await;
    let response = bounded(walk.callback(&callback)).await;
    assert_detail(response, StatusCode::SERVICE_UNAVAILABLE, "token endpoint").await;
    assert_eq!(app.count_rows("sessions").await, 0);
}

#[tokio::test]
async fn password_sign_in_can_be_turned_off_but_the_first_admin_keeps_it() {
    let (app, _idp, member) = with_ada("RS256", |o| {
        o.set("password_sign_in", "false");
    })
    .await;
    let methods = body(app.get("/auth/methods").await).await;
    assert_eq!(methods["password"], false);
    // The first admin, for recovery.
    assert_eq!(app.login().await.status(), StatusCode::OK);
    let admin = app.session_cookie().await;
    let token = app.invite(&admin, id(&member)).await;
    assert_detail(
        app.set_password(&token, "a long member passphrase").await,
        StatusCode::FORBIDDEN,
        "sign in with Test IdP",
    )
    .await;
    assert_detail(
        app.sign_in(ADA, "a long member passphrase").await,
        StatusCode::FORBIDDEN,
        "Password sign-in is turned off",
    )
    .await;
    // The provider still signs Ada in.
    signed_in(&app, &mut Walk::new()).await;
}

#[tokio::test]
async fn without_a_provider_the_routes_say_so() {
    let app = TestApp::spawn().await;
    assert_eq!(
        body(app.get("/auth/methods").await).await,
        json!({"password": true, "oidc": null})
    );
    assert_detail(
        app.get("/auth/oidc/start").await,
        StatusCode::NOT_FOUND,
        "not configured",
    )
    .await;
    let response = app.browse(Method::POST, "/auth/oidc/start", "", None).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

/// A provider set up without its secret: readiness names the variable
/// (never its value), starting a sign-in with it is a 500 that says so,
/// and the first admin's password (the way back in, with password sign-in
/// off) is not taken down with it.
#[tokio::test]
async fn a_misconfigured_provider_is_named_and_the_first_admin_still_gets_in() {
    let app = TestApp::spawn_with(|o| {
        idp::configure(o, "http://127.0.0.1:9");
        o.set("oidc_client_secret", "")
            .set("password_sign_in", "false");
    })
    .await;
    assert_detail(
        app.get("/health").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "oidc_client_secret",
    )
    .await;
    assert_detail(
        app.get("/auth/oidc/start").await,
        StatusCode::INTERNAL_SERVER_ERROR,
        "variable 'oidc_client_secret' is not set",
    )
    .await;
    assert_eq!(app.login().await.status(), StatusCode::OK);
}
