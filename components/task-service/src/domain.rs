//! Task fields as domain types: a value of these types is valid by construction.

use chrono::NaiveDate;
use mth_shared::ApiError;
use mth_shared::body::{Field, JsonObject, Lines, plain_text, string};
use mth_shared::time::{Date, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spin_sdk::pg4::{self, DbValue, Decode};
use uuid::Uuid;

/// Where a task is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Todo,
    InProgress,
    Done,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Todo, Status::InProgress, Status::Done];

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "todo" => Ok(Status::Todo),
            "in_progress" => Ok(Status::InProgress),
            "done" => Ok(Status::Done),
            _ => Err("must be one of todo, in_progress, done".to_owned()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Todo => "todo",
            Status::InProgress => "in_progress",
            Status::Done => "done",
        }
    }
}

/// A status the database holds (its CHECK allows only these).
impl Decode for Status {
    fn decode(value: &DbValue) -> Result<Self, pg4::Error> {
        Status::parse(&String::decode(value)?).map_err(pg4::Error::Decode)
    }
}

mth_shared::decoded_column!(Status);

/// A title: not blank, at most 255 characters, stored exactly as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.trim().is_empty() {
            Err("must not be empty".to_owned())
        } else if raw.chars().count() > 255 {
            Err("must be at most 255 characters".to_owned())
        } else {
            plain_text(raw, Lines::Single)?;
            Ok(Self(raw.to_owned()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A description: at most 1024 characters, stored exactly as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().count() > 1024 {
            Err("must be at most 1024 characters".to_owned())
        } else {
            plain_text(raw, Lines::Multi)?;
            Ok(Self(raw.to_owned()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn title(v: &Value) -> Result<Title, String> {
    Title::parse(&string(v)?)
}
fn description(v: &Value) -> Result<Description, String> {
    Description::parse(&string(v)?)
}
fn status(v: &Value) -> Result<Status, String> {
    Status::parse(&string(v)?)
}
fn assignee_id(v: &Value) -> Result<Uuid, String> {
    Uuid::try_parse(&string(v)?).map_err(|_| "must be a UUID".to_owned())
}

/// A real calendar date written `YYYY-MM-DD`.
pub fn due_date(v: &Value) -> Result<NaiveDate, String> {
    let raw = string(v)?;
    let well_formed = raw.len() == 10 && raw.as_bytes()[4] == b'-' && raw.as_bytes()[7] == b'-';
    well_formed
        .then(|| NaiveDate::parse_from_str(&raw, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| "must be a real calendar date written YYYY-MM-DD".to_owned())
}

/// The body of `POST /tasks`.
#[derive(Debug, PartialEq, Eq)]
pub struct NewTask {
    pub title: Title,
    pub description: Option<Description>,
    pub status: Status,
    pub due_date: Option<NaiveDate>,
    pub assignee_id: Uuid,
}

impl NewTask {
    pub fn parse(mut body: JsonObject) -> Result<Self, ApiError> {
        let title = body.required("title", title);
        let assignee_id = body.required("assignee_id", assignee_id);
        let description = value_or_null(body.take("description", description));
        let status = body.optional("status", status);
        let due_date = value_or_null(body.take("due_date", due_date));
        body.finish(|| {
            Some(NewTask {
                title: title?,
                description,
                status: status.unwrap_or(Status::Todo),
                due_date,
                assignee_id: assignee_id?,
            })
        })
    }
}

fn value_or_null<T>(field: Field<T>) -> Option<T> {
    match field {
        Field::Value(v) => Some(v),
        Field::Null | Field::Absent => None,
    }
}

/// The body of `PATCH /tasks/{id}`. `description` and `due_date` may be
/// cleared with null; the other fields may only be replaced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TaskPatch {
    pub title: Option<Title>,
    pub description: Option<Option<Description>>,
    pub status: Option<Status>,
    pub due_date: Option<Option<NaiveDate>>,
    pub assignee_id: Option<Uuid>,
}

impl TaskPatch {
    pub fn parse(mut body: JsonObject) -> Result<Self, ApiError> {
        let title = body.optional("title", title);
        let description = body.take("description", description).into_patch();
        let status = body.optional("status", status);
        let due_date = body.take("due_date", due_date).into_patch();
        let assignee_id = body.optional("assignee_id", assignee_id);
        body.finish(|| {
            Some(TaskPatch {
                title,
                description,
                status,
                due_date,
                assignee_id,
            })
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == TaskPatch::default()
    }
}

/// A task as the API shows it. `assignee` is the embedded user, when asked for.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub status: Status,
    pub due_date: Option<Date>,
    pub assignee_id: Option<Uuid>,
    pub assignee: Option<Assignee>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The user a task is assigned to, as user-service describes them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Assignee {
    pub id: Uuid,
    pub email: String,
    pub full_name: String,
    pub role: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> JsonObject {
        JsonObject::parse("application/json", json.as_bytes()).unwrap()
    }

    #[test]
    fn due_dates_must_be_real_calendar_dates() {
        let d = |s: &str| due_date(&Value::String(s.to_owned()));
        assert_eq!(
            d("2028-02-29").unwrap(),
            NaiveDate::from_ymd_opt(2028, 2, 29).unwrap()
        );
        for bad in [
            "2027-02-29",
            "2026-13-01",
            "2026-1-1",
            "26-01-01",
            "2026/01/01",
            "tomorrow",
            "2026-01-01T00:00:00Z",
        ] {
            assert!(d(bad).is_err(), "{bad}");
        }
        assert!(due_date(&Value::from(20260101)).is_err());
    }

    #[test]
    fn statuses_and_titles() {
        assert_eq!(Status::parse("in_progress").unwrap(), Status::InProgress);
        assert!(Status::parse("IN_PROGRESS").is_err());
        assert!(Title::parse("  ").is_err());
        assert_eq!(Title::parse(" x ").unwrap().as_str(), " x ");
        assert!(Title::parse(&"t".repeat(256)).is_err());
        assert!(Description::parse(&"d".repeat(1024)).is_ok());
        assert!(Description::parse(&"d".repeat(1025)).is_err());
        assert!(Title::parse("a\u{0}b").is_err());
        assert!(Title::parse("two\nlines").is_err());
        assert!(Description::parse("two\nlines\tok").is_ok());
        assert!(Description::parse("nul\u{0}").is_err());
    }

    #[test]
    fn new_task_defaults_and_errors() {
        let id = Uuid::new_v4();
        let task = NewTask::parse(body(&format!(
            r#"{{"title":"T","assignee_id":"{id}","description":null}}"#
        )))
        .unwrap();
        assert_eq!(task.status, Status::Todo);
        assert_eq!(task.description, None);

        let err = NewTask::parse(body(
            r#"{"title":"","assignee_id":"x","status":"open","due_date":"2026-02-30"}"#,
        ))
        .unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "assignee_id", "status", "due_date"]);
    }

    #[test]
    fn patch_distinguishes_clearing_from_leaving_alone() {
        let patch = TaskPatch::parse(body(r#"{"description":null,"status":"done"}"#)).unwrap();
        assert_eq!(patch.description, Some(None));
        assert_eq!(patch.due_date, None);
        assert_eq!(patch.status, Some(Status::Done));
        assert!(TaskPatch::parse(body("{}")).unwrap().is_empty());
        assert!(TaskPatch::parse(body(r#"{"assignee_id":null}"#)).is_err());
        assert!(TaskPatch::parse(body(r#"{"title":null}"#)).is_err());
    }
}
