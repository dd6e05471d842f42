//! A response body sent as it is made (Server-Sent Events): the head goes
//! out first, then each piece as soon as it is written.
//!
//! Every write is bounded: a browser that stops reading (the host's buffer
//! stays full) for [`STALLED`] is given up on, so no instance waits on one
//! for ever. A browser that has gone away shows as a closed stream; the
//! hosts also stop the instance then.

use std::time::Duration;

use spin_sdk::wit::wasi::http0_2_0::types::OutgoingBody;
use wasi::io::streams::OutputStream;

use crate::deadline::Deadline;

/// How long one write may wait for the browser to take what was sent.
pub const STALLED: Duration = Duration::from_secs(30);

pub struct EventStream {
    // Dropped before the body is finished (wasi-http requires it).
    stream: OutputStream,
    body: OutgoingBody,
}

impl EventStream {
    /// `None` if the body's stream was already taken (a bug of the caller).
    pub fn new(body: OutgoingBody) -> Option<Self> {
        let stream = body.write().ok()?;
        Some(Self { stream, body })
    }

    /// Sends `bytes` and waits until the host has taken them. `false`: the
    /// browser is gone or not reading; stop.
    pub fn send(&self, mut bytes: &[u8]) -> bool {
        let stream = &self.stream;
        let deadline = Deadline::after(STALLED);
        while !bytes.is_empty() {
            let room = match stream.check_write() {
                Ok(0) => {
                    if deadline.wait_for(&stream.subscribe()).is_err() {
                        return false;
                    }
                    continue;
                }
                Ok(room) => usize::try_from(room).unwrap_or(usize::MAX),
                Err(_) => return false,
            };
            let n = bytes.len().min(room);
            if stream.write(&bytes[..n]).is_err() {
                return false;
            }
            bytes = &bytes[n..];
        }
        stream.flush().is_ok()
            && deadline.wait_for(&stream.subscribe()).is_ok()
            && stream.check_write().is_ok()
    }

    /// Writes as much of `bytes` as the host takes now, without waiting;
    /// how much that was.
    pub fn send_ready(&self, mut bytes: &[u8]) -> usize {
        let total = bytes.len();
        while let Ok(room) = self.stream.check_write() {
            let n = bytes.len().min(usize::try_from(room).unwrap_or(usize::MAX));
            if n == 0 || self.stream.write(&bytes[..n]).is_err() {
                break;
            }
            bytes = &bytes[n..];
        }
        total - bytes.len()
    }

    /// Whether the browser is still there (a write would not fail).
    pub fn open(&self) -> bool {
        self.stream.check_write().is_ok()
    }

    /// Ends the response: the browser sees the stream close.
    pub fn finish(self) {
        let Self { stream, body } = self;
        drop(stream);
        let _ = OutgoingBody::finish(body, None);
    }
}
