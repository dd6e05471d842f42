//! The saved_views table (migration 0014_saved_views): each person's named
//! board views, their own only. A view keeps the board's filters as a
//! query string, checked by the list's own parser (filters.rs) before it is
//! stored; another person's view is, to everyone else, no view at all (404).

use mth_shared::ApiError;
use mth_shared::body::{JsonObject, from_string, name_text};
use mth_shared::db::{self, Db, DbError, Page, PageQuery, sqlstate};
use mth_shared::query;
use mth_shared::time::Timestamp;
use serde::Serialize;
use spin_sdk::pg4::ParameterValue;
use uuid::Uuid;

use crate::filters::Filters;

/// The unique index on `(owner_id, lower(name))`.
const NAME_KEY: &str = "saved_views_owner_name_key";

/// A view's name: 1–80 characters on one line, not blank, without spaces
/// at either end; unique among its owner's views whatever the letter case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewName(String);

impl ViewName {
    pub const MAX: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, String> {
        name_text(raw, Self::MAX).map(|()| Self(raw.to_owned()))
    }
}

/// A view's filters: the query string of `GET /tasks` without paging or
/// `today` (`status=todo&due=overdue`; a leading `?` is dropped; empty:
/// every task), at most 2000 characters, every parameter as the list
/// reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewQuery(String);

impl ViewQuery {
    pub const MAX: usize = 2000;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.strip_prefix('?').unwrap_or(raw);
        if raw.chars().count() > Self::MAX {
            return Err(format!("must be at most {} characters", Self::MAX));
        }
        Filters::check_view(raw)?;
        Ok(Self(raw.to_owned()))
    }
}

mth_shared::text_type!(ViewName, ViewQuery);

/// The body of `POST /views`.
#[derive(Debug)]
pub struct NewView {
    pub name: ViewName,
    pub query: ViewQuery,
}

impl NewView {
    pub fn parse(mut body: JsonObject) -> Result<Self, ApiError> {
        let name = body.required("name", from_string(ViewName::parse));
        let query = body.required("query", from_string(ViewQuery::parse));
        body.finish(|| {
            Some(NewView {
                name: name?,
                query: query?,
            })
        })
    }
}

/// The body of `PATCH /views/{id}`: a new name, new filters, or both.
#[derive(Debug, Default)]
pub struct ViewPatch {
    pub name: Option<ViewName>,
    pub query: Option<ViewQuery>,
}

impl ViewPatch {
    pub fn parse(mut body: JsonObject) -> Result<Self, ApiError> {
        let name = body.optional("name", from_string(ViewName::parse));
        let query = body.optional("query", from_string(ViewQuery::parse));
        body.finish(|| Some(ViewPatch { name, query }))
    }
}

/// A saved view as `/views` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub id: Uuid,
    pub name: String,
    pub query: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

mth_shared::from_row!(View {
    id,
    name,
    query,
    created_at,
    updated_at,
});

const COLUMNS: &str = "id, name, query, created_at, updated_at";

fn text(value: Option<&str>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, |v| v.to_owned().into())
}

/// A unique violation on the name: 409; anything else as it is.
fn write_error(e: DbError, name: Option<&ViewName>) -> ApiError {
    match name {
        Some(name) if e.violates(sqlstate::UNIQUE_VIOLATION, NAME_KEY) => {
            ApiError::conflict(format!(
                "You already have a view named “{}” (names are unique whatever their case); \
                 choose another name, or rename or delete that view.",
                name.as_str()
            ))
        }
        _ => e.into(),
    }
}

/// A page of `owner`'s views, by name.
pub fn page(db: &Db, owner: Uuid, page: query::Page) -> Result<Page<View>, ApiError> {
    db.page(PageQuery {
        select: &format!(
            "SELECT {COLUMNS}, count(*) OVER () AS total FROM saved_views WHERE owner_id = $1 \
             ORDER BY lower(name), id LIMIT $2 OFFSET $3"
        ),
        params: &[owner.into(), page.limit.into(), page.offset.into()],
        count: "SELECT count(*) AS total FROM saved_views WHERE owner_id = $1",
        count_params: &[owner.into()],
    })
}

/// `owner`'s view `id`; `None` also when it is someone else's.
pub fn find(db: &Db, owner: Uuid, id: Uuid) -> Result<Option<View>, ApiError> {
    db::first(db.query(
        &format!("SELECT {COLUMNS} FROM saved_views WHERE id = $1 AND owner_id = $2"),
        &[id.into(), owner.into()],
    )?)
}

pub fn create(db: &Db, owner: Uuid, new: &NewView) -> Result<View, ApiError> {
    let sql = format!(
        "INSERT INTO saved_views (owner_id, name, query) VALUES ($1, $2, $3) RETURNING {COLUMNS}"
    );
    let params = [
        owner.into(),
        new.name.as_str().to_owned().into(),
        new.query.as_str().to_owned().into(),
    ];
    let rows = db
        .query(&sql, &params)
        .map_err(|e| write_error(e, Some(&new.name)))?;
    db::first(rows)?.ok_or_else(|| ApiError::internal("The insert returned no row."))
}

/// Renames a view or gives it new filters; `None` when `owner` has no such view.
pub fn update(db: &Db, owner: Uuid, id: Uuid, patch: &ViewPatch) -> Result<Option<View>, ApiError> {
    let sql = format!(
        "UPDATE saved_views SET name = COALESCE($3, name), query = COALESCE($4, query), \
           updated_at = (now() AT TIME ZONE 'utc') \
         WHERE id = $1 AND owner_id = $2 RETURNING {COLUMNS}"
    );
    let params = [
        id.into(),
        owner.into(),
        text(patch.name.as_ref().map(ViewName::as_str)),
        text(patch.query.as_ref().map(ViewQuery::as_str)),
    ];
    let rows = db
        .query(&sql, &params)
        .map_err(|e| write_error(e, patch.name.as_ref()))?;
    db::first(rows)
}

/// Deletes `owner`'s view; whether there was one.
pub fn delete(db: &Db, owner: Uuid, id: Uuid) -> Result<bool, ApiError> {
    Ok(db.execute(
        "DELETE FROM saved_views WHERE id = $1 AND owner_id = $2",
        &[id.into(), owner.into()],
    )? > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_queries_are_checked() {
        assert!(ViewName::parse("My overdue").is_ok());
        for bad in ["", "  ", " x", "x\n", &"x".repeat(81)] {
            assert!(ViewName::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            ViewQuery::parse("?due=overdue").unwrap().as_str(),
            "due=overdue"
        );
        assert!(ViewQuery::parse("").is_ok());
        assert!(
            ViewQuery::parse("due=later")
                .unwrap_err()
                .starts_with("due: ")
        );
        assert!(ViewQuery::parse(&"q=a+".repeat(600)).is_err());
    }
}
