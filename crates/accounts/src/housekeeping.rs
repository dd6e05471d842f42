//! Deleting what can no longer be used: ended sessions, dead personal
//! tokens, spent links, stale sign-in counters.
//!
//! Spin has no start-up hook or timer, and SpinKube no cron by default, so
//! the schedule rides on the traffic that makes these rows: every sign-in
//! and set-password calls [`run_if_due`], and at most once an hour (table
//! `housekeeping`, claimed by a conditional write, so one instance of any
//! number wins) it deletes. No rows are made without such traffic, so none
//! pile up without it either.

use mth_shared::ApiError;
use mth_shared::db::{self, Db};
use serde::Serialize;

use crate::{api_tokens, invitations, oidc, sessions, throttle};

/// How many rows one run deleted, per table.
#[derive(Debug, Default, Serialize)]
pub struct Deleted {
    pub sessions: u64,
    pub api_tokens: u64,
    pub invitations: u64,
    pub sign_in_failures: u64,
    pub oidc_logins: u64,
}

struct Claimed {
    #[allow(dead_code)] // read only to know that a row came back
    job: String,
}

mth_shared::from_row!(Claimed { job });

/// [`run_if_due`] for a request that is about something else (a sign-in):
/// housekeeping failing must not fail it, so the failure is only logged.
pub fn run_if_due_quietly(db: &Db) {
    if let Err(e) = run_if_due(db) {
        let line = serde_json::json!({
            "level": "warn",
            "message": "housekeeping failed; the next sign-in tries again",
            "detail": e.detail,
            "cause": e.cause,
        });
        eprintln!("{line}");
    }
}

/// Runs [`run`] if no instance has in the last hour.
pub fn run_if_due(db: &Db) -> Result<Option<Deleted>, ApiError> {
    let claimed = db.query(
        concat!(
            "INSERT INTO housekeeping AS h (job, last_run_at) VALUES ('accounts', ",
            now!(),
            ") ON CONFLICT (job) DO UPDATE SET last_run_at = EXCLUDED.last_run_at \
             WHERE h.last_run_at < ",
            now!(),
            " - interval '1 hour' RETURNING job"
        ),
        &[],
    )?;
    match db::first::<Claimed>(claimed)? {
        Some(_) => run(db).map(Some),
        None => Ok(None),
    }
}

/// Deletes every row that can no longer be used.
pub fn run(db: &Db) -> Result<Deleted, ApiError> {
    Ok(Deleted {
        sessions: sessions::delete_ended(db)?,
        api_tokens: api_tokens::delete_dead(db)?,
        invitations: invitations::delete_spent(db)?,
        sign_in_failures: throttle::delete_stale(db)?,
        oidc_logins: oidc::logins::delete_expired(db)?,
    })
}
