//! The test harness: a throwaway PostgreSQL and the real application, as
//! compiled `.wasm` components, running in the project's runner or, when
//! `SPIN_BIN` is set (see [`Host`]), in a real `spin up`.
//!
//! ```no_run
//! # async fn t() {
//! let app = api_tests::TestApp::spawn().await;
//! let user = app.create_user("ada@example.com").await;
//! # }
//! ```

mod app;
mod deps;
mod host;

pub use app::{
    Options, TestApp, assert_detail, body, dead_url, detail, error_fields, id, session_cookie,
    unknown,
};
pub use deps::{CpuHog, HangingServer};
pub use host::{Host, SpinProcess};
pub use pg_harness::PgCluster;
