//! When two emails are the same person: the expression of the `users`
//! unique index (migration 0002), NFC-normalised and lower-cased under ICU's
//! root collation. Everything that compares or keys on an email uses this
//! one expression, so `josé` typed as é or as e + U+0301, in any case, is
//! one account *and* one throttle counter.

/// The key of the SQL text expression `expr` (a column or a parameter).
pub fn key_sql(expr: &str) -> String {
    format!("lower(normalize({expr}, NFC) COLLATE \"und-x-icu\")")
}

/// `column` and the parameter `param` (an email as typed, trimmed here)
/// are the same email; matches the unique index, so the index is used.
pub fn same_sql(column: &str, param: usize) -> String {
    format!(
        "{} = {}",
        key_sql(column),
        key_sql(&format!("trim(${param}::text)"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_unique_indexs_expression() {
        let migration = include_str!("../../../migrations/0002_email_key_nfc_casefold.sql");
        assert!(migration.contains(&format!("(({}))", key_sql("email"))));
        assert_eq!(
            same_sql("u.email", 1),
            "lower(normalize(u.email, NFC) COLLATE \"und-x-icu\") \
             = lower(normalize(trim($1::text), NFC) COLLATE \"und-x-icu\")"
        );
    }
}
