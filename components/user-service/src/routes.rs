//! `/users` endpoints: authentication, dispatch, and the steps of each operation.

use mth_accounts::{Actor, Permission, invitations, sessions};
use mth_shared::body::JsonObject;
use mth_shared::db::Db;
use mth_shared::query::{Query, parse_uuid};
use mth_shared::route::{self, Route};
use mth_shared::{ApiError, RequestContext, respond};
use spin_sdk::http::{Method, Request, Response};
use uuid::Uuid;

use crate::domain::{NewUser, UserPatch};
use crate::store::{self, Deleted, Updated};
use crate::tasks;

/// What user-service serves (the contract test compares it with docs/openapi.json).
#[derive(Debug, Clone, Copy)]
pub enum Op {
    Create,
    List,
    Show,
    Update,
    Delete,
    Invite,
}

pub const ROUTES: &[Route<Op>] = &[
    Route::new(Method::Post, "/users", Op::Create),
    Route::new(Method::Get, "/users", Op::List),
    Route::new(Method::Get, "/users/{id}", Op::Show),
    Route::new(Method::Patch, "/users/{id}", Op::Update),
    Route::new(Method::Delete, "/users/{id}", Op::Delete),
    Route::new(Method::Post, "/users/{id}/invitation", Op::Invite),
];

pub async fn handle(req: Request, ctx: RequestContext) -> Result<Response, ApiError> {
    let authenticate = mth_accounts::authenticate;
    route::api(
        &req,
        "users",
        "user-service",
        ROUTES,
        authenticate,
        |op, params, actor| {
            // Everyone signed in reads the team; managing people is a permission.
            let admin = |to| actor.require(Permission::ManagePeople, to);
            let id = || params[0];
            match op {
                Op::Create => admin("add people").and_then(|()| create(&req)),
                Op::List => list(&req),
                Op::Show => show(&req, id()),
                Op::Update => admin("change people").and_then(|()| update(&req, id())),
                Op::Delete => admin("delete people").and_then(|()| delete(&req, &ctx, id())),
                Op::Invite => admin("invite people or reset passwords")
                    .and_then(|()| invite(&req, id(), &actor)),
            }
        },
    )
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
        Updated::Yes(user) => {
            if !user.active {
                // Their sessions would be refused anyway (every lookup
                // checks `active`); ending them frees the rows at once.
                sessions::end_all(&db, id)?;
            }
            Ok(respond::json(200, &user))
        }
        Updated::LastAdmin => Err(last_admin(&patch)),
        Updated::NoSuchUser => Err(not_found(id)),
        Updated::EmailTaken => Err(store::email_taken(
            patch.email.as_ref().map_or("", |e| e.as_str()),
        )),
    }
}

/// Refused: the team must keep an active admin who can manage it.
fn last_admin(patch: &UserPatch) -> ApiError {
    let what = if patch.active == Some(false) {
        "deactivated"
    } else {
        "made a member"
    };
    ApiError::conflict(format!(
        "This is the team's only active admin, so they cannot be {what}. Make someone else an admin first."
    ))
}

/// A one-time set-password link (an invitation, or a reset), valid 72 hours.
/// The token is shown only here; the database keeps its digest.
fn invite(req: &Request, raw_id: &str, by: &Actor) -> Result<Response, ApiError> {
    let id = user_id(req, raw_id)?;
    let link = invitations::create(&Db::connect()?, id, by)?;
    let Some(link) = link else {
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
            "path": format!("/set-password#{}", link.token),
            "expires_at": link.expires_at,
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
        Deleted::LastAdmin => Err(ApiError::conflict(
            "This is the team's only active admin, so they cannot be deleted. Make someone else an admin first.",
        )),
        Deleted::HasOpenTasks => Err(ApiError::conflict(
            "This user was just given an unfinished task. Finish or reassign it before deleting the user.",
        )),
    }
}
