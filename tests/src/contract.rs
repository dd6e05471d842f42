//! The API's contract, docs/openapi.json, as the suites hold the app to it:
//! every answer the harness's [`crate::Client`] receives for a documented
//! operation must have a documented status, content type and required
//! headers, and a body its schema accepts. Paths the document does not
//! describe (the UI's pages and files, unknown paths) are not checked here;
//! that the document describes every route is tests/tests/contract.rs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Validator};
use serde_json::Value;

use pg_harness::repo_root;

/// The base URI under which the document is known to the validator, so
/// that a schema anywhere in it (and its `#/components/...` references)
/// compiles by its JSON pointer.
const BASE: &str = "urn:mth:openapi";

pub struct Contract {
    pub document: Value,
    /// `(method, path template)` of every operation, in document order.
    operations: Vec<(String, String)>,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

/// The contract, read once per test binary.
pub fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let path = repo_root().join("docs/openapi.json");
        let text = std::fs::read_to_string(&path).expect("docs/openapi.json");
        Contract::new(serde_json::from_str(&text).expect("docs/openapi.json is JSON"))
    })
}

/// A JSON pointer's escaping of one key.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The `{…}` values if `path` fits `template` (both without the query).
fn fits(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| {
            if t.starts_with('{') && t.ends_with('}') {
                !p.is_empty()
            } else {
                t == p
            }
        })
}

impl Contract {
    fn new(document: Value) -> Self {
        let mut operations = Vec::new();
        for (path, item) in document["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("a path item").keys() {
                operations.push((method.clone(), path.clone()));
            }
        }
        Self {
            document,
            operations,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// Every `(METHOD, path template)` the document describes.
    pub fn operations(&self) -> impl Iterator<Item = (String, &str)> {
        self.operations
            .iter()
            .map(|(method, path)| (method.to_uppercase(), path.as_str()))
    }

    /// The path template of the operation that serves `method` on `path`
    /// (a request's path, trailing slash ignored as the services do). As
    /// in the components' route tables (`mth_shared::route::find`), a path
    /// belongs to its most specific templates: `/tasks/stats`, not
    /// `/tasks/{id}`, whatever the method.
    pub fn operation(&self, method: &str, path: &str) -> Option<&str> {
        let path = match path.trim_end_matches('/') {
            "" => "/",
            trimmed => trimmed,
        };
        let params = |template: &str| template.matches('{').count();
        let fitting: Vec<&(String, String)> = self
            .operations
            .iter()
            .filter(|(_, template)| fits(template, path))
            .collect();
        let fewest = fitting.iter().map(|(_, t)| params(t)).min()?;
        let method = method.to_ascii_lowercase();
        fitting
            .into_iter()
            .find(|(m, template)| *m == method && params(template) == fewest)
            .map(|(_, template)| template.as_str())
    }

    /// Follows a `$ref` within the document: the object and its pointer.
    fn resolve<'a>(&'a self, value: &'a Value, pointer: String) -> (&'a Value, String) {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let target = reference.strip_prefix('#').expect("a local $ref");
                let value = self.document.pointer(target).expect("a $ref that resolves");
                self.resolve(value, target.to_owned())
            }
            None => (value, pointer),
        }
    }

    /// Checks one answer; `Err` says how it contradicts the document.
    /// `Ok` also for requests the document does not describe.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<(), String> {
        let Some(template) = self.operation(method, path) else {
            return Ok(());
        };
        let what = format!("{method} {path} (operation {method} {template}) answered {status}");
        let op_pointer = format!(
            "/paths/{}/{}",
            escape(template),
            method.to_ascii_lowercase()
        );
        let responses = &self.document.pointer(&op_pointer).expect("the operation")["responses"];
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        let Some(key) = [code.as_str(), range.as_str(), "default"]
            .into_iter()
            .find(|key| responses.get(key).is_some())
        else {
            return Err(format!("{what}, a status the document does not list"));
        };
        let (response, pointer) = self.resolve(
            &responses[key],
            format!("{op_pointer}/responses/{}", escape(key)),
        );

        for (name, header) in response["headers"].as_object().into_iter().flatten() {
            if header["required"] == Value::Bool(true) && !headers.contains_key(name.as_str()) {
                return Err(format!("{what} without the required header {name}"));
            }
        }
        let Some(content) = response["content"].as_object() else {
            return if body.is_empty() || method == "HEAD" {
                Ok(())
            } else {
                Err(format!("{what} with a body; the document says none"))
            };
        };
        if method == "HEAD" {
            return Ok(());
        }
        let media_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .ok_or_else(|| format!("{what} without a Content-Type"))?;
        if !content.contains_key(&media_type) {
            return Err(format!("{what} as {media_type}, not as the document says"));
        }
        if media_type != "application/json" {
            return Ok(());
        }
        let instance: Value = serde_json::from_slice(body)
            .map_err(|e| format!("{what} with a body that is not JSON ({e})"))?;
        let schema_pointer = format!("{pointer}/content/application~1json/schema");
        let validator = self.validator(&schema_pointer);
        let problems: Vec<String> = validator
            .iter_errors(&instance)
            .take(5)
            .map(|e| format!("at {}: {e}", e.instance_path))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{what} with a body its schema ({schema_pointer}) refuses: {}\nbody: {instance}",
                problems.join("; ")
            ))
        }
    }

    /// The compiled schema at `pointer` (compiled once).
    fn validator(&self, pointer: &str) -> Arc<Validator> {
        let mut validators = self.validators.lock().unwrap();
        validators
            .entry(pointer.to_owned())
            .or_insert_with(|| {
                let resource = Draft::Draft202012.create_resource(self.document.clone());
                // A URI fragment: braces (`{id}`) percent-encoded.
                let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
                let schema = serde_json::json!({ "$ref": format!("{BASE}#{fragment}") });
                let validator = jsonschema::options()
                    .with_draft(Draft::Draft202012)
                    .with_resource(BASE, resource)
                    .should_validate_formats(true)
                    .build(&schema)
                    .unwrap_or_else(|e| panic!("the schema at {pointer}: {e}"));
                Arc::new(validator)
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_segments_win_and_trailing_slashes_do_not_count() {
        let c = contract();
        assert_eq!(c.operation("GET", "/tasks/stats"), Some("/tasks/stats"));
        assert_eq!(c.operation("GET", "/tasks/abc/"), Some("/tasks/{id}"));
        assert_eq!(c.operation("GET", "/users/"), Some("/users"));
        assert_eq!(c.operation("GET", "/static/js/app.js"), None);
        assert_eq!(c.operation("PATCH", "/tasks/stats"), None);
    }

    #[test]
    fn answers_that_contradict_the_document_are_refused() {
        let c = contract();
        let json = {
            let mut h = http::HeaderMap::new();
            h.insert("content-type", "application/json".parse().unwrap());
            h
        };
        let user = br#"{"id":"6a1f2b8e-0c3d-4e5f-8a9b-1c2d3e4f5a6b","email":"a@b.c","full_name":"A","role":"r","access":"member","active":true,"created_at":"2026-11-25T09:30:00Z"}"#;
        assert_eq!(c.check("GET", "/users/x", 200, &json, user), Ok(()));
        let unknown_field = br#"{"id":"6a1f2b8e-0c3d-4e5f-8a9b-1c2d3e4f5a6b","email":"a@b.c","full_name":"A","role":"r","access":"member","active":true,"created_at":"2026-11-25T09:30:00Z","password_hash":"x"}"#;
        assert!(
            c.check("GET", "/users/x", 200, &json, unknown_field)
                .is_err()
        );
        let bad_access = String::from_utf8_lossy(user).replace("member", "root");
        assert!(
            c.check("GET", "/users/x", 200, &json, bad_access.as_bytes())
                .is_err()
        );
        assert!(
            c.check("GET", "/users/x", 418, &json, b"{}").is_err(),
            "undocumented status"
        );
        assert!(
            c.check("GET", "/users", 200, &json, b"[]").is_err(),
            "no X-Total-Count"
        );
        let problem = br#"{"detail":"No user with id x."}"#;
        assert_eq!(c.check("GET", "/users/x", 404, &json, problem), Ok(()));
        assert!(
            c.check("GET", "/users/x", 404, &json, b"{\"error\":\"x\"}")
                .is_err()
        );
        assert!(
            c.check("GET", "/users/x", 422, &json, problem).is_err(),
            "422 needs errors"
        );
        assert!(
            c.check("DELETE", "/tasks/x", 204, &json, b"{}").is_err(),
            "204 has no body"
        );
    }
}
