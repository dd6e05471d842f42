//! Dispatch on the full request path (never on `spin-path-info`).

use mth_shared::body::{JsonObject, string};
use mth_shared::{ApiError, RequestContext, config, health, respond};
use spin_sdk::http::{Method, Request, Response};

use crate::security;
use crate::session::{self, Session};
use crate::{assets, gateway};
use mth_shared::request::header;
use mth_shared::time::Timestamp;

pub async fn handle(req: Request, ctx: RequestContext) -> Result<Response, ApiError> {
    let path = req.path().to_owned();
    match path.as_str() {
        "/health" => only(&req, &[Method::Get, Method::Head]).map(|()| {
            health::respond_without_database(
                "frontend",
                &["api_token", "ui_password", "session_secret"],
            )
        }),
        "/auth/login" => {
            only(&req, &[Method::Post])?;
            security::check_origin(&req)?;
            login(&req)
        }
        "/auth/logout" => {
            only(&req, &[Method::Post])?;
            security::check_origin(&req)?;
            Ok(logout(&req))
        }
        "/auth/session" => {
            only(&req, &[Method::Get])?;
            let session = current_session(&req)?;
            Ok(no_store(respond::json(200, &session_body(&session))))
        }
        _ if path == "/api" || path.starts_with("/api/") => {
            let target = gateway::target(&path)
                .ok_or_else(|| ApiError::not_found("No such API endpoint."))?;
            security::check_origin(&req)?;
            current_session(&req)?;
            gateway::forward(&req, &ctx, target)
        }
        _ => assets::serve(&req),
    }
}

fn only(req: &Request, methods: &[Method]) -> Result<(), ApiError> {
    if methods.contains(req.method()) {
        Ok(())
    } else {
        Err(ApiError::method_not_allowed())
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn no_store(mut response: Response) -> Response {
    response.set_header("cache-control", "no-store");
    response
}

fn session_body(session: &Session) -> serde_json::Value {
    serde_json::json!({
        "username": session.username,
        "expires_at": Timestamp::from_unix(session.expires_at),
    })
}

fn signed_out() -> ApiError {
    ApiError::new(
        401,
        "You are not signed in, or your session has expired. Please sign in.",
    )
}

/// The session from the request's cookie, for the configured user only.
fn current_session(req: &Request) -> Result<Session, ApiError> {
    let secret = config::var("session_secret")?;
    let cookies = header(req, "cookie").unwrap_or_default();
    let session =
        session::from_cookie_header(cookies, secret.as_bytes(), now()).map_err(|_| signed_out())?;
    // A session of a user who is no longer configured is over.
    if session.username != config::var("ui_username")? {
        return Err(signed_out());
    }
    Ok(session)
}

fn login(req: &Request) -> Result<Response, ApiError> {
    let mut body = JsonObject::from_request(req)?;
    let username = body.required("username", string);
    let password = body.required("password", string);
    let (username, password) = body.finish(|| Some((username?, password?)))?;

    let expected_username = config::var("ui_username")?;
    let expected_password = config::var("ui_password")?;
    let secret = config::var("session_secret")?;
    if secret.is_empty() {
        return Err(ApiError::internal(
            "Server misconfigured: variable 'session_secret' is empty.",
        ));
    }
    // Both are always compared, so timing does not tell which one was wrong.
    let user_ok = session::credential_matches(&username, &expected_username);
    let password_ok = session::credential_matches(&password, &expected_password);
    if !(user_ok & password_ok) {
        return Err(ApiError::new(401, "Incorrect username or password."));
    }

    let now = now();
    let session = Session {
        username,
        expires_at: now + session::LIFETIME_SECS,
    };
    let value = session::sign(secret.as_bytes(), &session.username, session.expires_at);
    let mut response = no_store(respond::json(200, &session_body(&session)));
    response.set_header(
        "set-cookie",
        session::set_cookie(&value, session.expires_at, now, security::is_https(req)),
    );
    Ok(response)
}

fn logout(req: &Request) -> Response {
    let mut response = no_store(respond::no_content());
    response.set_header("set-cookie", session::clear_cookie(security::is_https(req)));
    response
}
