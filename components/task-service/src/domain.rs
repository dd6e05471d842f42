//! Task fields as domain types: a value of these types is valid by construction.

use chrono::NaiveDate;
use mth_shared::ApiError;
use mth_shared::body::{Blank, Field, JsonObject, Lines, bounded_text, from_string, string};
use mth_shared::time::{Date, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spin_sdk::pg4::{self, DbValue, Decode};
use uuid::Uuid;

use crate::labels::{self, TaskLabels};

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
        bounded_text(raw, 255, Lines::Single, Blank::Refused).map(|()| Self(raw.to_owned()))
    }
}

/// A description: at most 1024 characters, stored exactly as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub fn parse(raw: &str) -> Result<Self, String> {
        bounded_text(raw, 1024, Lines::Multi, Blank::Allowed).map(|()| Self(raw.to_owned()))
    }
}

mth_shared::text_type!(Title, Description);

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
    /// Its labels (none when absent or null).
    pub label_ids: Vec<Uuid>,
}

impl NewTask {
    pub fn parse(mut body: JsonObject) -> Result<Self, ApiError> {
        let title = body.required("title", from_string(Title::parse));
        let assignee_id = body.required("assignee_id", assignee_id);
        let description = value_or_null(body.take("description", from_string(Description::parse)));
        let status = body.optional("status", from_string(Status::parse));
        let due_date = value_or_null(body.take("due_date", due_date));
        let label_ids = value_or_null(body.take("label_ids", labels::ids));
        body.finish(|| {
            Some(NewTask {
                title: title?,
                description,
                status: status.unwrap_or(Status::Todo),
                due_date,
                assignee_id: assignee_id?,
                label_ids: label_ids.unwrap_or_default(),
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
/// cleared with null; the other fields may only be replaced (`label_ids`
/// replaces the task's labels: `[]` removes them all).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TaskPatch {
    pub title: Option<Title>,
    pub description: Option<Option<Description>>,
    pub status: Option<Status>,
    pub due_date: Option<Option<NaiveDate>>,
    pub assignee_id: Option<Uuid>,
    pub label_ids: Option<Vec<Uuid>>,
}

impl TaskPatch {
    pub fn parse(mut body: JsonObject) -> Result<Self, ApiError> {
        let title = body.optional("title", from_string(Title::parse));
        let description = body
            .take("description", from_string(Description::parse))
            .into_patch();
        let status = body.optional("status", from_string(Status::parse));
        let due_date = body.take("due_date", due_date).into_patch();
        let assignee_id = body.optional("assignee_id", assignee_id);
        let label_ids = body.optional("label_ids", labels::ids);
        body.finish(|| {
            Some(TaskPatch {
                title,
                description,
                status,
                due_date,
                assignee_id,
                label_ids,
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
    /// Who created the task and who changed it last (`None`: a service,
    /// or before accounts).
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Moves with every change; the task's entity tag (`ETag`, `If-Match`).
    pub version: i64,
    /// How many comments the task has (`comments::COUNT_COLUMN`); comments
    /// do not move `version`: they are not changes to the task's fields.
    pub comment_count: i64,
    /// Its labels, by name (`labels::column`); like comments, a label's
    /// rename or new colour does not move `version`, but setting a task's
    /// labels does.
    pub labels: TaskLabels,
}

// A tasks row: each field from its column (the one place rows become tasks).
mth_shared::from_row!(Task {
    id,
    title,
    description,
    status,
    due_date,
    assignee_id,
    created_by,
    updated_by,
    created_at,
    updated_at,
    version,
    comment_count,
    labels,
}, assignee: None);

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
        // Limits and control characters are bounded_text's (mth-shared); here,
        // what is particular to tasks.
        assert_eq!(Title::parse(" x ").unwrap().as_str(), " x ");
        assert!(Title::parse(&"t".repeat(255)).is_ok() && Title::parse(&"t".repeat(256)).is_err());
        let d = |n| "d".repeat(n);
        assert!(Description::parse(&d(1024)).is_ok() && Description::parse(&d(1025)).is_err());
        assert!(
            Title::parse("two\nlines").is_err() && Description::parse("two\nlines\tok").is_ok()
        );
        assert!(Title::parse("  ").is_err() && Description::parse("").is_ok());
    }

    #[test]
    fn new_task_defaults_and_errors() {
        let id = Uuid::new_v4();
        let task = NewTask::parse(
            JsonObject::from_json(&format!(
                r#"{{"title":"T","assignee_id":"{id}","description":null}}"#
            ))
            .unwrap(),
        )
        .unwrap();
        assert_eq!(task.status, Status::Todo);
        assert_eq!(task.description, None);
        assert!(task.label_ids.is_empty());

        let err = NewTask::parse(
            JsonObject::from_json(
                r#"{"title":"","assignee_id":"x","status":"open","due_date":"2026-02-30"}"#,
            )
            .unwrap(),
        )
        .unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "assignee_id", "status", "due_date"]);
    }

    #[test]
    fn patch_distinguishes_clearing_from_leaving_alone() {
        let patch = TaskPatch::parse(
            JsonObject::from_json(r#"{"description":null,"status":"done"}"#).unwrap(),
        )
        .unwrap();
        assert_eq!(patch.description, Some(None));
        assert_eq!(patch.due_date, None);
        assert_eq!(patch.status, Some(Status::Done));
        assert!(
            TaskPatch::parse(JsonObject::from_json("{}").unwrap())
                .unwrap()
                .is_empty()
        );
        assert!(
            TaskPatch::parse(JsonObject::from_json(r#"{"assignee_id":null}"#).unwrap()).is_err()
        );
        assert!(TaskPatch::parse(JsonObject::from_json(r#"{"title":null}"#).unwrap()).is_err());
        // Labels are replaced as a whole; null is not "none" (that is []).
        let cleared = TaskPatch::parse(JsonObject::from_json(r#"{"label_ids":[]}"#).unwrap());
        assert_eq!(cleared.unwrap().label_ids, Some(vec![]));
        assert!(TaskPatch::parse(JsonObject::from_json(r#"{"label_ids":null}"#).unwrap()).is_err());
    }
}
