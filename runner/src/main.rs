//! `runner up`: the `spin up` of this project.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "runner",
    version,
    about = "Runs a Spin application locally (like `spin up`)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the application.
    Up(UpArgs),
}

#[derive(clap::Args)]
struct UpArgs {
    /// The application manifest.
    #[arg(
        short = 'f',
        long = "from",
        alias = "file",
        default_value = "spin.toml"
    )]
    manifest: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Run the components' build commands first.
    #[arg(long)]
    build: bool,
    /// Set an application variable: `name=value`, or `@file.json` with an object of them.
    #[arg(long = "variable", value_name = "NAME=VALUE")]
    variables: Vec<String>,
    /// Do not log a line per request.
    #[arg(long)]
    quiet: bool,
}

fn parse_variables(args: &[String]) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for arg in args {
        if let Some(file) = arg.strip_prefix('@') {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read variables file {file}"))?;
            let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
                .with_context(|| format!("{file} must hold a JSON object"))?;
            for (k, v) in map {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                out.push((k, v));
            }
        } else if let Some((k, v)) = arg.split_once('=') {
            out.push((k.trim().to_string(), v.to_string()));
        } else {
            bail!("--variable must be NAME=VALUE or @file.json, got {arg:?}");
        }
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> Result<()> {
    let Command::Up(args) = Cli::parse().command;
    if args.build {
        let manifest = args.manifest.clone();
        tokio::task::spawn_blocking(move || runner::build::build_all(&manifest)).await??;
    }
    let mut config = runner::RunnerConfig::new(&args.manifest);
    config.listen = args.listen;
    config.variables = parse_variables(&args.variables)?;
    config.log_requests = !args.quiet;
    let app = runner::start(config).await?;

    println!();
    println!("Serving {}", app.url());
    println!("Available Routes:");
    for r in app.routes() {
        println!("  {}: {}{}", r.component, app.url(), r.route);
        if let Some(d) = r.description {
            println!("    {d}");
        }
    }

    wait_for_stop().await;
    eprintln!("Shutting down...");
    app.shutdown().await;
    Ok(())
}

async fn wait_for_stop() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
