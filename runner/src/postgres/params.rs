//! Parameter binding: a WIT `parameter-value` becomes a typed `ToSql`, so
//! tokio-postgres's own type checks decide what binds to which column.

use std::error::Error as StdError;

use anyhow::{Context, anyhow};
use bytes::BytesMut;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::interval::Interval;
use crate::bindings::spin::postgres::postgres::ParameterValue;

pub(super) type SqlParam = Box<dyn ToSql + Send + Sync>;

pub(super) fn to_sql_params(params: &[ParameterValue]) -> anyhow::Result<Vec<SqlParam>> {
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
