//! Identity hardening (issue 20), black-box over HTTP against the real
//! components: the attacks people try first. Distinct clients connect from
//! distinct loopback addresses (127.0.0.2, 127.0.0.3, …), which the host
//! reports as the peer (`spin-client-addr`); time passes by moving rows'
//! timestamps back, never by sleeping.

use api_tests::Client;
use api_tests::team::{MEMBER, PASSWORD, Team};
use api_tests::{TestApp, assert_detail, body, detail, id, session_cookie};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

const WRONG: &str = "wrong guess!!";

/// A browser on its own loopback address, keeping the cookies the app sets
/// (the session's and the device cookie).
struct Browser<'a> {
    app: &'a TestApp,
    client: Client,
    cookies: Vec<(String, String)>,
}

impl<'a> Browser<'a> {
    /// A browser connecting from `127.0.0.<n>`.
    fn at(app: &'a TestApp, n: u8) -> Self {
        Browser {
            app,
            client: app.client_at(n),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        pairs.join("; ")
    }

    fn request(&self, method: Method, path: &str) -> api_tests::RequestBuilder {
        let mut request = self
            .client
            .request(method, self.app.url(path))
            .header("origin", self.app.url(""));
        if !self.cookies.is_empty() {
            request = request.header("cookie", self.cookie_header());
        }
        request
    }

    /// Sends a request and keeps the cookies the answer sets.
    async fn send(&mut self, method: Method, path: &str, json: Option<&Value>) -> Response {
        let mut request = self.request(method, path);
        if let Some(json) = json {
            request = request.json(json);
        }
        let response = request.send().await.unwrap();
        for set in response.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !value.is_empty() {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        response
    }

    async fn sign_in(&mut self, email: &str, password: &str) -> Response {
        let credentials = json!({"email": email, "password": password});
        self.send(Method::POST, "/auth/login", Some(&credentials))
            .await
    }

    fn has_cookie(&self, name: &str) -> bool {
        self.cookies.iter().any(|(n, _)| n == name)
    }

    /// Forgets the session (keeps the device cookie), as after sign-out.
    fn drop_session(&mut self) {
        self.cookies.retain(|(n, _)| !n.contains("session"));
    }
}

/// The member, signed in on a browser of their own at `127.0.0.<n>`.
async fn member_browser(team: &Team, n: u8) -> Browser<'_> {
    let mut browser = Browser::at(&team.app, n);
    let signed_in = browser.sign_in(MEMBER, PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    browser
}

// ---------------------------------------------------------------- last admin

#[tokio::test]
async fn the_last_active_admin_cannot_be_demoted_deactivated_or_deleted() {
    let team = Team::new().await;
    let me = format!("/api/users/{}", team.admin_id);
    for change in [json!({"access": "member"}), json!({"active": false})] {
        let refused = team.as_admin(Method::PATCH, &me, Some(&change)).await;
        assert_detail(refused, StatusCode::CONFLICT, "only active admin").await;
    }
    let refused = team.as_admin(Method::DELETE, &me, None).await;
    assert_detail(refused, StatusCode::CONFLICT, "only active admin").await;
    // Nor through the API with the internal token (a service).
    let path = format!("/users/{}", team.admin_id);
    let refused = team.app.patch(&path, &json!({"access": "member"})).await;
    detail(refused, StatusCode::CONFLICT).await;
    let still = team.as_admin(Method::GET, "/auth/session", None).await;
    assert_eq!(body(still).await["user"]["access"], "admin");
    // Other changes to the last admin still work.
    let renamed = team
        .as_admin(Method::PATCH, &me, Some(&json!({"full_name": "Boss"})))
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);

    // With a second admin, either may go.
    let member = format!("/api/users/{}", team.member_id);
    let promoted = team
        .as_admin(Method::PATCH, &member, Some(&json!({"access": "admin"})))
        .await;
    assert_eq!(promoted.status(), StatusCode::OK);
    let demoted = team
        .as_admin(Method::PATCH, &me, Some(&json!({"access": "member"})))
        .await;
    assert_eq!(demoted.status(), StatusCode::OK);
}

/// Two admins demoting each other at the same moment: one wins, the other
/// meets the rule, and the team keeps an admin.
#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    let team = Team::new().await;
    let app = &team.app;
    let member = format!("/users/{}", team.member_id);
    let promoted = app.patch(&member, &json!({"access": "admin"})).await;
    assert_eq!(promoted.status(), StatusCode::OK);
    let mia = member_browser(&team, 3).await;
    let held = app
        .hold_locks("SELECT 1 FROM users WHERE access = 'admin' FOR UPDATE")
        .await;
    let demote_mia = tokio::spawn({
        let (client, url, cookie, origin) = (
            app.client.clone(),
            app.url(&format!("/api{member}")),
            team.admin.clone(),
            app.url(""),
        );
        async move {
            client
                .patch(url)
                .header("cookie", cookie)
                .header("origin", origin)
                .json(&json!({"access": "member"}))
                .send()
                .await
                .unwrap()
        }
    });
    app.wait_until_blocked("WITH admins", 1).await;
    let demote_admin = mia.request(Method::PATCH, &format!("/api/users/{}", team.admin_id));
    let demote_admin = tokio::spawn(demote_admin.json(&json!({"access": "member"})).send());
    app.wait_until_blocked("WITH admins", 2).await;
    held.commit().await;
    let statuses = [
        demote_mia.await.unwrap().status(),
        demote_admin.await.unwrap().unwrap().status(),
    ];
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, refused), (1, 1), "{statuses:?}");
    let admins: i64 = app
        .db()
        .await
        .query_one(
            "SELECT count(*) FROM users WHERE access = 'admin' AND active",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(admins, 1);
}

// --------------------------------------------------------- personal tokens

#[tokio::test]
async fn a_personal_token_needs_the_password_and_expires() {
    let team = Team::new().await;
    let mut mia = member_browser(&team, 2).await;
    for (body, needle) in [
        (json!({"name": "ci"}), "needs your password"),
        (
            json!({"name": "ci", "password": WRONG}),
            "not your password",
        ),
    ] {
        let refused = mia.send(Method::POST, "/auth/tokens", Some(&body)).await;
        assert_detail(refused, StatusCode::FORBIDDEN, needle).await;
    }
    for days in [json!(0), json!(366), json!("7"), json!(1.5)] {
        let bad = json!({"name": "ci", "password": PASSWORD, "expires_in_days": days});
        let refused = mia.send(Method::POST, "/auth/tokens", Some(&bad)).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{days}");
    }
    assert_eq!(team.app.count_rows("api_tokens").await, 0);

    let default = json!({"name": "ci", "password": PASSWORD});
    let created = mia.send(Method::POST, "/auth/tokens", Some(&default)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = body(created).await;
    let week = json!({"name": "week", "password": PASSWORD, "expires_in_days": 7});
    let weekly = body(mia.send(Method::POST, "/auth/tokens", Some(&week)).await).await;
    assert_eq!(days_left(&team.app, &created).await, 90);
    assert_eq!(days_left(&team.app, &weekly).await, 7);
    assert!(created["expires_at"].as_str().unwrap().ends_with('Z'));
    let list = body(mia.send(Method::GET, "/auth/tokens", None).await).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|t| t["expires_at"].is_string())
    );

    // Works until it expires; then refused, saying so.
    let secret = weekly["token"].as_str().unwrap();
    let call = || {
        team.app
            .client
            .get(team.app.url("/tasks"))
            .bearer_auth(secret)
            .send()
    };
    assert_eq!(call().await.unwrap().status(), StatusCode::OK);
    let filter = format!("id = '{}'", id(&weekly));
    let columns = ["created_at", "expires_at"];
    team.app
        .move_back("api_tokens", &columns, &filter, "7 days")
        .await;
    assert_detail(call().await.unwrap(), StatusCode::UNAUTHORIZED, "expired").await;
    let list = body(mia.send(Method::GET, "/auth/tokens", None).await).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "expired tokens are not listed"
    );
}

/// Whole days until a token expires, by the database's clock.
async fn days_left(app: &TestApp, token: &Value) -> i32 {
    let row = app
        .db()
        .await
        .query_one(
            "SELECT round(extract(epoch FROM expires_at - (now() AT TIME ZONE 'utc')) \
             / 86400)::int FROM api_tokens WHERE id = $1::text::uuid",
            &[&id(token)],
        )
        .await
        .unwrap();
    row.get(0)
}

/// A new personal token's secret.
async fn new_token(browser: &mut Browser<'_>, password: &str) -> String {
    let json = json!({"name": "ci", "password": password});
    let created = browser
        .send(Method::POST, "/auth/tokens", Some(&json))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    body(created).await["token"].as_str().unwrap().to_owned()
}

/// A recovery through a link revokes every token and session of the
/// person; a password change does it for tokens on request.
#[tokio::test]
async fn a_recovery_revokes_tokens_and_sessions_and_a_change_offers_to() {
    let team = Team::new().await;
    let app = &team.app;
    let mut mia = member_browser(&team, 2).await;
    let works = |secret: String| async move {
        app.client
            .get(app.url("/tasks"))
            .bearer_auth(secret)
            .send()
            .await
            .unwrap()
            .status()
    };
    let before = new_token(&mut mia, PASSWORD).await;
    let link = app.invite(&team.admin, &team.member_id).await;
    let reset = app.set_password(&link, "a recovered passphrase").await;
    assert_eq!(reset.status(), StatusCode::OK);
    assert_eq!(works(before).await, StatusCode::UNAUTHORIZED);
    let old_session = mia.send(Method::GET, "/auth/session", None).await;
    detail(old_session, StatusCode::UNAUTHORIZED).await;

    // A change keeps tokens unless asked.
    let mut mia = Browser::at(app, 2);
    assert_eq!(
        mia.sign_in(MEMBER, "a recovered passphrase").await.status(),
        StatusCode::OK
    );
    let kept = new_token(&mut mia, "a recovered passphrase").await;
    let change =
        json!({"current_password": "a recovered passphrase", "new_password": "second passphrase!"});
    let changed = mia
        .send(Method::POST, "/auth/password", Some(&change))
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(works(kept.clone()).await, StatusCode::OK);
    let change = json!({"current_password": "second passphrase!", "new_password": "third passphrase!!",
                        "revoke_tokens": true});
    let changed = mia
        .send(Method::POST, "/auth/password", Some(&change))
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(works(kept).await, StatusCode::UNAUTHORIZED);
    let session = mia.send(Method::GET, "/auth/session", None).await;
    assert_eq!(
        session.status(),
        StatusCode::OK,
        "this browser stays signed in"
    );
}

// ----------------------------------------------------------------- throttle

/// From a client that is no proxy, `X-Real-IP` and `X-Forwarded-For` are
/// ignored: its failures count against its own address, whatever it claims.
#[tokio::test]
async fn a_spoofed_client_address_from_a_client_that_is_no_proxy_is_ignored() {
    let team = Team::new().await;
    let mut guesser = Browser::at(&team.app, 2);
    for n in 1..=21 {
        let request = guesser
            .request(Method::POST, "/auth/login")
            .header("x-real-ip", format!("198.51.100.{n}"))
            .header("x-forwarded-for", format!("203.0.113.{n}"))
            .json(&json!({"email": format!("guess{n}@example.com"), "password": WRONG}));
        let status = request.send().await.unwrap().status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{n}");
    }
    assert_eq!(team.failures("client:127.0.0.2").await, Some(21));
    assert_eq!(team.failures("client:198.51.100.1").await, None);
    team.prolong().await;
    let blocked = guesser.sign_in(MEMBER, PASSWORD).await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = Browser::at(&team.app, 3).sign_in(MEMBER, PASSWORD).await;
    assert_eq!(elsewhere.status(), StatusCode::OK);
}

/// Behind a trusted proxy the forwarded address counts: the rightmost one
/// of `X-Forwarded-For` that is not a proxy, else `X-Real-IP`.
#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_counts() {
    let app = TestApp::spawn_with(|o| {
        o.set("trusted_proxies", "127.0.0.1/32, 10.0.0.0/8");
    })
    .await;
    let team = Team::with(app).await;
    let proxy = Browser::at(&team.app, 1);
    let from = |xff: &str, real: &str| {
        proxy
            .request(Method::POST, "/auth/login")
            .header("x-forwarded-for", xff.to_owned())
            .header("x-real-ip", real.to_owned())
            .json(&json!({"email": "nobody@example.com", "password": WRONG}))
            .send()
    };
    from("6.6.6.6, 198.51.100.7, 10.0.0.3", "10.0.0.3")
        .await
        .unwrap();
    assert_eq!(team.failures("client:198.51.100.7").await, Some(1));
    let ipv6 = proxy
        .request(Method::POST, "/auth/login")
        .header("x-real-ip", "2001:db8:1:2:aaaa::1")
        .json(&json!({"email": "nobody@example.com", "password": WRONG}));
    ipv6.send().await.unwrap();
    let other_in_64 = proxy
        .request(Method::POST, "/auth/login")
        .header("x-real-ip", "2001:db8:1:2:bbbb::2")
        .json(&json!({"email": "nobody@example.com", "password": WRONG}));
    other_in_64.send().await.unwrap();
    assert_eq!(team.failures("client:2001:db8:1:2::/64").await, Some(2));
    let proxy_itself = team.failures("client:127.0.0.1").await;
    assert_eq!(
        proxy_itself.unwrap_or(0),
        0,
        "the proxy's own address is not counted"
    );
    // A client that is not a proxy still cannot choose.
    let direct = Browser::at(&team.app, 4);
    let request = direct
        .request(Method::POST, "/auth/login")
        .header("x-real-ip", "198.51.100.8")
        .json(&json!({"email": "nobody@example.com", "password": WRONG}));
    request.send().await.unwrap();
    assert_eq!(team.failures("client:127.0.0.4").await, Some(1));
}

/// Twelve guesses sent together the moment a wait ends: the first is
/// counted and tried, and it starts the next wait; the rest get 429.
#[tokio::test]
async fn twelve_guesses_sent_at_once_when_a_wait_ends_are_not_all_tried() {
    let team = Team::new().await;
    let key = format!("email:{MEMBER}");
    let mut guesser = Browser::at(&team.app, 2);
    for _ in 1..=6 {
        let response = guesser.sign_in(MEMBER, WRONG).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(team.failures(&key).await, Some(6));
    team.waits_end().await;
    // The counter's row is held, so all twelve have read "not blocked" and
    // queue to write it: only the write itself can tell them apart.
    let lock = format!("SELECT 1 FROM sign_in_failures WHERE key = '{key}' FOR UPDATE");
    let held = team.app.hold_locks(&lock).await;
    let guesses: Vec<_> = (0..12)
        .map(|n| {
            let request = guesser
                .request(Method::POST, "/auth/login")
                .json(&json!({"email": MEMBER, "password": format!("guess number {n}")}));
            tokio::spawn(request.send())
        })
        .collect();
    team.app.wait_until_blocked("WITH blocked", 12).await;
    held.commit().await;
    let mut answers = Vec::new();
    for guess in guesses {
        answers.push(guess.await.unwrap());
    }
    let statuses: Vec<StatusCode> = answers
        .iter()
        .map(|a| a.as_ref().unwrap().status())
        .collect();
    let tried = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(tried <= 2 && tried + refused == 12, "{statuses:?}");
    assert_eq!(team.failures(&key).await, Some(6 + tried as i32));
}

/// The email key is the unique index's: NFC and NFD, any case, one counter.
#[tokio::test]
async fn nfc_and_nfd_spellings_of_an_email_share_one_counter() {
    let team = Team::new().await;
    let nfc = "jos\u{e9}@example.com";
    let nfd = "JOSE\u{301}@Example.COM";
    let jose = id(&team.app.create_user(nfc).await).to_owned();
    let link = team.app.invite(&team.admin, &jose).await;
    assert_eq!(
        team.app.set_password(&link, PASSWORD).await.status(),
        StatusCode::OK
    );
    let mut guesser = Browser::at(&team.app, 2);
    for n in 1..=6 {
        let email = if n % 2 == 0 { nfd } else { nfc };
        let response = guesser.sign_in(email, WRONG).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{n}");
    }
    assert_eq!(team.failures(&format!("email:{nfc}")).await, Some(6));
    let keys: i64 = team
        .app
        .db()
        .await
        .query_one(
            "SELECT count(*) FROM sign_in_failures WHERE key LIKE 'email:%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(keys, 1);
    team.prolong().await;
    for email in [nfc, nfd] {
        let blocked = Browser::at(&team.app, 3).sign_in(email, PASSWORD).await;
        assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS, "{email}");
    }
}

/// Past the allowance the wait doubles, capped at 15 minutes, and stays an
/// answer at any count (no overflow into a 500).
#[tokio::test]
async fn the_wait_is_capped_without_overflow_at_any_count() {
    let team = Team::new().await;
    let key = format!("email:{MEMBER}");
    team.app
        .db()
        .await
        .execute(
            "INSERT INTO sign_in_failures (key, failures, last_failure_at) \
             VALUES ($1, 2000000000, now() AT TIME ZONE 'utc')",
            &[&key],
        )
        .await
        .unwrap();
    let response = Browser::at(&team.app, 2).sign_in(MEMBER, WRONG).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        team.app.sign_in_failures(&key).await,
        Some((1_000_001, Some(900.0)))
    );
    let again = Browser::at(&team.app, 3).sign_in(MEMBER, WRONG).await;
    assert_detail(again, StatusCode::TOO_MANY_REQUESTS, "Try again in").await;
}

/// A browser the owner signed in from before is not held back by an
/// attack on their email from elsewhere; only its own failures count.
/// Unknown browsers stay throttled.
#[tokio::test]
async fn the_owner_signs_in_from_their_own_browser_during_an_attack() {
    let team = Team::new().await;
    let mut own = member_browser(&team, 3).await;
    assert!(own.has_cookie("mth_device"));
    let out = own.send(Method::POST, "/auth/logout", None).await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    own.drop_session();

    let mut attacker = Browser::at(&team.app, 2);
    for _ in 0..6 {
        attacker.sign_in(MEMBER, WRONG).await;
    }
    team.prolong().await;
    let blocked = attacker.sign_in(MEMBER, PASSWORD).await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    let unknown = Browser::at(&team.app, 4).sign_in(MEMBER, PASSWORD).await;
    assert_eq!(
        unknown.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "an unknown browser waits"
    );
    // A device cookie of the attacker's own (for another account) or a
    // forged one does not help.
    let mut forger = Browser::at(&team.app, 5);
    forger.cookies.push((
        "mth_device".to_owned(),
        format!(
            "d1.{}.{}.{}",
            team.member_id.replace('-', ""),
            "ab".repeat(16),
            "00".repeat(32)
        ),
    ));
    let forged = forger.sign_in(MEMBER, PASSWORD).await;
    assert_eq!(forged.status(), StatusCode::TOO_MANY_REQUESTS);

    let signed_in = own.sign_in(MEMBER, PASSWORD).await;
    assert_eq!(
        signed_in.status(),
        StatusCode::OK,
        "the owner's browser gets in"
    );
    // Its own failures count against it alone.
    own.drop_session();
    for n in 1..=6 {
        let response = own.sign_in(MEMBER, WRONG).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{n}");
    }
    team.prolong().await;
    let own_blocked = own.sign_in(MEMBER, PASSWORD).await;
    assert_eq!(own_blocked.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// Checking the password again (a change, a token) is throttled like a
/// sign-in: a stolen session is no free password oracle.
#[tokio::test]
async fn the_password_change_and_token_endpoints_are_throttled() {
    let team = Team::new().await;
    let mut thief = member_browser(&team, 2).await;
    // The thief's copy of the session, without the device cookie.
    thief.cookies.retain(|(n, _)| n == "mth_session");
    for n in 1..=6 {
        let guess = json!({"current_password": format!("guess {n} of many"), "new_password": "whatever you say"});
        let response = thief
            .send(Method::POST, "/auth/password", Some(&guess))
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{n}");
    }
    team.prolong().await;
    let right = json!({"current_password": PASSWORD, "new_password": "whatever you say"});
    let blocked = thief
        .send(Method::POST, "/auth/password", Some(&right))
        .await;
    assert_detail(blocked, StatusCode::TOO_MANY_REQUESTS, "Try again in").await;
    let token = json!({"name": "x", "password": PASSWORD});
    let blocked = thief.send(Method::POST, "/auth/tokens", Some(&token)).await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(team.app.count_rows("api_tokens").await, 0);

    // Bad set-password links count against the client address.
    let mut prober = Browser::at(&team.app, 4);
    for n in 1..=21 {
        let json = json!({"token": format!("not-a-link-{n}"), "password": "a fine passphrase"});
        let response = prober
            .send(Method::POST, "/auth/set-password", Some(&json))
            .await;
        assert_eq!(response.status(), StatusCode::GONE, "{n}");
    }
    team.prolong().await;
    let json = json!({"token": "not-a-link", "password": "a fine passphrase"});
    let blocked = prober
        .send(Method::POST, "/auth/set-password", Some(&json))
        .await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
}

// ----------------------------------------------------------------- cookies

/// One session cookie value is looked up, whatever a request carries.
#[tokio::test]
async fn a_request_stuffed_with_session_cookies_costs_one_lookup() {
    let team = Team::new().await;
    let valid = team.admin.clone();
    let junk: Vec<String> = (0..3000)
        .map(|n| format!("mth_session={:064x}", n))
        .collect();
    // Only the first value is looked up: the valid one after the junk is
    // never reached (what that saves is the benchmarks' business).
    let stuffed = format!("{}; {valid}", junk.join("; "));
    let response = team
        .app
        .browse(Method::GET, "/auth/session", &stuffed, None)
        .await;
    detail(response, StatusCode::UNAUTHORIZED).await;
    let first = format!("{valid}; {}", junk[..100].join("; "));
    let response = team
        .app
        .browse(Method::GET, "/auth/session", &first, None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// Over HTTPS (as the ingress says) the cookies are `__Host-` prefixed and
/// `Secure`, and only the prefixed name is read.
#[tokio::test]
async fn over_https_the_cookies_are_host_prefixed() {
    let team = Team::new().await;
    let app = &team.app;
    let response = app
        .client
        .post(app.url("/auth/login"))
        .header("origin", app.url(""))
        .header("x-forwarded-proto", "https")
        .json(&json!({"email": MEMBER, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for prefix in ["__Host-mth_session=", "__Host-mth_device="] {
        let cookie = cookies.iter().find(|c| c.starts_with(prefix)).unwrap();
        assert!(
            cookie.contains("; Path=/;") && cookie.ends_with("; Secure"),
            "{cookie}"
        );
        assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    }
    let session = session_cookie_named(&cookies, "__Host-mth_session");
    let over_https = |cookie: String| {
        app.client
            .get(app.url("/auth/session"))
            .header("x-forwarded-proto", "https")
            .header("cookie", cookie)
            .send()
    };
    assert_eq!(
        over_https(session.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    let unprefixed = session.replace("__Host-mth_session", "mth_session");
    assert_eq!(
        over_https(unprefixed).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

fn session_cookie_named(cookies: &[String], name: &str) -> String {
    let cookie = cookies.iter().find(|c| c.starts_with(name)).unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

// ------------------------------------------------------ permissions, health

#[tokio::test]
async fn the_session_says_what_the_person_may_do() {
    let team = Team::new().await;
    let admin = body(team.as_admin(Method::GET, "/auth/session", None).await).await;
    assert_eq!(
        admin["can"],
        json!({
            "manage_people": true,
            "change_any_task": true,
            "change_assigned_tasks": true,
            "delete_any_comment": true,
            "manage_labels": true,
            "transfer_workspace": true
        })
    );
    let mut mia = member_browser(&team, 2).await;
    let member = body(mia.send(Method::GET, "/auth/session", None).await).await;
    assert_eq!(
        member["can"],
        json!({
            "manage_people": false,
            "change_any_task": false,
            "change_assigned_tasks": true,
            "delete_any_comment": false,
            "manage_labels": false,
            "transfer_workspace": false
        })
    );
}

/// The first admin's email, given as `ui_username`, may already be a
/// member's (in another letter case): that person is promoted and gets the
/// password, in one statement.
#[tokio::test]
async fn an_existing_member_named_by_ui_username_becomes_the_first_admin() {
    let app = TestApp::spawn().await;
    let existing = app.create_user(&app.ui_username.to_uppercase()).await;
    assert_eq!(existing["access"], "member");
    let cookie = session_cookie(app.login().await);
    let me = body(
        app.browse(Method::GET, "/auth/session", &cookie, None)
            .await,
    )
    .await;
    assert_eq!(me["user"]["id"], existing["id"]);
    assert_eq!(me["user"]["access"], "admin");
    assert_eq!(app.count_rows("users").await, 1);
}

/// Health names the failing dependency; the database's own words (which
/// can name users, hosts, databases) stay in the log.
#[tokio::test]
async fn health_names_the_failing_dependency_not_its_error_text() {
    let app = TestApp::spawn_with(|o| {
        o.set(
            "database_url",
            "postgres://no_such_role:secretive_pw@127.0.0.1:1/no_such_database",
        )
        .set("database_host", "127.0.0.1:1");
    })
    .await;
    for path in ["/health", "/users/health", "/tasks/health"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let detail = detail(response, StatusCode::SERVICE_UNAVAILABLE).await;
        assert!(detail.contains("database"), "{path}: {detail}");
        for leak in [
            "no_such_role",
            "secretive_pw",
            "no_such_database",
            "refused",
            "127.0.0.1",
        ] {
            assert!(!detail.contains(leak), "{path}: {detail}");
        }
    }
}

/// A malformed `trusted_proxies` is the operator's mistake: the frontend is
/// unready and sign-ins answer 500, both naming the variable.
#[tokio::test]
async fn a_malformed_trusted_proxies_is_named() {
    let app = TestApp::spawn_with(|o| {
        o.set("trusted_proxies", "10.0.0.0/8, ten.zero/33");
    })
    .await;
    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_detail(health, StatusCode::SERVICE_UNAVAILABLE, "'trusted_proxies'").await;
    let sign_in = app.login().await;
    assert_detail(
        sign_in,
        StatusCode::INTERNAL_SERVER_ERROR,
        "'trusted_proxies'",
    )
    .await;
}

// ------------------------------------------------------------ housekeeping

#[tokio::test]
async fn housekeeping_deletes_what_can_no_longer_be_used() {
    let team = Team::new().await;
    let app = &team.app;
    let mut mia = member_browser(&team, 2).await;
    for name in ["dead", "live"] {
        let json = json!({"name": name, "password": PASSWORD});
        mia.send(Method::POST, "/auth/tokens", Some(&json)).await;
    }
    let db = app.db().await;
    let seed = "
        UPDATE api_tokens SET expires_at = expires_at - interval '200 days' WHERE name = 'dead';
        UPDATE sessions SET last_seen_at = last_seen_at - interval '9 hours'
          WHERE user_id = (SELECT id FROM users WHERE access = 'admin');
        UPDATE invitations SET used_at = used_at - interval '2 days' WHERE used_at IS NOT NULL;
        INSERT INTO sign_in_failures (key, failures, last_failure_at)
          VALUES ('email:old@example.com', 3, (now() AT TIME ZONE 'utc') - interval '2 days'),
                 ('email:recent@example.com', 3, (now() AT TIME ZONE 'utc'));
        UPDATE housekeeping SET last_run_at = last_run_at - interval '2 hours';";
    db.batch_execute(seed).await.unwrap();
    let count = |sql: &'static str| {
        let db = &db;
        async move { db.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    assert_eq!(count("SELECT count(*) FROM invitations").await, 1);

    let signed_in = Browser::at(app, 3).sign_in(MEMBER, PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    assert_eq!(count("SELECT count(*) FROM api_tokens").await, 1);
    assert_eq!(
        count("SELECT count(*) FROM api_tokens WHERE name = 'live'").await,
        1
    );
    assert_eq!(
        count("SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.access = 'admin'")
            .await,
        0
    );
    assert_eq!(count("SELECT count(*) FROM invitations").await, 0);
    assert_eq!(
        count("SELECT count(*) FROM sign_in_failures WHERE key LIKE 'email:%example.com'").await,
        1
    );
    // At most once an hour: the next sign-in deletes nothing.
    db.batch_execute(
        "INSERT INTO sign_in_failures (key, failures, last_failure_at) \
         VALUES ('email:old2@example.com', 3, (now() AT TIME ZONE 'utc') - interval '2 days')",
    )
    .await
    .unwrap();
    Browser::at(app, 3).sign_in(MEMBER, PASSWORD).await;
    assert_eq!(
        count("SELECT count(*) FROM sign_in_failures WHERE key = 'email:old2@example.com'").await,
        1
    );
}
