//! The import of our own export (format v1; `POST /import`, or a staged
//! upload's run), streamed: the file is read from its [`Source`] once per
//! pass, each array element handed to a sink that checks it and writes it
//! in batches, so what stays in memory is a batch and the ids of the file
//! (for the references between sections), never the file's text.
//!
//! Passes, in order, all in one transaction: `checking` reads everything
//! (the shape of each element, the header, the history's ids), then one
//! pass writes each section, in the order their references need: people,
//! labels, tasks (with their labels), comments, history. A section's
//! place in the file does not matter. Problems are collected; any at all
//! rolls everything back with a 422 naming each place (`tasks[1].status`).

use std::collections::HashSet;

use mth_accounts::person::{Email, FullName, Role};
use mth_accounts::workspace::{self as people, BATCH, NewPerson};
use mth_accounts::{Access, Actor};
use mth_shared::ApiError;
use mth_shared::db::Db;
use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess};
use uuid::Uuid;

use crate::comments::{self, CommentBody};
use crate::domain::{Description, Status, Title};
use crate::history;
use crate::labels::{self, Color, LabelName};
use crate::store;
use crate::stream::{self, Each, Members};
use crate::transfer::{
    self, FORMAT, ImportComment, ImportEntry, ImportLabel, ImportTask, Problems, Summary, VERSION,
};
use crate::uploads::{Progress, Source};

const WHAT: &str = "a MicroTaskHub export";

/// How far past the number of history entries their ids may go and be
/// kept: beyond, they are numbered anew from 1 in their order (a
/// long-lived database's ids would make the sequence's advance long).
const MAX_HISTORY_GAP: i64 = 10_000_000;

/// The members of the document, the sections last, in the order written.
const FIELDS: &[&str] = &[
    "format",
    "version",
    "exported_at",
    "people",
    "labels",
    "tasks",
    "comments",
    "history",
];

const HISTORY_FIELDS: [&str; 7] = [
    "created",
    "title",
    "description",
    "status",
    "due_date",
    "assignee_id",
    "labels",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonIn {
    id: Uuid,
    email: String,
    full_name: String,
    role: String,
    access: String,
    active: bool,
    created_at: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelIn {
    id: Uuid,
    name: String,
    color: String,
    created_at: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskIn {
    id: Uuid,
    title: String,
    description: Option<String>,
    status: String,
    due_date: Option<String>,
    assignee_id: Option<Uuid>,
    created_by: Option<Uuid>,
    updated_by: Option<Uuid>,
    created_at: String,
    updated_at: String,
    version: i64,
    #[serde(default)]
    label_ids: Vec<Uuid>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentIn {
    id: Uuid,
    task_id: Uuid,
    author_id: Option<Uuid>,
    body: String,
    created_at: String,
    edited_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryIn {
    id: i64,
    task_id: Uuid,
    changed_by: Option<Uuid>,
    changed_at: String,
    field: String,
    from: Option<String>,
    to: Option<String>,
}

/// One read of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Check,
    Write(&'static str),
}

/// The sections, in the order they are written.
const SECTIONS: [&str; 5] = ["people", "labels", "tasks", "comments", "history"];

/// What an import knows of the file so far, and what it is writing.
struct Import<'a> {
    db: &'a Db,
    progress: &'a mut Progress,
    pass: Pass,
    p: Problems,
    /// A write that failed: the pass ends with it.
    failed: Option<ApiError>,
    /// The importer, and their email (trimmed, lower case).
    me: Option<Uuid>,
    my_email: Option<String>,
    /// The file's person with the importer's email: they become them.
    becomes: Option<Uuid>,
    format: Option<String>,
    version: Option<u32>,
    /// The members of the document read in this pass.
    seen: [bool; FIELDS.len()],
    /// The history's ids, in order (read while checking): an entry's new
    /// id is its place here when they are numbered anew.
    history_ids: Vec<i64>,
    renumber: bool,
    // The ids of the file, for the references of later sections.
    person_ids: HashSet<Uuid>,
    emails: HashSet<String>,
    label_ids: HashSet<Uuid>,
    label_names: HashSet<String>,
    task_ids: HashSet<Uuid>,
    comment_ids: HashSet<Uuid>,
    entry_ids: HashSet<i64>,
    max_entry: i64,
    // The batches not yet written.
    people: Vec<NewPerson>,
    labels: Vec<ImportLabel>,
    tasks: Vec<ImportTask>,
    task_labels: Vec<(Uuid, Uuid)>,
    comments: Vec<ImportComment>,
    entries: Vec<ImportEntry>,
    summary: Summary,
}

/// Imports the export `source` holds into the (empty) workspace, in one
/// transaction: its summary, and who the importer is afterwards (the
/// file's person with their email, when there is one).
pub fn import(
    db: &Db,
    source: Source<'_>,
    actor: &Actor,
    progress: &mut Progress,
) -> Result<(Summary, Option<Uuid>), ApiError> {
    transfer::in_transaction(db, |db| {
        transfer::require_empty(db, actor)?;
        let me = actor.person_id();
        let my_email = me
            .map(|me| people::email_of(db, me))
            .transpose()?
            .flatten()
            .map(|e| e.trim().to_lowercase());
        let mut import = Import {
            db,
            progress,
            pass: Pass::Check,
            p: Problems::default(),
            failed: None,
            me,
            my_email,
            becomes: None,
            format: None,
            version: None,
            seen: [false; FIELDS.len()],
            history_ids: Vec::new(),
            renumber: false,
            person_ids: HashSet::new(),
            emails: HashSet::new(),
            label_ids: HashSet::new(),
            label_names: HashSet::new(),
            task_ids: HashSet::new(),
            comment_ids: HashSet::new(),
            entry_ids: HashSet::new(),
            max_entry: 0,
            people: Vec::new(),
            labels: Vec::new(),
            tasks: Vec::new(),
            task_labels: Vec::new(),
            comments: Vec::new(),
            entries: Vec::new(),
            summary: Summary::default(),
        };
        import.run(source)?;
        let becomes = import.becomes.or(me);
        Ok((import.summary, becomes))
    })
}

impl Import<'_> {
    fn run(&mut self, source: Source<'_>) -> Result<(), ApiError> {
        self.read(source, Pass::Check)?;
        if self.format.as_deref() != Some(FORMAT) {
            self.p.add("format", format!("must be \"{FORMAT}\""));
        }
        if self.version != Some(VERSION) {
            self.p.add(
                "version",
                format!("must be {VERSION} (this server reads version {VERSION})"),
            );
        }
        std::mem::take(&mut self.p).finish(WHAT)?;
        self.history_ids.sort_unstable();
        let entries = i64::try_from(self.history_ids.len()).unwrap_or(i64::MAX);
        self.renumber = self.history_ids.last().copied().unwrap_or(0) > entries + MAX_HISTORY_GAP;
        // The importer's row steps aside for the file's person with their
        // email, who takes over their sign-in once the people are in.
        let hand_over = match (self.becomes, self.me) {
            (Some(to), Some(me)) if to != me => Some((me, to)),
            _ => None,
        };
        if let Some((me, _)) = hand_over {
            people::set_email_aside(self.db, me)?;
        }
        for section in SECTIONS {
            if section == "history" && self.p.is_empty() {
                let tasks: Vec<Uuid> = self.task_ids.iter().copied().collect();
                history::forget(self.db, &tasks)?;
            }
            self.read(source, Pass::Write(section))?;
            self.flush(true)?;
            if section == "people"
                && self.p.is_empty()
                && let Some((me, to)) = hand_over
            {
                people::hand_over(self.db, me, to)?;
                self.progress.handed_over(to)?;
            }
        }
        if self.p.is_empty() && self.max_entry > 0 {
            history::advance_past(self.db, self.max_entry)?;
        }
        std::mem::take(&mut self.p).finish(WHAT)
    }

    /// One pass over the file. A file that is not JSON of the export's
    /// shape is a 422 naming where (found while checking).
    fn read(&mut self, source: Source<'_>, pass: Pass) -> Result<(), ApiError> {
        self.pass = pass;
        self.seen = [false; FIELDS.len()];
        let (phase, section) = match pass {
            Pass::Check => ("checking", ""),
            Pass::Write(section) => ("writing", section),
        };
        self.progress.phase(phase, section);
        let db = self.db;
        stream::read(db, source, self, WHAT).map_err(|e| self.failed.take().unwrap_or(e))
    }

    /// Writes the batches that are full (all of them at the end of a
    /// pass), unless there are problems: then nothing is written any more,
    /// and the transaction is rolled back at the end.
    fn flush(&mut self, all: bool) -> Result<(), ApiError> {
        let full = |n: usize| n > 0 && (all || n >= BATCH);
        if !self.p.is_empty() {
            self.people.clear();
            self.labels.clear();
            self.tasks.clear();
            self.task_labels.clear();
            self.comments.clear();
            self.entries.clear();
            return Ok(());
        }
        let db = self.db;
        if full(self.people.len()) {
            people::insert(db, &std::mem::take(&mut self.people))?;
        }
        if full(self.labels.len()) {
            labels::import(db, &std::mem::take(&mut self.labels))?;
        }
        if full(self.tasks.len()) || all && !self.task_labels.is_empty() {
            store::import(db, &std::mem::take(&mut self.tasks))?;
            labels::import_task_labels(db, &std::mem::take(&mut self.task_labels))?;
        }
        if full(self.comments.len()) {
            comments::import(db, &std::mem::take(&mut self.comments))?;
        }
        if full(self.entries.len()) {
            history::import(db, &std::mem::take(&mut self.entries))?;
        }
        Ok(())
    }

    /// Hands element `i` of `section` to its sink; `false` ends the pass
    /// (a write failed).
    fn item<T: Item>(&mut self, i: usize, x: T) -> bool {
        match self.pass {
            Pass::Check => {
                x.check(self);
                self.progress.item("checking");
            }
            Pass::Write(_) => {
                x.write(i, self);
                self.progress.item("writing");
                if let Err(e) = self.flush(false) {
                    self.failed = Some(e);
                    return false;
                }
            }
        }
        true
    }

    fn person_ref(&mut self, at: String, id: Option<Uuid>) {
        if let Some(id) = id
            && !self.person_ids.contains(&id)
        {
            self.p.add(at, "is no person of the file");
        }
    }
}

/// An element of a section: what checking notes of it, and how it is
/// checked and queued for writing.
trait Item: for<'de> Deserialize<'de> {
    fn check(self, _: &mut Import<'_>) {}
    fn write(self, i: usize, to: &mut Import<'_>);
}

impl Item for PersonIn {
    fn check(self, to: &mut Import<'_>) {
        if to.my_email.as_deref() == Some(self.email.trim().to_lowercase().as_str()) {
            to.becomes = Some(self.id);
        }
    }

    fn write(self, i: usize, to: &mut Import<'_>) {
        let x = self;
        let p = &mut to.p;
        let at = |f: &str| format!("people[{i}].{f}");
        if !to.person_ids.insert(x.id) {
            p.add(at("id"), "is the id of another person of the file");
        }
        let email = p.check(|| at("email"), Email::parse(&x.email));
        if let Some(email) = &email
            && !to.emails.insert(email.as_str().to_lowercase())
        {
            p.add(at("email"), "is the email of another person of the file");
        }
        let full_name = p.check(|| at("full_name"), FullName::parse(&x.full_name));
        let role = p.check(|| at("role"), Role::parse(&x.role));
        let access = p.check(|| at("access"), Access::parse(&x.access));
        let created_at = p.check(|| at("created_at"), transfer::instant(&x.created_at));
        if let (Some(email), Some(full_name), Some(role), Some(access), Some(created_at)) =
            (email, full_name, role, access, created_at)
        {
            to.summary.people += 1;
            // The importer's own row is there already (their own export).
            if Some(x.id) != to.me || to.becomes != to.me {
                to.people.push(NewPerson {
                    id: x.id,
                    email,
                    full_name,
                    role,
                    access,
                    active: x.active,
                    created_at: Some(created_at),
                });
            }
        }
    }
}

impl Item for LabelIn {
    fn write(self, i: usize, to: &mut Import<'_>) {
        let x = self;
        let p = &mut to.p;
        let at = |f: &str| format!("labels[{i}].{f}");
        if !to.label_ids.insert(x.id) {
            p.add(at("id"), "is the id of another label of the file");
        }
        let name = p.check(|| at("name"), LabelName::parse(&x.name));
        if let Some(name) = &name
            && !to.label_names.insert(name.as_str().to_lowercase())
        {
            p.add(
                at("name"),
                "is the name of another label of the file (whatever the case)",
            );
        }
        let color = p.check(|| at("color"), Color::parse(&x.color));
        let created_at = p.check(|| at("created_at"), transfer::instant(&x.created_at));
        if let (Some(name), Some(color), Some(created_at)) = (name, color, created_at) {
            to.summary.labels += 1;
            to.labels.push(ImportLabel {
                id: x.id,
                name,
                color,
                created_at,
            });
        }
    }
}

impl Item for TaskIn {
    fn write(self, i: usize, to: &mut Import<'_>) {
        let x = self;
        let at = |f: &str| format!("tasks[{i}].{f}");
        if !to.task_ids.insert(x.id) {
            to.p.add(at("id"), "is the id of another task of the file");
        }
        to.person_ref(at("assignee_id"), x.assignee_id);
        to.person_ref(at("created_by"), x.created_by);
        to.person_ref(at("updated_by"), x.updated_by);
        let p = &mut to.p;
        let title = p.check(|| at("title"), Title::parse(&x.title));
        let description = x
            .description
            .map(|d| p.check(|| at("description"), Description::parse(&d)));
        let status = p.check(|| at("status"), Status::parse(&x.status));
        let due_date = x
            .due_date
            .map(|d| p.check(|| at("due_date"), transfer::day(&d)));
        if x.assignee_id.is_none() && status.is_some_and(|s| s != Status::Done) {
            p.add(
                at("assignee_id"),
                "is required: an unfinished task has an assignee",
            );
        }
        let created_at = p.check(|| at("created_at"), transfer::instant(&x.created_at));
        let updated_at = p.check(|| at("updated_at"), transfer::instant(&x.updated_at));
        if x.version < 1 {
            p.add(at("version"), "must be 1 or more");
        }
        if x.label_ids.len() > labels::MAX_PER_TASK {
            p.add(
                at("label_ids"),
                format!("must list at most {} labels", labels::MAX_PER_TASK),
            );
        }
        for (j, label) in x.label_ids.iter().enumerate() {
            if !to.label_ids.contains(label) {
                p.add(
                    format!("tasks[{i}].label_ids[{j}]"),
                    "is no label of the file",
                );
            }
            to.task_labels.push((x.id, *label));
        }
        if let (Some(title), Some(status), Some(created_at), Some(updated_at)) =
            (title, status, created_at, updated_at)
        {
            to.summary.tasks += 1;
            to.tasks.push(ImportTask {
                id: x.id,
                title,
                description: description.flatten(),
                status,
                due_date: due_date.flatten(),
                assignee_id: x.assignee_id,
                created_by: x.created_by,
                updated_by: x.updated_by,
                created_at,
                updated_at,
                version: x.version,
            });
        }
    }
}

impl Item for CommentIn {
    fn write(self, i: usize, to: &mut Import<'_>) {
        let x = self;
        let at = |f: &str| format!("comments[{i}].{f}");
        if !to.comment_ids.insert(x.id) {
            to.p.add(at("id"), "is the id of another comment of the file");
        }
        if !to.task_ids.contains(&x.task_id) {
            to.p.add(at("task_id"), "is no task of the file");
        }
        to.person_ref(at("author_id"), x.author_id);
        let p = &mut to.p;
        let body = p.check(|| at("body"), CommentBody::parse(&x.body));
        let created_at = p.check(|| at("created_at"), transfer::instant(&x.created_at));
        let edited_at = x
            .edited_at
            .map(|t| p.check(|| at("edited_at"), transfer::instant(&t)));
        if let (Some(body), Some(created_at)) = (body, created_at) {
            to.summary.comments += 1;
            to.comments.push(ImportComment {
                id: x.id,
                task_id: x.task_id,
                author_id: x.author_id,
                body,
                created_at,
                edited_at: edited_at.flatten(),
            });
        }
    }
}

impl Item for EntryIn {
    fn check(self, to: &mut Import<'_>) {
        to.history_ids.push(self.id);
    }

    fn write(self, i: usize, to: &mut Import<'_>) {
        let x = self;
        let at = |f: &str| format!("history[{i}].{f}");
        if x.id < 1 || !to.entry_ids.insert(x.id) {
            to.p.add(at("id"), "must be a positive number, once in the file");
        }
        if !to.task_ids.contains(&x.task_id) {
            to.p.add(at("task_id"), "is no task of the file");
        }
        to.person_ref(at("changed_by"), x.changed_by);
        let p = &mut to.p;
        if !HISTORY_FIELDS.contains(&x.field.as_str()) {
            p.add(
                at("field"),
                format!("must be one of {}", HISTORY_FIELDS.join(", ")),
            );
        }
        for (name, value) in [("from", &x.from), ("to", &x.to)] {
            if let Some(v) = value
                && v.contains('\0')
            {
                p.add(at(name), "must not contain NUL");
            }
        }
        // Numbered anew: an entry's id is its place in the ids' order.
        let id = if to.renumber {
            let place = to.history_ids.partition_point(|&other| other < x.id);
            i64::try_from(place).unwrap_or(i64::MAX) + 1
        } else {
            x.id
        };
        if let Some(changed_at) = p.check(|| at("changed_at"), transfer::instant(&x.changed_at)) {
            to.summary.history += 1;
            to.max_entry = to.max_entry.max(id);
            to.entries.push(ImportEntry {
                id,
                task_id: x.task_id,
                changed_by: x.changed_by,
                changed_at,
                field: x.field,
                from: x.from,
                to: x.to,
            });
        }
    }
}

/// The document's members, read or skipped as the pass needs.
impl Members for Import<'_> {
    fn member<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        let checking = self.pass == Pass::Check;
        let Some(k) = FIELDS.iter().position(|f| *f == key) else {
            return Err(de::Error::unknown_field(key, FIELDS));
        };
        if std::mem::replace(&mut self.seen[k], true) {
            return Err(de::Error::duplicate_field(FIELDS[k]));
        }
        let wanted = match self.pass {
            Pass::Check => true,
            Pass::Write(section) => section == FIELDS[k],
        };
        match FIELDS[k] {
            "format" if checking => self.format = Some(map.next_value()?),
            "version" if checking => self.version = Some(map.next_value()?),
            "exported_at" if checking => {
                map.next_value::<Option<String>>()?;
            }
            "people" if wanted => {
                map.next_value_seed(Each::new(|i, x: PersonIn| self.item(i, x)))?
            }
            "labels" if wanted => {
                map.next_value_seed(Each::new(|i, x: LabelIn| self.item(i, x)))?
            }
            "tasks" if wanted => map.next_value_seed(Each::new(|i, x: TaskIn| self.item(i, x)))?,
            "comments" if wanted => {
                map.next_value_seed(Each::new(|i, x: CommentIn| self.item(i, x)))?;
            }
            "history" if wanted => {
                map.next_value_seed(Each::new(|i, x: EntryIn| self.item(i, x)))?
            }
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn end<E: de::Error>(&mut self) -> Result<(), E> {
        let missing = (0..FIELDS.len()).find(|&k| !self.seen[k] && FIELDS[k] != "exported_at");
        match missing {
            Some(k) if self.pass == Pass::Check => Err(de::Error::missing_field(FIELDS[k])),
            _ => Ok(()),
        }
    }
}
