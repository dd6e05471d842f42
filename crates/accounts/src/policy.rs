//! What each person may do: every permission rule, written once.
//!
//! A rule is data ([`GRANTS`], [`Scope`]); the Rust check
//! ([`Actor::may`], [`Scope::allows`]), the SQL condition the stores
//! use ([`Scope::sql_condition`]) and what `GET /auth/session` tells the
//! UI ([`can`]) are all read from it, so they cannot disagree.
//!
//! A new rule touches two files. "Only admins delete tasks": here, a
//! variant `DeleteTasks` and its line `(Permission::DeleteTasks,
//! &[Access::Admin])` in [`GRANTS`]; in task-service's `routes.rs`,
//! `actor.require(Permission::DeleteTasks, "delete tasks")?` in `delete`.
//! `GET /auth/session` then says `"delete_tasks": false` for members by
//! itself, and a refused delete shows the 403's reason on the card.

use mth_shared::ApiError;
use serde::Serialize;
use spin_sdk::pg4::ParameterValue;
use uuid::Uuid;

use crate::actor::{Access, Actor};

/// Something a person may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Add, change, deactivate and delete people; send set-password links.
    ManagePeople,
    /// Change, move and delete any task.
    ChangeAnyTask,
    /// Change, move and delete the tasks assigned to oneself.
    ChangeAssignedTasks,
    /// Delete anyone's comment (moderation). Everyone edits and deletes
    /// their own comments; nobody edits another's words.
    DeleteAnyComment,
    /// Create, rename, recolour and delete the team's labels. Everyone
    /// reads them, and puts them on the tasks they may change.
    ManageLabels,
    /// Export the whole workspace, and import one (or a Trello board).
    TransferWorkspace,
}

/// Which access levels hold each permission. Everyone signed in reads every
/// user and task and creates tasks; that needs no permission.
pub const GRANTS: &[(Permission, &[Access])] = &[
    (Permission::ManagePeople, &[Access::Admin]),
    (Permission::ChangeAnyTask, &[Access::Admin]),
    (
        Permission::ChangeAssignedTasks,
        &[Access::Admin, Access::Member],
    ),
    (Permission::DeleteAnyComment, &[Access::Admin]),
    (Permission::ManageLabels, &[Access::Admin]),
    (Permission::TransferWorkspace, &[Access::Admin]),
];

impl Actor {
    /// Whether this actor holds `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        GRANTS
            .iter()
            .any(|(p, levels)| *p == permission && levels.contains(&self.access()))
    }

    /// 403 unless the actor holds `permission`; `to` completes "Only admins can …".
    pub fn require(&self, permission: Permission, to: &str) -> Result<(), ApiError> {
        if self.may(permission) {
            return Ok(());
        }
        let holders: Vec<&str> = GRANTS
            .iter()
            .filter(|(p, _)| *p == permission)
            .flat_map(|(_, levels)| levels.iter().map(|l| l.as_str()))
            .collect();
        Err(ApiError::forbidden(format!(
            "Only {} can {to}.",
            holders
                .iter()
                .map(|h| format!("{h}s"))
                .collect::<Vec<_>>()
                .join(" and ")
        )))
    }
}

/// What `GET /auth/session` says the person may do: one entry per
/// [`Permission`], so the UI never re-derives a rule from `access`.
pub fn can(actor: &Actor) -> serde_json::Map<String, serde_json::Value> {
    GRANTS
        .iter()
        .map(|(permission, _)| {
            let name = serde_json::to_value(permission)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            (name, actor.may(*permission).into())
        })
        .collect()
}

/// The things of one kind an actor may change: any, only their own (the
/// tasks assigned to them, the comments they wrote), or none. A value both
/// the Rust check and the SQL condition are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Any,
    Own(Uuid),
    Nothing,
}

impl Scope {
    /// The tasks an actor may change (move, edit, delete): any task with
    /// [`Permission::ChangeAnyTask`], else the ones assigned to the person
    /// with [`Permission::ChangeAssignedTasks`].
    pub fn tasks_to_change(actor: &Actor) -> Self {
        match actor.person_id() {
            _ if actor.may(Permission::ChangeAnyTask) => Scope::Any,
            Some(id) if actor.may(Permission::ChangeAssignedTasks) => Scope::Own(id),
            _ => Scope::Nothing,
        }
    }

    /// The comments an actor may edit: their own. A service (no person) is
    /// the system and may edit any.
    pub fn comments_to_edit(actor: &Actor) -> Self {
        match actor.person_id() {
            Some(id) => Scope::Own(id),
            None => Scope::Any,
        }
    }

    /// The comments an actor may delete: any with
    /// [`Permission::DeleteAnyComment`], else their own.
    pub fn comments_to_delete(actor: &Actor) -> Self {
        match actor.person_id() {
            _ if actor.may(Permission::DeleteAnyComment) => Scope::Any,
            Some(id) => Scope::Own(id),
            None => Scope::Nothing,
        }
    }

    /// Whether a thing whose owner (assignee, author) is `owner` is in scope.
    pub fn allows(&self, owner: Option<Uuid>) -> bool {
        match self {
            Scope::Any => true,
            Scope::Own(me) => owner == Some(*me),
            Scope::Nothing => false,
        }
    }

    /// The same rule as SQL on the owner's `column`, using parameter
    /// `$param` (bind [`Scope::param`] there). One text for every scope, so
    /// the statement's parameters never change shape.
    pub fn sql_condition(column: &str, param: usize) -> String {
        format!("(${param}::uuid IS NULL OR {column} = ${param})")
    }

    /// The value for [`Scope::sql_condition`]'s parameter: NULL for any;
    /// the nil UUID, which no user has (ids are random v4), for none.
    pub fn param(&self) -> ParameterValue {
        match self {
            Scope::Any => ParameterValue::DbNull,
            Scope::Own(id) => (*id).into(),
            Scope::Nothing => Uuid::nil().into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_change_any_task_members_their_own() {
        let (me, other) = (Uuid::new_v4(), Uuid::new_v4());
        let member = Actor::person(me, Access::Member);
        let admin = Actor::person(me, Access::Admin);
        assert_eq!(Scope::tasks_to_change(&admin), Scope::Any);
        assert_eq!(Scope::tasks_to_change(&Actor::SERVICE), Scope::Any);
        assert_eq!(Scope::tasks_to_change(&member), Scope::Own(me));
        assert!(Scope::tasks_to_change(&member).allows(Some(me)));
        assert!(!Scope::tasks_to_change(&member).allows(Some(other)));
        assert!(!Scope::tasks_to_change(&member).allows(None));
        assert!(!Scope::Nothing.allows(Some(me)));
        assert!(matches!(Scope::Any.param(), ParameterValue::DbNull));
        assert_eq!(
            Scope::sql_condition("assignee_id", 10),
            "($10::uuid IS NULL OR assignee_id = $10)"
        );
    }

    #[test]
    fn people_are_managed_by_admins_only_and_the_session_says_so() {
        let member = Actor::person(Uuid::new_v4(), Access::Member);
        let refused = member.require(Permission::ManagePeople, "add people");
        assert_eq!(refused.unwrap_err().detail, "Only admins can add people.");
        let member_can = can(&member);
        assert_eq!(member_can["manage_people"], false);
        assert_eq!(member_can["change_any_task"], false);
        assert_eq!(member_can["change_assigned_tasks"], true);
        assert_eq!(member_can["delete_any_comment"], false);
        assert_eq!(member_can["manage_labels"], false);
        assert_eq!(
            can(&Actor::person(Uuid::new_v4(), Access::Admin))["manage_labels"],
            true
        );
        let refused = member.require(Permission::ManageLabels, "manage labels");
        assert_eq!(
            refused.unwrap_err().detail,
            "Only admins can manage labels."
        );
        assert!(
            can(&Actor::SERVICE)
                .values()
                .all(|v| v == &serde_json::Value::Bool(true))
        );
    }

    #[test]
    fn authors_edit_their_comments_admins_delete_any() {
        let (me, other) = (Uuid::new_v4(), Uuid::new_v4());
        let member = Actor::person(me, Access::Member);
        let admin = Actor::person(me, Access::Admin);
        // Nobody edits another's words, admins included.
        assert_eq!(Scope::comments_to_edit(&admin), Scope::Own(me));
        assert!(!Scope::comments_to_edit(&admin).allows(Some(other)));
        assert_eq!(Scope::comments_to_delete(&admin), Scope::Any);
        assert_eq!(Scope::comments_to_delete(&member), Scope::Own(me));
        assert!(!Scope::comments_to_delete(&member).allows(Some(other)));
        assert!(!Scope::comments_to_delete(&member).allows(None));
        assert_eq!(Scope::comments_to_edit(&Actor::SERVICE), Scope::Any);
        assert_eq!(Scope::comments_to_delete(&Actor::SERVICE), Scope::Any);
    }
}
