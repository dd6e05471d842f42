//! Dispatch on the full request path (never on `spin-path-info`). What
//! sign-in, sessions and tokens mean is the accounts crate's; this module
//! only maps routes to it and writes its cookies.

use mth_accounts::signin::{self, Browser, SignedIn};
use mth_accounts::{Session, account, oidc, sessions};
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
            // So would a bad OIDC setting (which also names its secret).
            let own = mth_accounts::client::trusted_proxies()
                .map(drop)
                .and_then(|()| oidc::settings::check());
            let secrets = ["database_url", "api_token", "ui_password"];
            health::respond_with_checks("frontend", &secrets, own)
        }),
        ["auth", ..] => {
            if req.method() != &Method::Get {
                security::check_origin(&req)?;
            }
            auth(&req, &ctx, &segments[1..])
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
fn auth(req: &Request, ctx: &RequestContext, rest: &[&str]) -> Result<Response, ApiError> {
    let browser = browser(req);
    match (req.method(), rest) {
        (Method::Post, ["login"]) => signed_in(&browser, signin::sign_in(&browser)?),
        (Method::Post, ["logout"]) => logout(&browser),
        (Method::Get, ["methods"]) => Ok(no_store(respond::json(200, &oidc::methods()?))),
        (Method::Get, ["oidc", "start"]) => oidc_start(&browser),
        (Method::Get, ["oidc", "callback"]) => Ok(oidc_callback(&browser, ctx)),
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
        (
            _,
            ["login" | "logout" | "session" | "set-password" | "password" | "tokens" | "methods"],
        )
        | (_, ["tokens", _] | ["oidc", "start" | "callback"]) => {
            Err(ApiError::method_not_allowed())
        }
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
    set_cookies(&mut response, browser.cookies(&signed_in));
    Ok(response)
}

/// Spellings of `Set-Cookie`: spin-sdk keeps response headers in a map
/// keyed by the name as given and hands every entry to wasi-http's
/// `from-list`, which appends: each spelling is one more `Set-Cookie` line
/// (one cookie each, as browsers require), not one overwriting the other.
const SET_COOKIE: [&str; 3] = ["set-cookie", "Set-Cookie", "SET-COOKIE"];

fn set_cookies<const N: usize>(response: &mut Response, cookies: [String; N]) {
    for (name, cookie) in SET_COOKIE.iter().zip(cookies) {
        response.set_header(*name, cookie);
    }
}

/// `https://host[:port]` as the browser addressed us.
fn origin(req: &Request) -> Result<String, ApiError> {
    let host = security::request_host(req)
        .ok_or_else(|| ApiError::bad_request("The request names no host."))?;
    let scheme = if security::is_https(req) {
        "https"
    } else {
        "http"
    };
    Ok(format!("{scheme}://{host}"))
}

fn redirect(location: &str) -> Response {
    let mut response = no_store(Response::new(303, ()));
    response.set_header("location", location);
    response
}

/// `GET /auth/oidc/start`: off to the identity provider.
fn oidc_start(browser: &Browser<'_>) -> Result<Response, ApiError> {
    let started = oidc::begin(browser, &origin(browser.req)?)?;
    let mut response = redirect(&started.location);
    set_cookies(&mut response, [started.state_cookie]);
    Ok(response)
}

/// `GET /auth/oidc/callback`: back from the provider. Signed in: to the
/// board. Refused: a browser (it accepts `text/html`) is sent to the
/// sign-in page, which shows why; any other client gets the JSON error.
fn oidc_callback(browser: &Browser<'_>, ctx: &RequestContext) -> Response {
    let clear_state = oidc::clear_state_cookie(browser.https);
    match oidc::finish(browser, browser.req.query()) {
        Ok(signed_in) => {
            let mut response = redirect("/");
            let [session, device] = browser.cookies(&signed_in);
            set_cookies(&mut response, [session, device, clear_state]);
            response
        }
        Err(error) => {
            let wants_html = mth_shared::request::header(browser.req, "accept")
                .is_some_and(|accept| accept.contains("text/html"));
            if !wants_html {
                let mut response = error.into_response();
                set_cookies(&mut response, [clear_state]);
                return response;
            }
            // Not through `serve`'s error log (this is a redirect): here.
            ctx.warn(&format!(
                "OIDC sign-in refused ({}): {} {}",
                error.status,
                error.detail,
                error.cause.as_deref().unwrap_or_default()
            ));
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("sign_in_error", &error.detail)
                .finish();
            let mut response = redirect(&format!("/?{query}"));
            set_cookies(&mut response, [clear_state]);
            response
        }
    }
}

/// Ends the session on the server, so the cookie is worthless even if kept.
/// With an identity provider that has an end-session endpoint, answers 200
/// with `end_session_url`, which the UI offers (ending the provider's own
/// session is the person's choice: it signs them out of other apps too).
fn logout(browser: &Browser<'_>) -> Result<Response, ApiError> {
    if let Some(value) = browser.session_value() {
        sessions::end(&Db::connect()?, value)?;
    }
    let end_session = oidc::end_session_url()?;
    let mut response = no_store(match end_session {
        Some(url) => respond::json(200, &serde_json::json!({ "end_session_url": url })),
        None => respond::no_content(),
    });
    response.set_header("set-cookie", sessions::clear_cookie(browser.https));
    Ok(response)
}
