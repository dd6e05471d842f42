//! docs/openapi.json is the API's contract: it describes exactly the
//! routes the components serve (read from their route tables), the app
//! serves it at /api/openapi.json and renders it at /api/docs, and its
//! links and operation ids hold together. (That every answer the suites
//! receive matches it is the harness's client: src/contract.rs.)

use std::collections::{BTreeMap, BTreeSet};

use api_tests::TestApp;
use api_tests::contract::contract;
use mth_shared::route::{self, Route};
use reqwest::StatusCode;
use serde_json::Value;

/// `(METHOD, path)` of every route, with where it is served.
fn served() -> BTreeMap<(String, String), String> {
    fn table<Op>(
        routes: &[Route<Op>],
        whose: &str,
        prefix: &str,
    ) -> Vec<((String, String), String)> {
        routes
            .iter()
            .map(|r| {
                (
                    (r.method.to_string(), format!("{prefix}{}", r.path)),
                    whose.to_owned(),
                )
            })
            .collect()
    }
    let users = table(
        user_service::routes::ROUTES,
        "user-service's ROUTES (components/user-service/src/routes.rs)",
        "",
    );
    let tasks = table(
        task_service::routes::ROUTES,
        "task-service's ROUTES (components/task-service/src/routes.rs)",
        "",
    );
    let mut served: BTreeMap<_, _> = table(
        frontend::routes::ROUTES,
        "the frontend's ROUTES (components/frontend/src/routes.rs)",
        "",
    )
    .into_iter()
    .collect();
    // The gateway forwards every path under each of its collections.
    for (collection, service, _) in frontend::gateway::SERVICES {
        for ((method, path), _) in users.iter().chain(&tasks) {
            if path == collection || path.starts_with(&format!("{collection}/")) {
                let whose = format!(
                    "the gateway (/api{collection}…, the {service}: components/frontend/src/gateway.rs)"
                );
                served.insert((method.clone(), format!("/api{path}")), whose);
            }
        }
    }
    for collection in ["users", "tasks"] {
        for method in route::HEALTH_METHODS {
            let whose =
                "mth_shared::route::api's health check (crates/shared/src/route.rs)".to_owned();
            served.insert((method.to_string(), route::health_path(collection)), whose);
        }
    }
    served.extend(users);
    served.extend(tasks);
    served
}

#[test]
fn the_document_describes_exactly_the_routes_served() {
    let served = served();
    let documented: BTreeSet<(String, String)> = contract()
        .operations()
        .map(|(m, p)| (m, p.to_owned()))
        .collect();
    let mut problems = Vec::new();
    for ((method, path), whose) in &served {
        if !documented.contains(&(method.clone(), path.clone())) {
            problems.push(format!(
                "{method} {path} is served by {whose}, but docs/openapi.json lacks it: \
                 add \"{}\" under paths.\"{path}\"",
                method.to_lowercase()
            ));
        }
    }
    for (method, path) in &documented {
        if !served.contains_key(&(method.clone(), path.clone())) {
            problems.push(format!(
                "docs/openapi.json describes {method} {path}, which no route table serves: \
                 remove it, or add the route"
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn operation_ids_are_unique_and_every_link_names_one() {
    let doc = &contract().document;
    let mut ids = BTreeSet::new();
    let mut links = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            for response in op["responses"].as_object().unwrap().values() {
                for link in response["links"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(_, l)| l)
                {
                    links.push((
                        format!("{method} {path}"),
                        link["operationId"].as_str().unwrap().to_owned(),
                    ));
                }
            }
        }
    }
    for (from, to) in links {
        assert!(
            ids.contains(&to),
            "{from} links to {to}, which is no operation"
        );
    }
}

/// The app serves the document it was built with, to anyone (clients are
/// generated from it), and the page that renders it under the UI's CSP.
#[tokio::test]
async fn the_app_serves_the_document_and_its_page() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let served: Value = response.json().await.unwrap();
    assert_eq!(
        &served,
        &contract().document,
        "the app serves docs/openapi.json as built"
    );
    assert_eq!(served["openapi"], "3.1.0");

    let index = app.client.get(app.url("/")).send().await.unwrap();
    let page = app.client.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = |r: &reqwest::Response| r.headers()["content-security-policy"].clone();
    assert_eq!(
        csp(&page),
        csp(&index),
        "the same Content-Security-Policy as the UI"
    );
    let html = page.text().await.unwrap();
    for file in [
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/swagger-ui.css",
        "/static/js/api-docs.js",
    ] {
        assert!(html.contains(file), "the page loads {file}");
        let response = app.client.get(app.url(file)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{file}");
    }
    let post = app
        .client
        .post(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    app.shutdown().await;
}

/// A method a path does not take is a 405 that names the ones it does
/// (`Allow`, RFC 9110), on the services, through the gateway and on the
/// frontend's own paths. (Found by Schemathesis: 405s had no `Allow`.)
#[tokio::test]
async fn undeclared_methods_are_405_with_allow() {
    let app = TestApp::spawn().await;
    let admin = app.session_cookie().await;
    let id = uuid::Uuid::new_v4();
    let cases = [
        (app.api(reqwest::Method::PUT, "/tasks"), "POST, GET"),
        // Not a task id refused: /tasks/stats is the stats' path.
        (app.api(reqwest::Method::PATCH, "/tasks/stats"), "GET"),
        (
            app.api(reqwest::Method::PUT, &format!("/users/{id}")),
            "GET, PATCH, DELETE",
        ),
        (
            app.api(reqwest::Method::GET, &format!("/users/{id}/invitation")),
            "POST",
        ),
        (app.api(reqwest::Method::POST, "/tasks/health"), "GET, HEAD"),
        (
            app.client
                .request(reqwest::Method::PUT, app.url("/api/tasks/stats"))
                .header("cookie", &admin)
                .header("origin", app.url("")),
            "GET",
        ),
        (
            app.client
                .post(app.url("/api/openapi.json"))
                .header("origin", app.url("")),
            "GET",
        ),
        (
            app.client
                .delete(app.url("/auth/tokens"))
                .header("origin", app.url("")),
            "GET, POST",
        ),
        (
            app.client
                .post(app.url("/board"))
                .header("origin", app.url("")),
            "GET, HEAD",
        ),
    ];
    for (request, allow) in cases {
        let response = request.send().await.unwrap();
        let what = format!("{}", response.url());
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{what}");
        assert_eq!(response.headers()["allow"], allow, "{what}");
    }
    app.shutdown().await;
}
