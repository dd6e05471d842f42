//! Who a request acts for: the one type for it ([`Actor`]), and how a
//! service learns it from a request ([`authenticate`]).
//!
//! Two credentials reach the services:
//! - the internal `api_token`, sent by the gateway and by the services to
//!   each other. The gateway adds `x-mth-actor: <user id> <access>` for the
//!   person whose session it checked; a call without it is a service acting
//!   for itself.
//! - a person's API token (`mth_pat_…`), looked up by its digest: the
//!   owner's permissions, while the token is live and the owner active.

use mth_shared::auth::{ACTOR_HEADER, check_internal_token};
use mth_shared::{ApiError, config, request, token};
use serde::Serialize;
use spin_sdk::http::Request;
use uuid::Uuid;

use crate::api_tokens;

/// A person's access level, as `users.access` stores it. What each level
/// may do is [`crate::policy`]'s business, not this type's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Admin,
    Member,
}

impl Access {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "admin" => Ok(Access::Admin),
            "member" => Ok(Access::Member),
            _ => Err("must be admin or member".to_owned()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Access::Admin => "admin",
            Access::Member => "member",
        }
    }
}

impl spin_sdk::pg4::Decode for Access {
    fn decode(value: &spin_sdk::pg4::DbValue) -> Result<Self, spin_sdk::pg4::Error> {
        Access::parse(&String::decode(value)?).map_err(spin_sdk::pg4::Error::Decode)
    }
}

mth_shared::decoded_column!(Access);

/// Who acts: a person (by session or personal token), or a MicroTaskHub
/// service acting for itself. A service has admin access: it is the
/// system, and the gateway names a person whenever one is behind a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    person: Option<Uuid>,
    access: Access,
}

impl Actor {
    pub const SERVICE: Actor = Actor {
        person: None,
        access: Access::Admin,
    };

    pub fn person(id: Uuid, access: Access) -> Self {
        Actor {
            person: Some(id),
            access,
        }
    }

    /// The person's id; `None` for a service.
    pub fn person_id(&self) -> Option<Uuid> {
        self.person
    }

    pub fn access(&self) -> Access {
        self.access
    }

    /// The `x-mth-actor` value that names this person to a service; `None`
    /// for a service (no header: the callee acts for the service itself).
    pub fn header_value(&self) -> Option<String> {
        self.person
            .map(|id| format!("{id} {}", self.access.as_str()))
    }

    fn from_header(value: &str) -> Option<Self> {
        let (id, access) = value.split_once(' ')?;
        Some(Actor::person(
            Uuid::try_parse(id).ok()?,
            Access::parse(access).ok()?,
        ))
    }
}

fn bearer(req: &Request) -> Result<&str, ApiError> {
    request::header(req, "authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(ApiError::unauthorized)
}

/// Authenticates a request to a service.
pub fn authenticate(req: &Request) -> Result<Actor, ApiError> {
    let given = bearer(req)?;
    if given.starts_with(token::API_TOKEN_PREFIX) {
        return api_tokens::owner(given);
    }
    // During a rotation the services also accept the other token, so pods
    // of the old and the new rollout accept each other (docs/deploy.md).
    let accepted = [
        Some(config::var("api_token")?),
        config::optional_var("api_token_previous")?,
    ];
    check_internal_token(given, accepted.iter().flatten())?;
    match request::header(req, ACTOR_HEADER) {
        None => Ok(Actor::SERVICE),
        Some(value) => Actor::from_header(value).ok_or_else(|| {
            ApiError::internal("Internal error.")
                .caused_by(format_args!("malformed {ACTOR_HEADER} header: {value:?}"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_headers_name_a_person_and_their_access() {
        let id = Uuid::new_v4();
        let member = Actor::person(id, Access::Member);
        let header = member.header_value().unwrap();
        assert_eq!(Actor::from_header(&header), Some(member));
        assert_eq!(Actor::SERVICE.header_value(), None);
        for bad in ["", "x member", &format!("{id} root"), &id.to_string()] {
            assert_eq!(Actor::from_header(bad), None, "{bad}");
        }
    }
}
