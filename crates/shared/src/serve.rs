//! The request wrapper every component uses: request id, error rendering and
//! one structured log line per request.

use std::future::Future;
use std::time::Instant;

use spin_sdk::http::{Request, Response};

use crate::ApiError;
use crate::incoming::Incoming;

/// Per-request facts the handlers need.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub component: &'static str,
    /// Kept from an incoming `X-Request-Id`, or made here; forwarded on internal calls.
    pub request_id: String,
}

impl RequestContext {
    /// Logs something that went wrong without failing the request (JSON on
    /// stderr, with the component and request id).
    pub fn warn(&self, message: &str) {
        let line = serde_json::json!({
            "level": "warn",
            "component": self.component,
            "request_id": self.request_id,
            "message": message,
        });
        eprintln!("{line}");
    }
}

/// Runs `handler` (unless the body was refused), renders its error as JSON,
/// tags the response with the request id and logs one JSON line to stdout.
pub async fn serve<F, Fut>(
    component: &'static str,
    req: impl Into<Incoming>,
    handler: F,
) -> Response
where
    F: FnOnce(Request, RequestContext) -> Fut,
    Fut: Future<Output = Result<Response, ApiError>>,
{
    let (req, refused) = match req.into() {
        Incoming::Read(req) => (req, None),
        Incoming::Refused { head, error } => (head, Some(error)),
    };
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let ctx = RequestContext {
        component,
        request_id: request_id(crate::request::header(&req, "x-request-id")),
    };
    let request_id = ctx.request_id.clone();

    let result = match refused {
        Some(error) => Err(error),
        None => handler(req, ctx).await,
    };
    let mut response = match result {
        Ok(response) => response,
        Err(error) => {
            if error.status >= 500 || error.cause.is_some() {
                log_error(component, &request_id, &method, &path, &error);
            }
            error.into_response()
        }
    };
    response.set_header("x-request-id", request_id.clone());

    let line = log_line(
        component,
        &method,
        &path,
        *response.status(),
        started.elapsed().as_secs_f64() * 1000.0,
        &request_id,
    );
    println!("{line}");
    response
}

/// One JSON line on stderr for a failed request: which request, which
/// component, what the client was told and what actually failed.
fn log_error(component: &str, request_id: &str, method: &str, path: &str, error: &ApiError) {
    eprintln!("{}", error_line(component, request_id, method, path, error));
}

fn error_line(
    component: &str,
    request_id: &str,
    method: &str,
    path: &str,
    error: &ApiError,
) -> serde_json::Value {
    serde_json::json!({
        "level": "error",
        "component": component,
        "request_id": request_id,
        "method": method,
        "path": path,
        "status": error.status,
        "detail": error.detail,
        "cause": error.cause,
    })
}

/// The request's JSON log line, keys in the order `serde_json::json!` gave
/// them. Written directly rather than through a `serde_json::Value` map: that
/// map cost an allocation per key and value on every request; only the two
/// strings a client chooses (path, request id) need escaping.
fn log_line(
    component: &str,
    method: &str,
    path: &str,
    status: u16,
    duration_ms: f64,
    request_id: &str,
) -> String {
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned());
    format!(
        "{{\"component\":\"{component}\",\"duration_ms\":{duration_ms},\"method\":\"{method}\",\
         \"path\":{},\"request_id\":{},\"status\":{status}}}",
        quoted(path),
        quoted(request_id),
    )
}

/// An incoming id is kept only if it is short printable ASCII, so a client
/// cannot inject into logs or headers.
fn request_id(incoming: Option<&str>) -> String {
    match incoming {
        Some(id)
            if !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            id.to_owned()
        }
        _ => uuid::Uuid::new_v4().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_line_says_which_request_which_component_and_what_failed() {
        let error = ApiError::unavailable("The user service is unavailable.")
            .caused_by("user service call failed: no answer within 5000 ms");
        let line = error_line("task-service", "req-7", "POST", "/tasks", &error);
        assert_eq!(line["level"], "error");
        assert_eq!(line["component"], "task-service");
        assert_eq!(line["request_id"], "req-7");
        assert_eq!(line["status"], 503);
        assert_eq!(
            line["cause"],
            "user service call failed: no answer within 5000 ms"
        );
        assert_eq!(line.to_string().lines().count(), 1, "one line per error");
    }

    #[test]
    fn keeps_sane_incoming_ids_and_replaces_others() {
        assert_eq!(request_id(Some("abc-123")), "abc-123");
        for bad in [None, Some(""), Some("has space"), Some("line\nbreak")] {
            let id = request_id(bad);
            assert!(uuid::Uuid::try_parse(&id).is_ok(), "{bad:?} -> {id}");
        }
        assert_ne!(request_id(Some(&"x".repeat(129))), "x".repeat(129));
    }

    #[test]
    fn log_line_is_the_json_object_it_always_was() {
        let line = log_line("task-service", "GET", "/tasks/\"x\"", 200, 1.5, "a\\b");
        let expected = serde_json::json!({
            "component": "task-service",
            "method": "GET",
            "path": "/tasks/\"x\"",
            "status": 200,
            "duration_ms": 1.5,
            "request_id": "a\\b",
        });
        assert_eq!(line, expected.to_string());
    }
}
