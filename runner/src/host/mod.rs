//! Per-request store state and the host interfaces linked into every
//! component: WASI 0.2, wasi:http, Spin's Postgres and variables.

pub mod postgres;
pub mod variables;

use std::collections::HashMap;
use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::allowed_hosts::AllowedHosts;
use crate::outbound_http::OutboundHttp;

pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "microtaskhub:runner/runner-host",
        imports: { default: async },
        with: {
            "spin:postgres/postgres.connection": super::postgres::Connection,
        },
    });
}

/// What every instance of one component shares, fixed at start-up.
pub struct ComponentContext {
    pub id: String,
    /// Resolved values of the component's own `[component.x.variables]`.
    pub variables: HashMap<String, String>,
    pub allowed_hosts: AllowedHosts,
    pub pg_pools: Arc<postgres::PgPools>,
}

/// The `T` of `Store<T>`: one per request.
pub struct StoreState {
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub table: ResourceTable,
    pub outbound: OutboundHttp,
    pub component: Arc<ComponentContext>,
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
/// fails at start-up (see `app.rs`).
pub fn linker(engine: &wasmtime::Engine) -> anyhow::Result<Linker<StoreState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    bindings::RunnerHost::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    Ok(linker)
}
