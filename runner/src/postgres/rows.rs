//! Row decoding: a result stream becomes the WIT `row-set`, each column
//! read through its typed `FromSql`, the whole bounded as Spin bounds it.

use std::error::Error as StdError;

use anyhow::Context;
use futures_util::TryStreamExt as _;
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, Type};

use super::interval::Interval;
use crate::bindings::spin::postgres::postgres::{Column, DbDataType, DbValue, RowSet};

/// Spin's `MAX_HOST_BUFFERED_BYTES`: the most a query result may hold, as
/// counted by [`memory_size`].
const MAX_RESULT_BYTES: usize = 128 << 20;

/// Reads every row of `stream`. Anything failing here (a server error raised
/// while rows stream, a column that does not convert, the limit) reaches the
/// guest only as text.
pub(super) async fn collect(
    stream: impl futures_util::Stream<Item = Result<Row, tokio_postgres::Error>>,
) -> anyhow::Result<RowSet> {
    let mut stream = std::pin::pin!(stream);
    // Spin reports no columns for an empty result.
    let mut columns = Vec::new();
    let mut rows = Vec::new();
    let mut byte_count = std::mem::size_of::<RowSet>();
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
    Ok(RowSet { columns, rows })
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
