//! Outbound `wasi:http` as Spin does it: check `allowed_outbound_hosts`
//! first (a denial is `ErrorCode::HttpRequestDenied`, without a network
//! attempt), dispatch `http://<component>.spin.internal/...` and self
//! requests in-process, send everything else over the network.
//!
//! The in-process requests are handed to a [`LocalRequests`] (the incoming
//! side implements it, as Spin's HTTP trigger installs its chaining
//! interceptor), so this module does not depend on the one that runs
//! components.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::allowed_hosts::{AllowedHosts, service_chaining_target};

type ResponseFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Where requests that never leave the process are handled.
pub trait LocalRequests: Send + Sync {
    /// A relative-URL request (`self` is allowed): through the router.
    fn self_request(
        self: Arc<Self>,
        request: http::Request<WasiBody>,
    ) -> Boxed<http::Response<WasiBody>>;

    /// `http://<component>.spin.internal/...`: to that component, without
    /// the router; `None` if no routed component has that id.
    fn chained(
        self: Arc<Self>,
        component: String,
        request: http::Request<WasiBody>,
    ) -> Boxed<Option<http::Response<WasiBody>>>;
}

/// What every instance of one component shares, fixed at start-up.
pub struct OutboundHttpConfig {
    pub component: String,
    pub allowed_hosts: AllowedHosts,
}

/// The `WasiHttpHooks` of one instance.
pub struct OutboundHttp {
    component: Arc<OutboundHttpConfig>,
    local: Arc<dyn LocalRequests>,
}

impl OutboundHttp {
    pub fn new(component: Arc<OutboundHttpConfig>, local: Arc<dyn LocalRequests>) -> Self {
        Self { component, local }
    }
}

impl WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> ResponseFuture {
        let component = self.component.clone();
        let local = self.local.clone();
        Box::new(async move {
            let uri = request.uri().clone();
            let host = uri.host().unwrap_or_default();
            let is_self_request = host.is_empty() || host == "self.alt";
            let allowed = if is_self_request {
                component.allowed_hosts.allows_relative()
            } else {
                let scheme = uri.scheme_str().unwrap_or("https");
                component.allowed_hosts.allows(scheme, host, uri.port_u16())
            };
            if !allowed {
                report_denied(&component.component, &uri);
                return Err(Error::HttpRequestDenied);
            }
            if is_self_request {
                let response = local.self_request(request).await;
                return Ok(done(response));
            }
            if let Some(target) = service_chaining_target(host) {
                // The target must see no Host header (Spin strips it, so the
                // guest's spin-full-url falls back to "localhost").
                request.headers_mut().remove(http::header::HOST);
                let target = target.to_string();
                let response = local
                    .chained(target, request)
                    .await
                    .ok_or(Error::DestinationNotFound)?;
                return Ok(done(response));
            }
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(|b| b.boxed_unsync()),
                Box::new(io) as Box<dyn Future<Output = Result<(), Error>> + Send>,
            ))
        })
    }
}

fn done(
    response: http::Response<WasiBody>,
) -> (
    http::Response<WasiBody>,
    Box<dyn Future<Output = Result<(), Error>> + Send>,
) {
    (response, Box::new(async { Ok(()) }))
}

fn report_denied(component: &str, uri: &http::Uri) {
    let origin = match (uri.scheme_str(), uri.authority()) {
        (Some(s), Some(a)) if !a.host().is_empty() => format!("{s}://{a}"),
        _ => "self".to_string(),
    };
    eprintln!(
        "A component tried to make an HTTP request to a non-allowed host '{origin}'.\n\
         To allow requests, add 'allowed_outbound_hosts = [\"{origin}\"]' to the manifest section of component '{component}'."
    );
}
