//! The readiness endpoints: `GET /<service>/health` and the frontend's `/health`.
//!
//! Kubernetes routes traffic to a pod only while its readiness check answers
//! 2xx, so "ready" here means "can serve requests correctly": the secrets the
//! component uses are acceptable ([`config::check_secrets`]) and, for the two
//! APIs, the database answers *and* holds the schema this code was written
//! for. On a first install the API pods therefore stay unready until the
//! migration Job has run, and on an upgrade new pods wait for their migration.

use spin_sdk::http::Response;
use spin_sdk::pg4::ParameterValue;

use crate::db::{Db, DbError};
use crate::{ApiError, config, respond};

/// The migration (a `migrations/NNNN_*.sql` basename, as recorded in
/// `schema_migrations` by `migrations/migrate.sh`) whose schema and
/// privileges this code needs. Bump it with every migration the code depends
/// on; a later migration does not make an older component unready, so a
/// rollback to an earlier image stays ready.
pub const REQUIRED_SCHEMA_VERSION: &str = "0018_sessions_ended";

/// SQLSTATE of a missing table: the migrations never ran here.
const UNDEFINED_TABLE: &str = "42P01";

/// The secrets the two APIs read (the bearer tokens and their database URL).
pub const API_SECRETS: &[&str] = &["api_token", "api_token_previous", "database_url"];

/// Readiness of an API component: its secrets, the database, the schema version.
pub fn respond(component: &str) -> Response {
    respond_with_secrets(component, API_SECRETS)
}

/// [`respond`] for a component with other secrets to check.
pub fn respond_with_secrets(component: &str, secrets: &[&str]) -> Response {
    respond_with_checks(component, secrets, Ok(()))
}

/// [`respond_with_secrets`], after the component's own configuration check
/// (`own`: a variable it parses, named in the error).
pub fn respond_with_checks(
    component: &str,
    secrets: &[&str],
    own: Result<(), ApiError>,
) -> Response {
    let ready = own
        .and_then(|()| config::check_secrets(secrets))
        .and_then(|()| Db::connect())
        .and_then(|db| schema_present(&db));
    report(component, ready)
}

/// The answer names what is missing (a variable, the database, the
/// schema) in our own words; the database's raw error text, which can name
/// hosts, users and internals, goes only to the log.
fn report(component: &str, ready: Result<(), ApiError>) -> Response {
    match ready {
        Ok(()) => respond::json(
            200,
            &serde_json::json!({"status": "ok", "component": component}),
        ),
        Err(e) => {
            if let Some(cause) = &e.cause {
                let line = serde_json::json!({
                    "level": "error",
                    "component": component,
                    "path": "health",
                    "detail": e.detail,
                    "cause": cause,
                });
                eprintln!("{line}");
            }
            respond::json(
                503,
                &serde_json::json!({"status": "unavailable", "component": component, "detail": e.detail}),
            )
        }
    }
}

/// Whether `schema_migrations` records [`REQUIRED_SCHEMA_VERSION`].
fn schema_present(db: &Db) -> Result<(), ApiError> {
    let rows = db.query(
        "SELECT 1 FROM schema_migrations WHERE version = $1",
        &[ParameterValue::Str(REQUIRED_SCHEMA_VERSION.to_owned())],
    );
    match rows {
        Ok(rows) if !rows.rows.is_empty() => Ok(()),
        Ok(_) => Err(ApiError::unavailable(format!(
            "The database schema lacks migration {REQUIRED_SCHEMA_VERSION}: \
             run the migrations (the migration Job, or migrations/migrate.sh)."
        ))),
        Err(DbError::Rejected { code, .. }) if code == UNDEFINED_TABLE => {
            Err(ApiError::unavailable(
                "The database has no schema_migrations table: the migrations have not run \
                 (the migration Job, or migrations/migrate.sh).",
            ))
        }
        Err(DbError::Rejected { code, message }) => Err(ApiError::unavailable(
            "The database refused to show its schema version (schema_migrations): \
             check the app role's privileges.",
        )
        .caused_by(format_args!("reading schema_migrations: {code} {message}"))),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The constant names a migration that exists, so readiness can ever pass.
    #[test]
    fn required_schema_version_is_a_migration_file() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../migrations")
            .join(format!("{REQUIRED_SCHEMA_VERSION}.sql"));
        assert!(file.is_file(), "{} is missing", file.display());
    }
}
