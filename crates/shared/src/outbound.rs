//! One outbound HTTP exchange with a deadline, on raw `wasi:http`.
//!
//! `spin_sdk::http::send` waits as long as the host does. The host's own
//! limits are not enough: Spin honours the connect and first-byte timeouts of
//! the request options only on network requests — a service-chained request
//! (`*.spin.internal`) runs the target inline and ignores them. So the deadline
//! is kept here, in the guest, by polling the response (and every body read
//! and write) together with a monotonic-clock timer. The options are passed
//! too, so the host gives up on its side of a network call as well.
//!
//! Dropping the pending response on time-out tells the host to abandon the
//! call (Spin and the runner abort the task behind it).

use std::time::Duration;

use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingResponse, Method,
    OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::streams::{InputStream, OutputStream, StreamError};

use crate::deadline::{Deadline, Expired};

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Header names in lower case, as `wasi:http` gives them.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }
}

/// Why there is no reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The deadline passed: the other side may still be working on it.
    TimedOut(Duration),
    /// Refused, unreachable, denied by `allowed_outbound_hosts`, or broken.
    Failed(String),
    /// Not sent, because sending it would be a bug on our side.
    NotSent(String),
}

impl From<Expired> for CallError {
    fn from(Expired(limit): Expired) -> Self {
        CallError::TimedOut(limit)
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::TimedOut(limit) => write!(f, "no answer within {} ms", limit.as_millis()),
            CallError::Failed(why) | CallError::NotSent(why) => f.write_str(why),
        }
    }
}

/// A request to send: `url` is absolute (`http://host[:port]/path?query`).
pub struct Call<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    /// The whole exchange — connect, first byte, body — must end within this.
    pub timeout: Duration,
}

impl Call<'_> {
    /// Sends the request and reads the whole response, or gives up at the deadline.
    ///
    /// Refused (`NotSent`) while the request holds a database connection:
    /// under load, connections held across calls deadlock Spin's shared
    /// pool — the other side (a service, or the identity provider's slow
    /// answer) waits on a connection that the waiting caller holds.
    pub fn send(&self) -> Result<Reply, CallError> {
        if crate::db::open_connections() > 0 {
            return Err(CallError::NotSent(format!(
                "bug: a database connection is held across a call to {} \
                 (under load this deadlocks Spin's shared connection pool)",
                self.url.split('?').next().unwrap_or_default()
            )));
        }
        let deadline = Deadline::after(self.timeout);
        let request = self.outgoing_request()?;
        let outgoing_body = request
            .body()
            .map_err(|()| failed("the request body was already taken"))?;
        let pending = outgoing_handler::handle(request, Some(self.options()))
            .map_err(|e| failed(describe(&e)))?;
        // The body is written after `handle`, so the host is already reading
        // it: a large body cannot fill a buffer that nobody drains.
        write_body(outgoing_body, self.body, &deadline)?;
        let response = await_response(&pending, &deadline)?;
        read_reply(response, &deadline)
    }

    fn outgoing_request(&self) -> Result<OutgoingRequest, CallError> {
        let (scheme, rest) = self
            .url
            .split_once("://")
            .ok_or_else(|| failed(format!("not an absolute URL: {}", self.url)))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        let entries: Vec<(String, Vec<u8>)> = self
            .headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
            .collect();
        let fields = Fields::from_list(&entries).map_err(|e| failed(format!("{e:?}")))?;
        let request = OutgoingRequest::new(fields);
        let scheme = match scheme {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => Scheme::Other(other.to_owned()),
        };
        let method = match self.method {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "HEAD" => Method::Head,
            "OPTIONS" => Method::Options,
            other => Method::Other(other.to_owned()),
        };
        let parts_ok = request.set_method(&method).is_ok()
            && request.set_scheme(Some(&scheme)).is_ok()
            && request.set_authority(Some(authority)).is_ok()
            && request.set_path_with_query(Some(path)).is_ok();
        if parts_ok {
            Ok(request)
        } else {
            Err(failed(format!("invalid request URL {}", self.url)))
        }
    }

    /// The host-side timeouts (honoured by Spin for network requests).
    fn options(&self) -> RequestOptions {
        let options = RequestOptions::new();
        let nanos = u64::try_from(self.timeout.as_nanos()).unwrap_or(u64::MAX);
        // A host that does not support an option refuses it; the guest-side
        // deadline still holds, so that refusal is not an error.
        let _ = options.set_connect_timeout(Some(nanos));
        let _ = options.set_first_byte_timeout(Some(nanos));
        let _ = options.set_between_bytes_timeout(Some(nanos));
        options
    }
}

fn failed(why: impl Into<String>) -> CallError {
    CallError::Failed(why.into())
}

fn describe(error: &ErrorCode) -> String {
    format!("{error:?}")
}

/// Hands the body to the host. An empty body is only finished: the host may
/// have completed the request (and dropped its end of the stream) already.
/// The host closing the stream is not decisive either: it has taken what it
/// needed, or the connection is gone, and the response says which — a
/// stream error here once turned a silent service (504) into a 503.
fn write_body(body: OutgoingBody, bytes: &[u8], deadline: &Deadline) -> Result<(), CallError> {
    if !bytes.is_empty() {
        let stream = body
            .write()
            .map_err(|()| failed("the request body stream was already taken"))?;
        write_all(&stream, bytes, deadline)?;
        drop(stream);
    }
    // A failure to finish shows up as the response's error.
    let _ = OutgoingBody::finish(body, None);
    Ok(())
}

fn write_all(
    stream: &OutputStream,
    mut bytes: &[u8],
    deadline: &Deadline,
) -> Result<(), CallError> {
    let step = |r: Result<(), StreamError>| match r {
        Ok(()) => Ok(true),
        Err(StreamError::Closed) => Ok(false),
        Err(StreamError::LastOperationFailed(e)) => Err(failed(format!(
            "writing the request body: {}",
            e.to_debug_string()
        ))),
    };
    while !bytes.is_empty() {
        let room = match stream.check_write() {
            Ok(room) => room,
            Err(e) => return step(Err(e)).map(drop),
        };
        if room == 0 {
            deadline.wait_for(&stream.subscribe())?;
            continue;
        }
        let n = bytes.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        if !step(stream.write(&bytes[..n]))? {
            return Ok(());
        }
        bytes = &bytes[n..];
    }
    if !step(stream.flush())? {
        return Ok(());
    }
    deadline.wait_for(&stream.subscribe())?;
    step(stream.check_write().map(drop)).map(drop)
}

fn await_response(
    pending: &FutureIncomingResponse,
    deadline: &Deadline,
) -> Result<IncomingResponse, CallError> {
    deadline.wait_for(&pending.subscribe())?;
    match pending.get() {
        Some(Ok(Ok(response))) => Ok(response),
        // The host's first-byte timeout (the same limit, passed in the
        // options) can fire just before the guest's own timer does.
        Some(Ok(Err(ErrorCode::ConnectionReadTimeout))) => {
            Err(CallError::TimedOut(deadline.limit()))
        }
        Some(Ok(Err(code))) => Err(failed(describe(&code))),
        Some(Err(())) => Err(failed("the response was already taken")),
        None => Err(failed(
            "the response was not ready after its pollable fired",
        )),
    }
}

fn read_reply(response: IncomingResponse, deadline: &Deadline) -> Result<Reply, CallError> {
    let status = response.status();
    let headers = response.headers().entries();
    let body = response
        .consume()
        .map_err(|()| failed("the response body was already taken"))?;
    let stream = body
        .stream()
        .map_err(|()| failed("the response body stream was already taken"))?;
    let bytes = read_all(&stream, deadline)?;
    drop(stream);
    drop(IncomingBody::finish(body));
    Ok(Reply {
        status,
        headers,
        body: bytes,
    })
}

fn read_all(stream: &InputStream, deadline: &Deadline) -> Result<Vec<u8>, CallError> {
    let mut bytes = Vec::new();
    loop {
        match stream.read(64 * 1024) {
            Ok(chunk) if chunk.is_empty() => deadline.wait_for(&stream.subscribe())?,
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => return Ok(bytes),
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(failed(format!(
                    "reading the response body: {}",
                    e.to_debug_string()
                )));
            }
        }
    }
}
