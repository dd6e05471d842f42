//! What task-service needs from user-service: does this user exist, and who are they.

use mth_shared::internal::Service;
use mth_shared::{ApiError, RequestContext};
use serde_json::{Map, Value};
use uuid::Uuid;

/// The user with this id as `{id, email, full_name, role}`, or `None` if there
/// is no such user. Any other answer (or none) is a 503: we cannot tell.
pub async fn find(ctx: &RequestContext, id: Uuid) -> Result<Option<Value>, ApiError> {
    let service = Service::new("user service", "user_service_url", ctx)?;
    let (status, body) = service.get_json(&format!("/users/{id}")).await?;
    match status {
        200 => Ok(Some(summary(&body))),
        404 => Ok(None),
        _ => {
            eprintln!("user service answered {status} {body} for user {id}");
            Err(service.unavailable())
        }
    }
}

/// Like [`find`], for an assignee named in a request: an unknown one is a 422.
pub async fn require(ctx: &RequestContext, id: Uuid) -> Result<Value, ApiError> {
    find(ctx, id)
        .await?
        .ok_or_else(|| ApiError::invalid("assignee_id", "no user has this id"))
}

fn summary(user: &Value) -> Value {
    let fields = ["id", "email", "full_name", "role"]
        .into_iter()
        .map(|key| (key.to_owned(), user[key].clone()));
    Value::Object(fields.collect::<Map<_, _>>())
}
