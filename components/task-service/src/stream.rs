//! Reading a JSON document a member and an array element at a time, from
//! a [`Source`]: the importers' passes (json_import.rs, trello.rs). Nothing
//! here keeps what it reads; the importers decide what to keep.

use std::fmt;
use std::io::BufReader;
use std::marker::PhantomData;

use mth_shared::ApiError;
use mth_shared::db::Db;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::transfer::Problems;
use crate::uploads::Source;

/// What reads an object's members: each key as it comes, its value read
/// (`map.next_value…`) or skipped (`map.next_value::<IgnoredAny>()`).
pub trait Members {
    fn member<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error>;

    /// After the last member: what a missing one means.
    fn end<E: de::Error>(&mut self) -> Result<(), E> {
        Ok(())
    }
}

/// An object read by a [`Members`].
pub struct Object<'m, M>(pub &'m mut M);

impl<'de, M: Members> DeserializeSeed<'de> for Object<'_, M> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de, M: Members> Visitor<'de> for Object<'_, M> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            self.0.member(&key, &mut map)?;
        }
        self.0.end()
    }
}

/// An array whose elements are read as `T` and handed, with their index,
/// to `each`, one at a time; `each` answering `false` ends the read (the
/// caller knows why).
pub struct Each<T, F> {
    each: F,
    item: PhantomData<T>,
}

impl<T, F: FnMut(usize, T) -> bool> Each<T, F> {
    pub fn new(each: F) -> Self {
        Each {
            each,
            item: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(usize, T) -> bool> DeserializeSeed<'de> for Each<T, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(usize, T) -> bool> Visitor<'de> for Each<T, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(x) = seq.next_element::<T>()? {
            if !(self.each)(i, x) {
                return Err(de::Error::custom("the import stopped"));
            }
            i += 1;
        }
        Ok(())
    }
}

/// One pass over the document in `source` (read on `db`), by `members`. A
/// document that is not JSON of the expected shape is a 422 naming where
/// (`tasks[3].status`), as `what` ("a MicroTaskHub export"); a failure of
/// the database while reading is itself.
pub fn read<M: Members>(
    db: &Db,
    source: Source<'_>,
    members: &mut M,
    what: &str,
) -> Result<(), ApiError> {
    let mut reader = source.open(db);
    let result = {
        // Buffered: serde_json reads a `Read` a byte at a time.
        let buffered = BufReader::with_capacity(64 * 1024, &mut reader);
        let mut de = serde_json::Deserializer::from_reader(buffered);
        let mut track = serde_path_to_error::Track::new();
        let read = Object(members)
            .deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track))
            .and_then(|()| de.end());
        read.map_err(|e| (e, track.path().to_string()))
    };
    let Err((error, at)) = result else {
        return Ok(());
    };
    if let Some(failed) = reader.take_error() {
        return Err(failed);
    }
    let mut problems = Problems::default();
    let at = if at == "." { "the file".to_owned() } else { at };
    problems.add(at, error.to_string());
    problems.finish(what)
}

#[cfg(test)]
mod tests {
    use serde::de::IgnoredAny;

    use super::*;

    /// Keeps `tasks` (an array of numbers, read element by element, up to
    /// `limit` of them) and the keys it saw; skips every other member;
    /// refuses a document without `tasks`.
    #[derive(Default)]
    struct Doc {
        keys: Vec<String>,
        tasks: Vec<(usize, u32)>,
        limit: usize,
        ended: bool,
    }

    impl Doc {
        fn reading(limit: usize) -> Self {
            Doc {
                limit,
                ..Doc::default()
            }
        }
    }

    impl Members for Doc {
        fn member<'de, A: MapAccess<'de>>(
            &mut self,
            key: &str,
            map: &mut A,
        ) -> Result<(), A::Error> {
            self.keys.push(key.to_owned());
            if key == "tasks" {
                let (tasks, limit) = (&mut self.tasks, self.limit);
                map.next_value_seed(Each::new(|i, task: u32| {
                    tasks.push((i, task));
                    tasks.len() < limit
                }))
            } else {
                map.next_value::<IgnoredAny>().map(|_| ())
            }
        }

        fn end<E: de::Error>(&mut self) -> Result<(), E> {
            self.ended = true;
            if self.keys.iter().any(|k| k == "tasks") {
                Ok(())
            } else {
                Err(E::missing_field("tasks"))
            }
        }
    }

    /// Reads `json` into `doc` as [`read`] does, with the path of a failure.
    fn parse(json: &str, doc: &mut Doc) -> Result<(), (String, String)> {
        let mut de = serde_json::Deserializer::from_str(json);
        let mut track = serde_path_to_error::Track::new();
        Object(doc)
            .deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track))
            .and_then(|()| de.end())
            .map_err(|e| (track.path().to_string(), e.to_string()))
    }

    #[test]
    fn members_come_in_order_and_elements_with_their_index() {
        let mut doc = Doc::reading(10);
        parse(
            r#"{"version": 1, "tasks": [7, 8, 9], "extra": {"a": [1, 2]}}"#,
            &mut doc,
        )
        .unwrap();
        assert_eq!(doc.keys, ["version", "tasks", "extra"]);
        assert_eq!(doc.tasks, [(0, 7), (1, 8), (2, 9)]);
        assert!(doc.ended);
    }

    #[test]
    fn an_element_refused_stops_the_read_there() {
        let mut doc = Doc::reading(2);
        let (at, error) = parse(r#"{"tasks": [1, 2, 3, 4], "after": 0}"#, &mut doc).unwrap_err();
        assert_eq!(doc.tasks, [(0, 1), (1, 2)], "nothing read past the stop");
        assert_eq!(doc.keys, ["tasks"]);
        assert!(!doc.ended);
        assert_eq!(at, "tasks");
        assert!(error.contains("the import stopped"), "{error}");
    }

    #[test]
    fn a_failure_names_where_it_is() {
        let mut doc = Doc::reading(10);
        let (at, error) = parse(r#"{"tasks": [1, "two", 3]}"#, &mut doc).unwrap_err();
        assert_eq!(at, "tasks[1]");
        assert!(error.contains("expected u32"), "{error}");

        for (json, expected) in [
            (r#"{"tasks": {"a": 1}}"#, "a list"),
            (r#"[1, 2]"#, "a JSON object"),
        ] {
            let (_, error) = parse(json, &mut Doc::default()).unwrap_err();
            assert!(error.contains(expected), "{json}: {error}");
        }
    }

    #[test]
    fn what_a_missing_member_means_is_the_readers_to_say() {
        let mut doc = Doc::default();
        let (at, error) = parse(r#"{"people": []}"#, &mut doc).unwrap_err();
        assert!(doc.ended);
        assert_eq!(at, ".");
        assert!(error.contains("missing field `tasks`"), "{error}");
        // Trailing bytes after the document are refused too.
        let (_, error) = parse(r#"{"tasks": []} {}"#, &mut Doc::default()).unwrap_err();
        assert!(error.contains("trailing characters"), "{error}");
    }
}
