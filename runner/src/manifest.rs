//! `spin.toml` (manifest version 2), limited to what the runner implements.
//!
//! Every struct denies unknown fields: a manifest feature the runner does not
//! implement must stop start-up with the field's name, never be ignored
//! (an app that "works" here must also work under `spin up`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub spin_manifest_version: u32,
    pub application: Application,
    #[serde(default)]
    pub variables: BTreeMap<String, VariableDef>,
    #[serde(default)]
    pub trigger: Triggers,
    #[serde(default)]
    pub component: BTreeMap<String, ComponentDef>,
}

/// `description` and `authors` are accepted, as Spin does, but not used.
#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub name: String,
    pub version: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub authors: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableDef {
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    /// The runner never prints any variable value, secret or not.
    #[serde(default)]
    #[allow(dead_code)]
    pub secret: bool,
    #[allow(dead_code)]
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTrigger {
    #[allow(dead_code)]
    pub id: Option<String>,
    pub route: RouteDef,
    pub component: String,
}

/// `route = "/path"` or `route = { private = true }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RouteDef {
    Path(String),
    Private(PrivateRoute),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateRoute {
    pub private: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentDef {
    pub source: String,
    pub description: Option<String>,
    #[serde(default)]
    pub files: Vec<FileMount>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    pub build: Option<BuildDef>,
}

/// `files` entries: a glob relative to the manifest directory (mounted at the
/// same path in the guest) or an explicit host directory → guest path mapping.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FileMount {
    Pattern(String),
    Mapping(FileMapping),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMapping {
    pub source: String,
    pub destination: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildDef {
    pub command: String,
    pub workdir: Option<String>,
    /// Only meaningful to `spin watch`; accepted so real manifests load.
    #[serde(default)]
    #[allow(dead_code)]
    pub watch: Vec<String>,
}

/// A parsed manifest plus the directory relative paths are resolved against.
#[derive(Debug)]
pub struct LoadedManifest {
    pub manifest: Manifest,
    pub dir: PathBuf,
}

impl LoadedManifest {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        let manifest =
            parse(&text).with_context(|| format!("invalid manifest {}", path.display()))?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let dir = dir
            .canonicalize()
            .with_context(|| format!("cannot resolve manifest directory {}", dir.display()))?;
        Ok(Self { manifest, dir })
    }

    pub fn resolve(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }
}

pub fn parse(text: &str) -> Result<Manifest> {
    let manifest: Manifest = toml::from_str(text)?;
    if manifest.spin_manifest_version != 2 {
        bail!(
            "spin_manifest_version {} is not supported (only 2)",
            manifest.spin_manifest_version
        );
    }
    for trigger in &manifest.trigger.http {
        if !manifest.component.contains_key(&trigger.component) {
            bail!(
                "trigger for route {} refers to component '{}', which is not defined",
                trigger.route_display(),
                trigger.component
            );
        }
        if let RouteDef::Private(PrivateRoute { private: false }) = trigger.route {
            // Same rule and wording as Spin's router.
            bail!(
                "route must be a string pattern or '{{ private = true }}': component '{}' has {{ private = false }}",
                trigger.component
            );
        }
    }
    for (id, component) in &manifest.component {
        validate_component_id(id)?;
        if component.source.contains("://") {
            bail!("component '{id}': only local .wasm `source` paths are supported");
        }
    }
    Ok(manifest)
}

impl HttpTrigger {
    pub fn route_display(&self) -> String {
        match &self.route {
            RouteDef::Path(p) => p.clone(),
            RouteDef::Private(_) => "{ private = true }".into(),
        }
    }
}

/// Spin's rule: kebab-case words of lowercase letters and digits.
fn validate_component_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.split('-').all(|word| {
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && id.starts_with(|c: char| c.is_ascii_lowercase());
    if !ok {
        bail!("component id '{id}' must be kebab-case (lowercase letters, digits and '-')");
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One app, one component `a` on `/...`; other modules' tests extend it.
    pub(crate) const MINIMAL: &str = r#"
spin_manifest_version = 2
[application]
name = "t"
[[trigger.http]]
route = "/..."
component = "a"
[component.a]
source = "a.wasm"
"#;

    #[test]
    fn loads_minimal() {
        let m = parse(MINIMAL).unwrap();
        assert_eq!(m.trigger.http.len(), 1);
    }

    #[test]
    fn unknown_component_field_is_named() {
        let text = format!("{MINIMAL}sqlite_databases = [\"default\"]\n");
        let err = format!("{:#}", parse(&text).unwrap_err());
        assert!(err.contains("sqlite_databases"), "{err}");
    }

    #[test]
    fn unknown_trigger_type_is_named() {
        let text = format!("{MINIMAL}[[trigger.redis]]\ncomponent = \"a\"\n");
        let err = format!("{:#}", parse(&text).unwrap_err());
        assert!(err.contains("redis"), "{err}");
    }

    #[test]
    fn private_false_is_rejected() {
        let text = MINIMAL.replace("route = \"/...\"", "route = { private = false }");
        let err = format!("{:#}", parse(&text).unwrap_err());
        assert!(err.contains("private = false"), "{err}");
    }

    #[test]
    fn real_manifest_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spin.toml");
        if path.exists() {
            LoadedManifest::load(&path).unwrap();
        }
    }
}
