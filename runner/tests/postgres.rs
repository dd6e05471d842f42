//! End-to-end: `spin:postgres@4.0.0` against a real, throwaway PostgreSQL.

mod common;

use common::get;
use pg_harness::PgCluster as Postgres;
use serde_json::Value;

async fn pg_probe(app: &runner::RunningApp, path: &str, scenario: &str) -> Value {
    let reply = get(app.addr(), path, &[("x-probe", &format!("pg:{scenario}"))]).await;
    assert_eq!(
        reply.status, 200,
        "a database error must not trap: {}",
        reply.body
    );
    reply.json()
}

async fn start_with(pg: &Postgres) -> runner::RunningApp {
    let url = pg.url("postgres");
    let host = pg.host();
    common::start_app(&[("db_url", &url), ("db_host", &host)]).await
}

#[tokio::test]
async fn every_value_type_round_trips() {
    let pg = Postgres::start();
    let app = start_with(&pg).await;
    let reply = pg_probe(&app, "/api", "roundtrip").await;
    let ok = &reply["ok"];
    assert!(ok.is_object(), "{reply}");
    assert_eq!(ok["inserted"], 1);
    let row: Vec<String> = serde_json::from_value(ok["values"]["rows"][0].clone()).unwrap();
    let expected = [
        r#"DbValue::Str("héllo")"#,
        "DbValue::Int16(-12)",
        "DbValue::Int32(1234567)",
        "DbValue::Int64(-9000000000)",
        "DbValue::Boolean(true)",
        "DbValue::Datetime((2024, 2, 29, 13, 14, 15, 123456000))",
        "DbValue::Date((1999, 12, 31))",
        r#"DbValue::Uuid("6f1c1f5e-5d7b-4f43-9b7e-3f1d2f0c8a11")"#,
        "DbValue::DbNull",
        "DbValue::Floating32(1.5)",
        "DbValue::Floating64(-2.25)",
        // jsonb is normalised by the server, then re-serialised.
        "DbValue::Jsonb([123, 34, 97, 34, 58, 91, 49, 44, 50, 93, 125])",
        r#"DbValue::Decimal("12345.678")"#,
        "DbValue::Time((23, 59, 58, 0))",
        "DbValue::Binary([0, 1, 254])",
        "DbValue::ArrayInt32([Some(1), None, Some(3)])",
        r#"DbValue::ArrayStr([Some("x"), None])"#,
    ];
    assert_eq!(row, expected);
    let types: Vec<String> = ok["values"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c[1].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "DbDataType::Str",
            "DbDataType::Int16",
            "DbDataType::Int32",
            "DbDataType::Int64",
            "DbDataType::Boolean",
            "DbDataType::Datetime",
            "DbDataType::Date",
            "DbDataType::Uuid",
            "DbDataType::Str",
            "DbDataType::Floating32",
            "DbDataType::Floating64",
            "DbDataType::Jsonb",
            "DbDataType::Decimal",
            "DbDataType::Time",
            "DbDataType::Binary",
            "DbDataType::ArrayInt32",
            "DbDataType::ArrayStr",
        ]
    );
    let nulls: Vec<String> = serde_json::from_value(ok["nulls"]["rows"][0].clone()).unwrap();
    assert_eq!(nulls, ["DbValue::DbNull"; 3]);
    app.shutdown().await;
}

#[tokio::test]
async fn errors_surface_like_spin() {
    let pg = Postgres::start();
    let app = start_with(&pg).await;

    // Spin cannot read timestamptz: the driver's type check fails the query.
    let err = pg_probe(&app, "/api", "timestamptz-read").await["err"].to_string();
    assert!(err.contains("QueryFailed"), "{err}");
    assert!(err.contains("cannot convert"), "{err}");
    assert!(err.contains("timestamptz"), "{err}");

    // Nor bind a datetime to it.
    // (the driver's Debug text names the type `Timestamptz`).
    let err = pg_probe(&app, "/api", "timestamptz-bind").await["err"].to_string();
    assert!(err.contains("QueryFailed"), "{err}");
    assert!(err.contains("WrongType"), "{err}");
    assert!(err.to_lowercase().contains("timestamptz"), "{err}");

    // A `str` parameter does not bind to a `uuid` column.
    let err = pg_probe(&app, "/api", "str-to-uuid").await["err"].to_string();
    assert!(err.contains("QueryFailed"), "{err}");
    assert!(err.contains("WrongType { postgres: Uuid"), "{err}");

    // A server error is structured: code, message, severity.
    let err = pg_probe(&app, "/api", "syntax-error").await["err"].to_string();
    assert!(
        err.contains("QueryFailed(QueryError::DbError(DbError"),
        "{err}"
    );
    assert!(err.contains(r#"code: \"42601\""#), "{err}");
    assert!(err.contains(r#"severity: \"ERROR\""#), "{err}");

    // An empty result has no columns, as in Spin.
    let ok = pg_probe(&app, "/api", "empty").await["ok"].clone();
    assert_eq!(ok["columns"], serde_json::json!([]));
    assert_eq!(ok["rows"], serde_json::json!([]));

    // And the connection still works afterwards.
    let ok = pg_probe(&app, "/api", "select-one").await["ok"].clone();
    assert_eq!(ok["rows"][0][0], "DbValue::Int32(1)");
    assert_eq!(pg_probe(&app, "/api", "execute").await["ok"], 3);
    app.shutdown().await;
}

#[tokio::test]
async fn connect_denied_unless_host_and_port_allowed() {
    // No server needed: the check happens before any connection.
    let app = common::start_app(&[
        ("db_url", "postgres://postgres@127.0.0.1:5999/postgres"),
        ("db_host", "127.0.0.1:5998"),
    ])
    .await;
    // `api` allows 127.0.0.1:5998 only.
    let err = pg_probe(&app, "/api", "select-one").await["err"].to_string();
    assert!(
        err.contains(r#"ConnectionFailed(\"address postgres://127.0.0.1:5999 is not permitted\")"#),
        "{err}"
    );
    // `deeper` allows another host only.
    let err = pg_probe(&app, "/api/deeper", "select-one").await["err"].to_string();
    assert!(err.contains("is not permitted"), "{err}");
    // `fallback` declares no db_url at all.
    let err = pg_probe(&app, "/", "select-one").await["err"].to_string();
    assert!(err.contains("Undefined"), "{err}");
    app.shutdown().await;
}

#[tokio::test]
async fn allowed_connection_to_a_dead_server_is_an_error_not_a_trap() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let host = format!("127.0.0.1:{port}");
    let app = common::start_app(&[("db_url", &url), ("db_host", &host)]).await;
    let err = pg_probe(&app, "/api", "select-one").await["err"].to_string();
    assert!(err.contains("ConnectionFailed"), "{err}");
    app.shutdown().await;
}

/// What SpinKube's engine (containerd-shim-spin v0.24.0, Spin 3.6.3)
/// answered for a probe scenario, captured by `tests/fixtures/capture.sh
/// spinkube-node` (RUST_BACKTRACE=1, PostgreSQL 15, the database's port
/// written as 55491) into `fixtures/shim-0.24.0/<scenario>.json`. The runner
/// follows the engine production runs; `spin up` 3.6.3 differs in the first
/// line of a text error (docs/runner.md).
fn shim_0_24_0(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/shim-0.24.0/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    normalise(serde_json::from_str(&text).unwrap())
}

/// Drops what differs from run to run: a stack trace (present when
/// RUST_BACKTRACE is set; Spin's frames are `<unknown>`), the temporary
/// schema's number and the port of a dead server.
fn normalise(value: Value) -> Value {
    let Value::Object(map) = value else {
        return value;
    };
    let mut out = serde_json::Map::new();
    for (key, v) in map {
        let v = match v {
            Value::String(s) => Value::String(normalise_text(&s)),
            other => other,
        };
        out.insert(key, v);
    }
    Value::Object(out)
}

fn normalise_text(s: &str) -> String {
    // In the guest's Debug text the trace is an escaped run inside a string:
    // from `\n\nStack backtrace:` to the string's closing (unescaped) quote.
    const TRACE: &str = r"\n\nStack backtrace:";
    let mut s = s.to_owned();
    while let Some(start) = s.find(TRACE) {
        let rest = &s[start..];
        let end = rest
            .char_indices()
            .find(|&(i, c)| c == '"' && !rest[..i].ends_with('\\'))
            .map_or(rest.len(), |(i, _)| i);
        s.replace_range(start..start + end, "");
    }
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(i) = rest.find("pg_temp_") {
        out.push_str(&rest[..i + "pg_temp_".len()]);
        rest = rest[i + "pg_temp_".len()..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push('N');
    }
    out.push_str(rest);
    out
}

/// Each error path answers as SpinKube's shim did, text for text.
#[tokio::test]
async fn error_paths_answer_like_the_shim() {
    let pg = Postgres::start();
    let app = start_with(&pg).await;
    for scenario in [
        "unique-returning",
        "unique-execute",
        "bad-param-query",
        "bad-param-execute",
        "timestamptz-read",
        "timestamptz-bind",
        "str-to-uuid",
        "syntax-error",
        "empty",
        "too-big",
    ] {
        let ours = normalise(pg_probe(&app, "/api", scenario).await);
        assert_eq!(ours, shim_0_24_0(scenario), "scenario {scenario}");
    }
    // `deeper` may reach only db.invalid:5432.
    let ours = normalise(pg_probe(&app, "/api/deeper", "select-one").await);
    // (captured with the database on port 55491)
    let port = pg.host().rsplit(':').next().unwrap().to_owned();
    let theirs = shim_0_24_0("denied-host")
        .to_string()
        .replace("55491", &port);
    assert_eq!(ours.to_string(), theirs);
    app.shutdown().await;
}

/// A unique violation raised by `INSERT … RETURNING` reaches the guest only
/// as text, with no SQLSTATE, and (as under SpinKube's shim) the server's
/// message only under `Caused by:`: the shape `mth-shared` must recognise.
#[tokio::test]
async fn unique_violation_while_rows_stream_is_text_without_sqlstate() {
    let pg = Postgres::start();
    let app = start_with(&pg).await;
    let err = pg_probe(&app, "/api", "unique-returning").await["err"]
        .as_str()
        .unwrap()
        .to_owned();
    let text = err
        .strip_prefix("Error::QueryFailed(QueryError::Text(\"")
        .unwrap_or_else(|| panic!("not a text error: {err}"));
    assert!(
        text.starts_with(
            r#"db error\n\nCaused by:\n    ERROR: duplicate key value violates unique constraint \"probe_unique_email_key\"\n    DETAIL: Key (email)=(taken@example.com) already exists."#
        ),
        "{text}"
    );
    assert!(
        !text.contains("23505") && !text.contains("SqlState"),
        "{text}"
    );
    // Through `execute`, the same violation is structured.
    let err = pg_probe(&app, "/api", "unique-execute").await["err"].to_string();
    assert!(err.contains(r#"code: \"23505\""#), "{err}");
    assert!(err.contains("SqlState(E23505)"), "{err}");
    app.shutdown().await;
}

/// A connection refused at `open` reads as the shim's.
#[tokio::test]
async fn dead_server_answers_like_the_shim() {
    let port = pg_harness::free_port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let host = format!("127.0.0.1:{port}");
    let app = common::start_app(&[("db_url", &url), ("db_host", &host)]).await;
    let ours = normalise(pg_probe(&app, "/api", "select-one").await);
    assert_eq!(ours, shim_0_24_0("dead-server"));
    app.shutdown().await;
}
