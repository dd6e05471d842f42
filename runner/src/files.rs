//! `files` mounts. A `{ source, destination }` directory is preopened
//! read-only at `destination`; glob patterns are copied (keeping their paths
//! relative to the manifest directory) into a staging directory mounted at
//! `/`, which is how Spin presents them.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use crate::manifest::{FileMount, LoadedManifest};

#[derive(Debug, Clone)]
pub struct Mount {
    pub host: PathBuf,
    pub guest: String,
}

pub fn prepare(
    manifest: &LoadedManifest,
    component: &str,
    files: &[FileMount],
) -> Result<(Vec<Mount>, Option<tempfile::TempDir>)> {
    let mut mounts = Vec::new();
    let mut staging: Option<tempfile::TempDir> = None;
    for entry in files {
        match entry {
            FileMount::Mapping(m) => {
                let host = manifest.resolve(&m.source);
                if !host.is_dir() {
                    bail!(
                        "component '{component}': files source '{}' is not a directory",
                        host.display()
                    );
                }
                if !m.destination.starts_with('/') {
                    bail!(
                        "component '{component}': files destination '{}' must be an absolute path",
                        m.destination
                    );
                }
                mounts.push(Mount {
                    host,
                    guest: m.destination.clone(),
                });
            }
            FileMount::Pattern(pattern) => {
                if staging.is_none() {
                    staging = Some(
                        tempfile::Builder::new()
                            .prefix(&format!("runner-files-{component}-"))
                            .tempdir()?,
                    );
                }
                let root = staging.as_ref().expect("just created").path();
                stage_pattern(manifest, component, pattern, root)?;
            }
        }
    }
    if let Some(dir) = &staging {
        mounts.push(Mount {
            host: dir.path().to_path_buf(),
            guest: "/".into(),
        });
    }
    Ok((mounts, staging))
}

/// Preopens the mounts, read-only, in a new instance's WASI context.
pub fn preopen(wasi: &mut WasiCtxBuilder, mounts: &[Mount]) -> Result<()> {
    for mount in mounts {
        wasi.preopened_dir(&mount.host, &mount.guest, FsPerms::ReadOnly)
            .map_err(|e| anyhow!("mounting {}: {e:?}", mount.host.display()))?;
    }
    Ok(())
}

fn stage_pattern(
    manifest: &LoadedManifest,
    component: &str,
    pattern: &str,
    root: &std::path::Path,
) -> Result<()> {
    let base = glob::Pattern::escape(&manifest.dir.to_string_lossy());
    let full = format!("{base}/{}", pattern.trim_start_matches('/'));
    let mut matched = 0;
    for path in glob::glob(&full)
        .with_context(|| format!("component '{component}': bad files pattern {pattern:?}"))?
    {
        let path = path?;
        if !path.is_file() {
            continue;
        }
        let rel = path
            .strip_prefix(&manifest.dir)
            .with_context(|| format!("{} is outside the app directory", path.display()))?;
        let dest = root.join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&path, &dest)
            .with_context(|| format!("copying {} for component '{component}'", path.display()))?;
        matched += 1;
    }
    if matched == 0 {
        eprintln!("warning: component '{component}': files pattern {pattern:?} matched no files");
    }
    Ok(())
}
