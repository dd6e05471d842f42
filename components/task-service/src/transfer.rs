//! Export and import of the whole workspace (issue 22): `GET /export` (one
//! JSON document), `GET /export/tasks.csv`, `POST /import` (a JSON export
//! into an empty workspace). A Trello board's import is `trello.rs`; both
//! imports end here, in [`write`]: one transaction on one connection.
//!
//! Each table's statements stay with the module that owns the table
//! (store.rs, labels.rs, comments.rs, history.rs here; the people and the
//! importing admin's sign-in rows in `mth_accounts::workspace`); this
//! module reads and checks the documents and puts the steps in order.

use std::collections::HashMap;
use std::io::Write as _;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use mth_accounts::Actor;
use mth_accounts::workspace as people;
use mth_shared::db::Db;
use mth_shared::time::{Date, Timestamp};
use mth_shared::{ApiError, FieldError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::comments::{self, CommentBody};
use crate::domain::{Description, Status, Title};
use crate::history;
use crate::labels::{self, Color, LabelName};
use crate::store;

/// What an export's `format` says, and the version of its shape.
pub const FORMAT: &str = "microtaskhub-export";
pub const VERSION: u32 = 1;

/// Rows per statement of an export.
const PAGE: i64 = 500;

/// At most this many problems are listed in a refused import's 422.
const MAX_PROBLEMS: usize = 50;

// ------------------------------------------------------------------ export

/// A task as an export carries it: its columns, and its labels by id.
#[derive(Serialize)]
struct ExportTask<'a> {
    id: Uuid,
    title: &'a str,
    description: Option<&'a str>,
    status: Status,
    due_date: Option<Date>,
    assignee_id: Option<Uuid>,
    created_by: Option<Uuid>,
    updated_by: Option<Uuid>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i64,
    label_ids: Vec<Uuid>,
}

#[derive(Serialize)]
struct ExportLabel<'a> {
    id: Uuid,
    name: &'a str,
    color: Color,
    created_at: Timestamp,
}

/// Writes `"name":[…]` from pages of rows, each page read after the last
/// row of the one before; what is in memory is the document so far and
/// one page.
fn section<T, K>(
    out: &mut Vec<u8>,
    name: &str,
    mut page: impl FnMut(Option<K>) -> Result<Vec<T>, ApiError>,
    key: impl Fn(&T) -> K,
    mut write: impl FnMut(&mut Vec<u8>, &T) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    write!(out, ",\"{name}\":[").map_err(io_error)?;
    let mut after = None;
    let mut first = true;
    loop {
        let rows = page(after.take())?;
        for row in &rows {
            if !first {
                out.push(b',');
            }
            first = false;
            write(out, row)?;
        }
        match rows.last() {
            Some(last) if i64::try_from(rows.len()).unwrap_or(0) == PAGE => after = Some(key(last)),
            _ => break,
        }
    }
    out.push(b']');
    Ok(())
}

fn io_error(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal("The export could not be written.").caused_by(e)
}

fn json<T: Serialize>(out: &mut Vec<u8>, value: &T) -> Result<(), ApiError> {
    serde_json::to_writer(out, value).map_err(io_error)
}

fn now() -> Timestamp {
    Timestamp(chrono::Utc::now().naive_utc())
}

/// The whole workspace as one JSON document, read in one snapshot.
pub fn export_json(db: &Db) -> Result<Vec<u8>, ApiError> {
    db.snapshot(|db| {
        let mut out = Vec::with_capacity(64 * 1024);
        write!(
            out,
            "{{\"format\":\"{FORMAT}\",\"version\":{VERSION},\"exported_at\":"
        )
        .map_err(io_error)?;
        json(&mut out, &now())?;
        section(
            &mut out,
            "people",
            |after| people::people(db, after, PAGE),
            |p| p.id,
            json,
        )?;
        section(
            &mut out,
            "labels",
            |after| labels::export_page(db, after, PAGE),
            |l| l.id,
            |out, l| {
                json(
                    out,
                    &ExportLabel {
                        id: l.id,
                        name: &l.name,
                        color: l.color,
                        created_at: l.created_at,
                    },
                )
            },
        )?;
        section(
            &mut out,
            "tasks",
            |after| store::export_page(db, after, PAGE),
            |t| (t.created_at, t.id),
            |out, t| {
                json(
                    out,
                    &ExportTask {
                        id: t.id,
                        title: &t.title,
                        description: t.description.as_deref(),
                        status: t.status,
                        due_date: t.due_date,
                        assignee_id: t.assignee_id,
                        created_by: t.created_by,
                        updated_by: t.updated_by,
                        created_at: t.created_at,
                        updated_at: t.updated_at,
                        version: t.version,
                        label_ids: t.labels.0.iter().map(|l| l.id).collect(),
                    },
                )
            },
        )?;
        section(
            &mut out,
            "comments",
            |after| comments::export_page(db, after, PAGE),
            |c| c.id,
            json,
        )?;
        section(
            &mut out,
            "history",
            |after| history::export_page(db, after.unwrap_or(0), PAGE),
            |e| e.id,
            json,
        )?;
        out.push(b'}');
        Ok(out)
    })
}

/// One cell of a CSV row (RFC 4180): quoted when it holds a comma, a quote
/// or a line break. Text a spreadsheet would run as a formula (starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a `'` first.
pub fn csv_cell(out: &mut String, value: &str) {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = formula || value.contains([',', '"', '\n', '\r']);
    if quoted {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for c in value.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quoted {
        out.push('"');
    }
}

/// The columns of `GET /export/tasks.csv`.
pub const CSV_HEADER: [&str; 14] = [
    "id",
    "title",
    "description",
    "status",
    "due_date",
    "assignee_id",
    "assignee",
    "assignee_email",
    "labels",
    "comment_count",
    "created_at",
    "created_by",
    "updated_at",
    "version",
];

/// Every task as a CSV row (UTF-8 with a byte-order mark, so spreadsheets
/// read it as UTF-8; CRLF line ends), oldest first, the assignee's name
/// and the labels' names written out.
pub fn export_csv(db: &Db) -> Result<Vec<u8>, ApiError> {
    db.snapshot(|db| {
        let mut names: HashMap<Uuid, (String, String)> = HashMap::new();
        let mut after = None;
        loop {
            let page = people::people(db, after, PAGE)?;
            after = page.last().map(|p| p.id);
            let full = i64::try_from(page.len()).unwrap_or(0) == PAGE;
            names.extend(page.into_iter().map(|p| (p.id, (p.full_name, p.email))));
            if !full {
                break;
            }
        }
        let mut out = String::from("\u{feff}");
        out.push_str(&CSV_HEADER.join(","));
        out.push_str("\r\n");
        let mut after = None;
        loop {
            let page = store::export_page(db, after, PAGE)?;
            for t in &page {
                let person = t.assignee_id.and_then(|id| names.get(&id));
                let text = |v: Option<String>| v.unwrap_or_default();
                let labels: Vec<&str> = t.labels.0.iter().map(|l| l.name.as_str()).collect();
                let cells = [
                    t.id.to_string(),
                    t.title.clone(),
                    text(t.description.clone()),
                    t.status.as_str().to_owned(),
                    text(t.due_date.map(String::from)),
                    text(t.assignee_id.map(|id| id.to_string())),
                    text(person.map(|p| p.0.clone())),
                    text(person.map(|p| p.1.clone())),
                    labels.join(", "),
                    t.comment_count.to_string(),
                    String::from(t.created_at),
                    text(t.created_by.map(|id| id.to_string())),
                    String::from(t.updated_at),
                    t.version.to_string(),
                ];
                for (i, cell) in cells.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    csv_cell(&mut out, cell);
                }
                out.push_str("\r\n");
            }
            match page.last() {
                Some(last) if i64::try_from(page.len()).unwrap_or(0) == PAGE => {
                    after = Some((last.created_at, last.id));
                }
                _ => break,
            }
        }
        Ok(out.into_bytes())
    })
}

// ------------------------------------------------------------------ import

// What the imports write: each value valid by construction, each
// reference checked against the file (or the workspace).

#[derive(Debug, Clone)]
pub struct ImportLabel {
    pub id: Uuid,
    pub name: LabelName,
    pub color: Color,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone)]
pub struct ImportTask {
    pub id: Uuid,
    pub title: Title,
    pub description: Option<Description>,
    pub status: Status,
    pub due_date: Option<NaiveDate>,
    pub assignee_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Debug, Clone)]
pub struct ImportComment {
    pub id: Uuid,
    pub task_id: Uuid,
    pub author_id: Option<Uuid>,
    pub body: CommentBody,
    pub created_at: NaiveDateTime,
    pub edited_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone)]
pub struct ImportEntry {
    pub id: i64,
    pub task_id: Uuid,
    pub changed_by: Option<Uuid>,
    pub changed_at: NaiveDateTime,
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// How many rows an import wrote (its answer).
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub people: usize,
    pub labels: usize,
    pub tasks: usize,
    pub comments: usize,
    pub history: usize,
    /// Trello: archived cards left out.
    pub skipped_cards: usize,
}

/// An RFC 3339 instant (any offset), as UTC; or the database's own form.
pub fn instant(raw: &str) -> Result<NaiveDateTime, String> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.naive_utc())
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.f"))
        .map_err(|_| "must be a date and time in RFC 3339, like 2026-01-02T03:04:05Z".to_owned())
}

pub fn day(raw: &str) -> Result<NaiveDate, String> {
    crate::domain::due_date(&serde_json::Value::String(raw.to_owned()))
}

/// The problems of a document, each at its place (`tasks[12].status`).
#[derive(Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, at: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(at, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `parse(raw)`, or `None` with the problem noted at `at`.
    pub fn check<T>(&mut self, at: impl Fn() -> String, parsed: Result<T, String>) -> Option<T> {
        parsed.map_err(|m| self.add(at(), m)).ok()
    }

    /// 422 naming the first problem (and listing up to 50), or nothing.
    pub fn finish(mut self, what: &str) -> Result<(), ApiError> {
        let Some(first) = self.0.first().cloned() else {
            return Ok(());
        };
        let more = self.0.len() - 1;
        self.0.truncate(MAX_PROBLEMS);
        let detail = format!(
            "The file is not {what}; nothing was imported. {} {}{}",
            first.field,
            first.message,
            match more {
                0 => ".".to_owned(),
                n => format!(" (and {n} more problem{}).", if n == 1 { "" } else { "s" }),
            }
        );
        Err(ApiError {
            errors: self.0,
            ..ApiError::new(422, detail)
        })
    }
}

/// A file that is not JSON of the expected shape: 422 naming where.
pub fn parse_document<'de, T: Deserialize<'de>>(
    body: &'de [u8],
    what: &str,
) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let at = match e.path().to_string() {
            p if p == "." => "the file".to_owned(),
            p => p,
        };
        let mut problems = Problems::default();
        problems.add(at, e.inner().to_string());
        problems.finish(what).expect_err("a problem was just added")
    })
}

/// Runs an import's `work` in one transaction, under an advisory lock (so
/// two imports cannot interleave); any failure rolls everything back. A row
/// the checks let through but the schema refused is a 422.
pub fn in_transaction<T>(
    db: &Db,
    work: impl FnOnce(&Db) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    db.transaction(|db| {
        db.execute("SELECT pg_advisory_xact_lock(2207)", &[])?;
        work(db)
    })
    .map_err(|e| match e.status {
        500 if e.cause.as_deref().is_some_and(|c| c.contains("rejected")) => {
            let cause = e.cause.unwrap_or_default();
            let why = cause
                .split_once("rejected a statement: ")
                .map_or("", |(_, why)| why)
                .to_owned();
            ApiError {
                errors: vec![FieldError::new(
                    "file",
                    format!("a row was refused by the database: {why}"),
                )],
                ..ApiError::new(
                    422,
                    "The database refused a row of the file (a constraint of the schema, such \
                     as an id or email already there); nothing was imported.",
                )
            }
            .caused_by(cause)
        }
        _ => e,
    })
}

/// An export is imported only into an empty workspace: no task, label or
/// comment, and nobody but the importer (409 otherwise).
pub fn require_empty(db: &Db, actor: &Actor) -> Result<(), ApiError> {
    let counts = store::workspace_counts(db, actor.person_id())?;
    if counts.tasks + counts.labels + counts.comments + counts.people > 0 {
        return Err(ApiError::conflict(format!(
            "An export is imported only into an empty workspace; this one has {} \
             task(s), {} label(s), {} comment(s) and {} person(s) besides you. \
             Nothing was imported.",
            counts.tasks, counts.labels, counts.comments, counts.people
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(v: &str) -> String {
        let mut s = String::new();
        csv_cell(&mut s, v);
        s
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("=1+1"), "\"'=1+1\"");
        assert_eq!(cell("-2"), "\"'-2\"");
        assert_eq!(cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(cell("2026-01-02"), "2026-01-02");
    }

    #[test]
    fn instants_are_read_in_any_offset_as_utc() {
        let t = instant("2026-01-02T04:04:05.000006+01:00").unwrap();
        assert_eq!(
            mth_accounts::workspace::timestamp_text(t),
            "2026-01-02 03:04:05.000006"
        );
        assert!(instant("yesterday").is_err());
    }
}
