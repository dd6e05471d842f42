//! Times on the wire and in the database: UTC `timestamp` columns written as
//! RFC 3339 with `Z`, and `date` columns written `YYYY-MM-DD`.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat};
use serde::Serialize;
use spin_sdk::pg4::{self, DbValue, Decode};

/// An instant in UTC, to the microsecond (what Postgres keeps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct Timestamp(pub NaiveDateTime);

impl Timestamp {
    /// From whole seconds since the Unix epoch (cookies and tokens count so).
    pub fn from_unix(seconds: i64) -> Self {
        Self(
            DateTime::from_timestamp(seconds, 0)
                .unwrap_or_default()
                .naive_utc(),
        )
    }
}

/// RFC 3339 in UTC, with microseconds and `Z`.
impl From<Timestamp> for String {
    fn from(t: Timestamp) -> String {
        t.0.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true)
    }
}

impl Decode for Timestamp {
    fn decode(value: &DbValue) -> Result<Self, pg4::Error> {
        NaiveDateTime::decode(value).map(Self)
    }
}

/// A calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct Date(pub NaiveDate);

/// `YYYY-MM-DD`. Written by hand for the years the API accepts: chrono's
/// `format("%Y-%m-%d")` parses its format string again for every value, which
/// was ~8 % of the guest's work on a list page of tasks.
impl From<Date> for String {
    fn from(Date(d): Date) -> String {
        if (0..=9999).contains(&d.year()) {
            format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
        } else {
            d.format("%Y-%m-%d").to_string()
        }
    }
}

impl Decode for Date {
    fn decode(value: &DbValue) -> Result<Self, pg4::Error> {
        NaiveDate::decode(value).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_with_z_and_microseconds() {
        let t = NaiveDate::from_ymd_opt(2026, 1, 2)
            .unwrap()
            .and_hms_micro_opt(3, 4, 5, 6)
            .unwrap();
        assert_eq!(String::from(Timestamp(t)), "2026-01-02T03:04:05.000006Z");
        assert_eq!(
            String::from(Timestamp::from_unix(0)),
            "1970-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            serde_json::to_string(&Timestamp(t)).unwrap(),
            "\"2026-01-02T03:04:05.000006Z\""
        );
    }

    #[test]
    fn dates_are_what_chrono_formats() {
        for (y, m, d) in [
            (2026, 1, 2),
            (999, 12, 31),
            (0, 1, 1),
            (9999, 12, 31),
            (10000, 1, 1),
            (-1, 3, 4),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(
                String::from(Date(date)),
                date.format("%Y-%m-%d").to_string()
            );
        }
    }
}
