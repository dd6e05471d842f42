//! `TestApp`: one migrated database and one running copy of the application.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use reqwest::{Method, Response, StatusCode};
use runner::{RunnerConfig, RunningApp};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use pg_harness::{PgCluster, repo_root};

use crate::client::{Client, RequestBuilder};
use crate::host::{Host, SpinProcess};
use crate::wasm;

/// How to start a [`TestApp`].
pub struct Options {
    /// Application variables (`--variable`), prefilled with working values.
    pub variables: BTreeMap<String, String>,
    /// A cluster of the test's own, so it may stop Postgres without
    /// disturbing other tests.
    pub own_cluster: bool,
    /// The engine to run the app in; [`Host::from_env`] unless a test says.
    pub host: Host,
}

impl Options {
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.variables.insert(name.to_owned(), value.into());
        self
    }
}

/// The JSON body of a response.
pub async fn body(response: Response) -> Value {
    response.json().await.expect("a JSON body")
}

/// The `id` of a JSON object, as a string.
pub fn id(value: &Value) -> &str {
    value["id"].as_str().expect("an id")
}

/// Asserts a response's status, naming the URL it answered.
fn assert_status(response: &Response, status: StatusCode) {
    assert_eq!(response.status(), status, "{}", response.url());
}

/// Asserts a 422 and returns the fields its `errors` name, in order.
pub async fn error_fields(response: Response) -> Vec<String> {
    assert_status(&response, StatusCode::UNPROCESSABLE_ENTITY);
    let error = body(response).await;
    assert!(error["detail"].is_string(), "{error}");
    error["errors"]
        .as_array()
        .expect("errors[]")
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

/// Asserts a problem response with `status` and returns its `detail`.
pub async fn detail(response: Response, status: StatusCode) -> String {
    let (url, actual) = (response.url().clone(), response.status());
    let text = response.text().await.expect("a body");
    assert_eq!(actual, status, "{url}: {text}");
    let problem: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{url}: the body is not JSON ({e}): {text}"));
    let detail = problem["detail"].as_str();
    detail
        .unwrap_or_else(|| panic!("no detail: {problem}"))
        .to_owned()
}

/// Asserts the status and that the `detail` says `needle`.
pub async fn assert_detail(response: Response, status: StatusCode, needle: &str) {
    let detail = detail(response, status).await;
    assert!(
        detail.contains(needle),
        "{detail:?} does not say {needle:?}"
    );
}

/// The path of a resource in `collection` (`/users`, `/tasks`) that does not exist.
pub fn unknown(collection: &str) -> String {
    format!("{collection}/{}", uuid::Uuid::new_v4())
}

pub struct TestApp {
    pub client: Client,
    pub api_token: String,
    pub ui_username: String,
    pub ui_password: String,
    pub session_secret: String,
    pub database_url: String,
    pub cluster: Arc<PgCluster>,
    pub host: Host,
    running: Option<Running>,
    addr: SocketAddr,
}

/// The app, in whichever host runs it.
enum Running {
    Runner(RunningApp),
    Spin(SpinProcess),
}

fn shared_cluster() -> Arc<PgCluster> {
    static CLUSTER: OnceLock<Arc<PgCluster>> = OnceLock::new();
    CLUSTER.get_or_init(|| Arc::new(PgCluster::start())).clone()
}

impl TestApp {
    /// The process the app runs in: the Spin engine's child process, or,
    /// under the runner, this test process itself.
    pub fn host_pid(&self) -> u32 {
        match &self.running {
            Some(Running::Spin(spin)) => spin.pid(),
            _ => std::process::id(),
        }
    }

    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Options)) -> Self {
        let secret = || uuid::Uuid::new_v4().simple().to_string();
        let mut options = Options {
            variables: BTreeMap::from([
                ("api_token".to_owned(), secret()),
                ("ui_username".to_owned(), "admin@example.com".to_owned()),
                ("ui_password".to_owned(), secret()),
                ("session_secret".to_owned(), secret()),
            ]),
            own_cluster: false,
            host: Host::from_env(),
        };
        configure(&mut options);
        tokio::task::spawn_blocking(wasm::ensure_fresh)
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));

        let cluster = if options.own_cluster {
            let cluster = tokio::task::spawn_blocking(PgCluster::start).await.unwrap();
            Arc::new(cluster)
        } else {
            tokio::task::spawn_blocking(shared_cluster).await.unwrap()
        };
        let database = {
            let cluster = cluster.clone();
            tokio::task::spawn_blocking(move || cluster.migrated_database())
                .await
                .unwrap()
        };
        let database_url = cluster.url(&database);
        let vars = &mut options.variables;
        vars.entry("database_url".to_owned())
            .or_insert_with(|| database_url.clone());
        vars.entry("database_host".to_owned())
            .or_insert_with(|| cluster.host());

        let variables: Vec<(String, String)> =
            vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let running = match &options.host {
            Host::Runner => Running::Runner(start_runner(variables).await),
            Host::Spin(spin) => Running::Spin(SpinProcess::start(spin, &variables).await),
        };
        let addr = match &running {
            Running::Runner(r) => r.addr(),
            Running::Spin(s) => s.addr(),
        };

        let var = |name: &str| options.variables[name].clone();
        Self {
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap()
                .into(),
            api_token: var("api_token"),
            ui_username: var("ui_username"),
            ui_password: var("ui_password"),
            session_secret: var("session_secret"),
            database_url,
            cluster,
            host: options.host,
            addr,
            running: Some(running),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// An HTTP client connecting from `127.0.0.<n>`, which the host reports
    /// as the peer (`spin-client-addr`): a client address of its own, as the
    /// throttle counts them. `n` is 1 for [`Self::client`]'s.
    pub fn client_at(&self, n: u8) -> Client {
        reqwest::Client::builder()
            .no_proxy()
            .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
            .build()
            .expect("an HTTP client")
            .into()
    }

    /// The address the app listens on (`host:port`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends `request` exactly as written (no client normalises it) on a
    /// new connection and returns everything the app answers until it
    /// closes the connection.
    pub async fn raw_exchange(&self, request: &[u8]) -> String {
        let mut stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect to the app");
        stream.write_all(request).await.expect("send the request");
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .await
            .expect("read the answer");
        String::from_utf8_lossy(&response).into_owned()
    }

    /// A request to the API with the bearer token.
    pub fn api(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.api_token)
    }

    /// Sends an API request, with `body` as its JSON when there is one.
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let what = format!("{method} {path}");
        let mut request = self.api(method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect(&what)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(Method::DELETE, path, None).await
    }

    /// Sends each `(body, fields)` case and asserts a 422 whose `errors`
    /// name exactly `fields`, in order.
    pub async fn assert_invalid<'a, F: AsRef<[&'a str]>>(
        &self,
        method: Method,
        path: &str,
        cases: impl IntoIterator<Item = (Value, F)>,
    ) {
        for (request, fields) in cases {
            let response = self.send(method.clone(), path, Some(&request)).await;
            assert_eq!(error_fields(response).await, fields.as_ref(), "{request}");
        }
    }

    /// `SELECT count(*) FROM <table>`, straight from the database.
    pub async fn count_rows(&self, table: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {table}");
        self.db().await.query_one(&sql, &[]).await.unwrap().get(0)
    }

    /// The one row `sql` returns for one text parameter (`$1`), straight
    /// from the database.
    pub async fn row(&self, sql: &str, param: &str) -> tokio_postgres::Row {
        self.db()
            .await
            .query_one(sql, &[&param])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// A direct connection to the test's database, for checks behind the API.
    pub async fn db(&self) -> tokio_postgres::Client {
        let (client, connection) =
            tokio_postgres::connect(&self.database_url, tokio_postgres::NoTls)
                .await
                .expect("connect to the test database");
        tokio::spawn(connection);
        client
    }

    /// Moves the timestamps `columns` of the `table` rows that match
    /// `filter` (SQL) back by `interval` (`'8 hours'`): for the app, that
    /// much time has passed since. Returns how many rows moved.
    pub async fn move_back(
        &self,
        table: &str,
        columns: &[&str],
        filter: &str,
        interval: &str,
    ) -> u64 {
        let set: Vec<String> = columns
            .iter()
            .map(|c| format!("{c} = {c} - interval '{interval}'"))
            .collect();
        let sql = format!("UPDATE {table} SET {} WHERE {filter}", set.join(", "));
        self.db()
            .await
            .execute(&sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Opens a transaction that runs `sql` (statements that take locks) and
    /// stays open until [`HeldLocks::commit`]: requests that need those
    /// locks wait meanwhile, so a test can park a request at a precise point.
    pub async fn hold_locks(&self, sql: &str) -> HeldLocks {
        let db = self.db().await;
        db.batch_execute(&format!("BEGIN; {sql}"))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        HeldLocks { db }
    }

    /// Waits until `count` statements of the app that start with
    /// `statement` wait for a lock in its database (see [`Self::hold_locks`]).
    pub async fn wait_until_blocked(&self, statement: &str, count: i64) {
        const LIMIT: Duration = Duration::from_secs(120);
        let db = self.db().await;
        let started = Instant::now();
        loop {
            let waiting: i64 = db
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND wait_event_type = 'Lock' AND starts_with(query, $1)",
                    &[&statement],
                )
                .await
                .unwrap()
                .get(0);
            if waiting >= count {
                return;
            }
            assert!(
                started.elapsed() < LIMIT,
                "after {LIMIT:?}, {waiting} of {count} `{statement}…` wait for a lock"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Signs in to the frontend with the configured login (the first admin),
    /// from the app's own origin as a browser would.
    pub async fn login(&self) -> Response {
        self.sign_in(&self.ui_username, &self.ui_password).await
    }

    /// Signs in with an email and a password, as the browser does.
    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        let credentials = json!({"email": email, "password": password});
        self.browse(Method::POST, "/auth/login", "", Some(&credentials))
            .await
    }

    /// A request as the browser sends it: the session cookie (`name=value`,
    /// or empty) and the app's own origin.
    pub async fn browse(
        &self,
        method: Method,
        path: &str,
        cookie: &str,
        json: Option<&Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .header("origin", self.url(""));
        if !cookie.is_empty() {
            request = request.header("cookie", cookie);
        }
        if let Some(json) = json {
            request = request.json(json);
        }
        request.send().await.expect("a browser request")
    }

    /// A set-password link's token, as an admin (session cookie `admin`)
    /// gets it for `user_id` (an invitation, or a reset).
    pub async fn invite(&self, admin: &str, user_id: &str) -> String {
        let path = format!("/api/users/{user_id}/invitation");
        let response = self.browse(Method::POST, &path, admin, None).await;
        assert_status(&response, StatusCode::CREATED);
        let link = body(response).await;
        let path = link["path"].as_str().expect("a link");
        let token = path
            .strip_prefix("/set-password#")
            .expect("a set-password link");
        token.to_owned()
    }

    /// Sets a password with a link's token, as the browser does.
    pub async fn set_password(&self, token: &str, password: &str) -> Response {
        let json = json!({"token": token, "password": password});
        self.browse(Method::POST, "/auth/set-password", "", Some(&json))
            .await
    }

    /// A throttle key's `(failures, seconds blocked after the last failure)`,
    /// straight from the database (`sign_in_failures`); `None` when it has
    /// no failures.
    pub async fn sign_in_failures(&self, key: &str) -> Option<(i32, Option<f64>)> {
        let row = self
            .db()
            .await
            .query_opt(
                "SELECT failures, extract(epoch FROM blocked_until - last_failure_at)::float8 \
                 FROM sign_in_failures WHERE key = $1",
                &[&key],
            )
            .await
            .unwrap();
        row.map(|row| (row.get(0), row.get(1)))
    }

    /// Signs in as the first admin and returns the session cookie's `name=value`.
    pub async fn session_cookie(&self) -> String {
        session_cookie(self.login().await)
    }

    /// POSTs `new` to `path`, asserts 201 Created and returns the created JSON.
    async fn create(&self, path: &str, new: &Value, what: &str) -> Value {
        let response = self.post(path, new).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{what}");
        body(response).await
    }

    /// A fresh app with these users already created (their JSON, in order).
    pub async fn with_users<const N: usize>(emails: [&str; N]) -> (TestApp, [Value; N]) {
        let app = TestApp::spawn().await;
        let mut users = Vec::with_capacity(N);
        for email in emails {
            users.push(app.create_user(email).await);
        }
        let users = users.try_into().expect("one user per email");
        (app, users)
    }

    /// Creates a user through the API and returns its JSON.
    pub async fn create_user(&self, email: &str) -> Value {
        let new = json!({"email": email, "full_name": format!("User {email}")});
        self.create("/users", &new, &format!("creating user {email}"))
            .await
    }

    /// Creates a task through the API and returns its JSON.
    pub async fn create_task(&self, assignee_id: &str, status: &str) -> Value {
        let new = json!({"title": "A task", "assignee_id": assignee_id, "status": status});
        self.create("/tasks", &new, &format!("creating a {status} task"))
            .await
    }

    pub async fn shutdown(mut self) {
        match self.running.take() {
            Some(Running::Runner(running)) => running.shutdown().await,
            Some(Running::Spin(mut spin)) => spin.stop(),
            None => {}
        }
    }
}

/// A transaction holding locks, from [`TestApp::hold_locks`].
pub struct HeldLocks {
    db: tokio_postgres::Client,
}

impl HeldLocks {
    /// Commits, letting the requests that waited go on.
    pub async fn commit(self) {
        self.db.batch_execute("COMMIT").await.expect("COMMIT");
    }
}

/// The SHA-256 of `text` in lower-case hex: what the app stores instead of
/// a secret token.
pub fn sha256_hex(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

async fn start_runner(variables: Vec<(String, String)>) -> RunningApp {
    let mut config = RunnerConfig::new(repo_root().join("spin.toml"));
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.variables = variables;
    config.env.clear(); // SPIN_VARIABLE_* of the developer's shell must not leak in
    config.log_requests = false;
    config.quiet_components = std::env::var_os("MTH_TEST_LOGS").is_none();
    runner::start(config).await.unwrap_or_else(|e| {
        panic!(
            "the runner could not start the app: {e:#}\n\
             (build the components first: `make build`)"
        )
    })
}

/// The `name=value` of the session cookie a successful sign-in set.
/// A sign-in also sets the device cookie (`mth_device`); this is the
/// session's, whichever order the answer lists them in.
pub fn session_cookie(response: Response) -> String {
    assert_eq!(response.status(), StatusCode::OK, "signing in");
    let pairs: Vec<&str> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok()?.split(';').next())
        .collect();
    let session = pairs
        .iter()
        .find(|p| p.starts_with("mth_session=") || p.starts_with("__Host-mth_session="));
    session
        .unwrap_or_else(|| panic!("no session cookie in {pairs:?}"))
        .to_string()
}
