//! Calls from one component to another over internal HTTP.
//!
//! The base URL comes from a variable (`http://<id>.spin.internal` in one Spin
//! process, a Kubernetes Service on SpinKube); the bearer token and the
//! request id travel with every call, and every call has a deadline
//! (`service_timeout_ms`), so a hanging service cannot hang its caller.

use std::time::Duration;

use crate::auth::ACTOR_HEADER;
use crate::outbound::{Call, CallError, Reply};
use crate::{ApiError, RequestContext, config};

/// Used when the component has no `service_timeout_ms` variable.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(5000);

/// Another MicroTaskHub service.
pub struct Service {
    name: &'static str,
    base_url: String,
    token: String,
    request_id: String,
    timeout: Duration,
    /// `x-mth-actor`: the person the gateway calls for, if any.
    actor: Option<String>,
}

impl Service {
    /// `url_variable` names the variable holding the service's base URL.
    pub fn new(
        name: &'static str,
        url_variable: &str,
        ctx: &RequestContext,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            name,
            base_url: config::base_url(url_variable)?,
            token: config::var("api_token")?,
            request_id: ctx.request_id.clone(),
            timeout: timeout()?,
            actor: None,
        })
    }

    /// Calls made for a signed-in person, named by their `x-mth-actor`
    /// value (the accounts crate's `Actor::header_value`): the service
    /// applies their permissions. `None`: the caller acts for itself.
    pub fn acting_for(mut self, actor_header: Option<String>) -> Self {
        self.actor = actor_header;
        self
    }

    /// Waits at least `floor` for the answer (an import, which writes a
    /// whole workspace), however short the configured deadline.
    pub fn waiting_at_least(mut self, floor: Duration) -> Self {
        self.timeout = self.timeout.max(floor);
        self
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Sends a request, with the `forwarded` headers (such as the body's
    /// `content-type`) besides the service's own, and reads the whole answer
    /// within the deadline. Fails with a [`CallError`]; callers decide what
    /// that means for their client (see [`Service::unavailable`]).
    pub fn send(
        &self,
        method: &str,
        path_and_query: &str,
        forwarded: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Reply, CallError> {
        let authorization = format!("Bearer {}", self.token);
        let mut headers = vec![
            ("authorization", authorization.as_str()),
            ("x-request-id", self.request_id.as_str()),
            ("accept", "application/json"),
        ];
        headers.extend_from_slice(forwarded);
        if let Some(actor) = &self.actor {
            headers.push((ACTOR_HEADER, actor.as_str()));
        }
        Call {
            method,
            url: &format!("{}{}", self.base_url, path_and_query),
            headers: &headers,
            body,
            timeout: self.timeout,
        }
        .send()
    }

    /// GET returning the status and parsed JSON body (`Null` if not JSON);
    /// no answer is a 503 that says nothing was changed.
    pub fn get_json(&self, path_and_query: &str) -> Result<(u16, serde_json::Value), ApiError> {
        let reply = self
            .send("GET", path_and_query, &[], &[])
            .map_err(|e| self.error(&e))?;
        let json = serde_json::from_slice(&reply.body).unwrap_or(serde_json::Value::Null);
        Ok((reply.status, json))
    }

    /// The 503 to return when this service fails to give a usable answer
    /// before anything was written.
    pub fn unavailable(&self) -> ApiError {
        ApiError::unavailable(format!(
            "The {} is unavailable; nothing was changed. Try again shortly.",
            self.name
        ))
    }

    /// The answer for a call that failed: 503 (nothing was changed), or 500
    /// for our own bug.
    pub fn error(&self, error: &CallError) -> ApiError {
        match error {
            CallError::NotSent(_) => {
                ApiError::internal("Internal error.").caused_by(self.failure(error))
            }
            CallError::TimedOut(_) | CallError::Failed(_) => {
                self.unavailable().caused_by(self.failure(error))
            }
        }
    }

    /// What went wrong, for the log line.
    pub fn failure(&self, error: &dyn std::fmt::Display) -> String {
        format!("{} call failed: {error}", self.name)
    }
}

/// The component's `service_timeout_ms`, or the default when it has none:
/// the deadline of every outbound call the component makes.
pub fn timeout() -> Result<Duration, ApiError> {
    let Ok(raw) = spin_sdk::variables::get("service_timeout_ms") else {
        return Ok(DEFAULT_TIMEOUT);
    };
    parse_timeout(&raw).ok_or_else(|| {
        ApiError::internal(
            "Server misconfigured: variable 'service_timeout_ms' must be a whole number of milliseconds from 1 to 600000.",
        )
    })
}

fn parse_timeout(raw: &str) -> Option<Duration> {
    match raw.trim().parse::<u64>() {
        Ok(ms @ 1..=600_000) => Some(Duration::from_millis(ms)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_whole_milliseconds_within_bounds() {
        assert_eq!(parse_timeout("2500"), Some(Duration::from_millis(2500)));
        assert_eq!(parse_timeout(" 1 "), Some(Duration::from_millis(1)));
        for bad in ["", "0", "-5", "1.5", "5s", "600001"] {
            assert_eq!(parse_timeout(bad), None, "{bad}");
        }
    }
}
