//! Timestamps on the wire: RFC 3339 in UTC. The database keeps UTC `timestamp`.

use chrono::{NaiveDateTime, SecondsFormat};

pub fn rfc3339(utc: NaiveDateTime) -> String {
    utc.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_utc_with_z() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 1, 2)
            .unwrap()
            .and_hms_micro_opt(3, 4, 5, 6)
            .unwrap();
        assert_eq!(rfc3339(t), "2026-01-02T03:04:05.000006Z");
    }
}
