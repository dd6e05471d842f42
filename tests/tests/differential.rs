//! The same requests to the app under the runner and under a real Spin
//! (`SPIN_BIN`, or `spin` on the PATH): every answer must match in status,
//! `X-Total-Count` and JSON body, with ids and times normalised. Skipped, with
//! a visible line, when there is no Spin.

use std::collections::HashMap;

use api_tests::{Host, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// How a step reaches the app.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Via {
    /// Straight to the API with the bearer token.
    Api,
    /// Straight to the API without a token.
    Anonymous,
    /// Through the frontend's gateway with a session cookie.
    Gateway,
}

/// The requests, one a line: `VIA METHOD PATH [JSON BODY] [-> NAME]`.
/// VIA is `api` (straight to the API with the bearer token), `anon` (straight
/// to the API without a token) or `gateway` (through the frontend's gateway
/// with a session cookie). `{name}` in the path or body is the id an earlier
/// step saved as `name`; `-> name` saves the `id` of the response body.
const SCRIPT: &str = r#"
# Health, auth and unknown routes.
anon GET /users/health
anon GET /tasks/health
anon GET /health
anon GET /users
api GET /users/not-a-uuid
api GET /users/6f1c1f5e-5d7b-4f43-9b7e-3f1d2f0c8a11
api GET /tasks/6f1c1f5e-5d7b-4f43-9b7e-3f1d2f0c8a11
api PUT /users {}
api PUT /tasks/6f1c1f5e-5d7b-4f43-9b7e-3f1d2f0c8a11 {}
api GET /nowhere
# Users: create, validation, duplicates in any letter case.
api POST /users {"email": "ada@example.com", "full_name": "Ada Lovelace"} -> ada
api POST /users {"email": "bob@example.com", "full_name": "Bob", "role": "admin"} -> bob
api POST /users {"email": "ada@example.com", "full_name": "Ada Lovelace"}
api POST /users {"email": "ADA@Example.COM", "full_name": "Ada Lovelace"}
api POST /users {"email": "not-an-email", "full_name": "Ada Lovelace"}
api POST /users {"email": "", "full_name": "", "role": "king"}
api POST /users [1, 2]
api PATCH /users/{bob} {"email": "Ada@example.com"}
api PATCH /users/{bob} {"full_name": "Robert"}
api PATCH /users/{bob} {"role": "nope"}
api GET /users/{ada}
api GET /users
api GET /users?limit=1
api GET /users?limit=1&offset=1
api GET /users?limit=0
api GET /users?offset=-1
api GET /users?colour=red
# Tasks: create, validation, filters, pagination.
api POST /tasks {"title": "Write", "assignee_id": "{ada}"} -> t1
api POST /tasks {"title": "Review", "description": "twice", "status": "in_progress", "due_date": "2030-01-31", "assignee_id": "{bob}"} -> t2
api POST /tasks {"title": "Ship", "status": "done", "assignee_id": "{ada}"} -> t3
api POST /tasks {"title": "", "status": "later"}
api POST /tasks {"title": "Orphan", "assignee_id": "6f1c1f5e-5d7b-4f43-9b7e-3f1d2f0c8a11"}
api POST /tasks {"title": "Bad date", "due_date": "2030-02-30", "assignee_id": "{ada}"}
api GET /tasks/{t2}
api GET /tasks
api GET /tasks?assignee_id={ada}
api GET /tasks?status=done
api GET /tasks?assignee_id={ada}&status=todo
api GET /tasks?status=later
api GET /tasks?assignee_id=nope
api GET /tasks?limit=2&offset=1
api PATCH /tasks/{t1} {"status": "in_progress", "title": "Write more"}
api PATCH /tasks/{t1} {"assignee_id": null}
api PATCH /tasks/{t1} {"status": "sideways"}
# Deletes refused, then allowed.
api DELETE /tasks/{t1}
api DELETE /users/{ada}
api DELETE /tasks/{t3}
api DELETE /tasks/{t3}
api PATCH /tasks/{t1} {"status": "done"}
api DELETE /tasks/{t1}
api DELETE /users/{ada}
api GET /users/{ada}
api DELETE /users/{ada}
# The gateway: the same API behind the session cookie.
gateway GET /api/users
gateway GET /api/tasks?assignee_id={bob}
gateway POST /api/users {"email": "BOB@example.com", "full_name": "Ada Lovelace"}
gateway POST /api/users {"email": "cy@example.com", "full_name": "Ada Lovelace"} -> cy
gateway PATCH /api/users/{cy} {"email": "bob@EXAMPLE.com"}
gateway GET /api/tasks/{t2}
gateway DELETE /api/users/{cy}

api POST /labels {"name": "bug", "color": "red"} -> bug
api POST /labels {"name": "Design", "color": "purple"} -> design
api POST /labels {"name": "BUG", "color": "blue"}
api POST /labels {"name": " x", "color": "mauve"}
api GET /labels
api PATCH /tasks/{t2} {"label_ids": ["{design}", "{bug}"]}
api PATCH /tasks/{t2} {"label_ids": ["6f1c1f5e-5d7b-4f43-9b7e-3f1d2f0c8a11"]}
api GET /tasks?label={bug},{design}
api GET /tasks?label={bug}&label=6f1c1f5e-5d7b-4f43-9b7e-3f1d2f0c8a11&label_match=any
api GET /tasks?label=nope
gateway PATCH /api/labels/{bug} {"name": "Design"}
gateway PATCH /api/labels/{bug} {"name": "defect", "color": "orange"}
gateway GET /api/tasks/{t2}
gateway DELETE /api/labels/{design}
gateway GET /api/labels/{design}
gateway GET /api/tasks/{t2}/history
gateway GET /api/nowhere
anon GET /api/users
"#;

/// One request of [`SCRIPT`].
#[derive(Debug, PartialEq)]
struct Step {
    via: Via,
    method: Method,
    path: &'static str,
    body: Option<Value>,
    /// Saves the `id` of the response body under this name.
    save: Option<&'static str>,
}

fn script() -> Vec<Step> {
    SCRIPT
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (line, save) = match line.rsplit_once(" -> ") {
                Some((request, name)) => (request, Some(name)),
                None => (line, None),
            };
            let mut parts = line.splitn(4, ' ');
            let mut next = || parts.next().unwrap_or_default();
            let via = match next() {
                "api" => Via::Api,
                "anon" => Via::Anonymous,
                "gateway" => Via::Gateway,
                other => panic!("unknown VIA {other:?} in {line:?}"),
            };
            let method = Method::from_bytes(next().as_bytes()).expect("a method");
            let path = next();
            let body = match next() {
                "" => None,
                json => Some(serde_json::from_str(json).expect("a JSON body")),
            };
            Step {
                via,
                method,
                path,
                body,
                save,
            }
        })
        .collect()
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

/// The runner and each real engine available (`spin up`, SpinKube's node)
/// answer the script alike.
#[tokio::test]
async fn runner_and_spin_give_the_same_answers() {
    let engines: Vec<_> = [Host::available_spin(), Host::available_spinkube()]
        .into_iter()
        .flatten()
        .collect();
    if engines.is_empty() {
        println!("skipped: no spin (set SPIN_BIN or SPINKUBE_BIN, or put spin on the PATH)");
        return;
    }
    if Host::from_env() != Host::Runner {
        // An engine's own pass: this test already ran in the runner pass.
        println!("skipped: the differential test runs in the runner pass");
        return;
    }
    let runner = TestApp::spawn_with(|o| o.host = Host::Runner).await;
    let under_runner = run(&runner).await;
    runner.shutdown().await;
    let script = script();
    for engine in engines {
        let name = format!("{:?}", engine.engine);
        let app = TestApp::spawn_with(|o| o.host = Host::Spin(engine)).await;
        let under_engine = run(&app).await;
        app.shutdown().await;
        let differences: Vec<String> = under_runner
            .iter()
            .zip(&under_engine)
            .zip(&script)
            .filter(|((r, s), _)| r != s)
            .map(|((r, s), step)| {
                format!(
                    "{} {}\n  runner: {} {:?} {}\n  {name}: {} {:?} {}",
                    step.method, step.path, r.status, r.total, r.body, s.status, s.total, s.body
                )
            })
            .collect();
        assert_eq!(under_runner.len(), under_engine.len(), "{name}");
        assert!(
            differences.is_empty(),
            "{} of {} answers differ between the runner and {name}:\n{}",
            differences.len(),
            script.len(),
            differences.join("\n")
        );
    }
}
