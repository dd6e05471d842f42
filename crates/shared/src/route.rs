//! Routing every API service shares: its health check, the bearer token,
//! and the answers for paths it does not serve.
//!
//! Service chaining bypasses Spin's router, so services route on the full
//! request path, split into segments (`/tasks/1/` → `["tasks", "1"]`).

use spin_sdk::http::{Method, Request, Response};

use crate::{ApiError, health};

/// Routes a request to the service that owns `/{collection}...`.
/// `/{collection}/health` answers without a token; everything else needs a
/// credential, which `authenticate` turns into who acts (the accounts
/// crate's `authenticate`), then goes to `dispatch` with that actor;
/// `dispatch` returns `None` for what it does not serve: a 405 on the
/// collection's own paths, a 404 elsewhere.
pub fn api<A>(
    req: &Request,
    collection: &str,
    component: &str,
    authenticate: impl FnOnce(&Request) -> Result<A, ApiError>,
    dispatch: impl FnOnce(&Method, &[&str], A) -> Option<Result<Response, ApiError>>,
) -> Result<Response, ApiError> {
    let path = req.path().trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    if segments.as_slice() == [collection, "health"] {
        return Ok(health::respond(component));
    }
    let actor = authenticate(req)?;
    dispatch(req.method(), &segments, actor).unwrap_or_else(|| match segments.as_slice() {
        [c] | [c, _] if *c == collection => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::not_found("No such endpoint.")),
    })
}

/// Declares a component's Spin HTTP export, calling `$handler`, an
/// `async fn(Incoming) -> Response` that is public so the component's logic
/// also builds natively (for unit tests and clippy). The export exists only
/// in the .wasm: its symbol names are not valid for a native shared library.
#[macro_export]
macro_rules! http_export {
    ($handler:path) => {
        #[cfg(target_arch = "wasm32")]
        #[::spin_sdk::http_component]
        async fn handle(req: ::spin_sdk::http::IncomingRequest) -> ::spin_sdk::http::Response {
            // The body is read under a deadline (`mth_shared::incoming`).
            $handler($crate::incoming::read(req)).await
        }
    };
}
