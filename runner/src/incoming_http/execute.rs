//! Running one request in a fresh instance of a pre-linked component.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use wasmtime::Store;
use wasmtime::component::InstancePre;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::{WasiBody, WasiHttpView};

use super::HttpTrigger;
use super::body::{AbortOnDrop, plain};
use super::spin_headers::prepare_request;
use crate::instance::{ComponentConfig, StoreState};
use crate::routing::RouteMatch;

/// A routable component, linked once at start-up.
pub struct Prepared {
    pre: ProxyPre<StoreState>,
    config: Arc<ComponentConfig>,
}

impl Prepared {
    /// Fails unless the component exports the HTTP handler this trigger calls.
    pub fn new(
        pre: InstancePre<StoreState>,
        config: ComponentConfig,
        id: &str,
        path: &Path,
    ) -> Result<Self> {
        let pre = ProxyPre::new(pre).map_err(|e| {
            anyhow!(
                "component '{id}' ({}) does not export wasi:http/incoming-handler@0.2: {e:#}",
                path.display()
            )
        })?;
        Ok(Self {
            pre,
            config: Arc::new(config),
        })
    }
}

impl HttpTrigger {
    /// Runs `req` in a fresh instance of the matched component. Errors are
    /// logged and become an empty 500, as in Spin.
    pub(super) async fn execute<B>(
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

        let state = StoreState::new(&prepared.config, self.clone(), self.quiet_components)?;
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
