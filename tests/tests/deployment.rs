//! What a deployment relies on (docs/deploy.md): bad secrets are refused by
//! name, readiness waits for the schema, the apps work as the least-privilege
//! database role, and HSTS is sent when the ingress says the request was HTTPS.

use api_tests::{TestApp, body};
use mth_shared::health::REQUIRED_SCHEMA_VERSION;
use pg_harness::{PgCluster, apply_migrations};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

const HEALTH: [&str; 3] = ["/users/health", "/tasks/health", "/health"];

async fn get(app: &TestApp, path: &str) -> Response {
    app.client.get(app.url(path)).send().await.unwrap()
}

/// Asserts `status` and a detail naming `variable`, and returns the body.
async fn assert_refused(response: Response, status: StatusCode, variable: &str) -> Value {
    let url = response.url().clone();
    assert_eq!(response.status(), status, "{url}");
    let body = body(response).await;
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(&format!("'{variable}'")), "{url}: {body}");
    body
}

#[tokio::test]
async fn a_placeholder_api_token_is_refused_by_every_component() {
    let placeholder = "CHANGE_ME_api_token_0123456789abcdef0123456789";
    let app = TestApp::spawn_with(|o| {
        o.set("api_token", placeholder);
    })
    .await;
    for path in HEALTH {
        let body = assert_refused(
            get(&app, path).await,
            StatusCode::SERVICE_UNAVAILABLE,
            "api_token",
        )
        .await;
        assert!(body["detail"].as_str().unwrap().contains("placeholder"));
        assert!(!body.to_string().contains(placeholder), "the value leaked");
    }
    // Requests that need the token answer 500, whatever the caller sent.
    let users = app.get("/users").await;
    assert_refused(users, StatusCode::INTERNAL_SERVER_ERROR, "api_token").await;
}

#[tokio::test]
async fn short_frontend_secrets_are_refused_and_do_not_concern_the_apis() {
    let app = TestApp::spawn_with(|o| {
        o.set("ui_password", "elevenchars");
    })
    .await;
    let body = assert_refused(
        get(&app, "/health").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "ui_password",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("12 characters"));
    let login = app.login().await;
    assert_refused(login, StatusCode::INTERNAL_SERVER_ERROR, "ui_password").await;
    // The APIs do not use the first admin's password: they stay ready.
    for path in ["/users/health", "/tasks/health"] {
        assert_eq!(get(&app, path).await.status(), StatusCode::OK, "{path}");
    }
}

/// During a rotation of `api_token` (docs/deploy.md), the services accept
/// `api_token_previous` as well, so pods of the old and the new rollout
/// accept each other; nothing else is accepted, and a short previous token
/// is refused like a short current one.
#[tokio::test]
async fn the_services_accept_the_previous_token_during_a_rotation() {
    let previous = format!("previous-{}", uuid::Uuid::new_v4().simple());
    let app = TestApp::spawn_with(|o| {
        o.set("api_token_previous", previous.clone());
    })
    .await;
    let with = |token: &str| {
        let request = app.client.get(app.url("/users")).bearer_auth(token);
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(with(&app.api_token).await, StatusCode::OK);
    assert_eq!(with(&previous).await, StatusCode::OK);
    let other = format!("other-{}", uuid::Uuid::new_v4().simple());
    assert_eq!(with(&other).await, StatusCode::UNAUTHORIZED);
    for path in HEALTH {
        assert_eq!(get(&app, path).await.status(), StatusCode::OK, "{path}");
    }

    let short = TestApp::spawn_with(|o| {
        o.set("api_token_previous", "too-short");
    })
    .await;
    for path in ["/users/health", "/tasks/health"] {
        assert_refused(
            get(&short, path).await,
            StatusCode::SERVICE_UNAVAILABLE,
            "api_token_previous",
        )
        .await;
    }
    // Without a previous token (the default), only the current one works.
    let plain = TestApp::spawn().await;
    let request = plain.client.get(plain.url("/users")).bearer_auth(&previous);
    assert_eq!(
        request.send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn good_secrets_make_every_component_ready() {
    let app = TestApp::spawn().await;
    for path in HEALTH {
        let response = get(&app, path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(body(response).await["status"], "ok", "{path}");
    }
}

#[tokio::test]
async fn apis_are_unready_until_the_migrations_have_run() {
    let cluster = tokio::task::spawn_blocking(PgCluster::start).await.unwrap();
    cluster.psql("postgres", "CREATE DATABASE unmigrated");
    let url = cluster.url("unmigrated");
    let app = TestApp::spawn_with(|o| {
        o.set("database_url", url.clone())
            .set("database_host", cluster.host());
    })
    .await;

    for path in ["/users/health", "/tasks/health"] {
        let response = get(&app, path).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        let detail = body(response).await["detail"].to_string();
        assert!(detail.contains("schema_migrations"), "{path}: {detail}");
    }

    // Migrations tracked, but not the version this code needs (an old schema).
    cluster.psql(
        "unmigrated",
        "CREATE TABLE schema_migrations (version text PRIMARY KEY); \
         INSERT INTO schema_migrations VALUES ('0001_initial_schema')",
    );
    let response = get(&app, "/users/health").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let detail = body(response).await["detail"].to_string();
    assert!(
        detail.contains(REQUIRED_SCHEMA_VERSION),
        "names the missing version: {detail}"
    );

    // Once the migrations are applied, the same processes become ready.
    cluster.psql("unmigrated", "DROP TABLE schema_migrations");
    let migrate_url = url.clone();
    tokio::task::spawn_blocking(move || apply_migrations(&migrate_url))
        .await
        .unwrap();
    for path in ["/users/health", "/tasks/health"] {
        assert_eq!(get(&app, path).await.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn the_apps_work_as_the_dml_only_role_which_cannot_change_the_schema() {
    let cluster = tokio::task::spawn_blocking(PgCluster::start).await.unwrap();
    // What the migration Job does on Kubernetes: the role first, then the migrations.
    cluster.psql("postgres", "CREATE ROLE microtaskhub_app LOGIN");
    cluster.psql("postgres", "CREATE DATABASE app");
    let owner_url = cluster.url("app");
    let migrate_url = owner_url.clone();
    tokio::task::spawn_blocking(move || apply_migrations(&migrate_url))
        .await
        .unwrap();
    let app_url = owner_url.replace("postgres://postgres@", "postgres://microtaskhub_app@");
    assert_ne!(app_url, owner_url);

    let app = TestApp::spawn_with(|o| {
        o.set("database_url", app_url.clone())
            .set("database_host", cluster.host());
    })
    .await;
    assert_eq!(get(&app, "/users/health").await.status(), StatusCode::OK);
    let user = app.create_user("least@example.com").await;
    let task = app
        .post(
            "/tasks",
            &json!({"title": "t", "assignee_id": user["id"].clone()}),
        )
        .await;
    assert_eq!(task.status(), StatusCode::CREATED);
    let done = app
        .api(
            Method::PATCH,
            &format!("/tasks/{}", body(task).await["id"].as_str().unwrap()),
        )
        .json(&json!({"status": "done"}))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);

    let (client, connection) = tokio_postgres::connect(&app_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    for ddl in [
        "CREATE TABLE intruder (id int)",
        "DROP TABLE tasks",
        "ALTER TABLE users ADD COLUMN x int",
        "DELETE FROM schema_migrations",
        "TRUNCATE users CASCADE",
    ] {
        let error = client.batch_execute(ddl).await.unwrap_err();
        let code = error.code().map(|c| c.code().to_owned());
        assert!(
            matches!(code.as_deref(), Some("42501")),
            "{ddl}: expected insufficient_privilege, got {error}"
        );
    }
}

#[tokio::test]
async fn hsts_is_sent_only_when_the_request_came_over_https() {
    let app = TestApp::spawn().await;
    let plain = get(&app, "/").await;
    assert!(!plain.headers().contains_key("strict-transport-security"));
    let via_tls_ingress = app
        .client
        .get(app.url("/"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(
        via_tls_ingress.headers()["strict-transport-security"],
        frontend::security::STRICT_TRANSPORT_SECURITY
    );
    assert!(
        frontend::security::STRICT_TRANSPORT_SECURITY.contains("max-age=31536000"),
        "a year"
    );
}
