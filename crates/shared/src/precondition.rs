//! Optimistic concurrency for versioned resources: `ETag` out, `If-Match` in.
//!
//! A row's `version` moves with every change. Its entity tag is the version
//! in quotes (`"7"`). A client that sends `If-Match` with the tag it saw
//! changes the row only if nobody changed it since; otherwise it gets `412`
//! with the current row, and nothing is lost. The check is part of the
//! writing statement ([`IfMatch::sql_condition`]), so no change can slip
//! between a check and the write. Without `If-Match`, a write applies to
//! whatever is current (last writer wins), as before versions existed.

use spin_sdk::http::Request;
use spin_sdk::pg4::ParameterValue;

use crate::request::header;

/// The entity tag of `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// What a request's `If-Match` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No header, or `*`: whatever is current.
    Any,
    /// One of these versions. Empty when no tag in the header is one of ours
    /// (a weak or malformed tag never matches: RFC 9110 compares strongly).
    Versions(Vec<i64>),
}

impl IfMatch {
    pub fn of(req: &Request) -> Self {
        Self::parse(header(req, "if-match"))
    }

    pub fn parse(value: Option<&str>) -> Self {
        let Some(value) = value else {
            return IfMatch::Any;
        };
        let tags: Vec<&str> = value.split(',').map(str::trim).collect();
        if tags.contains(&"*") {
            return IfMatch::Any;
        }
        IfMatch::Versions(
            tags.iter()
                .filter_map(|tag| tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok())
                .collect(),
        )
    }

    pub fn matches(&self, version: i64) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Versions(versions) => versions.contains(&version),
        }
    }

    /// The statement's condition on `column`, with the value of
    /// [`IfMatch::param`] as parameter `$param`.
    pub fn sql_condition(column: &str, param: usize) -> String {
        format!(
            "(${param}::text IS NULL OR {column} = ANY(string_to_array(${param}, ',')::bigint[]))"
        )
    }

    /// NULL for any version, else the versions joined by commas (only
    /// digits and minus signs: they were parsed as numbers).
    pub fn param(&self) -> ParameterValue {
        match self {
            IfMatch::Any => ParameterValue::DbNull,
            IfMatch::Versions(versions) => ParameterValue::Str(
                versions
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_and_star_match_anything() {
        assert_eq!(IfMatch::parse(None), IfMatch::Any);
        assert_eq!(IfMatch::parse(Some("*")), IfMatch::Any);
        assert_eq!(IfMatch::parse(Some("\"3\", *")), IfMatch::Any);
        assert!(IfMatch::Any.matches(42));
    }

    #[test]
    fn only_our_strong_tags_match() {
        let tags = IfMatch::parse(Some(" \"3\" , W/\"4\", \"x\", 5, \"6\""));
        assert_eq!(tags, IfMatch::Versions(vec![3, 6]));
        assert!(tags.matches(3) && tags.matches(6));
        assert!(!tags.matches(4) && !tags.matches(5));
        let none = IfMatch::parse(Some("garbage"));
        assert_eq!(none, IfMatch::Versions(vec![]));
        assert!(!none.matches(1));
        assert!(matches!(none.param(), ParameterValue::Str(s) if s.is_empty()));
    }

    #[test]
    fn tags_round_trip_through_etag() {
        assert_eq!(IfMatch::parse(Some(&etag(7))), IfMatch::Versions(vec![7]));
        assert!(
            matches!(IfMatch::Versions(vec![3, 6]).param(), ParameterValue::Str(s) if s == "3,6")
        );
        assert_eq!(
            IfMatch::sql_condition("version", 4),
            "($4::text IS NULL OR version = ANY(string_to_array($4, ',')::bigint[]))"
        );
    }
}
