//! `/users` endpoints: authentication, dispatch, and the steps of each operation.

use mth_shared::body::JsonObject;
use mth_shared::db::Db;
use mth_shared::query::{Query, parse_uuid};
use mth_shared::{ApiError, RequestContext, respond, route, token};
use spin_sdk::http::{Method, Request, Response};
use uuid::Uuid;

use crate::domain::{NewUser, UserPatch};
use crate::store::{self, Deleted, Updated};
use crate::tasks;

pub async fn handle(req: Request, ctx: RequestContext) -> Result<Response, ApiError> {
    route::api(&req, "users", "user-service", |method, segments, actor| {
        // Everyone signed in reads the team; only admins manage people.
        let admin = |to| actor.require_admin(to);
        match (method, segments) {
            (&Method::Post, ["users"]) => Some(admin("add people").and_then(|()| create(&req))),
            (&Method::Get, ["users"]) => Some(list(&req)),
            (&Method::Get, ["users", id]) => Some(show(&req, id)),
            (&Method::Patch, ["users", id]) => {
                Some(admin("change people").and_then(|()| update(&req, id)))
            }
            (&Method::Delete, ["users", id]) => {
                Some(admin("delete people").and_then(|()| delete(&req, &ctx, id)))
            }
            (&Method::Post, ["users", id, "invitation"]) => Some(
                admin("invite people or reset passwords")
                    .and_then(|()| invite(&req, id, actor.person_id())),
            ),
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
    if patch.is_empty() {
        let user = store::find(&db, id)?.ok_or_else(|| not_found(id))?;
        return Ok(respond::json(200, &user));
    }
    match store::update(&db, id, &patch)? {
        Updated::Yes(user) => Ok(respond::json(200, &user)),
        Updated::NoSuchUser => Err(not_found(id)),
        Updated::EmailTaken => Err(store::email_taken(
            patch.email.as_ref().map_or("", |e| e.as_str()),
        )),
    }
}

/// A one-time set-password link (an invitation, or a reset), valid 72 hours.
/// The token is shown only here; the database keeps its digest.
fn invite(req: &Request, raw_id: &str, by: Option<Uuid>) -> Result<Response, ApiError> {
    let id = user_id(req, raw_id)?;
    let token = token::generate("")?;
    let expires_at = store::invite(&Db::connect()?, id, token::digest(&token), by)?;
    let Some(expires_at) = expires_at else {
        return match store::find(&Db::connect()?, id)? {
            None => Err(not_found(id)),
            Some(_) => Err(ApiError::conflict(
                "This person is deactivated. Reactivate them before sending a link.",
            )),
        };
    };
    Ok(respond::json(
        201,
        &serde_json::json!({
            "user_id": id,
            "path": format!("/set-password#{token}"),
            "expires_at": expires_at,
        }),
    ))
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
