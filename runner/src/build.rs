//! `--build`: each component's `[component.x.build] command`, run in its
//! `workdir` (relative to the manifest directory), like `spin build`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::manifest::LoadedManifest;

pub fn build_all(manifest: &Path) -> Result<()> {
    let loaded = LoadedManifest::load(manifest)?;
    for (id, component) in &loaded.manifest.component {
        let Some(build) = &component.build else {
            println!("Component {id} has no build command");
            continue;
        };
        let dir = match &build.workdir {
            Some(w) => loaded.resolve(w),
            None => loaded.dir.clone(),
        };
        println!("Building component {id} with `{}`", build.command);
        println!("Working directory: {:?}", dir);
        let status = Command::new("sh")
            .arg("-c")
            .arg(&build.command)
            .current_dir(&dir)
            .status()
            .with_context(|| format!("cannot run the build command of component '{id}'"))?;
        if !status.success() {
            bail!("build command for component '{id}' failed ({status})");
        }
    }
    println!("Finished building all Spin components");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::manifest::tests::MINIMAL;

    /// `a` builds in `sub`; `b` has a failing build command.
    const BUILDS: &str = r#"
[component.a.build]
command = "echo built > out.txt"
workdir = "sub"
watch = ["src/**/*.rs"]
[component.b]
source = "b.wasm"
[component.b.build]
command = "exit 3"
"#;

    #[test]
    fn runs_commands_in_their_workdir_and_reports_failure() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let manifest = dir.path().join("spin.toml");
        std::fs::write(&manifest, format!("{MINIMAL}{BUILDS}")).unwrap();
        let err = build_all(&manifest).unwrap_err().to_string();
        assert!(err.contains("'b'"), "{err}");
        let out = std::fs::read_to_string(dir.path().join("sub/out.txt")).unwrap();
        assert_eq!(out.trim(), "built");
    }
}
