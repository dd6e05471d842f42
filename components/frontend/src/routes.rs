//! Dispatch on the full request path (never on `spin-path-info`). What
//! sign-in, sessions and tokens mean is the accounts crate's; this module
//! only maps routes to it and writes its cookies.

use mth_accounts::signin::{self, Browser, SignedIn};
use mth_accounts::{Session, account, sessions};
use mth_shared::db::Db;
use mth_shared::query::parse_uuid;
use mth_shared::{ApiError, RequestContext, health, respond};
use spin_sdk::http::{Method, Request, Response};

use crate::{assets, gateway, security};

pub async fn handle(req: Request, ctx: RequestContext) -> Result<Response, ApiError> {
    let path = req.path().to_owned();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    match segments.as_slice() {
        ["health"] => only(&req, &[Method::Get, Method::Head]).map(|()| {
            // A malformed trusted_proxies would fail every sign-in: unready.
            let proxies = mth_accounts::client::trusted_proxies().map(drop);
            let secrets = ["database_url", "api_token", "ui_password"];
            health::respond_with_checks("frontend", &secrets, proxies)
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
            let session = browser(&req).session()?;
            gateway::forward(&req, &ctx, target, &session.actor)
        }
        _ => assets::serve(&req),
    }
}

fn browser(req: &Request) -> Browser<'_> {
    Browser {
        req,
        https: security::is_https(req),
    }
}

/// `/auth/...`: signing in and out, and the signed-in person's own account.
fn auth(req: &Request, rest: &[&str]) -> Result<Response, ApiError> {
    let browser = browser(req);
    match (req.method(), rest) {
        (Method::Post, ["login"]) => signed_in(&browser, signin::sign_in(&browser)?),
        (Method::Post, ["logout"]) => logout(&browser),
        (Method::Get, ["session"]) => {
            Ok(no_store(respond::json(200, &browser.session()?.to_json())))
        }
        (Method::Post, ["set-password"]) => signed_in(&browser, account::set_with_link(&browser)?),
        (Method::Post, ["password"]) => {
            let session = browser.session()?;
            signed_in(&browser, account::change(&browser, &session)?)
        }
        (Method::Get, ["tokens"]) => {
            let tokens = account::tokens(&browser.session()?)?;
            Ok(no_store(respond::json(200, &tokens)))
        }
        (Method::Post, ["tokens"]) => {
            let session: Session = browser.session()?;
            let created = account::create_token(&browser, &session)?;
            Ok(no_store(respond::json(201, &created)))
        }
        (Method::Delete, ["tokens", id]) => {
            let session = browser.session()?;
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

/// The answer that signs a browser in: the session, and its cookies (the
/// session's, and the device cookie that marks this browser as one the
/// person signed in from).
fn signed_in(browser: &Browser<'_>, signed_in: SignedIn) -> Result<Response, ApiError> {
    let mut response = no_store(respond::json(200, &signed_in.session.to_json()));
    let [session, device] = browser.cookies(&signed_in);
    // spin-sdk keeps response headers in a map keyed by the name as given
    // and hands every entry to wasi-http's `from-list`, which appends: two
    // spellings of the name are two `Set-Cookie` lines (one cookie each, as
    // browsers require), not one overwriting the other.
    response.set_header("set-cookie", session);
    response.set_header("Set-Cookie", device);
    Ok(response)
}

/// Ends the session on the server, so the cookie is worthless even if kept.
fn logout(browser: &Browser<'_>) -> Result<Response, ApiError> {
    if let Some(value) = browser.session_value() {
        sessions::end(&Db::connect()?, value)?;
    }
    let mut response = no_store(respond::no_content());
    response.set_header("set-cookie", sessions::clear_cookie(browser.https));
    Ok(response)
}
