//! What task-service needs from user-service: does this user exist, and who are they.

use mth_shared::internal::Service;
use mth_shared::{ApiError, RequestContext};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::Assignee;

/// The user with this id, or `None` if there is no such user. Any other
/// answer (or none, or one we cannot read) is a 503: we cannot tell.
pub fn find(ctx: &RequestContext, id: Uuid) -> Result<Option<Assignee>, ApiError> {
    let service = Service::new("user service", "user_service_url", ctx)?;
    let (status, body) = service.get_json(&format!("/users/{id}"))?;
    let unreadable = |why: String| {
        service.unavailable().caused_by(format_args!(
            "user service answered {status} {body} for user {id}{why}"
        ))
    };
    match status {
        200 => Assignee::deserialize(&body)
            .map(Some)
            .map_err(|e| unreadable(format!(": {e}"))),
        404 => Ok(None),
        _ => Err(unreadable(String::new())),
    }
}

/// Like [`find`], for an assignee named in a request: an unknown one is a 422.
pub fn require(ctx: &RequestContext, id: Uuid) -> Result<Assignee, ApiError> {
    find(ctx, id)?.ok_or_else(|| ApiError::invalid("assignee_id", "no user has this id"))
}
