//! Imports `fermyon:spin/sqlite`, so the runner must refuse to start it.

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;
use spin_sdk::sqlite::Connection;

#[http_component]
fn handle(_req: Request) -> anyhow::Result<impl IntoResponse> {
    let db = Connection::open_default()?;
    let rows = db.execute("SELECT 1", &[])?;
    Ok(Response::new(200, format!("{}", rows.rows.len())))
}
