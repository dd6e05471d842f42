//! task-service: the tasks of a MicroTaskHub team (`/tasks...`).
//!
//! Requests arrive either through the Spin router or by service chaining,
//! which bypasses it, so routing is on the full request path.

mod domain;
mod routes;
mod store;
mod users;

use spin_sdk::http::{Request, Response};

/// Handles one request; public so the crate's logic also builds natively.
pub async fn handle_request(req: Request) -> Response {
    mth_shared::serve("task-service", req, routes::handle).await
}

// The export exists only in the .wasm: its symbol names are not valid for a
// native shared library, and native builds are for unit tests and clippy.
#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
async fn handle(req: Request) -> Response {
    handle_request(req).await
}
