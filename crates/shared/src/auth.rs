//! Who a request to a service acts for, and what they may do.
//!
//! Two credentials reach the services:
//! - the internal `api_token`, sent by the gateway and by the services to
//!   each other. The gateway adds `x-mth-actor: <user id> <access>` for the
//!   person whose session it checked; a call without it is a service acting
//!   for itself.
//! - a person's API token (`mth_pat_…`), looked up by its digest: the
//!   owner's permissions, while the token is not revoked and the owner active.

use serde::Serialize;
use spin_sdk::pg4::ParameterValue;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use spin_sdk::http::Request;

use crate::db::{self, Db};
use crate::{ApiError, config, token};

/// The header the gateway names the signed-in person in.
pub const ACTOR_HEADER: &str = "x-mth-actor";

/// Constant-time equality, so response timing does not leak how much of a
/// secret a guess got right.
pub fn secrets_equal(given: &[u8], expected: &[u8]) -> bool {
    given.ct_eq(expected).into()
}

/// What a person may do: admins everything, members create tasks and change
/// the tasks assigned to them.
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

crate::decoded_column!(Access);

/// A signed-in person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Person {
    pub id: Uuid,
    pub access: Access,
}

crate::from_row!(Person { id, access });

/// Who a request acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// Another MicroTaskHub service, for itself (no person).
    Service,
    Person(Person),
}

impl Actor {
    /// The person's id; `None` for a service.
    pub fn person_id(&self) -> Option<Uuid> {
        match self {
            Actor::Service => None,
            Actor::Person(p) => Some(p.id),
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(
            self,
            Actor::Service
                | Actor::Person(Person {
                    access: Access::Admin,
                    ..
                })
        )
    }

    /// 403 unless an admin (or a service) acts.
    pub fn require_admin(&self, to: &str) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("Only admins can {to}.")))
        }
    }

    /// The `x-mth-actor` value that names this person to a service.
    pub fn header_value(person: &Person) -> String {
        format!("{} {}", person.id, person.access.as_str())
    }
}

fn bearer(req: &Request) -> Result<&str, ApiError> {
    crate::request::header(req, "authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(ApiError::unauthorized)
}

/// Authenticates a request to a service.
pub fn authenticate(req: &Request) -> Result<Actor, ApiError> {
    let given = bearer(req)?;
    if given.starts_with(token::API_TOKEN_PREFIX) {
        return owner_of_api_token(given).map(Actor::Person);
    }
    check_internal_token(given, &config::var("api_token")?)?;
    match crate::request::header(req, ACTOR_HEADER) {
        None => Ok(Actor::Service),
        Some(value) => parse_actor(value).map(Actor::Person).ok_or_else(|| {
            ApiError::internal("Internal error.")
                .caused_by(format_args!("malformed {ACTOR_HEADER} header: {value:?}"))
        }),
    }
}

/// Checks a bearer token against the internal `api_token`.
pub fn check_internal_token(given: &str, token: &str) -> Result<(), ApiError> {
    // An empty configured token would make every empty guess valid.
    if token.is_empty() || !secrets_equal(given.as_bytes(), token.as_bytes()) {
        return Err(ApiError::unauthorized());
    }
    Ok(())
}

fn parse_actor(value: &str) -> Option<Person> {
    let (id, access) = value.split_once(' ')?;
    Some(Person {
        id: Uuid::try_parse(id).ok()?,
        access: Access::parse(access).ok()?,
    })
}

/// The active owner of a personal API token that is not revoked. The
/// connection is dropped before the handler runs (see `db::open_connections`).
/// `last_used_at` is written at most once a minute, not on every call.
fn owner_of_api_token(given: &str) -> Result<Person, ApiError> {
    let rows = Db::connect()?.query(
        "WITH owner AS ( \
           SELECT u.id, u.access FROM api_tokens t JOIN users u ON u.id = t.user_id \
           WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active), \
         touched AS (UPDATE api_tokens SET last_used_at = (now() AT TIME ZONE 'utc') \
           WHERE token_hash = $1 AND EXISTS (SELECT 1 FROM owner) \
             AND (last_used_at IS NULL \
               OR last_used_at < (now() AT TIME ZONE 'utc') - interval '1 minute')) \
         SELECT id, access FROM owner",
        &[ParameterValue::Str(token::digest(given))],
    )?;
    db::first(rows)?.ok_or_else(|| {
        ApiError::unauthorized_because(
            "This API token is not valid: it was revoked, or its owner was deactivated.",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_the_exact_internal_token() {
        assert!(check_internal_token("s3cret", "s3cret").is_ok());
        for wrong in ["s3cre", "s3cretx", "", "S3CRET"] {
            assert_eq!(
                check_internal_token(wrong, "s3cret").unwrap_err().status,
                401
            );
        }
        // An empty configured token accepts nothing.
        assert!(check_internal_token("", "").is_err());
    }

    #[test]
    fn actor_headers_name_a_person_and_their_access() {
        let id = Uuid::new_v4();
        let person = Person {
            id,
            access: Access::Member,
        };
        assert_eq!(parse_actor(&Actor::header_value(&person)), Some(person));
        for bad in ["", "x member", &format!("{id} root"), &id.to_string()] {
            assert_eq!(parse_actor(bad), None, "{bad}");
        }
        assert!(Actor::Service.is_admin());
        assert!(!Actor::Person(person).is_admin());
        assert_eq!(
            Actor::Person(person).require_admin("x").unwrap_err().status,
            403
        );
    }
}
