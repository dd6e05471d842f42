//! Dispatch on the full request path (never on `spin-path-info`). What
//! sign-in, sessions and tokens mean is the accounts crate's; this module
//! only maps routes to it and writes its cookies.

use mth_accounts::signin::{self, Browser, SignedIn};
use mth_accounts::{Session, account, oidc, sessions};
use mth_shared::db::Db;
use mth_shared::query::{Query, parse_uuid};
use mth_shared::route::{self, Found, Route};
use mth_shared::{ApiError, RequestContext, health, respond};
use spin_sdk::http::{Method, Request, Response};

use crate::{assets, changes, gateway, openapi, security};

/// What the frontend serves itself (besides the UI's files and the
/// gateway's `/api/users…`, `/api/tasks…` and `/api/labels…`, which are the services'
/// tables under `/api`). The contract test compares it with docs/openapi.json.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Health,
    Login,
    Logout,
    Session,
    SetPassword,
    ChangePassword,
    ListTokens,
    CreateToken,
    RevokeToken,
    SignInMethods,
    OidcStart,
    OidcCallback,
    OpenApi,
    ApiDocs,
    Changes,
}

pub const ROUTES: &[Route<Op>] = &[
    Route::new(Method::Get, "/health", Op::Health),
    Route::new(Method::Head, "/health", Op::Health),
    Route::new(Method::Post, "/auth/login", Op::Login),
    Route::new(Method::Post, "/auth/logout", Op::Logout),
    Route::new(Method::Get, "/auth/session", Op::Session),
    Route::new(Method::Post, "/auth/set-password", Op::SetPassword),
    Route::new(Method::Post, "/auth/password", Op::ChangePassword),
    Route::new(Method::Get, "/auth/tokens", Op::ListTokens),
    Route::new(Method::Post, "/auth/tokens", Op::CreateToken),
    Route::new(Method::Delete, "/auth/tokens/{id}", Op::RevokeToken),
    Route::new(Method::Get, "/auth/methods", Op::SignInMethods),
    Route::new(Method::Get, "/auth/oidc/start", Op::OidcStart),
    Route::new(Method::Get, "/auth/oidc/callback", Op::OidcCallback),
    Route::new(Method::Get, "/api/openapi.json", Op::OpenApi),
    Route::new(Method::Get, "/api/docs", Op::ApiDocs),
    Route::new(Method::Get, changes::PATH, Op::Changes),
];

pub async fn handle(req: Request, ctx: RequestContext) -> Result<Response, ApiError> {
    let path = req.path().to_owned();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    match route::find(ROUTES, req.method(), &segments) {
        Found::Op(op, params) => serve(&req, &ctx, op, &params),
        Found::WrongMethod(allowed) => Err(ApiError::method_not_allowed(&allowed)),
        Found::Nothing => match segments.as_slice() {
            ["auth", ..] => Err(ApiError::not_found("No such endpoint.")),
            ["api", ..] => {
                let target = gateway::target(&path)
                    .ok_or_else(|| ApiError::not_found("No such API endpoint."))?;
                security::check_origin(&req)?;
                let session = browser(&req).session()?;
                gateway::forward(&req, &ctx, target, &session.actor)
            }
            _ => assets::serve(&req),
        },
    }
}

fn serve(
    req: &Request,
    ctx: &RequestContext,
    op: Op,
    params: &[&str],
) -> Result<Response, ApiError> {
    // Writes only from our own pages (reads pass: see check_origin).
    security::check_origin(req)?;
    let browser = browser(req);
    match op {
        Op::Health => {
            // A malformed trusted_proxies would fail every sign-in: unready.
            // So would a bad OIDC setting (which also names its secret).
            let own = mth_accounts::client::trusted_proxies()
                .map(drop)
                .and_then(|()| oidc::settings::check());
            let secrets = ["database_url", "api_token", "ui_password"];
            Ok(health::respond_with_checks("frontend", &secrets, own))
        }
        Op::Login => signed_in(&browser, signin::sign_in(&browser)?),
        Op::Logout => logout(&browser),
        Op::Session => Ok(no_store(respond::json(200, &browser.session()?.to_json()))),
        Op::SetPassword => signed_in(&browser, account::set_with_link(&browser)?),
        Op::ChangePassword => {
            let session = browser.session()?;
            signed_in(&browser, account::change(&browser, &session)?)
        }
        Op::ListTokens => {
            let tokens = account::tokens(&browser.session()?)?;
            Ok(no_store(respond::json(200, &tokens)))
        }
        Op::CreateToken => {
            let session: Session = browser.session()?;
            let created = account::create_token(&browser, &session)?;
            Ok(no_store(respond::json(201, &created)))
        }
        Op::RevokeToken => {
            let session = browser.session()?;
            account::revoke_token(&session, parse_uuid("id", params[0])?)?;
            Ok(respond::no_content())
        }
        Op::SignInMethods => Ok(no_store(respond::json(200, &oidc::methods()?))),
        Op::OidcStart => oidc_start(&browser),
        Op::OidcCallback => Ok(oidc_callback(&browser, ctx)),
        Op::OpenApi => Ok(openapi::document(req)),
        Op::ApiDocs => assets::serve_file(req, assets::API_DOCS),
        Op::Changes => feed(req, &browser),
    }
}

/// `GET /api/changes?after=`, one poll (the stream, `Accept:
/// text/event-stream`, is [`crate::live`]'s): for signed-in browsers; the
/// session is checked in the feed's own statement, and its idle clock left
/// alone.
fn feed(req: &Request, browser: &Browser<'_>) -> Result<Response, ApiError> {
    let query = Query::parse(req.query(), &["after"])?;
    let after = query.get("after").map(changes::Cursor::parse).transpose()?;
    let session = browser.session_value().ok_or_else(signin::signed_out)?;
    let feed = changes::read(&Db::connect()?, changes::Reader::Session(session), after)?;
    Ok(no_store(respond::json(200, &feed)))
}

fn browser(req: &Request) -> Browser<'_> {
    Browser {
        req,
        https: security::is_https(req),
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
