//! `/api/users…` and `/api/tasks…`: forwarded to the services with the
//! shared bearer token, which never reaches the browser.
//!
//! Method, path, query, body, status and JSON pass through unchanged; of the
//! response headers only `content-type`, `x-total-count` and `location`
//! (moved under `/api`) are kept.

use mth_shared::internal::Service;
use mth_shared::{ApiError, RequestContext};
use spin_sdk::http::{Request, Response};

use crate::security::header;

/// Response headers passed back to the browser; everything else is dropped.
const KEPT_HEADERS: &[&str] = &["content-type", "x-total-count"];

/// A service behind the gateway and the path to call on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub service: &'static str,
    pub url_variable: &'static str,
    /// `/users…` or `/tasks…`, exactly as the browser sent it after `/api`.
    pub path: String,
}

/// The service for an `/api/...` path, or `None` if it is not one we forward.
pub fn target(path: &str) -> Option<Target> {
    let rest = path.strip_prefix("/api")?;
    let (service, url_variable, collection) = if is_under(rest, "/users") {
        ("user service", "user_service_url", "/users")
    } else if is_under(rest, "/tasks") {
        ("task service", "task_service_url", "/tasks")
    } else {
        return None;
    };
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
    (is_under(path.split('?').next().unwrap_or_default(), "/users")
        || is_under(path.split('?').next().unwrap_or_default(), "/tasks"))
    .then(|| format!("/api{path}"))
}

/// Forwards the request and relays the answer.
pub async fn forward(
    req: &Request,
    ctx: &RequestContext,
    target: Target,
) -> Result<Response, ApiError> {
    let body = req.body();
    if body.len() > mth_shared::body::MAX_BODY_BYTES {
        return Err(ApiError::payload_too_large(
            mth_shared::body::MAX_BODY_BYTES,
        ));
    }
    let service = Service::new(target.service, target.url_variable, ctx)?;
    let path_and_query = match req.query() {
        "" => target.path,
        query => format!("{}?{query}", target.path),
    };
    let upstream = service
        .send(
            req.method().clone(),
            &path_and_query,
            header(req, "content-type"),
            body.to_vec(),
        )
        .await?;
    relay(upstream, &service)
}

/// The browser's copy of a service response.
fn relay(upstream: Response, service: &Service) -> Result<Response, ApiError> {
    let status = *upstream.status();
    // The services only answer 401 when our token is wrong: that is the
    // operator's problem, and must not look like an expired session.
    if status == 401 {
        eprintln!("a service refused the gateway's api_token");
        return Err(ApiError::new(
            502,
            "The gateway could not authenticate to a service (server misconfiguration).",
        ));
    }
    let is_json = upstream
        .header("content-type")
        .and_then(|v| v.as_str())
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
    // An error page from the platform (a trap, a proxy) is replaced by JSON.
    if status >= 400 && !is_json {
        return Err(if status >= 500 {
            service.unavailable()
        } else {
            ApiError::new(status, format!("The request failed with status {status}."))
        });
    }

    let mut builder = Response::builder();
    builder.status(status).header("cache-control", "no-store");
    for name in KEPT_HEADERS {
        if let Some(value) = upstream.header(name).and_then(|v| v.as_str()) {
            builder.header(*name, value);
        }
    }
    if let Some(location) = upstream
        .header("location")
        .and_then(|v| v.as_str())
        .and_then(rewrite_location)
    {
        builder.header("location", location);
    }
    Ok(builder.body(upstream.into_body()).build())
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
        assert_eq!(
            rewrite_location("/users/1").as_deref(),
            Some("/api/users/1")
        );
        assert_eq!(
            rewrite_location("http://task-service.spin.internal/tasks/2").as_deref(),
            Some("/api/tasks/2")
        );
        assert_eq!(rewrite_location("/elsewhere"), None);
        assert_eq!(rewrite_location("https://evil.example/"), None);
        assert_eq!(rewrite_location("https://evil.example"), None);
    }
}
