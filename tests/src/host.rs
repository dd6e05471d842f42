//! Which engine runs the app under test: the project's runner, in-process,
//! or a real Spin engine as a child process — `spin up`, or SpinKube's own
//! (containerd + containerd-shim-spin, through `spinkube-node`, which takes
//! `spin up`'s arguments).
//!
//! The choice comes from the environment, so the same suite runs under each:
//! - `MTH_TEST_HOST=runner`: the runner, even when a Spin is available;
//! - `MTH_TEST_HOST=spin`: `$SPIN_BIN`, else `spin` on the `PATH` (a test
//!   fails when there is neither);
//! - `MTH_TEST_HOST=spinkube`: `$SPINKUBE_BIN` (a test fails without it);
//! - unset: `$SPIN_BIN` when set, else the runner.

use std::fs::File;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pg_harness::{free_port, repo_root};

/// The engine the tests run the app in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Runner,
    /// A Spin engine, run as a child process.
    Spin(SpinCli),
}

/// A command that runs the app as `spin up` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpinCli {
    pub path: PathBuf,
    pub engine: Engine,
}

/// Which Spin engine a [`SpinCli`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// `spin up` (the Spin CLI developers run).
    SpinUp,
    /// SpinKube's node: containerd-shim-spin, what production runs.
    SpinKube,
}

impl SpinCli {
    fn spin_up(path: PathBuf) -> Self {
        Self {
            path,
            engine: Engine::SpinUp,
        }
    }
}

impl Host {
    /// The host the environment asks for (see the module docs).
    pub fn from_env() -> Self {
        let spin_bin = spin_bin();
        match std::env::var("MTH_TEST_HOST").as_deref() {
            Ok("runner") => Host::Runner,
            Ok("spin") => Host::Spin(SpinCli::spin_up(
                spin_bin.or_else(|| find_on_path("spin")).expect(
                    "MTH_TEST_HOST=spin, but SPIN_BIN is unset and no `spin` is on the PATH",
                ),
            )),
            Ok("spinkube") => Host::Spin(
                Self::available_spinkube()
                    .expect("MTH_TEST_HOST=spinkube, but SPINKUBE_BIN is unset"),
            ),
            Ok(other) if !other.is_empty() => {
                panic!("MTH_TEST_HOST={other}: expected `runner`, `spin` or `spinkube`")
            }
            _ => spin_bin.map_or(Host::Runner, |path| Host::Spin(SpinCli::spin_up(path))),
        }
    }

    /// A real Spin, if one is available (`$SPIN_BIN` or `spin` on the
    /// `PATH`), whatever `MTH_TEST_HOST` says.
    pub fn available_spin() -> Option<SpinCli> {
        spin_bin()
            .or_else(|| find_on_path("spin"))
            .map(SpinCli::spin_up)
    }

    /// SpinKube's engine, if `$SPINKUBE_BIN` names one.
    pub fn available_spinkube() -> Option<SpinCli> {
        Some(SpinCli {
            path: path_var("SPINKUBE_BIN")?,
            engine: Engine::SpinKube,
        })
    }
}

/// `$SPIN_BIN`.
fn spin_bin() -> Option<PathBuf> {
    path_var("SPIN_BIN")
}

/// A path from the environment; a relative one is taken from the repository
/// root (cargo runs tests in the package directory).
fn path_var(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os(name).filter(|s| !s.is_empty())?);
    Some(if path.is_relative() && path.components().count() > 1 {
        repo_root().join(path)
    } else {
        path
    })
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Starts containerd once per test process, outside every app's process
/// group (scripts/lib.sh `ensure_containerd`): SpinKube's node would start
/// it inside its own group, which [`SpinProcess::stop`] kills, taking
/// containerd away from every other app of the run.
fn ensure_containerd() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        let status = Command::new("bash")
            .args(["-c", ". scripts/lib.sh && ensure_containerd"])
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .expect("bash runs scripts/lib.sh");
        assert!(status.success(), "containerd could not be started");
    });
}

/// `spin up -f <repo>/spin.toml` on a free port, in its own process group,
/// stopped (with everything it started) when dropped.
pub struct SpinProcess {
    child: Child,
    engine: Engine,
    addr: SocketAddr,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

/// What containerd says when the shim's container runtime (youki's
/// libcontainer) loses the order of its start-up handshake on a loaded
/// machine (`received unexpected message: InitReady, expected:
/// IntermediateReady(0)`): the container never started, and a kubelet
/// would simply create it again.
const SHIM_TASK_NOT_CREATED: &str = "failed to create shim task";

impl SpinProcess {
    /// Starts Spin with these `--variable`s and waits until it is healthy.
    /// SpinKube's node is given a second try when containerd could not
    /// create the container at all ([`SHIM_TASK_NOT_CREATED`]), as a
    /// kubelet would; anything else fails at once.
    pub async fn start(spin: &SpinCli, variables: &[(String, String)]) -> Self {
        match Self::try_start(spin, variables).await {
            Ok(process) => process,
            Err(log) if spin.engine == Engine::SpinKube && log.contains(SHIM_TASK_NOT_CREATED) => {
                eprintln!(
                    "containerd could not create the app's container; trying once more:\n{log}"
                );
                Self::try_start(spin, variables)
                    .await
                    .unwrap_or_else(|log| panic!("spin up exited before serving:\n{log}"))
            }
            Err(log) => panic!("spin up exited before serving:\n{log}"),
        }
    }

    /// One start: the process once healthy, or its log if it exited first.
    async fn try_start(spin: &SpinCli, variables: &[(String, String)]) -> Result<Self, String> {
        let log_dir = tempfile::Builder::new()
            .prefix("mth-spin-")
            .tempdir()
            .expect("a temporary directory");
        let log = log_dir.path().join("spin.log");
        let out = File::create(&log).expect("the Spin log file");
        // `spin up` binds a port of its own choosing and says which, so no
        // other process can take it between a choice and the bind. SpinKube's
        // node hands the address to the shim inside a container and echoes
        // it before the bind, so it gets a port that is free now (chosen
        // below the ephemeral range, see `free_port`).
        let listen = match spin.engine {
            Engine::SpinUp => SocketAddr::from(([127, 0, 0, 1], 0)),
            Engine::SpinKube => SocketAddr::from(([127, 0, 0, 1], free_port())),
        };
        if spin.engine == Engine::SpinKube {
            ensure_containerd();
        }

        let mut cmd = Command::new(&spin.path);
        cmd.arg("up")
            .arg("-f")
            .arg(repo_root().join("spin.toml"))
            .arg("--listen")
            .arg(listen.to_string())
            // Component stdio goes here too, not into the repo's .spin/.
            .arg("--log-dir")
            .arg(log_dir.path().join("components"));
        if spin.engine == Engine::SpinUp {
            // No state directory: the `default` key-value store (the change
            // feed's shared tail, a cache) stays in memory, as in SpinKube's
            // shim, which has none; by default `spin up` keeps it in an
            // SQLite file under the repo's .spin/ and syncs it at each write.
            cmd.arg("--state-dir").arg("");
        }
        for (name, value) in variables {
            cmd.arg("--variable").arg(format!("{name}={value}"));
        }
        // A clean environment: no SPIN_VARIABLE_* (or anything else) of the
        // developer's shell. Only what Spin needs to run, and the backtrace
        // switch, which shapes the error texts the components see.
        cmd.env_clear();
        for keep in [
            "PATH",
            "HOME",
            "XDG_CACHE_HOME",
            "RUST_BACKTRACE",
            "RUST_LIB_BACKTRACE",
        ] {
            if let Some(v) = std::env::var_os(keep) {
                cmd.env(keep, v);
            }
        }
        // `spin up` unpacks the app into a `spinup-*` directory of TMPDIR,
        // which it removes only when it exits on its own; [`Self::stop`]
        // kills it. Inside the log directory, it goes when this does.
        let tmp = log_dir.path().join("tmp");
        std::fs::create_dir(&tmp).expect("Spin's temporary directory");
        cmd.env("TMPDIR", &tmp);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log file handle"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", spin.path.display()));
        let mut process = Self {
            child,
            engine: spin.engine,
            addr: listen,
            log,
            _log_dir: log_dir,
        };
        process.wait_healthy().await?;
        Ok(process)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The engine's process id (for measurements of its memory).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the address Spin serves on (its `Serving http://…` line,
    /// when it chose the port), then polls its health endpoint; compiling the
    /// components takes a few seconds on a busy machine. `Err`: it exited
    /// first, with this log.
    async fn wait_healthy(&mut self) -> Result<(), String> {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("({status})\n{}", self.log_text()));
            }
            if self.addr.port() == 0 {
                if let Some(addr) = serving_addr(&self.log_text()) {
                    self.addr = addr;
                }
            } else if let Ok(r) = client
                .get(format!("http://{}/.well-known/spin/health", self.addr))
                .send()
                .await
                && r.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                panic!(
                    "spin up did not become healthy within 180 s:\n{}",
                    self.log_text()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops Spin and every process it started (`spin up` runs the app in
    /// a `spin trigger http` child). SpinKube's node is asked first: on
    /// SIGTERM it removes its container, which a kill would leave running
    /// (the shim outlives `ctr run`).
    pub fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            if self.engine == Engine::SpinKube {
                let pid = self.child.id().to_string();
                let _ = Command::new("kill")
                    .args(["-TERM", &pid])
                    .stderr(Stdio::null())
                    .status();
                let deadline = Instant::now() + Duration::from_secs(30);
                while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            let group = format!("-{}", self.child.id());
            // (Nothing may be left of the group: that is fine.)
            let _ = Command::new("kill")
                .args(["-KILL", "--", &group])
                .stderr(Stdio::null())
                .status();
            let _ = self.child.wait();
        }
    }
}

impl Drop for SpinProcess {
    fn drop(&mut self) {
        self.stop();
        // A failing test shows what Spin and the components printed.
        if std::thread::panicking() {
            eprintln!(
                "--- spin up output ({}) ---\n{}",
                self.log.display(),
                self.log_text()
            );
        }
    }
}

/// The address in Spin's `Serving http://127.0.0.1:37517` line.
fn serving_addr(log: &str) -> Option<SocketAddr> {
    let rest = &log[log.find("Serving http://")? + "Serving http://".len()..];
    rest.split_whitespace()
        .next()?
        .trim_end_matches('/')
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_address_spin_serves_on() {
        let log = "Logging component stdio to \"/tmp/x\"\n\nServing http://127.0.0.1:37517\nAvailable Routes:\n";
        assert_eq!(serving_addr(log), Some(([127, 0, 0, 1], 37517).into()));
        assert_eq!(serving_addr("Serving http://"), None);
        assert_eq!(serving_addr("starting"), None);
    }
}
