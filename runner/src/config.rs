//! How to run an application ([`RunnerConfig`]), shared by the crate root
//! and the loader.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// How to run an application.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Path of `spin.toml`.
    pub manifest: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// `--variable name=value` pairs; later ones win.
    pub variables: Vec<(String, String)>,
    /// Where `SPIN_VARIABLE_<NAME>` values are looked up.
    pub env: HashMap<String, String>,
    /// Log one line per request to stderr.
    pub log_requests: bool,
    /// Drop the components' stdout/stderr instead of forwarding them.
    pub quiet_components: bool,
}

impl RunnerConfig {
    /// Defaults like `spin up`: 127.0.0.1:3000, environment from the process.
    pub fn new(manifest: impl Into<PathBuf>) -> Self {
        Self {
            manifest: manifest.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            variables: Vec::new(),
            env: std::env::vars().collect(),
            log_requests: true,
            quiet_components: false,
        }
    }
}
