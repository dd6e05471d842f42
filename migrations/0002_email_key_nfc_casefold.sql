-- One person, one email. 0001's unique index compares lower(email) under the
-- database's default collation, which in a C-locale cluster folds only ASCII
-- letters, and never equates the NFC and NFD spellings of one address
-- ('josé' typed as é or as e + U+0301). user-service now stores emails in NFC;
-- this index compares them normalised and case-folded with ICU's root
-- collation, so the answer does not depend on how the cluster was initialised.
-- If existing rows already collide under the new key, creating the index fails
-- and the migration stops (nothing changes): merge those users first.
CREATE UNIQUE INDEX users_email_key ON users ((lower(normalize(email, NFC) COLLATE "und-x-icu")));
DROP INDEX users_email_lower_key;
