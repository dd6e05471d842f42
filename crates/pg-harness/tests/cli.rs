//! The `pg-harness` command as the scripts use it: `make run`'s kept data
//! directory (started, stopped, started again with its data), and a second
//! `start` on a running server that only hands out its URL.

use std::path::Path;
use std::process::{Command, Output};

use pg_harness::psql;

fn pg_harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pg-harness"))
        .args(args)
        .output()
        .expect("run pg-harness")
}

fn stdout_of(args: &[&str]) -> String {
    let out = pg_harness(args);
    assert!(
        out.status.success(),
        "pg-harness {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A parent directory the `postgres` user can reach when the tests run as root.
fn parent() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("mth-pg-cli-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    dir
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn a_kept_data_directory_survives_a_stop() {
    let parent = parent();
    let data = parent.path().join("pgdata");
    let dir = text(&data);

    let url = stdout_of(&["start", "--dir", dir, "--database", "kept"]);
    assert!(url.ends_with("/kept"), "{url}");
    psql(&url, "CREATE TABLE t (v int); INSERT INTO t VALUES (42)").unwrap();

    // A second start finds it running: same server, same URL.
    assert_eq!(
        stdout_of(&["start", "--dir", dir, "--database", "kept"]),
        url
    );
    assert_eq!(stdout_of(&["url", "--dir", dir, "--database", "kept"]), url);

    stdout_of(&["stop", "--dir", dir]);
    assert!(!pg_harness(&["url", "--dir", dir]).status.success());
    // Stopping what is stopped is no error (cleanup traps run it twice).
    stdout_of(&["stop", "--dir", dir]);

    let again = stdout_of(&["start", "--dir", dir, "--database", "kept"]);
    assert_eq!(psql(&again, "SELECT v FROM t").unwrap().trim(), "42");
    stdout_of(&["stop", "--dir", dir, "--immediate"]);
}

#[test]
fn settings_and_port_reach_the_server() {
    let parent = parent();
    let data = parent.path().join("pgdata");
    let dir = text(&data);
    let port = pg_harness::free_port().to_string();

    let url = stdout_of(&[
        "start",
        "--dir",
        dir,
        "--port",
        &port,
        "--throwaway",
        "--set",
        "work_mem=8MB",
    ]);
    assert_eq!(
        url,
        format!("postgres://postgres@127.0.0.1:{port}/postgres")
    );
    assert_eq!(psql(&url, "SHOW work_mem").unwrap().trim(), "8MB");
    assert_eq!(psql(&url, "SHOW fsync").unwrap().trim(), "off");
    stdout_of(&["stop", "--dir", dir, "--immediate"]);
}

/// As scripts/run.sh passes it: relative to the working directory.
#[test]
fn a_relative_directory_works() {
    let parent = parent();
    let out = Command::new(env!("CARGO_BIN_EXE_pg-harness"))
        .args(["start", "--dir", "pgdata", "--throwaway"])
        .current_dir(parent.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = String::from_utf8(out.stdout).unwrap();
    assert_eq!(psql(url.trim(), "SELECT 1").unwrap().trim(), "1");
    stdout_of(&["stop", "--dir", text(&parent.path().join("pgdata"))]);
}

#[test]
fn a_database_name_must_be_plain() {
    let parent = parent();
    let data = parent.path().join("pgdata");
    let out = pg_harness(&["start", "--dir", text(&data), "--database", "x; DROP"]);
    assert!(!out.status.success());
    assert!(!data.exists(), "nothing is created for a refused name");
}

#[test]
fn a_taken_port_is_named() {
    let parent = parent();
    let data = parent.path().join("pgdata");
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = squatter.local_addr().unwrap().port().to_string();
    let out = pg_harness(&[
        "start",
        "--dir",
        text(&data),
        "--port",
        &port,
        "--throwaway",
    ]);
    assert!(!out.status.success());
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(error.contains(&format!("port {port} is taken")), "{error}");
}
