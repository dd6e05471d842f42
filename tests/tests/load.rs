//! Under load, on a CPU kept busy: every request ends in the answer it is
//! owed. The tests that keep the CPU busy live in this binary alone: cargo
//! runs test binaries one after another, so their hogs never starve the
//! tests of another file (whose deadlines they would otherwise eat).

use std::time::Duration;

use api_tests::{CpuHog, TestApp, body, id};
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

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
