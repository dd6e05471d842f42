//! `/.well-known/spin/health` and `/.well-known/spin/info`, answered by the
//! trigger itself as Spin does.

use http::{HeaderValue, Response, StatusCode};
use wasmtime_wasi_http::WasiBody;

use super::body::plain;

/// What `/.well-known/spin/info` reports.
pub struct AppInfo {
    pub name: String,
    pub version: Option<String>,
}

/// The answer to `/.well-known/spin/<name>`.
pub fn respond(app: &AppInfo, name: &str) -> Response<WasiBody> {
    match name {
        "health" => plain(StatusCode::OK, "OK"),
        "info" => {
            // Spin's AppInfo: name, and version only when set.
            let mut info = serde_json::json!({ "name": app.name });
            if let Some(v) = &app.version {
                info["version"] = v.clone().into();
            }
            let mut resp = plain(
                StatusCode::OK,
                &serde_json::to_string_pretty(&info).unwrap_or_default(),
            );
            resp.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        _ => plain(StatusCode::NOT_FOUND, ""),
    }
}
