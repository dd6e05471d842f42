//! task-service: the tasks of a MicroTaskHub team (`/tasks...`).
//!
//! Requests arrive either through the Spin router or by service chaining,
//! which bypasses it, so routing is on the full request path.

mod comments;
mod domain;
mod filters;
mod history;
mod json_import;
mod labels;
pub mod routes;
mod search;
mod store;
mod stream;
mod transfer;
mod trello;
mod uploads;
mod users;
mod views;

use spin_sdk::http::Response;

/// Handles one request; public so the crate's logic also builds natively.
pub async fn handle_request(req: mth_shared::incoming::Incoming) -> Response {
    mth_shared::serve("task-service", req, routes::handle).await
}

mth_shared::http_export!(handle_request);
