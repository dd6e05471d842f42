//! Under load and when dependencies fail: every request ends in a definite
//! answer, every answer matches what was stored, nothing hangs.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use api_tests::{ClosedPort, HangingServer, TestApp, body, detail};
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
    app.row(sql, param).await.get(0)
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
    let sql = "SELECT status, assignee_id::text FROM tasks WHERE id = $1::text::uuid";
    let row = app.row(sql, task).await;
    (row.get(0), row.get(1))
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
    let refusing = ClosedPort::bind();
    let app = TestApp::spawn_with(|o| {
        o.set("user_service_url", refusing.url.clone());
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

/// How many answers of each status a stream of requests has had so far.
#[derive(Default)]
struct Tally(Mutex<HashMap<StatusCode, usize>>);

impl Tally {
    fn add(&self, status: StatusCode) {
        *self.0.lock().unwrap().entry(status).or_default() += 1;
    }

    fn count(&self, status: StatusCode) -> usize {
        self.0.lock().unwrap().get(&status).copied().unwrap_or(0)
    }

    /// Waits until `count` answers had `status`; `what` says why it must
    /// happen when it does not.
    async fn wait_for(&self, status: StatusCode, count: usize, what: &str) {
        let started = Instant::now();
        while self.count(status) < count {
            assert!(
                started.elapsed() < NO_HANG,
                "{what}: {} of {count} answers were {status} after {NO_HANG:?}",
                self.count(status)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Postgres stopped and started again while creates are in flight: each
/// request gets 201 (and its row exists) or 503 (and its row does not).
/// The outage is driven by the answers, not by a clock: Postgres stops once
/// creates succeed, starts again once some have met it with a 503, and the
/// load ends once creates succeed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_restarting_under_load_loses_nothing_and_invents_nothing() {
    // More than the requests in flight (16): those alone may fail when
    // Postgres goes away; 20 failures mean requests kept meeting the outage.
    const EACH_PHASE: usize = 20;
    let app = TestApp::spawn_with(|o| o.own_cluster = true).await;
    let tally = Tally::default();
    let done = AtomicBool::new(false);
    let (tally, done) = (&tally, &done);

    let load = futures::stream::iter(0..)
        .take_while(|_| std::future::ready(!done.load(Ordering::Relaxed)))
        .map(|i| {
            let email = format!("load{i}@example.com");
            let request = app
                .api(Method::POST, "/users")
                .timeout(NO_HANG)
                .json(&json!({"email": email, "full_name": "Load"}));
            async move {
                let status = request.send().await.map(|r| r.status());
                if let Ok(status) = status {
                    tally.add(status);
                }
                (email, status)
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>();
    let outage = async {
        let cluster = app.cluster.clone();
        tally
            .wait_for(StatusCode::CREATED, EACH_PHASE, "before the outage")
            .await;
        tokio::task::spawn_blocking(move || cluster.stop())
            .await
            .unwrap();
        tally
            .wait_for(
                StatusCode::SERVICE_UNAVAILABLE,
                EACH_PHASE,
                "requests meet the outage",
            )
            .await;
        let cluster = app.cluster.clone();
        tokio::task::spawn_blocking(move || cluster.restart())
            .await
            .unwrap();
        let created = tally.count(StatusCode::CREATED);
        tally
            .wait_for(
                StatusCode::CREATED,
                created + EACH_PHASE,
                "the app recovers by itself",
            )
            .await;
        done.store(true, Ordering::Relaxed);
    };
    let (outcomes, ()) = tokio::join!(load, outage);

    let stored: HashSet<String> = app
        .db()
        .await
        .query("SELECT email FROM users", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    // 201 was stored; 503 ("nothing was changed": the connection was refused)
    // was not; 504 (the connection was lost while the INSERT was out) may be
    // either. Every stored row was answered 201 or 504.
    let mut answered = HashSet::new();
    for (email, outcome) in &outcomes {
        let status = outcome
            .as_ref()
            .unwrap_or_else(|e| panic!("{email}: no answer: {e}"));
        match *status {
            StatusCode::CREATED => assert!(stored.contains(email), "{email} answered 201"),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(!stored.contains(email), "{email} answered 503")
            }
            StatusCode::GATEWAY_TIMEOUT => {}
            other => panic!("{email}: {other}"),
        }
        if matches!(*status, StatusCode::CREATED | StatusCode::GATEWAY_TIMEOUT) {
            answered.insert(email.clone());
        }
    }
    let invented: Vec<_> = stored.difference(&answered).collect();
    assert!(
        invented.is_empty(),
        "stored but answered neither 201 nor 504: {invented:?}"
    );
}
