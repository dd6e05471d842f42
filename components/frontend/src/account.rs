//! A person's own account: setting a password from a link, changing it, and
//! personal API tokens.

use mth_shared::body::{JsonObject, string};
use mth_shared::db::{self, Db};
use mth_shared::time::Timestamp;
use mth_shared::{ApiError, token};
use serde::Serialize;
use uuid::Uuid;

use crate::password::{self, NewPassword};
use crate::session::{self, Session};

struct UserId {
    user_id: Uuid,
}

mth_shared::from_row!(UserId { user_id });

fn new_password(raw: &serde_json::Value) -> Result<NewPassword, String> {
    NewPassword::parse(&string(raw)?)
}

/// Sets a password with a one-time link (an invitation or a reset): the
/// link is used up, every other session of the person ends, and this
/// browser is signed in.
pub fn set_with_link(mut body: JsonObject) -> Result<(String, Session), ApiError> {
    let link = body.required("token", string);
    let password = body.required("password", new_password);
    let (link, password) = body.finish(|| Some((link?, password?)))?;
    let digest = token::digest(link.trim());
    // A cheap look first, so a bad link costs no hashing; the write below
    // checks again, atomically.
    let live = Db::connect()?.query(
        "SELECT user_id FROM invitations \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > (now() AT TIME ZONE 'utc')",
        &[digest.clone().into()],
    )?;
    if db::first::<UserId>(live)?.is_none() {
        return Err(link_gone());
    }
    let hash = password::hash(&password)?;
    let db = Db::connect()?;
    let rows = db.query(
        "WITH used AS (UPDATE invitations SET used_at = (now() AT TIME ZONE 'utc') \
           WHERE token_hash = $1 AND used_at IS NULL AND expires_at > (now() AT TIME ZONE 'utc') \
           RETURNING user_id) \
         INSERT INTO credentials (user_id, password_hash) \
         SELECT used.user_id, $2 FROM used JOIN users u ON u.id = used.user_id AND u.active \
         ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, \
           updated_at = (now() AT TIME ZONE 'utc') \
         RETURNING user_id",
        &[digest.into(), hash.into()],
    )?;
    let Some(UserId { user_id }) = db::first(rows)? else {
        return Err(link_gone());
    };
    restart_sessions(&db, user_id)
}

fn link_gone() -> ApiError {
    ApiError::new(
        410,
        "This link no longer works: it was used, it expired (links last 72 hours), or a newer one was sent. Ask an admin for a new link.",
    )
}

/// Changes the signed-in person's password; their other sessions end.
pub fn change(session: &Session, mut body: JsonObject) -> Result<(String, Session), ApiError> {
    let current = body.required("current_password", string);
    let new = body.required("new_password", new_password);
    let (current, new) = body.finish(|| Some((current?, new?)))?;
    let stored = {
        let db = Db::connect()?;
        db::first::<Hash>(db.query(
            "SELECT password_hash FROM credentials WHERE user_id = $1",
            &[session.person.id.into()],
        )?)?
    };
    if !stored.is_some_and(|h| password::verify(&current, &h.password_hash)) {
        return Err(ApiError::invalid(
            "current_password",
            "is not your current password",
        ));
    }
    let hash = password::hash(&new)?;
    let db = Db::connect()?;
    db.execute(
        "UPDATE credentials SET password_hash = $2, updated_at = (now() AT TIME ZONE 'utc') \
         WHERE user_id = $1",
        &[session.person.id.into(), hash.into()],
    )?;
    restart_sessions(&db, session.person.id)
}

struct Hash {
    password_hash: String,
}

mth_shared::from_row!(Hash { password_hash });

fn restart_sessions(db: &Db, user_id: Uuid) -> Result<(String, Session), ApiError> {
    session::end_all(db, user_id)?;
    session::start(db, user_id)?.ok_or_else(|| {
        ApiError::new(
            403,
            "This account is deactivated. Ask an admin to reactivate it.",
        )
    })
}

/// A personal API token as its owner sees it (the secret only at creation).
#[derive(Debug, Serialize)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

mth_shared::from_row!(ApiToken {
    id,
    name,
    created_at,
    last_used_at
}, token: None);

/// The person's tokens that are not revoked, newest first.
pub fn tokens(session: &Session) -> Result<Vec<ApiToken>, ApiError> {
    let db = Db::connect()?;
    db::all(db.query(
        "SELECT * FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL \
         ORDER BY created_at DESC, id DESC",
        &[session.person.id.into()],
    )?)
}

/// A new token; its value is in the answer and nowhere else.
pub fn create_token(session: &Session, mut body: JsonObject) -> Result<ApiToken, ApiError> {
    let name = body.required("name", token_name);
    let name = body.finish(|| name)?;
    let value = token::generate(token::API_TOKEN_PREFIX)?;
    let db = Db::connect()?;
    let mut created: ApiToken = db::first(db.query(
        "INSERT INTO api_tokens (user_id, name, token_hash) VALUES ($1, $2, $3) RETURNING *",
        &[
            session.person.id.into(),
            name.into(),
            token::digest(&value).into(),
        ],
    )?)?
    .ok_or_else(|| ApiError::internal("The insert returned no row."))?;
    created.token = Some(value);
    Ok(created)
}

fn token_name(raw: &serde_json::Value) -> Result<String, String> {
    let name = string(raw)?;
    let name = name.trim();
    mth_shared::body::bounded_text(
        name,
        100,
        mth_shared::body::Lines::Single,
        mth_shared::body::Blank::Refused,
    )
    .map(|()| name.to_owned())
}

/// Revokes one of the person's own tokens at once.
pub fn revoke_token(session: &Session, id: Uuid) -> Result<(), ApiError> {
    let revoked = Db::connect()?.execute(
        "UPDATE api_tokens SET revoked_at = (now() AT TIME ZONE 'utc') \
         WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        &[id.into(), session.person.id.into()],
    )?;
    if revoked == 0 {
        return Err(ApiError::not_found(format!(
            "You have no token with id {id}."
        )));
    }
    Ok(())
}
