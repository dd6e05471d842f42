//! The UI's static files, read from the guest directory `/static` (the host's
//! `static/`, mounted read-only).
//!
//! URLs map to files only through [`resolve`], which accepts plain names and
//! nothing else, so no URL can reach outside the mount.

use sha2::{Digest, Sha256};
use spin_sdk::http::{Method, Request, Response};

use mth_shared::ApiError;

use mth_shared::request::header;

/// Where the files are in the guest.
pub const ROOT: &str = "/static";
/// The single page: every client-side route of the app gets it.
pub const INDEX: &str = "/static/index.html";
/// The API reference page (`GET /api/docs`): Swagger UI, vendored in
/// `static/vendor/swagger-ui/`, showing `/api/openapi.json`.
pub const API_DOCS: &str = "/static/api-docs.html";
/// The app's own client-side routes.
pub const APP_ROUTES: &[&str] = &[
    "/",
    "/board",
    "/team",
    "/account",
    "/transfer",
    "/set-password",
];

/// The guest file for a URL path, or `None` for anything that is not a plain
/// path to a file under `/static/` or an app route.
pub fn resolve(path: &str) -> Option<String> {
    if APP_ROUTES.contains(&path) {
        return Some(INDEX.to_owned());
    }
    let rest = path.strip_prefix("/static/")?;
    let plain = rest.split('/').all(|segment| {
        !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    });
    plain.then(|| format!("{ROOT}/{rest}"))
}

/// The media type for a file, by extension.
pub fn content_type(file: &str) -> &'static str {
    let extension = file
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A strong validator from the file's content.
pub fn etag(content: &[u8]) -> String {
    let digest = Sha256::digest(content);
    format!("\"{}\"", mth_shared::hex::encode(&digest[..16]))
}

/// Whether an `If-None-Match` header matches `etag` (weak comparison, as for GET).
pub fn not_modified(if_none_match: &str, etag: &str) -> bool {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    if_none_match
        .split(',')
        .any(|tag| tag.trim() == "*" || bare(tag) == bare(etag))
}

fn not_found() -> ApiError {
    ApiError::not_found("Nothing here: no such page or file.")
}

/// Serves a GET or HEAD for a file or app route.
pub fn serve(req: &Request) -> Result<Response, ApiError> {
    let file = resolve(req.path()).ok_or_else(not_found)?;
    if !matches!(req.method(), Method::Get | Method::Head) {
        return Err(ApiError::method_not_allowed(&[Method::Get, Method::Head]));
    }
    serve_file(req, &file)
}

/// Serves a GET or HEAD with one guest file (a path under [`ROOT`]).
pub fn serve_file(req: &Request, file: &str) -> Result<Response, ApiError> {
    let content = match std::fs::read(file) {
        Ok(content) => content,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        // A directory, or anything else that is not a readable file.
        Err(_) if std::fs::metadata(file).is_ok_and(|m| m.is_dir()) => return Err(not_found()),
        Err(e) => {
            return Err(ApiError::internal(format!(
                "Could not read a UI file: {e}."
            )));
        }
    };
    Ok(cacheable(req, content, content_type(file)))
}

/// A 200 with `content` (or a 304 when the browser has it), revalidated on
/// every use (`no-cache`: names are not fingerprinted).
pub fn cacheable(req: &Request, content: Vec<u8>, content_type: &str) -> Response {
    let tag = etag(&content);
    let mut builder = Response::builder();
    builder
        .header("etag", tag.clone())
        .header("cache-control", "no-cache");
    if header(req, "if-none-match").is_some_and(|inm| not_modified(inm, &tag)) {
        return builder.status(304).build();
    }
    builder.status(200).header("content-type", content_type);
    if *req.method() == Method::Head {
        return builder.build();
    }
    builder.body(content).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_routes_get_the_index_and_files_themselves() {
        for (path, file) in [
            ("/", Some(INDEX)),
            ("/team", Some(INDEX)),
            ("/board", Some(INDEX)),
            ("/nope", None),
            ("/index.html", None),
            ("/static/js/app.js", Some("/static/js/app.js")),
            ("/static/app-v1_2.css", Some("/static/app-v1_2.css")),
        ] {
            assert_eq!(resolve(path).as_deref(), file, "{path}");
        }
    }

    #[test]
    fn traversal_and_odd_paths_are_refused() {
        for path in [
            "/static/../Cargo.toml",
            "/static/js/../../spin.toml",
            "/static/..",
            "/static/.",
            "/static/./app.js",
            "/static/%2e%2e/spin.toml",
            "/static/%2E%2E%2Fspin.toml",
            "/static/..%2fspin.toml",
            "/static/..\\spin.toml",
            "/static/js//app.js",
            "/static/",
            "/static",
            "/static/.hidden",
            "/static/a b.js",
            "/static/app.js\0",
            "/static//etc/passwd",
            "/../static/index.html",
        ] {
            assert_eq!(resolve(path), None, "{path}");
        }
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(
            content_type("/static/index.html"),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type("/static/app.CSS"), "text/css; charset=utf-8");
        assert_eq!(
            content_type("/static/js/app.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("/static/icon.svg"), "image/svg+xml");
        assert_eq!(content_type("/static/x.png"), "image/png");
        assert_eq!(content_type("/static/README"), "application/octet-stream");
        assert_eq!(content_type("/static/x.exe"), "application/octet-stream");
    }

    #[test]
    fn etags_follow_content_and_match_if_none_match() {
        let a = etag(b"one");
        assert_eq!(a, etag(b"one"));
        assert_ne!(a, etag(b"two"));
        assert!(a.starts_with('"') && a.ends_with('"') && a.len() == 34);
        assert!(not_modified(&a, &a));
        assert!(not_modified(&format!("\"x\", W/{a}"), &a));
        assert!(not_modified("*", &a));
        assert!(!not_modified("\"x\"", &a));
        assert!(!not_modified("", &a));
    }
}
