//! What task-service needs from user-service: does this user exist, and who are they.

use mth_shared::internal::Service;
use mth_shared::{ApiError, RequestContext};
use serde_json::{Map, Value};
use uuid::Uuid;

/// The user with this id as `{id, email, full_name, role}`, or `None` if there
/// is no such user. Any other answer (or none) is a 503: we cannot tell.
pub fn find(ctx: &RequestContext, id: Uuid) -> Result<Option<Value>, ApiError> {
    let service = Service::new("user service", "user_service_url", ctx)?;
    let (status, body) = service.get_json(&format!("/users/{id}"))?;
    match status {
        200 => Ok(Some(summary(&body))),
        404 => Ok(None),
        _ => Err(service.unavailable().caused_by(format_args!(
            "user service answered {status} {body} for user {id}"
        ))),
    }
}

/// Like [`find`], for an assignee named in a request: an unknown one is a 422.
pub fn require(ctx: &RequestContext, id: Uuid) -> Result<Value, ApiError> {
    find(ctx, id)?.ok_or_else(|| ApiError::invalid("assignee_id", "no user has this id"))
}

fn summary(user: &Value) -> Value {
    let fields = ["id", "email", "full_name", "role"]
        .into_iter()
        .map(|key| (key.to_owned(), user[key].clone()));
    Value::Object(fields.collect::<Map<_, _>>())
}
