//! A local runner for Spin HTTP applications, on wasmtime.
//!
//! It executes an application from its `spin.toml` the way `spin up` does
//! (routing, Spin's request headers, variables, `files`, allowed outbound
//! hosts, service chaining, `spin:postgres@4.0.0`, the `default` key-value
//! store), for machines where the Spin CLI cannot be installed. Start it
//! in-process with [`start`].

mod allowed_hosts;
mod app;
mod bindings;
pub mod build;
mod config;
mod engine;
mod files;
mod incoming_http;
mod instance;
mod key_value;
mod manifest;
mod outbound_http;
mod postgres;
mod routing;
mod variables;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::watch;

use app::App;
use incoming_http::server;

pub use config::RunnerConfig;

/// One routable route, as printed at start-up.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    pub component: String,
    /// E.g. `/users (wildcard)` or `/health`; "" is the root.
    pub route: String,
    pub description: Option<String>,
}

/// A running application; stop it with [`RunningApp::shutdown`].
pub struct RunningApp {
    addr: SocketAddr,
    app: Arc<App>,
    stop: watch::Sender<bool>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for RunningApp {
    /// An app dropped without `shutdown` (e.g. by a failing test) still
    /// stops listening.
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl RunningApp {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The routes in Spin's "Available Routes" form.
    pub fn routes(&self) -> Vec<RouteInfo> {
        self.app
            .http
            .router
            .routes()
            .iter()
            .map(|r| RouteInfo {
                component: r.component.clone(),
                route: r.to_string(),
                description: self.app.descriptions.get(&r.component).cloned(),
            })
            .collect()
    }

    /// Stops accepting, lets in-flight requests finish (bounded), closes the
    /// database pools.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.app.close();
    }
}

/// Loads and compiles the application, binds the listener and starts serving.
pub async fn start(config: RunnerConfig) -> Result<RunningApp> {
    let listen = config.listen;
    // Compilation is CPU-bound: keep it off the async workers.
    let app = tokio::task::spawn_blocking(move || App::load(&config))
        .await
        .context("loading the application panicked")??;
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!("{listen} is already in use")
        } else {
            anyhow::anyhow!("unable to listen on {listen}: {e}")
        }
    })?;
    let addr = listener.local_addr()?;
    let _ = app.http.self_origin.set(addr.to_string());
    let app = Arc::new(app);
    let (stop, stop_rx) = watch::channel(false);
    let server = tokio::spawn(server::serve(app.http.clone(), listener, stop_rx));
    Ok(RunningApp {
        addr,
        app,
        stop,
        server: Some(server),
    })
}
