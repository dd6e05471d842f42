//! Sign-in throttling, shared by every instance through Postgres.
//!
//! Failures are counted per email and per client address. Past a free
//! allowance, each failure blocks the key for twice as long as the last (1 s,
//! 2 s, 4 s … up to 15 minutes); while blocked, every attempt — right or
//! wrong — gets 429 with `Retry-After`, and is not counted. A day without
//! failures starts the count again; a success clears the email's count.

use mth_shared::db::{self, Db};
use mth_shared::{ApiError, request};
use spin_sdk::http::Request;
use spin_sdk::pg4::ParameterValue;

/// Failures for one email before waits begin.
const EMAIL_ALLOWANCE: i32 = 5;
/// Failures from one client address (offices share one) before waits begin.
const CLIENT_ALLOWANCE: i32 = 20;
const MAX_WAIT_SECS: f64 = 900.0;

/// The keys an attempt counts against.
pub struct Keys {
    email: String,
    client: Option<String>,
}

impl Keys {
    pub fn new(req: &Request, email: &str) -> Self {
        Keys {
            email: format!("email:{}", email.trim().to_lowercase()),
            client: client_address(req).map(|a| format!("client:{a}")),
        }
    }

    fn all(&self) -> impl Iterator<Item = (&str, i32)> {
        std::iter::once((self.email.as_str(), EMAIL_ALLOWANCE))
            .chain(self.client.as_deref().map(|c| (c, CLIENT_ALLOWANCE)))
    }
}

/// The client's address: `X-Real-IP` as the NGINX ingress sets it, else the
/// peer address Spin reports (`spin-client-addr`, without the port).
fn client_address(req: &Request) -> Option<String> {
    if let Some(ip) = request::header(req, "x-real-ip") {
        return Some(ip.trim().to_owned());
    }
    let peer = request::header(req, "spin-client-addr")?;
    let ip = peer.rsplit_once(':').map_or(peer, |(ip, _)| ip);
    Some(ip.trim_matches(['[', ']']).to_owned())
}

struct Wait {
    seconds: Option<i64>,
}

mth_shared::from_row!(Wait { seconds });

/// 429 while any key is blocked.
pub fn check(db: &Db, keys: &Keys) -> Result<(), ApiError> {
    let client = keys
        .client
        .clone()
        .map_or(ParameterValue::DbNull, Into::into);
    let rows = db.query(
        "SELECT ceil(extract(epoch FROM max(blocked_until) - (now() AT TIME ZONE 'utc')))::bigint \
           AS seconds \
         FROM sign_in_failures WHERE key IN ($1, $2) AND blocked_until > (now() AT TIME ZONE 'utc')",
        &[keys.email.clone().into(), client],
    )?;
    match db::first::<Wait>(rows)?.and_then(|w| w.seconds) {
        Some(seconds) => {
            let seconds = seconds.max(1) as u64;
            Err(ApiError::too_many_requests(
                format!("Too many failed sign-ins. Try again in {seconds} seconds."),
                seconds,
            ))
        }
        None => Ok(()),
    }
}

/// Counts a failure against every key, blocking those past their allowance.
pub fn failed(db: &Db, keys: &Keys) -> Result<(), ApiError> {
    for (key, allowance) in keys.all() {
        db.execute(
            "WITH n AS (SELECT CASE WHEN f.last_failure_at IS NULL \
                 OR f.last_failure_at < (now() AT TIME ZONE 'utc') - interval '1 day' \
                 THEN 1 ELSE f.failures + 1 END AS failures \
               FROM (SELECT 1) one LEFT JOIN sign_in_failures f ON f.key = $1) \
             INSERT INTO sign_in_failures AS f (key, failures, last_failure_at, blocked_until) \
             SELECT $1, n.failures, (now() AT TIME ZONE 'utc'), \
               CASE WHEN n.failures > $2 THEN (now() AT TIME ZONE 'utc') \
                 + make_interval(secs => least($3, power(2, n.failures - $2 - 1))) END \
             FROM n \
             ON CONFLICT (key) DO UPDATE SET failures = EXCLUDED.failures, \
               last_failure_at = EXCLUDED.last_failure_at, blocked_until = EXCLUDED.blocked_until",
            &[
                key.to_owned().into(),
                allowance.into(),
                ParameterValue::Floating64(MAX_WAIT_SECS),
            ],
        )?;
    }
    Ok(())
}

/// A correct password clears the email's count (not the address's: one
/// account of their own must not let a guesser reset it).
pub fn succeeded(db: &Db, keys: &Keys) -> Result<(), ApiError> {
    db.execute(
        "DELETE FROM sign_in_failures WHERE key = $1",
        &[keys.email.clone().into()],
    )?;
    Ok(())
}
