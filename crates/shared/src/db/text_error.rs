//! Reads a server error that the host delivered only as text
//! (`query-error::text`), so a constraint violation is recognised whichever
//! host runs the component.
//!
//! The services make their expected outcomes data (`ON CONFLICT … RETURNING`,
//! conditional writes): this reader is the fallback for what SQL cannot say
//! that way, such as two writes racing for the same unique value.
//!
//! Hosts differ in what that text holds:
//! - Spin 3.6.3 sends an error raised *while rows stream* (an
//!   `INSERT … RETURNING` hitting a unique index, a foreign key or a check)
//!   as the `{:?}` of an `anyhow::Error` wrapping the tokio-postgres error.
//!   There is no SQLSTATE in it, so the class comes from the server's
//!   message, whose place depends on the tokio-postgres version linked:
//!   - `spin up` 3.6.3 (tokio-postgres 0.7.12): `db error: ERROR: <message>`
//!     on the first line, a `DETAIL:` line, `Caused by:` and, when
//!     `RUST_BACKTRACE` is set, a stack trace;
//!   - SpinKube's containerd-shim-spin v0.24.0 (the same Spin, with
//!     tokio-postgres 0.7.16): a bare `db error` first line, the server's
//!     `ERROR: <message>` only as the first line under `Caused by:`.
//! - Spin 4.x wraps the structured error first: its text is the Debug of the
//!   WIT `error`, with `code: "23505"` and, inside `as-text`,
//!   tokio-postgres's own Debug (`code: SqlState(E23505)`).
//! - tokio-postgres's Debug alone (`Error { kind: Db, cause: Some(DbError {
//!   … code: SqlState(E23505), … constraint: Some("…") … }) }`).

/// A refusal by the server, as far as the text tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Rejection {
    /// SQLSTATE, e.g. `23505`.
    pub code: String,
    /// The server's message (it names the constraint), or the whole text
    /// when no message field could be isolated.
    pub message: String,
}

/// The SQLSTATE and message in `text`, if it is a server error.
pub(super) fn rejection(text: &str) -> Option<Rejection> {
    if let Some(code) = wit_code(text).or_else(|| tokio_postgres_code(text)) {
        let message = quoted_field(text, "message: \"").unwrap_or_else(|| text.to_owned());
        return Some(Rejection { code, message });
    }
    let message = display_message(text)?;
    let code = code_from_message(&message)?;
    Some(Rejection {
        code: code.to_owned(),
        message,
    })
}

/// `code: "23505"` at the top level of a WIT `db-error` Debug (Spin 4.x).
fn wit_code(text: &str) -> Option<String> {
    let rest = &text[text.find("code: \"")? + "code: \"".len()..];
    sqlstate_prefix(rest)
}

/// `code: SqlState(E23505)`, or `SqlState(Other("XX000"))` for a code
/// tokio-postgres has no name for.
fn tokio_postgres_code(text: &str) -> Option<String> {
    let rest = &text[text.find("SqlState(")? + "SqlState(".len()..];
    if let Some(named) = rest.strip_prefix('E') {
        return sqlstate_prefix(named);
    }
    let other = rest.strip_prefix("Other(")?;
    sqlstate_prefix(other.trim_start_matches(['"', '\\']))
}

/// The five-character SQLSTATE at the start of `s`.
fn sqlstate_prefix(s: &str) -> Option<String> {
    let code = s.get(..5)?;
    code.bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        .then(|| code.to_owned())
}

/// The Rust-Debug string value that follows `field` (which ends with the
/// opening quote), unescaped. Only an unescaped occurrence counts, so a
/// nested `message: \"…\"` inside `as-text` is skipped.
fn quoted_field(text: &str, field: &str) -> Option<String> {
    let start = text
        .match_indices(field)
        .find(|(i, _)| !text[..*i].ends_with('\\'))?
        .0
        + field.len();
    let mut out = String::new();
    let mut chars = text[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// `<message>` from Spin 3.6.3's text: the `db error: <SEVERITY>: <message>`
/// first line (`spin up`), or, after a bare `db error` line, the first cause
/// under `Caused by:` (the shim; anyhow numbers causes when there are
/// several: `    0: ERROR: …`).
fn display_message(text: &str) -> Option<String> {
    let first_line = text.lines().next()?;
    let server_line = match first_line.strip_prefix("db error: ") {
        Some(rest) => rest,
        None if first_line == "db error" => first_cause(text)?,
        None => return None,
    };
    let (_severity, message) = server_line.split_once(": ")?;
    Some(message.to_owned())
}

/// The first line under anyhow's `Caused by:`, without its indent or number.
fn first_cause(text: &str) -> Option<&str> {
    let (_, causes) = text.split_once("\nCaused by:\n")?;
    let line = causes.lines().next()?.trim_start();
    Some(match line.split_once(": ") {
        Some((n, rest)) if n.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => line,
    })
}

/// The integrity-constraint class of a PostgreSQL message (server messages
/// in English, PostgreSQL's default `lc_messages`).
fn code_from_message(message: &str) -> Option<&'static str> {
    const CLASSES: [(&str, &str); 5] = [
        ("violates unique constraint \"", "23505"),
        ("violates foreign key constraint \"", "23503"),
        ("violates check constraint \"", "23514"),
        ("violates not-null constraint", "23502"),
        ("violates exclusion constraint \"", "23P01"),
    ];
    CLASSES
        .iter()
        .find(|(phrase, _)| message.contains(phrase))
        .map(|(_, code)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from Spin 3.6.3 (`spin up`, RUST_BACKTRACE=1): the text the
    /// user-service got for a second `INSERT INTO users … RETURNING` with a
    /// taken email.
    const SPIN_3_6_3: &str = include_str!("fixtures/spin-3.6.3-unique-returning.txt");
    /// Captured from containerd-shim-spin v0.24.0 (SpinKube's engine, Spin
    /// 3.6.3 with tokio-postgres 0.7.16): the same
    /// violation, the message only under `Caused by:` (RUST_BACKTRACE=1).
    const SHIM_0_24_0: &str = include_str!("fixtures/shim-0.24.0-unique-returning.txt");
    /// Captured from Spin 3.6.3: `as-text` of the structured error for the
    /// same violation through `execute` — tokio-postgres's Debug.
    const TOKIO_POSTGRES: &str = include_str!("fixtures/tokio-postgres-unique-debug.txt");

    #[test]
    fn every_host_text_and_tokio_postgres_debug_give_code_and_message() {
        for (text, constraint) in [
            (SPIN_3_6_3, "users_email_lower_key"),
            (SHIM_0_24_0, "probe_unique_email_key"),
            (TOKIO_POSTGRES, "probe_unique_email_key"),
        ] {
            let r = rejection(text).expect("a rejection");
            assert_eq!(r.code, "23505");
            assert_eq!(
                r.message,
                format!("duplicate key value violates unique constraint \"{constraint}\"")
            );
        }
    }

    #[test]
    fn wit_debug_nesting_tokio_postgres_debug_reads_the_top_level_fields() {
        // The shape Spin 4.x sends: the WIT error's Debug around the above.
        let text = format!(
            "Error::QueryFailed(QueryError::DbError(DbError {{ as-text: {TOKIO_POSTGRES:?}, \
             severity: \"ERROR\", code: \"23505\", message: \"duplicate key value violates \
             unique constraint \\\"probe_unique_email_key\\\"\", detail: None, extras: [] }}))"
        );
        let r = rejection(&text).expect("a rejection");
        assert_eq!(r.code, "23505");
        assert_eq!(
            r.message,
            "duplicate key value violates unique constraint \"probe_unique_email_key\""
        );
    }

    #[test]
    fn other_codes_and_messages() {
        let fk = "db error: ERROR: insert or update on table \"tasks\" violates foreign key \
                  constraint \"tasks_assignee_id_fkey\"\nDETAIL: Key (assignee_id)=(x) is not present";
        assert_eq!(rejection(fk).unwrap().code, "23503");
        let check = "db error: ERROR: new row for relation \"tasks\" violates check constraint \
                     \"tasks_open_needs_assignee\"";
        assert_eq!(rejection(check).unwrap().code, "23514");
        let numbered = "db error\n\nCaused by:\n    0: ERROR: insert or update on table \"tasks\" \
                        violates foreign key constraint \"tasks_assignee_id_fkey\"\n    1: io";
        assert_eq!(rejection(numbered).unwrap().code, "23503");
        let unnamed =
            "Error { kind: Db, cause: Some(DbError { code: SqlState(Other(\"XX123\")) }) }";
        assert_eq!(rejection(unnamed).unwrap().code, "XX123");
    }

    #[test]
    fn texts_without_a_server_error_are_not_rejections() {
        for text in [
            "connection closed",
            "error deserializing column 0: cannot convert between the Rust type `x` and the Postgres type `timestamptz`",
            "query result exceeds limit of 134217728 bytes",
            "db error: ERROR: syntax error at or near \"SELEC\"",
            "db error\n\nCaused by:\n    ERROR: syntax error at or near \"SELEC\"",
            "db error",
            "not a db error\n\nCaused by:\n    ERROR: duplicate key value violates unique constraint \"k\"",
            "",
        ] {
            assert_eq!(rejection(text), None, "{text}");
        }
    }
}
