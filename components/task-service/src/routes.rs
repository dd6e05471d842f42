//! `/tasks` and `/labels` endpoints: authentication, dispatch, and the steps
//! of each operation.

use mth_accounts::{Actor, Permission, Scope};
use mth_shared::body::JsonObject;
use mth_shared::db::Db;
use mth_shared::precondition::{self, IfMatch};
use mth_shared::query::{Query, parse_uuid};
use mth_shared::route::{self, Route};
use mth_shared::{ApiError, RequestContext, respond};
use spin_sdk::http::{Method, Request, Response};
use uuid::Uuid;

use crate::comments::{self, CommentBody, Outcome};
use crate::domain::{NewTask, Task, TaskPatch};
use crate::filters::{self, Filters};
use crate::history;
use crate::labels::{self, LabelPatch, NewLabel};
use crate::search;
use crate::store::{self, Changed, Deleted, Writer};
use crate::uploads::{self, Kind, NewUpload, Progress, Source};
use crate::users;
use crate::views::{self, NewView, ViewPatch};
use crate::{json_import, transfer, trello};

/// What task-service serves (the contract test compares it with docs/openapi.json).
#[derive(Debug, Clone, Copy)]
pub enum Op {
    Create,
    List,
    Stats,
    Show,
    Update,
    Delete,
    History,
    Comments,
    Comment,
    EditComment,
    DeleteComment,
    Labels,
    CreateLabel,
    ShowLabel,
    UpdateLabel,
    DeleteLabel,
    Export,
    ExportCsv,
    Import,
    TrelloPreview,
    TrelloImport,
    CreateUpload,
    ShowUpload,
    DeleteUpload,
    PutChunk,
    UploadPreview,
    RunUpload,
    Views,
    CreateView,
    ShowView,
    UpdateView,
    DeleteView,
}

/// `/tasks/stats` is the stats' path, though `/tasks/{id}` fits it too (see route::find).
pub const ROUTES: &[Route<Op>] = &[
    Route::new(Method::Post, "/tasks", Op::Create),
    Route::new(Method::Get, "/tasks", Op::List),
    Route::new(Method::Get, "/tasks/stats", Op::Stats),
    Route::new(Method::Get, "/tasks/{id}", Op::Show),
    Route::new(Method::Patch, "/tasks/{id}", Op::Update),
    Route::new(Method::Delete, "/tasks/{id}", Op::Delete),
    Route::new(Method::Get, "/tasks/{id}/history", Op::History),
    Route::new(Method::Get, "/tasks/{id}/comments", Op::Comments),
    Route::new(Method::Post, "/tasks/{id}/comments", Op::Comment),
    Route::new(
        Method::Patch,
        "/tasks/{id}/comments/{comment_id}",
        Op::EditComment,
    ),
    Route::new(
        Method::Delete,
        "/tasks/{id}/comments/{comment_id}",
        Op::DeleteComment,
    ),
    Route::new(Method::Get, "/labels", Op::Labels),
    Route::new(Method::Post, "/labels", Op::CreateLabel),
    Route::new(Method::Get, "/labels/{id}", Op::ShowLabel),
    Route::new(Method::Patch, "/labels/{id}", Op::UpdateLabel),
    Route::new(Method::Delete, "/labels/{id}", Op::DeleteLabel),
    Route::new(Method::Get, "/export", Op::Export),
    Route::new(Method::Get, "/export/tasks.csv", Op::ExportCsv),
    Route::new(Method::Post, "/import", Op::Import),
    Route::new(Method::Post, "/import/trello/preview", Op::TrelloPreview),
    Route::new(Method::Post, "/import/trello", Op::TrelloImport),
    Route::new(Method::Post, "/imports", Op::CreateUpload),
    Route::new(Method::Get, "/imports/{id}", Op::ShowUpload),
    Route::new(Method::Delete, "/imports/{id}", Op::DeleteUpload),
    Route::new(Method::Put, "/imports/{id}/chunks/{n}", Op::PutChunk),
    Route::new(
        Method::Post,
        "/imports/{id}/trello/preview",
        Op::UploadPreview,
    ),
    Route::new(Method::Post, "/imports/{id}/run", Op::RunUpload),
    Route::new(Method::Get, "/views", Op::Views),
    Route::new(Method::Post, "/views", Op::CreateView),
    Route::new(Method::Get, "/views/{id}", Op::ShowView),
    Route::new(Method::Patch, "/views/{id}", Op::UpdateView),
    Route::new(Method::Delete, "/views/{id}", Op::DeleteView),
];

pub async fn handle(req: Request, ctx: RequestContext) -> Result<Response, ApiError> {
    let authenticate = mth_accounts::authenticate;
    route::api(
        &req,
        "tasks",
        "task-service",
        ROUTES,
        authenticate,
        |op, params, actor| {
            let writer = writer(actor);
            let id = || params[0];
            let comment = || CommentRef::parse(params[0], params[1]);
            match op {
                Op::Create => create(&req, &ctx, writer),
                Op::List => list(&req),
                Op::Stats => stats(&req),
                Op::Show => show(&req, &ctx, id()),
                Op::Update => update(&req, &ctx, id(), writer),
                Op::Delete => delete(&req, id(), writer),
                Op::History => history(&req, id()),
                Op::Comments => list_comments(&req, id()),
                Op::Comment => add_comment(&req, id(), actor),
                Op::EditComment => edit_comment(&req, comment()?, actor),
                Op::DeleteComment => delete_comment(&req, comment()?, actor),
                Op::Labels => list_labels(&req),
                Op::CreateLabel => create_label(&req, actor),
                Op::ShowLabel => show_label(&req, id()),
                Op::UpdateLabel => update_label(&req, id(), actor),
                Op::DeleteLabel => delete_label(&req, id(), actor),
                Op::Export => export(&req, actor, false),
                Op::ExportCsv => export(&req, actor, true),
                Op::Import => import(&req, actor),
                Op::TrelloPreview => trello_preview(&req, actor),
                Op::TrelloImport => trello_import(&req, actor),
                Op::CreateUpload => create_upload(&req, actor),
                Op::ShowUpload => show_upload(&req, actor, id()),
                Op::DeleteUpload => delete_upload(&req, actor, id()),
                Op::PutChunk => put_chunk(&req, actor, id(), params[1]),
                Op::UploadPreview => upload_preview(&req, actor, id()),
                Op::RunUpload => run_upload(&req, actor, id()),
                Op::Views => list_views(&req, owner(actor)?),
                Op::CreateView => create_view(&req, owner(actor)?),
                Op::ShowView => show_view(&req, owner(actor)?, id()),
                Op::UpdateView => update_view(&req, owner(actor)?, id()),
                Op::DeleteView => delete_view(&req, owner(actor)?, id()),
            }
        },
    )
}

/// Everyone signed in reads every task and creates tasks; which tasks they
/// may change is the policy's [`Scope::tasks_to_change`].
fn writer(actor: Actor) -> Writer {
    Writer {
        person: actor.person_id(),
        scope: Scope::tasks_to_change(&actor),
    }
}

fn not_found(id: Uuid) -> ApiError {
    ApiError::not_found(format!("No task with id {id}."))
}

/// 412: the task changed since the version the client sent in `If-Match`.
/// The answer carries the current task (and its `ETag`), so the client can
/// show what changed and let its person decide; nothing was written.
fn stale(task: &Task, action: &str) -> Response {
    let body = serde_json::json!({
        "detail": format!(
            "Someone changed this task since you loaded it (it is now version {}); \
             nothing was {action}. Compare with the current task and try again.",
            task.version
        ),
        "current": task,
    });
    with_etag(respond::json(412, &body), task)
}

/// A response about one task, tagged with its version.
fn with_etag(mut response: Response, task: &Task) -> Response {
    response.set_header("etag", precondition::etag(task.version));
    response
}

fn not_yours() -> ApiError {
    ApiError::forbidden(
        "Members can change, move and delete only the tasks assigned to them; ask an admin or the assignee.",
    )
}

// No handler holds a Postgres connection while it calls user-service: Spin's
// pool (64 per address, no wait timeout) is shared with user-service, and 64
// callers each holding one while waiting for it would deadlock the process.
// So: ask first, then connect; or read, let the connection go, then ask.

/// The assignee is checked with user-service before anything is written; the
/// foreign key catches a user deleted in between.
fn create(req: &Request, ctx: &RequestContext, writer: Writer) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let new = NewTask::parse(JsonObject::from_request(req)?)?;
    let assignee = users::require(ctx, new.assignee_id)?;
    let mut task = store::insert(&Db::connect()?, &new, writer)?;
    task.assignee = Some(assignee);
    let created = respond::created(format!("/tasks/{}", task.id), &task);
    Ok(with_etag(created, &task))
}

/// Lists do not embed the assignee (that would be a call per row); use
/// `assignee_id`, or `GET /tasks/{id}`. `label` (repeated, or ids separated
/// by commas) keeps the tasks with all those labels, or with any of them
/// when `label_match=any`. `due` (overdue, this_week, none) keeps tasks by
/// due date relative to `today` (filters.rs). With `q`, the tasks that
/// match those words, best first, each with what matched (search.rs).
fn list(req: &Request) -> Result<Response, ApiError> {
    let allowed: Vec<&str> = filters::NAMES
        .into_iter()
        .chain(["today", "limit", "offset"])
        .collect();
    let query = Query::parse_with_lists(req.query(), &allowed, &filters::LISTS)?;
    let Filters { filter, words } = Filters::from_query(&query, filters::today(&query)?)?;
    let page = query.page()?;
    if let Some(words) = words {
        let found = search::find(&Db::connect()?, &words, &filter, page)?;
        return Ok(respond::page(&found.items, found.total));
    }
    let page = store::list(&Db::connect()?, filter, page)?;
    Ok(respond::page(&page.items, page.total))
}

/// `GET /tasks/stats?assignee_id=`: a user's task counts per status (user-service
/// asks this before deleting a user; the UI may too).
fn stats(req: &Request) -> Result<Response, ApiError> {
    let query = Query::parse(req.query(), &["assignee_id"])?;
    let assignee_id = query
        .uuid("assignee_id")?
        .ok_or_else(|| ApiError::invalid("assignee_id", "is required"))?;
    let counts = store::counts_by_status(&Db::connect()?, assignee_id)?;
    let counts: serde_json::Map<String, serde_json::Value> = counts
        .into_iter()
        .map(|(status, n)| (status.as_str().to_owned(), n.into()))
        .collect();
    Ok(respond::json(
        200,
        &serde_json::json!({"assignee_id": assignee_id, "counts": counts}),
    ))
}

fn show(req: &Request, ctx: &RequestContext, raw_id: &str) -> Result<Response, ApiError> {
    let query = Query::parse(req.query(), &["include_assignee"])?;
    let include_assignee = query.bool("include_assignee")?.unwrap_or(true);
    let id = parse_uuid("id", raw_id)?;
    let mut task = store::find(&Db::connect()?, id)?.ok_or_else(|| not_found(id))?;
    if let (true, Some(assignee_id)) = (include_assignee, task.assignee_id) {
        task.assignee = users::find(ctx, assignee_id)?;
    }
    Ok(with_etag(respond::json(200, &task), &task))
}

/// A new assignee is checked before anything is written. Once the write is
/// done the answer is 200 whatever happens next: if user-service cannot be
/// asked for the current assignee, `assignee` is `null` (and `assignee_id`
/// still says who it is). With `If-Match`, a task changed since that
/// version is not written: 412 with the current task.
fn update(
    req: &Request,
    ctx: &RequestContext,
    raw_id: &str,
    writer: Writer,
) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let id = parse_uuid("id", raw_id)?;
    let expected = IfMatch::of(req);
    let patch = TaskPatch::parse(JsonObject::from_request(req)?)?;
    let new_assignee = patch
        .assignee_id
        .map(|assignee_id| users::require(ctx, assignee_id))
        .transpose()?;
    let changed = {
        let db = Db::connect()?;
        if patch.is_empty() {
            store::current(&db, id, &expected)?
        } else {
            store::update(&db, id, &patch, writer, &expected)?
        }
    };
    let mut task = match changed {
        Changed::Yes(task) => *task,
        Changed::NoSuchTask => return Err(not_found(id)),
        Changed::NotYours => return Err(not_yours()),
        Changed::Stale(current) => return Ok(stale(&current, "changed")),
    };
    task.assignee = match (new_assignee, task.assignee_id) {
        (Some(assignee), _) => Some(assignee),
        (None, Some(assignee_id)) => users::find(ctx, assignee_id).unwrap_or_else(|e| {
            ctx.warn(&format!(
                "task {id} written; its assignee is not embedded: {}",
                e.cause.as_deref().unwrap_or(&e.detail)
            ));
            None
        }),
        (None, None) => None,
    };
    Ok(with_etag(respond::json(200, &task), &task))
}

fn delete(req: &Request, raw_id: &str, writer: Writer) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let id = parse_uuid("id", raw_id)?;
    let expected = IfMatch::of(req);
    match store::delete_done(&Db::connect()?, id, writer, &expected)? {
        Deleted::Yes => Ok(respond::no_content()),
        Deleted::NoSuchTask => Err(not_found(id)),
        Deleted::NotYours => Err(not_yours()),
        Deleted::Stale(current) => Ok(stale(&current, "deleted")),
        Deleted::NotDone(status) => Err(ApiError::conflict(format!(
            "Only done tasks can be deleted; this one is '{}'. Move it to done first.",
            status.as_str()
        ))),
    }
}

/// `GET /tasks/{id}/history`: the task's changes, newest first, paged like
/// the lists (X-Total-Count). An empty page
/// past the end is told from no such task by looking for the task.
fn history(req: &Request, raw_id: &str) -> Result<Response, ApiError> {
    let query = Query::parse(req.query(), &["limit", "offset"])?;
    let id = parse_uuid("id", raw_id)?;
    let page = query.page()?;
    let db = Db::connect()?;
    let page = history::page(&db, id, page)?;
    if page.items.is_empty() && store::find(&db, id)?.is_none() {
        return Err(not_found(id));
    }
    Ok(respond::page(&page.items, page.total))
}

/// `GET /tasks/{id}/comments`: newest first, paged like the history.
fn list_comments(req: &Request, raw_id: &str) -> Result<Response, ApiError> {
    let query = Query::parse(req.query(), &["limit", "offset"])?;
    let id = parse_uuid("id", raw_id)?;
    let page = query.page()?;
    let db = Db::connect()?;
    let page = comments::page(&db, id, page)?;
    if page.items.is_empty() && store::find(&db, id)?.is_none() {
        return Err(not_found(id));
    }
    Ok(respond::page(&page.items, page.total))
}

/// `POST /tasks/{id}/comments`: everyone signed in comments on every task
/// (as they read every task); the author is who acts.
fn add_comment(req: &Request, raw_id: &str, actor: Actor) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let id = parse_uuid("id", raw_id)?;
    let body = CommentBody::from_request(JsonObject::from_request(req)?)?;
    let comment = comments::add(&Db::connect()?, id, actor.person_id(), &body)?
        .ok_or_else(|| not_found(id))?;
    Ok(respond::json(201, &comment))
}

/// The task and the comment a path names.
struct CommentRef {
    task: Uuid,
    comment: Uuid,
}

impl CommentRef {
    fn parse(task: &str, comment: &str) -> Result<Self, ApiError> {
        Ok(CommentRef {
            task: parse_uuid("id", task)?,
            comment: parse_uuid("comment_id", comment)?,
        })
    }

    fn not_found(&self) -> ApiError {
        ApiError::not_found(format!(
            "No comment with id {} on task {}.",
            self.comment, self.task
        ))
    }
}

/// `PATCH /tasks/{id}/comments/{comment_id}`: only its author rewrites a
/// comment (admins too: nobody puts words in another's mouth).
fn edit_comment(req: &Request, target: CommentRef, actor: Actor) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let body = CommentBody::from_request(JsonObject::from_request(req)?)?;
    let scope = Scope::comments_to_edit(&actor);
    match comments::edit(&Db::connect()?, target.task, target.comment, &body, scope)? {
        Outcome::Done(comment) => Ok(respond::json(200, &comment)),
        Outcome::NoSuchComment => Err(target.not_found()),
        Outcome::NotYours => Err(ApiError::forbidden(
            "Only its author can edit a comment; add a comment of your own instead.",
        )),
    }
}

/// `DELETE /tasks/{id}/comments/{comment_id}`: its author, or an admin.
fn delete_comment(req: &Request, target: CommentRef, actor: Actor) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let scope = Scope::comments_to_delete(&actor);
    match comments::delete(&Db::connect()?, target.task, target.comment, scope)? {
        Outcome::Done(()) => Ok(respond::no_content()),
        Outcome::NoSuchComment => Err(target.not_found()),
        Outcome::NotYours => Err(ApiError::forbidden(
            "Members can delete only their own comments; ask an admin or the comment's author.",
        )),
    }
}

fn no_label(id: Uuid) -> ApiError {
    ApiError::not_found(format!("No label with id {id}."))
}

/// `GET /labels`: everyone signed in reads the labels (to show, filter and
/// pick them), by name, paged like the other lists.
fn list_labels(req: &Request) -> Result<Response, ApiError> {
    let query = Query::parse(req.query(), &["limit", "offset"])?;
    let page = labels::page(&Db::connect()?, query.page()?)?;
    Ok(respond::page(&page.items, page.total))
}

fn show_label(req: &Request, raw_id: &str) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let id = parse_uuid("id", raw_id)?;
    let label = labels::find(&Db::connect()?, id)?.ok_or_else(|| no_label(id))?;
    Ok(respond::json(200, &label))
}

/// `POST /labels`: admins only; a name taken (whatever its case) is a 409.
fn create_label(req: &Request, actor: Actor) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    actor.require(Permission::ManageLabels, "manage labels")?;
    let new = NewLabel::parse(JsonObject::from_request(req)?)?;
    let label = labels::create(&Db::connect()?, &new)?;
    Ok(respond::created(format!("/labels/{}", label.id), &label))
}

/// `PATCH /labels/{id}`: admins rename or recolour a label; every task with
/// it shows the change (tasks refer to it by id).
fn update_label(req: &Request, raw_id: &str, actor: Actor) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let id = parse_uuid("id", raw_id)?;
    actor.require(Permission::ManageLabels, "manage labels")?;
    let patch = LabelPatch::parse(JsonObject::from_request(req)?)?;
    let db = Db::connect()?;
    let label = if patch == LabelPatch::default() {
        labels::find(&db, id)?
    } else {
        labels::update(&db, id, &patch)?
    };
    Ok(respond::json(200, &label.ok_or_else(|| no_label(id))?))
}

/// `DELETE /labels/{id}`: admins only; the label leaves every task.
fn delete_label(req: &Request, raw_id: &str, actor: Actor) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let id = parse_uuid("id", raw_id)?;
    actor.require(Permission::ManageLabels, "manage labels")?;
    if labels::delete(&Db::connect()?, id)? {
        Ok(respond::no_content())
    } else {
        Err(no_label(id))
    }
}

// ------------------------------------------------ export and import

/// `GET /export` (JSON) and `GET /export/tasks.csv`: admins only; a
/// download (`Content-Disposition: attachment`).
fn export(req: &Request, actor: Actor, csv: bool) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    actor.require(Permission::TransferWorkspace, "export the workspace")?;
    let db = Db::connect()?;
    let (body, content_type, name) = if csv {
        (
            transfer::export_csv(&db)?,
            "text/csv; charset=utf-8",
            "microtaskhub-tasks.csv",
        )
    } else {
        (
            transfer::export_json(&db)?,
            "application/json",
            "microtaskhub-export.json",
        )
    };
    Ok(Response::builder()
        .status(200)
        .header("content-type", content_type)
        .header(
            "content-disposition",
            format!("attachment; filename=\"{name}\""),
        )
        .body(body)
        .build())
}

/// 415 unless the body is of type `expected` (parameters aside).
fn require_media_type(req: &Request, expected: &str) -> Result<(), ApiError> {
    let content_type = mth_shared::request::header(req, "content-type").unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(ApiError::unsupported_media_type())
    }
}

/// The body of an import: JSON, at most `MAX_IMPORT_BYTES`.
fn import_body<'r>(req: &'r Request, actor: &Actor, to: &str) -> Result<&'r [u8], ApiError> {
    Query::parse(req.query(), &[])?;
    actor.require(Permission::TransferWorkspace, to)?;
    require_media_type(req, "application/json")?;
    let body = req.body();
    if body.len() > mth_shared::body::MAX_IMPORT_BYTES {
        return Err(ApiError::payload_too_large(
            mth_shared::body::MAX_IMPORT_BYTES,
        ));
    }
    Ok(body)
}

/// `POST /import`: an export into an empty workspace, all or nothing.
fn import(req: &Request, actor: Actor) -> Result<Response, ApiError> {
    let body = import_body(req, &actor, "import a workspace")?;
    let db = Db::connect()?;
    let (summary, _) = json_import::import(&db, Source::Body(body), &actor, &mut Progress::none())?;
    Ok(respond::json(201, &summary))
}

/// `POST /import/trello/preview`: what a Trello board holds and the
/// suggested mapping; nothing is written.
fn trello_preview(req: &Request, actor: Actor) -> Result<Response, ApiError> {
    let body = import_body(req, &actor, "import a Trello board")?;
    let preview = trello::preview(&Db::connect()?, Source::Body(body))?;
    Ok(respond::json(200, &preview))
}

/// `POST /import/trello`: a Trello board with its confirmed mapping.
fn trello_import(req: &Request, actor: Actor) -> Result<Response, ApiError> {
    let body = import_body(req, &actor, "import a Trello board")?;
    let summary = trello::import_request(&Db::connect()?, body, &actor, &mut Progress::none())?;
    Ok(respond::json(201, &summary))
}

// ------------------------------------------------ imports of any size

/// Uploads are an admin's own (uploads.rs): the person who may import.
fn uploader(actor: &Actor) -> Result<Uuid, ApiError> {
    actor.require(Permission::TransferWorkspace, "import into the workspace")?;
    actor.person_id().ok_or_else(|| {
        ApiError::forbidden("An upload belongs to a person; call as one (a personal API token).")
    })
}

/// `POST /imports`: a new upload of `size` bytes of a `kind` of file.
fn create_upload(req: &Request, actor: Actor) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let owner = uploader(&actor)?;
    let new = NewUpload::parse(JsonObject::from_request(req)?)?;
    let upload = uploads::create(&Db::connect()?, owner, &new)?;
    Ok(respond::created(format!("/imports/{}", upload.id), &upload))
}

/// `GET /imports/{id}`: what came in, and the run's progress or answer.
fn show_upload(req: &Request, actor: Actor, raw_id: &str) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let owner = uploader(&actor)?;
    let id = parse_uuid("id", raw_id)?;
    Ok(respond::json(
        200,
        &uploads::find(&Db::connect()?, owner, id)?,
    ))
}

fn delete_upload(req: &Request, actor: Actor, raw_id: &str) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let owner = uploader(&actor)?;
    let id = parse_uuid("id", raw_id)?;
    if uploads::delete(&Db::connect()?, owner, id)? {
        Ok(respond::no_content())
    } else {
        Err(uploads::not_found(id))
    }
}

/// `PUT /imports/{id}/chunks/{n}`: the bytes of chunk `n`
/// (`application/octet-stream`, at most 1 MiB).
fn put_chunk(req: &Request, actor: Actor, raw_id: &str, raw_n: &str) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let owner = uploader(&actor)?;
    let id = parse_uuid("id", raw_id)?;
    let n = uploads::chunk_number(raw_n)?;
    require_media_type(req, "application/octet-stream")?;
    let upload = uploads::put_chunk(&Db::connect()?, owner, id, n, req.body())?;
    Ok(respond::json(200, &upload))
}

/// `POST /imports/{id}/trello/preview`: `POST /import/trello/preview` for
/// a staged board.
fn upload_preview(req: &Request, actor: Actor, raw_id: &str) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let owner = uploader(&actor)?;
    let id = parse_uuid("id", raw_id)?;
    let db = Db::connect()?;
    let upload = uploads::find(&db, owner, id)?;
    if upload.kind != Kind::Trello.as_str() || upload.phase != "receiving" {
        return Err(ApiError::conflict(format!(
            "Only a Trello board not yet run has a preview; this upload is a {} file, {}.",
            upload.kind, upload.phase
        )));
    }
    uploads::require_complete(&upload)?;
    let preview = trello::preview(&db, Source::Staged(id))?;
    Ok(respond::json(200, &preview))
}

/// `POST /imports/{id}/run`: the staged file, imported in one transaction
/// (a Trello board with `{"mapping": …}` as the body). The answer is the
/// one-request route's; the upload keeps it, and its chunks go.
fn run_upload(req: &Request, actor: Actor, raw_id: &str) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let owner = uploader(&actor)?;
    let id = parse_uuid("id", raw_id)?;
    let db = Db::connect()?;
    let kind = Kind::parse(&uploads::find(&db, owner, id)?.kind)
        .map_err(|e| ApiError::internal("An upload of an unknown kind.").caused_by(e))?;
    uploads::start(&db, owner, id, kind)?;
    let mut progress = Progress::of(id)?;
    let outcome = match kind {
        Kind::Microtaskhub => json_import::import(&db, Source::Staged(id), &actor, &mut progress),
        Kind::Trello => {
            trello::import_staged(&db, Source::Staged(id), req.body(), &actor, &mut progress)
                .map(|summary| (summary, Some(owner)))
        }
    };
    drop(db);
    let (status, body, now_owner) = match &outcome {
        Ok((summary, who)) => (
            201,
            serde_json::to_value(summary).unwrap_or_default(),
            who.unwrap_or(owner),
        ),
        Err(e) => (e.status, e.to_json(), owner),
    };
    progress.finish(now_owner, status, &body)?;
    outcome.map(|_| respond::json(status, &body))
}

// ------------------------------------------------ saved views

/// Saved views are a person's own: a service acting for itself has none.
fn owner(actor: Actor) -> Result<Uuid, ApiError> {
    actor.person_id().ok_or_else(|| {
        ApiError::forbidden("Saved views belong to a person; call as one (a personal API token).")
    })
}

fn no_view(id: Uuid) -> ApiError {
    ApiError::not_found(format!("You have no saved view with id {id}."))
}

/// `GET /views`: the person's own saved views, by name, paged like the other lists.
fn list_views(req: &Request, owner: Uuid) -> Result<Response, ApiError> {
    let query = Query::parse(req.query(), &["limit", "offset"])?;
    let page = views::page(&Db::connect()?, owner, query.page()?)?;
    Ok(respond::page(&page.items, page.total))
}

/// `POST /views`: a name of theirs already taken (whatever its case) is a 409.
fn create_view(req: &Request, owner: Uuid) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let new = NewView::parse(JsonObject::from_request(req)?)?;
    let view = views::create(&Db::connect()?, owner, &new)?;
    Ok(respond::created(format!("/views/{}", view.id), &view))
}

fn show_view(req: &Request, owner: Uuid, raw_id: &str) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let id = parse_uuid("id", raw_id)?;
    let view = views::find(&Db::connect()?, owner, id)?.ok_or_else(|| no_view(id))?;
    Ok(respond::json(200, &view))
}

/// `PATCH /views/{id}`: renames a view or gives it new filters.
fn update_view(req: &Request, owner: Uuid, raw_id: &str) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let id = parse_uuid("id", raw_id)?;
    let patch = ViewPatch::parse(JsonObject::from_request(req)?)?;
    let db = Db::connect()?;
    let view = if patch.name.is_none() && patch.query.is_none() {
        views::find(&db, owner, id)?
    } else {
        views::update(&db, owner, id, &patch)?
    };
    Ok(respond::json(200, &view.ok_or_else(|| no_view(id))?))
}

fn delete_view(req: &Request, owner: Uuid, raw_id: &str) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let id = parse_uuid("id", raw_id)?;
    if views::delete(&Db::connect()?, owner, id)? {
        Ok(respond::no_content())
    } else {
        Err(no_view(id))
    }
}
