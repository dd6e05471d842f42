//! The test harness: a throwaway PostgreSQL and the real application, as
//! compiled `.wasm` components, running in the project's runner.
//!
//! ```no_run
//! # async fn t() {
//! let app = api_tests::TestApp::spawn().await;
//! let user = app.create_user("ada@example.com").await;
//! # }
//! ```

mod app;
mod deps;

pub use app::{Options, TestApp, body, dead_url, error_fields, id};
pub use deps::{CpuHog, HangingServer};
pub use pg_harness::PgCluster;
