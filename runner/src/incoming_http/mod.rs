//! Incoming HTTP, as Spin's HTTP trigger: the listener ([`server`]), the
//! well-known paths ([`well_known`]) and the router in front of the components, Spin's
//! request headers ([`spin_headers`]), and the run of one request in a fresh
//! instance ([`execute`]). It also takes the requests components make to
//! each other or to themselves ([`LocalRequests`]).

mod body;
mod execute;
pub mod server;
mod spin_headers;
mod well_known;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use wasmtime_wasi_http::WasiBody;

use crate::outbound_http::LocalRequests;
use crate::routing::{RouteMatch, Router, WELL_KNOWN_PREFIX};
use body::plain;

pub use execute::Prepared;
pub use well_known::AppInfo;

/// A client address for requests that did not come over the network.
const CHAINED_CLIENT_ADDR: &str = "0.0.0.0:0";

/// The HTTP trigger of one application.
pub struct HttpTrigger {
    pub info: AppInfo,
    pub router: Router,
    pub engine: wasmtime::Engine,
    /// The routed components, by id.
    pub components: HashMap<String, Prepared>,
    pub log_requests: bool,
    pub quiet_components: bool,
    /// `host:port` the listener is bound to: self requests are addressed there.
    pub self_origin: OnceLock<String>,
}

impl HttpTrigger {
    /// A request from the listener: well-known paths, then the router.
    pub async fn handle_incoming<B>(
        self: &Arc<Self>,
        req: Request<B>,
        client_addr: SocketAddr,
    ) -> Response<WasiBody>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let started = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let (response, component) = if let Some(name) = path.strip_prefix(WELL_KNOWN_PREFIX) {
            (well_known::respond(&self.info, name), None)
        } else {
            match self.router.route(&path) {
                Some(m) => {
                    let component = m.component.clone();
                    let resp = self.execute(m, req, &client_addr.to_string()).await;
                    (resp, Some(component))
                }
                None => (plain(StatusCode::NOT_FOUND, ""), None),
            }
        };
        if self.log_requests {
            eprintln!(
                "{method} {path} -> {} {} ({:.2} ms)",
                component.as_deref().unwrap_or("-"),
                response.status().as_u16(),
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
        response
    }

    /// `http://<component>.spin.internal/...`: no router, Spin's synthetic
    /// `/...` match. `None` if no routed component has that id.
    async fn handle_chained(
        self: &Arc<Self>,
        component: &str,
        req: Request<WasiBody>,
    ) -> Option<Response<WasiBody>> {
        if !self.components.contains_key(component) {
            return None;
        }
        let started = Instant::now();
        let path = req.uri().path().to_string();
        let method = req.method().clone();
        let m = RouteMatch::chained(component, &path);
        let response = self.execute(m, req, CHAINED_CLIENT_ADDR).await;
        if self.log_requests {
            eprintln!(
                "{method} {path} -> {component} {} ({:.2} ms, chained)",
                response.status().as_u16(),
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
        Some(response)
    }

    /// A relative-URL request from a component: Spin sends it to its own
    /// listener; it is routed in-process here, addressed the same way.
    async fn handle_self_request(
        self: &Arc<Self>,
        mut req: Request<WasiBody>,
    ) -> Response<WasiBody> {
        let origin = self
            .self_origin
            .get()
            .cloned()
            .unwrap_or_else(|| "localhost".into());
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        if let Ok(uri) = http::Uri::builder()
            .scheme("http")
            .authority(origin.as_str())
            .path_and_query(path)
            .build()
        {
            *req.uri_mut() = uri;
        }
        if let Ok(host) = HeaderValue::from_str(&origin) {
            req.headers_mut().insert(http::header::HOST, host);
        }
        let addr: SocketAddr = CHAINED_CLIENT_ADDR.parse().expect("valid address");
        Box::pin(self.handle_incoming(req, addr)).await
    }
}

impl LocalRequests for HttpTrigger {
    fn self_request(
        self: Arc<Self>,
        request: Request<WasiBody>,
    ) -> std::pin::Pin<Box<dyn Future<Output = Response<WasiBody>> + Send>> {
        Box::pin(async move { self.handle_self_request(request).await })
    }

    fn chained(
        self: Arc<Self>,
        component: String,
        request: Request<WasiBody>,
    ) -> std::pin::Pin<Box<dyn Future<Output = Option<Response<WasiBody>>> + Send>> {
        Box::pin(async move { self.handle_chained(&component, request).await })
    }
}
