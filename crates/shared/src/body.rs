//! JSON request bodies, checked at the edge: media type, size, syntax, shape.
//!
//! Components turn a [`JsonObject`] into their own domain types field by
//! field; every problem is collected so a 422 lists all of them at once.

use serde_json::{Map, Value};
use spin_sdk::http::Request;

use crate::{ApiError, FieldError};

/// Bodies above this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The bodies of a workspace import (`/import…`, `/api/import…`) may be this
/// large: a whole exported workspace or Trello board. Above it, 413.
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

/// A chunk of a staged upload (`PUT /imports/{id}/chunks/{n}`) is at most
/// this large: files of any size come in as many of them, so no request
/// holds more than this of a file (docs/api.md, Imports of any size).
pub const MAX_CHUNK_BYTES: usize = 1024 * 1024;

/// The bodies under `/imports` (a chunk, or a Trello mapping) may be this
/// large: a chunk and a little, so that a chunk a bit too large still gets
/// the handler's own 413, which names the chunk's limit.
pub const MAX_UPLOAD_BODY_BYTES: usize = MAX_CHUNK_BYTES + 64 * 1024;

/// How large a body to `path` (a path, or a URI with a scheme and host)
/// may be: [`MAX_IMPORT_BYTES`] for an import, [`MAX_UPLOAD_BODY_BYTES`]
/// under `/imports`, [`MAX_BODY_BYTES`] else.
pub fn max_body_bytes(path: &str) -> usize {
    let path = match path.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => path,
    };
    let path = path.strip_prefix("/api").unwrap_or(path);
    let under = |collection: &str| {
        path.strip_prefix(collection)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
    };
    if under("/import") {
        MAX_IMPORT_BYTES
    } else if under("/imports") {
        MAX_UPLOAD_BODY_BYTES
    } else {
        MAX_BODY_BYTES
    }
}

/// The three states of a field in a JSON object; PATCH needs all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field<T> {
    Absent,
    Null,
    Value(T),
}

impl<T> Field<T> {
    /// `Some(Some(v))` set, `Some(None)` cleared, `None` untouched.
    pub fn into_patch(self) -> Option<Option<T>> {
        match self {
            Field::Absent => None,
            Field::Null => Some(None),
            Field::Value(v) => Some(Some(v)),
        }
    }
}

/// A JSON object body whose fields are being read into domain types.
#[derive(Debug)]
pub struct JsonObject {
    fields: Map<String, Value>,
    errors: Vec<FieldError>,
}

impl JsonObject {
    /// Reads the request body as a JSON object: 415, 413, 400 or 422 otherwise.
    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let content_type = req
            .header("content-type")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        Self::parse(content_type, req.body())
    }

    pub fn parse(content_type: &str, body: &[u8]) -> Result<Self, ApiError> {
        if !is_json_media_type(content_type) {
            return Err(ApiError::unsupported_media_type());
        }
        if body.len() > MAX_BODY_BYTES {
            return Err(ApiError::payload_too_large(MAX_BODY_BYTES));
        }
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!("The request body is not valid JSON: {e}."))
        })?;
        match value {
            Value::Object(fields) => Ok(Self {
                fields,
                errors: Vec::new(),
            }),
            _ => Err(ApiError::invalid("body", "must be a JSON object")),
        }
    }

    /// A JSON object given as text (as a client would send it).
    pub fn from_json(json: &str) -> Result<Self, ApiError> {
        Self::parse("application/json", json.as_bytes())
    }

    /// Takes a field and parses it; a parse failure is recorded against the field.
    pub fn take<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Field<T> {
        match self.fields.remove(name) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(value) => match parse(&value) {
                Ok(v) => Field::Value(v),
                Err(message) => {
                    self.errors.push(FieldError::new(name, message));
                    Field::Absent
                }
            },
        }
    }

    /// A field that must be present and not null.
    pub fn required<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<T> {
        let value = self.optional(name, parse);
        // Unless it was null or invalid, which is already reported.
        if value.is_none() && !self.errors.iter().any(|e| e.field == name) {
            self.error(name, "is required");
        }
        value
    }

    /// [`JsonObject::required`] or [`JsonObject::optional`].
    pub fn field<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
        required: bool,
    ) -> Option<T> {
        if required {
            self.required(name, parse)
        } else {
            self.optional(name, parse)
        }
    }

    /// A field that may be absent but, when present, must not be null.
    pub fn optional<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<T> {
        match self.take(name, parse) {
            Field::Value(v) => Some(v),
            Field::Null => {
                self.error(name, "must not be null");
                None
            }
            Field::Absent => None,
        }
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Ends parsing: unknown fields and every recorded problem become one 422.
    /// `build` runs only when nothing was wrong, so it may unwrap the parts.
    pub fn finish<T>(mut self, build: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        let mut unknown: Vec<String> = self.fields.keys().cloned().collect();
        unknown.sort();
        for name in unknown {
            self.errors
                .push(FieldError::new(name, "is not a known field"));
        }
        if !self.errors.is_empty() {
            return Err(ApiError::validation(self.errors));
        }
        build().ok_or_else(|| ApiError::invalid("body", "is incomplete"))
    }
}

fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// A JSON string, as sent (no trimming: text is stored exactly as sent).
pub fn string(value: &Value) -> Result<String, String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "must be a string".to_owned())
}

pub fn boolean(value: &Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| "must be true or false".to_owned())
}

/// A field parser from a parser of strings: `from_string(Title::parse)`.
pub fn from_string<T>(
    parse: impl Fn(&str) -> Result<T, String>,
) -> impl Fn(&Value) -> Result<T, String> {
    move |value| parse(&string(value)?)
}

/// Which characters of the C0 control range (U+0000–U+001F) a text field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// None: a name, a title.
    Single,
    /// Tab, line feed and carriage return: a description.
    Multi,
}

/// Refuses control characters: NUL cannot be stored by Postgres at all (a 500
/// if it got that far), and the others have no business in text a person reads.
pub fn plain_text(text: &str, lines: Lines) -> Result<(), String> {
    let allowed = |c: char| lines == Lines::Multi && matches!(c, '\t' | '\n' | '\r');
    match text.chars().find(|&c| c < ' ' && !allowed(c)) {
        None => Ok(()),
        Some(_) if lines == Lines::Multi => {
            Err("must not contain control characters other than tab and line breaks".to_owned())
        }
        Some(_) => {
            Err("must not contain control characters (such as NUL or line breaks)".to_owned())
        }
    }
}

/// Whether a text field may be empty or only spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blank {
    Allowed,
    Refused,
}

/// Checks text a field stores: not blank (unless allowed), at most `max`
/// characters, and plain (see [`plain_text`]).
pub fn bounded_text(text: &str, max: usize, lines: Lines, blank: Blank) -> Result<(), String> {
    if blank == Blank::Refused && text.trim().is_empty() {
        Err("must not be empty".to_owned())
    } else if text.chars().count() > max {
        Err(format!("must be at most {max} characters"))
    } else {
        plain_text(text, lines)
    }
}

/// Checks a name people pick from a list (a label's, a saved view's): one
/// line, not blank, at most `max` characters, and no spaces at either end
/// (" bug" and "bug" would look like one name).
pub fn name_text(text: &str, max: usize) -> Result<(), String> {
    bounded_text(text, max, Lines::Single, Blank::Refused)?;
    if text.trim() == text {
        Ok(())
    } else {
        Err("must not start or end with spaces".to_owned())
    }
}

/// A domain type that wraps a `String` valid by construction, read as `&str`.
#[macro_export]
macro_rules! text_type {
    ($($t:ident),* $(,)?) => {
        $(impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        })*
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<JsonObject, ApiError> {
        JsonObject::parse("application/json; charset=utf-8", body.as_bytes())
    }

    #[test]
    fn refuses_wrong_media_type_size_syntax_and_shape() {
        assert_eq!(
            JsonObject::parse("text/plain", b"{}").unwrap_err().status,
            415
        );
        assert_eq!(JsonObject::parse("", b"{}").unwrap_err().status, 415);
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        assert_eq!(parse(&big).unwrap_err().status, 413);
        assert_eq!(parse("{\"a\":").unwrap_err().status, 400);
        assert_eq!(parse("[1,2]").unwrap_err().status, 422);
    }

    #[test]
    fn imports_alone_take_large_bodies() {
        for path in [
            "/import",
            "/import/trello",
            "/api/import/trello?x=1",
            "http://h:1/import",
        ] {
            assert_eq!(max_body_bytes(path), MAX_IMPORT_BYTES, "{path}");
        }
        for path in ["/importer", "/tasks", "/api/tasks/import", "http://h/tasks"] {
            assert_eq!(max_body_bytes(path), MAX_BODY_BYTES, "{path}");
        }
        for path in [
            "/imports",
            "/api/imports/x/chunks/0",
            "http://h:1/imports/x/run",
        ] {
            assert_eq!(max_body_bytes(path), MAX_UPLOAD_BODY_BYTES, "{path}");
        }
    }

    #[test]
    fn collects_every_problem_including_unknown_fields() {
        let mut obj = parse(r#"{"name": 5, "extra": true}"#).unwrap();
        let name = obj.required("name", string);
        let other = obj.required("other", string);
        let err = obj.finish(|| Some((name?, other?))).unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "other", "extra"]);
    }

    #[test]
    fn plain_text_refuses_c0_controls_but_keeps_line_breaks_where_allowed() {
        for ok in ["Ada", "é ü 漢字 🎉", "a\u{7f}b"] {
            assert!(plain_text(ok, Lines::Single).is_ok(), "{ok:?}");
        }
        for bad in ["\0", "a\u{0}b", "a\nb", "tab\there", "\u{1b}[31m", "\u{1f}"] {
            assert!(plain_text(bad, Lines::Single).is_err(), "{bad:?}");
        }
        assert!(plain_text("line\r\nnext\tcol", Lines::Multi).is_ok());
        for bad in ["\0", "a\u{8}b", "\u{1b}"] {
            assert!(plain_text(bad, Lines::Multi).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn distinguishes_absent_null_and_value() {
        let mut obj = parse(r#"{"a": null, "b": "x"}"#).unwrap();
        assert_eq!(obj.take("a", string), Field::Null);
        assert_eq!(obj.take("b", string), Field::Value("x".to_owned()));
        assert_eq!(obj.take("c", string), Field::Absent);
        assert!(obj.finish(|| Some(())).is_ok());
    }

    #[test]
    fn bounded_text_counts_characters_and_refuses_blanks_and_controls() {
        let single = |t: &str, blank| bounded_text(t, 3, Lines::Single, blank).is_ok();
        assert!(single("ééé", Blank::Refused) && !single("éééé", Blank::Refused));
        assert!(!single("  ", Blank::Refused) && single("  ", Blank::Allowed));
        assert!(!single("a\u{0}", Blank::Allowed) && !single("a\nb", Blank::Allowed));
        assert!(bounded_text("a\r\n\tb", 9, Lines::Multi, Blank::Refused).is_ok());
        assert!(bounded_text("a\u{1b}", 9, Lines::Multi, Blank::Refused).is_err());
    }
}
