//! Sign-ins under way (table `oidc_logins`): what the callback needs to
//! finish one — the nonce, the PKCE verifier, the redirect URI — keyed by
//! the digest of its `state`. A row is taken in one statement (`DELETE …
//! RETURNING`): a state works once, however many callbacks race with it.

use mth_shared::db::{self, Db};
use mth_shared::{ApiError, token};
use spin_sdk::pg4::ParameterValue;

/// A sign-in must come back from the provider within this long.
pub const LIFETIME_SECS: i64 = 10 * 60;

/// A sign-in's secrets, made when it starts.
pub struct Login {
    pub state: String,
    pub nonce: String,
    pub code_verifier: String,
    pub redirect_uri: String,
}

impl Login {
    /// Fresh random state, nonce and verifier (64 hex digits each: a valid
    /// PKCE verifier, RFC 7636 4.1).
    pub fn new(redirect_uri: String) -> Result<Self, ApiError> {
        Ok(Self {
            state: token::generate("")?,
            nonce: token::generate("")?,
            code_verifier: token::generate("")?,
            redirect_uri,
        })
    }
}

pub fn store(db: &Db, login: &Login) -> Result<(), ApiError> {
    db.execute(
        concat!(
            "INSERT INTO oidc_logins (state_hash, nonce, code_verifier, redirect_uri, expires_at) \
             VALUES ($1, $2, $3, $4, ",
            now!(),
            " + make_interval(secs => $5))"
        ),
        &[
            token::digest(&login.state).into(),
            login.nonce.clone().into(),
            login.code_verifier.clone().into(),
            login.redirect_uri.clone().into(),
            ParameterValue::Floating64(LIFETIME_SECS as f64),
        ],
    )?;
    Ok(())
}

/// What [`take`] found.
pub enum Taken {
    Live(Login),
    Expired,
    /// Unknown, or used already.
    Gone,
}

struct Row {
    nonce: String,
    code_verifier: String,
    redirect_uri: String,
    live: bool,
}

mth_shared::from_row!(Row {
    nonce,
    code_verifier,
    redirect_uri,
    live
});

/// Takes the sign-in `state` names, so that it cannot be used again.
pub fn take(db: &Db, state: &str) -> Result<Taken, ApiError> {
    let rows = db.query(
        concat!(
            "DELETE FROM oidc_logins WHERE state_hash = $1 \
             RETURNING nonce, code_verifier, redirect_uri, expires_at > ",
            now!(),
            " AS live"
        ),
        &[token::digest(state).into()],
    )?;
    Ok(match db::first::<Row>(rows)? {
        Some(row) if row.live => Taken::Live(Login {
            state: state.to_owned(),
            nonce: row.nonce,
            code_verifier: row.code_verifier,
            redirect_uri: row.redirect_uri,
        }),
        Some(_) => Taken::Expired,
        None => Taken::Gone,
    })
}

/// Housekeeping: sign-ins that never came back.
pub(crate) fn delete_expired(db: &Db) -> Result<u64, ApiError> {
    Ok(db.execute(
        concat!("DELETE FROM oidc_logins WHERE expires_at < ", now!()),
        &[],
    )?)
}
