//! The loaded application: components compiled and pre-instantiated once,
//! and the execution of one HTTP request in a fresh instance.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use wasmtime::Store;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::{WasiBody, WasiHttpCtx, WasiHttpView};

use crate::allowed_hosts::AllowedHosts;
use crate::files::{self, Mount};
use crate::host::postgres::PgPools;
use crate::host::{self, ComponentContext, StoreState};
use crate::manifest::LoadedManifest;
use crate::outbound_http::OutboundHttp;
use crate::routing::{RouteMatch, Router, WELL_KNOWN_PREFIX};
use crate::variables::{AppVariables, validate_name};
use crate::{RunnerConfig, engine};

/// A client address for requests that did not come over the network.
const CHAINED_CLIENT_ADDR: &str = "0.0.0.0:0";

pub struct App {
    pub name: String,
    pub version: Option<String>,
    pub router: Router,
    /// Component descriptions, printed under their routes.
    pub descriptions: HashMap<String, String>,
    engine: wasmtime::Engine,
    components: HashMap<String, Prepared>,
    pg_pools: Arc<PgPools>,
    log_requests: bool,
    quiet_components: bool,
    /// `host:port` the listener is bound to: self requests are addressed there.
    pub self_origin: std::sync::OnceLock<String>,
    /// Keeps staged `files` copies alive as long as the app.
    _staging: Vec<tempfile::TempDir>,
}

struct Prepared {
    pre: ProxyPre<StoreState>,
    context: Arc<ComponentContext>,
    mounts: Vec<Mount>,
    environment: Vec<(String, String)>,
}

impl App {
    /// Loads, validates and compiles everything; blocking (compilation).
    pub fn load(config: &RunnerConfig) -> Result<Self> {
        let loaded = LoadedManifest::load(&config.manifest)?;
        let manifest = &loaded.manifest;
        let vars = AppVariables::resolve(&manifest.variables, &config.variables, &config.env)?;
        let router = Router::build(&manifest.trigger.http)?;
        let engine = engine::shared()?;
        let linker = host::linker(&engine)?;
        let pg_pools = Arc::new(PgPools::default());

        let mut components = HashMap::new();
        let mut descriptions = HashMap::new();
        let mut staging = Vec::new();
        for (id, def) in &manifest.component {
            if let Some(d) = &def.description {
                descriptions.insert(id.clone(), d.clone());
            }
            // Templates of every component are checked, even unrouted ones,
            // as Spin validates the whole manifest.
            let mut variables = HashMap::new();
            for (name, template) in &def.variables {
                validate_name(name).map_err(|reason| {
                    anyhow!("component '{id}': invalid variable name {reason}")
                })?;
                let value = vars
                    .expand(template)
                    .with_context(|| format!("component '{id}', variable '{name}'"))?;
                variables.insert(name.clone(), value);
            }
            let hosts = def
                .allowed_outbound_hosts
                .iter()
                .map(|t| vars.expand(t))
                .collect::<Result<Vec<_>>>()
                .with_context(|| format!("component '{id}': allowed_outbound_hosts"))?;
            let allowed_hosts = AllowedHosts::parse(&hosts)
                .with_context(|| format!("component '{id}': allowed_outbound_hosts"))?;

            if !manifest.trigger.http.iter().any(|t| &t.component == id) {
                continue;
            }
            let (mounts, staged) = files::prepare(&loaded, id, &def.files)?;
            staging.extend(staged);
            let path: PathBuf = loaded.resolve(&def.source);
            let component = engine::load_component(&engine, &path)
                .with_context(|| format!("component '{id}'"))?;
            let pre = linker
                .instantiate_pre(&component)
                .map_err(|e| missing_import_error(id, &path, e))?;
            let pre = ProxyPre::new(pre).map_err(|e| {
                anyhow!(
                    "component '{id}' ({}) does not export wasi:http/incoming-handler@0.2: {e:#}",
                    path.display()
                )
            })?;
            let context = Arc::new(ComponentContext {
                id: id.clone(),
                variables,
                allowed_hosts,
                pg_pools: pg_pools.clone(),
            });
            let environment = def
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            components.insert(
                id.clone(),
                Prepared {
                    pre,
                    context,
                    mounts,
                    environment,
                },
            );
        }

        Ok(Self {
            name: manifest.application.name.clone(),
            version: manifest.application.version.clone(),
            router,
            descriptions,
            engine,
            components,
            pg_pools,
            log_requests: config.log_requests,
            quiet_components: config.quiet_components,
            self_origin: Default::default(),
            _staging: staging,
        })
    }

    pub fn close(&self) {
        self.pg_pools.close();
    }

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
            (self.well_known(name), None)
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
    pub async fn handle_chained(
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
    pub async fn handle_self_request(
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

    fn well_known(&self, name: &str) -> Response<WasiBody> {
        match name {
            "health" => plain(StatusCode::OK, "OK"),
            "info" => {
                // Spin's AppInfo: name, and version only when set.
                let mut info = serde_json::json!({ "name": self.name });
                if let Some(v) = &self.version {
                    info["version"] = v.clone().into();
                }
                let mut resp = plain(
                    StatusCode::OK,
                    &serde_json::to_string_pretty(&info).unwrap_or_default(),
                );
                resp.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                resp
            }
            _ => plain(StatusCode::NOT_FOUND, ""),
        }
    }

    /// Runs `req` in a fresh instance of the matched component. Errors are
    /// logged and become an empty 500, as in Spin.
    async fn execute<B>(
        self: &Arc<Self>,
        m: RouteMatch,
        req: Request<B>,
        client_addr: &str,
    ) -> Response<WasiBody>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        match self.try_execute(&m, req, client_addr).await {
            Ok(resp) => resp,
            Err(e) => {
                eprintln!(
                    "Error processing request for component '{}': {e:?}",
                    m.component
                );
                plain(StatusCode::INTERNAL_SERVER_ERROR, "")
            }
        }
    }

    async fn try_execute<B>(
        self: &Arc<Self>,
        m: &RouteMatch,
        req: Request<B>,
        client_addr: &str,
    ) -> Result<Response<WasiBody>>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let prepared = self
            .components
            .get(&m.component)
            .with_context(|| format!("unknown component '{}'", m.component))?;
        let req = prepare_request(req, m, client_addr)?;

        let mut wasi = WasiCtxBuilder::new();
        if !self.quiet_components {
            wasi.inherit_stdout().inherit_stderr();
        }
        wasi.envs(&prepared.environment);
        for mount in &prepared.mounts {
            wasi.preopened_dir(&mount.host, &mount.guest, FsPerms::ReadOnly)
                .map_err(|e| anyhow!("mounting {}: {e:?}", mount.host.display()))?;
        }
        let state = StoreState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            outbound: OutboundHttp {
                component: prepared.context.clone(),
                app: self.clone(),
            },
            component: prepared.context.clone(),
        };
        let mut store = Store::new(&self.engine, state);
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, req)
            .map_err(|e| anyhow!("{e:?}"))?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let outparam = store
            .data_mut()
            .http()
            .new_response_outparam(tx)
            .map_err(|e| anyhow!("{e:?}"))?;

        let pre = prepared.pre.clone();
        let component = m.component.clone();
        // The guest keeps running after it has sent the response head (it
        // may still be streaming the body), so it gets its own task.
        let task = tokio::spawn(async move {
            let result = async {
                let proxy = pre.instantiate_async(&mut store).await?;
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, incoming, outparam)
                    .await
            }
            .await;
            result.map_err(|e| anyhow!("component '{component}' failed: {e:?}"))
        });

        match rx.await {
            Ok(Ok(resp)) => {
                let component = m.component.clone();
                let abort = task.abort_handle();
                tokio::spawn(async move {
                    match task.await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => eprintln!("Component error after response started: {e}"),
                        Err(e) if e.is_cancelled() => {}
                        Err(e) => eprintln!("component '{component}' panicked: {e}"),
                    }
                });
                // As Spin: once the client is gone (the body is dropped), the
                // guest is stopped, and with it any outbound requests.
                Ok(resp.map(|body| AbortOnDrop { body, abort }.boxed_unsync()))
            }
            Ok(Err(code)) => bail!("guest failed to produce a response: {code:?}"),
            Err(_) => {
                task.await.context("guest invocation panicked")??;
                bail!("guest failed to produce a response prior to returning")
            }
        }
    }
}

/// Adds Spin's routing headers and makes the URI absolute.
fn prepare_request<B>(req: Request<B>, m: &RouteMatch, client_addr: &str) -> Result<Request<B>> {
    let (mut parts, body) = req.into_parts();
    // Spin drops a Host naming a chaining target (`*.spin.internal`).
    let chaining_host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| crate::allowed_hosts::service_chaining_target(h).is_some());
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

pub fn plain(status: StatusCode, body: &str) -> Response<WasiBody> {
    let body = Full::new(Bytes::from(body.to_string()))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    resp
}

/// Turns wasmtime's link error into one that says what is missing and what
/// the runner offers.
fn missing_import_error(id: &str, path: &std::path::Path, e: wasmtime::Error) -> anyhow::Error {
    anyhow!(
        "component '{id}' ({}) cannot be run: {e:#}\n\
         This runner provides WASI 0.2 (cli, clocks, random, io, filesystem, sockets), \
         wasi:http 0.2 (incoming-handler, outgoing-handler), spin:postgres/postgres@4.0.0 \
         and fermyon:spin/variables@2.0.0.",
        path.display()
    )
}

/// A response body that aborts the guest's task when dropped.
struct AbortOnDrop {
    body: WasiBody,
    abort: tokio::task::AbortHandle,
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.abort.abort();
    }
}

impl http_body::Body for AbortOnDrop {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
