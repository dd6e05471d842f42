//! `spin:postgres/postgres@4.0.0`, converting values exactly as Spin 3.6.3's
//! `factor-outbound-pg` (what SpinKube runs) does: parameters are bound
//! through tokio-postgres's typed `ToSql` (so its type checks apply, e.g. a
//! `str` does not bind to a `uuid` column and `datetime` does not bind to
//! `timestamptz`), columns are read through typed `FromSql`, and every
//! failure reaches the guest as an `error` value, never a trap.
//!
//! Errors take Spin 3.6.3's shapes (docs/runner.md lists where 4.x differs):
//! - a bad parameter: `bad-parameter` from `query`, `value-conversion-failed`
//!   from `execute`, each the `{:?}` of the conversion error;
//! - a server error before the first row (parse, bind): the structured
//!   `query-error::db-error`;
//! - anything that fails *while rows stream* — a server error raised by the
//!   statement itself (e.g. a unique violation by `INSERT … RETURNING`), a
//!   column that does not convert, a result over 128 MiB — only as
//!   `query-error::text`, the `{:?}` of an `anyhow::Error` (Display, `Caused
//!   by:`, and a stack trace when `RUST_BACKTRACE` is set);
//! - `execute` reports every server error structured.

// `Error` is the WIT variant the guest receives; boxing it would only move
// the copy elsewhere.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::Mutex;

use anyhow::{Context, anyhow};
use bytes::BytesMut;
use futures_util::TryStreamExt as _;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{NoTls, Row};
use wasmtime::component::Resource;

use super::StoreState;

mod spin_text;
use super::bindings::spin::postgres::postgres::{
    self as pg, Column, DbDataType, DbError, DbValue, Error, ParameterValue, QueryError, RowSet,
};

/// Same limit as Spin's per-address pool.
const POOL_SIZE: usize = 64;
/// Spin's `MAX_HOST_BUFFERED_BYTES`: the most a query result may hold, as
/// counted by [`memory_size`].
const MAX_RESULT_BYTES: usize = 128 << 20;

/// The guest's connection resource: a pooled client, returned to its pool
/// when the guest drops the resource (or the instance ends).
pub struct Connection {
    client: deadpool_postgres::Object,
}

/// One pool per connection string, shared by every instance of the app.
#[derive(Default)]
pub struct PgPools {
    pools: Mutex<HashMap<String, deadpool_postgres::Pool>>,
}

impl PgPools {
    async fn get(&self, address: &str) -> anyhow::Result<deadpool_postgres::Object> {
        let pool = {
            let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
            match pools.get(address) {
                Some(p) => p.clone(),
                None => {
                    let p =
                        create_pool(address).context("establishing PostgreSQL connection pool")?;
                    pools.insert(address.to_string(), p.clone());
                    p
                }
            }
        };
        Ok(pool.get().await?)
    }

    pub fn close(&self) {
        for pool in self
            .pools
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            pool.close();
        }
    }
}

fn create_pool(address: &str) -> anyhow::Result<deadpool_postgres::Pool> {
    let config = address
        .parse::<tokio_postgres::Config>()
        .context("parsing Postgres connection string")?;
    // `Clean` like Spin: a connection carries no session state from one
    // request to the next.
    let manager = deadpool_postgres::Manager::from_config(
        config,
        NoTls,
        deadpool_postgres::ManagerConfig {
            recycling_method: deadpool_postgres::RecyclingMethod::Clean,
        },
    );
    deadpool_postgres::Pool::builder(manager)
        .max_size(POOL_SIZE)
        .build()
        .context("building Postgres connection pool")
}

impl StoreState {
    /// Spin's check: every TCP host of the connection string must be allowed
    /// for the `postgres` scheme.
    fn ensure_pg_allowed(&self, address: &str) -> Result<(), Error> {
        let config = address
            .parse::<tokio_postgres::Config>()
            .map_err(|e| Error::ConnectionFailed(e.to_string()))?;
        let ports = config.get_ports();
        for (i, host) in config.get_hosts().iter().enumerate() {
            match host {
                tokio_postgres::config::Host::Tcp(h) => {
                    // Spin 3.6.3 pairs host `i` with port `i`, and with a
                    // single port only host 0 (it reads `ports.get(1)` when
                    // meaning the one port), so later hosts are checked
                    // without a port. Same here, so the same manifests pass.
                    let port = ports
                        .get(i)
                        .or_else(|| if ports.len() == 1 { ports.get(1) } else { None })
                        .copied();
                    if !self.component.allowed_hosts.allows("postgres", h, port) {
                        let shown = match port {
                            Some(p) => format!("{h}:{p}"),
                            None => h.clone(),
                        };
                        eprintln!(
                            "A component tried to make an outbound network connection to disallowed destination 'postgres://{shown}'.\n\
                             To allow this request, add 'postgres://{shown}' to the `allowed_outbound_hosts` of component '{}'.",
                            self.component.id
                        );
                        return Err(Error::ConnectionFailed(format!(
                            "address postgres://{shown} is not permitted"
                        )));
                    }
                }
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(_) => {
                    return Err(Error::ConnectionFailed(
                        "Unix sockets are not supported on WebAssembly".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    fn pg_client(&self, conn: &Resource<Connection>) -> Result<&tokio_postgres::Client, Error> {
        self.table
            .get(conn)
            .map(|c| &**c.client)
            .map_err(|_| Error::ConnectionFailed("no connection found".into()))
    }
}

impl pg::Host for StoreState {}

impl pg::HostConnection for StoreState {
    async fn open(&mut self, address: String) -> Result<Resource<Connection>, Error> {
        self.ensure_pg_allowed(&address)?;
        let client = self
            .component
            .pg_pools
            .get(&address)
            .await
            .map_err(|e| Error::ConnectionFailed(spin_text::debug(&e)))?;
        self.table
            .push(Connection { client })
            .map_err(|e| Error::ConnectionFailed(e.to_string()))
    }

    async fn query(
        &mut self,
        conn: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<RowSet, Error> {
        let params = to_sql_params(&params).map_err(|e| Error::BadParameter(format!("{e:?}")))?;
        let client = self.pg_client(&conn)?;
        // `query_raw` returns once the statement is bound; its errors are
        // structured. What the server reports later arrives in the stream.
        let stream = client
            .query_raw(&statement, params)
            .await
            .map_err(query_failed)?;
        let mut stream = std::pin::pin!(stream);
        // Spin reports no columns for an empty result.
        let mut columns = Vec::new();
        let mut rows = Vec::new();
        let mut byte_count = std::mem::size_of::<RowSet>();
        let streamed: anyhow::Result<()> = async {
            while let Some(row) = stream.try_next().await? {
                if rows.is_empty() {
                    columns = row
                        .columns()
                        .iter()
                        .map(|c| Column {
                            name: c.name().to_string(),
                            data_type: data_type(c.type_()),
                        })
                        .collect();
                }
                let row = convert_row(&row)?;
                byte_count += row.iter().map(memory_size).sum::<usize>();
                if byte_count > MAX_RESULT_BYTES {
                    anyhow::bail!("query result exceeds limit of {MAX_RESULT_BYTES} bytes")
                }
                rows.push(row);
            }
            Ok(())
        }
        .await;
        streamed.map_err(|e| Error::QueryFailed(QueryError::Text(spin_text::debug(&e))))?;
        Ok(RowSet { columns, rows })
    }

    async fn execute(
        &mut self,
        conn: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<u64, Error> {
        let params =
            to_sql_params(&params).map_err(|e| Error::ValueConversionFailed(format!("{e:?}")))?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| &**p as _).collect();
        self.pg_client(&conn)?
            .execute(&statement, &refs)
            .await
            .map_err(query_failed)
    }

    async fn drop(&mut self, conn: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        Ok(())
    }
}

fn query_failed(e: tokio_postgres::Error) -> Error {
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

/// What a value counts against [`MAX_RESULT_BYTES`], as Spin counts it.
fn memory_size(value: &DbValue) -> usize {
    let own = std::mem::size_of::<DbValue>();
    match value {
        DbValue::ArrayInt32(v) => own + v.len() * std::mem::size_of::<Option<i32>>(),
        DbValue::ArrayInt64(v) => own + v.len() * std::mem::size_of::<Option<i64>>(),
        DbValue::ArrayDecimal(v) | DbValue::ArrayStr(v) => {
            own + v
                .iter()
                .map(|s| std::mem::size_of::<Option<String>>() + s.as_ref().map_or(0, String::len))
                .sum::<usize>()
        }
        DbValue::Str(s) | DbValue::Uuid(s) | DbValue::Decimal(s) => own + s.len(),
        DbValue::Jsonb(b) | DbValue::Binary(b) | DbValue::Unsupported(b) => own + b.len(),
        _ => own,
    }
}

fn data_type(t: &Type) -> DbDataType {
    match *t {
        Type::BOOL => DbDataType::Boolean,
        Type::BYTEA => DbDataType::Binary,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => DbDataType::Str,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::UUID => DbDataType::Uuid,
        Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DbDataType::ArrayStr,
        Type::INTERVAL => DbDataType::Interval,
        _ => DbDataType::Other(t.name().to_string()),
    }
}

fn convert_row(row: &Row) -> anyhow::Result<Vec<DbValue>> {
    (0..row.len()).map(|i| convert_entry(row, i)).collect()
}

/// Reads column `i` as `T` (NULL → `db-null`) and wraps it.
fn get<'a, T: FromSql<'a>>(
    row: &'a Row,
    i: usize,
    wrap: impl FnOnce(T) -> anyhow::Result<DbValue>,
) -> anyhow::Result<DbValue> {
    match row.try_get::<_, Option<T>>(i)? {
        Some(v) => wrap(v),
        None => Ok(DbValue::DbNull),
    }
}

fn convert_entry(row: &Row, i: usize) -> anyhow::Result<DbValue> {
    use chrono::{Datelike, Timelike};
    let ty = row.columns()[i].type_().clone();
    match ty {
        Type::BOOL => get(row, i, |v| Ok(DbValue::Boolean(v))),
        Type::BYTEA => get(row, i, |v| Ok(DbValue::Binary(v))),
        Type::FLOAT4 => get(row, i, |v| Ok(DbValue::Floating32(v))),
        Type::FLOAT8 => get(row, i, |v| Ok(DbValue::Floating64(v))),
        Type::INT2 => get(row, i, |v| Ok(DbValue::Int16(v))),
        Type::INT4 => get(row, i, |v| Ok(DbValue::Int32(v))),
        Type::INT8 => get(row, i, |v| Ok(DbValue::Int64(v))),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => get(row, i, |v| Ok(DbValue::Str(v))),
        // Spin reads both as a naive datetime, so `timestamptz` fails the
        // driver's type check ("cannot convert ... timestamptz") as it does there.
        Type::TIMESTAMP | Type::TIMESTAMPTZ => get(row, i, |v: chrono::NaiveDateTime| {
            Ok(DbValue::Datetime((
                v.year(),
                v.month().try_into()?,
                v.day().try_into()?,
                v.hour().try_into()?,
                v.minute().try_into()?,
                v.second().try_into()?,
                v.nanosecond(),
            )))
        }),
        Type::DATE => get(row, i, |v: chrono::NaiveDate| {
            Ok(DbValue::Date((
                v.year(),
                v.month().try_into()?,
                v.day().try_into()?,
            )))
        }),
        Type::TIME => get(row, i, |v: chrono::NaiveTime| {
            Ok(DbValue::Time((
                v.hour().try_into()?,
                v.minute().try_into()?,
                v.second().try_into()?,
                v.nanosecond(),
            )))
        }),
        Type::UUID => get(row, i, |v: uuid::Uuid| Ok(DbValue::Uuid(v.to_string()))),
        Type::JSONB => get(row, i, |v: serde_json::Value| {
            Ok(DbValue::Jsonb(
                serde_json::to_vec(&v).context("invalid JSON from database")?,
            ))
        }),
        Type::NUMERIC => get(row, i, |v: rust_decimal::Decimal| {
            Ok(DbValue::Decimal(v.to_string()))
        }),
        Type::INT4_ARRAY => get(row, i, |v| Ok(DbValue::ArrayInt32(v))),
        Type::INT8_ARRAY => get(row, i, |v| Ok(DbValue::ArrayInt64(v))),
        Type::NUMERIC_ARRAY => get(row, i, |v: Vec<Option<rust_decimal::Decimal>>| {
            Ok(DbValue::ArrayDecimal(
                v.into_iter().map(|d| d.map(|d| d.to_string())).collect(),
            ))
        }),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => {
            get(row, i, |v| Ok(DbValue::ArrayStr(v)))
        }
        Type::INTERVAL => get(row, i, |v: Interval| Ok(DbValue::Interval(v.0))),
        // Ranges and everything else: the raw wire bytes, as Spin does for
        // types it does not know.
        _ => get(row, i, |v: RawValue| Ok(DbValue::Unsupported(v.0))),
    }
}

type SqlParam = Box<dyn ToSql + Send + Sync>;

fn to_sql_params(params: &[ParameterValue]) -> anyhow::Result<Vec<SqlParam>> {
    params.iter().map(to_sql).collect()
}

fn to_sql(value: &ParameterValue) -> anyhow::Result<SqlParam> {
    use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
    let date = |&(y, m, d): &(i32, u8, u8)| {
        NaiveDate::from_ymd_opt(y, m.into(), d.into())
            .ok_or_else(|| anyhow!("invalid date y={y}, m={m}, d={d}"))
    };
    let time = |&(h, mi, s, ns): &(u8, u8, u8, u32)| {
        NaiveTime::from_hms_nano_opt(h.into(), mi.into(), s.into(), ns)
            .ok_or_else(|| anyhow!("invalid time {h}:{mi}:{s}:{ns}"))
    };
    Ok(match value {
        ParameterValue::Boolean(v) => Box::new(*v),
        ParameterValue::Int8(v) => Box::new(*v),
        ParameterValue::Int16(v) => Box::new(*v),
        ParameterValue::Int32(v) => Box::new(*v),
        ParameterValue::Int64(v) => Box::new(*v),
        ParameterValue::Floating32(v) => Box::new(*v),
        ParameterValue::Floating64(v) => Box::new(*v),
        ParameterValue::Str(v) => Box::new(v.clone()),
        ParameterValue::Binary(v) => Box::new(v.clone()),
        ParameterValue::Date(v) => Box::new(date(v)?),
        ParameterValue::Time(v) => Box::new(time(v)?),
        ParameterValue::Datetime((y, mo, d, h, mi, s, ns)) => Box::new(NaiveDateTime::new(
            date(&(*y, *mo, *d))?,
            time(&(*h, *mi, *s, *ns))?,
        )),
        ParameterValue::Timestamp(v) => Box::new(
            chrono::DateTime::<chrono::Utc>::from_timestamp(*v, 0)
                .ok_or_else(|| anyhow!("invalid epoch timestamp {v}"))?,
        ),
        ParameterValue::Uuid(v) => {
            Box::new(uuid::Uuid::parse_str(v).with_context(|| format!("invalid UUID {v}"))?)
        }
        ParameterValue::Jsonb(v) => Box::new(
            serde_json::from_slice::<serde_json::Value>(v)
                .with_context(|| format!("invalid JSON {}", String::from_utf8_lossy(v)))?,
        ),
        ParameterValue::Decimal(v) => Box::new(
            rust_decimal::Decimal::from_str_exact(v)
                .with_context(|| format!("invalid decimal {v}"))?,
        ),
        ParameterValue::ArrayInt32(v) => Box::new(v.clone()),
        ParameterValue::ArrayInt64(v) => Box::new(v.clone()),
        ParameterValue::ArrayDecimal(v) => Box::new(
            v.iter()
                .map(|d| {
                    d.as_deref()
                        .map(|d| {
                            rust_decimal::Decimal::from_str_exact(d)
                                .with_context(|| format!("invalid decimal {d}"))
                        })
                        .transpose()
                })
                .collect::<anyhow::Result<Vec<_>>>()?,
        ),
        ParameterValue::ArrayStr(v) => Box::new(v.clone()),
        ParameterValue::Interval(v) => Box::new(Interval(*v)),
        ParameterValue::DbNull => Box::new(Null),
        ParameterValue::RangeInt32(_)
        | ParameterValue::RangeInt64(_)
        | ParameterValue::RangeDecimal(_) => {
            anyhow::bail!("range parameters are not supported by this runner")
        }
    })
}

/// SQL NULL of whatever type the statement expects.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(
        &self,
        _: &Type,
        _: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// Postgres `interval` in its binary wire form: microseconds, days, months.
#[derive(Debug)]
struct Interval(pg::Interval);

impl ToSql for Interval {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        out.extend_from_slice(&self.0.micros.to_be_bytes());
        out.extend_from_slice(&self.0.days.to_be_bytes());
        out.extend_from_slice(&self.0.months.to_be_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Interval {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        if raw.len() != 16 {
            return Err("invalid interval encoding".into());
        }
        let micros = i64::from_be_bytes(raw[0..8].try_into()?);
        let days = i32::from_be_bytes(raw[8..12].try_into()?);
        let months = i32::from_be_bytes(raw[12..16].try_into()?);
        Ok(Self(pg::Interval {
            micros,
            days,
            months,
        }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

/// Any column type, as raw bytes (`db-value::unsupported`).
struct RawValue(Vec<u8>);

impl<'a> FromSql<'a> for RawValue {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Self(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}
