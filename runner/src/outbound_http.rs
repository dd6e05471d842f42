//! Outbound `wasi:http` as Spin does it: check `allowed_outbound_hosts`
//! first (a denial is `ErrorCode::HttpRequestDenied`, without a network
//! attempt), dispatch `http://<component>.spin.internal/...` and self
//! requests in-process, send everything else over the network.

use std::future::Future;
use std::sync::Arc;

use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::allowed_hosts::service_chaining_target;
use crate::app::App;
use crate::host::ComponentContext;

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

/// The `WasiHttpHooks` of one instance.
pub struct OutboundHttp {
    pub component: Arc<ComponentContext>,
    pub app: Arc<App>,
}

impl WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> ResponseFuture {
        let component = self.component.clone();
        let app = self.app.clone();
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
                report_denied(&component.id, &uri);
                return Err(Error::HttpRequestDenied);
            }
            if is_self_request {
                let response = app.handle_self_request(request).await;
                return Ok(done(response));
            }
            if let Some(target) = service_chaining_target(host) {
                // The target must see no Host header (Spin strips it, so the
                // guest's spin-full-url falls back to "localhost").
                request.headers_mut().remove(http::header::HOST);
                let target = target.to_string();
                let response = app
                    .handle_chained(&target, request)
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
