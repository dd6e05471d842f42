//! frontend: the browser's one door to MicroTaskHub (route `/...`).
//!
//! Serves the single-page UI from `/static`, signs people in (through the
//! `mth-accounts` crate, which owns sessions, passwords and tokens), and forwards `/api/users…`, `/api/tasks…` and `/api/labels…` to the
//! services with the internal bearer token — which never reaches the browser
//! — naming the signed-in person, whose permissions the services apply.

pub mod assets;
pub mod changes;
pub mod feed_tail;
pub mod gateway;
pub mod live;
pub mod openapi;
pub mod routes;
pub mod security;

use spin_sdk::http::Response;

/// Handles one request: the response, and for the change feed's stream
/// (`live`) what follows its head. Public so the crate's logic also builds
/// natively.
pub async fn handle_request(
    req: mth_shared::incoming::Incoming,
) -> (Response, Option<live::Follow>) {
    // Behind the ingress, TLS ends there and X-Forwarded-Proto says https.
    let https = security::is_https(req.head());
    let (mut response, follow) = if live::wanted(req.head()) {
        live::serve(req).await
    } else {
        (
            mth_shared::serve("frontend", req, routes::handle).await,
            None,
        )
    };
    security::apply_headers(&mut response, https);
    (response, follow)
}

/// A response's headers as the list wasi-http sends, in a fixed order:
/// by name, and of the `Set-Cookie` lines the session's first. spin-sdk
/// keeps headers in a hash map, whose order changes from one request to the
/// next; clients that read "the" cookie of a sign-in read the session.
pub fn header_list(response: &Response) -> Vec<(String, Vec<u8>)> {
    let mut headers: Vec<(String, Vec<u8>)> = response
        .headers()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.as_bytes().to_vec()))
        .collect();
    let session_first = |(name, value): &(String, Vec<u8>)| {
        let is_session = name == "set-cookie"
            && [
                mth_accounts::sessions::COOKIE,
                mth_accounts::sessions::SECURE_COOKIE,
            ]
            .iter()
            .any(|cookie| value.starts_with(format!("{cookie}=").as_bytes()));
        (name.clone(), !is_session, value.clone())
    };
    headers.sort_by_key(session_first);
    headers
}

// Not `mth_shared::http_export!`: this component writes its response
// itself, to send the headers in [`header_list`]'s order.
#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
async fn handle(
    req: spin_sdk::http::IncomingRequest,
    response_out: spin_sdk::http::ResponseOutparam,
) {
    use mth_shared::event_stream::EventStream;
    use spin_sdk::http::{Fields, OutgoingResponse};
    // The body is read under a deadline (`mth_shared::incoming`).
    let (response, follow) = handle_request(mth_shared::incoming::read(req)).await;
    let Some(follow) = follow else {
        // In one piece (`mth_shared::send`).
        let (status, headers) = (*response.status(), header_list(&response));
        mth_shared::send::parts(response_out, status, &headers, &response.into_body());
        return;
    };
    let fields = Fields::from_list(&header_list(&response)).unwrap_or_else(|_| Fields::new());
    let outgoing = OutgoingResponse::new(fields);
    let _ = outgoing.set_status_code(*response.status());
    // A stream: the head goes out now, the events as they come.
    let Ok(body) = outgoing.body() else { return };
    response_out.set(outgoing);
    let Some(out) = EventStream::new(body) else {
        return;
    };
    if out.send(&response.into_body()) {
        follow.run(&out);
    }
    out.finish();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_the_first_set_cookie() {
        for _ in 0..20 {
            let mut response = Response::new(200, ());
            response.set_header("set-cookie", "mth_session=s; Path=/");
            response.set_header("Set-Cookie", "mth_device=d; Path=/");
            response.set_header("content-type", "application/json");
            let names: Vec<String> = header_list(&response)
                .into_iter()
                .map(|(name, value)| format!("{name}: {}", String::from_utf8(value).unwrap()))
                .collect();
            assert_eq!(
                names,
                [
                    "content-type: application/json",
                    "set-cookie: mth_session=s; Path=/",
                    "set-cookie: mth_device=d; Path=/"
                ]
            );
        }
    }
}
