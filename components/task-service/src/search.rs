//! `GET /tasks?q=`: tasks found by the words of their title, description
//! and comments (migration 0013_task_search), best first, each with what
//! matched cut into fragments, the matching words marked — as data, so the
//! UI builds text nodes and never parses HTML.
//!
//! Each word of the query matches as a prefix ("deplo" finds
//! "deployment"), widened to the vocabulary's words most like it when it is
//! misspelt ("desing" finds "design", through pg_trgm); a task matches when
//! its title and description, or one of its comments, hold every word.

use mth_shared::ApiError;
use mth_shared::db::{self, Db, FromRow, Page, PageQuery, Row};
use mth_shared::query;
use serde::Serialize;
use spin_sdk::pg4::ParameterValue;
use uuid::Uuid;

use crate::comments;
use crate::domain::Task;
use crate::store::{self, Filter};

/// What a person typed, as the words searched for. Words are the runs of
/// letters and digits; everything else (punctuation, quotes, operators)
/// only separates them, so no input is a syntax error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    words: Vec<String>,
}

impl SearchQuery {
    /// Longer input is a mistake (or an attack), not a search.
    pub const MAX_CHARS: usize = 200;
    /// More words narrow nothing a person would notice, and each costs a
    /// vocabulary lookup.
    pub const MAX_WORDS: usize = 8;
    /// A longer "word" is a hash or a URL, pasted: not worth a search.
    pub const MAX_WORD_CHARS: usize = 40;

    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        if raw.chars().any(char::is_control) {
            return Err("must not contain control characters".to_owned());
        }
        let mut words: Vec<String> = Vec::new();
        for word in split_words(raw).map(|(_, w)| w.to_owned()) {
            if word.chars().count() > Self::MAX_WORD_CHARS {
                return Err(format!(
                    "has a word longer than {} characters",
                    Self::MAX_WORD_CHARS
                ));
            }
            if !words.contains(&word) {
                words.push(word);
            }
        }
        match words.len() {
            0 => Err("must contain a word (letters or digits)".to_owned()),
            n if n > Self::MAX_WORDS => Err(format!("must have at most {} words", Self::MAX_WORDS)),
            _ => Ok(Self { words }),
        }
    }

    fn param(&self) -> ParameterValue {
        ParameterValue::ArrayStr(self.words.iter().map(|w| Some(w.clone())).collect())
    }
}

/// The runs of letters and digits of `text`, with their byte offsets.
fn split_words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(move |w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
}

/// At most this many tasks that match by their own text, and as many by a
/// comment, are ranked: a word in most tasks ("the") would otherwise rank
/// the whole table on every keystroke. Below it (any query of two or three
/// telling words) the ranking is exact; above it, another word narrows.
const RANKED: i64 = 200;

/// A word shorter than this is never taken for a typo: two or three
/// letters are alike to too many words.
const MIN_TYPO_CHARS: i32 = 4;

/// A prefix that begins at most this many words of the vocabulary is
/// searched as itself and those words: the index finds a list of whole
/// words faster (by a fifth with 23 words, by half with one) than a prefix,
/// which it must merge from every word it begins, in a bitmap. A prefix
/// that begins more stays a prefix, and so does a single letter (the
/// vocabulary has no words of two letters, which it might begin).
const MAX_EXPANSION: i32 = 32;

/// The query's words as a tsquery, and the words it matches (for marking
/// them). Each word matches as a prefix: as itself and the vocabulary's
/// words it begins (`^@`, through search_words' SP-GiST index) when they
/// are few (see [`MAX_EXPANSION`]), else as a tsquery prefix (`:*`); the
/// vocabulary holds every word of 3 characters or more (0015). A word
/// of [`MIN_TYPO_CHARS`] or more that begins no word of the vocabulary is a
/// typo, and up to 5 vocabulary words at least 0.3 alike by trigrams
/// (pg_trgm's `%`, through its trigram index) stand for it as well.
/// Lexemes are quoted for the tsquery input (`'` doubled, `\` escaped).
/// Also each word's alternatives on their own (`groups`), which the search
/// matches with (see [`matches`]). Parameters: the words ($1),
/// [`MIN_TYPO_CHARS`] ($2), [`MAX_EXPANSION`] ($3).
const RESOLVE: &str = "WITH words AS (\
       SELECT t.ord, lower(t.word) AS term, \
         ARRAY(SELECT w.word FROM search_words w WHERE w.word ^@ lower(t.word) LIMIT $3 + 1) AS begun \
       FROM unnest($1::text[]) WITH ORDINALITY AS t(word, ord)), \
     terms AS (\
       SELECT ord, term, \
         CASE WHEN char_length(term) < 2 OR cardinality(begun) > $3 \
             THEN ARRAY[search_lexeme(term) || ':*'] \
           ELSE ARRAY(SELECT DISTINCT search_lexeme(w) FROM unnest(term || begun) w) END AS lexemes, \
         CASE WHEN char_length(term) < $2 OR cardinality(begun) > 0 THEN '{}'::text[] \
           ELSE ARRAY(SELECT w.word FROM search_words w WHERE w.word % term \
                      ORDER BY similarity(w.word, term) DESC, w.word LIMIT 5) END AS alike \
       FROM words) \
     SELECT string_agg('(' || array_to_string(\
           lexemes || ARRAY(SELECT search_lexeme(a) FROM unnest(alike) a), ' | ') || ')', \
           ' & ' ORDER BY ord)::tsquery::text AS query, \
       json_agg(ARRAY(SELECT x::tsquery::text FROM unnest(\
           lexemes || ARRAY(SELECT search_lexeme(a) FROM unnest(alike) a)) x) ORDER BY ord)::text AS groups, \
       json_build_object('prefixes', array_agg(term), \
         'words', (SELECT COALESCE(array_agg(a), '{}') FROM terms, unnest(alike) a))::text AS words \
     FROM terms";

/// What [`RESOLVE`] made of a query.
struct Resolved {
    /// The tsquery, in its text form: a parameter of the search, so that
    /// the planner sees it and knows how common its words are (a word in a
    /// third of the tasks is found faster by reading the table until
    /// enough match than through the index's list of all of them).
    tsquery: String,
    /// Per word of the query, its alternatives, each a tsquery of one
    /// lexeme (or prefix): what [`matches`] looks up.
    groups: Vec<Vec<String>>,
    matched: Matched,
}

impl FromRow for Resolved {
    fn from_row(mut row: Row<'_>) -> Result<Self, ApiError> {
        let unexpected = |e| ApiError::internal("Unexpected search words.").caused_by(e);
        let matched = serde_json::from_str(&row.take_text("words")?).map_err(unexpected)?;
        let groups = serde_json::from_str(&row.take_text("groups")?).map_err(unexpected)?;
        Ok(Self {
            tsquery: row.take_text("query")?,
            groups,
            matched,
        })
    }
}

/// SQL true when the search document `doc` holds, for each word of the
/// query, one of its alternatives: the tsquery's own condition, written as
/// one `@@ ANY` per word, parameters `$first`… (text arrays, one per word).
/// GIN answers `@@ ANY` with one scan per alternative, each checking a row
/// against one lexeme; a tsquery of many alternatives makes it check every
/// row found against all of them. A 4-letter prefix that begins 24 words
/// found its 200 comments in 6.6 ms that way and in 2.5 ms this way
/// (docs/benchmarks.md, Search). The planner still sees each lexeme, and so
/// how common it is.
fn matches(doc: &str, words: usize, first: usize) -> String {
    (first..first + words)
        .map(|n| format!("{doc} @@ ANY(${n}::text[]::tsquery[])"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn resolve(db: &Db, query: &SearchQuery) -> Result<Resolved, ApiError> {
    let params = [query.param(), MIN_TYPO_CHARS.into(), MAX_EXPANSION.into()];
    db::first(db.query(RESOLVE, &params)?)?
        .ok_or_else(|| ApiError::internal("The search words resolved to nothing."))
}

/// The matching tasks with their rank (and best matching comment), in
/// `ranked`. Parameters: the list filter's ($1–$8), the tsquery ($9), how
/// many to rank of each kind ($10), each of the `words`' alternatives
/// ($11…, see [`matches`]). The tsquery is spelt out in each use,
/// not put in a CTE: the planner would not look into one that is used
/// twice.
fn ranked_ctes(words: usize) -> String {
    format!(
        "WITH hits AS (\
           SELECT t.id, t.created_at, ts_rank(t.search_document, $9::text::tsquery) AS rank, \
             NULL::uuid AS comment_id \
           FROM (SELECT tasks.id, tasks.created_at, tasks.search_document FROM tasks \
                 WHERE {task_matches} AND {filter} \
                 LIMIT $10) AS t \
           UNION ALL {comment_hits}), \
         ranked AS (SELECT id, created_at, max(rank) AS rank, \
           (array_agg(comment_id ORDER BY rank DESC) FILTER (WHERE comment_id IS NOT NULL))[1] AS comment_id \
           FROM hits GROUP BY id, created_at)",
        filter = store::FILTER,
        task_matches = matches("tasks.search_document", words, 11),
        comment_hits = comments::search_hits(store::FILTER, |doc| matches(doc, words, 11), 9, 10),
    )
}

/// A page of the tasks that match `query` and `filter`, best first (then
/// newest), and how many match in all (of those ranked: see [`RANKED`]).
pub fn find(
    db: &Db,
    query: &SearchQuery,
    filter: &Filter,
    page: query::Page,
) -> Result<Page<Hit>, ApiError> {
    let Resolved {
        tsquery,
        groups,
        matched,
    } = resolve(db, query)?;
    let ctes = ranked_ctes(groups.len());
    let mut count_params = store::filter_params(filter).to_vec();
    count_params.extend([tsquery.into(), RANKED.into()]);
    count_params.extend(groups.into_iter().map(|alternatives| {
        ParameterValue::ArrayStr(alternatives.into_iter().map(Some).collect())
    }));
    let (limit, offset) = (count_params.len() + 1, count_params.len() + 2);
    let mut params = count_params.clone();
    params.extend([page.limit.into(), page.offset.into()]);
    let found: Page<Found> = db.page(PageQuery {
        // The page is cut first: its tasks' columns and best comments are
        // read for its rows only.
        select: &format!(
            "{ctes}, page AS (SELECT id, rank, created_at, comment_id, count(*) OVER () AS total \
               FROM ranked ORDER BY rank DESC, created_at DESC, id DESC LIMIT ${limit} OFFSET ${offset}) \
             SELECT {}, page.rank::float8 AS search_rank, {}, page.total \
             FROM page JOIN tasks ON tasks.id = page.id \
             ORDER BY page.rank DESC, page.created_at DESC, page.id DESC",
            store::task_columns(),
            comments::matched("page.comment_id"),
        ),
        params: &params,
        count: &format!("{ctes} SELECT count(*) AS total FROM ranked"),
        count_params: &count_params,
    })?;
    Ok(Page {
        items: found
            .items
            .into_iter()
            .map(|found| found.explained(&matched))
            .collect(),
        total: found.total,
    })
}

/// A row of [`find`]'s statement: a task, its rank and its best matching
/// comment, before the matched words are marked in them.
struct Found {
    task: Task,
    rank: f64,
    comment: Option<(Uuid, String)>,
}

impl FromRow for Found {
    fn from_row(mut row: Row<'_>) -> Result<Self, ApiError> {
        let rank: f64 = row.get("search_rank")?;
        let comment_id: Option<Uuid> = row.get("search_comment_id")?;
        let comment = row.take_opt_text("search_comment")?;
        Ok(Self {
            task: Task::from_row(row)?,
            rank,
            comment: comment_id.zip(comment),
        })
    }
}

impl Found {
    fn explained(self, matched: &Matched) -> Hit {
        let Found {
            task,
            rank,
            comment,
        } = self;
        let comment = comment.and_then(|(id, body)| {
            matched
                .excerpt(&body)
                .map(|fragments| MatchedComment { id, fragments })
        });
        Hit {
            search: Match {
                rank,
                title: matched.fragments(&task.title),
                description: task.description.as_deref().and_then(|d| matched.excerpt(d)),
                comment,
            },
            task,
        }
    }
}

/// One task found, and why.
#[derive(Debug, Serialize)]
pub struct Hit {
    #[serde(flatten)]
    pub task: Task,
    pub search: Match,
}

/// What matched: the title always (whole), the description and the best
/// matching comment when they hold a match (an excerpt around it).
#[derive(Debug, Serialize, PartialEq)]
pub struct Match {
    /// Higher is better (PostgreSQL's ts_rank: title words weigh most, then
    /// the description's, then the comments').
    pub rank: f64,
    pub title: Vec<Fragment>,
    pub description: Option<Vec<Fragment>>,
    pub comment: Option<MatchedComment>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct MatchedComment {
    pub id: Uuid,
    pub fragments: Vec<Fragment>,
}

/// A piece of text, and whether it is a word that matched.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Fragment {
    pub text: String,
    #[serde(rename = "match")]
    pub is_match: bool,
}

/// The words the database matched: each query word as a prefix, and the
/// vocabulary's words it was widened to ([`RESOLVE`]'s `words`).
#[derive(Debug, Default, serde::Deserialize)]
struct Matched {
    prefixes: Vec<String>,
    words: Vec<String>,
}

impl Matched {
    fn is_match(&self, word: &str) -> bool {
        let word = word.to_lowercase();
        self.prefixes.iter().any(|p| word.starts_with(p.as_str())) || self.words.contains(&word)
    }

    /// `text` cut into fragments, the matching words marked.
    fn fragments(&self, text: &str) -> Vec<Fragment> {
        let mut out: Vec<Fragment> = Vec::new();
        let mut push = |text: &str, is_match: bool| match out.last_mut() {
            Some(last) if !last.is_match && !is_match => last.text.push_str(text),
            _ if text.is_empty() => {}
            _ => out.push(Fragment {
                text: text.to_owned(),
                is_match,
            }),
        };
        let mut at = 0;
        for (start, word) in split_words(text) {
            if self.is_match(word) {
                push(&text[at..start], false);
                push(word, true);
                at = start + word.len();
            }
        }
        push(&text[at..], false);
        out
    }

    /// An excerpt of `text` around its first match (about [`EXCERPT`]
    /// characters, cut at spaces, "…" where cut), as fragments; `None`
    /// when nothing in it matches.
    fn excerpt(&self, text: &str) -> Option<Vec<Fragment>> {
        let (first, _) = split_words(text).find(|(_, w)| self.is_match(w))?;
        let start = cut_before(text, first, EXCERPT / 4);
        let end = cut_after(text, start, EXCERPT);
        let mut fragments = self.fragments(&text[start..end]);
        if start > 0 {
            fragments.insert(0, ellipsis());
        }
        if end < text.len() {
            fragments.push(ellipsis());
        }
        Some(fragments)
    }
}

/// About how many characters an excerpt shows.
const EXCERPT: usize = 160;

fn ellipsis() -> Fragment {
    Fragment {
        text: "…".to_owned(),
        is_match: false,
    }
}

/// A byte offset at most `chars` characters before `at`, at the start of a
/// word when there is a space to cut at.
fn cut_before(text: &str, at: usize, chars: usize) -> usize {
    let before = &text[..at];
    let Some((start, _)) = before.char_indices().rev().nth(chars) else {
        return 0;
    };
    match before[start..].find(char::is_whitespace) {
        Some(space) => start + space + 1,
        None => start,
    }
}

/// A byte offset at most `chars` characters after `from`, at the end of a
/// word when there is a space to cut at.
fn cut_after(text: &str, from: usize, chars: usize) -> usize {
    let after = &text[from..];
    let Some((end, _)) = after.char_indices().nth(chars) else {
        return text.len();
    };
    match after[..end].rfind(char::is_whitespace) {
        Some(space) if space > 0 => from + space,
        _ => from + end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_its_words() {
        let q = SearchQuery::parse("  Deploy, the \"API\" -- deploy! été ").unwrap();
        assert_eq!(q.words, ["Deploy", "the", "API", "deploy", "été"]);
        // Operators of tsquery syntax are only separators.
        let q = SearchQuery::parse("a & !b | c:* 'd'").unwrap();
        assert_eq!(q.words, ["a", "b", "c", "d"]);
        for bad in [
            "",
            "   ",
            "!!! ---",
            "tab\there",
            &"x".repeat(SearchQuery::MAX_CHARS + 1),
            &"x".repeat(SearchQuery::MAX_WORD_CHARS + 1),
            "a b c d e f g h i",
        ] {
            assert!(SearchQuery::parse(bad).is_err(), "{bad:?}");
        }
        assert!(SearchQuery::parse("a b c d e f g h").is_ok());
        assert!(SearchQuery::parse("a a a a a a a a a").is_ok());
    }

    #[test]
    fn each_word_is_matched_by_any_of_its_alternatives() {
        assert_eq!(
            matches("c.doc", 2, 11),
            "c.doc @@ ANY($11::text[]::tsquery[]) AND c.doc @@ ANY($12::text[]::tsquery[])"
        );
    }

    fn matched(prefixes: &[&str], words: &[&str]) -> Matched {
        Matched {
            prefixes: prefixes.iter().map(|s| s.to_string()).collect(),
            words: words.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn marked(fragments: &[Fragment]) -> String {
        fragments
            .iter()
            .map(|f| {
                if f.is_match {
                    format!("[{}]", f.text)
                } else {
                    f.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn fragments_mark_prefixes_and_widened_words() {
        let m = matched(&["deplo", "desing"], &["design"]);
        let f = m.fragments("Design the Deployment <b>now</b>, redeploy");
        assert_eq!(marked(&f), "[Design] the [Deployment] <b>now</b>, redeploy");
        assert_eq!(m.fragments("nothing here").len(), 1);
        assert!(m.fragments("").is_empty());
    }

    #[test]
    fn excerpts_cut_around_the_first_match() {
        let m = matched(&["needle"], &[]);
        let long = format!("{} needle {}", "hay ".repeat(100), "straw ".repeat(100));
        let f = m.excerpt(&long).unwrap();
        let text = marked(&f);
        assert!(
            text.starts_with("…hay") && text.ends_with("straw…"),
            "{text}"
        );
        assert!(text.contains("[needle]"));
        assert!(text.chars().count() < EXCERPT + 10, "{text}");
        assert_eq!(marked(&m.excerpt("a needle").unwrap()), "a [needle]");
        assert!(m.excerpt("no match").is_none());
        // Multibyte text is cut on character boundaries.
        let wide = format!("{}needle{}", "é ".repeat(300), " ü".repeat(300));
        assert!(m.excerpt(&wide).is_some());
    }
}
