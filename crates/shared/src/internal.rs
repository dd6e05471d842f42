//! Calls from one component to another over internal HTTP.
//!
//! The base URL comes from a variable (`http://<id>.spin.internal` in one Spin
//! process, a Kubernetes Service on SpinKube); the bearer token and the
//! request id travel with every call.

use spin_sdk::http::{Method, Request, Response};

use crate::{ApiError, RequestContext, config};

/// Another MicroTaskHub service.
pub struct Service {
    name: &'static str,
    base_url: String,
    token: String,
    request_id: String,
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
        })
    }

    /// Sends a request; a service that cannot be reached is a 503 naming it.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Response, ApiError> {
        let mut builder = Request::builder();
        builder
            .method(method)
            .uri(format!("{}{}", self.base_url, path_and_query))
            .header("authorization", format!("Bearer {}", self.token))
            .header("x-request-id", self.request_id.clone())
            .header("accept", "application/json");
        if let Some(content_type) = content_type {
            builder.header("content-type", content_type);
        }
        let request = builder.body(body).build();
        spin_sdk::http::send::<_, Response>(request)
            .await
            .map_err(|e| {
                eprintln!("{} unreachable: {e}", self.name);
                self.unavailable()
            })
    }

    /// GET returning the status and parsed JSON body (`Null` if not JSON).
    pub async fn get_json(
        &self,
        path_and_query: &str,
    ) -> Result<(u16, serde_json::Value), ApiError> {
        let response = self
            .send(Method::Get, path_and_query, None, Vec::new())
            .await?;
        let status = *response.status();
        let json = serde_json::from_slice(response.body()).unwrap_or(serde_json::Value::Null);
        Ok((status, json))
    }

    /// The 503 to return when this service fails to give a usable answer.
    pub fn unavailable(&self) -> ApiError {
        ApiError::unavailable(format!(
            "The {} is unavailable; nothing was changed. Try again shortly.",
            self.name
        ))
    }
}
