//! The assembled app from a real `mastra.toml` text, over real HTTP: the whole request path
//! (ARCHITECTURE.md) with the Mastra API, custom routes, limits and CORS in place.

use std::time::Duration;

use mastra_server::app;
use mastra_server::config::Config;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, start_app as start};

const SECRET: &str = "e2e-secret-0123456789abcdef0123456789abcdef";

fn token(claims: Value) -> String {
    support::hs256_token(SECRET.as_bytes(), &claims)
}

fn user_token() -> String {
    token(json!({"sub": "u1", "role": "user"}))
}

fn base_toml(extra: &str) -> String {
    format!(
        r#"
[server]
request_logs = false
openapi = true
[auth]
provider = "jwt"
[auth.jwt]
secret = "{SECRET}"
{extra}
"#
    )
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

#[tokio::test]
async fn agents_need_a_token_and_work_with_one() {
    let base = start(&base_toml("")).await;
    let url = format!("{base}/api/agents/weatherAgent/generate");
    let res = client()
        .post(&url)
        .json(&json!({"messages": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let res = client()
        .post(&url)
        .bearer_auth(user_token())
        .json(&json!({"messages": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["text"], "Echo: hello");
}

#[tokio::test]
async fn health_and_welcome_are_public() {
    let base = start(&base_toml("")).await;
    let res = client().get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"success": true}));
    let res = client().get(format!("{base}/api")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.json::<Value>().await.unwrap()["version"].is_string());
}

#[tokio::test]
async fn unknown_api_routes_do_not_leak_topology() {
    let base = start(&base_toml("")).await;
    let res = client()
        .get(format!("{base}/api/no/such/route"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = client()
        .get(format!("{base}/api/no/such/route"))
        .bearer_auth(user_token())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = client()
        .get(format!("{base}/api/agents/nope"))
        .bearer_auth(user_token())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "Agent with id nope not found"})
    );
}

#[tokio::test]
async fn openapi_document_protected() {
    let base = start(&base_toml("")).await;
    assert_eq!(
        client()
            .get(format!("{base}/api/openapi.json"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let res = client()
        .get(format!("{base}/api/openapi.json"))
        .bearer_auth(user_token())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.json::<Value>().await.unwrap()["openapi"]
            .as_str()
            .unwrap()
            .starts_with("3.")
    );
}

#[tokio::test]
async fn config_public_paths_and_rules() {
    let toml = format!(
        r#"
[server]
request_logs = false
[auth]
provider = "jwt"
public = [{{ path = "/api/agents", methods = ["GET"] }}]
[auth.jwt]
secret = "{SECRET}"
[[auth.rules]]
path = "/api/agents/*"
methods = ["POST"]
condition = "claims.role == 'admin'"
allow = true
[[auth.rules]]
methods = ["GET"]
allow = true
"#
    );
    let base = start(&toml).await;
    // Public GET list without a token.
    assert_eq!(
        client()
            .get(format!("{base}/api/agents"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let url = format!("{base}/api/agents/weatherAgent/generate");
    let admin = token(json!({"sub": "a", "role": "admin"}));
    let res = client()
        .post(&url)
        .bearer_auth(&admin)
        .json(&json!({"messages": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = client()
        .post(&url)
        .bearer_auth(user_token())
        .json(&json!({"messages": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "Access denied"})
    );
    // GET details is allowed by the second rule.
    let res = client()
        .get(format!("{base}/api/agents/weatherAgent"))
        .bearer_auth(user_token())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn custom_routes_each_requires_auth_value() {
    let toml = base_toml("")
        + r#"
[[api_routes]]
method = "GET"
path = "/other/route/{id}"
requires_auth = false
json = { public = true }

[[api_routes]]
method = "GET"
path = "/custom/{id}"
json = { secret = true }

[[api_routes]]
method = "GET"
path = "/explicit/{id}"
requires_auth = true
json = { explicit = true }
"#;
    let base = start(&toml).await;
    let res = client()
        .get(format!("{base}/other/route/test"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"public": true}));
    for path in ["/custom/1", "/explicit/1"] {
        let res = client().get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
        let res = client()
            .get(format!("{base}{path}"))
            .bearer_auth(user_token())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn body_over_limit_is_413_json() {
    let toml = base_toml("").replace("openapi = true", "openapi = true\nbody_limit = \"1KB\"");
    let base = start(&toml).await;
    let big = json!({"messages": "x".repeat(4096)});
    let res = client()
        .post(format!("{base}/api/agents/weatherAgent/generate"))
        .bearer_auth(user_token())
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "Request body too large"})
    );
}

#[tokio::test]
async fn timeout_is_504_json() {
    // A proxy route to an upstream that never answers.
    let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up_addr = upstream.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            if let Ok((sock, _)) = upstream.accept().await {
                held.push(sock);
            }
        }
    });
    let toml = base_toml("").replace("openapi = true", "openapi = true\ntimeout = \"300ms\"")
        + &format!(
            r#"
[[api_routes]]
method = "GET"
path = "/slow"
requires_auth = false
proxy = "http://{up_addr}"
"#
        );
    let base = start(&toml).await;
    let res = tokio::time::timeout(
        Duration::from_secs(10),
        client().get(format!("{base}/slow")).send(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(res.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(res.json::<Value>().await.unwrap()["error"].is_string());
}

#[tokio::test]
async fn cors_preflight_before_auth() {
    let base = start(&base_toml("")).await;
    let res = client()
        .request(reqwest::Method::OPTIONS, format!("{base}/api/agents"))
        .header("origin", "http://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let allow = res.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allow.contains("authorization"), "{allow}");
    // A plain OPTIONS is not a preflight: auth applies.
    let res = client()
        .request(reqwest::Method::OPTIONS, format!("{base}/api/agents"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn provider_none_leaves_routes_open() {
    let toml = "[server]\nrequest_logs = false\n[auth]\nprovider = \"none\"\n";
    let base = start(toml).await;
    assert_eq!(
        client()
            .get(format!("{base}/api/agents"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn bad_auth_config_is_refused_naming_the_setting() {
    let cfg = Config::from_toml_str("[auth.jwt]\nsecret = \"short\"\n", "t.toml").unwrap();
    let err = app::build(&cfg).unwrap_err().to_string();
    assert!(err.contains("auth.jwt"), "{err}");
    assert!(err.contains("32"), "{err}");
    let cfg = Config::from_toml_str(
        &format!("[auth]\npublic = [\"no-slash\"]\n[auth.jwt]\nsecret = \"{SECRET}\"\n"),
        "t.toml",
    )
    .unwrap();
    let err = app::build(&cfg).unwrap_err().to_string();
    assert!(err.contains("auth.public[0]"), "{err}");
    let cfg = Config::from_toml_str(
        &format!(
            "[[auth.rules]]\ncondition = \"claims.role ==\"\n[auth.jwt]\nsecret = \"{SECRET}\"\n"
        ),
        "t.toml",
    )
    .unwrap();
    let err = app::build(&cfg).unwrap_err().to_string();
    assert!(err.contains("auth.rules"), "{err}");
    let cfg = Config::from_toml_str(
        &format!("[[agents]]\nid = \"a\"\ninstructions = \"x\"\nmodel = \"nope/x\"\n[auth.jwt]\nsecret = \"{SECRET}\"\n"),
        "t.toml",
    )
    .unwrap();
    let err = app::build(&cfg).unwrap_err().to_string();
    assert!(err.contains("agents[0].model"), "{err}");
}

#[tokio::test]
async fn configured_agents_replace_the_demo() {
    let toml = base_toml("")
        + r#"
[[agents]]
id = "helper"
name = "Helper"
instructions = "Be brief."
model = "builtin/echo"
tools = ["weatherTool"]
"#;
    let base = start(&toml).await;
    let res = client()
        .get(format!("{base}/api/agents"))
        .bearer_auth(user_token())
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert!(body.get("helper").is_some(), "{body}");
    assert!(body.get("weatherAgent").is_none(), "{body}");
    assert_eq!(body["helper"]["instructions"], "Be brief.");
}

#[tokio::test]
async fn api_keys_and_composite_from_config() {
    let key = "sk_live_0123456789abcdefghijklmnop";
    let hash = mastra_auth::providers::api_keys::hash_key(key);
    let toml = format!(
        r#"
[server]
request_logs = false
[auth]
provider = "composite"
[auth.composite]
providers = ["jwt", "api_keys"]
[auth.jwt]
secret = "{SECRET}"
[[auth.api_keys.keys]]
sha256 = "{hash}"
user = "svc"
claims = {{ role = "service" }}
"#
    );
    let base = start(&toml).await;
    let url = format!("{base}/api/agents");
    let res = client().get(&url).bearer_auth(key).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = client()
        .get(&url)
        .bearer_auth(user_token())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = client()
        .get(&url)
        .bearer_auth("sk_live_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[test]
fn provider_sections_must_be_used() {
    let err = Config::from_toml_str(
        "[auth]\nprovider = \"jwt\"\n[[auth.api_keys.keys]]\nsha256 = \"00\"\nuser = \"u\"\n",
        "t.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("auth.api_keys"), "{err}");
    let err = Config::from_toml_str("[auth]\nprovider = \"composite\"\n", "t.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("auth.composite.providers"), "{err}");
    let err = Config::from_toml_str(
        "[auth]\nprovider = \"composite\"\n[auth.composite]\nproviders = [\"jwt\", \"jwt\"]\n",
        "t.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("twice"), "{err}");
    let cfg = Config::from_toml_str(
        "[auth]\nprovider = \"api_keys\"\n[[auth.api_keys.keys]]\nsha256 = \"xyz\"\nuser = \"u\"\n",
        "t.toml",
    )
    .unwrap();
    let err = app::build(&cfg).unwrap_err().to_string();
    assert!(err.contains("keys[0].sha256"), "{err}");
}
