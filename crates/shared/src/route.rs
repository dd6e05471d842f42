//! Routing every API service shares: route tables, its health check, the
//! bearer token, and the answers for paths it does not serve.
//!
//! Service chaining bypasses Spin's router, so services route on the full
//! request path, split into segments (`/tasks/1/` → `["tasks", "1"]`).
//!
//! Each component lists what it serves in one [`Route`] table; dispatch goes
//! through that table, and the contract test (tests/tests/contract.rs)
//! compares the same tables with docs/openapi.json, so a route cannot be
//! served without being documented, nor documented without being served.

use spin_sdk::http::{Method, Request, Response};

use crate::{ApiError, health};

/// One operation: a method on a path template whose `{name}` segments match
/// any one segment (`/users/{id}/invitation`), as OpenAPI writes paths.
#[derive(Debug)]
pub struct Route<Op> {
    pub method: Method,
    pub path: &'static str,
    pub op: Op,
}

impl<Op> Route<Op> {
    pub const fn new(method: Method, path: &'static str, op: Op) -> Self {
        Self { method, path, op }
    }
}

/// What a route table says about a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Found<'p, Op> {
    /// The operation, and the values of the path's `{…}` segments in order.
    Op(Op, Vec<&'p str>),
    /// The path is served, not with this method but these: 405.
    WrongMethod(Vec<Method>),
    /// Nothing here: 404.
    Nothing,
}

/// The route of `routes` for a request. A path that fits several
/// templates belongs to the most specific ones, those with the fewest
/// `{…}` segments: `/tasks/stats` is the stats' path, not a task's (so
/// `PATCH /tasks/stats` is a 405, not a task id refused).
pub fn find<'p, Op: Copy>(
    routes: &[Route<Op>],
    method: &Method,
    segments: &[&'p str],
) -> Found<'p, Op> {
    let fitting: Vec<(&Route<Op>, Vec<&'p str>)> = routes
        .iter()
        .filter_map(|route| Some((route, matches(route.path, segments)?)))
        .collect();
    let Some(fewest) = fitting.iter().map(|(_, params)| params.len()).min() else {
        return Found::Nothing;
    };
    let mut allowed = Vec::new();
    for (route, params) in fitting {
        if params.len() != fewest {
            continue;
        }
        if &route.method == method {
            return Found::Op(route.op, params);
        }
        if !allowed.contains(&route.method) {
            allowed.push(route.method.clone());
        }
    }
    Found::WrongMethod(allowed)
}

/// The values of the `{…}` segments if `segments` fit `template`.
fn matches<'p>(template: &str, segments: &[&'p str]) -> Option<Vec<&'p str>> {
    let parts: Vec<&str> = template.split('/').skip(1).collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (part, segment) in parts.iter().zip(segments) {
        if part.starts_with('{') && part.ends_with('}') {
            if segment.is_empty() {
                return None;
            }
            params.push(*segment);
        } else if part != segment {
            return None;
        }
    }
    Some(params)
}

/// A service's health check: `/{collection}/health`, without a token.
pub fn health_path(collection: &str) -> String {
    format!("/{collection}/health")
}

/// The methods a health check answers; others are a 405.
pub const HEALTH_METHODS: [Method; 2] = [Method::Get, Method::Head];

/// Routes a request to the service that owns `/{collection}...`.
/// `/{collection}/health` answers GET and HEAD without a token; everything
/// else needs a credential, which `authenticate` turns into who acts (the
/// accounts crate's `authenticate`), then goes to `dispatch` with the
/// operation `routes` found, its path parameters and that actor. A path the
/// table serves with other methods is a 405, any other a 404.
pub fn api<A, Op: Copy>(
    req: &Request,
    collection: &str,
    component: &str,
    routes: &[Route<Op>],
    authenticate: impl FnOnce(&Request) -> Result<A, ApiError>,
    dispatch: impl FnOnce(Op, &[&str], A) -> Result<Response, ApiError>,
) -> Result<Response, ApiError> {
    let path = req.path().trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    if path == health_path(collection) {
        return if HEALTH_METHODS.contains(req.method()) {
            Ok(health::respond(component))
        } else {
            Err(ApiError::method_not_allowed(&HEALTH_METHODS))
        };
    }
    let actor = authenticate(req)?;
    match find(routes, req.method(), &segments) {
        Found::Op(op, params) => dispatch(op, &params, actor),
        Found::WrongMethod(allowed) => Err(ApiError::method_not_allowed(&allowed)),
        Found::Nothing => Err(ApiError::not_found("No such endpoint.")),
    }
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
        async fn handle(
            req: ::spin_sdk::http::IncomingRequest,
            out: ::spin_sdk::http::ResponseOutparam,
        ) {
            // The body is read under a deadline (`mth_shared::incoming`); the
            // response goes out in one piece (`mth_shared::send`).
            $crate::send::response(out, $handler($crate::incoming::read(req)).await);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTES: &[Route<u8>] = &[
        Route::new(Method::Get, "/tasks/stats", 1),
        Route::new(Method::Get, "/tasks/{id}", 2),
        Route::new(Method::Post, "/users/{id}/invitation", 3),
    ];

    #[test]
    fn fixed_segments_win_over_templates() {
        assert_eq!(
            find(ROUTES, &Method::Get, &["tasks", "stats"]),
            Found::Op(1, vec![])
        );
        assert_eq!(
            find(ROUTES, &Method::Get, &["tasks", "x"]),
            Found::Op(2, vec!["x"])
        );
        assert_eq!(
            find(ROUTES, &Method::Post, &["users", "u", "invitation"]),
            Found::Op(3, vec!["u"])
        );
    }

    #[test]
    fn other_methods_are_405_other_paths_404() {
        assert_eq!(
            find(ROUTES, &Method::Delete, &["tasks", "x"]),
            Found::WrongMethod(vec![Method::Get])
        );
        assert_eq!(
            find(ROUTES, &Method::Patch, &["tasks", "stats"]),
            Found::WrongMethod(vec![Method::Get])
        );
        assert_eq!(
            find(ROUTES, &Method::Get, &["users", "u", "invitation"]),
            Found::WrongMethod(vec![Method::Post])
        );
        assert_eq!(
            find(ROUTES, &Method::Get, &["tasks", "x", "y"]),
            Found::Nothing
        );
        assert_eq!(find(ROUTES, &Method::Get, &["tasks", ""]), Found::Nothing);
    }
}
