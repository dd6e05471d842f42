//! frontend: the browser's one door to MicroTaskHub (route `/...`).
//!
//! Serves the single-page UI from `/static`, signs people in (passwords and
//! sessions in Postgres), and forwards `/api/users…` and `/api/tasks…` to the
//! services with the internal bearer token — which never reaches the browser
//! — naming the signed-in person, whose permissions the services apply.

mod account;
pub mod assets;
pub mod gateway;
mod password;
mod routes;
pub mod security;
pub mod session;
mod signin;
mod throttle;

use spin_sdk::http::{Request, Response};

/// Handles one request; public so the crate's logic also builds natively.
pub async fn handle_request(req: Request) -> Response {
    // Behind the ingress, TLS ends there and X-Forwarded-Proto says https.
    let https = security::is_https(&req);
    let mut response = mth_shared::serve("frontend", req, routes::handle).await;
    security::apply_headers(&mut response, https);
    response
}

mth_shared::http_export!(handle_request);
