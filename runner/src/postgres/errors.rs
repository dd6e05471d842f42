//! Error mapping: driver and pool errors become the WIT `error` in Spin
//! 3.6.3's shapes — structured `db-error` where Spin has one, else the
//! `{:?}` text of its `anyhow::Error` ([`debug_text`]).

use crate::bindings::spin::postgres::postgres::{DbError, Error, QueryError};

/// A failure while rows stream: Spin only has its text.
pub(super) fn streaming_failed(e: &anyhow::Error) -> Error {
    Error::QueryFailed(QueryError::Text(debug_text(e)))
}

/// A pool that cannot hand out a connection.
pub(super) fn connection_failed(e: &anyhow::Error) -> Error {
    Error::ConnectionFailed(debug_text(e))
}

/// The error's Display, `Caused by:` with its chain and, when `RUST_BACKTRACE`
/// is set, a stack trace: the text SpinKube's containerd-shim-spin v0.24.0
/// gives the guest. Its tokio-postgres (0.7.16), like the runner's, leaves
/// the server's message to the chain (`db error` / `Caused by: ERROR: …`);
/// `spin up` 3.6.3 links 0.7.12, which also puts it on the first line. The
/// runner follows the engine production runs (docs/runner.md).
fn debug_text(e: &anyhow::Error) -> String {
    format!("{e:?}")
}

/// A driver error: structured when the server sent one.
pub(super) fn query_failed(e: tokio_postgres::Error) -> Error {
    let as_text = format!("{e:?}");
    let Some(db) = e.as_db_error() else {
        return Error::QueryFailed(QueryError::Text(as_text));
    };
    let mut extras = Vec::new();
    let mut extra = |name: &str, value: Option<String>| {
        if let Some(v) = value {
            extras.push((name.to_string(), v));
        }
    };
    extra("column", db.column().map(str::to_string));
    extra("constraint", db.constraint().map(str::to_string));
    extra("routine", db.routine().map(str::to_string));
    extra("hint", db.hint().map(str::to_string));
    extra("table", db.table().map(str::to_string));
    extra("datatype", db.datatype().map(str::to_string));
    extra("schema", db.schema().map(str::to_string));
    extra("file", db.file().map(str::to_string));
    extra("line", db.line().map(|l| l.to_string()));
    extra("where_", db.where_().map(str::to_string));
    Error::QueryFailed(QueryError::DbError(DbError {
        as_text,
        severity: db.severity().to_string(),
        code: db.code().code().to_string(),
        message: db.message().to_string(),
        detail: db.detail().map(str::to_string),
        extras,
    }))
}
