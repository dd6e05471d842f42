//! `/api/users…`, `/api/tasks…`, `/api/labels…` and `/api/views…`: forwarded to the services with the
//! shared bearer token, which never reaches the browser.
//!
//! Method, path, query, body, status and JSON pass through unchanged; of the
//! response headers only `content-type`, `x-total-count`, `allow` and `location`
//! (moved under `/api`) are kept.

use std::time::Duration;

use mth_accounts::Actor;
use mth_shared::internal::Service;
use mth_shared::outbound::{CallError, Reply};
use mth_shared::{ApiError, RequestContext};
use spin_sdk::http::{Request, Response};

use mth_shared::request::header;

/// Response headers passed back to the browser; everything else is dropped.
const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "content-disposition",
    "x-total-count",
    "allow",
    "etag",
];

/// How long the gateway waits at least for an export's or an import's answer.
pub const TRANSFER_TIMEOUT: Duration = Duration::from_secs(120);

/// How long the gateway waits at least for a staged import's run: the file
/// may be up to 512 MiB, written in one transaction; the page shows the
/// run's progress meanwhile (`GET /api/imports/{id}`).
pub const IMPORT_RUN_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Request headers passed on to the service: the body's type, and the
/// version a change is based on (task-service answers 412 when it is old).
const FORWARDED_HEADERS: &[&str] = &["content-type", "if-match"];

/// A service behind the gateway and the path to call on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub service: &'static str,
    pub url_variable: &'static str,
    /// `/users…` or `/tasks…`, exactly as the browser sent it after `/api`.
    pub path: String,
}

/// The services behind the gateway: `(collection, service, URL variable)`.
/// `/api{path}` is forwarded for every path under a collection; the contract
/// test expects each route of that service under `/api` in the document.
pub const SERVICES: &[(&str, &str, &str)] = &[
    ("/users", "user service", "user_service_url"),
    ("/tasks", "task service", "task_service_url"),
    // The team's labels live with the tasks that carry them.
    ("/labels", "task service", "task_service_url"),
    // Export and import: task-service holds most of the workspace's tables
    // and runs an import in one transaction (docs/api.md).
    ("/export", "task service", "task_service_url"),
    ("/import", "task service", "task_service_url"),
    // Imports of any size: staged in chunks, then run (docs/api.md).
    ("/imports", "task service", "task_service_url"),
    // Saved views keep the tasks' filters, checked by the tasks' own parser.
    ("/views", "task service", "task_service_url"),
];

/// The service for an `/api/...` path, or `None` if it is not one we forward.
pub fn target(path: &str) -> Option<Target> {
    let rest = path.strip_prefix("/api")?;
    let &(collection, service, url_variable) = SERVICES
        .iter()
        .find(|(collection, ..)| is_under(rest, collection))?;
    // Dot segments (plain or escaped) and backslashes could make the service's
    // URL parser resolve to some other path: refuse them.
    let odd = rest[collection.len()..].split('/').any(|segment| {
        let s = segment.to_ascii_lowercase().replace("%2e", ".");
        s == "." || s == ".." || s.contains('\\') || s.contains("%5c") || s.contains("%2f")
    });
    (!odd).then(|| Target {
        service,
        url_variable,
        path: rest.to_owned(),
    })
}

fn is_under(path: &str, collection: &str) -> bool {
    path.strip_prefix(collection)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A `Location` from a service, as the browser must see it (under `/api`).
pub fn rewrite_location(location: &str) -> Option<String> {
    let path = match location.split_once("://") {
        Some((_, rest)) => &rest[rest.find('/')?..],
        None => location,
    };
    let path_only = path.split('?').next().unwrap_or_default();
    SERVICES
        .iter()
        .any(|(collection, ..)| is_under(path_only, collection))
        .then(|| format!("/api{path}"))
}

/// Forwards the request and relays the answer.
pub fn forward(
    req: &Request,
    ctx: &RequestContext,
    target: Target,
    actor: &Actor,
) -> Result<Response, ApiError> {
    let body = req.body();
    let limit = mth_shared::body::max_body_bytes(&target.path);
    if body.len() > limit {
        return Err(ApiError::payload_too_large(limit));
    }
    let mut service =
        Service::new(target.service, target.url_variable, ctx)?.acting_for(actor.header_value());
    if ["/export", "/import", "/imports"]
        .iter()
        .any(|c| is_under(&target.path, c))
    {
        // The whole workspace read, or up to 32 MiB written in one
        // transaction: longer than the usual deadline allows (docs/api.md,
        // Export and import).
        service = service.waiting_at_least(TRANSFER_TIMEOUT);
    }
    if is_under(&target.path, "/imports") && target.path.ends_with("/run") {
        service = service.waiting_at_least(IMPORT_RUN_TIMEOUT);
    }
    let path_and_query = match req.query() {
        "" => target.path,
        query => format!("{}?{query}", target.path),
    };
    let method = req.method().to_string();
    let forwarded: Vec<(&str, &str)> = FORWARDED_HEADERS
        .iter()
        .filter_map(|name| Some((*name, header(req, name)?)))
        .collect();
    match service.send(&method, &path_and_query, &forwarded, body) {
        Ok(upstream) => relay(upstream, &service),
        Err(CallError::TimedOut(limit)) => Err(timed_out(&service, &method, limit)),
        Err(failure) => Err(service.error(&failure)),
    }
}

/// 504: the service got the request but did not answer in time, so the
/// gateway cannot know whether a change was applied — and says so.
fn timed_out(service: &Service, method: &str, limit: Duration) -> ApiError {
    let waited = format!(
        "The {} did not answer within {} ms.",
        service.name(),
        limit.as_millis()
    );
    let detail = if matches!(method, "GET" | "HEAD") {
        format!("{waited} Try again shortly.")
    } else {
        format!("{waited} The change may or may not have been applied: reload before trying again.")
    };
    ApiError::new(504, detail).caused_by(service.failure(&CallError::TimedOut(limit)))
}

/// The browser's copy of a service response.
fn relay(upstream: Reply, service: &Service) -> Result<Response, ApiError> {
    let status = upstream.status;
    // The services only answer 401 when our token is wrong: that is the
    // operator's problem, and must not look like an expired session.
    if status == 401 {
        return Err(ApiError::new(
            502,
            "The gateway could not authenticate to a service (server misconfiguration).",
        )
        .caused_by(format_args!(
            "the {} refused the gateway's api_token",
            service.name()
        )));
    }
    let is_json = upstream
        .header("content-type")
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
    // An error page from the platform (a trap, a proxy) is replaced by JSON.
    if status >= 400 && !is_json {
        let cause = format!("the {} answered {status} without JSON", service.name());
        return Err(if status >= 500 {
            service.unavailable().caused_by(cause)
        } else {
            ApiError::new(status, format!("The request failed with status {status}."))
                .caused_by(cause)
        });
    }

    let mut builder = Response::builder();
    builder.status(status).header("cache-control", "no-store");
    for name in KEPT_HEADERS {
        if let Some(value) = upstream.header(name) {
            builder.header(*name, value);
        }
    }
    if let Some(location) = upstream.header("location").and_then(rewrite_location) {
        builder.header("location", location);
    }
    Ok(builder.body(upstream.body).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_api_paths_to_services() {
        let t = target("/api/users").unwrap();
        assert_eq!(
            (t.service, t.url_variable, t.path.as_str()),
            ("user service", "user_service_url", "/users")
        );
        let t = target("/api/tasks/0b0e/x").unwrap();
        assert_eq!(
            (t.url_variable, t.path.as_str()),
            ("task_service_url", "/tasks/0b0e/x")
        );
        assert_eq!(target("/api/users/").unwrap().path, "/users/");
        let t = target("/api/labels/0b0e").unwrap();
        assert_eq!(
            (t.url_variable, t.path.as_str()),
            ("task_service_url", "/labels/0b0e")
        );
        assert_eq!(target("/api/users/health").unwrap().path, "/users/health");
    }

    #[test]
    fn other_paths_are_not_forwarded() {
        for path in [
            "/api",
            "/api/",
            "/api/usersx",
            "/api/taskset",
            "/api/other",
            "/users",
            "/apiusers",
            "/api/users/../tasks",
            "/api/users/%2e%2e/tasks",
            "/api/users/%2E./x",
            "/api/users/./x",
            "/api/tasks/a%2fb",
            "/api/tasks/a\\..",
            "/api/tasks/%5c",
        ] {
            assert_eq!(target(path), None, "{path}");
        }
    }

    #[test]
    fn locations_move_under_api() {
        for (location, rewritten) in [
            ("/users/1", Some("/api/users/1")),
            (
                "http://task-service.spin.internal/tasks/2",
                Some("/api/tasks/2"),
            ),
            ("/elsewhere", None),
            ("https://evil.example/", None),
            ("https://evil.example", None),
        ] {
            assert_eq!(rewrite_location(location).as_deref(), rewritten);
        }
    }
}
