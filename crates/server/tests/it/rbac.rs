//! Role-based access control over real HTTP: `[auth.rbac]` in a config file, the assembled app,
//! HS256 tokens carrying roles or permissions, and the route permissions derived from the
//! templates the router matched.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{client, hs256_token_valid, start_app};

const SECRET: &str = "rbac-test-secret-0123456789abcdef-0123456789";

fn config(extra: &str) -> String {
    format!(
        r#"
[auth]
provider = "jwt"
[auth.jwt]
secret = "{SECRET}"

[auth.rbac]
[auth.rbac.roles]
admin = ["*"]
member = ["*:read", "agents:execute"]
reporter = ["reports:export"]
jobs = ["jobs:execute"]
_default = ["agents:read"]

[[api_routes]]
method = "GET"
path = "/reports"
permission = "reports:export"
json = {{ ok = true }}

[[api_routes]]
method = "POST"
path = "/jobs/{{id}}"
json = {{ queued = true }}
{extra}
"#
    )
}

fn token(claims: Value) -> String {
    hs256_token_valid(SECRET.as_bytes(), claims)
}

/// Status, `WWW-Authenticate` and body of `method url` with `token`.
async fn call(method: &str, url: &str, token: &str) -> (StatusCode, Option<String>, Value) {
    let c = client();
    let req = match method {
        "GET" => c.get(url),
        "POST" => c
            .post(url)
            .json(&json!({"messages": [{"role": "user", "content": "hi"}]})),
        other => panic!("method {other}"),
    };
    let resp = req.bearer_auth(token).send().await.expect("send");
    let status = resp.status();
    let www = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, www, body)
}

fn assert_missing(got: (StatusCode, Option<String>, Value), permission: &str) {
    assert_eq!(got.0, StatusCode::FORBIDDEN, "{got:?}");
    assert_eq!(
        got.1.as_deref(),
        Some(format!("Bearer error=\"insufficient_scope\", scope=\"{permission}\"").as_str())
    );
    assert_eq!(
        got.2,
        json!({"error": "Forbidden", "message": format!("Missing required permission: {permission}")})
    );
}

#[tokio::test]
async fn roles_grant_the_permission_each_built_in_route_derives() {
    let base = start_app(&config("")).await;
    let member = token(json!({"sub": "m", "roles": ["member"]}));
    for (method, path) in [
        ("GET", "/api/agents"),
        ("GET", "/api/agents/weatherAgent"),
        ("POST", "/api/agents/weatherAgent/generate"),
        ("POST", "/api/agents/weatherAgent/stream"),
        ("GET", "/api/tools"),
    ] {
        let (status, _, body) = call(method, &format!("{base}{path}"), &member).await;
        assert!(status.is_success(), "{method} {path}: {status} {body}");
    }
    // `*:read` and `agents:execute`, but not `tools:execute`.
    let got = call(
        "POST",
        &format!("{base}/api/tools/get-weather/execute"),
        &member,
    )
    .await;
    assert_missing(got, "tools:execute");
    let got = call(
        "POST",
        &format!("{base}/api/agents/weatherAgent/tools/get-weather/execute"),
        &member,
    )
    .await;
    // The agent's tool route is an agents route: `agents:execute` covers it.
    assert_ne!(got.0, StatusCode::FORBIDDEN, "{got:?}");

    let admin = token(json!({"sub": "a", "roles": "admin"}));
    let got = call(
        "POST",
        &format!("{base}/api/tools/get-weather/execute"),
        &admin,
    )
    .await;
    assert_ne!(got.0, StatusCode::FORBIDDEN, "{got:?}");
}

#[tokio::test]
async fn users_without_a_mapped_role_get_the_default_role() {
    let base = start_app(&config("")).await;
    for claims in [
        json!({"sub": "n"}),
        json!({"sub": "i", "roles": ["intern"]}),
    ] {
        let t = token(claims);
        let (status, _, _) = call("GET", &format!("{base}/api/agents"), &t).await;
        assert_eq!(status, StatusCode::OK);
        assert_missing(
            call("GET", &format!("{base}/api/tools"), &t).await,
            "tools:read",
        );
        assert_missing(
            call(
                "POST",
                &format!("{base}/api/agents/weatherAgent/generate"),
                &t,
            )
            .await,
            "agents:execute",
        );
    }
}

#[tokio::test]
async fn a_custom_route_needs_its_own_permission_and_its_template_decides() {
    let base = start_app(&config("")).await;
    let member = token(json!({"sub": "m", "roles": ["member"]}));
    // `*:read` does not cover the route's own `reports:export`.
    assert_missing(
        call("GET", &format!("{base}/reports"), &member).await,
        "reports:export",
    );
    let reporter = token(json!({"sub": "r", "roles": ["reporter"]}));
    let (status, _, body) = call("GET", &format!("{base}/reports"), &reporter).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"ok": true})));

    // `POST /jobs/generate` is the template `/jobs/{id}`: a write, whatever the id says.
    let jobs = token(json!({"sub": "j", "roles": ["jobs"]}));
    assert_missing(
        call("POST", &format!("{base}/jobs/generate"), &jobs).await,
        "jobs:write",
    );
    let admin = token(json!({"sub": "a", "roles": ["admin"]}));
    let (status, _, body) = call("POST", &format!("{base}/jobs/generate"), &admin).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"queued": true})));
}

#[tokio::test]
async fn rules_and_roles_must_both_allow() {
    // The rule denies agent runs to users of org `blocked`; RBAC lets members run agents.
    let base = start_app(&config(
        r#"
[[auth.rules]]
condition = "claims.org == 'blocked' && permission == 'agents:execute'"
allow = false

[[auth.rules]]
allow = true
"#,
    ))
    .await;
    let generate = format!("{base}/api/agents/weatherAgent/generate");
    let blocked_member = token(json!({"sub": "b", "roles": ["member"], "org": "blocked"}));
    let (status, www, body) = call("POST", &generate, &blocked_member).await;
    assert_eq!(
        (status, www, body),
        (
            StatusCode::FORBIDDEN,
            None,
            json!({"error": "Access denied"})
        )
    );
    // The rule sees the permission: the same user may still read.
    let (status, _, _) = call("GET", &format!("{base}/api/agents"), &blocked_member).await;
    assert_eq!(status, StatusCode::OK);
    let member = token(json!({"sub": "m", "roles": ["member"], "org": "fine"}));
    let (status, _, _) = call("POST", &generate, &member).await;
    assert_eq!(status, StatusCode::OK);
    // Rules allow, RBAC refuses.
    let nobody = token(json!({"sub": "n", "org": "fine"}));
    assert_missing(call("POST", &generate, &nobody).await, "agents:execute");
}

#[tokio::test]
async fn permissions_may_come_straight_from_a_claim() {
    let base = start_app(
        r#"
[auth]
provider = "jwt"
[auth.jwt]
secret = "rbac-test-secret-0123456789abcdef-0123456789"
[auth.rbac]
permissions_claim = "permissions"
"#,
    )
    .await;
    let t = token(json!({"sub": "p", "permissions": ["agents:read", "tools:*"]}));
    for (method, path) in [("GET", "/api/agents"), ("GET", "/api/tools")] {
        let (status, _, _) = call(method, &format!("{base}{path}"), &t).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    assert_missing(
        call(
            "POST",
            &format!("{base}/api/agents/weatherAgent/generate"),
            &t,
        )
        .await,
        "agents:execute",
    );
}

#[test]
fn bad_permissions_are_refused_at_startup_naming_the_setting() {
    use mastra_server::app;
    use mastra_server::config::Config;

    let toml = format!(
        "[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"{SECRET}\"\n\
         [auth.rbac.roles]\nadmin = [\"agents\"]\n"
    );
    let cfg = Config::from_toml_str(&toml, "t.toml").expect("parses");
    let err = app::build(&cfg).expect_err("refused").to_string();
    assert!(
        err.starts_with("auth.rbac.roles.admin: \"agents\" is not a permission"),
        "{err}"
    );

    let toml = format!(
        "[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"{SECRET}\"\n\
         [[api_routes]]\nmethod = \"GET\"\npath = \"/r\"\npermission = \"r read\"\njson = 1\n"
    );
    let err = Config::from_toml_str(&toml, "t.toml")
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("`permission`: \"r read\" is not a permission"),
        "{err}"
    );
}

#[tokio::test]
async fn me_and_capabilities_report_the_roles_and_permissions() {
    let base = start_app(&config("")).await;
    let member = token(json!({"sub": "m", "roles": ["member"]}));
    let (status, _, me) = call("GET", &format!("{base}/api/auth/me"), &member).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["id"], "m");
    assert_eq!(me["roles"], json!(["member"]));
    assert_eq!(me["permissions"], json!(["*:read", "agents:execute"]));
    let (status, _, caps) = call("GET", &format!("{base}/api/auth/capabilities"), &member).await;
    assert_eq!(status, StatusCode::OK, "{caps}");
    assert_eq!(caps["capabilities"]["rbac"], true);
    assert_eq!(caps["capabilities"]["fga"], false);
    assert_eq!(
        caps["access"],
        json!({"roles": ["member"], "permissions": ["*:read", "agents:execute"]})
    );
}

#[tokio::test]
async fn rules_can_name_the_permissions_they_apply_to() {
    // No RBAC here: a rule alone keeps everyone off tool runs, whatever the tool's path.
    let base = start_app(&format!(
        r#"
[auth]
provider = "jwt"
[auth.jwt]
secret = "{SECRET}"

[[auth.rules]]
permission = ["tools:execute", "agents:write"]
allow = false

[[auth.rules]]
allow = true
"#
    ))
    .await;
    let anyone = token(json!({"sub": "a"}));
    let (status, _, body) = call(
        "POST",
        &format!("{base}/api/tools/get-weather/execute"),
        &anyone,
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, json!({"error": "Access denied"}))
    );
    let (status, _, _) = call(
        "POST",
        &format!("{base}/api/agents/weatherAgent/generate"),
        &anyone,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call("GET", &format!("{base}/api/tools"), &anyone).await;
    assert_eq!(status, StatusCode::OK);
}
