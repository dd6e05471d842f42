//! The tests run the compiled components (`.wasm`, the `source`s of
//! spin.toml), which `cargo test` does not build. So that nobody tests
//! stale ones, before the first app of a test process starts, each `.wasm`
//! is compared with what it was built from: the repository's files its
//! last build read (cargo's dep-info file beside it, `<name>.d`: the
//! component's crate and every crate of ours it uses), their crates'
//! `Cargo.toml`, and the workspace's `Cargo.toml` and `Cargo.lock`. If any
//! is newer (or the `.wasm` or its dep-info is missing), the components are
//! built the project's one way (`build_components` in scripts/lib.sh), and
//! a failed build fails the tests with its output.
//!
//! `cargo test` holds no build lock while the tests run, so that build
//! waits only for other cargo commands working on the same target
//! directory, never for the `cargo test` that runs it.
//!
//! Like cargo's own, the rule compares modification times: a source put
//! back with an *older* time (`mv` of a backup) goes unnoticed by both.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::SystemTime;

use pg_harness::repo_root;

/// One component of spin.toml: its compiled `.wasm`.
#[derive(Debug)]
pub struct Component {
    pub id: String,
    pub wasm: PathBuf,
}

impl Component {
    /// Cargo's dep-info file of the `.wasm`: what its last build read.
    pub fn dep_info(&self) -> PathBuf {
        self.wasm.with_extension("d")
    }
}

/// The components of `<root>/spin.toml`.
pub fn components(root: &Path) -> Vec<Component> {
    let manifest = std::fs::read_to_string(root.join("spin.toml")).expect("spin.toml");
    let manifest: toml::Table = manifest.parse().expect("spin.toml is TOML");
    let components = manifest["component"].as_table().expect("[component.*]");
    components
        .iter()
        .map(|(id, component)| Component {
            id: id.clone(),
            wasm: root.join(component["source"].as_str().expect("a source path")),
        })
        .collect()
}

/// What a `.wasm` was built from, by its dep-info file: the files under
/// `root` that the build read, the `Cargo.toml` of each of their crates,
/// and the workspace's `Cargo.toml` and `Cargo.lock`. `None` without a
/// dep-info file.
pub fn built_from(dep_info: &Path, root: &Path) -> Option<Vec<PathBuf>> {
    let text = std::fs::read_to_string(dep_info).ok()?;
    // `target: dep dep …` (spaces in paths escaped as `\ `).
    let (_, deps) = text.lines().next()?.split_once(": ")?;
    let deps = deps.replace("\\ ", "\u{0}");
    let mut sources = BTreeSet::from([root.join("Cargo.toml"), root.join("Cargo.lock")]);
    for dep in deps
        .split_whitespace()
        .map(|d| PathBuf::from(d.replace('\u{0}', " ")))
    {
        if !dep.starts_with(root) || dep.starts_with(root.join("target")) {
            continue; // registry crates, generated files
        }
        let manifest = dep
            .ancestors()
            .skip(1)
            .take_while(|dir| dir.starts_with(root))
            .map(|dir| dir.join("Cargo.toml"))
            .find(|manifest| manifest.is_file());
        sources.extend(manifest);
        sources.insert(dep);
    }
    Some(sources.into_iter().collect())
}

/// Why a `.wasm` is stale: missing, never built here (no dep-info), or
/// older than one of its sources (which it names). `None` when it is at
/// least as new as every one.
pub fn staleness(wasm: &Path, sources: Option<&[PathBuf]>) -> Option<String> {
    let Some(built) = modified(wasm) else {
        return Some(format!("{} is missing", wasm.display()));
    };
    let Some(sources) = sources else {
        return Some(format!("{} has no dep-info", wasm.display()));
    };
    let (newest, changed) = sources
        .iter()
        .filter_map(|s| Some((modified(s)?, s)))
        .max()?;
    (newest > built).then(|| format!("{} is older than {}", wasm.display(), changed.display()))
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The stale components, each with why.
fn stale_components(root: &Path) -> Vec<(Component, String)> {
    components(root)
        .into_iter()
        .filter_map(|c| {
            let sources = built_from(&c.dep_info(), root);
            let why = staleness(&c.wasm, sources.as_deref())?;
            Some((c, why))
        })
        .collect()
}

/// Makes sure the components are built from the sources in the tree (see the
/// module docs); once per test process. Panics, saying why, when they are
/// stale and cannot be built.
pub fn ensure_fresh() {
    static FRESH: OnceLock<Result<(), String>> = OnceLock::new();
    let outcome = FRESH.get_or_init(|| {
        let root = repo_root();
        let stale = stale_components(root);
        if stale.is_empty() {
            return Ok(());
        }
        if let Err(failure) = build_components(root) {
            let why: Vec<String> = stale
                .iter()
                .map(|(c, why)| format!("{}: {why}", c.id))
                .collect();
            return Err(format!(
                "stale components ({}), and building them failed:\n{failure}\n\
                 fix the build, then run `make build`",
                why.join("; ")
            ));
        }
        // Cargo found nothing to do for a `.wasm` still older than a file
        // (a change that does not reach it: a host-only dependency in
        // Cargo.lock, say): it is up to date, and marked so, lest every
        // test process ask cargo again.
        for (component, _) in stale_components(root) {
            let _ = File::options()
                .append(true)
                .open(&component.wasm)
                .and_then(|f| f.set_modified(SystemTime::now()));
        }
        Ok(())
    });
    if let Err(message) = outcome {
        panic!("{message}");
    }
}

/// `build_components` of scripts/lib.sh, the one definition of the build.
fn build_components(root: &Path) -> Result<(), String> {
    let out = Command::new("bash")
        .args([
            "-c",
            ". scripts/lib.sh && ensure_rust_target && build_components",
        ])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run bash: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Writes `path` (and its directory) with `text` and modification time `at`.
    fn file_at(path: &Path, text: &str, at: SystemTime) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        File::options()
            .append(true)
            .open(path)
            .unwrap()
            .set_modified(at)
            .unwrap();
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// A repository with a component crate using a library crate, and the
    /// dep-info its build left; returns the root and the `.wasm` path.
    fn repository() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (path, secs) in [
            ("Cargo.toml", 100),
            ("Cargo.lock", 100),
            ("components/app/Cargo.toml", 100),
            ("components/app/src/lib.rs", 1_000),
            ("crates/lib/Cargo.toml", 100),
            ("crates/lib/src/deep/mod.rs", 2_000),
            ("crates/unused/src/lib.rs", 9_000),
        ] {
            file_at(&root.join(path), "", at(secs));
        }
        let wasm = root.join("target/release/app.wasm");
        let deps = ["components/app/src/lib.rs", "crates/lib/src/deep/mod.rs"]
            .map(|p| root.join(p).display().to_string());
        let dep_info = format!(
            "{}: /registry/serde/src/lib.rs {}\n",
            wasm.display(),
            deps.join(" ")
        );
        file_at(&wasm.with_extension("d"), &dep_info, at(2_000));
        (dir, wasm)
    }

    #[test]
    fn a_wasm_is_built_from_the_files_its_dep_info_names_and_their_manifests() {
        let (dir, wasm) = repository();
        let root = dir.path();
        let sources = built_from(&wasm.with_extension("d"), root).unwrap();
        let relative: Vec<_> = sources
            .iter()
            .map(|s| s.strip_prefix(root).unwrap().to_str().unwrap())
            .collect();
        assert_eq!(
            relative,
            [
                "Cargo.lock",
                "Cargo.toml",
                "components/app/Cargo.toml",
                "components/app/src/lib.rs",
                "crates/lib/Cargo.toml",
                "crates/lib/src/deep/mod.rs",
            ]
        );
        assert_eq!(built_from(&root.join("none.d"), root), None);
    }

    #[test]
    fn a_wasm_is_stale_when_missing_unknown_or_older_than_a_source() {
        let (dir, wasm) = repository();
        let root = dir.path();
        let stale = |wasm: &Path| {
            let sources = built_from(&wasm.with_extension("d"), root);
            staleness(wasm, sources.as_deref())
        };
        assert!(stale(&wasm).unwrap().ends_with("app.wasm is missing"));

        file_at(&wasm, "", at(1_999));
        let older = stale(&wasm).unwrap();
        assert!(older.ends_with("crates/lib/src/deep/mod.rs"), "{older}");

        file_at(&wasm, "", at(2_000));
        assert_eq!(stale(&wasm), None, "a crate it does not use changed");
        file_at(&root.join("Cargo.lock"), "", at(2_001));
        assert!(stale(&wasm).unwrap().ends_with("Cargo.lock"));

        std::fs::remove_file(wasm.with_extension("d")).unwrap();
        assert!(stale(&wasm).unwrap().ends_with("has no dep-info"));
    }

    #[test]
    fn every_component_of_spin_toml_is_checked() {
        let components = components(repo_root());
        let ids: Vec<&str> = components.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["frontend", "task-service", "user-service"]);
        for component in &components {
            assert!(component.wasm.to_string_lossy().ends_with(".wasm"));
        }
    }
}
