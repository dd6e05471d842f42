//! A Trello board's import (issue 22): `POST /import/trello/preview` reads a
//! board's JSON export (Trello: Menu → Print, export and share → Export as
//! JSON) and proposes a mapping; `POST /import/trello` takes the board and
//! the mapping the person confirmed and writes it in one transaction
//! (`transfer::write`), beside whatever the workspace holds.
//!
//! Cards become tasks (their list's status by the mapping), Trello's labels
//! ours (a label of the same name is reused; colours to the palette),
//! comments keep their authors and times, due dates their day. Trello's
//! members have no email: each is mapped to a person of the workspace, to a
//! new member without a password (`trello-<username>@import.invalid`, to be
//! given a real address and invited from the Team page), or to nobody.
//! Archived cards (and the cards of archived lists) are skipped, or marked:
//! imported as done with the label "Archived (Trello)".
//!
//! A board is streamed (stream.rs), never held whole: read once for its
//! small sections (lists, labels, members) and once to count its cards and
//! actions, then, in the transaction, once to write its cards and once its
//! comments (Trello writes `actions` before `cards`). What is kept is the
//! small sections and, for the cards, their ids.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime};
use mth_accounts::person::{Email, FullName, Role};
use mth_accounts::workspace::{self as people, BATCH, NewPerson, Person};
use mth_accounts::{Access, Actor};
use mth_shared::ApiError;
use mth_shared::db::Db;
use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::comments::CommentBody;
use crate::domain::{Description, Status, Title};
use crate::labels::{self, Color, LabelName};
use crate::stream::{self, Each, Members, Object};
use crate::transfer::{self, ImportComment, ImportLabel, ImportTask, Problems, Summary};
use crate::uploads::{Progress, Source};
use crate::{comments, store};

const WHAT: &str = "a Trello board export (JSON)";

/// The label an archived card gets when archived cards are marked.
pub const ARCHIVED_LABEL: &str = "Archived (Trello)";

#[derive(Deserialize)]
struct Card {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    desc: String,
    #[serde(rename = "idList", default)]
    id_list: String,
    #[serde(default)]
    closed: bool,
    #[serde(default)]
    due: Option<String>,
    #[serde(rename = "idLabels", default)]
    id_labels: Vec<String>,
    #[serde(rename = "idMembers", default)]
    id_members: Vec<String>,
    #[serde(rename = "dateLastActivity", default)]
    date_last_activity: Option<String>,
}

#[derive(Deserialize)]
struct List {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    closed: bool,
}

#[derive(Deserialize)]
struct TrelloLabel {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    color: Option<String>,
}

#[derive(Deserialize, Clone)]
struct Member {
    id: String,
    #[serde(rename = "fullName", default)]
    full_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

#[derive(Deserialize)]
struct Action {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    date: Option<String>,
    #[serde(rename = "idMemberCreator", default)]
    id_member_creator: Option<String>,
    #[serde(rename = "memberCreator", default)]
    member_creator: Option<Member>,
    #[serde(default)]
    data: ActionData,
}

#[derive(Deserialize, Default)]
struct ActionData {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    card: Option<CardRef>,
}

#[derive(Deserialize)]
struct CardRef {
    #[serde(default)]
    id: Option<String>,
}

/// The body of a staged Trello upload's run (`POST /imports/{id}/run`):
/// the mapping, the board being the upload.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Run {
    mapping: Mapping,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Mapping {
    /// Each list's id → `todo`, `in_progress` or `done`.
    lists: HashMap<String, String>,
    /// Each member's id → a person's id, `new` or `none`.
    #[serde(default)]
    members: HashMap<String, String>,
    /// `skip` (the default) or `mark`.
    #[serde(default)]
    archived: Option<String>,
    /// Who is given the cards without a (mapped) member; the importer when absent.
    #[serde(default)]
    assignee_id: Option<Uuid>,
}

fn date(raw: &str) -> Option<NaiveDateTime> {
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|t| t.naive_utc())
}

/// When a Trello object was made: its id is a MongoDB ObjectId, whose
/// first four bytes are the second it was made.
fn id_time(id: &str) -> Option<NaiveDateTime> {
    let seconds = i64::from_str_radix(id.get(..8)?, 16).ok()?;
    DateTime::from_timestamp(seconds, 0).map(|t| t.naive_utc())
}

/// What a list's name suggests.
fn suggested_status(name: &str) -> Status {
    let n = name.to_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| n.contains(w));
    if any(&[
        "done", "complete", "finished", "closed", "shipped", "released",
    ]) {
        Status::Done
    } else if any(&[
        "doing", "progress", "review", "wip", "testing", "active", "started",
    ]) {
        Status::InProgress
    } else {
        Status::Todo
    }
}

/// Trello's label colours (and their `_light`/`_dark` shades) in the palette.
fn color(trello: Option<&str>) -> Color {
    let base = trello.unwrap_or("").split('_').next().unwrap_or("");
    match base {
        "green" | "lime" => Color::Green,
        "yellow" => Color::Yellow,
        "orange" => Color::Orange,
        "red" => Color::Red,
        "purple" => Color::Purple,
        "blue" => Color::Blue,
        "sky" => Color::Teal,
        "pink" => Color::Pink,
        _ => Color::Gray,
    }
}

/// Text as a field takes it: control characters a field refuses become
/// spaces, and at most `max` characters are kept (the cut marked "…").
fn fit(text: &str, max: usize, multi_line: bool) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            let kept = multi_line && matches!(c, '\t' | '\n' | '\r');
            if c < ' ' && !kept { ' ' } else { c }
        })
        .collect();
    if clean.chars().count() <= max {
        return clean;
    }
    let mut cut: String = clean.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// A label's name from a Trello label: its name, or its colour's.
fn label_name(label: &TrelloLabel) -> String {
    let name = label.name.as_deref().unwrap_or("").trim();
    let name = if name.is_empty() {
        let c = color(label.color.as_deref()).as_str();
        let mut chars = c.chars();
        chars
            .next()
            .map(|f| f.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    } else {
        name.to_owned()
    };
    fit(&name, LabelName::MAX, false).trim().to_owned()
}

fn member_name(m: &Member) -> String {
    m.full_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| m.username.clone())
        .unwrap_or_else(|| format!("Trello member {}", m.id))
}

/// Every person of the workspace, a page at a time.
fn everyone(db: &Db) -> Result<Vec<Person>, ApiError> {
    let mut all = Vec::new();
    loop {
        let page = people::people(db, all.last().map(|p: &Person| p.id), 500)?;
        let done = page.len() < 500;
        all.extend(page);
        if done {
            return Ok(all);
        }
    }
}

fn is_archived(card: &Card, closed_lists: &HashSet<String>) -> bool {
    card.closed || closed_lists.contains(&card.id_list)
}

/// The card a comment is on, for a `commentCard` action.
fn commented_card(a: &Action) -> Option<&str> {
    let card = a.data.card.as_ref()?.id.as_deref()?;
    (a.kind == "commentCard").then_some(card)
}

/// A pass over a board, streamed (stream.rs): Trello writes `actions`
/// before `cards`, and the cards' comments need the cards' tasks, so:
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Its name, lists, labels and members, kept whole (a board has few);
    /// and the one-request route's mapping.
    Outline,
    /// Its cards and actions, counted: per list and member, who left the
    /// board (an action's author), when and by whom each card was made.
    Tally,
    /// Its cards, written as tasks.
    Cards,
    /// Its comments, written.
    Comments,
}

/// What the passes learn of a board: whole for the small sections, by id
/// (no text) for the cards and actions.
#[derive(Default)]
struct Known {
    name: String,
    lists: Vec<List>,
    labels: Vec<TrelloLabel>,
    /// Its members, then the authors of its actions (people who have left
    /// the board since), each once.
    members: Vec<Member>,
    member_ids: HashSet<String>,
    mapping: Option<Mapping>,
    closed_lists: HashSet<String>,
    /// Per list id: its open and archived cards.
    list_cards: HashMap<String, (usize, usize)>,
    member_cards: HashMap<String, usize>,
    member_comments: HashMap<String, usize>,
    cards: usize,
    archived: usize,
    comments: usize,
    /// `createCard` actions: when each card was made, and by which member.
    made: HashMap<String, (NaiveDateTime, Option<String>)>,
}

impl Known {
    fn tally_card(&mut self, c: Card) {
        let archived = is_archived(&c, &self.closed_lists);
        let counts = self.list_cards.entry(c.id_list).or_default();
        if archived {
            counts.1 += 1;
            self.archived += 1;
        } else {
            counts.0 += 1;
        }
        self.cards += 1;
        let mut on: Vec<String> = c.id_members;
        on.sort_unstable();
        on.dedup();
        for m in on {
            *self.member_cards.entry(m).or_default() += 1;
        }
    }

    fn tally_action(&mut self, a: Action) {
        if let Some(id) = &a.id_member_creator
            && self.member_ids.insert(id.clone())
        {
            self.members
                .push(a.member_creator.clone().unwrap_or(Member {
                    id: id.clone(),
                    full_name: None,
                    username: None,
                }));
        }
        if commented_card(&a).is_some() {
            self.comments += 1;
            if let Some(id) = &a.id_member_creator {
                *self.member_comments.entry(id.clone()).or_default() += 1;
            }
        }
        if let (true, Some(card), Some(at)) = (
            a.kind == "createCard",
            a.data.card.as_ref().and_then(|c| c.id.clone()),
            a.date.as_deref().and_then(date),
        ) {
            self.made.insert(card, (at, a.id_member_creator));
        }
    }
}

/// What is being written, once the mapping is resolved.
struct Writing<'a> {
    db: &'a Db,
    progress: &'a mut Progress,
    p: Problems,
    mark: bool,
    default_assignee: Option<Uuid>,
    /// Trello member id → the person it maps to.
    who: HashMap<String, Option<Uuid>>,
    trello_labels: HashMap<String, Uuid>,
    archived_label: Option<Uuid>,
    known_lists: HashSet<String>,
    /// The mapping's list id → status.
    list_status: HashMap<String, String>,
    now: NaiveDateTime,
    /// Trello card id → the task it became.
    task_ids: HashMap<String, Uuid>,
    tasks: Vec<ImportTask>,
    task_labels: Vec<(Uuid, Uuid)>,
    comments: Vec<ImportComment>,
    summary: Summary,
}

/// A board being read (or the one-request route's `{board, mapping}`).
struct Reading<'k, 'w, 'a> {
    pass: Pass,
    /// The one-request body: the board is its member `board`.
    nested: bool,
    in_board: bool,
    seen_board: bool,
    known: &'k mut Known,
    writing: Option<&'w mut Writing<'a>>,
    failed: Option<ApiError>,
}

impl Members for Reading<'_, '_, '_> {
    fn member<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        if self.nested && !self.in_board {
            match key {
                "board" => {
                    self.seen_board = true;
                    self.in_board = true;
                    map.next_value_seed(Object(&mut *self))?;
                    self.in_board = false;
                }
                "mapping" if self.pass == Pass::Outline => {
                    self.known.mapping = Some(map.next_value()?);
                }
                "mapping" => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => return Err(de::Error::unknown_field(key, &["board", "mapping"])),
            }
            return Ok(());
        }
        match (self.pass, key) {
            (Pass::Outline, "name") => self.known.name = map.next_value()?,
            (Pass::Outline, "lists") => self.known.lists = map.next_value()?,
            (Pass::Outline, "labels") => self.known.labels = map.next_value()?,
            (Pass::Outline, "members") => self.known.members = map.next_value()?,
            (Pass::Tally, "cards") => {
                let known = &mut *self.known;
                map.next_value_seed(Each::new(|_, c: Card| {
                    known.tally_card(c);
                    true
                }))?;
            }
            (Pass::Tally, "actions") => {
                let known = &mut *self.known;
                map.next_value_seed(Each::new(|_, a: Action| {
                    known.tally_action(a);
                    true
                }))?;
            }
            (Pass::Cards, "cards") => {
                let (known, failed) = (&*self.known, &mut self.failed);
                let Some(writing) = self.writing.as_deref_mut() else {
                    return Ok(());
                };
                map.next_value_seed(Each::new(|i, c: Card| {
                    writing.card(known, i, c);
                    writing.flush(false).map_err(|e| *failed = Some(e)).is_ok()
                }))?;
            }
            (Pass::Comments, "actions") => {
                let failed = &mut self.failed;
                let Some(writing) = self.writing.as_deref_mut() else {
                    return Ok(());
                };
                map.next_value_seed(Each::new(|i, a: Action| {
                    writing.comment(i, a);
                    writing.flush(false).map_err(|e| *failed = Some(e)).is_ok()
                }))?;
            }
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn end<E: de::Error>(&mut self) -> Result<(), E> {
        if self.nested && !self.in_board && self.pass == Pass::Outline {
            if !self.seen_board {
                return Err(de::Error::missing_field("board"));
            }
            if self.known.mapping.is_none() {
                return Err(de::Error::missing_field("mapping"));
            }
        }
        Ok(())
    }
}

/// One pass over the board in `source`.
fn read(
    db: &Db,
    source: Source<'_>,
    nested: bool,
    pass: Pass,
    known: &mut Known,
    writing: Option<&mut Writing<'_>>,
) -> Result<(), ApiError> {
    let mut reading = Reading {
        pass,
        nested,
        in_board: false,
        seen_board: false,
        known,
        writing,
        failed: None,
    };
    stream::read(db, source, &mut reading, WHAT).map_err(|e| reading.failed.take().unwrap_or(e))
}

/// The outline and tally of a board (the first two passes).
fn survey(db: &Db, source: Source<'_>, nested: bool, known: &mut Known) -> Result<(), ApiError> {
    read(db, source, nested, Pass::Outline, known, None)?;
    known.member_ids = known.members.iter().map(|m| m.id.clone()).collect();
    let mut seen = HashSet::new();
    known.members.retain(|m| seen.insert(m.id.clone()));
    known.closed_lists = known
        .lists
        .iter()
        .filter(|l| l.closed)
        .map(|l| l.id.clone())
        .collect();
    read(db, source, nested, Pass::Tally, known, None)
}

/// `POST /import/trello/preview`: what the board holds, and the mapping
/// this server suggests (statuses by the lists' names, people by full name).
pub fn preview(db: &Db, source: Source<'_>) -> Result<Value, ApiError> {
    let mut known = Known::default();
    survey(db, source, false, &mut known)?;
    let team = everyone(db)?;
    let lists: Vec<Value> = known
        .lists
        .iter()
        .map(|l| {
            let (open, archived) = known.list_cards.get(&l.id).copied().unwrap_or_default();
            json!({
                "id": l.id, "name": l.name, "closed": l.closed,
                "cards": open, "archived_cards": archived,
                "status": suggested_status(&l.name),
            })
        })
        .collect();
    let count = |counts: &HashMap<String, usize>, id: &str| counts.get(id).copied().unwrap_or(0);
    let members: Vec<Value> = known
        .members
        .iter()
        .map(|m| {
            let name = member_name(m);
            let key = name.trim().to_lowercase();
            let matched = team
                .iter()
                .find(|p| p.full_name.trim().to_lowercase() == key)
                .map(|p| p.id);
            json!({
                "id": m.id, "full_name": name, "username": m.username,
                "person_id": matched,
                "cards": count(&known.member_cards, &m.id),
                "comments": count(&known.member_comments, &m.id),
            })
        })
        .collect();
    let labels: Vec<Value> = known
        .labels
        .iter()
        .map(|l| json!({"id": l.id, "name": label_name(l), "color": color(l.color.as_deref())}))
        .collect();
    Ok(json!({
        "board": known.name,
        "lists": lists,
        "members": members,
        "labels": labels,
        "cards": known.cards - known.archived,
        "archived_cards": known.archived,
        "comments": known.comments,
    }))
}

/// What a member is mapped to.
enum Who {
    Person(Uuid),
    New,
    Nobody,
}

/// `POST /import/trello`: `{board, mapping}`, into the workspace.
pub fn import_request(
    db: &Db,
    body: &[u8],
    actor: &Actor,
    progress: &mut Progress,
) -> Result<Summary, ApiError> {
    import(
        db,
        Source::Body(body),
        true,
        Known::default(),
        actor,
        progress,
    )
}

/// A staged board's run: `body` is `{"mapping": …}`.
pub fn import_staged(
    db: &Db,
    source: Source<'_>,
    body: &[u8],
    actor: &Actor,
    progress: &mut Progress,
) -> Result<Summary, ApiError> {
    let Run { mapping } = transfer::parse_document(body, "a mapping for the Trello board")?;
    let known = Known {
        mapping: Some(mapping),
        ..Known::default()
    };
    import(db, source, false, known, actor, progress)
}

/// The board with the mapping, into the workspace: read twice to know it,
/// then its people and labels, its cards and its comments written in one
/// transaction.
fn import(
    db: &Db,
    source: Source<'_>,
    nested: bool,
    mut known: Known,
    actor: &Actor,
    progress: &mut Progress,
) -> Result<Summary, ApiError> {
    progress.phase("checking", "");
    survey(db, source, nested, &mut known)?;
    let mapping = known
        .mapping
        .take()
        .ok_or_else(|| ApiError::internal("A Trello import without a mapping."))?;
    let team = everyone(db)?;
    let mut p = Problems::default();
    let known_people: HashSet<Uuid> = team.iter().map(|t| t.id).collect();
    let taken: HashMap<String, Uuid> = team
        .iter()
        .map(|t| (t.email.to_lowercase(), t.id))
        .collect();

    let mark = match mapping.archived.as_deref() {
        None | Some("skip") => false,
        Some("mark") => true,
        Some(_) => {
            p.add("mapping.archived", "must be skip or mark");
            false
        }
    };
    let default_assignee = mapping.assignee_id.or(actor.person_id());
    if let Some(id) = mapping.assignee_id
        && !known_people.contains(&id)
    {
        p.add("mapping.assignee_id", "is no person of the workspace");
    }

    // Members → people.
    let mut new_people = Vec::new();
    let mut who: HashMap<String, Option<Uuid>> = HashMap::new();
    for m in &known.members {
        let at = format!("mapping.members.{}", m.id);
        let choice = match mapping.members.get(&m.id).map(String::as_str) {
            None | Some("none") => Who::Nobody,
            Some("new") => Who::New,
            Some(id) => match Uuid::try_parse(id) {
                Ok(id) if known_people.contains(&id) => Who::Person(id),
                _ => {
                    p.add(at.clone(), "must be a person's id, new or none");
                    Who::Nobody
                }
            },
        };
        let id = match choice {
            Who::Person(id) => Some(id),
            Who::Nobody => None,
            Who::New => {
                let handle: String = m
                    .username
                    .clone()
                    .unwrap_or_else(|| m.id.clone())
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    .take(40)
                    .collect();
                let email = format!("trello-{}@import.invalid", handle.trim_matches('.'));
                if let Some(id) = taken.get(&email.to_lowercase()) {
                    // Made by an earlier import of this board: the same person.
                    Some(*id)
                } else {
                    let email = p.check(|| at.clone(), Email::parse(&email));
                    let name = p.check(
                        || at.clone(),
                        FullName::parse(&fit(&member_name(m), 255, false)),
                    );
                    match (email, name) {
                        (Some(email), Some(full_name)) => {
                            let id = Uuid::new_v4();
                            new_people.push(NewPerson {
                                id,
                                email,
                                full_name,
                                role: Role::member(),
                                access: Access::Member,
                                active: true,
                                created_at: None,
                            });
                            Some(id)
                        }
                        _ => None,
                    }
                }
            }
        };
        who.insert(m.id.clone(), id);
    }

    // Labels: by name, reusing the workspace's.
    let existing = labels::all(db)?;
    let mut by_name: HashMap<String, Uuid> = existing
        .iter()
        .map(|l| (l.name.to_lowercase(), l.id))
        .collect();
    let now = chrono::Utc::now().naive_utc();
    let mut new_labels = Vec::new();
    let mut label_for = |name: String, color: Color, p: &mut Problems, at: &str| {
        if let Some(id) = by_name.get(&name.to_lowercase()) {
            return Some(*id);
        }
        let name = p.check(|| at.to_owned(), LabelName::parse(&name))?;
        let id = Uuid::new_v4();
        by_name.insert(name.as_str().to_lowercase(), id);
        new_labels.push(ImportLabel {
            id,
            name,
            color,
            created_at: now,
        });
        Some(id)
    };
    let mut trello_labels: HashMap<String, Uuid> = HashMap::new();
    for (i, l) in known.labels.iter().enumerate() {
        let at = format!("board.labels[{i}].name");
        if let Some(id) = label_for(label_name(l), color(l.color.as_deref()), &mut p, &at) {
            trello_labels.insert(l.id.clone(), id);
        }
    }
    let archived_label = if mark && known.archived > 0 {
        label_for(
            ARCHIVED_LABEL.to_owned(),
            Color::Gray,
            &mut p,
            "mapping.archived",
        )
    } else {
        None
    };

    let mut writing = Writing {
        db,
        progress,
        p,
        mark,
        default_assignee,
        who,
        trello_labels,
        archived_label,
        known_lists: known.lists.iter().map(|l| l.id.clone()).collect(),
        list_status: mapping.lists,
        now,
        task_ids: HashMap::new(),
        tasks: Vec::new(),
        task_labels: Vec::new(),
        comments: Vec::new(),
        summary: Summary {
            people: new_people.len(),
            labels: new_labels.len(),
            ..Summary::default()
        },
    };
    transfer::in_transaction(db, |db| {
        if writing.p.is_empty() {
            people::insert(db, &new_people)?;
            labels::import(db, &new_labels)?;
        }
        for (pass, section) in [(Pass::Cards, "tasks"), (Pass::Comments, "comments")] {
            writing.progress.phase("writing", section);
            read(db, source, nested, pass, &mut known, Some(&mut writing))?;
            writing.flush(true)?;
        }
        std::mem::take(&mut writing.p).finish(WHAT)
    })?;
    writing.summary.history = writing.summary.tasks;
    Ok(writing.summary)
}

impl Writing<'_> {
    /// Card `i` as a task, queued (or left out: archived, or refused).
    fn card(&mut self, known: &Known, i: usize, card: Card) {
        self.progress.item("writing");
        let p = &mut self.p;
        let archived = is_archived(&card, &known.closed_lists);
        if archived && !self.mark {
            self.summary.skipped_cards += 1;
            return;
        }
        let status = if archived {
            Some(Status::Done)
        } else {
            match self.list_status.get(&card.id_list) {
                Some(s) => p.check(
                    || format!("mapping.lists.{}", card.id_list),
                    Status::parse(s),
                ),
                // A list the board does not describe (the preview cannot
                // offer it): to do.
                None if !self.known_lists.contains(&card.id_list) => Some(Status::Todo),
                None => {
                    p.add(
                        format!("mapping.lists.{}", card.id_list),
                        format!("is required: card {i} ({}) is on this list", card.name),
                    );
                    None
                }
            }
        };
        let Some(status) = status else { return };
        let title = fit(&card.name, 255, false);
        let title = if title.trim().is_empty() {
            "(untitled card)".to_owned()
        } else {
            title
        };
        let title = p.check(|| format!("board.cards[{i}].name"), Title::parse(&title));
        let desc = fit(&card.desc, 1024, true);
        let description = if desc.trim().is_empty() {
            None
        } else {
            p.check(
                || format!("board.cards[{i}].desc"),
                Description::parse(&desc),
            )
        };
        let person = |m: &String| self.who.get(m).copied().flatten();
        let assignee = card
            .id_members
            .iter()
            .find_map(person)
            .or(self.default_assignee);
        if assignee.is_none() && status != Status::Done {
            p.add(
                "mapping.assignee_id",
                "is required: a card without a mapped member needs an assignee",
            );
        }
        let (created_at, created_by) = match known.made.get(&card.id) {
            Some((at, by)) => (*at, by.as_ref().and_then(person)),
            None => (id_time(&card.id).unwrap_or(self.now), None),
        };
        let updated_at = card
            .date_last_activity
            .as_deref()
            .and_then(date)
            .unwrap_or(created_at);
        let id = Uuid::new_v4();
        let mut label_ids: Vec<Uuid> = card
            .id_labels
            .iter()
            .filter_map(|l| self.trello_labels.get(l).copied())
            .collect();
        if archived && let Some(label) = self.archived_label {
            label_ids.push(label);
        }
        label_ids.sort_unstable();
        label_ids.dedup();
        label_ids.truncate(labels::MAX_PER_TASK);
        self.task_labels
            .extend(label_ids.into_iter().map(|l| (id, l)));
        if let Some(title) = title {
            self.task_ids.insert(card.id, id);
            self.summary.tasks += 1;
            self.tasks.push(ImportTask {
                id,
                title,
                description,
                status,
                due_date: card.due.as_deref().and_then(date).map(|d| d.date()),
                assignee_id: assignee,
                created_by,
                updated_by: created_by,
                created_at,
                updated_at,
                version: 1,
            });
        }
    }

    /// Action `i`, a comment on an imported card, queued.
    fn comment(&mut self, i: usize, action: Action) {
        let Some(task_id) = commented_card(&action).and_then(|c| self.task_ids.get(c).copied())
        else {
            return;
        };
        self.progress.item("writing");
        let text = fit(
            action.data.text.as_deref().unwrap_or(""),
            CommentBody::MAX,
            true,
        );
        if text.trim().is_empty() {
            return;
        }
        let body = self.p.check(
            || format!("board.actions[{i}].data.text"),
            CommentBody::parse(&text),
        );
        let created_at = action.date.as_deref().and_then(date).unwrap_or(self.now);
        if let Some(body) = body {
            self.summary.comments += 1;
            self.comments.push(ImportComment {
                id: Uuid::new_v4(),
                task_id,
                author_id: action
                    .id_member_creator
                    .as_ref()
                    .and_then(|m| self.who.get(m).copied().flatten()),
                body,
                created_at,
                edited_at: None,
            });
        }
    }

    /// Writes the full batches (all of them at the end of a pass), unless
    /// there are problems: then nothing more is written, and the
    /// transaction is rolled back at the end.
    fn flush(&mut self, all: bool) -> Result<(), ApiError> {
        if !self.p.is_empty() {
            self.tasks.clear();
            self.task_labels.clear();
            self.comments.clear();
            return Ok(());
        }
        let full = |n: usize| n > 0 && (all || n >= BATCH);
        if full(self.tasks.len()) || all && !self.task_labels.is_empty() {
            store::import(self.db, &std::mem::take(&mut self.tasks))?;
            labels::import_task_labels(self.db, &std::mem::take(&mut self.task_labels))?;
        }
        if full(self.comments.len()) {
            comments::import(self.db, &std::mem::take(&mut self.comments))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_and_statuses_are_suggested() {
        assert_eq!(color(Some("sky_dark")), Color::Teal);
        assert_eq!(color(Some("black")), Color::Gray);
        assert_eq!(color(None), Color::Gray);
        assert_eq!(suggested_status("Done ✅"), Status::Done);
        assert_eq!(suggested_status("Doing"), Status::InProgress);
        assert_eq!(suggested_status("Backlog"), Status::Todo);
    }

    #[test]
    fn trello_ids_tell_when_and_text_is_fitted() {
        let t = id_time("5f1d7f7e0000000000000000").unwrap();
        assert_eq!(t.and_utc().timestamp(), 0x5f1d7f7e);
        assert_eq!(fit("a\u{1}b", 10, false), "a b");
        assert_eq!(fit("abcdef", 4, false), "abc…");
        assert_eq!(fit("x\ny", 10, true), "x\ny");
    }
}
