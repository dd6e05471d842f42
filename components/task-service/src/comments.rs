//! The task_comments table (migration 0010_task_comments): what people say
//! about a task. Plain text, parsed at the edge into [`CommentBody`]; one
//! parameterised statement per operation; who may edit or delete which
//! comment is the policy's [`Scope`], checked in the writing statement.

use mth_accounts::Scope;
use mth_shared::ApiError;
use mth_shared::body::{Blank, JsonObject, Lines, bounded_text, from_string};
use mth_shared::db::{self, Db, Page, PageQuery, sqlstate};
use mth_shared::query;
use mth_shared::time::Timestamp;
use serde::Serialize;
use spin_sdk::pg4::ParameterValue;
use uuid::Uuid;

/// A task answer's `comment_count`, as a column of a statement on `tasks`.
/// Counted when read rather than kept on the task: a counter column would
/// make every comment a write to the task's row (its lock, its version
/// checks, its history and feed triggers) and could drift from the rows;
/// this is one index-only range of `task_comments_task_newest` per task,
/// and a page of tasks is at most 500.
pub const COUNT_COLUMN: &str =
    "(SELECT count(*) FROM task_comments c WHERE c.task_id = tasks.id) AS comment_count";

/// Search (`search.rs`): the tasks with a comment that `matches` (a
/// condition on the column `search_document`, made by `matches("c.search_document")`),
/// each with its `created_at`, the comment's rank by the tsquery in
/// parameter `$query` (weighted C: below the title's and the description's)
/// and id, at most `$cap` comments (any of them), of tasks that meet
/// `filter` (a condition on `tasks`). A UNION ALL arm.
pub fn search_hits(
    filter: &str,
    matches: impl Fn(&str) -> String,
    query: usize,
    cap: usize,
) -> String {
    format!(
        "SELECT c.task_id, c.created_at, ts_rank(c.search_document, ${query}::text::tsquery), c.id \
         FROM (SELECT c.id, c.task_id, tasks.created_at, c.search_document FROM task_comments c JOIN tasks ON tasks.id = c.task_id \
               WHERE {} AND {filter} LIMIT ${cap}) AS c",
        matches("c.search_document")
    )
}

/// Search: the id and body of comment `id` (from [`search_hits`]'s
/// `comment_id`), as the columns `search_comment_id` and `search_comment`
/// (`NULL` when `id` is).
pub fn matched(id: &str) -> String {
    format!(
        "(SELECT c.id FROM task_comments c WHERE c.id = {id}) AS search_comment_id, \
         (SELECT c.body FROM task_comments c WHERE c.id = {id}) AS search_comment"
    )
}

const TASK_FK: &str = "task_comments_task_id_fkey";

/// What a comment says: 1–4000 characters, not blank, line breaks and tabs
/// allowed, stored exactly as sent. Shown as text, never as HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentBody(String);

impl CommentBody {
    pub const MAX: usize = 4000;

    pub fn parse(raw: &str) -> Result<Self, String> {
        bounded_text(raw, Self::MAX, Lines::Multi, Blank::Refused).map(|()| Self(raw.to_owned()))
    }

    /// The body of `POST /tasks/{id}/comments` and of
    /// `PATCH /tasks/{id}/comments/{comment_id}`: `{"body": "…"}`.
    pub fn from_request(mut body: JsonObject) -> Result<Self, ApiError> {
        let text = body.required("body", from_string(Self::parse));
        body.finish(|| text)
    }
}

mth_shared::text_type!(CommentBody);

/// A comment as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Comment {
    pub id: Uuid,
    pub task_id: Uuid,
    /// `None`: a service wrote it, or its author was deleted since.
    pub author_id: Option<Uuid>,
    pub body: String,
    pub created_at: Timestamp,
    /// `None` until its author edits it.
    pub edited_at: Option<Timestamp>,
}

mth_shared::from_row!(Comment {
    id,
    task_id,
    author_id,
    body,
    created_at,
    edited_at,
});

const COLUMNS: &str = "id, task_id, author_id, body, created_at, edited_at";

/// A page of a task's comments, newest first.
pub fn page(db: &Db, task_id: Uuid, page: query::Page) -> Result<Page<Comment>, ApiError> {
    db.page(PageQuery {
        select: &format!(
            "SELECT {COLUMNS}, count(*) OVER () AS total FROM task_comments \
             WHERE task_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        ),
        params: &[task_id.into(), page.limit.into(), page.offset.into()],
        count: "SELECT count(*) AS total FROM task_comments WHERE task_id = $1",
        count_params: &[task_id.into()],
    })
}

/// Adds a comment by `author` (`None`: a service); `None` when there is no
/// such task (the foreign key says so, in the same statement).
pub fn add(
    db: &Db,
    task_id: Uuid,
    author: Option<Uuid>,
    body: &CommentBody,
) -> Result<Option<Comment>, ApiError> {
    let sql = format!(
        "INSERT INTO task_comments (task_id, author_id, body) VALUES ($1, $2, $3) \
         RETURNING {COLUMNS}"
    );
    let params = [
        task_id.into(),
        author.map_or(ParameterValue::DbNull, Into::into),
        body.as_str().to_owned().into(),
    ];
    match db.query(&sql, &params) {
        Ok(rows) => db::first(rows),
        Err(e) if e.violates(sqlstate::FOREIGN_KEY_VIOLATION, TASK_FK) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// What became of an edit or a delete of one comment.
pub enum Outcome<T> {
    Done(T),
    NoSuchComment,
    /// The comment exists, but the actor may not do this to it.
    NotYours,
}

/// Replaces a comment's body, if `scope` allows its author, in one statement
/// (so the check and the write cannot be told apart). `edited_at` moves
/// only when the text changes: sending the same text again is no edit.
pub fn edit(
    db: &Db,
    task_id: Uuid,
    id: Uuid,
    body: &CommentBody,
    scope: Scope,
) -> Result<Outcome<Comment>, ApiError> {
    let sql = format!(
        "UPDATE task_comments SET \
           edited_at = CASE WHEN body = $3 THEN edited_at ELSE (now() AT TIME ZONE 'utc') END, \
           body = $3 \
         WHERE task_id = $1 AND id = $2 AND {} RETURNING {COLUMNS}",
        Scope::sql_condition("author_id", 4),
    );
    let params = [
        task_id.into(),
        id.into(),
        body.as_str().to_owned().into(),
        scope.param(),
    ];
    match db::first(db.query(&sql, &params)?)? {
        Some(comment) => Ok(Outcome::Done(comment)),
        None => why_not(db, task_id, id, scope),
    }
}

/// Deletes a comment, if `scope` allows its author, in one statement.
pub fn delete(db: &Db, task_id: Uuid, id: Uuid, scope: Scope) -> Result<Outcome<()>, ApiError> {
    let deleted = db.execute(
        &format!(
            "DELETE FROM task_comments WHERE task_id = $1 AND id = $2 AND {}",
            Scope::sql_condition("author_id", 3),
        ),
        &[task_id.into(), id.into(), scope.param()],
    )?;
    if deleted > 0 {
        return Ok(Outcome::Done(()));
    }
    why_not(db, task_id, id, scope)
}

fn why_not<T>(db: &Db, task_id: Uuid, id: Uuid, scope: Scope) -> Result<Outcome<T>, ApiError> {
    let author: Option<Author> = db::first(db.query(
        "SELECT author_id FROM task_comments WHERE task_id = $1 AND id = $2",
        &[task_id.into(), id.into()],
    )?)?;
    Ok(match author {
        None => Outcome::NoSuchComment,
        Some(Author { author_id }) if !scope.allows(author_id) => Outcome::NotYours,
        // Deleted and written again in between cannot happen (ids are new);
        // what is left is a comment gone meanwhile.
        Some(_) => Outcome::NoSuchComment,
    })
}

struct Author {
    author_id: Option<Uuid>,
}

mth_shared::from_row!(Author { author_id });

/// Up to `limit` comments after `after` (by id): an export's page.
pub fn export_page(db: &Db, after: Option<Uuid>, limit: i64) -> Result<Vec<Comment>, ApiError> {
    db::all(db.query(
        &format!(
            "SELECT {COLUMNS} FROM task_comments WHERE $1::uuid IS NULL OR id > $1 \
             ORDER BY id LIMIT $2"
        ),
        &[
            after.map_or(ParameterValue::DbNull, Into::into),
            limit.into(),
        ],
    )?)
}

/// Creates imported comments with their ids, authors and times.
pub fn import(db: &Db, comments: &[crate::transfer::ImportComment]) -> Result<(), ApiError> {
    use mth_accounts::workspace::{BATCH, texts, timestamp_text};
    for batch in comments.chunks(BATCH) {
        let column = |f: &dyn Fn(&crate::transfer::ImportComment) -> Option<String>| {
            texts(batch.iter().map(f))
        };
        db.execute(
            "INSERT INTO task_comments (id, task_id, author_id, body, created_at, edited_at) \
             SELECT r.id::uuid, r.task_id::uuid, r.author_id::uuid, r.body, \
               r.created_at::timestamp, r.edited_at::timestamp \
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) \
               AS r (id, task_id, author_id, body, created_at, edited_at)",
            &[
                column(&|c| Some(c.id.to_string())),
                column(&|c| Some(c.task_id.to_string())),
                column(&|c| c.author_id.map(|id| id.to_string())),
                column(&|c| Some(c.body.as_str().to_owned())),
                column(&|c| Some(timestamp_text(c.created_at))),
                column(&|c| c.edited_at.map(timestamp_text)),
            ],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_plain_text_within_limits() {
        let max = CommentBody::MAX;
        assert!(CommentBody::parse(&"c".repeat(max)).is_ok());
        assert!(CommentBody::parse(&"c".repeat(max + 1)).is_err());
        // Characters, not bytes.
        assert!(CommentBody::parse(&"é".repeat(max)).is_ok());
        assert!(CommentBody::parse(" \n ").is_err() && CommentBody::parse("").is_err());
        assert!(CommentBody::parse("two\nlines\tand <b>tags</b>").is_ok());
        assert!(CommentBody::parse("nul\0").is_err());
        assert_eq!(CommentBody::parse(" x ").unwrap().as_str(), " x ");
    }

    #[test]
    fn a_request_body_has_body_and_nothing_else() {
        let parse = |json: &str| CommentBody::from_request(JsonObject::from_json(json).unwrap());
        assert_eq!(parse(r#"{"body":"hi"}"#).unwrap().as_str(), "hi");
        for bad in [
            r#"{}"#,
            r#"{"body":null}"#,
            r#"{"body":7}"#,
            r#"{"body":"hi","author_id":"x"}"#,
        ] {
            assert_eq!(parse(bad).unwrap_err().status, 422, "{bad}");
        }
    }
}
