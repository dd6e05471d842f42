//! The `runner up` binary: start-up output, serving, clean stop on SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn runner_up_serves_and_stops_on_sigterm() {
    common::require_components();
    let mut child = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(["up", "-f"])
        .arg(common::fixtures().join("app.toml"))
        .args(["--listen", "127.0.0.1:0", "--quiet"])
        .args(["--variable", "db_url=postgres://postgres@127.0.0.1:1/x"])
        .args(["--variable", "needed=yes"])
        .env_remove("SPIN_VARIABLE_NEEDED")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("runner starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let url = loop {
        let line = lines.next().expect("runner printed its URL").unwrap();
        printed.push(line.clone());
        if let Some(url) = line.strip_prefix("Serving ") {
            break url.to_string();
        }
    };
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push(line.clone());
        if line.starts_with("  deeper:") {
            break;
        }
    }
    assert!(
        printed.iter().any(|l| l == "Available Routes:"),
        "{printed:?}"
    );
    assert!(
        printed.contains(&format!("  api: {url}/api (wildcard)")),
        "{printed:?}"
    );
    assert!(
        printed.contains(&format!("  exact: {url}/api/exact")),
        "{printed:?}"
    );

    let addr = url.strip_prefix("http://").unwrap().parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let reply = rt.block_on(common::get(addr, "/api/exact", &[]));
    assert_eq!(reply.json()["name"], "exact");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "runner exited with {exit}");
}

#[test]
fn runner_up_reports_a_missing_variable() {
    common::require_components();
    let out = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(["up", "-f"])
        .arg(common::fixtures().join("app.toml"))
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("SPIN_VARIABLE_DB_URL")
        .env_remove("SPIN_VARIABLE_NEEDED")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("required variable"), "{stderr}");
}
