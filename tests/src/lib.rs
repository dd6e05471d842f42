//! The test harness: a throwaway PostgreSQL and the real application, as
//! compiled `.wasm` components, running in the project's runner or, when
//! `SPIN_BIN` is set (see [`Host`]), in a real `spin up`. Components older
//! than their sources are rebuilt before the first app starts ([`wasm`]),
//! so a test never runs stale `.wasm`.
//!
//! ```no_run
//! # async fn t() {
//! let app = api_tests::TestApp::spawn().await;
//! let user = app.create_user("ada@example.com").await;
//! # }
//! ```

mod app;
mod client;
pub mod contract;
mod deps;
pub mod feed;
mod host;
pub mod idp;
pub mod team;
pub mod wasm;

pub use app::{
    HeldLocks, Options, TestApp, assert_detail, body, detail, error_fields, id, session_cookie,
    sha256_hex, unknown,
};
pub use client::{Client, RequestBuilder};
pub use deps::{CannedServer, ClosedPort, CpuHog, HangingServer};
pub use host::{Host, SpinProcess};
pub use pg_harness::PgCluster;
