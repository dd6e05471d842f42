//! The one error shape of the API: `{"detail": "...", "errors": [...]}`.

use serde::Serialize;
use spin_sdk::http::Response;

/// A problem with one field of the request, reported in 422 responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An error that becomes a JSON response. Handlers return `Result<Response, ApiError>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// What failed behind the answer, for the operator: logged with the
    /// request id by [`crate::serve`], never sent to the client.
    pub cause: Option<String>,
    /// For a 429: when to try again, in seconds (`Retry-After`).
    pub retry_after: Option<u64>,
    /// For a 405: the methods the path takes (`Allow`, as RFC 9110 requires).
    pub allow: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            errors: Vec::new(),
            cause: None,
            retry_after: None,
            allow: None,
        }
    }

    /// 429 with `Retry-After: seconds`.
    pub fn too_many_requests(detail: impl Into<String>, seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(429, detail)
        }
    }

    /// Attaches what failed (kept for the log line; the client sees `detail`).
    pub fn caused_by(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(400, detail)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            401,
            "Authentication required: send 'Authorization: Bearer <token>'.",
        )
    }

    /// 401 with a reason (a revoked token, an ended session).
    pub fn unauthorized_because(detail: impl Into<String>) -> Self {
        Self::new(401, detail)
    }

    /// 403: authenticated, but not allowed to do this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(403, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, detail)
    }

    /// 405, with the methods the path does take (`Allow`).
    pub fn method_not_allowed<M: std::fmt::Display>(allowed: &[M]) -> Self {
        let allow = allowed.iter().map(ToString::to_string).collect::<Vec<_>>();
        Self {
            allow: Some(allow.join(", ")),
            ..Self::new(405, "This method is not allowed on this path.")
        }
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(409, detail)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            413,
            format!("The request body is larger than {} KiB.", limit / 1024),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            415,
            "The request body must be JSON (Content-Type: application/json).",
        )
    }

    /// 422 with one entry per invalid field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("Invalid {}: {}", one.field, one.message),
            _ => "Some fields are invalid.".to_owned(),
        };
        Self {
            errors,
            ..Self::new(422, detail)
        }
    }

    /// 422 for a single field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(503, detail)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, detail)
    }

    pub fn to_json(&self) -> serde_json::Value {
        let mut body = serde_json::json!({ "detail": self.detail });
        if self.status == 422 {
            body["errors"] = serde_json::to_value(&self.errors).unwrap_or_default();
        }
        body
    }

    pub fn into_response(self) -> Response {
        let mut builder = Response::builder();
        builder
            .status(self.status)
            .header("content-type", "application/json");
        if self.status == 401 {
            builder.header("www-authenticate", "Bearer");
        }
        if let Some(seconds) = self.retry_after {
            builder.header("retry-after", seconds.to_string());
        }
        if let Some(allow) = &self.allow {
            builder.header("allow", allow);
        }
        builder.body(self.to_json().to_string()).build()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.detail)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_lists_fields_and_names_a_single_one_in_detail() {
        let one = ApiError::invalid("email", "must be an email address");
        assert_eq!(one.status, 422);
        assert_eq!(one.detail, "Invalid email: must be an email address");
        assert_eq!(one.to_json()["errors"][0]["field"], "email");

        let two = ApiError::validation(vec![FieldError::new("a", "x"), FieldError::new("b", "y")]);
        assert_eq!(two.to_json()["errors"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn non_validation_errors_have_only_a_detail() {
        let body = ApiError::conflict("taken").to_json();
        assert_eq!(body, serde_json::json!({"detail": "taken"}));
    }
}
