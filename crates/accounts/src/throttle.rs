//! Throttling of password guesses (table `sign_in_failures`), shared by
//! every instance through Postgres.
//!
//! Each attempt counts against its keys *before* the password is hashed,
//! in the one statement that also checks and writes the counter
//! (`failures = failures + 1` under the row's lock): guesses sent together
//! are serialised by that lock, so when a wait ends only the first of them
//! is tried and it starts the next wait. A correct password takes its
//! count back afterwards ([`succeeded`]).
//!
//! Past a free allowance, each further attempt blocks the key for twice as
//! long as the last (1 s, 2 s, 4 s … 15 minutes; the exponent is capped, so
//! any count gives a wait). While blocked every attempt — right or wrong —
//! gets 429 with `Retry-After`, and is not counted. A day without failures
//! starts the count again.
//!
//! Keys: the email (normalised like the users' unique index) and the client
//! address (see [`crate::client`]) — or, from a browser that signed in as
//! this person before, only that browser's own key (see [`crate::device`]).

use mth_shared::ApiError;
use mth_shared::db::{self, Db};
use spin_sdk::pg4::ParameterValue;

use crate::email;

/// Failures for one email (or one known browser) before waits begin.
pub const EMAIL_ALLOWANCE: i32 = 5;
/// Failures from one client address (offices share one) before waits begin.
pub const CLIENT_ALLOWANCE: i32 = 20;
pub const MAX_WAIT_SECS: f64 = 900.0;

/// One counter an attempt counts against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// `email:<key>`: cleared by a success.
    Email(String),
    /// `client:<address>`: a success takes back only its own attempt, so
    /// one account of their own does not let a guesser reset it.
    Client(String),
    /// `device:<nonce>`: a known browser's own counter; cleared by a success.
    Device(String),
}

impl Key {
    fn text(&self) -> &str {
        match self {
            Key::Email(k) | Key::Client(k) | Key::Device(k) => k,
        }
    }

    fn allowance(&self) -> i32 {
        match self {
            Key::Client(_) => CLIENT_ALLOWANCE,
            Key::Email(_) | Key::Device(_) => EMAIL_ALLOWANCE,
        }
    }
}

struct EmailKey {
    key: String,
}

mth_shared::from_row!(EmailKey { key });

/// The throttle key of an email as typed: the unique index's expression
/// (so NFC and NFD, upper and lower case are one counter); a very long
/// input is keyed by its digest, as an index entry cannot hold it.
pub fn email_key(db: &Db, typed: &str) -> Result<Key, ApiError> {
    let sql = format!(
        "SELECT CASE WHEN length(e.k) <= 320 THEN 'email:' || e.k \
           ELSE 'email-sha256:' || encode(sha256(convert_to(e.k, 'UTF8')), 'hex') END AS key \
         FROM (SELECT {} AS k) e",
        email::key_sql("trim($1::text)")
    );
    let row = db::first::<EmailKey>(db.query(&sql, &[typed.to_owned().into()])?)?;
    row.map(|r| Key::Email(r.key))
        .ok_or_else(|| ApiError::internal("The email key query returned no row."))
}

struct Attempt {
    seconds: Option<i64>,
    counted: i64,
}

mth_shared::from_row!(Attempt { seconds, counted });

/// The new count of a key being counted (`f`: its row), as SQL.
const COUNT: &str = concat!(
    "CASE WHEN f.last_failure_at < ",
    now!(),
    " - interval '1 day' THEN 1 ELSE least(f.failures, 1000000) + 1 END"
);

/// An upsert counting key `$k` (allowance `$a`) unless it is blocked;
/// `source` is what the INSERT selects from.
fn count_key(k: usize, a: usize, source: &str) -> String {
    let now = now!();
    format!(
        "INSERT INTO sign_in_failures AS f (key, failures, last_failure_at, blocked_until) \
         SELECT ${k}::text, 1, {now}, CASE WHEN 1 > ${a} THEN {now} + interval '1 second' END \
         {source} \
         ON CONFLICT (key) DO UPDATE SET failures = {COUNT}, last_failure_at = {now}, \
           blocked_until = CASE WHEN {COUNT} > ${a} THEN {now} + make_interval(secs => \
             least($5, power(2::float8, least({COUNT} - ${a} - 1, 30)::float8))) END \
         WHERE f.blocked_until IS NULL OR f.blocked_until <= {now} \
         RETURNING key"
    )
}

fn too_many(seconds: i64, what: &str) -> ApiError {
    let seconds = seconds.max(1) as u64;
    ApiError::too_many_requests(
        format!("Too many failed {what}. Try again in {seconds} seconds."),
        seconds,
    )
}

/// Counts an attempt against `keys` (one or two), or refuses it with 429
/// while any of them is blocked. `what` names the attempts ("sign-ins").
pub fn attempt(db: &Db, keys: &[Key], what: &str) -> Result<(), ApiError> {
    let (first, second) = match keys {
        [one] => (one, None),
        [one, two] => (one, Some(two)),
        _ => {
            return Err(ApiError::internal(
                "A throttled attempt needs one or two keys.",
            ));
        }
    };
    let sql = format!(
        "WITH blocked AS (SELECT max(blocked_until) AS until FROM sign_in_failures \
           WHERE key IN ($1, $3) AND blocked_until > {now}), \
         first AS ({first}), \
         second AS ({second}) \
         SELECT ceil(extract(epoch FROM (SELECT until FROM blocked) - {now}))::bigint AS seconds, \
           (SELECT count(*) FROM first) + (SELECT count(*) FROM second) AS counted",
        now = now!(),
        first = count_key(1, 2, "WHERE (SELECT until FROM blocked) IS NULL"),
        second = count_key(3, 4, "FROM first WHERE $3::text IS NOT NULL"),
    );
    let params = [
        first.text().to_owned().into(),
        first.allowance().into(),
        second.map_or(ParameterValue::DbNull, |k| k.text().to_owned().into()),
        second.map_or(0, Key::allowance).into(),
        ParameterValue::Floating64(MAX_WAIT_SECS),
    ];
    let outcome = db::first::<Attempt>(db.query(&sql, &params)?)?
        .ok_or_else(|| ApiError::internal("The throttle query returned no row."))?;
    if let Some(seconds) = outcome.seconds {
        return Err(too_many(seconds, what));
    }
    if outcome.counted < keys.len() as i64 {
        // A concurrent attempt blocked a key between this statement's
        // snapshot and its write: it was not tried, and waits like the rest.
        return Err(too_many(wait(db, keys)?.unwrap_or(1), what));
    }
    Ok(())
}

struct Wait {
    seconds: Option<i64>,
}

mth_shared::from_row!(Wait { seconds });

/// Seconds until the last of `keys`' blocks ends, if any is blocked.
fn wait(db: &Db, keys: &[Key]) -> Result<Option<i64>, ApiError> {
    let rows = db.query(
        concat!(
            "SELECT ceil(extract(epoch FROM max(blocked_until) - ",
            now!(),
            "))::bigint AS seconds FROM sign_in_failures \
             WHERE key IN ($1, $2) AND blocked_until > ",
            now!()
        ),
        &[
            keys[0].text().to_owned().into(),
            keys.get(1)
                .map_or(ParameterValue::DbNull, |k| k.text().to_owned().into()),
        ],
    )?;
    Ok(db::first::<Wait>(rows)?.and_then(|w| w.seconds))
}

/// The attempt was right: the email's and the browser's counts are
/// cleared; the address's count takes back this one attempt (and the
/// wait it may have started, if the count is back within the allowance).
pub fn succeeded(db: &Db, keys: &[Key]) -> Result<(), ApiError> {
    let cleared: Vec<&str> = keys
        .iter()
        .filter(|k| !matches!(k, Key::Client(_)))
        .map(Key::text)
        .collect();
    let client = keys.iter().find(|k| matches!(k, Key::Client(_)));
    let text = |k: Option<&str>| k.map_or(ParameterValue::DbNull, |k| k.to_owned().into());
    db.execute(
        "WITH cleared AS (DELETE FROM sign_in_failures WHERE key IN ($1, $2)) \
         UPDATE sign_in_failures SET failures = failures - 1, \
           blocked_until = CASE WHEN failures - 1 > $4 THEN blocked_until END \
         WHERE key = $3 AND failures > 0",
        &[
            text(cleared.first().copied()),
            text(cleared.get(1).copied()),
            text(client.map(Key::text)),
            CLIENT_ALLOWANCE.into(),
        ],
    )?;
    Ok(())
}

/// Housekeeping: counters without a failure for a day (they would start
/// over anyway) and not blocked.
pub(crate) fn delete_stale(db: &Db) -> Result<u64, ApiError> {
    Ok(db.execute(
        concat!(
            "DELETE FROM sign_in_failures WHERE last_failure_at < ",
            now!(),
            " - interval '1 day' AND (blocked_until IS NULL OR blocked_until < ",
            now!(),
            ")"
        ),
        &[],
    )?)
}
