//! Cross-site request checks and the headers every response carries.

use mth_shared::request::header;
use spin_sdk::http::{Method, Request, Response};

/// Only the app's own files; no inline code, no framing, no other origins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// HSTS for a year, subdomains included: sent only on responses that reached
/// the browser over HTTPS (browsers ignore it over plain HTTP anyway, and a
/// local `make run` on http://127.0.0.1 must stay reachable).
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000; includeSubDomains";

/// Adds the security headers to a response (any response: files, API, errors);
/// `https`: whether the request came over HTTPS ([`is_https`]).
pub fn apply_headers(response: &mut Response, https: bool) {
    if https {
        response.set_header("strict-transport-security", STRICT_TRANSPORT_SECURITY);
    }
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
        (
            "permissions-policy",
            "camera=(), microphone=(), geolocation=()",
        ),
    ] {
        response.set_header(name, value);
    }
}

/// Methods that may change something; they must come from our own pages.
pub fn is_state_changing(method: &Method) -> bool {
    !matches!(method, Method::Get | Method::Head | Method::Options)
}

/// Whether a request was sent by a page of this origin.
///
/// A browser marks every cross-site request: `Sec-Fetch-Site` (anything but
/// `same-origin` is refused) and, on all non-GET requests, `Origin`, whose
/// host must be the one the request was sent to. A request with neither is
/// not from a current browser's page and is refused too.
pub fn is_same_origin(
    origin: Option<&str>,
    sec_fetch_site: Option<&str>,
    host: Option<&str>,
) -> bool {
    if let Some(site) = sec_fetch_site
        && !site.trim().eq_ignore_ascii_case("same-origin")
    {
        return false;
    }
    match origin {
        Some(origin) => {
            let Some((scheme, authority)) = origin.trim().split_once("://") else {
                return false; // includes the opaque origin "null"
            };
            let Some(host) = host else {
                return false;
            };
            (scheme == "http" || scheme == "https")
                && !authority.is_empty()
                && !authority.contains('/')
                && normalize(authority, scheme) == normalize(host.trim(), scheme)
        }
        None => sec_fetch_site.is_some(),
    }
}

/// Lower-cased authority without the scheme's default port.
fn normalize(authority: &str, scheme: &str) -> String {
    let authority = authority.to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    authority
        .strip_suffix(default_port)
        .map(str::to_owned)
        .unwrap_or(authority)
}

/// The host the browser addressed: the `Host` header, else the URI's authority.
pub fn request_host(req: &Request) -> Option<String> {
    if let Some(host) = header(req, "host") {
        return Some(host.to_owned());
    }
    let uri = req.uri();
    let rest = uri.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    (!authority.is_empty()).then(|| authority.to_owned())
}

/// Whether the browser reached us over HTTPS (directly or through the ingress).
pub fn is_https(req: &Request) -> bool {
    let forwarded = header(req, "x-forwarded-proto")
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().eq_ignore_ascii_case("https"));
    forwarded.unwrap_or_else(|| req.uri().starts_with("https://"))
}

/// Checks a request that may change state; `Ok` for reads.
pub fn check_origin(req: &Request) -> Result<(), mth_shared::ApiError> {
    if !is_state_changing(req.method()) {
        return Ok(());
    }
    let host = request_host(req);
    if is_same_origin(
        header(req, "origin"),
        header(req, "sec-fetch-site"),
        host.as_deref(),
    ) {
        Ok(())
    } else {
        Err(mth_shared::ApiError::new(
            403,
            "Cross-site request refused: changes can only be made from this site's own pages.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: Option<&str> = Some("app.example.com");

    #[test]
    fn same_origin_requests_pass() {
        assert!(is_same_origin(
            Some("https://app.example.com"),
            Some("same-origin"),
            HOST
        ));
        assert!(is_same_origin(Some("http://app.example.com"), None, HOST));
        assert!(is_same_origin(
            Some("http://127.0.0.1:8080"),
            None,
            Some("127.0.0.1:8080")
        ));
        assert!(is_same_origin(
            Some("https://APP.example.com:443"),
            None,
            HOST
        ));
        assert!(is_same_origin(None, Some("same-origin"), HOST));
    }

    #[test]
    fn cross_origin_requests_are_refused() {
        assert!(!is_same_origin(Some("https://evil.example"), None, HOST));
        assert!(!is_same_origin(
            Some("https://app.example.com.evil.example"),
            None,
            HOST
        ));
        assert!(!is_same_origin(
            Some("http://127.0.0.1:9999"),
            None,
            Some("127.0.0.1:8080")
        ));
        assert!(!is_same_origin(Some("null"), None, HOST));
        assert!(!is_same_origin(Some("ftp://app.example.com"), None, HOST));
        assert!(!is_same_origin(
            Some("https://app.example.com/x"),
            None,
            HOST
        ));
        assert!(!is_same_origin(Some("https://"), None, HOST));
        // Sec-Fetch-Site wins over a matching Origin.
        assert!(!is_same_origin(
            Some("https://app.example.com"),
            Some("cross-site"),
            HOST
        ));
        assert!(!is_same_origin(None, Some("same-site"), HOST));
        assert!(!is_same_origin(None, Some("none"), HOST));
    }

    #[test]
    fn requests_without_any_marker_or_host_are_refused() {
        assert!(!is_same_origin(None, None, HOST));
        assert!(!is_same_origin(Some("https://app.example.com"), None, None));
    }

    #[test]
    fn only_reads_are_exempt() {
        assert!(!is_state_changing(&Method::Get));
        assert!(!is_state_changing(&Method::Head));
        for m in [Method::Post, Method::Put, Method::Patch, Method::Delete] {
            assert!(is_state_changing(&m));
        }
    }

    #[test]
    fn uses_forwarded_proto_and_host() {
        let request = |method, uri, headers: &[(&str, &str)]| {
            let mut builder = Request::builder();
            builder.method(method).uri(uri);
            for (name, value) in headers {
                builder.header(*name, *value);
            }
            builder.build()
        };
        let req = request(
            Method::Post,
            "http://10.0.0.1:80/auth/login",
            &[
                ("host", "app.example.com"),
                ("x-forwarded-proto", "https"),
                ("origin", "https://app.example.com"),
            ],
        );
        assert!(is_https(&req));
        assert!(check_origin(&req).is_ok());

        let local = "http://127.0.0.1:3000/api/users/x";
        let bare = request(
            Method::Delete,
            local,
            &[("origin", "http://127.0.0.1:3000")],
        );
        assert!(!is_https(&bare));
        assert_eq!(request_host(&bare).as_deref(), Some("127.0.0.1:3000"));
        assert!(check_origin(&bare).is_ok());

        let evil = request(Method::Delete, local, &[("origin", "http://attacker:3000")]);
        assert_eq!(check_origin(&evil).unwrap_err().status, 403);
    }

    #[test]
    fn hsts_only_over_https() {
        let hsts = |https| {
            let mut response = Response::new(200, ());
            apply_headers(&mut response, https);
            response
                .header("strict-transport-security")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        assert_eq!(hsts(true).as_deref(), Some(STRICT_TRANSPORT_SECURITY));
        assert_eq!(hsts(false), None);
    }
}
