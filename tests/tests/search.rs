//! Search (issue 22): `GET /tasks?q=` finds tasks by the words of their
//! title, description and comments, best first, forgiving typos and
//! finishing prefixes, combinable with the board's filters; each hit says
//! what matched as fragments (`{"text", "match"}`), never as HTML; a bad
//! query is a 422 naming `q`.

use api_tests::team::Team;
use api_tests::{body, error_fields, id};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A task for the member, by the admin.
async fn task(team: &Team, title: &str, description: Option<&str>) -> Value {
    let new = json!({"title": title, "description": description, "assignee_id": team.member_id});
    let created = team.as_admin(Method::POST, "/api/tasks", Some(&new)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    body(created).await
}

async fn comment(team: &Team, task: &Value, text: &str) -> Value {
    let path = format!("/api/tasks/{}/comments", id(task));
    let response = team
        .as_member(Method::POST, &path, Some(&json!({"body": text})))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    body(response).await
}

/// The hits for `query` (already URL-encoded), and `X-Total-Count`.
async fn search(team: &Team, query: &str) -> (Vec<Value>, i64) {
    let path = format!("/api/tasks?{query}");
    let response = team.as_member(Method::GET, &path, None).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let total = response.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let hits = body(response).await.as_array().unwrap().clone();
    (hits, total)
}

fn titles(hits: &[Value]) -> Vec<&str> {
    hits.iter().map(|h| h["title"].as_str().unwrap()).collect()
}

/// Fragments as text, the matches in brackets; and that they are data.
fn marked(fragments: &Value) -> String {
    fragments
        .as_array()
        .expect("fragments[]")
        .iter()
        .map(|f| {
            let text = f["text"].as_str().unwrap();
            match f["match"].as_bool().unwrap() {
                true => format!("[{text}]"),
                false => text.to_owned(),
            }
        })
        .collect()
}

#[tokio::test]
async fn words_in_titles_descriptions_and_comments_are_found_best_first() {
    let team = Team::new().await;
    let in_comment = task(&team, "Quarterly numbers", None).await;
    let said = comment(&team, &in_comment, "The invoice template needs a new logo").await;
    task(&team, "Printer jam", Some("The invoice printer jams on A4")).await;
    task(&team, "Send the invoice to ACME", None).await;
    task(&team, "Unrelated chore", Some("Nothing to see")).await;

    let (hits, total) = search(&team, "q=invoice").await;
    assert_eq!(total, 3);
    // Title before description before comment (their weights).
    assert_eq!(
        titles(&hits),
        [
            "Send the invoice to ACME",
            "Printer jam",
            "Quarterly numbers"
        ]
    );
    let ranks: Vec<f64> = hits
        .iter()
        .map(|h| h["search"]["rank"].as_f64().unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "{ranks:?}");

    // Hits are tasks (the board's cards), with what matched.
    let [title_hit, description_hit, comment_hit] = &hits[..] else {
        panic!("{hits:?}")
    };
    assert_eq!(title_hit["assignee_id"], team.member_id.as_str());
    assert_eq!(
        marked(&title_hit["search"]["title"]),
        "Send the [invoice] to ACME"
    );
    assert!(title_hit["search"]["description"].is_null());
    assert!(title_hit["search"]["comment"].is_null());
    assert_eq!(
        marked(&description_hit["search"]["description"]),
        "The [invoice] printer jams on A4"
    );
    assert_eq!(marked(&description_hit["search"]["title"]), "Printer jam");
    let matched = &comment_hit["search"]["comment"];
    assert_eq!(matched["id"], said["id"]);
    assert_eq!(
        marked(&matched["fragments"]),
        "The [invoice] template needs a new logo"
    );
    assert_eq!(comment_hit["comment_count"], 1);

    // Every word must match, in any of the task's texts.
    let (hits, _) = search(&team, "q=invoice%20printer").await;
    assert_eq!(titles(&hits), ["Printer jam"]);
    let (hits, total) = search(&team, "q=invoice%20zebra").await;
    assert!(hits.is_empty());
    assert_eq!(total, 0);
}

#[tokio::test]
async fn typos_and_prefixes_still_find_the_word() {
    let team = Team::new().await;
    task(&team, "Design the landing page", None).await;
    task(&team, "Plan the deployment", Some("Roll out on Friday")).await;
    task(&team, "Water the plants", None).await;

    // A prefix, whatever its case.
    let (hits, _) = search(&team, "q=deplo").await;
    assert_eq!(titles(&hits), ["Plan the deployment"]);
    assert_eq!(marked(&hits[0]["search"]["title"]), "Plan the [deployment]");
    let (hits, _) = search(&team, "q=DEPLOY").await;
    assert_eq!(titles(&hits), ["Plan the deployment"]);

    // A typo: the vocabulary's nearest word, marked where it stands.
    let (hits, _) = search(&team, "q=desing").await;
    assert_eq!(titles(&hits), ["Design the landing page"]);
    assert_eq!(
        marked(&hits[0]["search"]["title"]),
        "[Design] the landing page"
    );
    let (hits, _) = search(&team, "q=lnading%20desing").await;
    assert_eq!(titles(&hits), ["Design the landing page"]);

    // A comment's words join the vocabulary too, and so do edits.
    let plants = search(&team, "q=plants").await.0;
    comment(&team, &plants[0], "Use the rainwater barrel").await;
    let (hits, _) = search(&team, "q=rainwatr").await;
    assert_eq!(titles(&hits), ["Water the plants"]);
    let path = format!("/api/tasks/{}", id(&plants[0]));
    let renamed = team
        .as_admin(
            Method::PATCH,
            &path,
            Some(&json!({"title": "Water the orchids"})),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let (hits, _) = search(&team, "q=orchdis").await;
    assert_eq!(titles(&hits), ["Water the orchids"]);
    let (hits, _) = search(&team, "q=plants").await;
    assert!(hits.is_empty(), "{hits:?}");
}

/// A prefix that begins few words is searched as those words (from the
/// vocabulary), one that begins many as a prefix: both find every word it
/// begins, long ones and two-letter ones included.
#[tokio::test]
async fn a_prefix_finds_every_word_it_begins() {
    let team = Team::new().await;
    // 40 words that "zorb" begins (more than are searched one by one), 26
    // of them begun by "zorba" and 14 by "zorbb" (few enough).
    let suffixes: Vec<String> = ('a'..='b')
        .flat_map(|first| ('a'..='z').map(move |second| format!("{first}{second}")))
        .take(40)
        .collect();
    for suffix in &suffixes {
        task(&team, &format!("Check zorb{suffix}"), None).await;
    }
    let long = "pneumonoultramicroscopicsilicovolcanoconiosisdetector";
    assert!(long.len() > 40);
    task(&team, &format!("Calibrate the {long}"), None).await;
    task(&team, "Ship qz build", None).await;

    for (query, expected) in [("zorb", 40), ("zorba", 26), ("zorbb", 14), ("zorbbn", 1)] {
        let (hits, total) = search(&team, &format!("q={query}&limit=100")).await;
        assert_eq!((hits.len(), total), (expected, expected as i64), "{query}");
        assert!(
            titles(&hits)
                .iter()
                .all(|t| t.starts_with(&format!("Check {query}"))),
            "{query}: {:?}",
            titles(&hits)
        );
    }
    let (hits, _) = search(&team, "q=pneumono").await;
    assert_eq!(titles(&hits), [format!("Calibrate the {long}")]);
    // A word of two letters is in no vocabulary: a letter still begins it.
    for query in ["q", "qz"] {
        let (hits, _) = search(&team, &format!("q={query}")).await;
        assert_eq!(titles(&hits), ["Ship qz build"], "{query}");
    }
}

#[tokio::test]
async fn search_combines_with_the_filters_and_pages() {
    let team = Team::new().await;
    let label = team
        .as_admin(
            Method::POST,
            "/api/labels",
            Some(&json!({"name": "urgent", "color": "red"})),
        )
        .await;
    let label = body(label).await;
    let mine = task(&team, "Fix the login form", None).await;
    let done = task(&team, "Fix the logout link", None).await;
    let path = format!("/api/tasks/{}", id(&done));
    let patch = json!({"status": "done", "label_ids": [id(&label)]});
    let response = team.as_admin(Method::PATCH, &path, Some(&patch)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let new = json!({"title": "Fix the admin login", "assignee_id": team.admin_id});
    let theirs = team.as_admin(Method::POST, "/api/tasks", Some(&new)).await;
    assert_eq!(theirs.status(), StatusCode::CREATED);

    let (hits, total) = search(&team, "q=fix").await;
    assert_eq!(total, 3);
    assert_eq!(hits.len(), 3);
    let (hits, _) = search(&team, &format!("q=fix&assignee_id={}", team.member_id)).await;
    let mut found = titles(&hits);
    found.sort_unstable();
    assert_eq!(found, ["Fix the login form", "Fix the logout link"]);
    let (hits, _) = search(&team, "q=fix&status=done").await;
    assert_eq!(titles(&hits), ["Fix the logout link"]);
    let (hits, _) = search(&team, &format!("q=fix&label={}", id(&label))).await;
    assert_eq!(titles(&hits), ["Fix the logout link"]);
    let query = format!("q=login&status=todo&assignee_id={}", team.member_id);
    let (hits, _) = search(&team, &query).await;
    assert_eq!(titles(&hits), ["Fix the login form"]);
    assert_eq!(hits[0]["id"], mine["id"]);

    // Pages of the same order; past the end, the total still.
    let (all, _) = search(&team, "q=fix").await;
    let (first, _) = search(&team, "q=fix&limit=2").await;
    let (rest, total) = search(&team, "q=fix&limit=2&offset=2").await;
    assert_eq!(titles(&first), titles(&all)[..2]);
    assert_eq!(titles(&rest), titles(&all)[2..]);
    assert_eq!(total, 3);
    let (past, total) = search(&team, "q=fix&offset=10").await;
    assert!(past.is_empty());
    assert_eq!(total, 3);
}

#[tokio::test]
async fn text_that_looks_like_markup_or_syntax_is_only_text() {
    let team = Team::new().await;
    task(&team, "<b>Bold</b> & 'quoted' \\ move", None).await;

    let (hits, _) = search(&team, "q=%3Cb%3Ebold").await;
    // Fragments keep the text exactly; nothing is escaped or interpreted.
    assert_eq!(
        marked(&hits[0]["search"]["title"]),
        "<[b]>[Bold]</[b]> & 'quoted' \\ move"
    );
    // tsquery's operators and quotes are separators, not syntax errors.
    for query in [
        "%27quoted%27",
        "quoted%3A*%20%26%20!",
        "%5C%27quoted",
        "b%20%7C%20bold",
    ] {
        let (hits, _) = search(&team, &format!("q={query}")).await;
        assert_eq!(hits.len(), 1, "{query}");
    }
}

#[tokio::test]
async fn a_bad_query_is_a_422_naming_q() {
    let team = Team::new().await;
    let long = "x".repeat(201);
    let many = "q=a+b+c+d+e+f+g+h+i";
    for query in [
        "q=",
        "q=%20%20",
        "q=!!!",
        &format!("q={long}"),
        many,
        "q=a%00b",
    ] {
        let path = format!("/api/tasks?{query}");
        let response = team.as_member(Method::GET, &path, None).await;
        assert_eq!(error_fields(response).await, ["q"], "{query}");
    }
    let twice = team
        .as_member(Method::GET, "/api/tasks?q=a&q=b", None)
        .await;
    assert_eq!(error_fields(twice).await, ["q"]);
}
