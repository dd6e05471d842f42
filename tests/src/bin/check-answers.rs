//! `check-answers FILE`: checks answers recorded elsewhere (the browser
//! tests: tests/browser/stack.mjs, one JSON line per answer, the body in
//! base64) against docs/openapi.json, with the same checks the API suites'
//! client makes ([`api_tests::contract`]). Prints each contradiction and
//! "answers: N passed, N failed"; exits non-zero if any failed.

use std::process::ExitCode;

use api_tests::contract::contract;
use base64::prelude::{BASE64_STANDARD, Engine};
use serde_json::Value;

fn main() -> ExitCode {
    let Some(file) = std::env::args().nth(1) else {
        eprintln!("usage: check-answers FILE");
        return ExitCode::from(2);
    };
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let (mut passed, mut failed) = (0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let answer: Value = serde_json::from_str(line).expect("a JSON line");
        let text = |key: &str| answer[key].as_str().unwrap_or_default().to_owned();
        let mut headers = http::HeaderMap::new();
        for (name, value) in answer["headers"].as_object().into_iter().flatten() {
            if let (Ok(name), Some(Ok(value))) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                value.as_str().map(http::HeaderValue::from_str),
            ) {
                headers.append(name, value);
            }
        }
        let body = BASE64_STANDARD.decode(text("body")).expect("a base64 body");
        let status = answer["status"].as_u64().unwrap_or_default() as u16;
        match contract().check(&text("method"), &text("path"), status, &headers, &body) {
            Ok(()) => passed += 1,
            Err(contradiction) => {
                failed += 1;
                println!("{}: {contradiction}", text("test"));
            }
        }
    }
    println!("answers: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
