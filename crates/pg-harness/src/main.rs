//! `pg-harness`: the PostgreSQL of `make run`, the browser tests and the
//! benchmarks, started the way the Rust tests start theirs (this crate's
//! library). The scripts call it through `pg_harness` in scripts/lib.sh.
//!
//! ```text
//! pg-harness start --dir DIR [--port N] [--throwaway] [--set NAME=VALUE]... [--database NAME] [--stop-with PID]
//! pg-harness stop --dir DIR [--immediate]
//! pg-harness url --dir DIR [--database NAME]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pg_harness::{DataDir, Durability, StopMode, psql, url};

#[derive(Parser)]
#[command(about = "Starts and stops the project's local PostgreSQL servers")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Creates a cluster in DIR unless there is one, starts it unless it
    /// runs, creates the database if missing, and prints the database's URL.
    Start {
        /// The data directory (the log and the socket live there too); its
        /// parent must be reachable by the `postgres` user when run as root.
        #[arg(long)]
        dir: PathBuf,
        /// Port on 127.0.0.1 (default: a free one). Ignored if the server
        /// already runs: the URL then has the port it runs on.
        #[arg(long)]
        port: Option<u16>,
        /// Data nobody keeps: no fsync, no full-page writes, more connections.
        #[arg(long)]
        throwaway: bool,
        /// A server setting (`-c NAME=VALUE`), after the defaults.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        settings: Vec<String>,
        /// Database to create if missing, whose URL is printed (default: postgres).
        #[arg(long, default_value = "postgres")]
        database: String,
        /// Stop the server (immediately) when process PID ends, even if it
        /// is killed before it can stop it itself.
        #[arg(long, value_name = "PID")]
        stop_with: Option<u32>,
    },
    /// Stops the server running in DIR, if one does.
    Stop {
        #[arg(long)]
        dir: PathBuf,
        /// Kill it rather than shut it down cleanly (throwaway data).
        #[arg(long)]
        immediate: bool,
    },
    /// Prints the URL of the server running in DIR; fails if none runs.
    Url {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value = "postgres")]
        database: String,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pg-harness: {}", e.trim_end());
            ExitCode::FAILURE
        }
    }
}

fn run(command: Cmd) -> Result<(), String> {
    match command {
        Cmd::Start {
            dir,
            port,
            throwaway,
            settings,
            database,
            stop_with,
        } => {
            check_identifier(&database)?;
            let data = DataDir::new(dir);
            let durability = if throwaway {
                Durability::Throwaway
            } else {
                Durability::Durable
            };
            let port = match data.running_port() {
                Some(running) => running,
                None => {
                    if !data.is_initialised() {
                        data.init(durability)?;
                    }
                    let port = match port {
                        Some(port) => data.start(port, durability, &settings).map(|()| port),
                        None => data.start_on_a_free_port(durability, &settings),
                    }?;
                    if let Some(pid) = stop_with {
                        data.stop_with(pid, None);
                    }
                    port
                }
            };
            ensure_database(port, &database)?;
            println!("{}", url(port, &database));
            Ok(())
        }
        Cmd::Stop { dir, immediate } => {
            let data = DataDir::new(dir);
            if data.running_port().is_none() {
                return Ok(());
            }
            let mode = if immediate {
                StopMode::Immediate
            } else {
                StopMode::Fast
            };
            data.stop(mode)
        }
        Cmd::Url { dir, database } => {
            check_identifier(&database)?;
            let data = DataDir::new(&dir);
            let port = data
                .running_port()
                .ok_or_else(|| format!("no server runs in {}", dir.display()))?;
            println!("{}", url(port, &database));
            Ok(())
        }
    }
}

/// Database names go into SQL and URLs unquoted: plain identifiers only.
fn check_identifier(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        Ok(())
    } else {
        Err(format!(
            "database name {name:?}: use lower-case letters, digits and _"
        ))
    }
}

fn ensure_database(port: u16, database: &str) -> Result<(), String> {
    let admin = url(port, "postgres");
    let exists = psql(
        &admin,
        &format!("SELECT 1 FROM pg_database WHERE datname = '{database}'"),
    )?;
    if exists.trim() != "1" {
        psql(&admin, &format!("CREATE DATABASE {database}"))?;
    }
    Ok(())
}
