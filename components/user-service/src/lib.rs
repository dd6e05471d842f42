//! user-service: the users of a MicroTaskHub team (`/users...`).
//!
//! Requests arrive either through the Spin router or by service chaining,
//! which bypasses it, so routing is on the full request path.

mod domain;
pub mod routes;
mod store;
mod tasks;

use spin_sdk::http::Response;

/// Handles one request; public so the crate's logic also builds natively.
pub async fn handle_request(req: mth_shared::incoming::Incoming) -> Response {
    mth_shared::serve("user-service", req, routes::handle).await
}

mth_shared::http_export!(handle_request);
