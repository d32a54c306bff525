//! The built-in page (`[ui]`) over real HTTP: off by default, public files with a strict
//! Content-Security-Policy, no route under `/ui` for custom routes, the API still protected.

use mastra_server::ui::CONTENT_SECURITY_POLICY;
use reqwest::StatusCode;
use reqwest::redirect::Policy;

use crate::support::{client, start_app};

const SECRET: &str = "ui-secret-0123456789abcdef0123456789abcdef";

fn toml(ui: &str, auth_extra: &str) -> String {
    format!(
        r#"
[server]
request_logs = false
[auth]
provider = "jwt"
{auth_extra}
[auth.jwt]
secret = "{SECRET}"
{ui}
"#
    )
}

#[tokio::test]
async fn off_by_default() {
    let base = start_app(&toml("", "")).await;
    for path in ["/ui", "/ui/", "/ui/app.js", "/ui/app.css"] {
        let res = client().get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn serves_its_files_publicly_with_a_strict_policy() {
    // Even with every path protected, the page loads: a person must reach it to sign in.
    let base = start_app(&toml("[ui]\nenabled = true", r#"protected = ["/*"]"#)).await;
    for (path, content_type, needle) in [
        ("/ui/", "text/html; charset=utf-8", r#"content="/api""#),
        ("/ui/app.js", "text/javascript", "readStream"),
        ("/ui/app.css", "text/css", "--accent"),
    ] {
        let res = client().get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let h = res.headers();
        assert_eq!(h["content-type"], content_type, "{path}");
        assert_eq!(
            h["content-security-policy"], CONTENT_SECURITY_POLICY,
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["cache-control"], "no-cache", "{path}");
        let body = res.text().await.unwrap();
        assert!(body.contains(needle), "{path}: {needle}");
    }
    let policy = CONTENT_SECURITY_POLICY;
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{directive}");
    }
    assert!(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"));

    let no_redirects = reqwest::Client::builder()
        .no_proxy()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let res = no_redirects.get(format!("{base}/ui")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(res.headers()["location"], "/ui/");

    // The page's files are public; the API it calls is not.
    let res = client()
        .get(format!("{base}/api/agents"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Nothing else under /ui is served, and the rest of `/*` stays protected.
    let res = client()
        .get(format!("{base}/ui/other"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn names_a_custom_api_prefix() {
    let base = start_app(&format!(
        "{}\n[ui]\nenabled = true\n",
        toml("", "").replace("[server]\n", "[server]\napi_prefix = \"/v2\"\n")
    ))
    .await;
    let html = client()
        .get(format!("{base}/ui/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"<meta name="mastra-api-prefix" content="/v2">"#));
}

#[test]
fn custom_routes_cannot_take_its_paths() {
    for path in ["/ui", "/ui/", "/ui/app.js", "/ui/{*rest}"] {
        let text = format!(
            "[[api_routes]]\npath = \"{path}\"\nmethod = \"GET\"\njson = {{ ok = true }}\n"
        );
        let err = mastra_server::config::Config::from_toml_str(&text, "t.toml").unwrap_err();
        assert!(
            err.to_string().contains("served by the server itself"),
            "{path}: {err}"
        );
    }
}
