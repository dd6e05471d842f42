//! `GET /<service>/health`: 200 when the database answers, 503 when not.

use spin_sdk::http::Response;

use crate::{ApiError, db::Db, respond};

pub fn respond(component: &str) -> Response {
    let ping = Db::connect().and_then(|db| {
        db.query("SELECT 1", &[])
            .map(|_| ())
            .map_err(ApiError::from)
    });
    match ping {
        Ok(()) => respond::json(
            200,
            &serde_json::json!({"status": "ok", "component": component, "database": "ok"}),
        ),
        Err(e) => respond::json(
            503,
            &serde_json::json!({"status": "unavailable", "component": component, "detail": e.detail}),
        ),
    }
}
