//! The board's filters as a query string: what `GET /tasks` takes and what
//! a saved view keeps (views.rs), read by one parser, so a view stored is a
//! view the list accepts. The due-date rule ([`Due::window`]) lives here.

use chrono::{Datelike, Days, NaiveDate, Utc};
use mth_shared::ApiError;
use mth_shared::query::Query;
use serde_json::Value;

use crate::domain::{Status, due_date};
use crate::search::SearchQuery;
use crate::store::Filter;

/// The filters' parameter names (the list adds `today`, `limit` and `offset`).
pub const NAMES: [&str; 6] = ["assignee_id", "status", "label", "label_match", "due", "q"];
/// The names that may repeat (`label=a&label=b`).
pub const LISTS: [&str; 1] = ["label"];

/// `due=`: which due dates a list keeps, relative to "today" (the client's
/// local date, `today=`, else the server's UTC date).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Due before today, and not done.
    Overdue,
    /// Due from today through the Sunday that ends today's ISO week
    /// (Monday to Sunday): on a Sunday, today only.
    ThisWeek,
    /// No due date.
    None,
}

/// The dates a [`Due`] keeps, as the list's statement applies them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DueWindow {
    /// Only tasks without a due date.
    pub without: bool,
    /// Due on or after this day.
    pub from: Option<NaiveDate>,
    /// Due on or before this day.
    pub through: Option<NaiveDate>,
    /// Only tasks not done.
    pub open_only: bool,
}

impl Due {
    pub const ALL: [Due; 3] = [Due::Overdue, Due::ThisWeek, Due::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Due::Overdue => "overdue",
            Due::ThisWeek => "this_week",
            Due::None => "none",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == raw)
            .ok_or_else(|| "must be overdue, this_week or none".to_owned())
    }

    /// The rule: which due dates this keeps when it is `today`.
    pub fn window(self, today: NaiveDate) -> DueWindow {
        match self {
            Due::Overdue => DueWindow {
                through: today.pred_opt(),
                open_only: true,
                ..DueWindow::default()
            },
            Due::ThisWeek => {
                let rest_of_week = u64::from(6 - today.weekday().num_days_from_monday());
                DueWindow {
                    from: Some(today),
                    through: today.checked_add_days(Days::new(rest_of_week)),
                    ..DueWindow::default()
                }
            }
            Due::None => DueWindow {
                without: true,
                ..DueWindow::default()
            },
        }
    }
}

/// The filters of a query (its other parameters are the caller's), and
/// the words searched for, if any.
#[derive(Debug, Clone)]
pub struct Filters {
    pub filter: Filter,
    pub words: Option<SearchQuery>,
}

impl Filters {
    /// Reads the filters of `query`, relative to `today` (for `due`).
    pub fn from_query(query: &Query, today: NaiveDate) -> Result<Self, ApiError> {
        let match_any = match query.get("label_match") {
            None | Some("all") => false,
            Some("any") => true,
            Some(_) => return Err(ApiError::invalid("label_match", "must be all or any")),
        };
        let due = query
            .get("due")
            .map(|d| Due::parse(d).map_err(|m| ApiError::invalid("due", m)))
            .transpose()?;
        let filter = Filter {
            assignee_id: query.uuid("assignee_id")?,
            status: query
                .get("status")
                .map(|s| Status::parse(s).map_err(|m| ApiError::invalid("status", m)))
                .transpose()?,
            labels: query.uuids("label")?,
            match_any,
            due: due.map(|d| d.window(today)).unwrap_or_default(),
        };
        let words = query
            .get("q")
            .map(|raw| SearchQuery::parse(raw).map_err(|m| ApiError::invalid("q", m)))
            .transpose()?;
        Ok(Filters { filter, words })
    }

    /// A saved view's filters (no paging, no `today`: those are the
    /// viewer's), checked as the list would read them; a refusal names the
    /// parameter (`due: must be ...`).
    pub fn check_view(raw: &str) -> Result<(), String> {
        Query::parse_with_lists(raw, &NAMES, &LISTS)
            .and_then(|query| Self::from_query(&query, server_today()))
            .map(drop)
            .map_err(|e| {
                let named: Vec<String> = e
                    .errors
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect();
                if named.is_empty() {
                    e.detail
                } else {
                    named.join("; ")
                }
            })
    }
}

/// `today=`: the client's local date (`YYYY-MM-DD`), else the server's UTC date.
pub fn today(query: &Query) -> Result<NaiveDate, ApiError> {
    match query.get("today") {
        None => Ok(server_today()),
        Some(raw) => due_date(&Value::String(raw.to_owned()))
            .and_then(|day| {
                // A week's room either side, within the years Postgres and
                // the wire format share.
                (2..=9998)
                    .contains(&day.year())
                    .then_some(day)
                    .ok_or_else(|| "must be a date in the years 0002 to 9998".to_owned())
            })
            .map_err(|m| ApiError::invalid("today", m)),
    }
}

fn server_today() -> NaiveDate {
    Utc::now().date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn due_windows_follow_today() {
        // 2026-12-09 is a Wednesday: the week ends on Sunday the 13th.
        let wednesday = day("2026-12-09");
        let week = Due::ThisWeek.window(wednesday);
        assert_eq!(
            (week.from, week.through),
            (Some(wednesday), Some(day("2026-12-13")))
        );
        assert!(!week.open_only && !week.without);
        let sunday = day("2026-12-13");
        let week = Due::ThisWeek.window(sunday);
        assert_eq!((week.from, week.through), (Some(sunday), Some(sunday)));
        let monday = day("2026-12-07");
        assert_eq!(Due::ThisWeek.window(monday).through, Some(sunday));
        let overdue = Due::Overdue.window(wednesday);
        assert_eq!(
            (overdue.from, overdue.through),
            (None, Some(day("2026-12-08")))
        );
        assert!(overdue.open_only);
        assert!(Due::None.window(wednesday).without);
    }

    #[test]
    fn due_values_are_known_or_refused() {
        for d in Due::ALL {
            assert_eq!(Due::parse(d.as_str()), Ok(d));
        }
        for bad in ["", "Overdue", "week", "this-week"] {
            assert!(Due::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn views_are_checked_like_the_list() {
        for good in [
            "",
            "status=todo&due=overdue",
            "q=deploy+api&label_match=any",
        ] {
            assert!(Filters::check_view(good).is_ok(), "{good}");
        }
        for bad in [
            "due=soon",
            "limit=5",
            "today=2026-01-01",
            "status=x",
            "q=%21",
        ] {
            let name = bad.split('=').next().unwrap();
            let e = Filters::check_view(bad).unwrap_err();
            assert!(e.starts_with(&format!("{name}: ")), "{bad}: {e}");
        }
    }
}
