//! Which person a provider's subject is (table `oidc_identities`), and the
//! two writes to `users` an OIDC sign-in may make: creating an unknown
//! person just in time (when `oidc_create_users` is on) and making a person
//! an admin (when the provider puts them in `oidc_admin_group`).
//!
//! `users` is user-service's table. Like [`crate::bootstrap`], these
//! statements live here because a sign-in must not depend on user-service
//! being up, and because a new person and their link must appear together,
//! atomically, in one statement.

use mth_shared::ApiError;
use mth_shared::db::{self, Db};
use spin_sdk::pg4::ParameterValue;
use uuid::Uuid;

use crate::email;
use crate::person::{Email, FullName};

/// Who signs in.
pub struct Identity<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    pub email: &'a Email,
    pub full_name: &'a FullName,
}

/// Whom an identity is.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    /// Linked before (found by subject).
    Known(Uuid),
    /// Just linked to the person with that email.
    Linked(Uuid),
    /// Just created (a member) and linked.
    Created(Uuid),
    /// The person with that email is linked to another subject of this
    /// provider: the address was given to someone else.
    LinkedToAnother,
    /// Nobody has that email, and people are not created.
    Unknown,
    /// Someone else created that email at the same moment: try again.
    Raced,
}

struct Row {
    known_id: Option<Uuid>,
    linked_id: Option<Uuid>,
    created_id: Option<Uuid>,
    email_known: bool,
}

mth_shared::from_row!(Row {
    known_id,
    linked_id,
    created_id,
    email_known
});

/// Finds, links or (if `create`) creates the person, in one statement.
pub fn resolve(db: &Db, identity: &Identity<'_>, create: bool) -> Result<Resolved, ApiError> {
    let sql = format!(
        "WITH known AS (SELECT user_id FROM oidc_identities WHERE issuer = $1 AND subject = $2), \
         by_email AS (SELECT u.id FROM users u WHERE {same} \
           AND NOT EXISTS (SELECT 1 FROM known)), \
         created AS (INSERT INTO users (email, full_name, role, access) \
           SELECT $3, $4, 'member', 'member' \
           WHERE $5::boolean AND NOT EXISTS (SELECT 1 FROM known) \
             AND NOT EXISTS (SELECT 1 FROM by_email) \
           ON CONFLICT DO NOTHING RETURNING id), \
         linked AS (INSERT INTO oidc_identities (issuer, subject, user_id) \
           SELECT $1, $2, id FROM by_email UNION ALL SELECT $1, $2, id FROM created \
           ON CONFLICT DO NOTHING RETURNING user_id) \
         SELECT (SELECT user_id FROM known) AS known_id, \
           (SELECT user_id FROM linked) AS linked_id, \
           (SELECT id FROM created) AS created_id, \
           EXISTS (SELECT 1 FROM by_email) AS email_known",
        same = email::same_sql("u.email", 3),
    );
    let rows = db.query(
        &sql,
        &[
            identity.issuer.to_owned().into(),
            identity.subject.to_owned().into(),
            identity.email.as_str().to_owned().into(),
            identity.full_name.as_str().to_owned().into(),
            ParameterValue::Boolean(create),
        ],
    )?;
    let row = db::first::<Row>(rows)?
        .ok_or_else(|| ApiError::internal("Unexpected answer from the database."))?;
    Ok(match row {
        Row {
            known_id: Some(id), ..
        } => Resolved::Known(id),
        Row {
            created_id: Some(id),
            linked_id: Some(_),
            ..
        } => Resolved::Created(id),
        Row {
            linked_id: Some(id),
            ..
        } => Resolved::Linked(id),
        Row {
            email_known: true, ..
        } => Resolved::LinkedToAnother,
        _ if create => Resolved::Raced,
        _ => Resolved::Unknown,
    })
}

/// Makes an active person an admin (the provider says they are one).
pub fn make_admin(db: &Db, user_id: Uuid) -> Result<(), ApiError> {
    db.execute(
        "UPDATE users SET access = 'admin' WHERE id = $1 AND active AND access <> 'admin'",
        &[user_id.into()],
    )?;
    Ok(())
}
