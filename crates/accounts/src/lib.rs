//! Identity in one place: who is acting, what they may do, and every table
//! that says so.
//!
//! Each table has one module that writes it, and no other code does:
//!
//! | table              | module          |
//! |--------------------|-----------------|
//! | `sessions`         | [`sessions`]    |
//! | `credentials`      | [`credentials`] |
//! | `invitations`      | [`invitations`] |
//! | `api_tokens`       | [`api_tokens`]  |
//! | `sign_in_failures` | [`throttle`]    |
//! | `housekeeping`     | [`housekeeping`]|
//! | `oidc_logins`      | [`oidc::logins`]|
//! | `oidc_identities`  | [`oidc::identities`] |
//! | `oidc_providers`   | [`oidc::provider`] |
//!
//! `users` belongs to user-service; this crate only reads it (whether a
//! person is active, their access) — except [`bootstrap`], the first
//! admin's one statement, [`oidc::identities`], which creates a person
//! at their first sign-in with the identity provider, and [`workspace`],
//! the people of an import (with the sign-in rows of the importing admin);
//! each explains why. The permission rules are in [`policy`]:
//! each is written once and gives both the Rust check and the SQL condition.
//! The components call the flows ([`signin`], [`account`]) and never write
//! these tables themselves.

/// `now()` as the schema stores time: UTC `timestamp` (Spin's postgres@4
/// interface cannot read or bind `timestamptz`). A macro so that statements
/// stay `&'static str` (`concat!`); it is a constant, never input.
macro_rules! now {
    () => {
        "(now() AT TIME ZONE 'utc')"
    };
}

/// Housekeeping's one shape of delete: rows of `table` that ended (any of
/// `ended` — timestamp columns such as `revoked_at`, `expires_at` — lies)
/// more than a day ago; the day lets a client that presents a dead secret
/// still hear why it no longer works. Each table's module calls it for its
/// own table.
pub(crate) fn delete_ended_a_day_ago(
    db: &mth_shared::db::Db,
    table: &str,
    ended: &[&str],
) -> Result<u64, mth_shared::ApiError> {
    let cutoff = concat!(now!(), " - interval '1 day'");
    let conditions: Vec<String> = ended.iter().map(|c| format!("{c} < {cutoff}")).collect();
    let sql = format!("DELETE FROM {table} WHERE {}", conditions.join(" OR "));
    Ok(db.execute(&sql, &[])?)
}

pub mod account;
pub mod actor;
pub mod api_tokens;
pub mod bootstrap;
pub mod client;
pub mod credentials;
pub mod device;
pub mod email;
pub mod housekeeping;
pub mod invitations;
pub mod oidc;
pub mod password;
pub mod person;
pub mod policy;
pub mod sessions;
pub mod signin;
pub mod throttle;
pub mod workspace;

pub use actor::{Access, Actor, authenticate};
pub use policy::{Permission, Scope};
pub use sessions::Session;
