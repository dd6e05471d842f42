//! Throwaway PostgreSQL clusters from Debian's binaries (`initdb`, `pg_ctl`),
//! for the runner's tests, the API tests and the benchmarks.
//!
//! PostgreSQL refuses to run as root; when the tests run as root (CI, this
//! project's machines), the server runs as the `postgres` system user that
//! Debian's package creates.

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

use tempfile::TempDir;

/// A PostgreSQL server in a temporary directory, on a free loopback port,
/// trusting local connections. Stopped and deleted when dropped; a watchdog
/// also stops it if the test process dies without dropping it (statics).
pub struct PgCluster {
    dir: TempDir,
    port: u16,
    /// Serialises stop/start of this cluster.
    lifecycle: Mutex<()>,
}

/// A free TCP port on 127.0.0.1 (free now; the OS will not hand it out again soon).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

fn running_as_root() -> bool {
    // The owner of /proc/self is the effective uid, without unsafe libc calls.
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// A PostgreSQL server command, as the `postgres` user when we are root.
fn server_command(program: &str) -> Command {
    if running_as_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--", program]);
        cmd
    } else {
        Command::new(program)
    }
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| {
        panic!(
            "{what}: cannot run {:?} ({e}); is PostgreSQL installed?",
            cmd.get_program()
        )
    });
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl PgCluster {
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("mth-pg-")
            .tempdir()
            .expect("temp dir");
        let port = free_port();
        if running_as_root() {
            run(
                Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(dir.path()),
                "chown",
            );
        }
        run(
            server_command("initdb")
                .args([
                    "--auth=trust",
                    "--username=postgres",
                    "--encoding=UTF8",
                    "--no-sync",
                    "-D",
                ])
                .arg(dir.path().join("data")),
            "initdb",
        );
        let cluster = Self {
            dir,
            port,
            lifecycle: Mutex::new(()),
        };
        cluster.start_server();
        cluster.spawn_watchdog();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn start_server(&self) {
        // fsync=off is safe for a throwaway server (a killed process leaves its
        // writes in the page cache); synchronous_commit stays on so that an
        // immediate stop loses no committed row.
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=300 -c fsync=off \
             -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        run(
            server_command("pg_ctl")
                .args(["start", "--wait", "--silent", "-D"])
                .arg(self.data())
                .arg("-l")
                .arg(self.dir.path().join("server.log"))
                .args(["-o", &options]),
            "pg_ctl start",
        );
    }

    /// Stops the server (immediately, as a crash would look to clients).
    pub fn stop(&self) {
        let _guard = self.lifecycle.lock().unwrap();
        run(
            server_command("pg_ctl")
                .args(["stop", "--wait", "--silent", "-m", "immediate", "-D"])
                .arg(self.data()),
            "pg_ctl stop",
        );
    }

    /// Starts a stopped server again, on the same port.
    pub fn restart(&self) {
        let _guard = self.lifecycle.lock().unwrap();
        self.start_server();
    }

    /// Stops the server once this test process is gone, even if nothing
    /// dropped the cluster (a shared cluster lives in a static).
    fn spawn_watchdog(&self) {
        let pg_ctl = if running_as_root() {
            "runuser -u postgres -- pg_ctl"
        } else {
            "pg_ctl"
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             {pg_ctl} stop -m immediate -D '{data}' >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            data = self.data().display(),
            dir = self.dir.path().display(),
        );
        let _ = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port`, as `allowed_outbound_hosts` wants it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Runs one SQL command through psql.
    pub fn psql(&self, database: &str, sql: &str) {
        run(
            Command::new("psql")
                .args(["--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-c", sql])
                .arg(self.url(database)),
            "psql",
        );
    }

    /// A new database with the project's migrations applied.
    pub fn migrated_database(&self) -> String {
        self.ensure_template();
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        self.psql(
            "postgres",
            &format!("CREATE DATABASE {name} TEMPLATE mth_template"),
        );
        name
    }

    /// Migrations run once per cluster into a template; tests copy it.
    fn ensure_template(&self) {
        static DONE: OnceLock<Mutex<Vec<u16>>> = OnceLock::new();
        let done = DONE.get_or_init(Default::default);
        let mut done = done.lock().unwrap();
        if done.contains(&self.port) {
            return;
        }
        self.psql("postgres", "CREATE DATABASE mth_template");
        apply_migrations(&self.url("mth_template"));
        done.push(self.port);
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = server_command("pg_ctl")
            .args(["stop", "-m", "immediate", "-D"])
            .arg(self.data())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The repository root.
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/pg-harness is two levels below the root")
}

/// Applies `migrations/` with the project's own applier, as `make run` does.
pub fn apply_migrations(url: &str) {
    run(
        Command::new("sh")
            .arg(repo_root().join("migrations/migrate.sh"))
            .arg(url),
        "migrations/migrate.sh",
    );
}
