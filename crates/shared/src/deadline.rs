//! Waiting in the guest, bounded: a point in monotonic time and the timer
//! that fires there (`wasi:clocks`). The hosts' own limits do not cover every
//! wait (a service-chained call ignores its request options; a browser may
//! stop reading a stream), so the guest keeps its own.

use std::time::Duration;

use wasi::clocks::monotonic_clock;
use wasi::io::poll::{Pollable, poll};

/// The deadline passed first; it was this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expired(pub Duration);

/// A point in monotonic time and the timer that fires there.
pub struct Deadline {
    limit: Duration,
    timer: Pollable,
}

impl Deadline {
    pub fn after(limit: Duration) -> Self {
        let nanos = u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX);
        let at = monotonic_clock::now().saturating_add(nanos);
        Self {
            limit,
            timer: monotonic_clock::subscribe_instant(at),
        }
    }

    /// How long it was set for.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Blocks until `ready` fires or the deadline passes.
    pub fn wait_for(&self, ready: &Pollable) -> Result<(), Expired> {
        if ready.ready() {
            return Ok(());
        }
        poll(&[ready, &self.timer]);
        if ready.ready() {
            Ok(())
        } else {
            Err(Expired(self.limit))
        }
    }
}

/// Blocks this instance for `duration` (the host runs others meanwhile).
pub fn sleep(duration: Duration) {
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    monotonic_clock::subscribe_duration(nanos).block();
}
