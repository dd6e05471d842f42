//! A person's own fields as `users` stores them, as domain types: a value of
//! these types is valid by construction. Here, not in user-service, because
//! two writers of `users` parse them: user-service, and the sign-in that
//! creates a person on their first OpenID Connect sign-in ([`crate::oidc`]).

use mth_shared::body::{Blank, Lines, bounded_text};
use unicode_normalization::UnicodeNormalization;

/// An email address: trimmed, in Unicode NFC, at most 254 characters,
/// `local@domain.tld`. NFC makes `é` one code point however it was typed, so
/// look-alikes are one address (the database compares them case-folded too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email: String = raw.trim().nfc().collect();
        let email = email.as_str();
        let invalid = || "must be a valid email address, like ada@example.com".to_owned();
        if email.is_empty() || email.chars().count() > 254 {
            return Err(invalid());
        }
        let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && local.chars().all(|c| !c.is_whitespace() && !c.is_control());
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Self(email.to_owned()))
        } else {
            Err(invalid())
        }
    }
}

/// Trimmed text of bounded length in characters.
pub fn bounded(raw: &str, max: usize) -> Result<String, String> {
    let text = raw.trim();
    bounded_text(text, max, Lines::Single, Blank::Refused).map(|()| text.to_owned())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        bounded(raw, 255).map(Self)
    }
}

/// A person's job on the team: free text, at most 50 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role(String);

impl Role {
    pub fn parse(raw: &str) -> Result<Self, String> {
        bounded(raw, 50).map(Self)
    }
    pub fn member() -> Self {
        Self("member".to_owned())
    }
}

mth_shared::text_type!(Email, FullName, Role);
