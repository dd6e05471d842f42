//! Passwords (table `credentials`): one argon2id hash per person.
//!
//! The statements that change a password also end what the old password
//! let in — sessions, and on recovery personal tokens — in the same
//! statement, with SQL those tables' own modules supply.

use mth_shared::ApiError;
use mth_shared::db::{self, Db};
use uuid::Uuid;

use crate::{api_tokens, email, invitations, sessions};

/// An active person who has a password.
pub struct Account {
    pub id: Uuid,
    pub password_hash: String,
}

mth_shared::from_row!(Account { id, password_hash });

/// The active person with this email and a password, if any.
pub fn by_email(db: &Db, typed: &str) -> Result<Option<Account>, ApiError> {
    let sql = format!(
        "SELECT u.id, c.password_hash FROM users u JOIN credentials c ON c.user_id = u.id \
         WHERE {} AND u.active",
        email::same_sql("u.email", 1)
    );
    db::first(db.query(&sql, &[typed.to_owned().into()])?)
}

struct Hash {
    password_hash: String,
}

mth_shared::from_row!(Hash { password_hash });

/// A person's password hash, if they have one.
pub fn hash_of(db: &Db, user_id: Uuid) -> Result<Option<String>, ApiError> {
    let rows = db.query(
        "SELECT password_hash FROM credentials WHERE user_id = $1",
        &[user_id.into()],
    )?;
    Ok(db::first::<Hash>(rows)?.map(|h| h.password_hash))
}

/// Sets a person's password (the first admin's, from the variables).
pub fn set(db: &Db, user_id: Uuid, hash: String) -> Result<(), ApiError> {
    db.execute(
        concat!(
            "INSERT INTO credentials (user_id, password_hash) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, \
               updated_at = ",
            now!()
        ),
        &[user_id.into(), hash.into()],
    )?;
    Ok(())
}

struct UserId {
    user_id: Uuid,
}

mth_shared::from_row!(UserId { user_id });

/// Recovery with a one-time link: the link is used up, the password set,
/// and every session and personal token of the person ends — all in one
/// statement, so a link can never set a password that leaves a thief's
/// token alive. `None`: the link was used, expired or replaced, or the
/// person is deactivated.
pub fn set_with_link(db: &Db, link_digest: String, hash: String) -> Result<Option<Uuid>, ApiError> {
    let sql = format!(
        "WITH used AS ({used}), \
         cred AS (INSERT INTO credentials (user_id, password_hash) \
           SELECT used.user_id, $2 FROM used JOIN users u ON u.id = used.user_id AND u.active \
           ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, \
             updated_at = {now} \
           RETURNING user_id), \
         revoked AS ({revoked}), \
         ended AS ({ended}) \
         SELECT user_id FROM cred",
        used = invitations::use_sql(1),
        now = now!(),
        revoked = api_tokens::revoke_all_sql("SELECT user_id FROM cred"),
        ended = sessions::end_all_sql("SELECT user_id FROM cred"),
    );
    let rows = db.query(&sql, &[link_digest.into(), hash.into()])?;
    Ok(db::first::<UserId>(rows)?.map(|r| r.user_id))
}

/// A password change: the new hash; every session of the person ends and,
/// if asked, every personal token is revoked, in the same statement.
pub fn change(db: &Db, user_id: Uuid, hash: String, revoke_tokens: bool) -> Result<(), ApiError> {
    let sql = format!(
        "WITH cred AS (UPDATE credentials SET password_hash = $2, updated_at = {now} \
           WHERE user_id = $1 RETURNING user_id), \
         revoked AS ({revoked}), \
         ended AS ({ended}) \
         SELECT user_id FROM cred",
        now = now!(),
        revoked = api_tokens::revoke_all_sql("SELECT user_id FROM cred WHERE $3"),
        ended = sessions::end_all_sql("SELECT user_id FROM cred"),
    );
    db.query(&sql, &[user_id.into(), hash.into(), revoke_tokens.into()])?;
    Ok(())
}
