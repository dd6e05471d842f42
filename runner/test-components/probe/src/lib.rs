//! The runner's test component. Without an `x-probe` header it echoes the
//! request (method, URI, headers, its own `name` variable) as JSON; with one
//! it exercises a host interface and answers `{"ok": ...}` or `{"err": ...}`
//! (errors as the guest sees them, in Debug form), always with status 200 so
//! tests can tell a guest-visible error from a trap (a 500).
//!
//! - `var:<name>`      spin variables `get`
//! - `file:<path>`     read a file from the `files` mounts
//! - `fetch:<url>`     outbound HTTP GET
//! - `fetch-within:<ms>:<url>` outbound GET with wasi-http request options
//!   (connect and first-byte timeouts of `<ms>`) and no deadline of its own,
//!   so the answer shows whether the host enforces them
//! - `pg:<scenario>`   Postgres at the `db_url` variable (see `pg`)
//! - `kv-set:<label>:<key>=<value>`, `kv-get:<label>:<key>` a key-value store

use serde_json::{Value, json};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;
use spin_sdk::pg4::{Connection, ParameterValue};

#[http_component]
async fn handle(req: Request) -> anyhow::Result<Response> {
    let probe = req
        .header("x-probe")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let body = match probe.as_deref() {
        None => echo(&req),
        Some(p) => match p.split_once(':') {
            Some(("var", name)) => result(spin_sdk::variables::get(name).map(Value::from)),
            Some(("file", path)) => match std::fs::read_to_string(path) {
                Ok(s) => json!({ "ok": s }),
                Err(e) => json!({ "err": e.to_string() }),
            },
            Some(("write", path)) => result(std::fs::write(path, "x").map(|()| "written")),
            Some(("fetch", url)) => fetch(url).await,
            Some(("fetch-within", rest)) => match rest.split_once(':') {
                Some((ms, url)) => fetch_within(ms.parse().unwrap_or(0), url),
                None => json!({ "err": "fetch-within:<ms>:<url>" }),
            },
            Some(("pg", scenario)) => pg(scenario),
            Some(("kv-set", rest)) => kv_set(rest),
            Some(("kv-get", rest)) => kv_get(rest),
            _ => json!({ "err": format!("unknown probe {p}") }),
        },
    };
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.to_string())
        .build())
}

fn result<T: Into<Value>, E: std::fmt::Debug>(r: Result<T, E>) -> Value {
    match r {
        Ok(v) => json!({ "ok": v.into() }),
        Err(e) => json!({ "err": format!("{e:?}") }),
    }
}

fn kv_set(rest: &str) -> Value {
    let Some((label, pair)) = rest.split_once(':') else {
        return json!({ "err": "kv-set:<label>:<key>=<value>" });
    };
    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
    result(
        Store::open(label)
            .and_then(|s| s.set(key, value.as_bytes()))
            .map(|()| "set"),
    )
}

fn kv_get(rest: &str) -> Value {
    let Some((label, key)) = rest.split_once(':') else {
        return json!({ "err": "kv-get:<label>:<key>" });
    };
    result(
        Store::open(label)
            .and_then(|s| s.get(key))
            .map(|v| v.map(|v| String::from_utf8_lossy(&v).into_owned())),
    )
}

fn echo(req: &Request) -> Value {
    let headers: serde_json::Map<String, Value> = req
        .headers()
        .map(|(k, v)| (k.to_string(), Value::from(v.as_str().unwrap_or_default())))
        .collect();
    json!({
        "name": spin_sdk::variables::get("name").ok(),
        "method": req.method().to_string(),
        "uri": req.uri(),
        "path": req.path(),
        "headers": headers,
    })
}

async fn fetch(url: &str) -> Value {
    let request = Request::get(url).build();
    match spin_sdk::http::send::<_, Response>(request).await {
        Ok(resp) => json!({ "ok": {
            "status": *resp.status(),
            "body": String::from_utf8_lossy(resp.body()),
        }}),
        Err(e) => json!({ "err": format!("{e:?}") }),
    }
}

fn fetch_within(millis: u64, url: &str) -> Value {
    use spin_sdk::http::{Fields, OutgoingRequest, Scheme};
    use spin_sdk::wit::wasi::http0_2_0::{outgoing_handler, types::RequestOptions};

    let Some((authority, path)) = url
        .strip_prefix("http://")
        .map(|rest| rest.split_at(rest.find('/').unwrap_or(rest.len())))
    else {
        return json!({ "err": "only http:// URLs" });
    };
    let request = OutgoingRequest::new(Fields::new());
    let _ = request.set_scheme(Some(&Scheme::Http));
    let _ = request.set_authority(Some(authority));
    let _ = request.set_path_with_query(Some(if path.is_empty() { "/" } else { path }));
    let options = RequestOptions::new();
    let nanos = millis * 1_000_000;
    let _ = options.set_connect_timeout(Some(nanos));
    let _ = options.set_first_byte_timeout(Some(nanos));
    let pending = match outgoing_handler::handle(request, Some(options)) {
        Ok(pending) => pending,
        Err(e) => return json!({ "err": format!("{e:?}") }),
    };
    pending.subscribe().block();
    match pending.get() {
        Some(Ok(Ok(response))) => json!({ "ok": { "status": response.status() } }),
        Some(Ok(Err(e))) => json!({ "err": format!("{e:?}") }),
        other => json!({ "err": format!("unexpected {other:?}") }),
    }
}

/// Each scenario reports what the guest got back.
// The error type is the SDK's; the probe only formats it.
#[allow(clippy::result_large_err)]
fn pg(scenario: &str) -> Value {
    let url = match spin_sdk::variables::get("db_url") {
        Ok(u) => u,
        Err(e) => return json!({ "err": format!("{e:?}") }),
    };
    let db = match Connection::open(&url) {
        Ok(db) => db,
        Err(e) => return json!({ "err": format!("{e:?}") }),
    };
    let outcome = match scenario {
        "roundtrip" => roundtrip(&db),
        "timestamptz-read" => db.query("SELECT now() AS t", &[]).map(|r| debug_rows(&r)),
        "timestamptz-bind" => db
            .query(
                "SELECT $1::timestamptz AS t",
                &[ParameterValue::Datetime((2024, 5, 6, 7, 8, 9, 0))],
            )
            .map(|r| debug_rows(&r)),
        "str-to-uuid" => db
            .query(
                "SELECT $1::uuid AS u",
                &[ParameterValue::Str(
                    "6f1c1f5e-5d7b-4f43-9b7e-3f1d2f0c8a11".into(),
                )],
            )
            .map(|r| debug_rows(&r)),
        "syntax-error" => db.query("SELEC 1", &[]).map(|r| debug_rows(&r)),
        "empty" => db
            .query("SELECT 1 AS one WHERE false", &[])
            .map(|r| debug_rows(&r)),
        "execute" => db
            .execute("SELECT generate_series(1, 3)", &[])
            .map(|n| json!(n)),
        "select-one" => db.query("SELECT 1 AS one", &[]).map(|r| debug_rows(&r)),
        // A unique violation raised while rows stream (INSERT ... RETURNING
        // through `query`), and the same violation through `execute`.
        "unique-returning" => unique_twice(&db, |db, sql, p| {
            db.query(&format!("{sql} RETURNING email"), p)
                .map(|r| debug_rows(&r))
        }),
        "unique-execute" => unique_twice(&db, |db, sql, p| db.execute(sql, p).map(|n| json!(n))),
        // A parameter the host cannot convert (there is no 30 February).
        "bad-param-query" => db
            .query(
                "SELECT $1::date AS d",
                &[ParameterValue::Date((2024, 2, 30))],
            )
            .map(|r| debug_rows(&r)),
        "bad-param-execute" => db
            .execute("SELECT $1::date", &[ParameterValue::Date((2024, 2, 30))])
            .map(|n| json!(n)),
        // 130 rows of 1 MiB: over the host's 128 MiB result limit.
        "too-big" => db
            .query(
                "SELECT repeat('x', 1048576) AS s FROM generate_series(1, 130)",
                &[],
            )
            .map(|r| json!(r.rows.len())),
        other => return json!({ "err": format!("unknown scenario {other}") }),
    };
    result(outcome)
}

fn debug_rows(rs: &spin_sdk::pg4::RowSet) -> Value {
    json!({
        "columns": rs.columns.iter()
            .map(|c| json!([c.name, format!("{:?}", c.data_type)]))
            .collect::<Vec<_>>(),
        "rows": rs.rows.iter()
            .map(|row| row.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
    })
}

/// Inserts one email twice into a fresh table with a named unique
/// constraint; the second insert's error is the outcome.
#[allow(clippy::result_large_err)]
fn unique_twice(
    db: &Connection,
    insert: impl Fn(&Connection, &str, &[ParameterValue]) -> Result<Value, spin_sdk::pg4::PgError>,
) -> Result<Value, spin_sdk::pg4::PgError> {
    db.execute(
        "CREATE TEMP TABLE IF NOT EXISTS probe_unique (
            email text CONSTRAINT probe_unique_email_key UNIQUE)",
        &[],
    )?;
    db.execute("DELETE FROM probe_unique", &[])?;
    let sql = "INSERT INTO probe_unique (email) VALUES ($1)";
    let params = [ParameterValue::Str("taken@example.com".into())];
    insert(db, sql, &params)?;
    insert(db, sql, &params)
}

/// Writes one value of every supported type and reads it back.
// The error type is the SDK's; the probe only formats it.
#[allow(clippy::result_large_err)]
fn roundtrip(db: &Connection) -> Result<Value, spin_sdk::pg4::PgError> {
    db.execute(
        "CREATE TEMP TABLE IF NOT EXISTS probe_values (
            s text, i2 int2, i4 int4, i8 int8, b bool, ts timestamp, d date,
            u uuid, n text, f4 float4, f8 float8, j jsonb, dec numeric, tm time,
            by bytea, ai int4[], ast text[])",
        &[],
    )?;
    db.execute("DELETE FROM probe_values", &[])?;
    let params = [
        ParameterValue::Str("héllo".into()),
        ParameterValue::Int16(-12),
        ParameterValue::Int32(1_234_567),
        ParameterValue::Int64(-9_000_000_000),
        ParameterValue::Boolean(true),
        ParameterValue::Datetime((2024, 2, 29, 13, 14, 15, 123_456_000)),
        ParameterValue::Date((1999, 12, 31)),
        ParameterValue::Uuid("6f1c1f5e-5d7b-4f43-9b7e-3f1d2f0c8a11".into()),
        ParameterValue::DbNull,
        ParameterValue::Floating32(1.5),
        ParameterValue::Floating64(-2.25),
        ParameterValue::Jsonb(br#"{"a":[1,2]}"#.to_vec()),
        ParameterValue::Decimal("12345.678".into()),
        ParameterValue::Time((23, 59, 58, 0)),
        ParameterValue::Binary(vec![0, 1, 254]),
        ParameterValue::ArrayInt32(vec![Some(1), None, Some(3)]),
        ParameterValue::ArrayStr(vec![Some("x".into()), None]),
    ];
    let inserted = db.execute(
        "INSERT INTO probe_values VALUES
            ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        &params,
    )?;
    let rows = db.query("SELECT * FROM probe_values", &[])?;
    let nulls = db.query(
        "SELECT NULL::int4 AS a, NULL::uuid AS b, NULL::timestamp AS c",
        &[],
    )?;
    Ok(json!({
        "inserted": inserted,
        "values": debug_rows(&rows),
        "nulls": debug_rows(&nulls),
    }))
}
