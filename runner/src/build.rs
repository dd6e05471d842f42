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
