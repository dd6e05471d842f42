//! The request as the component receives it, with its body read under a
//! deadline.
//!
//! spin-sdk's own conversion to a `Request` waits for the whole body for as
//! long as the client likes: a client that sends its headers and part of a
//! body, then nothing, held an instance (and, for a sign-in, a place in the
//! throttle's flow) for ever under every host. Here each wait for more of
//! the body is bounded: a client silent for [`BODY_IDLE`] gets `408`.
//! Bodies larger than [`crate::body::max_body_bytes`] (64 KiB; an import's
//! 32 MiB) are not read past that limit plus one chunk: the handler answers
//! them `413`.
//!
//! A refused body still yields the request's head, so that [`crate::serve`]
//! answers it like any other error: logged, with its `X-Request-Id` and, in
//! the frontend, the security headers.

use std::time::Duration;

use spin_sdk::http::{IncomingRequest, Request};
use wasi::io::streams::StreamError;

use crate::ApiError;
use crate::body::max_body_bytes;
use crate::deadline::Deadline;

/// How long the body may go without a byte.
pub const BODY_IDLE: Duration = Duration::from_secs(10);

/// A request as [`crate::serve`] takes it.
pub enum Incoming {
    /// Head and whole body.
    Read(Request),
    /// The body could not be read: the head (with an empty body) and the
    /// answer to give without running the handler.
    Refused { head: Request, error: ApiError },
}

impl Incoming {
    /// The request's method, URI and headers.
    pub fn head(&self) -> &Request {
        match self {
            Incoming::Read(request) | Incoming::Refused { head: request, .. } => request,
        }
    }
}

impl From<Request> for Incoming {
    fn from(request: Request) -> Self {
        Incoming::Read(request)
    }
}

/// The request with its body, or its head and the error to answer at once.
pub fn read(request: IncomingRequest) -> Incoming {
    let method = request.method();
    let uri = request.uri();
    // Copied out first: the header fields are a resource of the request.
    let headers: Vec<(String, Vec<u8>)> = request.headers().entries();
    let build = |body: Vec<u8>| {
        Request::builder()
            .method(method.clone())
            .uri(uri.clone())
            .headers(headers.clone())
            .body(body)
            .build()
    };
    let limit = max_body_bytes(&uri);
    match read_body(request, limit) {
        Ok(body) => Incoming::Read(build(body)),
        Err(error) => Incoming::Refused {
            head: build(Vec::new()),
            error,
        },
    }
}

fn read_body(request: IncomingRequest, limit: usize) -> Result<Vec<u8>, ApiError> {
    let body = request
        .consume()
        .map_err(|()| ApiError::internal("The request body was already taken."))?;
    let stream = body
        .stream()
        .map_err(|()| ApiError::internal("The request body stream was already taken."))?;
    let mut bytes = Vec::new();
    loop {
        match stream.read(64 * 1024) {
            Ok(chunk) if chunk.is_empty() => {
                let deadline = Deadline::after(BODY_IDLE);
                deadline.wait_for(&stream.subscribe()).map_err(|_| {
                    ApiError::new(
                        408,
                        format!(
                            "The request body stopped arriving: nothing came for {} seconds.",
                            BODY_IDLE.as_secs()
                        ),
                    )
                })?;
            }
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                // Enough to know it is too large; the handler says 413.
                if bytes.len() > limit {
                    break;
                }
            }
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(ApiError::bad_request("The request body could not be read.")
                    .caused_by(e.to_debug_string()));
            }
        }
    }
    Ok(bytes)
}
