//! End-to-end: the runner serving `fixtures/app.toml` (the probe component
//! under several ids) over real HTTP.

mod common;

use std::net::SocketAddr;

use common::{Upstream, config, get, start_app};
use serde_json::Value;

/// GET `path` with an `x-probe` header: what the probe component did, as JSON.
async fn probe(addr: SocketAddr, path: &str, probe: impl AsRef<str>) -> Value {
    get(addr, path, &[("x-probe", probe.as_ref())]).await.json()
}

/// The reply of the component a probe's `fetch:` reached, parsed from the body
/// the probe relays.
fn fetched(reply: &Value) -> Value {
    serde_json::from_str(reply["ok"]["body"].as_str().expect("a body")).unwrap()
}

/// The probe's outbound request was refused by the allowed-hosts check.
fn assert_denied(reply: &Value) {
    let err = reply["err"].as_str().unwrap_or_default();
    assert!(err.contains("HttpRequestDenied"), "{reply}");
}

#[tokio::test]
async fn routes_exact_beats_wildcard_and_longest_prefix_wins() {
    let app = start_app(&[]).await;
    let who = |path: &'static str| {
        let addr = app.addr();
        async move { get(addr, path, &[]).await.json()["name"].clone() }
    };
    assert_eq!(who("/api/exact").await, "exact");
    assert_eq!(who("/api/exact/").await, "exact");
    assert_eq!(who("/api/exact/more").await, "api");
    assert_eq!(
        who("/api").await,
        "api",
        "`/...` also matches the bare prefix"
    );
    assert_eq!(who("/api/").await, "api");
    assert_eq!(who("/api/other").await, "api");
    assert_eq!(who("/api/deeper").await, "deeper");
    assert_eq!(who("/api/deeper/x/y").await, "deeper");
    assert_eq!(who("/apix").await, "fallback");
    assert_eq!(who("/").await, "fallback");
    app.shutdown().await;
}

#[tokio::test]
async fn unmatched_path_is_a_plain_404() {
    let app = runner::start(config("exact-only.toml", &[])).await.unwrap();
    let reply = get(app.addr(), "/nope", &[]).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.body, "");
    assert_eq!(get(app.addr(), "/only", &[]).await.status, 200);
    app.shutdown().await;
}

#[tokio::test]
async fn private_component_is_not_routed_and_not_listed() {
    let app = start_app(&[]).await;
    assert!(app.routes().iter().all(|r| r.component != "hidden"));
    let listed: Vec<_> = app
        .routes()
        .iter()
        .map(|r| format!("{}: {}", r.component, r.route))
        .collect();
    assert_eq!(
        listed,
        [
            "fallback:  (wildcard)",
            "api: /api (wildcard)",
            "exact: /api/exact",
            "deeper: /api/deeper (wildcard)"
        ]
    );
    // There is no path that reaches it.
    assert_eq!(
        get(app.addr(), "/hidden", &[]).await.json()["name"],
        "fallback"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn spin_headers_for_a_wildcard_route() {
    let app = start_app(&[]).await;
    let reply = get(app.addr(), "/api/a/b/?q=1&r=2", &[]).await.json();
    let h = &reply["headers"];
    let host = app.addr().to_string();
    assert_eq!(
        h["spin-full-url"],
        format!("http://{host}/api/a/b/?q=1&r=2")
    );
    assert_eq!(h["spin-path-info"], "/a/b/");
    assert_eq!(h["spin-matched-route"], "/api/...");
    assert_eq!(h["spin-raw-component-route"], "/api/...");
    assert_eq!(h["spin-component-route"], "/api");
    assert_eq!(h["spin-base-path"], "/");
    let client = h["spin-client-addr"].as_str().unwrap();
    assert!(client.starts_with("127.0.0.1:"), "{client}");
    assert_eq!(reply["path"], "/api/a/b/");
    app.shutdown().await;
}

#[tokio::test]
async fn spin_headers_for_exact_and_root_wildcard_routes() {
    let app = start_app(&[]).await;
    let h = get(app.addr(), "/api/exact", &[]).await.json()["headers"].clone();
    assert_eq!(h["spin-path-info"], "");
    assert_eq!(h["spin-matched-route"], "/api/exact");
    assert_eq!(h["spin-component-route"], "/api/exact");
    let h = get(app.addr(), "/x/y", &[]).await.json()["headers"].clone();
    assert_eq!(h["spin-path-info"], "/x/y");
    assert_eq!(h["spin-matched-route"], "/...");
    assert_eq!(h["spin-raw-component-route"], "/...");
    assert_eq!(h["spin-component-route"], "");
    app.shutdown().await;
}

#[tokio::test]
async fn well_known_endpoints() {
    let app = start_app(&[]).await;
    let health = get(app.addr(), "/.well-known/spin/health", &[]).await;
    assert_eq!((health.status, health.body.as_str()), (200, "OK"));
    let info = get(app.addr(), "/.well-known/spin/info", &[]).await.json();
    assert_eq!(info["name"], "runner-test-app");
    assert_eq!(info["version"], "1.2.3");
    assert_eq!(
        get(app.addr(), "/.well-known/spin/other", &[]).await.status,
        404
    );
    app.shutdown().await;
}

#[tokio::test]
async fn variables_from_flag_env_and_default() {
    // Default, expanded inside a component template.
    let app = start_app(&[]).await;
    let var = |app: &runner::RunningApp, name: &str| probe(app.addr(), "/", format!("var:{name}"));
    assert_eq!(var(&app, "greeting").await["ok"], "hello, world");
    assert_eq!(var(&app, "from_env").await["ok"], "default-value");
    assert_eq!(var(&app, "needed").await["ok"], "yes");
    app.shutdown().await;

    // SPIN_VARIABLE_* beats the default; --variable beats the environment.
    let mut cfg = config("app.toml", &common::app_variables(&[("greeting", "hi")]));
    cfg.env
        .insert("SPIN_VARIABLE_FROM_ENV".into(), "from the env".into());
    cfg.env
        .insert("SPIN_VARIABLE_GREETING".into(), "env greeting".into());
    let app = runner::start(cfg).await.unwrap();
    assert_eq!(var(&app, "from_env").await["ok"], "from the env");
    assert_eq!(var(&app, "greeting").await["ok"], "hi, world");
    app.shutdown().await;
}

#[tokio::test]
async fn a_component_reads_only_its_own_variables() {
    let app = start_app(&[]).await;
    // `db_url` is declared by `api`, not by `fallback`.
    let reply = probe(app.addr(), "/", "var:db_url").await;
    let err = reply["err"].as_str().unwrap();
    assert!(err.contains("Undefined(\"no variable for"), "{err}");
    assert!(err.contains("fallback") && err.contains("db_url"), "{err}");
    let reply = probe(app.addr(), "/", "var:Bad-Name").await;
    assert!(
        reply["err"].as_str().unwrap().contains("InvalidName("),
        "{reply}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn missing_required_variable_stops_start_up() {
    let cfg = config("app.toml", &[("db_url", "postgres://x@127.0.0.1/db")]);
    let err = format!(
        "{:#}",
        runner::start(cfg).await.err().expect("must not start")
    );
    assert!(err.contains("'needed'"), "{err}");
    assert!(err.contains("SPIN_VARIABLE_NEEDED"), "{err}");
}

#[tokio::test]
async fn files_are_mounted_read_only() {
    let app = start_app(&[]).await;
    let read = |path: &str| probe(app.addr(), "/api", format!("file:{path}"));
    assert_eq!(read("/static/hello.txt").await["ok"], "hello from static");
    // Neither a mounted file nor its directory can be written.
    let write = |path: &str| probe(app.addr(), "/api", format!("write:{path}"));
    for path in ["/static/hello.txt", "/static/new.txt"] {
        let reply = write(path).await;
        assert!(reply["err"].is_string(), "{path}: {reply}");
    }
    assert_eq!(read("/static/hello.txt").await["ok"], "hello from static");
    assert!(read("/static/new.txt").await["err"].is_string());
    // Glob entries keep their path relative to the manifest.
    assert_eq!(read("/assets/sub/g.txt").await["ok"], "glob file");
    assert!(read("/assets/skip.md").await["err"].is_string());
    // Components without `files` see nothing.
    let reply = probe(app.addr(), "/", "file:/static/hello.txt").await;
    assert!(reply["err"].is_string(), "{reply}");
    app.shutdown().await;
}

#[tokio::test]
async fn outbound_http_allowed_and_denied() {
    let upstream = Upstream::start().await;
    let allowed = format!("http://{}", upstream.addr);
    let app = start_app(&[("upstream", &allowed)]).await;

    let reply = probe(app.addr(), "/", format!("fetch:{allowed}/x")).await;
    assert_eq!(reply["ok"]["status"], 200, "{reply}");
    assert_eq!(reply["ok"]["body"], "upstream says hi");
    assert_eq!(upstream.hits(), 1);

    // Same server under another host name: not in the list.
    let other = format!("fetch:http://localhost:{}/x", upstream.addr.port());
    assert_denied(&probe(app.addr(), "/", &other).await);
    // A component with no HTTP hosts at all.
    assert_denied(&probe(app.addr(), "/api/exact", format!("fetch:{allowed}/y")).await);
    assert_eq!(
        upstream.hits(),
        1,
        "a denied request never reaches the network"
    );
    app.shutdown().await;
}

/// Like Spin, the runner enforces the request options' first-byte timeout on a
/// network request: a server that accepts and never answers gives the guest
/// `ConnectionReadTimeout` instead of an open-ended wait.
#[tokio::test]
async fn outbound_request_options_time_out_a_silent_server() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            sockets.push(socket);
        }
    });
    let app = start_app(&[("upstream", &url)]).await;
    let reply = probe(app.addr(), "/", format!("fetch-within:300:{url}/never")).await;
    let err = reply["err"].as_str().unwrap_or_default();
    assert!(err.contains("ConnectionReadTimeout"), "{reply}");
    held.abort();
    app.shutdown().await;
}

#[tokio::test]
async fn service_chaining_bypasses_the_router() {
    let app = start_app(&[]).await;
    // `hidden` has a private route: reachable only through chaining.
    let reply = probe(
        app.addr(),
        "/start",
        "fetch:http://hidden.spin.internal/deep/path?k=v",
    )
    .await;
    assert_eq!(reply["ok"]["status"], 200, "{reply}");
    let target = fetched(&reply);
    assert_eq!(target["name"], "hidden");
    let h = &target["headers"];
    assert_eq!(h["spin-matched-route"], "/...");
    assert_eq!(h["spin-raw-component-route"], "/...");
    assert_eq!(h["spin-component-route"], "");
    assert_eq!(h["spin-path-info"], "/deep/path");
    assert_eq!(h["spin-full-url"], "http://localhost/deep/path?k=v");
    assert_eq!(h["spin-base-path"], "/");
    assert!(h.get("host").is_none(), "{h}");

    // Chaining to `api` ignores its `/api/...` route: the path is passed as is.
    let target = fetched(&probe(app.addr(), "/", "fetch:http://api.spin.internal/zzz").await);
    assert_eq!(target["name"], "api");
    assert_eq!(target["headers"]["spin-path-info"], "/zzz");
    app.shutdown().await;
}

#[tokio::test]
async fn service_chaining_needs_the_host_allowed() {
    let app = start_app(&[]).await;
    for (path, denied) in [
        // `fallback` may chain to `hidden` and `api`, not to `exact`.
        ("/", "fetch:http://exact.spin.internal/"),
        // `exact` may chain nowhere.
        ("/api/exact", "fetch:http://hidden.spin.internal/"),
    ] {
        assert_denied(&probe(app.addr(), path, denied).await);
    }
    app.shutdown().await;
}

#[tokio::test]
async fn missing_import_fails_at_start_up_naming_it() {
    let err = runner::start(config("missing-import.toml", &[]))
        .await
        .err()
        .expect("must not start");
    let err = format!("{err:#}");
    assert!(err.contains("sqlite-user"), "{err}");
    assert!(err.contains("sqlite"), "{err}");
}

#[tokio::test]
async fn the_default_store_is_shared_by_instances_and_components_that_list_it() {
    let app = start_app(&[]).await;
    assert_eq!(
        probe(app.addr(), "/", "kv-get:default:colour").await,
        serde_json::json!({ "ok": null })
    );
    assert_eq!(
        probe(app.addr(), "/", "kv-set:default:colour=teal").await,
        serde_json::json!({ "ok": "set" })
    );
    // Another instance of another component ("api") that lists the store.
    assert_eq!(
        probe(app.addr(), "/api/x", "kv-get:default:colour").await,
        serde_json::json!({ "ok": "teal" })
    );
    // "exact" does not list it; no other label exists.
    let denied = probe(app.addr(), "/api/exact", "kv-get:default:colour").await;
    assert_eq!(denied["err"], "Error::AccessDenied", "{denied}");
    let other = probe(app.addr(), "/", "kv-get:other:colour").await;
    assert_eq!(other["err"], "Error::AccessDenied", "{other}");
    app.shutdown().await;

    // A store lives as long as its app.
    let again = start_app(&[]).await;
    assert_eq!(
        probe(again.addr(), "/", "kv-get:default:colour").await,
        serde_json::json!({ "ok": null })
    );
    again.shutdown().await;
}

#[tokio::test]
async fn a_store_label_other_than_default_fails_at_start_up_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::fixtures().join("exact-only.toml"))
        .unwrap()
        .replace(
            "source = \"",
            "key_value_stores = [\"sessions\"]\nsource = \"",
        );
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, text).unwrap();
    let mut cfg = config("exact-only.toml", &[]);
    cfg.manifest = path;
    let err = format!(
        "{:#}",
        runner::start(cfg).await.err().expect("must not start")
    );
    assert!(err.contains("'sessions'"), "{err}");
    assert!(err.contains("key_value_stores"), "{err}");
}

#[tokio::test]
async fn apps_run_side_by_side() {
    let (a, b) = tokio::join!(start_app(&[]), start_app(&[("greeting", "bonjour")]));
    assert_ne!(a.addr(), b.addr());
    let (ra, rb) = tokio::join!(
        probe(a.addr(), "/", "var:greeting"),
        probe(b.addr(), "/", "var:greeting")
    );
    assert_eq!(ra["ok"], "hello, world");
    assert_eq!(rb["ok"], "bonjour, world");
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn self_requests_go_through_the_router() {
    let app = start_app(&[]).await;
    let target = fetched(&probe(app.addr(), "/", "fetch:/api/exact?x=1").await);
    assert_eq!(target["name"], "exact");
    assert_eq!(
        target["headers"]["spin-full-url"],
        format!("http://{}/api/exact?x=1", app.addr())
    );
    // `exact` has no `self` permission.
    assert_denied(&probe(app.addr(), "/api/exact", "fetch:/").await);
    app.shutdown().await;
}
