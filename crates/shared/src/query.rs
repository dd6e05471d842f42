//! Query strings: known parameters only, and the shared pagination rules.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::{ApiError, FieldError};

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 500;

/// Decoded query parameters: each name at most once, but for the lists a
/// route names, which may repeat (`?label=a&label=b`).
#[derive(Debug, Default)]
pub struct Query {
    params: BTreeMap<String, String>,
    lists: BTreeMap<String, Vec<String>>,
}

impl Query {
    /// Parses `query` and refuses names not in `allowed` (a typo would
    /// otherwise silently return unfiltered data) and repeated names.
    pub fn parse(query: &str, allowed: &[&str]) -> Result<Self, ApiError> {
        Self::parse_with_lists(query, allowed, &[])
    }

    /// [`Query::parse`], where the names in `lists` (also `allowed`) may be
    /// given more than once, each time with one value or several separated
    /// by commas (read with [`Query::uuids`]).
    pub fn parse_with_lists(
        query: &str,
        allowed: &[&str],
        lists: &[&str],
    ) -> Result<Self, ApiError> {
        let mut parsed = Self::default();
        let mut errors = Vec::new();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if !allowed.contains(&name.as_ref()) {
                errors.push(FieldError::new(
                    name.as_ref(),
                    "is not a known query parameter",
                ));
            } else if lists.contains(&name.as_ref()) {
                let list = parsed.lists.entry(name.to_string()).or_default();
                list.extend(value.split(',').map(str::to_owned));
            } else if parsed
                .params
                .insert(name.to_string(), value.to_string())
                .is_some()
            {
                errors.push(FieldError::new(name.as_ref(), "is given more than once"));
            }
        }
        if errors.is_empty() {
            Ok(parsed)
        } else {
            Err(ApiError::validation(errors))
        }
    }

    /// The UUIDs of a list parameter, each once, in the order given; `None`
    /// when it is absent. An empty item (`?label=` or `a,,b`) is refused.
    pub fn uuids(&self, name: &str) -> Result<Option<Vec<Uuid>>, ApiError> {
        let Some(values) = self.lists.get(name) else {
            return Ok(None);
        };
        let mut ids = Vec::new();
        for value in values {
            let id = Uuid::try_parse(value).map_err(|_| {
                ApiError::invalid(name, "must be UUIDs, repeated or separated by commas")
            })?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(Some(ids))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// A UUID-valued parameter, if given.
    pub fn uuid(&self, name: &str) -> Result<Option<Uuid>, ApiError> {
        self.get(name).map(|v| parse_uuid(name, v)).transpose()
    }

    /// A boolean parameter (`true`/`false`), if given.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::invalid(name, "must be true or false")),
        }
    }

    /// `limit` and `offset`, with the API's defaults and bounds.
    pub fn page(&self) -> Result<Page, ApiError> {
        let mut errors = Vec::new();
        let limit = match self.get("limit") {
            None => DEFAULT_LIMIT,
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    errors.push(FieldError::new(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    ));
                    DEFAULT_LIMIT
                }
            },
        };
        let offset = match self.get("offset") {
            None => 0,
            Some(v) => match v.parse::<i64>() {
                Ok(n) if n >= 0 => n,
                _ => {
                    errors.push(FieldError::new(
                        "offset",
                        "must be a whole number, 0 or more",
                    ));
                    0
                }
            },
        };
        if errors.is_empty() {
            Ok(Page { limit, offset })
        } else {
            Err(ApiError::validation(errors))
        }
    }
}

/// A window onto a list, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

/// Parses an id from a path or query; a malformed one is the client's mistake (422).
pub fn parse_uuid(field: &str, value: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(value).map_err(|_| ApiError::invalid(field, "must be a UUID"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagination_defaults_and_bounds() {
        for (query, limit, offset) in [("", 100, 0), ("limit=500&offset=7", 500, 7)] {
            let q = Query::parse(query, &["limit", "offset"]).unwrap();
            assert_eq!(q.page().unwrap(), Page { limit, offset }, "{query}");
        }
        for bad in ["limit=0", "limit=501", "limit=x", "offset=-1", "offset=1.5"] {
            let q = Query::parse(bad, &["limit", "offset"]).unwrap();
            assert_eq!(q.page().unwrap_err().status, 422, "{bad}");
        }
    }

    #[test]
    fn unknown_and_repeated_parameters_are_refused() {
        assert_eq!(Query::parse("limt=5", &["limit"]).unwrap_err().status, 422);
        assert_eq!(
            Query::parse("limit=1&limit=2", &["limit"])
                .unwrap_err()
                .status,
            422
        );
    }

    #[test]
    fn lists_repeat_or_use_commas_and_hold_only_uuids() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let allowed = ["label", "limit"];
        for query in [
            format!("label={a}&label={b}"),
            format!("label={a},{b}"),
            format!("label={a}%2C{b}&label={a}"),
        ] {
            let q = Query::parse_with_lists(&query, &allowed, &["label"]).unwrap();
            assert_eq!(q.uuids("label").unwrap(), Some(vec![a, b]), "{query}");
        }
        let none = Query::parse_with_lists("limit=1", &allowed, &["label"]).unwrap();
        assert_eq!(none.uuids("label").unwrap(), None);
        for bad in ["label=", "label=x", &format!("label={a},")] {
            let q = Query::parse_with_lists(bad, &allowed, &["label"]).unwrap();
            assert_eq!(q.uuids("label").unwrap_err().status, 422, "{bad}");
        }
        // Other names still come once.
        let twice = Query::parse_with_lists("limit=1&limit=2", &allowed, &["label"]);
        assert_eq!(twice.unwrap_err().status, 422);
    }

    #[test]
    fn decodes_percent_escapes_and_checks_uuids() {
        let q = Query::parse("id=%20x", &["id"]).unwrap();
        assert_eq!(q.get("id"), Some(" x"));
        assert!(q.uuid("id").is_err());
        let id = Uuid::new_v4().to_string();
        let q = Query::parse(&format!("id={id}"), &["id"]).unwrap();
        assert_eq!(q.uuid("id").unwrap().unwrap().to_string(), id);
    }
}
