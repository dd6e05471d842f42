//! `/users` endpoints: authentication, dispatch, and the steps of each operation.

use mth_shared::body::JsonObject;
use mth_shared::db::Db;
use mth_shared::query::{Query, parse_uuid};
use mth_shared::{ApiError, RequestContext, respond, route};
use spin_sdk::http::{Method, Request, Response};
use uuid::Uuid;

use crate::domain::{NewUser, UserPatch};
use crate::store::{self, Deleted};
use crate::tasks;

pub async fn handle(req: Request, ctx: RequestContext) -> Result<Response, ApiError> {
    route::api(&req, "users", "user-service", |method, segments| {
        match (method, segments) {
            (&Method::Post, ["users"]) => Some(create(&req)),
            (&Method::Get, ["users"]) => Some(list(&req)),
            (&Method::Get, ["users", id]) => Some(show(&req, id)),
            (&Method::Patch, ["users", id]) => Some(update(&req, id)),
            (&Method::Delete, ["users", id]) => Some(delete(&req, &ctx, id)),
            _ => None,
        }
    })
}

/// Endpoints on one user take no query parameters.
fn user_id(req: &Request, raw: &str) -> Result<Uuid, ApiError> {
    Query::parse(req.query(), &[])?;
    parse_uuid("id", raw)
}

fn not_found(id: Uuid) -> ApiError {
    ApiError::not_found(format!("No user with id {id}."))
}

fn create(req: &Request) -> Result<Response, ApiError> {
    Query::parse(req.query(), &[])?;
    let new = NewUser::parse(JsonObject::from_request(req)?)?;
    let user = store::insert(&Db::connect()?, &new)?;
    Ok(respond::created(format!("/users/{}", user.id), &user))
}

fn list(req: &Request) -> Result<Response, ApiError> {
    let page = Query::parse(req.query(), &["limit", "offset"])?.page()?;
    let page = store::list(&Db::connect()?, page)?;
    Ok(respond::page(&page.items, page.total))
}

fn show(req: &Request, raw_id: &str) -> Result<Response, ApiError> {
    let id = user_id(req, raw_id)?;
    let user = store::find(&Db::connect()?, id)?.ok_or_else(|| not_found(id))?;
    Ok(respond::json(200, &user))
}

fn update(req: &Request, raw_id: &str) -> Result<Response, ApiError> {
    let id = user_id(req, raw_id)?;
    let patch = UserPatch::parse(JsonObject::from_request(req)?)?;
    let db = Db::connect()?;
    let user = if patch.is_empty() {
        store::find(&db, id)?
    } else {
        store::update(&db, id, &patch)?
    };
    Ok(respond::json(200, &user.ok_or_else(|| not_found(id))?))
}

/// Refuses while the user has unfinished tasks. task-service is asked first
/// for a precise answer; the database's own check catches a task assigned in
/// the meantime, so the two can never disagree in a way that loses data.
///
/// No connection is held while task-service is asked: Spin's pool (64 per
/// address, no wait timeout) is shared with task-service, and callers each
/// holding one while waiting for it would deadlock the process.
fn delete(req: &Request, ctx: &RequestContext, raw_id: &str) -> Result<Response, ApiError> {
    let id = user_id(req, raw_id)?;
    if store::find(&Db::connect()?, id)?.is_none() {
        return Err(not_found(id));
    }
    let open = tasks::open_tasks(ctx, id)?;
    if open.total() > 0 {
        return Err(ApiError::conflict(format!(
            "This user still has {}. Finish or reassign them before deleting the user.",
            open.describe()
        )));
    }
    match store::delete(&Db::connect()?, id)? {
        Deleted::Yes => Ok(respond::no_content()),
        Deleted::NoSuchUser => Err(not_found(id)),
        Deleted::HasOpenTasks => Err(ApiError::conflict(
            "This user was just given an unfinished task. Finish or reassign it before deleting the user.",
        )),
    }
}
