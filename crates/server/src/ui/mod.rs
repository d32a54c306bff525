//! The built-in web page (`[ui] enabled = true`): sign in, pick an agent, chat with it over the
//! stream endpoint, sign out.
//!
//! Plain HTML, CSS and JavaScript embedded in the binary, with no build step and no request to
//! any other origin. The files are public (a person must be able to load the page to sign in);
//! everything the page shows comes from the API under the API's own auth, with the session cookie
//! the browser sign-in sets (`{api_prefix}/auth/*`), or with no auth at all when it is off.
//!
//! Every answer carries a Content-Security-Policy that allows only this origin's own script,
//! styles and API, and no framing: the page runs no inline script and loads nothing else.

use axum::Router;
use axum::body::Bytes;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use http::{HeaderName, HeaderValue, header};
use mastra_auth::pattern::{MethodSet, PathMatcher, RoutePattern};
use mastra_auth::policy::RouteFlag;

/// Where the page lives; `/ui` redirects to [`INDEX_PATH`].
pub const UI_PATH: &str = "/ui";

/// The page itself.
pub const INDEX_PATH: &str = "/ui/";

/// The page's script.
pub const SCRIPT_PATH: &str = "/ui/app.js";

/// The page's styles.
pub const STYLE_PATH: &str = "/ui/app.css";

/// The Content-Security-Policy of every answer: this origin's script, styles, images and API
/// only; no plugins, no `<base>`, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

const INDEX_HTML: &str = include_str!("index.html");
const APP_JS: &str = include_str!("app.js");
const APP_CSS: &str = include_str!("app.css");

/// Placeholder in `index.html` replaced with the API prefix, which the script reads from a
/// `<meta>` element (no inline script).
const API_PREFIX_PLACEHOLDER: &str = "{{API_PREFIX}}";

/// The page's routes: `/ui` (redirect), `/ui/`, `/ui/app.js`, `/ui/app.css`.
pub fn router<S>(api_prefix: &str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let index = Bytes::from(index_html(api_prefix));
    Router::new()
        .route(UI_PATH, get(|| async { Redirect::permanent(INDEX_PATH) }))
        .route(
            INDEX_PATH,
            get(move || {
                let index = index.clone();
                async move { asset(index, "text/html; charset=utf-8") }
            }),
        )
        .route(
            SCRIPT_PATH,
            get(|| async { asset(Bytes::from_static(APP_JS.as_bytes()), "text/javascript") }),
        )
        .route(
            STYLE_PATH,
            get(|| async { asset(Bytes::from_static(APP_CSS.as_bytes()), "text/css") }),
        )
}

/// The page's routes as the auth layer sees them: public, so that a person can load the page
/// and sign in even when `[auth] protected` covers every path.
pub fn route_flags() -> Vec<RouteFlag> {
    [UI_PATH, INDEX_PATH, SCRIPT_PATH, STYLE_PATH]
        .into_iter()
        .filter_map(|template| {
            // Fixed literal paths: a matcher always builds.
            let path = PathMatcher::pattern(template).ok()?;
            // The policy ranks HEAD with GET, as the router does.
            let methods = MethodSet::only([http::Method::GET]);
            Some(RouteFlag {
                methods: methods.clone(),
                template: template.to_string(),
                pattern: RoutePattern { path, methods },
                requires_auth: false,
                // Public: no permission is ever asked for.
                permission: None,
            })
        })
        .collect()
}

/// `index.html` pointing the script at `api_prefix`.
pub fn index_html(api_prefix: &str) -> String {
    INDEX_HTML.replace(API_PREFIX_PLACEHOLDER, &escape_attribute(api_prefix))
}

/// Escapes text for a double-quoted HTML attribute. The config already limits the prefix to
/// URL-safe characters; escaping keeps the page correct whatever a caller passes.
fn escape_attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// A file with its type and the page's security headers. `no-cache`: the files are small and
/// change with the binary, so the browser revalidates rather than run an old script.
fn asset(body: Bytes, content_type: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_names_the_prefix_and_loads_only_own_files() {
        let html = index_html("/v1/x");
        assert!(html.contains(r#"<meta name="mastra-api-prefix" content="/v1/x">"#));
        assert!(!html.contains(API_PREFIX_PLACEHOLDER));
        assert!(html.contains(r#"<script src="/ui/app.js" defer></script>"#));
        assert!(html.contains(r#"<link rel="stylesheet" href="/ui/app.css">"#));
        // No inline script, no other origin.
        assert_eq!(html.matches("<script").count(), 1);
        for text in [&html, APP_JS, APP_CSS] {
            assert!(!text.contains("http://") && !text.contains("https://"));
            assert!(!text.contains("//cdn"));
        }
    }

    #[test]
    fn attribute_escaping() {
        assert_eq!(
            escape_attribute(r#"/a"><script>&'"#),
            "/a&quot;&gt;&lt;script&gt;&amp;&#39;"
        );
    }

    #[test]
    fn every_route_is_public() {
        let flags = route_flags();
        assert_eq!(flags.len(), 4);
        assert!(flags.iter().all(|f| !f.requires_auth));
    }
}
