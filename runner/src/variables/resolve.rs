//! Application variables and `{{ name }}` templates, resolved as Spin does:
//! `--variable` values, then `SPIN_VARIABLE_<NAME>` environment variables,
//! then the manifest default. Everything is resolved once, at start-up.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result, anyhow, bail};

use crate::manifest::VariableDef;

/// One component's resolved `[component.x.variables]`, fixed at start-up.
pub struct ComponentVariables {
    pub(super) id: String,
    pub(super) values: HashMap<String, String>,
}

/// Resolved application variables. Secret values are kept out of `Debug`.
pub struct AppVariables {
    values: HashMap<String, String>,
}

impl std::fmt::Debug for AppVariables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.values.keys().collect();
        names.sort();
        f.debug_struct("AppVariables")
            .field("names", &names)
            .finish()
    }
}

impl AppVariables {
    pub fn resolve(
        defs: &BTreeMap<String, VariableDef>,
        cli: &[(String, String)],
        env: &HashMap<String, String>,
    ) -> Result<Self> {
        for (name, _) in cli {
            if !defs.contains_key(name) {
                eprintln!("warning: --variable {name} is not declared in [variables]; ignored");
            }
        }
        let mut values = HashMap::new();
        for (name, def) in defs {
            validate_name(name)
                .map_err(|reason| anyhow!("invalid variable name in [variables]: {reason}"))?;
            if def.required && def.default.is_some() {
                bail!("variable '{name}' is both required and has a default");
            }
            let env_key = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
            let value = cli
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .or_else(|| env.get(&env_key).cloned())
                .or_else(|| def.default.clone());
            match value {
                Some(v) => {
                    values.insert(name.clone(), v);
                }
                None => bail!(
                    "required variable '{name}' has no value: pass `--variable {name}=...` or set {env_key}"
                ),
            }
        }
        Ok(Self { values })
    }

    /// Expands a template; unknown names are an error (as in Spin, where
    /// templates are validated when the app is loaded).
    pub fn expand(&self, template: &str) -> Result<String> {
        let mut out = String::with_capacity(template.len());
        for part in parse_template(template)? {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Expr(name) => {
                    let value = self.values.get(name).ok_or_else(|| {
                        anyhow!("template {template:?} refers to unknown variable '{name}'")
                    })?;
                    out.push_str(value);
                }
            }
        }
        Ok(out)
    }

    /// Expands the `[component.<id>.variables]` templates. Spin checks them
    /// for every component, routed or not, when it loads the manifest.
    pub fn component(
        &self,
        id: &str,
        templates: &BTreeMap<String, String>,
    ) -> Result<ComponentVariables> {
        let mut values = HashMap::new();
        for (name, template) in templates {
            validate_name(name)
                .map_err(|reason| anyhow!("component '{id}': invalid variable name {reason}"))?;
            let value = self
                .expand(template)
                .with_context(|| format!("component '{id}', variable '{name}'"))?;
            values.insert(name.clone(), value);
        }
        Ok(ComponentVariables {
            id: id.to_string(),
            values,
        })
    }
}

#[derive(Debug, PartialEq)]
pub enum Part<'a> {
    Lit(&'a str),
    Expr(&'a str),
}

pub fn parse_template(template: &str) -> Result<Vec<Part<'_>>> {
    let mut parts = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("{{") {
            let (expr, tail) = after
                .split_once("}}")
                .ok_or_else(|| anyhow!("unmatched '{{{{' in template {template:?}"))?;
            parts.push(Part::Expr(expr.trim()));
            rest = tail;
        } else {
            let end = rest.find("{{").unwrap_or(rest.len());
            parts.push(Part::Lit(&rest[..end]));
            rest = &rest[end..];
        }
    }
    Ok(parts)
}

/// Spin's variable-name rule; the error text mirrors Spin's so guests see the
/// same `invalid-name` message.
pub fn validate_name(key: &str) -> std::result::Result<(), String> {
    let reason = if key.is_empty() {
        Some("must not be empty".to_string())
    } else if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        Some(format!(
            "invalid character {c:?}. Variable names may contain only lower-case letters, numbers, and underscores."
        ))
    } else if !key.as_bytes()[0].is_ascii_lowercase() {
        Some("must start with a lowercase ASCII letter".to_string())
    } else if !key.as_bytes()[key.len() - 1].is_ascii_alphanumeric() {
        Some("must end with a lowercase ASCII letter or digit".to_string())
    } else if key.contains("__") {
        Some("must not contain multiple consecutive underscores".to_string())
    } else {
        None
    };
    match reason {
        Some(r) => Err(format!("{key:?}: {r}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defs() -> BTreeMap<String, VariableDef> {
        let mut d = BTreeMap::new();
        d.insert(
            "with_default".into(),
            VariableDef {
                default: Some("dflt".into()),
                required: false,
                secret: false,
                description: None,
            },
        );
        d.insert(
            "needed".into(),
            VariableDef {
                default: None,
                required: true,
                secret: true,
                description: None,
            },
        );
        d
    }

    #[test]
    fn precedence_flag_env_default() {
        let env = HashMap::from([
            ("SPIN_VARIABLE_NEEDED".to_string(), "from-env".to_string()),
            ("SPIN_VARIABLE_WITH_DEFAULT".to_string(), "env2".to_string()),
        ]);
        let v = AppVariables::resolve(&defs(), &[], &env).unwrap();
        assert_eq!(v.expand("{{ needed }}").unwrap(), "from-env");
        assert_eq!(v.expand("{{with_default}}").unwrap(), "env2");
        let cli = vec![("needed".to_string(), "flag".to_string())];
        let v = AppVariables::resolve(&defs(), &cli, &env).unwrap();
        assert_eq!(v.expand("a-{{ needed }}-b").unwrap(), "a-flag-b");
        let v = AppVariables::resolve(&defs(), &cli, &HashMap::new()).unwrap();
        assert_eq!(v.expand("{{ with_default }}").unwrap(), "dflt");
    }

    #[test]
    fn missing_required_names_it() {
        let err = AppVariables::resolve(&defs(), &[], &HashMap::new()).unwrap_err();
        assert!(err.to_string().contains("'needed'"), "{err}");
    }

    #[test]
    fn debug_hides_values() {
        let cli = vec![("needed".to_string(), "s3cr3t".to_string())];
        let v = AppVariables::resolve(&defs(), &cli, &HashMap::new()).unwrap();
        assert!(!format!("{v:?}").contains("s3cr3t"));
    }

    #[test]
    fn templates() {
        assert_eq!(
            parse_template("a{{ x }}{{y}}").unwrap(),
            vec![Part::Lit("a"), Part::Expr("x"), Part::Expr("y")]
        );
        assert!(parse_template("{{ x").is_err());
        assert!(validate_name("a_1").is_ok());
        for bad in ["", "aX", "1a", "_a", "a_", "a__b", "a-b"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
