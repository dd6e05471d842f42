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

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime};
use mth_accounts::person::{Email, FullName, Role};
use mth_accounts::workspace::{self as people, NewPerson, Person};
use mth_accounts::{Access, Actor};
use mth_shared::ApiError;
use mth_shared::db::Db;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::comments::CommentBody;
use crate::domain::{Description, Status, Title};
use crate::labels::{self, Color, LabelName};
use crate::transfer::{self, ImportComment, ImportLabel, ImportTask, Plan, Problems, Summary};
use crate::uploads::Source;

const WHAT: &str = "a Trello board export (JSON)";

/// The label an archived card gets when archived cards are marked.
pub const ARCHIVED_LABEL: &str = "Archived (Trello)";

#[derive(Deserialize)]
struct Board {
    #[serde(default)]
    name: String,
    #[serde(default)]
    cards: Vec<Card>,
    #[serde(default)]
    lists: Vec<List>,
    #[serde(default)]
    labels: Vec<TrelloLabel>,
    #[serde(default)]
    members: Vec<Member>,
    #[serde(default)]
    actions: Vec<Action>,
}

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

/// `POST /import/trello`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    board: Board,
    mapping: Mapping,
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

/// Every member the board names: its members, and the authors of its
/// actions (people who have left the board since).
fn members(board: &Board) -> Vec<Member> {
    let mut seen = HashSet::new();
    let mut all = Vec::new();
    for m in &board.members {
        if seen.insert(m.id.clone()) {
            all.push(m.clone());
        }
    }
    for a in &board.actions {
        if let Some(id) = &a.id_member_creator
            && seen.insert(id.clone())
        {
            all.push(a.member_creator.clone().unwrap_or(Member {
                id: id.clone(),
                full_name: None,
                username: None,
            }));
        }
    }
    all
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

/// The ids of the archived lists.
fn closed_lists(board: &Board) -> HashSet<&str> {
    board
        .lists
        .iter()
        .filter(|l| l.closed)
        .map(|l| l.id.as_str())
        .collect()
}

fn is_archived(card: &Card, closed_lists: &HashSet<&str>) -> bool {
    card.closed || closed_lists.contains(card.id_list.as_str())
}

fn comments_of(board: &Board) -> impl Iterator<Item = (&Action, &str)> {
    board.actions.iter().filter_map(|a| {
        let card = a.data.card.as_ref()?.id.as_deref()?;
        (a.kind == "commentCard").then_some((a, card))
    })
}

/// `POST /import/trello/preview`: what the board holds, and the mapping
/// this server suggests (statuses by the lists' names, people by full name).
/// The board is read whole into memory (a plan is made of it, unlike the
/// export's streamed import).
pub fn preview(db: &Db, source: Source<'_>) -> Result<Value, ApiError> {
    let board: Board = transfer::parse_document(&source.read_all(db)?, WHAT)?;
    let team = everyone(db)?;
    let closed_lists = closed_lists(&board);
    let lists: Vec<Value> = board
        .lists
        .iter()
        .map(|l| {
            let cards = board.cards.iter().filter(|c| c.id_list == l.id);
            let (mut open, mut archived) = (0, 0);
            for c in cards {
                if is_archived(c, &closed_lists) {
                    archived += 1;
                } else {
                    open += 1;
                }
            }
            json!({
                "id": l.id, "name": l.name, "closed": l.closed,
                "cards": open, "archived_cards": archived,
                "status": suggested_status(&l.name),
            })
        })
        .collect();
    let members: Vec<Value> = members(&board)
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
                "cards": board.cards.iter().filter(|c| c.id_members.contains(&m.id)).count(),
                "comments": comments_of(&board)
                    .filter(|(a, _)| a.id_member_creator.as_deref() == Some(m.id.as_str()))
                    .count(),
            })
        })
        .collect();
    let labels: Vec<Value> = board
        .labels
        .iter()
        .map(|l| json!({"id": l.id, "name": label_name(l), "color": color(l.color.as_deref())}))
        .collect();
    let archived = board
        .cards
        .iter()
        .filter(|c| is_archived(c, &closed_lists))
        .count();
    Ok(json!({
        "board": board.name,
        "lists": lists,
        "members": members,
        "labels": labels,
        "cards": board.cards.len() - archived,
        "archived_cards": archived,
        "comments": comments_of(&board).count(),
    }))
}

/// What a member is mapped to.
enum Who {
    Person(Uuid),
    New,
    Nobody,
}

/// `POST /import/trello`: the board with the mapping, into the workspace.
pub fn import_request(db: &Db, body: &[u8], actor: &Actor) -> Result<Summary, ApiError> {
    let Request { board, mapping } = transfer::parse_document(body, WHAT)?;
    import(db, board, mapping, actor)
}

/// A staged board's run: `body` is `{"mapping": …}`.
pub fn import_staged(
    db: &Db,
    source: Source<'_>,
    body: &[u8],
    actor: &Actor,
) -> Result<Summary, ApiError> {
    let Run { mapping } = transfer::parse_document(body, "a mapping for the Trello board")?;
    let board: Board = transfer::parse_document(&source.read_all(db)?, WHAT)?;
    import(db, board, mapping, actor)
}

/// The board with the mapping, into the workspace.
fn import(db: &Db, board: Board, mapping: Mapping, actor: &Actor) -> Result<Summary, ApiError> {
    let team = everyone(db)?;
    let mut p = Problems::default();
    let known: HashSet<Uuid> = team.iter().map(|t| t.id).collect();
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
        && !known.contains(&id)
    {
        p.add("mapping.assignee_id", "is no person of the workspace");
    }

    let mut plan = Plan::default();
    // Members → people.
    let mut who: HashMap<String, Option<Uuid>> = HashMap::new();
    for m in members(&board) {
        let at = format!("mapping.members.{}", m.id);
        let choice = match mapping.members.get(&m.id).map(String::as_str) {
            None | Some("none") => Who::Nobody,
            Some("new") => Who::New,
            Some(id) => match Uuid::try_parse(id) {
                Ok(id) if known.contains(&id) => Who::Person(id),
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
                        FullName::parse(&fit(&member_name(&m), 255, false)),
                    );
                    match (email, name) {
                        (Some(email), Some(full_name)) => {
                            let id = Uuid::new_v4();
                            plan.people.push(NewPerson {
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
    let person = |member: Option<&String>| member.and_then(|m| who.get(m).copied().flatten());

    // Labels: by name, reusing the workspace's.
    let existing = labels::all(db)?;
    let mut by_name: HashMap<String, Uuid> = existing
        .iter()
        .map(|l| (l.name.to_lowercase(), l.id))
        .collect();
    let now = chrono::Utc::now().naive_utc();
    let mut label_for = |name: String, color: Color, p: &mut Problems, at: &str| {
        if let Some(id) = by_name.get(&name.to_lowercase()) {
            return Some(*id);
        }
        let name = p.check(|| at.to_owned(), LabelName::parse(&name))?;
        let id = Uuid::new_v4();
        by_name.insert(name.as_str().to_lowercase(), id);
        plan.labels.push(ImportLabel {
            id,
            name,
            color,
            created_at: now,
        });
        Some(id)
    };
    let mut trello_labels: HashMap<&str, Uuid> = HashMap::new();
    for (i, l) in board.labels.iter().enumerate() {
        let at = format!("board.labels[{i}].name");
        if let Some(id) = label_for(label_name(l), color(l.color.as_deref()), &mut p, &at) {
            trello_labels.insert(l.id.as_str(), id);
        }
    }
    let closed = closed_lists(&board);
    let any_archived = board.cards.iter().any(|c| is_archived(c, &closed));
    let archived_label = if mark && any_archived {
        label_for(
            ARCHIVED_LABEL.to_owned(),
            Color::Gray,
            &mut p,
            "mapping.archived",
        )
    } else {
        None
    };

    // When and by whom each card was made.
    let mut made: HashMap<&str, (NaiveDateTime, Option<Uuid>)> = HashMap::new();
    for a in &board.actions {
        if let (true, Some(card), Some(at)) = (
            a.kind == "createCard",
            a.data.card.as_ref().and_then(|c| c.id.as_deref()),
            a.date.as_deref().and_then(date),
        ) {
            made.insert(card, (at, person(a.id_member_creator.as_ref())));
        }
    }

    // Cards → tasks.
    let closed_lists = closed_lists(&board);
    let known_lists: HashSet<&str> = board.lists.iter().map(|l| l.id.as_str()).collect();
    let mut summary = Summary::default();
    let mut task_ids: HashMap<&str, Uuid> = HashMap::new();
    for (i, card) in board.cards.iter().enumerate() {
        let archived = is_archived(card, &closed_lists);
        if archived && !mark {
            summary.skipped_cards += 1;
            continue;
        }
        let status = if archived {
            Some(Status::Done)
        } else {
            match mapping.lists.get(&card.id_list) {
                Some(s) => p.check(
                    || format!("mapping.lists.{}", card.id_list),
                    Status::parse(s),
                ),
                // A list the board does not describe (the preview cannot
                // offer it): to do.
                None if !known_lists.contains(card.id_list.as_str()) => Some(Status::Todo),
                None => {
                    p.add(
                        format!("mapping.lists.{}", card.id_list),
                        format!("is required: card {i} ({}) is on this list", card.name),
                    );
                    None
                }
            }
        };
        let Some(status) = status else { continue };
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
        let assignee = card
            .id_members
            .iter()
            .find_map(|m| person(Some(m)))
            .or(default_assignee);
        if assignee.is_none() && status != Status::Done {
            p.add(
                "mapping.assignee_id",
                "is required: a card without a mapped member needs an assignee",
            );
        }
        let (created_at, created_by) = made
            .get(card.id.as_str())
            .copied()
            .or_else(|| id_time(&card.id).map(|t| (t, None)))
            .unwrap_or((now, None));
        let updated_at = card
            .date_last_activity
            .as_deref()
            .and_then(date)
            .unwrap_or(created_at);
        let id = Uuid::new_v4();
        let mut label_ids: Vec<Uuid> = card
            .id_labels
            .iter()
            .filter_map(|l| trello_labels.get(l.as_str()).copied())
            .collect();
        if archived && let Some(label) = archived_label {
            label_ids.push(label);
        }
        label_ids.sort_unstable();
        label_ids.dedup();
        label_ids.truncate(labels::MAX_PER_TASK);
        plan.task_labels
            .extend(label_ids.into_iter().map(|l| (id, l)));
        if let Some(title) = title {
            task_ids.insert(card.id.as_str(), id);
            plan.tasks.push(ImportTask {
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

    // Comments → comments, with their authors and times.
    for (i, (action, card)) in comments_of(&board).enumerate() {
        let Some(task_id) = task_ids.get(card) else {
            continue;
        };
        let text = fit(
            action.data.text.as_deref().unwrap_or(""),
            CommentBody::MAX,
            true,
        );
        if text.trim().is_empty() {
            continue;
        }
        let body = p.check(
            || format!("board.actions[{i}].data.text"),
            CommentBody::parse(&text),
        );
        let created_at = action.date.as_deref().and_then(date).unwrap_or(now);
        if let Some(body) = body {
            plan.comments.push(ImportComment {
                id: Uuid::new_v4(),
                task_id: *task_id,
                author_id: person(action.id_member_creator.as_ref()),
                body,
                created_at,
                edited_at: None,
            });
        }
    }
    p.finish(WHAT)?;
    let written = transfer::write(db, &plan)?;
    Ok(Summary {
        skipped_cards: summary.skipped_cards,
        ..written
    })
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
