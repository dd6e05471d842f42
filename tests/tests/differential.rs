//! The same requests to the app under the runner and under a real Spin
//! (`SPIN_BIN`, or `spin` on the PATH): every answer must match in status,
//! `X-Total-Count` and JSON body, with ids and times normalised. Skipped, with
//! a visible line, when there is no Spin.

use std::collections::HashMap;

use api_tests::{Host, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// How a step reaches the app.
#[derive(Clone, Copy)]
enum Via {
    /// Straight to the API with the bearer token.
    Api,
    /// Straight to the API without a token.
    Anonymous,
    /// Through the frontend's gateway with a session cookie.
    Gateway,
}

/// One request. `{name}` in the path or body is the id saved as `name` by an
/// earlier step.
struct Step {
    via: Via,
    method: Method,
    path: &'static str,
    body: Option<Value>,
    /// Saves the `id` of the response body under this name.
    save: Option<&'static str>,
}

fn step(via: Via, method: Method, path: &'static str, body: Option<Value>) -> Step {
    Step {
        via,
        method,
        path,
        body,
        save: None,
    }
}

fn saving(mut s: Step, name: &'static str) -> Step {
    s.save = Some(name);
    s
}

fn script() -> Vec<Step> {
    use Method as M;
    use Via::*;
    let user = |email: &str| json!({"email": email, "full_name": "Ada Lovelace"});
    vec![
        // Health, auth and unknown routes.
        step(Anonymous, M::GET, "/users/health", None),
        step(Anonymous, M::GET, "/tasks/health", None),
        step(Anonymous, M::GET, "/health", None),
        step(Anonymous, M::GET, "/users", None),
        step(Api, M::GET, "/users/not-a-uuid", None),
        step(
            Api,
            M::GET,
            "/users/6f1c1f5e-5d7b-4f43-9b7e-3f1d2f0c8a11",
            None,
        ),
        step(
            Api,
            M::GET,
            "/tasks/6f1c1f5e-5d7b-4f43-9b7e-3f1d2f0c8a11",
            None,
        ),
        step(Api, M::PUT, "/users", Some(json!({}))),
        step(
            Api,
            M::PUT,
            "/tasks/6f1c1f5e-5d7b-4f43-9b7e-3f1d2f0c8a11",
            Some(json!({})),
        ),
        step(Api, M::GET, "/nowhere", None),
        // Users: create, validation, duplicates in any letter case.
        saving(
            step(Api, M::POST, "/users", Some(user("ada@example.com"))),
            "ada",
        ),
        saving(
            step(
                Api,
                M::POST,
                "/users",
                Some(json!({"email": "bob@example.com", "full_name": "Bob", "role": "admin"})),
            ),
            "bob",
        ),
        step(Api, M::POST, "/users", Some(user("ada@example.com"))),
        step(Api, M::POST, "/users", Some(user("ADA@Example.COM"))),
        step(Api, M::POST, "/users", Some(user("not-an-email"))),
        step(
            Api,
            M::POST,
            "/users",
            Some(json!({"email": "", "full_name": "", "role": "king"})),
        ),
        step(Api, M::POST, "/users", Some(json!([1, 2]))),
        step(
            Api,
            M::PATCH,
            "/users/{bob}",
            Some(json!({"email": "Ada@example.com"})),
        ),
        step(
            Api,
            M::PATCH,
            "/users/{bob}",
            Some(json!({"full_name": "Robert"})),
        ),
        step(Api, M::PATCH, "/users/{bob}", Some(json!({"role": "nope"}))),
        step(Api, M::GET, "/users/{ada}", None),
        step(Api, M::GET, "/users", None),
        step(Api, M::GET, "/users?limit=1", None),
        step(Api, M::GET, "/users?limit=1&offset=1", None),
        step(Api, M::GET, "/users?limit=0", None),
        step(Api, M::GET, "/users?offset=-1", None),
        step(Api, M::GET, "/users?colour=red", None),
        // Tasks: create, validation, filters, pagination.
        saving(
            step(
                Api,
                M::POST,
                "/tasks",
                Some(json!({"title": "Write", "assignee_id": "{ada}"})),
            ),
            "t1",
        ),
        saving(
            step(
                Api,
                M::POST,
                "/tasks",
                Some(
                    json!({"title": "Review", "description": "twice", "status": "in_progress", "due_date": "2030-01-31", "assignee_id": "{bob}"}),
                ),
            ),
            "t2",
        ),
        saving(
            step(
                Api,
                M::POST,
                "/tasks",
                Some(json!({"title": "Ship", "status": "done", "assignee_id": "{ada}"})),
            ),
            "t3",
        ),
        step(
            Api,
            M::POST,
            "/tasks",
            Some(json!({"title": "", "status": "later"})),
        ),
        step(
            Api,
            M::POST,
            "/tasks",
            Some(json!({"title": "Orphan", "assignee_id": "6f1c1f5e-5d7b-4f43-9b7e-3f1d2f0c8a11"})),
        ),
        step(
            Api,
            M::POST,
            "/tasks",
            Some(json!({"title": "Bad date", "due_date": "2030-02-30", "assignee_id": "{ada}"})),
        ),
        step(Api, M::GET, "/tasks/{t2}", None),
        step(Api, M::GET, "/tasks", None),
        step(Api, M::GET, "/tasks?assignee_id={ada}", None),
        step(Api, M::GET, "/tasks?status=done", None),
        step(Api, M::GET, "/tasks?assignee_id={ada}&status=todo", None),
        step(Api, M::GET, "/tasks?status=later", None),
        step(Api, M::GET, "/tasks?assignee_id=nope", None),
        step(Api, M::GET, "/tasks?limit=2&offset=1", None),
        step(
            Api,
            M::PATCH,
            "/tasks/{t1}",
            Some(json!({"status": "in_progress", "title": "Write more"})),
        ),
        step(
            Api,
            M::PATCH,
            "/tasks/{t1}",
            Some(json!({"assignee_id": null})),
        ),
        step(
            Api,
            M::PATCH,
            "/tasks/{t1}",
            Some(json!({"status": "sideways"})),
        ),
        // Deletes refused, then allowed.
        step(Api, M::DELETE, "/tasks/{t1}", None),
        step(Api, M::DELETE, "/users/{ada}", None),
        step(Api, M::DELETE, "/tasks/{t3}", None),
        step(Api, M::DELETE, "/tasks/{t3}", None),
        step(
            Api,
            M::PATCH,
            "/tasks/{t1}",
            Some(json!({"status": "done"})),
        ),
        step(Api, M::DELETE, "/tasks/{t1}", None),
        step(Api, M::DELETE, "/users/{ada}", None),
        step(Api, M::GET, "/users/{ada}", None),
        step(Api, M::DELETE, "/users/{ada}", None),
        // The gateway: the same API behind the session cookie.
        step(Gateway, M::GET, "/api/users", None),
        step(Gateway, M::GET, "/api/tasks?assignee_id={bob}", None),
        step(
            Gateway,
            M::POST,
            "/api/users",
            Some(user("BOB@example.com")),
        ),
        saving(
            step(Gateway, M::POST, "/api/users", Some(user("cy@example.com"))),
            "cy",
        ),
        step(
            Gateway,
            M::PATCH,
            "/api/users/{cy}",
            Some(json!({"email": "bob@EXAMPLE.com"})),
        ),
        step(Gateway, M::GET, "/api/tasks/{t2}", None),
        step(Gateway, M::DELETE, "/api/users/{cy}", None),
        step(Gateway, M::GET, "/api/nowhere", None),
        step(Anonymous, M::GET, "/api/users", None),
    ]
}

/// What one answer is compared on.
#[derive(Debug, PartialEq)]
struct Answer {
    status: StatusCode,
    total: Option<String>,
    body: Value,
}

/// Runs the script against one app. Ids are replaced by `<id:N>` in order of
/// first appearance, so both hosts' answers line up.
async fn run(app: &TestApp) -> Vec<Answer> {
    let cookie = app.session_cookie().await;
    let mut saved: HashMap<&str, String> = HashMap::new();
    let mut ids = Ids::default();
    let mut answers = Vec::new();
    for s in script() {
        let fill = |text: &str| {
            saved.iter().fold(text.to_owned(), |t, (name, id)| {
                t.replace(&format!("{{{name}}}"), id)
            })
        };
        let url = app.url(&fill(s.path));
        let request = match s.via {
            Via::Api => app
                .client
                .request(s.method.clone(), url)
                .bearer_auth(&app.api_token),
            Via::Anonymous => app.client.request(s.method.clone(), url),
            Via::Gateway => app
                .client
                .request(s.method.clone(), url)
                .header("cookie", &cookie)
                .header("origin", app.url("")),
        };
        let request = match &s.body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(fill(&body.to_string())),
            None => request,
        };
        let response = request.send().await.expect("a response");
        let status = response.status();
        let total = response
            .headers()
            .get("x-total-count")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if let (Some(name), Some(id)) = (s.save, body["id"].as_str()) {
            saved.insert(name, id.to_owned());
        }
        answers.push(Answer {
            status,
            total,
            body: ids.normalise(body),
        });
    }
    answers
}

/// Replaces UUIDs (anywhere in a string) with `<id:N>` and RFC 3339 times
/// with `<time>`.
#[derive(Default)]
struct Ids(HashMap<String, usize>);

impl Ids {
    fn normalise(&mut self, value: Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.text(&s)),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.normalise(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, self.normalise(v)))
                    .collect(),
            ),
            other => other,
        }
    }

    fn text(&mut self, s: &str) -> String {
        if looks_like_time(s) {
            return "<time>".to_owned();
        }
        let mut out = String::new();
        let mut rest = s;
        while !rest.is_empty() {
            if let Some(candidate) = rest.get(..36)
                && uuid::Uuid::parse_str(candidate).is_ok()
            {
                let next = self.0.len();
                let n = *self.0.entry(candidate.to_ascii_lowercase()).or_insert(next);
                out.push_str(&format!("<id:{n}>"));
                rest = &rest[36..];
                continue;
            }
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }
}

/// `2026-11-25T20:16:32.290446Z` and the like (not plain dates).
fn looks_like_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && s.ends_with('Z')
        && b[..4].iter().all(u8::is_ascii_digit)
}

#[tokio::test]
async fn runner_and_spin_give_the_same_answers() {
    let Some(spin) = Host::available_spin() else {
        println!("skipped: no spin (set SPIN_BIN or put spin on the PATH)");
        return;
    };
    if Host::from_env() != Host::Runner {
        // The suite's Spin pass: this test already ran in the runner pass.
        println!("skipped: the differential test runs in the runner pass");
        return;
    }
    let runner = TestApp::spawn_with(|o| o.host = Host::Runner).await;
    let spin = TestApp::spawn_with(|o| o.host = Host::Spin(spin)).await;
    let (under_runner, under_spin) = (run(&runner).await, run(&spin).await);

    let script = script();
    let differences: Vec<String> = under_runner
        .iter()
        .zip(&under_spin)
        .zip(&script)
        .filter(|((r, s), _)| r != s)
        .map(|((r, s), step)| {
            format!(
                "{} {}\n  runner: {} {:?} {}\n  spin:   {} {:?} {}",
                step.method, step.path, r.status, r.total, r.body, s.status, s.total, s.body
            )
        })
        .collect();
    assert_eq!(under_runner.len(), under_spin.len());
    assert!(
        differences.is_empty(),
        "{} of {} answers differ:\n{}",
        differences.len(),
        script.len(),
        differences.join("\n")
    );
    runner.shutdown().await;
    spin.shutdown().await;
}
