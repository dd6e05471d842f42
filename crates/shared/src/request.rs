//! Reading an incoming request's headers.

use spin_sdk::http::Request;

/// A header's value, if present and valid UTF-8.
pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.header(name).and_then(|v| v.as_str())
}
