//! Under load and when dependencies fail: every request ends in a definite
//! answer, every answer matches what was stored, nothing hangs.

use std::time::Duration;

use api_tests::{CpuHog, HangingServer, TestApp, body, dead_url, detail, id};
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Long enough for any honest answer on a loaded machine; a request still
/// open after this is hanging.
const NO_HANG: Duration = Duration::from_secs(120);

/// A row written straight into the database (the way to the service may be
/// what the test breaks); `sql` inserts from one text parameter and returns
/// the new id as text.
async fn seed(app: &TestApp, sql: &str, param: &str) -> String {
    let row = app.db().await.query_one(sql, &[&param]).await.unwrap();
    row.get(0)
}

async fn seed_user(app: &TestApp, email: &str) -> String {
    let sql = "INSERT INTO users (email, full_name) VALUES ($1, 'Seeded') RETURNING id::text";
    seed(app, sql, email).await
}

async fn seed_task(app: &TestApp, assignee: &str) -> String {
    let sql = "INSERT INTO tasks (title, assignee_id) VALUES ('Seeded', $1::text::uuid) \
               RETURNING id::text";
    seed(app, sql, assignee).await
}

/// The app with its user-service URL at a server that never answers, and the
/// `timeout` variable (a `*_timeout_ms`) at one second.
async fn with_hanging_user_service(timeout: &str) -> (HangingServer, TestApp) {
    let hanging = HangingServer::start().await;
    let app = TestApp::spawn_with(|o| {
        o.set("user_service_url", hanging.url.clone());
        o.set(timeout, "1000");
    })
    .await;
    (hanging, app)
}

/// An API request that must get an answer within [`NO_HANG`].
async fn send_bounded(
    app: &TestApp,
    method: Method,
    path: &str,
    json: &Value,
) -> reqwest::Response {
    app.api(method, path)
        .timeout(NO_HANG)
        .json(json)
        .send()
        .await
        .expect("an answer, not a hang")
}

/// `(status, assignee_id)` of a task, straight from the database.
async fn stored_task(app: &TestApp, task: &str) -> (String, Option<String>) {
    let row = app
        .db()
        .await
        .query_one(
            "SELECT status, assignee_id::text FROM tasks WHERE id = $1::text::uuid",
            &[&task],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// The whole burst takes seconds; if it is not over after this, it never will be.
const BURST_LIMIT: Duration = Duration::from_secs(90);

/// One request of the burst and the status it must get.
struct Planned {
    method: Method,
    path: String,
    body: Option<Value>,
    expect: StatusCode,
}

/// 640 requests, 160 in flight, each of which makes one service call the
/// other while the CPU is kept busy. Spin's Postgres pool (64 per address,
/// shared by both services, no wait timeout) deadlocked for good when a
/// handler held its connection across that call; now every request must get
/// the answer it is owed and the app must answer normally afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_cross_service_writes_far_above_the_pool_size_gets_every_answer() {
    // The deadline is generous on purpose: this test is about deadlock, and a
    // 503 from an internal time-out would hide one.
    let app = TestApp::spawn_with(|o| {
        o.set("service_timeout_ms", "60000");
    })
    .await;
    let mut targets = Vec::new();
    for i in 0..20 {
        targets.push(id(&app.create_user(&format!("target{i}@example.com")).await).to_owned());
    }
    let mut tasks = Vec::new();
    for i in 0..60 {
        tasks.push(id(&app.create_task(&targets[i % 20], "todo").await).to_owned());
    }
    let mut leavers = Vec::new();
    let mut busy = Vec::new();
    for i in 0..10 {
        leavers.push(id(&app.create_user(&format!("leaver{i}@example.com")).await).to_owned());
        let user = id(&app.create_user(&format!("busy{i}@example.com")).await).to_owned();
        app.create_task(&user, "in_progress").await;
        busy.push(user);
    }

    let mut plan = Vec::new();
    for i in 0..480 {
        plan.push(Planned {
            method: Method::PATCH,
            path: format!("/tasks/{}", tasks[i % tasks.len()]),
            body: Some(json!({"assignee_id": targets[(i * 7 + 3) % targets.len()]})),
            expect: StatusCode::OK,
        });
    }
    for i in 0..140 {
        plan.push(Planned {
            method: Method::POST,
            path: "/tasks".to_owned(),
            body: Some(json!({"title": format!("burst {i}"), "assignee_id": targets[i % 20]})),
            expect: StatusCode::CREATED,
        });
    }
    for (leaver, busy) in leavers.iter().zip(&busy) {
        plan.push(Planned {
            method: Method::DELETE,
            path: format!("/users/{leaver}"),
            body: None,
            expect: StatusCode::NO_CONTENT,
        });
        plan.push(Planned {
            method: Method::DELETE,
            path: format!("/users/{busy}"),
            body: None,
            expect: StatusCode::CONFLICT,
        });
    }
    // Interleave the kinds (a fixed shuffle, so a failure can be replayed).
    let mut seed: u64 = 0x5eed;
    for i in (1..plan.len()).rev() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        plan.swap(i, (seed >> 33) as usize % (i + 1));
    }

    let hog = CpuHog::start(2, BURST_LIMIT);
    let answered = &std::sync::atomic::AtomicUsize::new(0);
    let burst = futures::stream::iter(plan.into_iter().map(|p| {
        let mut request = app.api(p.method.clone(), &p.path).timeout(BURST_LIMIT);
        if let Some(body) = &p.body {
            request = request.json(body);
        }
        async move {
            let outcome = request
                .send()
                .await
                .map(|r| r.status())
                .map_err(|e| e.to_string());
            answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            (format!("{} {}", p.method, p.path), p.expect, outcome)
        }
    }))
    .buffer_unordered(160)
    .collect::<Vec<_>>();
    let outcomes = tokio::time::timeout(BURST_LIMIT, burst)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "deadlock: only {} of 640 requests were answered after {BURST_LIMIT:?}",
                answered.load(std::sync::atomic::Ordering::Relaxed)
            )
        });
    drop(hog);

    let wrong: Vec<_> = outcomes
        .iter()
        .filter(|(_, expect, outcome)| outcome.as_ref() != Ok(expect))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} requests did not get their answer, e.g. {:?}",
        wrong.len(),
        outcomes.len(),
        &wrong[..wrong.len().min(5)]
    );

    // Afterwards the app answers normally, across services too.
    assert_eq!(app.get("/users?limit=1").await.status(), StatusCode::OK);
    let task = body(app.get(&format!("/tasks/{}", tasks[0])).await).await;
    assert_eq!(task["assignee"]["id"], task["assignee_id"], "{task}");
    assert_eq!(app.count_rows("tasks").await, 60 + 10 + 140);
    assert_eq!(app.count_rows("users").await, 20 + 10);
}

/// A user-service that accepts the connection and never answers: each call
/// gives up at `service_timeout_ms` with a JSON 503, and nothing is written.
#[tokio::test]
async fn a_hanging_user_service_gives_503_in_bounded_time_and_writes_nothing() {
    let (_hanging, app) = with_hanging_user_service("service_timeout_ms").await;
    let user = seed_user(&app, "still@example.com").await;
    let task = seed_task(&app, &user).await;

    let new_task = json!({"title": "T", "assignee_id": user});
    let create = send_bounded(&app, Method::POST, "/tasks", &new_task).await;
    let detail = detail(create, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(detail.contains("user service"), "{detail}");
    assert_eq!(app.count_rows("tasks").await, 1);

    let path = format!("/tasks/{task}");
    let reassign_done = json!({"assignee_id": user, "status": "done"});
    let reassign = send_bounded(&app, Method::PATCH, &path, &reassign_done).await;
    assert_eq!(reassign.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        stored_task(&app, &task).await,
        ("todo".to_owned(), Some(user.clone()))
    );

    // A change that needs no check is written; the answer says so (200) and
    // only the embedded assignee is missing.
    let done = send_bounded(&app, Method::PATCH, &path, &json!({"status": "done"})).await;
    assert_eq!(done.status(), StatusCode::OK);
    let done = body(done).await;
    assert_eq!(done["status"], "done");
    assert_eq!(done["assignee_id"], user.as_str());
    assert_eq!(done["assignee"], Value::Null);
    assert_eq!(stored_task(&app, &task).await.0, "done");
}

/// The gateway cannot know whether a service that went silent applied a
/// change: it answers 504 and says exactly that.
#[tokio::test]
async fn the_gateway_answers_504_when_a_service_hangs() {
    let (_hanging, app) = with_hanging_user_service("gateway_timeout_ms").await;
    let cookie = app.session_cookie().await;
    let browser = |method: Method, path: &str| {
        app.client
            .request(method, app.url(path))
            .header("cookie", &cookie)
            .header("origin", app.url(""))
            .timeout(NO_HANG)
    };

    let read = browser(Method::GET, "/api/users").send().await.unwrap();
    let detail = detail(read, StatusCode::GATEWAY_TIMEOUT).await;
    assert!(detail.contains("did not answer within 1000 ms"), "{detail}");

    let write = browser(Method::POST, "/api/users")
        .json(&json!({"email": "w@example.com", "full_name": "W"}))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), StatusCode::GATEWAY_TIMEOUT);
    let detail = body(write).await["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.contains("may or may not have been applied"),
        "{detail}"
    );
}

/// With user-service refusing connections, every task write either happens
/// and answers 2xx, or does not happen and answers an error.
#[tokio::test]
async fn with_user_service_down_every_task_write_answers_what_it_stored() {
    let app = TestApp::spawn_with(|o| {
        o.set("user_service_url", dead_url());
    })
    .await;
    let user = seed_user(&app, "u@example.com").await;
    let other = seed_user(&app, "o@example.com").await;
    let task = seed_task(&app, &user).await;

    let cases = [
        (json!({"status": "in_progress"}), StatusCode::OK),
        (json!({"title": "Renamed"}), StatusCode::OK),
        (
            json!({"assignee_id": other}),
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        (json!({"status": "done"}), StatusCode::OK),
    ];
    for (patch, expect) in cases {
        let before = stored_task(&app, &task).await;
        let response = app.patch(&format!("/tasks/{task}"), &patch).await;
        let status = response.status();
        let answer = body(response).await;
        assert_eq!(status, expect, "{patch} -> {answer}");
        let after = stored_task(&app, &task).await;
        if status.is_success() {
            assert_eq!(answer["status"], after.0.as_str(), "{patch}");
            assert_eq!(answer["assignee"], Value::Null, "{patch}");
        } else {
            assert_eq!(
                after, before,
                "{patch}: an error must mean nothing was written"
            );
            assert!(answer["detail"].is_string());
        }
    }
    let deleted = app.delete(&format!("/tasks/{task}")).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
}

/// Postgres stopped and started again while requests are in flight: each
/// request gets 201 (and its row exists) or 503 (and its row does not).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_restarting_under_load_loses_nothing_and_invents_nothing() {
    let app = TestApp::spawn_with(|o| o.own_cluster = true).await;
    let requests = futures::stream::iter((0..240).map(|i| {
        let email = format!("load{i}@example.com");
        let request = app
            .api(Method::POST, "/users")
            .timeout(NO_HANG)
            .json(&json!({"email": email, "full_name": "Load"}));
        async move { (email, request.send().await.map(|r| r.status())) }
    }))
    .buffer_unordered(16)
    .collect::<Vec<_>>();
    let outage = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let cluster = app.cluster.clone();
        tokio::task::spawn_blocking(move || {
            cluster.stop();
            std::thread::sleep(Duration::from_millis(500));
            cluster.restart();
        })
        .await
        .unwrap();
    };
    let (outcomes, ()) = tokio::join!(requests, outage);

    let db = app.db().await;
    let mut unavailable = 0;
    for (email, outcome) in outcomes {
        let status = outcome.unwrap_or_else(|e| panic!("{email}: no answer: {e}"));
        let stored: i64 = db
            .query_one("SELECT count(*) FROM users WHERE email = $1", &[&email])
            .await
            .unwrap()
            .get(0);
        match status {
            StatusCode::CREATED => assert_eq!(stored, 1, "{email} answered 201"),
            StatusCode::SERVICE_UNAVAILABLE => {
                unavailable += 1;
                assert_eq!(stored, 0, "{email} answered 503");
            }
            other => panic!("{email}: {other}"),
        }
    }
    // The app recovers by itself.
    app.create_user("after@example.com").await;
    eprintln!("{unavailable} of 240 creates met the outage");
}
