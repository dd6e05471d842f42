//! Postgres through Spin's `spin:postgres@4.0.0` interface.
//!
//! Every statement is parameterised. Each write is a single statement, so it
//! is atomic without a transaction (the interface has no transaction API);
//! the one exception, a workspace import, runs its statements between
//! `BEGIN` and `COMMIT` on one connection ([`Db::transaction`]).

use std::sync::atomic::{AtomicUsize, Ordering};

use spin_sdk::pg4::{
    self, Column, Connection, DbValue, Decode, ParameterValue, PgError, QueryError, RowSet,
};

use crate::{ApiError, config};

mod text_error;

/// SQLSTATE codes the services react to.
pub mod sqlstate {
    pub const UNIQUE_VIOLATION: &str = "23505";
    pub const FOREIGN_KEY_VIOLATION: &str = "23503";
    pub const CHECK_VIOLATION: &str = "23514";
}

/// Constraints of the schema that more than one service reacts to.
pub mod constraint {
    /// tasks: an unfinished task has an assignee (so a user with one cannot
    /// be deleted, and an unfinished task's assignee cannot be cleared).
    pub const OPEN_TASK_NEEDS_ASSIGNEE: &str = "tasks_open_needs_assignee";
}

/// Why a statement failed, in the terms the services decide on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbError {
    /// The database could not be reached before the statement was sent:
    /// nothing was changed, so 503 and retry later.
    Unavailable(String),
    /// The connection was lost while a statement was out. The server may have
    /// committed it and lost only the answer, so the outcome is unknown: 504,
    /// like the gateway's answer for a silent service (a 503 here once
    /// reported "nothing was changed" for a row that was stored).
    Interrupted(String),
    /// The server refused the statement with this SQLSTATE and message.
    Rejected { code: String, message: String },
    /// Anything else (a bug on our side).
    Other(String),
}

impl DbError {
    /// Whether this is a constraint violation of `code` on `constraint`.
    pub fn violates(&self, code: &str, constraint: &str) -> bool {
        matches!(self, DbError::Rejected { code: c, message } if c == code && message.contains(constraint))
    }

    /// A failure of `open`: no statement was sent.
    fn at_connect(error: PgError) -> Self {
        match Self::from_pg(error) {
            DbError::Interrupted(m) => DbError::Unavailable(m),
            other => other,
        }
    }

    /// A failure of a statement: a lost connection leaves its outcome unknown.
    fn from_pg(error: PgError) -> Self {
        match error {
            PgError::ConnectionFailed(m) => DbError::Interrupted(m),
            PgError::QueryFailed(QueryError::DbError(e)) => Self::from_code(e.code, e.message),
            // Spin 3.6.3 sends a server error raised while rows stream (e.g. a
            // unique violation by INSERT ... RETURNING) only as text; without
            // structured info, a lost connection also shows up only there.
            PgError::QueryFailed(QueryError::Text(m)) => match text_error::rejection(&m) {
                Some(r) => Self::from_code(r.code, r.message),
                None if looks_like_lost_connection(&m) => DbError::Interrupted(m),
                None => DbError::Other(m),
            },
            PgError::BadParameter(m) | PgError::ValueConversionFailed(m) | PgError::Other(m) => {
                DbError::Other(m)
            }
        }
    }

    fn from_code(code: String, message: String) -> Self {
        // Class 08 is "connection exception"; 57P0x is a server shutting down
        // or starting; 53300 is "too many connections". All are transient,
        // but only "too many connections" and "cannot connect now" (57P03)
        // say for certain that the statement never ran.
        if code == "53300" || code == "57P03" {
            DbError::Unavailable(message)
        } else if code.starts_with("08") || code.starts_with("57P") {
            DbError::Interrupted(message)
        } else {
            DbError::Rejected { code, message }
        }
    }
}

fn looks_like_lost_connection(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "connection",
        "closed",
        "broken pipe",
        "reset by peer",
        "timed out",
        "timeout",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Unavailable(message) => ApiError::unavailable(
                "The database is unavailable; nothing was changed. Try again shortly.",
            )
            .caused_by(format_args!("database unavailable: {message}")),
            DbError::Interrupted(message) => ApiError::new(
                504,
                "The connection to the database was lost during the request. \
                 A change may or may not have been applied: reload before trying again.",
            )
            .caused_by(format_args!(
                "database connection lost mid-statement: {message}"
            )),
            DbError::Rejected { code, message } => {
                ApiError::internal("The database refused the operation.").caused_by(format_args!(
                    "database rejected a statement: {code} {message}"
                ))
            }
            DbError::Other(message) => ApiError::internal("Unexpected database error.")
                .caused_by(format_args!("database error: {message}")),
        }
    }
}

/// How many [`Db`]s this instance holds now. Spin gives each request its own
/// instance, so this counts the connections of the current request; an
/// outbound call (to a service, or to the identity provider) refuses to
/// start while it is not zero (see [`crate::outbound::Call::send`]), which
/// turns "a connection held across a call" — a deadlock under load — into
/// an immediate, loud 500.
static OPEN: AtomicUsize = AtomicUsize::new(0);

/// Connections the current request holds.
pub fn open_connections() -> usize {
    OPEN.load(Ordering::Relaxed)
}

/// One pooled connection (Spin checks it out of its per-address pool at
/// `open` and returns it on drop). Keep it for as short a time as possible.
pub struct Db {
    conn: Connection,
}

impl Db {
    /// Connects with the `database_url` variable.
    pub fn connect() -> Result<Self, ApiError> {
        let url = config::var("database_url")?;
        let conn = Connection::open(&url).map_err(|e| ApiError::from(DbError::at_connect(e)))?;
        OPEN.fetch_add(1, Ordering::Relaxed);
        Ok(Self { conn })
    }

    pub fn query(&self, sql: &str, params: &[ParameterValue]) -> Result<RowSet, DbError> {
        self.conn.query(sql, params).map_err(DbError::from_pg)
    }

    pub fn execute(&self, sql: &str, params: &[ParameterValue]) -> Result<u64, DbError> {
        self.conn.execute(sql, params).map_err(DbError::from_pg)
    }

    /// Runs `work` in one transaction on this connection: `COMMIT` when it
    /// succeeds, `ROLLBACK` when it fails, so all of it or nothing is
    /// written. The connection goes back to the host's pool afterwards and
    /// must not stay inside a transaction: `work` must not commit or roll
    /// back itself, and a failed `ROLLBACK` (a lost connection) leaves a
    /// connection the server closes.
    pub fn transaction<T>(
        &self,
        work: impl FnOnce(&Db) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.within("BEGIN", work)
    }

    /// Runs `work`'s reads in one read-only snapshot (`REPEATABLE READ`):
    /// statements that read a page at a time see the database as it was
    /// at the first, whatever is written meanwhile (an export).
    pub fn snapshot<T>(
        &self,
        work: impl FnOnce(&Db) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.within("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", work)
    }

    fn within<T>(
        &self,
        begin: &str,
        work: impl FnOnce(&Db) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.execute(begin, &[])?;
        match work(self) {
            Ok(value) => {
                self.execute("COMMIT", &[])?;
                Ok(value)
            }
            Err(error) => {
                if let Err(e) = self.execute("ROLLBACK", &[]) {
                    return Err(error.caused_by(format_args!("and ROLLBACK failed: {e:?}")));
                }
                Err(error)
            }
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One row of a result, read by column name: a mapper does not depend on the
/// order of a SELECT list, and a new column is one more `get` in one place.
pub struct Row<'a> {
    columns: &'a [Column],
    values: &'a mut [DbValue],
}

impl Row<'_> {
    fn value(&self, name: &str) -> Result<(usize, &DbValue), ApiError> {
        self.columns
            .iter()
            .position(|c| c.name == name)
            .and_then(|i| Some((i, self.values.get(i)?)))
            .ok_or_else(|| {
                ApiError::internal("Unexpected row from the database.")
                    .caused_by(format_args!("no column {name:?} in the row"))
            })
    }

    /// Decodes column `name`; a missing column or a type mismatch is a bug in
    /// our SQL, so a 500.
    pub fn get<T: Decode>(&self, name: &str) -> Result<T, ApiError> {
        let (_, value) = self.value(name)?;
        T::decode(value).map_err(|e: pg4::Error| {
            ApiError::internal("Unexpected value in the database.")
                .caused_by(format_args!("decoding column {name:?}: {e}"))
        })
    }

    /// Like [`Row::get`] for a text column, but moves the string out of the row
    /// (leaving an empty one) instead of copying it. For rows rendered once,
    /// such as a list page: the copy was an allocation and a memcpy per value.
    pub fn take_text(&mut self, name: &str) -> Result<String, ApiError> {
        match self.take(name)? {
            Some(text) => Ok(text),
            None => self.get(name),
        }
    }

    /// [`Row::take_text`] for a nullable text column.
    pub fn take_opt_text(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        match self.take(name)? {
            Some(text) => Ok(Some(text)),
            None => self.get(name),
        }
    }

    fn take(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        let (i, _) = self.value(name)?;
        Ok(match &mut self.values[i] {
            DbValue::Str(s) => Some(std::mem::take(s)),
            _ => None,
        })
    }
}

/// A value made from one row: one implementation per table, by column name,
/// usually written with [`from_row!`](crate::from_row).
pub trait FromRow: Sized {
    fn from_row(row: Row<'_>) -> Result<Self, ApiError>;
}

/// A Rust type a column is read as: text is moved out of the row, anything
/// else is decoded.
pub trait FromColumn: Sized {
    fn read(row: &mut Row<'_>, name: &str) -> Result<Self, ApiError>;
}

impl FromColumn for String {
    fn read(row: &mut Row<'_>, name: &str) -> Result<Self, ApiError> {
        row.take_text(name)
    }
}

impl FromColumn for Option<String> {
    fn read(row: &mut Row<'_>, name: &str) -> Result<Self, ApiError> {
        row.take_opt_text(name)
    }
}

/// Implements [`FromColumn`] for types read with [`Row::get`] (types that
/// implement `Decode`).
#[macro_export]
macro_rules! decoded_column {
    ($($t:ty),* $(,)?) => {
        $(impl $crate::db::FromColumn for $t {
            fn read(row: &mut $crate::db::Row<'_>, name: &str) -> Result<Self, $crate::ApiError> {
                row.get(name)
            }
        })*
    };
}

decoded_column!(
    bool,
    f64,
    i32,
    i64,
    Option<i64>,
    uuid::Uuid,
    Option<uuid::Uuid>,
    crate::time::Timestamp,
    Option<crate::time::Timestamp>,
    Option<crate::time::Date>,
);

/// `from_row!(Task { id, title, ... }, assignee: None)`: a [`FromRow`] that
/// reads each listed field from the column of the same name and sets the
/// fields after the comma (not columns) to the given values.
#[macro_export]
macro_rules! from_row {
    ($ty:ident { $($column:ident),* $(,)? } $(, $field:ident: $value:expr)* $(,)?) => {
        impl $crate::db::FromRow for $ty {
            fn from_row(mut row: $crate::db::Row<'_>) -> Result<Self, $crate::ApiError> {
                Ok($ty {
                    $($column: $crate::db::FromColumn::read(&mut row, stringify!($column))?,)*
                    $($field: $value,)*
                })
            }
        }
    };
}

/// The rows of `set`, each readable by column name.
fn rows(set: &mut RowSet) -> impl Iterator<Item = Row<'_>> {
    let RowSet { columns, rows } = set;
    rows.iter_mut().map(|values| Row { columns, values })
}

/// Every row of `set` as a `T`.
pub fn all<T: FromRow>(mut set: RowSet) -> Result<Vec<T>, ApiError> {
    rows(&mut set).map(T::from_row).collect()
}

/// The first row of `set` as a `T`, if there is one.
pub fn first<T: FromRow>(mut set: RowSet) -> Result<Option<T>, ApiError> {
    rows(&mut set).next().map(T::from_row).transpose()
}

/// The column `total` of the first row (0 when there is none).
fn total(set: &mut RowSet) -> Result<i64, ApiError> {
    rows(set).next().map_or(Ok(0), |row| row.get("total"))
}

/// A list page and how many items match in all.
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// How a page of one table is read: the page (its SELECT list ends with
/// `count(*) OVER () AS total`, which saves a round trip on every non-empty
/// page) and, for a page past the end that has no row to carry the total, a
/// `SELECT count(*) AS total` with the same filter.
pub struct PageQuery<'a> {
    pub select: &'a str,
    pub params: &'a [ParameterValue],
    pub count: &'a str,
    pub count_params: &'a [ParameterValue],
}

impl Db {
    pub fn page<T: FromRow>(&self, q: PageQuery<'_>) -> Result<Page<T>, ApiError> {
        let mut set = self.query(q.select, q.params)?;
        let total = if set.rows.is_empty() {
            total(&mut self.query(q.count, q.count_params)?)?
        } else {
            total(&mut set)?
        };
        Ok(Page {
            items: all(set)?,
            total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_sdk::pg4::DbError as PgDbError;

    fn db_error(code: &str, message: &str) -> PgError {
        PgError::QueryFailed(QueryError::DbError(PgDbError {
            as_text: message.to_owned(),
            severity: "ERROR".to_owned(),
            code: code.to_owned(),
            message: message.to_owned(),
            detail: None,
            extras: vec![],
        }))
    }

    #[test]
    fn classifies_constraint_violations_by_code_and_name() {
        let e = DbError::from_pg(db_error(
            "23505",
            "duplicate key value violates unique constraint \"users_email_lower_key\"",
        ));
        assert!(e.violates(sqlstate::UNIQUE_VIOLATION, "users_email_lower_key"));
        assert!(!e.violates(sqlstate::UNIQUE_VIOLATION, "other_key"));
        assert!(!e.violates(sqlstate::CHECK_VIOLATION, "users_email_lower_key"));
    }

    #[test]
    fn a_violation_sent_as_text_is_classified_like_a_structured_one() {
        // The texts for a taken email (INSERT ... RETURNING), as captured from
        // `spin up` 3.6.3 and from SpinKube's shim v0.24.0.
        for (text, key) in [
            (
                include_str!("db/fixtures/spin-3.6.3-unique-returning.txt"),
                "users_email_lower_key",
            ),
            (
                include_str!("db/fixtures/shim-0.24.0-unique-returning.txt"),
                "probe_unique_email_key",
            ),
        ] {
            let e = DbError::from_pg(PgError::QueryFailed(QueryError::Text(text.into())));
            assert!(e.violates(sqlstate::UNIQUE_VIOLATION, key), "{e:?}");
            assert!(!e.violates(sqlstate::FOREIGN_KEY_VIOLATION, key));
        }
        // Other texts stay what they were.
        let e = DbError::from_pg(PgError::QueryFailed(QueryError::Text(
            "error deserializing column 0".into(),
        )));
        assert!(matches!(e, DbError::Other(_)), "{e:?}");
    }

    fn column(name: &str) -> Column {
        Column {
            name: name.to_owned(),
            data_type: pg4::DbDataType::Str,
        }
    }

    #[test]
    fn rows_are_read_by_column_name() {
        let columns = [column("n"), column("s"), column("null")];
        let mut values = vec![DbValue::Int32(1), DbValue::Str("a".into()), DbValue::DbNull];
        let mut row = Row {
            columns: &columns,
            values: &mut values,
        };
        assert_eq!(row.get::<i32>("n").unwrap(), 1);
        assert_eq!(row.take_opt_text("null").unwrap(), None);
        assert_eq!(row.take_text("s").unwrap(), "a");
        // A missing column and a type mismatch are our bug: 500, naming it.
        let missing = row.get::<i32>("other").unwrap_err();
        assert_eq!(missing.status, 500);
        assert!(missing.cause.unwrap().contains("\"other\""));
        assert_eq!(row.take_text("n").unwrap_err().status, 500);
        assert_eq!(row.take_text("null").unwrap_err().status, 500);
    }

    #[test]
    fn a_refused_connection_changed_nothing_and_maps_to_503() {
        for e in [
            PgError::ConnectionFailed("refused".into()),
            db_error("57P03", "the database system is starting up"),
            db_error("53300", "too many connections"),
            db_error("57P01", "terminating connection"),
        ] {
            let e = DbError::at_connect(e);
            assert!(matches!(e, DbError::Unavailable(_)), "{e:?}");
            let api = ApiError::from(e);
            assert_eq!(api.status, 503);
            assert!(api.detail.contains("nothing was changed"), "{api:?}");
        }
    }

    #[test]
    fn a_connection_lost_during_a_statement_leaves_the_outcome_unknown() {
        for e in [
            db_error(
                "57P01",
                "terminating connection due to administrator command",
            ),
            db_error("08006", "connection failure"),
            PgError::QueryFailed(QueryError::Text("connection closed".into())),
            PgError::ConnectionFailed("connection reset".into()),
        ] {
            let e = DbError::from_pg(e);
            assert!(matches!(e, DbError::Interrupted(_)), "{e:?}");
            let api = ApiError::from(e);
            assert_eq!(api.status, 504);
            assert!(api.detail.contains("may or may not"), "{api:?}");
        }
        // Refusals that say the statement never ran stay 503.
        let e = DbError::from_pg(db_error("53300", "too many connections"));
        assert!(matches!(e, DbError::Unavailable(_)), "{e:?}");
        assert_eq!(
            ApiError::from(DbError::from_pg(db_error("42601", "syntax"))).status,
            500
        );
    }
}
