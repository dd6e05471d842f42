//! The labels and task_labels tables (migration 0011_labels): the team's
//! labels, which admins keep, and which tasks carry them. Names and colours
//! are parsed at the edge ([`LabelName`], [`Color`]); one parameterised
//! statement per operation. Tasks refer to labels by id, so a rename or a
//! new colour shows on every task at once, and a deleted label leaves every
//! task (its task_labels rows go with it, `ON DELETE CASCADE`).

use mth_shared::ApiError;
use mth_shared::body::{JsonObject, from_string, name_text, string};
use mth_shared::db::{self, Db, DbError, FromColumn, Page, PageQuery, Row, sqlstate};
use mth_shared::query;
use mth_shared::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spin_sdk::pg4::{self, DbValue, Decode, ParameterValue};
use uuid::Uuid;

/// The unique index on `lower(name)`: a name taken, whatever its case.
const NAME_KEY: &str = "labels_name_key";
/// task_labels' foreign key to labels: a task given a label that is not (or
/// no longer) there.
pub const LABEL_FK: &str = "task_labels_label_id_fkey";

/// The palette: the only colours a label takes. Each is a chip colour with
/// its own text colour (static/css/app.css, `--label-<name>-bg` and
/// `--label-<name>-fg`), the same in light and dark themes, whose contrast
/// passes WCAG AA (4.5:1; checked by the tests below). The migration's
/// CHECK lists the same names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Color {
    Gray,
    Red,
    Orange,
    Yellow,
    Green,
    Teal,
    Blue,
    Indigo,
    Purple,
    Pink,
}

impl Color {
    pub const ALL: [Color; 10] = [
        Color::Gray,
        Color::Red,
        Color::Orange,
        Color::Yellow,
        Color::Green,
        Color::Teal,
        Color::Blue,
        Color::Indigo,
        Color::Purple,
        Color::Pink,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Color::Gray => "gray",
            Color::Red => "red",
            Color::Orange => "orange",
            Color::Yellow => "yellow",
            Color::Green => "green",
            Color::Teal => "teal",
            Color::Blue => "blue",
            Color::Indigo => "indigo",
            Color::Purple => "purple",
            Color::Pink => "pink",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == raw)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|c| c.as_str()).collect();
                format!("must be one of {}", names.join(", "))
            })
    }
}

/// A colour the database holds (its CHECK allows only the palette).
impl Decode for Color {
    fn decode(value: &DbValue) -> Result<Self, pg4::Error> {
        Color::parse(&String::decode(value)?).map_err(pg4::Error::Decode)
    }
}

mth_shared::decoded_column!(Color);

/// A label's name: 1–50 characters on one line, not blank, without spaces
/// at either end (" bug" and "bug" would look like one label), stored as
/// sent. Unique whatever the letter case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelName(String);

impl LabelName {
    pub const MAX: usize = 50;

    pub fn parse(raw: &str) -> Result<Self, String> {
        name_text(raw, Self::MAX).map(|()| Self(raw.to_owned()))
    }
}

mth_shared::text_type!(LabelName);

/// The body of `POST /labels`.
#[derive(Debug, PartialEq, Eq)]
pub struct NewLabel {
    pub name: LabelName,
    pub color: Color,
}

impl NewLabel {
    pub fn parse(mut body: JsonObject) -> Result<Self, ApiError> {
        let name = body.required("name", from_string(LabelName::parse));
        let color = body.required("color", from_string(Color::parse));
        body.finish(|| {
            Some(NewLabel {
                name: name?,
                color: color?,
            })
        })
    }
}

/// The body of `PATCH /labels/{id}`: a new name, a new colour, or both.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LabelPatch {
    pub name: Option<LabelName>,
    pub color: Option<Color>,
}

impl LabelPatch {
    pub fn parse(mut body: JsonObject) -> Result<Self, ApiError> {
        let name = body.optional("name", from_string(LabelName::parse));
        let color = body.optional("color", from_string(Color::parse));
        body.finish(|| Some(LabelPatch { name, color }))
    }
}

/// A label as `/labels` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Label {
    pub id: Uuid,
    pub name: String,
    pub color: Color,
    pub created_at: Timestamp,
    /// How many tasks carry it (what deleting it would touch).
    pub task_count: i64,
}

mth_shared::from_row!(Label {
    id,
    name,
    color,
    created_at,
    task_count,
});

/// `task_count` of a statement on `labels`: one index-only range of
/// `task_labels_label`.
const COLUMNS: &str = "id, name, color, created_at, \
    (SELECT count(*) FROM task_labels tl WHERE tl.label_id = labels.id) AS task_count";

/// The order of every list of labels: by name, whatever the case.
const ORDER: &str = "lower(name), id";

fn duplicate(name: &LabelName) -> ApiError {
    ApiError::conflict(format!(
        "There is already a label named “{}” (names are unique whatever their case); \
         choose another name or use that label.",
        name.as_str()
    ))
}

/// A unique violation on the name: 409; anything else as it is.
fn write_error(e: DbError, name: Option<&LabelName>) -> ApiError {
    match name {
        Some(name) if e.violates(sqlstate::UNIQUE_VIOLATION, NAME_KEY) => duplicate(name),
        _ => e.into(),
    }
}

/// A page of the labels, by name.
pub fn page(db: &Db, page: query::Page) -> Result<Page<Label>, ApiError> {
    db.page(PageQuery {
        select: &format!(
            "SELECT {COLUMNS}, count(*) OVER () AS total FROM labels \
             ORDER BY {ORDER} LIMIT $1 OFFSET $2"
        ),
        params: &[page.limit.into(), page.offset.into()],
        count: "SELECT count(*) AS total FROM labels",
        count_params: &[],
    })
}

pub fn find(db: &Db, id: Uuid) -> Result<Option<Label>, ApiError> {
    db::first(db.query(
        &format!("SELECT {COLUMNS} FROM labels WHERE id = $1"),
        &[id.into()],
    )?)
}

pub fn create(db: &Db, new: &NewLabel) -> Result<Label, ApiError> {
    let sql = format!("INSERT INTO labels (name, color) VALUES ($1, $2) RETURNING {COLUMNS}");
    let params = [
        new.name.as_str().to_owned().into(),
        new.color.as_str().to_owned().into(),
    ];
    let rows = db
        .query(&sql, &params)
        .map_err(|e| write_error(e, Some(&new.name)))?;
    db::first(rows)?.ok_or_else(|| ApiError::internal("The insert returned no row."))
}

/// Renames or recolours a label; `None` when there is no such label.
pub fn update(db: &Db, id: Uuid, patch: &LabelPatch) -> Result<Option<Label>, ApiError> {
    let sql = format!(
        "UPDATE labels SET name = COALESCE($2, name), color = COALESCE($3, color) \
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let params = [
        id.into(),
        patch
            .name
            .as_ref()
            .map_or(ParameterValue::DbNull, |n| n.as_str().to_owned().into()),
        patch
            .color
            .map_or(ParameterValue::DbNull, |c| c.as_str().to_owned().into()),
    ];
    let rows = db
        .query(&sql, &params)
        .map_err(|e| write_error(e, patch.name.as_ref()))?;
    db::first(rows)
}

/// Deletes a label, and with it its place on every task; whether it was there.
pub fn delete(db: &Db, id: Uuid) -> Result<bool, ApiError> {
    Ok(db.execute("DELETE FROM labels WHERE id = $1", &[id.into()])? > 0)
}

// ----------------------------------------------------------- on tasks

/// How many labels one task may carry.
pub const MAX_PER_TASK: usize = 20;

/// `label_ids` of a task's body: a list of label ids, each kept once, in
/// the order sent (the answer orders them by name).
pub fn ids(value: &Value) -> Result<Vec<Uuid>, String> {
    let items = value
        .as_array()
        .ok_or_else(|| "must be a list of label ids".to_owned())?;
    let mut ids = Vec::new();
    for item in items {
        let id = Uuid::try_parse(&string(item)?)
            .map_err(|_| "must be a list of label ids (UUIDs)".to_owned())?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.len() > MAX_PER_TASK {
        return Err(format!("must list at most {MAX_PER_TASK} labels"));
    }
    Ok(ids)
}

/// A list of label ids as a statement's parameter: bind it where the
/// statement says `${n}::text[]` (cast to `uuid[]` there: Spin binds a
/// list of strings as text).
pub fn param(ids: Option<&[Uuid]>) -> ParameterValue {
    match ids {
        None => ParameterValue::DbNull,
        Some(ids) => ParameterValue::ArrayStr(ids.iter().map(|id| Some(id.to_string())).collect()),
    }
}

/// The labels of one task as its answers show them: id, name and colour,
/// by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskLabel {
    pub id: Uuid,
    pub name: String,
    pub color: Color,
}

/// A task's labels, read from the JSON column [`column`] makes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TaskLabels(pub Vec<TaskLabel>);

impl FromColumn for TaskLabels {
    fn read(row: &mut Row<'_>, name: &str) -> Result<Self, ApiError> {
        let json = row.take_text(name)?;
        serde_json::from_str(&json)
            .map(TaskLabels)
            .map_err(|e| ApiError::internal("A task's labels could not be read.").caused_by(e))
    }
}

/// A JSON array of labels (as text) from a condition on `l`, the labels.
fn labels_where(condition: &str) -> String {
    format!(
        "(SELECT COALESCE(json_agg(json_build_object('id', l.id, 'name', l.name, 'color', l.color) \
           ORDER BY lower(l.name), l.id), '[]'::json)::text FROM labels l WHERE {condition}) AS labels"
    )
}

/// A task answer's `labels`, as a column of a statement on `tasks`: the
/// task's labels as stored.
pub fn column() -> String {
    labels_where("l.id IN (SELECT tl.label_id FROM task_labels tl WHERE tl.task_id = tasks.id)")
}

/// `labels` of a statement that sets a task's labels to the list in
/// parameter `$param` (NULL: leaves them): every part of one statement sees
/// the tables as they were before it, so the answer is read from the list.
pub fn column_after(param: usize) -> String {
    labels_where(&format!(
        "l.id = ANY(COALESCE(${param}::text[]::uuid[], \
           ARRAY(SELECT tl.label_id FROM task_labels tl WHERE tl.task_id = tasks.id)))"
    ))
}

/// The parts (common table expressions, each starting with a comma) of a
/// statement on the task of CTE `t` that set its labels to the list in
/// `$param`, if not NULL: the ones no longer listed removed, the new ones
/// added, and — for a change (`history`) — one entry of the task's history
/// naming the labels before and after, when they differ. An id that is no
/// label's fails the statement on [`LABEL_FK`].
pub fn set_ctes(param: usize, history: bool) -> String {
    let list = format!("${param}::text[]");
    let ids = format!("{list}::uuid[]");
    let names = "string_agg(l.name, ', ' ORDER BY lower(l.name), l.id)";
    let mut sql = format!(
        ", labels_gone AS (DELETE FROM task_labels tl USING t \
             WHERE {list} IS NOT NULL AND tl.task_id = t.id AND NOT (tl.label_id = ANY({ids}))) \
         , labels_added AS (INSERT INTO task_labels (task_id, label_id) \
             SELECT t.id, x.id FROM t, unnest({ids}) AS x (id) WHERE {list} IS NOT NULL \
             ON CONFLICT DO NOTHING)"
    );
    if history {
        sql.push_str(&format!(
            ", labels_noted AS (INSERT INTO task_history \
                 (task_id, changed_by, changed_at, field, old_value, new_value) \
               SELECT t.id, t.updated_by, t.updated_at, 'labels', was.names, became.names \
               FROM t, \
                 LATERAL (SELECT {names} AS names FROM task_labels tl \
                   JOIN labels l ON l.id = tl.label_id WHERE tl.task_id = t.id) AS was, \
                 LATERAL (SELECT {names} AS names FROM labels l WHERE l.id = ANY({ids})) AS became \
               WHERE {list} IS NOT NULL AND was.names IS DISTINCT FROM became.names)"
        ));
    }
    sql
}

// ------------------------------------------------ export and import

/// Up to `limit` labels after `after` (by id): an export's page.
pub fn export_page(db: &Db, after: Option<Uuid>, limit: i64) -> Result<Vec<Label>, ApiError> {
    db::all(db.query(
        &format!(
            "SELECT {COLUMNS} FROM labels WHERE $1::uuid IS NULL OR id > $1 ORDER BY id LIMIT $2"
        ),
        &[
            after.map_or(ParameterValue::DbNull, Into::into),
            limit.into(),
        ],
    )?)
}

/// Every label's id and name (a Trello import reuses a label of the same
/// name, whatever its case).
pub fn all(db: &Db) -> Result<Vec<Label>, ApiError> {
    db::all(db.query(&format!("SELECT {COLUMNS} FROM labels"), &[])?)
}

/// Creates imported labels with their ids and times.
pub fn import(db: &Db, labels: &[crate::transfer::ImportLabel]) -> Result<(), ApiError> {
    use mth_accounts::workspace::{BATCH, texts, timestamp_text};
    for batch in labels.chunks(BATCH) {
        let column = |f: &dyn Fn(&crate::transfer::ImportLabel) -> Option<String>| {
            texts(batch.iter().map(f))
        };
        db.execute(
            "INSERT INTO labels (id, name, color, created_at) \
             SELECT r.id::uuid, r.name, r.color, r.created_at::timestamp \
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) \
               AS r (id, name, color, created_at)",
            &[
                column(&|l| Some(l.id.to_string())),
                column(&|l| Some(l.name.as_str().to_owned())),
                column(&|l| Some(l.color.as_str().to_owned())),
                column(&|l| Some(timestamp_text(l.created_at))),
            ],
        )
        .map_err(|e| write_error(e, None))?;
    }
    Ok(())
}

/// Puts labels on imported tasks: `(task, label)` pairs.
pub fn import_task_labels(db: &Db, pairs: &[(Uuid, Uuid)]) -> Result<(), ApiError> {
    use mth_accounts::workspace::{BATCH, texts};
    for batch in pairs.chunks(BATCH) {
        db.execute(
            "INSERT INTO task_labels (task_id, label_id) \
             SELECT r.task_id::uuid, r.label_id::uuid \
             FROM unnest($1::text[], $2::text[]) AS r (task_id, label_id) ON CONFLICT DO NOTHING",
            &[
                texts(batch.iter().map(|(t, _)| Some(t.to_string()))),
                texts(batch.iter().map(|(_, l)| Some(l.to_string()))),
            ],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_line_trimmed_and_bounded() {
        assert!(LabelName::parse(&"n".repeat(50)).is_ok());
        assert!(LabelName::parse(&"n".repeat(51)).is_err());
        assert!(LabelName::parse(&"é".repeat(50)).is_ok());
        for bad in ["", "  ", " bug", "bug ", "two\nlines", "nul\0"] {
            assert!(LabelName::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            LabelName::parse("needs design").unwrap().as_str(),
            "needs design"
        );
    }

    #[test]
    fn colours_come_from_the_palette() {
        for c in Color::ALL {
            assert_eq!(Color::parse(c.as_str()), Ok(c));
        }
        let refused = Color::parse("#ff0000").unwrap_err();
        assert!(refused.contains("gray, red"), "{refused}");
        assert!(Color::parse("Red").is_err());
    }

    #[test]
    fn label_bodies() {
        let new = |json: &str| NewLabel::parse(JsonObject::from_json(json).unwrap());
        assert_eq!(
            new(r#"{"name":"Bug","color":"red"}"#).unwrap().color,
            Color::Red
        );
        let err = new(r#"{"color":"mauve","extra":1}"#).unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "color", "extra"]);
        let patch = |json: &str| LabelPatch::parse(JsonObject::from_json(json).unwrap());
        assert_eq!(patch("{}").unwrap(), LabelPatch::default());
        assert!(patch(r#"{"name":null}"#).is_err());
        assert_eq!(
            patch(r#"{"color":"blue"}"#).unwrap().color,
            Some(Color::Blue)
        );
    }

    #[test]
    fn task_label_ids_are_a_list_of_distinct_uuids() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(
            ids(&serde_json::json!([a, b, a])).unwrap(),
            vec![a, b],
            "each once"
        );
        assert_eq!(ids(&serde_json::json!([])).unwrap(), Vec::<Uuid>::new());
        for bad in [
            serde_json::json!("x"),
            serde_json::json!([1]),
            serde_json::json!(["x"]),
            serde_json::json!(a),
        ] {
            assert!(ids(&bad).is_err(), "{bad}");
        }
        let many: Vec<Uuid> = (0..=MAX_PER_TASK).map(|_| Uuid::new_v4()).collect();
        assert!(ids(&serde_json::json!(many)).is_err());
    }

    /// The palette's colours as the stylesheet defines them: `--label-<name>-bg`
    /// and `--label-<name>-fg`, hex.
    fn stylesheet_colour(css: &str, name: &str) -> (f64, f64, f64) {
        let key = format!("--label-{name}:");
        let start = css
            .find(&key)
            .unwrap_or_else(|| panic!("{key} is not in app.css"))
            + key.len();
        let hex = css[start..].trim_start();
        let hex = hex.strip_prefix('#').expect("a hex colour");
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        (channel(0), channel(2), channel(4))
    }

    fn luminance((r, g, b): (f64, f64, f64)) -> f64 {
        0.2126 * r + 0.7152 * g + 0.0722 * b
    }

    /// WCAG 2's contrast ratio of two colours.
    fn contrast(a: (f64, f64, f64), b: (f64, f64, f64)) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    #[test]
    fn every_colour_of_the_palette_passes_wcag_aa_in_the_stylesheet() {
        let css = include_str!("../../../static/css/app.css");
        for c in Color::ALL {
            let name = c.as_str();
            let bg = stylesheet_colour(css, &format!("{name}-bg"));
            let fg = stylesheet_colour(css, &format!("{name}-fg"));
            let ratio = contrast(bg, fg);
            assert!(ratio >= 4.5, "{name}: text contrast {ratio:.2} < 4.5");
            assert!(
                css.contains(&format!(".label-chip[data-color=\"{name}\"]")),
                "app.css has no chip style for {name}"
            );
        }
    }
}
