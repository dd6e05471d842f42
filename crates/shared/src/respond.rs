//! Successful responses.

use serde::Serialize;
use spin_sdk::http::Response;

/// A JSON response with the given status.
pub fn json(status: u16, body: &impl Serialize) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap_or_default())
        .build()
}

/// 201 with a `Location` header.
pub fn created(location: String, body: &impl Serialize) -> Response {
    let mut response = json(201, body);
    response.set_header("location", location);
    response
}

/// A list page, with the total count in `X-Total-Count`.
pub fn page(items: &impl Serialize, total: i64) -> Response {
    let mut response = json(200, items);
    response.set_header("x-total-count", total.to_string());
    response
}

pub fn no_content() -> Response {
    Response::new(204, ())
}
