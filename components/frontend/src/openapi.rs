//! `GET /api/openapi.json`: the API's contract, an OpenAPI 3.1 document.
//!
//! The one copy is docs/openapi.json, compiled in: the document served is
//! always the one the contract test (tests/tests/contract.rs) checked
//! against these components' route tables.

use spin_sdk::http::{Request, Response};

use crate::assets;

/// The document, as kept in docs/.
pub const DOCUMENT: &str = include_str!("../../../docs/openapi.json");

/// The document, public (no session: clients are generated from it),
/// revalidated on every use like the UI's files.
pub fn document(req: &Request) -> Response {
    assets::cacheable(req, DOCUMENT.as_bytes().to_vec(), "application/json")
}
