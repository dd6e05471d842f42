//! Dispatch on the full request path (never on `spin-path-info`).

use mth_shared::body::JsonObject;
use mth_shared::db::Db;
use mth_shared::query::parse_uuid;
use mth_shared::request::header;
use mth_shared::{ApiError, RequestContext, health, respond};
use spin_sdk::http::{Method, Request, Response};

use crate::session::{self, Session};
use crate::{account, assets, gateway, security, signin};

pub async fn handle(req: Request, ctx: RequestContext) -> Result<Response, ApiError> {
    let path = req.path().to_owned();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    match segments.as_slice() {
        ["health"] => only(&req, &[Method::Get, Method::Head]).map(|()| {
            health::respond_with_secrets("frontend", &["database_url", "api_token", "ui_password"])
        }),
        ["auth", ..] => {
            if req.method() != &Method::Get {
                security::check_origin(&req)?;
            }
            auth(&req, &segments[1..])
        }
        ["api", ..] => {
            let target = gateway::target(&path)
                .ok_or_else(|| ApiError::not_found("No such API endpoint."))?;
            security::check_origin(&req)?;
            let session = current_session(&req)?;
            gateway::forward(&req, &ctx, target, &session.person)
        }
        _ => assets::serve(&req),
    }
}

/// `/auth/...`: signing in and out, and the signed-in person's own account.
fn auth(req: &Request, rest: &[&str]) -> Result<Response, ApiError> {
    let method = req.method();
    match (method, rest) {
        (Method::Post, ["login"]) => signed_in(req, signin::sign_in(req)?, 200),
        (Method::Post, ["logout"]) => logout(req),
        (Method::Get, ["session"]) => Ok(no_store(respond::json(200, &current_session(req)?))),
        (Method::Post, ["set-password"]) => signed_in(
            req,
            account::set_with_link(JsonObject::from_request(req)?)?,
            200,
        ),
        (Method::Post, ["password"]) => {
            let session = current_session(req)?;
            signed_in(
                req,
                account::change(&session, JsonObject::from_request(req)?)?,
                200,
            )
        }
        (Method::Get, ["tokens"]) => {
            let tokens = account::tokens(&current_session(req)?)?;
            Ok(no_store(respond::json(200, &tokens)))
        }
        (Method::Post, ["tokens"]) => {
            let session = current_session(req)?;
            let created = account::create_token(&session, JsonObject::from_request(req)?)?;
            Ok(no_store(respond::json(201, &created)))
        }
        (Method::Delete, ["tokens", id]) => {
            let session = current_session(req)?;
            account::revoke_token(&session, parse_uuid("id", id)?)?;
            Ok(respond::no_content())
        }
        (_, ["login" | "logout" | "session" | "set-password" | "password" | "tokens"])
        | (_, ["tokens", _]) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::not_found("No such endpoint.")),
    }
}

fn only(req: &Request, methods: &[Method]) -> Result<(), ApiError> {
    if methods.contains(req.method()) {
        Ok(())
    } else {
        Err(ApiError::method_not_allowed())
    }
}

fn no_store(mut response: Response) -> Response {
    response.set_header("cache-control", "no-store");
    response
}

/// The answer that signs a browser in: the session, and its cookie.
fn signed_in(
    req: &Request,
    (value, session): (String, Session),
    status: u16,
) -> Result<Response, ApiError> {
    let mut response = no_store(respond::json(status, &session));
    response.set_header(
        "set-cookie",
        session::set_cookie(&value, security::is_https(req)),
    );
    Ok(response)
}

fn signed_out() -> ApiError {
    ApiError::new(
        401,
        "You are not signed in, or your session has ended. Please sign in.",
    )
}

fn cookie_values(req: &Request) -> impl Iterator<Item = &str> {
    session::cookie_values(
        header(req, "cookie").unwrap_or_default(),
        session::COOKIE_NAME,
    )
    .filter(|v| !v.is_empty())
}

/// The live session the request's cookie names.
fn current_session(req: &Request) -> Result<Session, ApiError> {
    let mut values = cookie_values(req).peekable();
    if values.peek().is_none() {
        return Err(signed_out());
    }
    let db = Db::connect()?;
    for value in values {
        if let Some(session) = session::find(&db, value)? {
            return Ok(session);
        }
    }
    Err(signed_out())
}

/// Ends the session on the server, so the cookie is worthless even if kept.
fn logout(req: &Request) -> Result<Response, ApiError> {
    let values: Vec<&str> = cookie_values(req).collect();
    if !values.is_empty() {
        let db = Db::connect()?;
        for value in values {
            session::end(&db, value)?;
        }
    }
    let mut response = no_store(respond::no_content());
    response.set_header("set-cookie", session::clear_cookie(security::is_https(req)));
    Ok(response)
}
