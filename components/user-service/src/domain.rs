//! User fields as domain types: a value of these types is valid by construction.

use mth_accounts::Access;
use mth_shared::body::{JsonObject, boolean, from_string};

pub use mth_accounts::person::{Email, FullName, Role};

/// The body of `POST /users`.
#[derive(Debug, PartialEq, Eq)]
pub struct NewUser {
    pub email: Email,
    pub full_name: FullName,
    pub role: Role,
    pub access: Access,
}

impl NewUser {
    pub fn parse(mut body: JsonObject) -> Result<Self, mth_shared::ApiError> {
        let fields = UserPatch::fields(&mut body, true);
        if fields.active.is_some() {
            body.error("active", "is not set on a new user (they start active)");
        }
        body.finish(|| {
            Some(NewUser {
                email: fields.email?,
                full_name: fields.full_name?,
                role: fields.role.unwrap_or_else(Role::member),
                access: fields.access.unwrap_or(Access::Member),
            })
        })
    }
}

/// The body of `PATCH /users/{id}`: any subset of the fields; none may be null.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UserPatch {
    pub email: Option<Email>,
    pub full_name: Option<FullName>,
    pub role: Option<Role>,
    pub access: Option<Access>,
    /// `false` deactivates: their sessions end, they can no longer sign in.
    pub active: Option<bool>,
}

impl UserPatch {
    pub fn parse(mut body: JsonObject) -> Result<Self, mth_shared::ApiError> {
        let fields = Self::fields(&mut body, false);
        body.finish(|| Some(fields))
    }

    /// The user fields of `body`; a new user must have an email and a name.
    fn fields(body: &mut JsonObject, new: bool) -> Self {
        UserPatch {
            email: body.field("email", from_string(Email::parse), new),
            full_name: body.field("full_name", from_string(FullName::parse), new),
            role: body.optional("role", from_string(Role::parse)),
            access: body.optional("access", from_string(Access::parse)),
            active: body.optional("active", boolean),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == UserPatch::default()
    }
}

/// A user as the API shows it: the person as `users` holds them (one type
/// for user-service and for an export, `mth_accounts::workspace`).
pub use mth_accounts::workspace::Person as User;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in [
            "ada@example.com",
            " Ada.Lovelace+x@Sub.Example.org ",
            "ü@bücher.de",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(Email::parse(" a@b.co ").unwrap().as_str(), "a@b.co");
        // NFD (e + combining acute) is stored as NFC (one code point).
        assert_eq!(
            Email::parse("jose\u{301}@example.com").unwrap().as_str(),
            "jos\u{e9}@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@exa_mple.com",
            "ada@-x.com",
            "ada@x..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn names_and_roles_are_trimmed_and_bounded_in_characters() {
        // Limits and control characters are bounded_text's (mth-shared); here,
        // what is particular to users: trimmed, and each field's limit.
        assert_eq!(FullName::parse("  Ada  ").unwrap().as_str(), "Ada");
        let e = |n| "é".repeat(n);
        assert!(FullName::parse(&e(255)).is_ok() && FullName::parse(&e(256)).is_err());
        assert!(Role::parse(&e(50)).is_ok() && Role::parse(&e(51)).is_err());
        assert!(FullName::parse("   ").is_err() && Role::parse("ad\u{1b}min").is_err());
    }

    #[test]
    fn new_user_defaults_the_role_and_reports_every_bad_field() {
        let user =
            NewUser::parse(JsonObject::from_json(r#"{"email":"a@b.co","full_name":"A"}"#).unwrap())
                .unwrap();
        assert_eq!(user.role, Role::member());

        let err = NewUser::parse(
            JsonObject::from_json(r#"{"email":"nope","full_name":"","role":7,"x":1}"#).unwrap(),
        )
        .unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "full_name", "role", "x"]);
        assert_eq!(err.status, 422);
    }

    #[test]
    fn patch_accepts_any_subset_but_no_nulls() {
        assert!(
            UserPatch::parse(JsonObject::from_json("{}").unwrap())
                .unwrap()
                .is_empty()
        );
        let patch =
            UserPatch::parse(JsonObject::from_json(r#"{"role":"admin"}"#).unwrap()).unwrap();
        assert_eq!(patch.role, Some(Role::parse("admin").unwrap()));
        assert!(UserPatch::parse(JsonObject::from_json(r#"{"email":null}"#).unwrap()).is_err());
    }
}
