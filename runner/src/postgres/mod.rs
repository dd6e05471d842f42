//! `spin:postgres/postgres@4.0.0`, converting values exactly as Spin 3.6.3's
//! `factor-outbound-pg` (what SpinKube runs) does: parameters are bound
//! through tokio-postgres's typed `ToSql` (so its type checks apply, e.g. a
//! `str` does not bind to a `uuid` column and `datetime` does not bind to
//! `timestamptz`), columns are read through typed `FromSql`, and every
//! failure reaches the guest as an `error` value, never a trap.
//!
//! Errors take Spin 3.6.3's shapes (docs/runner.md lists where 4.x differs):
//! - a bad parameter: `bad-parameter` from `query`, `value-conversion-failed`
//!   from `execute`, each the `{:?}` of the conversion error;
//! - a server error before the first row (parse, bind): the structured
//!   `query-error::db-error`;
//! - anything that fails *while rows stream* — a server error raised by the
//!   statement itself (e.g. a unique violation by `INSERT … RETURNING`), a
//!   column that does not convert, a result over 128 MiB — only as
//!   `query-error::text`, the `{:?}` of an `anyhow::Error` (Display, `Caused
//!   by:`, and a stack trace when `RUST_BACKTRACE` is set);
//! - `execute` reports every server error structured.

// `Error` is the WIT variant the guest receives; boxing it would only move
// the copy elsewhere.
//!
//! One job per submodule: [`pool`] (connection pools), [`access`] (allowed
//! addresses), [`params`] (binding), [`rows`] (decoding), [`interval`] (its
//! wire form), [`errors`] (Spin's error shapes), [`host`] (the WIT host).

// `Error` is the WIT variant the guest receives; boxing it would only move
// the copy elsewhere.
#![allow(clippy::result_large_err)]

mod access;
mod errors;
mod host;
mod interval;
mod params;
mod pool;
mod rows;

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker, ResourceTable};

use crate::allowed_hosts::AllowedHosts;
use crate::bindings::spin::postgres::postgres;

pub use pool::PgPools;

/// What every instance of one component shares, fixed at start-up.
pub struct PgConfig {
    pub component: String,
    pub allowed_hosts: AllowedHosts,
    pub pools: Arc<PgPools>,
}

/// One instance's Postgres state: the connections its guest holds open.
pub struct PgInstance {
    config: Arc<PgConfig>,
    /// Its own table, as in Spin: a connection handle's rep indexes it.
    connections: ResourceTable,
}

impl PgInstance {
    pub fn new(config: Arc<PgConfig>) -> Self {
        Self {
            config,
            connections: ResourceTable::new(),
        }
    }
}

/// Links the interface; `get` finds the instance's state in its store.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut PgInstance,
) -> wasmtime::Result<()> {
    postgres::add_to_linker::<T, HasSelf<PgInstance>>(linker, get)
}
