//! Spin's HTTP routing: exact routes beat wildcards, the longest wildcard
//! prefix wins, `/...` also matches the bare prefix, a duplicated route is
//! taken over by the later trigger, private routes are never routed.

use std::fmt;

use anyhow::{Result, bail};

use crate::manifest::{HttpTrigger, RouteDef};

pub const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    /// Path with no trailing slash; the root route is "".
    Exact(String),
    /// Prefix with no trailing slash; `/...` is "".
    Wildcard(String),
}

#[derive(Debug, Clone)]
pub struct Route {
    pub component: String,
    /// As written in the manifest (`spin-raw-component-route`).
    pub raw: String,
    /// Normalised with the base "/" (`spin-matched-route`).
    pub based: String,
    pattern: Pattern,
}

impl fmt::Display for Route {
    /// The form Spin prints under "Available Routes".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pattern {
            Pattern::Exact(p) => write!(f, "{p}"),
            Pattern::Wildcard(p) => write!(f, "{p} (wildcard)"),
        }
    }
}

/// The outcome of routing one request: the values of Spin's routing headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    pub component: String,
    pub matched_route: String,
    pub raw_route: String,
    pub component_route: String,
    pub path_info: String,
}

impl RouteMatch {
    /// What a service-chained request sees: Spin bypasses the router and
    /// pretends the target was reached through a `/...` route.
    pub fn chained(component: &str, path: &str) -> Self {
        Self {
            component: component.to_string(),
            matched_route: "/...".into(),
            raw_route: "/...".into(),
            component_route: String::new(),
            path_info: path.to_string(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    pub fn build(triggers: &[HttpTrigger]) -> Result<Self> {
        let mut routes: Vec<Route> = Vec::new();
        for trigger in triggers {
            let raw = match &trigger.route {
                RouteDef::Path(p) => p.clone(),
                RouteDef::Private(_) => continue,
            };
            let based = with_base(&raw);
            let pattern = if let Some(prefix) = based
                .strip_suffix("/...")
                .or_else(|| based.strip_suffix("/*"))
            {
                Pattern::Wildcard(prefix.to_string())
            } else {
                Pattern::Exact(based.clone())
            };
            let text = match &pattern {
                Pattern::Exact(p) | Pattern::Wildcard(p) => p,
            };
            if text
                .split('/')
                .any(|s| s.starts_with(':') || s == "*" || s == "...")
            {
                bail!(
                    "route {raw} (component '{}'): named or inner wildcards are not supported by this runner",
                    trigger.component
                );
            }
            let route = Route {
                component: trigger.component.clone(),
                raw,
                based,
                pattern,
            };
            // Spin keys routes by their raw text; a later duplicate replaces
            // the earlier one in place.
            if let Some(existing) = routes.iter_mut().find(|r| r.raw == route.raw) {
                eprintln!(
                    "error: the following component routes are duplicates and will never be used:\n  {}: {} (duplicate of {})",
                    existing.component,
                    if existing.based.is_empty() {
                        "/"
                    } else {
                        &existing.based
                    },
                    route.component
                );
                *existing = route;
            } else {
                routes.push(route);
            }
        }
        if routes
            .iter()
            .any(|r| r.based.starts_with(WELL_KNOWN_PREFIX))
        {
            eprintln!(
                "error: routes under {WELL_KNOWN_PREFIX} are handled by the runtime and will never be reached"
            );
        }
        Ok(Self { routes })
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Routes a request path (no query string).
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let trimmed = path.trim_end_matches('/');
        let exact = self
            .routes
            .iter()
            .find(|r| matches!(&r.pattern, Pattern::Exact(p) if p == trimmed));
        if let Some(route) = exact {
            return Some(make_match(route, String::new()));
        }
        self.routes
            .iter()
            .filter_map(|r| match &r.pattern {
                Pattern::Wildcard(prefix) if wildcard_matches(prefix, path) => {
                    Some((prefix.len(), r, prefix))
                }
                _ => None,
            })
            // Longest prefix; on a tie the earlier route (stable max_by_key
            // would pick the last, hence the reversed comparison).
            .fold(
                None,
                |best: Option<(usize, &Route, &String)>, cand| match best {
                    Some(b) if b.0 >= cand.0 => Some(b),
                    _ => Some(cand),
                },
            )
            .map(|(_, route, prefix)| make_match(route, path[prefix.len()..].to_string()))
    }
}

fn wildcard_matches(prefix: &str, path: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

fn make_match(route: &Route, path_info: String) -> RouteMatch {
    RouteMatch {
        component: route.component.clone(),
        matched_route: route.based.clone(),
        raw_route: route.raw.clone(),
        component_route: route
            .raw
            .strip_suffix("/...")
            .unwrap_or(&route.raw)
            .to_string(),
        path_info,
    }
}

/// Spin's `sanitize_with_base("/", route)`: absolute, one trailing slash dropped.
fn with_base(raw: &str) -> String {
    let abs = if raw.starts_with('/') {
        raw.to_string()
    } else {
        format!("/{raw}")
    };
    abs.strip_suffix('/').map(str::to_string).unwrap_or(abs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        let triggers: Vec<HttpTrigger> = routes
            .iter()
            .map(|(c, r)| HttpTrigger {
                id: None,
                route: RouteDef::Path(r.to_string()),
                component: c.to_string(),
            })
            .collect();
        Router::build(&triggers).unwrap()
    }

    fn comp(r: &Router, path: &str) -> Option<String> {
        r.route(path).map(|m| m.component)
    }

    #[test]
    fn exact_and_wildcards() {
        let r = router(&[
            ("all", "/..."),
            ("one", "/one/..."),
            ("onetwo", "/one/two/..."),
            ("exact", "/one/two"),
            ("root", "/"),
        ]);
        assert_eq!(comp(&r, "/one/two/three").as_deref(), Some("onetwo"));
        assert_eq!(comp(&r, "/one/two").as_deref(), Some("exact"));
        assert_eq!(comp(&r, "/one/two/").as_deref(), Some("exact"));
        assert_eq!(comp(&r, "/one").as_deref(), Some("one"));
        assert_eq!(comp(&r, "/onex").as_deref(), Some("all"));
        assert_eq!(comp(&r, "/").as_deref(), Some("root"));
    }

    #[test]
    fn unmatched_is_none() {
        let r = router(&[("a", "/a"), ("b", "/b/...")]);
        assert!(r.route("/c").is_none());
        assert!(r.route("/bb").is_none());
        assert_eq!(comp(&r, "/b").as_deref(), Some("b"));
    }

    #[test]
    fn path_info_like_spin() {
        let r = router(&[("c", "/test/...")]);
        assert_eq!(r.route("/test").unwrap().path_info, "");
        assert_eq!(r.route("/test/").unwrap().path_info, "/");
        assert_eq!(r.route("/test/hello").unwrap().path_info, "/hello");
        assert_eq!(r.route("/test/hello/").unwrap().path_info, "/hello/");
        let r = router(&[("c", "/...")]);
        assert_eq!(r.route("/1/2/3").unwrap().path_info, "/1/2/3");
    }

    #[test]
    fn header_values_like_spin() {
        let r = router(&[("c", "/foo/...")]);
        let m = r.route("/foo/bar").unwrap();
        assert_eq!(m.matched_route, "/foo/...");
        assert_eq!(m.raw_route, "/foo/...");
        assert_eq!(m.component_route, "/foo");
        assert_eq!(m.path_info, "/bar");
        let r = router(&[("c", "/...")]);
        assert_eq!(r.route("/x").unwrap().component_route, "");
    }

    #[test]
    fn duplicate_last_wins() {
        let r = router(&[("first", "/foo"), ("second", "/foo")]);
        assert_eq!(r.routes().len(), 1);
        assert_eq!(comp(&r, "/foo").as_deref(), Some("second"));
    }

    #[test]
    fn display() {
        let r = router(&[("a", "/whee/..."), ("b", "/x")]);
        assert_eq!(r.routes()[0].to_string(), "/whee (wildcard)");
        assert_eq!(r.routes()[1].to_string(), "/x");
    }
}
