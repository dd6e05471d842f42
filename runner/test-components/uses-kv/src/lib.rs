//! Imports `fermyon:spin/key-value`, so the runner must refuse to start it.

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;

#[http_component]
fn handle(_req: Request) -> anyhow::Result<impl IntoResponse> {
    let store = Store::open_default()?;
    let value = store.get("key")?.unwrap_or_default();
    Ok(Response::new(200, value))
}
