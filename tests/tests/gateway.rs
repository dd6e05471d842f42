//! The frontend: sign-in, the session cookie, the gateway to the APIs, the
//! static UI and the security headers, against the real components.

use api_tests::RequestBuilder;
use api_tests::{CannedServer, ClosedPort, TestApp, assert_detail, body, detail, id, sha256_hex};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

/// The app's own origin, as a browser would send it in `Origin`.
fn origin(app: &TestApp) -> String {
    app.url("")
}

async fn login(app: &TestApp, email: &str, password: &str) -> Response {
    app.client
        .post(app.url("/auth/login"))
        .header("origin", origin(app))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

/// A browser request through the gateway: session cookie and same origin.
fn browser(app: &TestApp, method: Method, path: &str, cookie: &str) -> RequestBuilder {
    app.client
        .request(method, app.url(path))
        .header("cookie", cookie)
        .header("origin", origin(app))
}

#[tokio::test]
async fn login_sets_a_hardened_cookie_and_refuses_bad_credentials_alike() {
    let app = TestApp::spawn().await;
    let wrong_password = login(&app, &app.ui_username, "nope").await;
    let wrong_user = login(&app, "nobody", &app.ui_password).await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_user.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong_password.headers().get("set-cookie").is_none());
    assert_eq!(
        body(wrong_password).await,
        body(wrong_user).await,
        "does not say which was wrong"
    );

    let ok = login(&app, &app.ui_username, &app.ui_password).await;
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_owned();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=604800"] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: no Secure flag");
    assert_eq!(body(ok).await["user"]["email"], app.ui_username);

    let behind_tls = app
        .client
        .post(app.url("/auth/login"))
        .header("x-forwarded-proto", "https")
        .header("origin", origin(&app))
        .json(&json!({"email": app.ui_username, "password": app.ui_password}))
        .send()
        .await
        .unwrap();
    assert!(
        behind_tls.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
}

#[tokio::test]
async fn the_session_is_checked_on_every_api_call_and_ends_for_good() {
    let app = TestApp::spawn().await;
    let cookie = app.session_cookie().await;
    let value = cookie.split_once('=').unwrap().1.to_owned();
    let tampered = format!(
        "{}{}",
        &value[..value.len() - 1],
        if value.ends_with('0') { '1' } else { '0' }
    );
    let ok = app
        .browse(Method::GET, "/auth/session", &cookie, None)
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let refused = |cookie: String| {
        let app = &app;
        async move {
            for path in ["/auth/session", "/api/users", "/api/tasks"] {
                let response = app.browse(Method::GET, path, &cookie, None).await;
                let status = response.status();
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} with '{cookie}'");
                assert!(body(response).await["detail"].is_string());
            }
        }
    };
    for bad in [
        String::new(),
        "mth_session=garbage".to_owned(),
        format!("mth_session={tampered}"),
        format!("mth_session={}", "0".repeat(64)),
    ] {
        refused(bad).await;
    }

    // Sessions end on the server: past their absolute end, after idling, and
    // at sign-out — a copy of the cookie kept from before is then worthless.
    let db = app.db().await;
    for (limit, sql) in [
        (
            "absolute",
            "UPDATE sessions SET expires_at = now() AT TIME ZONE 'utc'",
        ),
        (
            "idle",
            "UPDATE sessions SET last_seen_at = (now() AT TIME ZONE 'utc') - interval '9 hours'",
        ),
    ] {
        let cookie = app.session_cookie().await;
        assert_eq!(
            app.browse(Method::GET, "/auth/session", &cookie, None)
                .await
                .status(),
            StatusCode::OK
        );
        db.execute(sql, &[]).await.unwrap();
        refused(cookie).await;
        println!("ended after the {limit} limit");
    }
    // The person's ended sessions are deleted at their next sign-in (the
    // second sign-in above already took those the first limit ended).
    let ended = "SELECT count(*) FROM sessions WHERE expires_at <= (now() AT TIME ZONE 'utc') \
                 OR last_seen_at <= (now() AT TIME ZONE 'utc') - interval '8 hours'";
    let before: i64 = db.query_one(ended, &[]).await.unwrap().get(0);
    app.session_cookie().await;
    let after: i64 = db.query_one(ended, &[]).await.unwrap().get(0);
    assert_eq!((before, after), (1, 0));

    let logout = app
        .browse(Method::POST, "/auth/logout", &cookie, None)
        .await;
    assert!(
        logout.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    refused(cookie).await;
}

#[tokio::test]
async fn the_gateway_passes_calls_through_with_the_token_added() {
    let app = TestApp::spawn().await;
    let cookie = app.session_cookie().await;

    let created = app
        .browse(
            Method::POST,
            "/api/users",
            &cookie,
            Some(&json!({"email": "gw@example.com", "full_name": "Gate Way"})),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let user = body(created).await;
    assert_eq!(location, format!("/api/users/{}", id(&user)));

    let task = app
        .browse(
            Method::POST,
            "/api/tasks",
            &cookie,
            Some(&json!({"title": "via gateway", "assignee_id": user["id"]})),
        )
        .await;
    assert_eq!(task.status(), StatusCode::CREATED);

    let listed = browser(
        &app,
        Method::GET,
        &format!("/api/tasks?assignee_id={}&limit=1", id(&user)),
        &cookie,
    )
    .header("x-request-id", "gw-trace-1")
    .send()
    .await
    .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    assert_eq!(listed.headers()["x-total-count"], "1");
    assert_eq!(listed.headers()["x-request-id"], "gw-trace-1");
    assert_eq!(body(listed).await[0]["title"], "via gateway");

    // Errors come back as the service said them.
    let invalid = app
        .browse(
            Method::PATCH,
            &format!("/api/users/{}", id(&user)),
            &cookie,
            Some(&json!({"email": "nope"})),
        )
        .await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body(invalid).await["errors"][0]["field"], "email");
    let refused = app
        .browse(
            Method::DELETE,
            &format!("/api/users/{}", id(&user)),
            &cookie,
            None,
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);

    let unknown = app
        .browse(Method::GET, "/api/projects", &cookie, None)
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn cross_origin_writes_are_refused() {
    let app = TestApp::spawn().await;
    let cookie = app.session_cookie().await;
    let users = app.count_rows("users").await; // the first admin, now signed in
    let new_user = json!({"email": "csrf@example.com", "full_name": "C"});
    let attempts = [
        app.client
            .post(app.url("/api/users"))
            .header("cookie", &cookie)
            .header("origin", "https://evil.example"),
        app.client
            .post(app.url("/api/users"))
            .header("cookie", &cookie)
            .header("sec-fetch-site", "cross-site"),
        app.client
            .post(app.url("/api/users"))
            .header("cookie", &cookie),
    ];
    for attempt in attempts {
        let response = attempt.json(&new_user).send().await.unwrap();
        detail(response, StatusCode::FORBIDDEN).await;
    }
    assert_eq!(app.count_rows("users").await, users);
}

#[tokio::test]
async fn an_unreachable_service_is_a_json_503() {
    let refusing = ClosedPort::bind();
    let app = TestApp::spawn_with(|o| {
        o.set("user_service_url", refusing.url.clone());
    })
    .await;
    let cookie = app.session_cookie().await;
    let response = app.browse(Method::GET, "/api/users", &cookie, None).await;
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_detail(response, StatusCode::SERVICE_UNAVAILABLE, "user service").await;
}

#[tokio::test]
async fn the_token_never_reaches_the_browser() {
    let (app, [user]) = TestApp::with_users(["t@example.com"]).await;
    let cookie = app.session_cookie().await;
    let paths = [
        "/",
        "/board",
        "/static/js/app.js",
        "/static/js/api.js",
        "/auth/session",
        "/api/users",
        "/api/tasks",
        "/health",
        "/nope",
    ];
    let mut responses = Vec::new();
    for path in paths {
        responses.push(app.browse(Method::GET, path, &cookie, None).await);
    }
    responses.push(
        app.browse(
            Method::GET,
            &format!("/api/users/{}", id(&user)),
            &cookie,
            None,
        )
        .await,
    );
    for response in responses {
        let headers = format!("{:?}", response.headers());
        let url = response.url().clone();
        let text = response.text().await.unwrap();
        assert!(
            !text.contains(&app.api_token) && !headers.contains(&app.api_token),
            "{url} leaks the token"
        );
    }
}

#[tokio::test]
async fn static_files_have_types_caching_and_security_headers() {
    let app = TestApp::spawn().await;
    let index = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    let headers = index.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.contains_key("referrer-policy"));
    assert!(body_text(index).await.contains("MicroTaskHub"));

    for (path, kind) in [
        ("/static/js/app.js", "text/javascript"),
        ("/static/css/app.css", "text/css"),
        ("/team", "text/html"),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
    }

    let script = app
        .client
        .get(app.url("/static/js/app.js"))
        .send()
        .await
        .unwrap();
    let etag = script.headers()["etag"].to_str().unwrap().to_owned();
    assert!(script.headers().contains_key("cache-control"));
    let again = app
        .client
        .get(app.url("/static/js/app.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    for missing in [
        "/static/nope.js",
        "/static/../spin.toml",
        "/static/%2e%2e/spin.toml",
        "/elsewhere",
    ] {
        let response = app.client.get(app.url(missing)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
        assert!(
            response.headers().contains_key("content-security-policy"),
            "{missing}"
        );
    }
    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(body(health).await["status"], "ok");
}

async fn body_text(response: Response) -> String {
    response.text().await.unwrap()
}

/// Sends a request line exactly as written (no client normalises `..` away)
/// and returns the status code and the whole response head.
async fn raw_get(app: &TestApp, target: &str) -> (u16, String) {
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        app.addr()
    );
    let text = app.raw_exchange(request.as_bytes()).await;
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let head = text.split("\r\n\r\n").next().unwrap_or_default().to_owned();
    (status, head)
}

#[tokio::test]
async fn no_path_reaches_outside_the_static_files() {
    let app = TestApp::spawn().await;
    let (status, _) = raw_get(&app, "/static/js/app.js").await;
    assert_eq!(status, 200, "the raw client works");
    for target in [
        "/static/../spin.toml",
        "/static/js/../../spin.toml",
        "/static/../../../../etc/passwd",
        "/static/%2e%2e/spin.toml",
        "/static/.%2e/spin.toml",
        "/static/..%2fspin.toml",
        "/static/..%5cspin.toml",
        "/static//etc/passwd",
        "/static/js",
        "/static/",
        "/../spin.toml",
        "/api/users/../../spin.toml",
    ] {
        let (status, head) = raw_get(&app, target).await;
        assert!(status == 404 || status == 400, "{target} answered {status}");
        assert!(
            !head.contains("text/plain") && !head.contains("toml"),
            "{target}: {head}"
        );
    }
}

#[tokio::test]
async fn sign_in_and_out_are_refused_across_sites_too() {
    let app = TestApp::spawn().await;
    let credentials = json!({"email": app.ui_username, "password": app.ui_password});
    // Login CSRF: another site must not sign the browser in.
    let sign_in_with = |header: &str, value: &str| {
        app.client
            .post(app.url("/auth/login"))
            .header(header, value)
            .json(&credentials)
            .send()
    };
    let cross = sign_in_with("origin", "https://evil.example")
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert!(cross.headers().get("set-cookie").is_none());

    let cookie = app.session_cookie().await;
    let logout = app
        .client
        .post(app.url("/auth/logout"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::FORBIDDEN);
    assert!(logout.headers().get("set-cookie").is_none());

    // Same-origin by Sec-Fetch-Site alone is accepted.
    let by_fetch_metadata = sign_in_with("sec-fetch-site", "same-origin").await.unwrap();
    assert_eq!(by_fetch_metadata.status(), StatusCode::OK);
}

/// Writes to things that exist, without a session: 401, and they stay as
/// they were.
#[tokio::test]
async fn writes_without_a_session_change_nothing() {
    let app = TestApp::spawn().await;
    let user = app.create_user("kept@example.com").await;
    let task = app.create_task(id(&user), "done").await;
    let (user_path, task_path) = (
        format!("/users/{}", id(&user)),
        format!("/tasks/{}", id(&task)),
    );
    for (method, path, json) in [
        (
            Method::POST,
            "/users".to_owned(),
            Some(json!({"email": "x@example.com", "full_name": "X"})),
        ),
        (
            Method::PATCH,
            user_path.clone(),
            Some(json!({"full_name": "Changed"})),
        ),
        (
            Method::PATCH,
            task_path.clone(),
            Some(json!({"title": "Changed"})),
        ),
        (Method::DELETE, task_path.clone(), None),
        (Method::DELETE, user_path.clone(), None),
        (Method::POST, format!("{user_path}/invitation"), None),
    ] {
        let response = app
            .browse(method.clone(), &format!("/api{path}"), "", json.as_ref())
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        assert!(body(response).await["detail"].is_string());
    }
    assert_eq!(body(app.get(&user_path).await).await, user);
    let stored = body(app.get(&task_path).await).await;
    assert_eq!(
        (&stored["title"], &stored["updated_at"]),
        (&task["title"], &task["updated_at"])
    );
    assert_eq!(app.count_rows("users").await, 1);
    assert_eq!(app.count_rows("invitations").await, 0);
}

/// A session in use stays alive past the idle limit: each request moves its
/// idle clock (8 hours), up to its absolute end. Time passes in the
/// database, not in the test.
#[tokio::test]
async fn a_session_in_use_outlives_the_idle_limit() {
    let app = TestApp::spawn().await;
    let cookie = app.session_cookie().await;
    let value = cookie.split_once('=').unwrap().1;
    let digest: String = app
        .db()
        .await
        .query_one("SELECT token_hash FROM sessions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(digest, sha256_hex(value), "stored as its SHA-256 only");

    let session_status = || async {
        let response = app
            .browse(Method::GET, "/auth/session", &cookie, None)
            .await;
        response.status()
    };
    let columns = ["created_at", "last_seen_at", "expires_at"];
    // Used every 7 hours: 14 hours after sign-in it still works.
    for _ in 0..2 {
        app.move_back("sessions", &columns, "true", "7 hours").await;
        assert_eq!(session_status().await, StatusCode::OK);
    }
    // Left alone for a moment longer than 8 hours, it ends.
    app.move_back("sessions", &columns, "true", "8 hours 1 minute")
        .await;
    assert_eq!(session_status().await, StatusCode::UNAUTHORIZED);
}

/// Moving the idle clock never waits for the session's row: while another
/// transaction holds it (an import hands the importer's sign-in over in
/// one, for as long as the import runs), calls whose move is due are
/// answered at once, and the first call after it moves the clock.
#[tokio::test]
async fn a_held_session_row_holds_up_no_call() {
    let app = TestApp::spawn().await;
    let cookie = app.session_cookie().await;
    let last_seen = || async {
        let row = app
            .row("SELECT last_seen_at::text FROM sessions WHERE $1 = ''", "")
            .await;
        row.get::<_, String>(0)
    };
    app.move_back("sessions", &["last_seen_at"], "true", "2 minutes")
        .await;
    let before = last_seen().await;

    let held = app.hold_locks("SELECT 1 FROM sessions FOR UPDATE").await;
    for path in ["/auth/session", "/api/users"] {
        let call = app.browse(Method::GET, path, &cookie, None);
        let answered = tokio::time::timeout(std::time::Duration::from_secs(60), call)
            .await
            .unwrap_or_else(|_| panic!("{path} waited for the held session row"));
        assert_eq!(answered.status(), StatusCode::OK, "{path}");
    }
    held.commit().await;
    assert_eq!(last_seen().await, before, "not moved while held");

    let after = app
        .browse(Method::GET, "/auth/session", &cookie, None)
        .await;
    assert_eq!(after.status(), StatusCode::OK);
    assert_ne!(last_seen().await, before, "moved by the next call");
}

/// What a service answers that the browser must not get as is: a 401
/// (the gateway's own token refused: a misconfiguration, not an ended
/// session) becomes a 502; an error page that is not JSON (a trap, a
/// proxy) becomes the gateway's JSON 503.
#[tokio::test]
async fn the_gateway_translates_what_the_browser_must_not_see() {
    // Another deployment's user service: its api_token is not ours.
    let other = TestApp::spawn().await;
    let error_page = CannedServer::start(500, "text/html", "<h1>Internal Server Error</h1>").await;
    let app = TestApp::spawn_with(|o| {
        o.set("user_service_url", other.url(""));
        o.set("task_service_url", error_page.url.clone());
    })
    .await;
    let cookie = app.session_cookie().await;
    let json_error = |response: Response, status: StatusCode, needle: &'static str| async move {
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}"
        );
        assert_detail(response, status, needle).await;
    };

    let refused = app.browse(Method::GET, "/api/users", &cookie, None).await;
    json_error(refused, StatusCode::BAD_GATEWAY, "could not authenticate").await;
    let still_signed_in = app
        .browse(Method::GET, "/auth/session", &cookie, None)
        .await;
    assert_eq!(still_signed_in.status(), StatusCode::OK);

    let new_task = json!({"title": "T", "assignee_id": uuid::Uuid::new_v4()});
    let trapped = app
        .browse(Method::POST, "/api/tasks", &cookie, Some(&new_task))
        .await;
    json_error(trapped, StatusCode::SERVICE_UNAVAILABLE, "task service").await;
    assert_eq!(error_page.hits(), 1, "the error page was what answered");
}

#[tokio::test]
async fn methods_bodies_and_statuses_pass_through_unchanged() {
    let app = TestApp::spawn().await;
    let cookie = app.session_cookie().await;
    let user = app.create_user("pass@example.com").await;
    let path = format!("/api/users/{}", id(&user));

    let send = |method, json: Value| {
        let (app, path, cookie) = (&app, &path, &cookie);
        async move { app.browse(method, path, cookie, Some(&json)).await }
    };
    // The service's own answer to a method it does not allow, relayed as is.
    let put = send(Method::PUT, json!({"full_name": "P"})).await;
    detail(put, StatusCode::METHOD_NOT_ALLOWED).await;

    // The gateway's JSON is the service's JSON.
    let through_gateway = body(app.browse(Method::GET, &path, &cookie, None).await).await;
    let direct = body(app.get(&format!("/users/{}", id(&user))).await).await;
    assert_eq!(through_gateway, direct);

    let patched = send(Method::PATCH, json!({"full_name": "Renamed"})).await;
    assert_eq!(patched.status(), StatusCode::OK);
    assert_eq!(body(patched).await["full_name"], "Renamed");

    let deleted = app.browse(Method::DELETE, &path, &cookie, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = app.browse(Method::GET, &path, &cookie, None).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    // A query the service refuses comes back with its 422 and field list.
    let bad_query = app
        .browse(Method::GET, "/api/tasks?limit=0", &cookie, None)
        .await;
    assert_eq!(bad_query.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body(bad_query).await["errors"][0]["field"], "limit");
}
