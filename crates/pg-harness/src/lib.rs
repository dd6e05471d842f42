//! The project's one way to run PostgreSQL, from Debian's binaries (`initdb`,
//! `pg_ctl`): throwaway clusters for the runner's tests and the API tests
//! ([`PgCluster`]), and, through the `pg-harness` command built from this
//! crate, the databases of `make run`, the browser tests and the benchmarks
//! ([`DataDir`]).
//!
//! PostgreSQL refuses to run as root; when the tests run as root (CI, this
//! project's machines), the server runs as the `postgres` system user that
//! Debian's package creates.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

use tempfile::TempDir;

/// A TCP port on 127.0.0.1 that is free now, for a child process (a server)
/// that must bind it itself.
///
/// Chosen at random *below* the kernel's ephemeral range: a port from that
/// range (what binding port 0 gives) is handed out again as the local port
/// of outgoing connections, which the tests open by the hundred, so it
/// could be taken between this check and the child's bind. Below the range
/// only explicit binds compete; a child that still loses the port retries
/// (see [`DataDir::start_on_a_free_port`]).
pub fn free_port() -> u16 {
    let (low, high) = unclaimed_range();
    let mut seed = random_seed();
    for _ in 0..1000 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let port = low + ((seed >> 33) % u64::from(high - low)) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {low}..{high}")
}

/// Ports outside the ephemeral range, where only explicit binds compete.
fn unclaimed_range() -> (u16, u16) {
    const FLOOR: u16 = 10_000;
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    if ephemeral_low > FLOOR + 1000 {
        (FLOOR, ephemeral_low)
    } else {
        // An unusual kernel setting: above the range instead.
        (61_000, 65_000)
    }
}

/// A seed that differs between processes and calls.
fn random_seed() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
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

/// Runs a command to completion; its output is the error when it fails.
fn run(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| {
        format!(
            "{what}: cannot run {:?} ({e}); is PostgreSQL installed?",
            cmd.get_program()
        )
    })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{what} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// For the test helpers, whose callers want a panic rather than a `Result`.
fn must<T>(result: Result<T, String>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

/// `'text'` for the shell that `pg_ctl -o` hands its options to.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// How many ports [`DataDir::start_on_a_free_port`] tries.
const PORT_ATTEMPTS: usize = 20;

/// What Postgres logs when its port is taken (in English: servers start
/// with `lc_messages=C`).
const PORT_TAKEN: &str = "Address already in use";

/// A failed start, and whether it failed because the port was taken.
struct StartFailed {
    port_taken: bool,
    message: String,
}

/// How much a server cares about its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Every commit reaches the disk, as in production: data kept between
    /// runs (`make run`) and benchmarks that must pay what production pays.
    Durable,
    /// Nothing is flushed (fsync and full-page writes off): data nobody keeps.
    /// A killed server still leaves its writes in the page cache, and
    /// `synchronous_commit` stays on, so an immediate stop loses no committed row.
    Throwaway,
}

/// How [`DataDir::stop`] ends the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Disconnects the clients and writes a checkpoint: a clean shutdown.
    Fast,
    /// Kills the server, as a crash would look to clients (recovery on the next start).
    Immediate,
}

/// A PostgreSQL data directory that also holds the server's log
/// (`server.log`) and its Unix socket, so that everything of one cluster is
/// in one place.
#[derive(Debug, Clone)]
pub struct DataDir {
    path: PathBuf,
}

impl DataDir {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        // Absolute: the server resolves a relative socket directory (-k)
        // against the data directory, not against our working directory.
        let path = std::path::absolute(&path).unwrap_or(path);
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn log(&self) -> PathBuf {
        self.path.join("server.log")
    }

    /// Whether `initdb` has made a cluster here.
    pub fn is_initialised(&self) -> bool {
        self.path.join("PG_VERSION").is_file()
    }

    /// Creates the directory and a cluster in it (user `postgres`, trust
    /// authentication, UTF-8). The parent must be reachable by the server's
    /// user.
    pub fn init(&self, durability: Durability) -> Result<(), String> {
        std::fs::create_dir_all(&self.path)
            .map_err(|e| format!("cannot create {}: {e}", self.path.display()))?;
        if running_as_root() {
            run(
                Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(&self.path),
                "chown",
            )?;
        }
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot chmod {}: {e}", self.path.display()))?;
        let mut initdb = server_command("initdb");
        initdb.args(["--auth=trust", "--username=postgres", "--encoding=UTF8"]);
        if durability == Durability::Throwaway {
            initdb.arg("--no-sync");
        }
        run(initdb.arg("-D").arg(&self.path), "initdb").map(drop)
    }

    /// Starts the server on 127.0.0.1:`port` and waits until it accepts
    /// connections. `settings` (`name=value`) come last, so they override.
    pub fn start(
        &self,
        port: u16,
        durability: Durability,
        settings: &[String],
    ) -> Result<(), String> {
        self.try_start(port, durability, settings)
            .map_err(|failed| failed.message)
    }

    /// Starts the server on a port [`free_port`] picks, and on another while
    /// the one picked turns out to be taken by the time the server binds it
    /// (Postgres binds its port itself, so the race cannot be closed, only
    /// retried). Returns the port.
    pub fn start_on_a_free_port(
        &self,
        durability: Durability,
        settings: &[String],
    ) -> Result<u16, String> {
        let mut failure = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            match self.try_start(port, durability, settings) {
                Ok(()) => return Ok(port),
                Err(failed) if failed.port_taken => failure = failed.message,
                Err(failed) => return Err(failed.message),
            }
        }
        Err(failure)
    }

    fn try_start(
        &self,
        port: u16,
        durability: Durability,
        settings: &[String],
    ) -> Result<(), StartFailed> {
        let log_before = std::fs::metadata(self.log()).map_or(0, |m| m.len());
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -c lc_messages=C -p {port} -k {}",
            shell_quote(&self.path.to_string_lossy())
        );
        if durability == Durability::Throwaway {
            // Room for the many pools the parallel tests open.
            options.push_str(" -c max_connections=300 -c fsync=off -c full_page_writes=off");
        }
        for setting in settings {
            write!(options, " -c {}", shell_quote(setting)).unwrap();
        }
        run(
            server_command("pg_ctl")
                .args(["start", "--wait", "--silent", "-D"])
                .arg(&self.path)
                .arg("-l")
                .arg(self.log())
                .args(["-o", &options]),
            "pg_ctl start",
        )
        .map(drop)
        .map_err(|e| {
            let port_taken = self.log_since(log_before).contains(PORT_TAKEN);
            let taken = if port_taken {
                format!("port {port} is taken: ")
            } else {
                String::new()
            };
            StartFailed {
                port_taken,
                message: format!("{taken}{e}\n(see {})", self.log().display()),
            }
        })
    }

    /// What the server wrote to its log after byte `offset`.
    fn log_since(&self, offset: u64) -> String {
        let log = std::fs::read(self.log()).unwrap_or_default();
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(log.len());
        String::from_utf8_lossy(&log[start..]).into_owned()
    }

    pub fn stop(&self, mode: StopMode) -> Result<(), String> {
        let mode = match mode {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        };
        run(
            server_command("pg_ctl")
                .args(["stop", "--wait", "--silent", "-m", mode, "-D"])
                .arg(&self.path),
            "pg_ctl stop",
        )
        .map(drop)
    }

    /// The port of the running server, or `None` when none runs here.
    pub fn running_port(&self) -> Option<u16> {
        // `pg_ctl status` also notices a postmaster.pid left by a killed server.
        server_command("pg_ctl")
            .args(["status", "-D"])
            .arg(&self.path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()
            .filter(|s| s.success())?;
        // postmaster.pid: pid, data directory, start time, port, ...
        let pid_file = std::fs::read_to_string(self.path.join("postmaster.pid")).ok()?;
        pid_file.lines().nth(3)?.trim().parse().ok()
    }

    /// Stops the server (immediately) once process `pid` is gone, and then
    /// deletes `remove` if given: the cluster of a test process that dies
    /// without dropping it, or of a script that is killed, does not outlive
    /// it.
    pub fn stop_with(&self, pid: u32, remove: Option<&Path>) {
        let pg_ctl = if running_as_root() {
            "runuser -u postgres -- pg_ctl"
        } else {
            "pg_ctl"
        };
        let mut script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             {pg_ctl} stop -m immediate -D {} >/dev/null 2>&1",
            shell_quote(&self.path.to_string_lossy()),
        );
        if let Some(dir) = remove {
            write!(script, "; rm -rf {}", shell_quote(&dir.to_string_lossy())).unwrap();
        }
        let _ = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: a Ctrl-C in the terminal, meant for
            // the watched process, must not end the watchdog first.
            .process_group(0)
            .spawn();
    }
}

/// `postgres://` URL of `database` on a server on this port.
pub fn url(port: u16, database: &str) -> String {
    format!("postgres://postgres@127.0.0.1:{port}/{database}")
}

/// Runs one SQL command through psql; returns its unaligned output.
pub fn psql(url: &str, sql: &str) -> Result<String, String> {
    run(
        Command::new("psql")
            .args([
                "--quiet",
                "--no-psqlrc",
                "--tuples-only",
                "--no-align",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ])
            .arg(url),
        "psql",
    )
}

/// A PostgreSQL server in a temporary directory, on a free loopback port,
/// trusting local connections, not durable. Stopped and deleted when dropped;
/// a watchdog also stops it if the test process dies without dropping it
/// (statics).
pub struct PgCluster {
    /// Deleted (after the server stops) when the cluster is dropped.
    _dir: TempDir,
    data: DataDir,
    port: u16,
    /// Serialises stop/start of this cluster.
    lifecycle: Mutex<()>,
}

impl PgCluster {
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("mth-pg-")
            .tempdir()
            .expect("temp dir");
        if running_as_root() {
            // The server's user must reach the data directory inside.
            must(run(
                Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(dir.path()),
                "chown",
            ));
        }
        let data = DataDir::new(dir.path().join("data"));
        must(data.init(Durability::Throwaway));
        let port = must(data.start_on_a_free_port(Durability::Throwaway, &[]));
        data.stop_with(std::process::id(), Some(dir.path()));
        Self {
            _dir: dir,
            data,
            port,
            lifecycle: Mutex::new(()),
        }
    }

    /// Stops the server (immediately, as a crash would look to clients).
    pub fn stop(&self) {
        let _guard = self.lifecycle.lock().unwrap();
        must(self.data.stop(StopMode::Immediate));
    }

    /// Starts a stopped server again, on the same port (its clients know
    /// no other). Should a process have taken the port meanwhile, this
    /// waits for it to let go, and fails after [`PORT_ATTEMPTS`] tries.
    pub fn restart(&self) {
        let _guard = self.lifecycle.lock().unwrap();
        let mut attempts = 0;
        loop {
            match self.data.try_start(self.port, Durability::Throwaway, &[]) {
                Ok(()) => return,
                Err(failed) if failed.port_taken && attempts < PORT_ATTEMPTS => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(250));
                }
                Err(failed) => panic!("{}", failed.message),
            }
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's log file.
    pub fn log(&self) -> PathBuf {
        self.data.log()
    }

    /// `host:port`, as `allowed_outbound_hosts` wants it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self, database: &str) -> String {
        url(self.port, database)
    }

    /// Runs one SQL command through psql.
    pub fn psql(&self, database: &str, sql: &str) {
        must(psql(&self.url(database), sql));
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
        let _ = self.data.stop(StopMode::Immediate);
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
    must(run(
        Command::new("sh")
            .arg(repo_root().join("migrations/migrate.sh"))
            .arg(url),
        "migrations/migrate.sh",
    ));
}
