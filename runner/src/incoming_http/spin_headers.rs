//! The request a component sees: Spin's routing headers (`spin-full-url`,
//! `spin-path-info`, …) added, and the URI made absolute.

use anyhow::{Context, Result};
use http::{HeaderName, HeaderValue, Request};

use crate::allowed_hosts::service_chaining_target;
use crate::routing::RouteMatch;

/// Adds Spin's routing headers and makes the URI absolute.
pub fn prepare_request<B>(
    req: Request<B>,
    m: &RouteMatch,
    client_addr: &str,
) -> Result<Request<B>> {
    let (mut parts, body) = req.into_parts();
    // Spin drops a Host naming a chaining target (`*.spin.internal`).
    let chaining_host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| service_chaining_target(h).is_some());
    if chaining_host {
        parts.headers.remove(http::header::HOST);
    }
    let host = match parts.headers.get(http::header::HOST) {
        Some(h) => h
            .to_str()
            .context("'Host' header is not valid UTF-8")?
            .to_string(),
        None => "localhost".to_string(),
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let full_url = format!("http://{host}{path_and_query}");
    let spin_headers = [
        ("spin-path-info", m.path_info.as_str()),
        ("spin-full-url", full_url.as_str()),
        ("spin-matched-route", m.matched_route.as_str()),
        ("spin-base-path", "/"),
        ("spin-raw-component-route", m.raw_route.as_str()),
        ("spin-component-route", m.component_route.as_str()),
        ("spin-client-addr", client_addr),
    ];
    for (name, value) in spin_headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            parts.headers.insert(HeaderName::from_static(name), value);
        }
    }
    if parts.uri.authority().is_none() {
        let uri = http::Uri::builder()
            .scheme("http")
            .authority(host.as_str())
            .path_and_query(path_and_query)
            .build()
            .context("'Host' header contains an invalid authority")?;
        parts.uri = uri;
    }
    Ok(Request::from_parts(parts, body))
}
