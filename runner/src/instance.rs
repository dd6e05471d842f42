//! One component instance: the store state that puts every host interface
//! together (Spin's runtime factors), and the linker that provides them.

use std::sync::Arc;

use anyhow::Result;
use wasmtime::component::{InstancePre, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::files::{self, Mount};
use crate::key_value::{self, KvConfig, KvInstance};
use crate::outbound_http::{LocalRequests, OutboundHttp, OutboundHttpConfig};
use crate::postgres::{self, PgConfig, PgInstance};
use crate::variables::{self, ComponentVariables};

/// What every instance of one component shares, fixed at start-up.
pub struct ComponentConfig {
    pub environment: Vec<(String, String)>,
    pub mounts: Vec<Mount>,
    pub variables: ComponentVariables,
    pub outbound_http: Arc<OutboundHttpConfig>,
    pub postgres: Arc<PgConfig>,
    pub key_value: Arc<KvConfig>,
}

/// The `T` of `Store<T>`: one per request.
pub struct StoreState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    outbound: OutboundHttp,
    postgres: PgInstance,
    key_value: KvInstance,
    component: Arc<ComponentConfig>,
}

impl StoreState {
    /// A fresh instance's state; in-process requests it makes go to `local`.
    pub fn new(
        component: &Arc<ComponentConfig>,
        local: Arc<dyn LocalRequests>,
        quiet: bool,
    ) -> Result<Self> {
        let mut wasi = WasiCtxBuilder::new();
        if !quiet {
            wasi.inherit_stdout().inherit_stderr();
        }
        wasi.envs(&component.environment);
        files::preopen(&mut wasi, &component.mounts)?;
        Ok(Self {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            outbound: OutboundHttp::new(component.outbound_http.clone(), local),
            postgres: PgInstance::new(component.postgres.clone()),
            key_value: KvInstance::new(component.key_value.clone()),
            component: component.clone(),
        })
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for StoreState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

/// Everything the runner provides; a component importing anything else
/// fails at start-up (see [`instantiate_pre`]).
pub fn linker(engine: &wasmtime::Engine) -> Result<Linker<StoreState>> {
    let mut linker = Linker::<StoreState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    postgres::add_to_linker(&mut linker, |s| &mut s.postgres)?;
    variables::add_to_linker(&mut linker, |s| &s.component.variables)?;
    key_value::add_to_linker(&mut linker, |s| &mut s.key_value)?;
    Ok(linker)
}

/// Links `component`; a missing import is an error that says what is
/// missing and what the runner offers.
pub fn instantiate_pre(
    linker: &Linker<StoreState>,
    component: &wasmtime::component::Component,
    id: &str,
    path: &std::path::Path,
) -> Result<InstancePre<StoreState>> {
    linker.instantiate_pre(component).map_err(|e| {
        anyhow::anyhow!(
            "component '{id}' ({}) cannot be run: {e:#}\n\
             This runner provides WASI 0.2 (cli, clocks, random, io, filesystem, sockets), \
             wasi:http 0.2 (incoming-handler, outgoing-handler), spin:postgres/postgres@4.0.0, \
             fermyon:spin/variables@2.0.0 and fermyon:spin/key-value@2.0.0 (the `default` store).",
            path.display()
        )
    })
}
