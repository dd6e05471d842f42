//! A real OpenID Connect provider for the tests: `oidc-provider` from npm,
//! run by `tests/browser/idp.mjs` (installed with the browser test packages,
//! `npm ci` in tests/browser: `make test` and `.ci/run` do it), and the
//! browser-like walk through a sign-in ([`Walk`]).

use std::collections::BTreeMap;
use std::process::Stdio;

use reqwest::{Client, StatusCode, redirect};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::app::{Options, TestApp};

pub const CLIENT_ID: &str = "microtaskhub";
pub const CLIENT_SECRET: &str = "a-test-client-secret-0123456789";

/// The provider process; stopped when dropped.
pub struct Idp {
    pub issuer: String,
    child: Child,
    client: Client,
}

/// A port nobody listens on now, for a process to take next.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One test account, as the provider knows it.
pub fn account(sub: &str, email: &str, name: &str) -> Value {
    json!({"sub": sub, "email": email, "name": name, "email_verified": true, "groups": []})
}

impl Idp {
    /// Starts the provider on `port` for an app whose origin is `app_url`;
    /// `alg` signs its ID tokens (RS256 or ES256); `accounts` sign in
    /// without a login form, the first one unless [`Idp::log_in_as`] says.
    pub async fn start(port: u16, app_url: &str, alg: &str, accounts: &[Value]) -> Self {
        let root = pg_harness::repo_root();
        let dir = root.join("tests/browser");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "oidc-provider is not installed: run `npm ci` in tests/browser (make test does)"
        );
        let config = json!({
            "port": port,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [format!("{app_url}/auth/oidc/callback")],
            "alg": alg,
            "accounts": accounts,
            "auto_login": accounts.first().map(|a| a["sub"].clone()),
        });
        let mut child = Command::new("node")
            .arg("idp.mjs")
            .current_dir(&dir)
            .env("IDP_CONFIG", config.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let issuer = tokio::time::timeout(std::time::Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.expect("the provider's output") {
                if let Some(issuer) = line.strip_prefix("listening ") {
                    return issuer.to_owned();
                }
            }
            panic!("the provider exited before it listened")
        })
        .await
        .expect("the provider listens within 30 s");
        Self {
            issuer,
            child,
            client: Client::builder().no_proxy().build().unwrap(),
        }
    }

    async fn control(&self, path: &str, body: Value) {
        let response = self
            .client
            .post(format!("{}/test/{path}", self.issuer))
            .json(&body)
            .send()
            .await
            .expect("the provider answers");
        assert_eq!(response.status(), StatusCode::OK, "/test/{path}");
    }

    /// Alters the next ID tokens: `audience`, `expired`, `nonce`,
    /// `issuer`, `signature`, `unknown-kid`, `rotated`, or `none`.
    pub async fn tamper(&self, how: &str) {
        self.control("tamper", json!({"tamper": how})).await;
    }

    /// The token endpoint stops answering (or answers again).
    pub async fn hang_token_endpoint(&self, hang: bool) {
        self.control("hang", json!({"hang": hang})).await;
    }

    /// Publishes a new signing key (and, with `tamper("rotated")`, signs with it).
    pub async fn rotate_keys(&self) {
        self.control("rotate", json!({})).await;
    }

    /// The account that signs in next (without a form).
    pub async fn log_in_as(&self, sub: &str) {
        self.control("login", json!({"sub": sub})).await;
    }

    /// Adds or replaces an account.
    pub async fn set_account(&self, account: Value) {
        self.control("account", account).await;
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Sets the app's OIDC variables for a provider at `issuer`.
pub fn configure(options: &mut Options, issuer: &str) {
    options
        .set("oidc_issuer", issuer)
        .set("oidc_client_id", CLIENT_ID)
        .set("oidc_client_secret", CLIENT_SECRET)
        .set("oidc_provider_name", "Test IdP")
        .set("oidc_outbound_host", issuer);
}

/// An app and its provider, started in the order they need: the
/// provider's port first (the app's variables name it), then the app,
/// then the provider (its client names the app's callback URL).
pub async fn app_with_idp(
    alg: &str,
    accounts: &[Value],
    configure_more: impl FnOnce(&mut Options),
) -> (TestApp, Idp) {
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let app = TestApp::spawn_with(|options| {
        configure(options, &issuer);
        configure_more(options);
    })
    .await;
    let idp = Idp::start(port, &app.url(""), alg, accounts).await;
    assert_eq!(idp.issuer, issuer);
    (app, idp)
}

/// A browser's walk through a sign-in, cookies kept per origin, redirects
/// followed by hand so the test sees each step.
pub struct Walk {
    client: Client,
    jar: BTreeMap<String, BTreeMap<String, String>>,
}

impl Default for Walk {
    fn default() -> Self {
        Self::new()
    }
}

fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    format!("{scheme}://{}", rest.split('/').next().unwrap())
}

impl Walk {
    pub fn new() -> Self {
        Self {
            client: Client::builder()
                .no_proxy()
                .redirect(redirect::Policy::none())
                .build()
                .unwrap(),
            jar: BTreeMap::new(),
        }
    }

    /// GET `url` with this browser's cookies for its origin; keeps the
    /// cookies the answer sets.
    pub async fn get(&mut self, url: &str, accept: &str) -> reqwest::Response {
        let origin = origin_of(url);
        let cookies = self.cookie_header(&origin);
        let mut request = self.client.get(url).header("accept", accept);
        if !cookies.is_empty() {
            request = request.header("cookie", cookies);
        }
        let response = request.send().await.expect("an answer");
        let jar = self.jar.entry(origin).or_default();
        for set in response.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
        response
    }

    pub fn cookie_header(&self, origin: &str) -> String {
        self.jar
            .get(origin)
            .map(|cookies| {
                cookies
                    .iter()
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }

    /// A cookie this browser holds for `origin`.
    pub fn cookie(&self, origin: &str, name: &str) -> Option<String> {
        self.jar.get(origin)?.get(name).cloned()
    }

    /// Starts a sign-in at the app and follows the provider's redirects
    /// until it sends the browser back: returns that callback URL.
    pub async fn to_callback(&mut self, app: &TestApp) -> String {
        let start = self.get(&app.url("/auth/oidc/start"), "text/html").await;
        assert_eq!(start.status(), StatusCode::SEE_OTHER, "/auth/oidc/start");
        let mut next = location(&start, &app.url(""));
        for _ in 0..10 {
            if next.starts_with(&app.url("/auth/oidc/callback")) {
                return next;
            }
            let response = self.get(&next, "text/html").await;
            assert!(
                response.status().is_redirection(),
                "{next}: {} {}",
                response.status(),
                response.text().await.unwrap_or_default()
            );
            next = location(&response, &origin_of(&next));
        }
        panic!("the provider did not send the browser back")
    }

    /// The callback as a program sees it (JSON).
    pub async fn callback(&mut self, url: &str) -> reqwest::Response {
        self.get(url, "application/json").await
    }

    /// A whole sign-in: the callback's answer.
    pub async fn sign_in(&mut self, app: &TestApp) -> reqwest::Response {
        let url = self.to_callback(app).await;
        self.callback(&url).await
    }
}

/// A redirect's target, made absolute against `base`.
pub fn location(response: &reqwest::Response, base: &str) -> String {
    let location = response
        .headers()
        .get("location")
        .expect("a Location")
        .to_str()
        .unwrap();
    if location.starts_with("http") {
        location.to_owned()
    } else {
        format!("{base}{location}")
    }
}
