//! Fine-grained authorization over real HTTP: `[auth.fga]` from local tuples and from a local
//! fake of WorkOS's authorization API (its wire format: `POST /authorization/
//! organization_memberships/{id}/check` with `permission_slug`, `resource_external_id`,
//! `resource_type_slug`, answered `{"authorized": bool}`), the same production code path with
//! only the base URL changed.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

use crate::support::{client, hs256_token_valid, serve, start_app};

const SECRET: &str = "fga-test-secret-0123456789abcdef-0123456789";

const AGENTS: &str = r#"
[[agents]]
id = "weatherAgent"
name = "Weather Agent"
instructions = "weather"
model = "builtin/echo"
tools = ["weatherTool"]

[[agents]]
id = "secretAgent"
name = "Secret Agent"
instructions = "secrets"
model = "builtin/echo"
"#;

fn token(claims: Value) -> String {
    hs256_token_valid(SECRET.as_bytes(), claims)
}

async fn get(url: &str, token: &str) -> (StatusCode, Value) {
    let resp = client()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("send");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn generate(base: &str, agent: &str, token: &str) -> (StatusCode, Value) {
    let resp = client()
        .post(format!("{base}/api/agents/{agent}/generate"))
        .bearer_auth(token)
        .json(&json!({"messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn denied(permission: &str, resource: &str) -> Value {
    json!({
        "error": "Forbidden",
        "message": format!("FGA authorization denied: cannot {permission} on {resource}"),
    })
}

#[tokio::test]
async fn local_tuples_decide_routes_and_filter_lists() {
    let base = start_app(&format!(
        r#"
[auth]
provider = "jwt"
[auth.jwt]
secret = "{SECRET}"
[auth.fga]
[[auth.fga.tuples]]
subject = "user:alice"
permission = "agents:*"
resource = "agent:weatherAgent"
[[auth.fga.tuples]]
subject = "*"
permission = "tools:read"
resource = "tool:get-weather"
{AGENTS}"#
    ))
    .await;
    let alice = token(json!({"sub": "alice"}));
    let bob = token(json!({"sub": "bob"}));

    let (status, body) = get(&format!("{base}/api/agents"), &alice).await;
    assert_eq!(
        (status, keys(&body)),
        (StatusCode::OK, vec!["weatherAgent".to_owned()])
    );
    let (status, body) = get(&format!("{base}/api/agents"), &bob).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));

    let (status, _) = generate(&base, "weatherAgent", &alice).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        generate(&base, "secretAgent", &alice).await,
        (
            StatusCode::FORBIDDEN,
            denied("agents:execute", "agent:secretAgent")
        )
    );
    assert_eq!(
        generate(&base, "weatherAgent", &bob).await,
        (
            StatusCode::FORBIDDEN,
            denied("agents:execute", "agent:weatherAgent")
        )
    );
    assert_eq!(
        get(&format!("{base}/api/agents/secretAgent"), &alice).await,
        (
            StatusCode::FORBIDDEN,
            denied("agents:read", "agent:secretAgent")
        )
    );
    // An encoded spelling is the same agent: the resource is read from the decoded path.
    for spelling in ["%73ecretAgent", "secret%41gent"] {
        assert_eq!(
            get(&format!("{base}/api/agents/{spelling}"), &alice).await,
            (
                StatusCode::FORBIDDEN,
                denied("agents:read", "agent:secretAgent")
            ),
            "{spelling}"
        );
        let (status, _) = generate(&base, spelling, &alice).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{spelling}");
    }
    let (status, _) = get(&format!("{base}/api/agents/%77eatherAgent"), &alice).await;
    assert_eq!(status, StatusCode::OK);
    // Every user may read the weather tool, and only that one.
    let (status, body) = get(&format!("{base}/api/tools"), &bob).await;
    assert_eq!(
        (status, keys(&body)),
        (StatusCode::OK, vec!["weatherTool".to_owned()])
    );
    let (status, _) = get(&format!("{base}/api/tools/get-weather"), &bob).await;
    assert_eq!(status, StatusCode::OK);
}

/// What the fake WorkOS saw: (membership, body, authorization header).
type Seen = Arc<Mutex<Vec<(String, Value, String)>>>;

/// A fake of WorkOS's authorization check: membership `om_alice` may do anything on
/// `weatherAgent` and on the tool; `ghost` is a resource WorkOS does not know (404);
/// membership `om_down` makes it fail (500).
async fn fake_workos() -> (String, Seen) {
    async fn check(
        State(seen): State<Seen>,
        Path(membership): Path<String>,
        headers: HeaderMap,
        body: axum::Json<Value>,
    ) -> (StatusCode, axum::Json<Value>) {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        seen.lock()
            .expect("lock")
            .push((membership.clone(), body.0.clone(), auth));
        let resource = body["resource_external_id"].as_str().unwrap_or_default();
        match (membership.as_str(), resource) {
            ("om_down", _) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"message": "boom"})),
            ),
            (_, "ghost") => (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"code": "entity_not_found", "message": "not found"})),
            ),
            ("om_alice", "weatherAgent" | "get-weather") => {
                (StatusCode::OK, axum::Json(json!({"authorized": true})))
            }
            _ => (StatusCode::OK, axum::Json(json!({"authorized": false}))),
        }
    }
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route(
            "/authorization/organization_memberships/{membership}/check",
            post(check),
        )
        .with_state(seen.clone());
    (format!("http://{}", serve(app).await), seen)
}

fn workos_config(api_base: &str, extra: &str) -> String {
    format!(
        r#"
[auth]
provider = "jwt"
[auth.jwt]
secret = "{SECRET}"
[auth.fga]
provider = "workos"
{extra}
[auth.fga.workos]
api_key = "sk_test_fga"
api_base = "{api_base}"
allow_insecure_http = true
organization_id = "org_acme"
[auth.fga.workos.resource_types]
agent = "mastra-agent"
[auth.fga.workos.permissions]
"agents:execute" = "agents:run"
{AGENTS}"#
    )
}

#[tokio::test]
async fn workos_checks_speak_its_wire_format_and_are_cached() {
    let (api, seen) = fake_workos().await;
    let base = start_app(&workos_config(&api, "")).await;
    let alice = token(json!({"sub": "alice", "organization_membership_id": "om_alice"}));

    let (status, _) = generate(&base, "weatherAgent", &alice).await;
    assert_eq!(status, StatusCode::OK);
    {
        let seen = seen.lock().expect("lock");
        assert_eq!(seen.len(), 1);
        let (membership, body, auth) = &seen[0];
        assert_eq!(membership, "om_alice");
        assert_eq!(
            body,
            &json!({
                "permission_slug": "agents:run",
                "resource_external_id": "weatherAgent",
                "resource_type_slug": "mastra-agent",
            })
        );
        assert_eq!(auth, "Bearer sk_test_fga");
    }
    // The same question again: answered from the cache.
    let (status, _) = generate(&base, "weatherAgent", &alice).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen.lock().expect("lock").len(), 1);

    assert_eq!(
        generate(&base, "secretAgent", &alice).await,
        (
            StatusCode::FORBIDDEN,
            denied("agents:execute", "agent:secretAgent")
        )
    );
    // A list is filtered with one check per agent (both new questions: `agents:read`).
    let (status, body) = get(&format!("{base}/api/agents"), &alice).await;
    assert_eq!(
        (status, keys(&body)),
        (StatusCode::OK, vec!["weatherAgent".to_owned()])
    );
    assert_eq!(seen.lock().expect("lock").len(), 4);
    let (_, body) = get(&format!("{base}/api/agents"), &alice).await;
    assert_eq!(keys(&body), ["weatherAgent"]);
    assert_eq!(
        seen.lock().expect("lock").len(),
        4,
        "the second list is cached"
    );
}

#[tokio::test]
async fn cached_workos_answers_expire() {
    let (api, seen) = fake_workos().await;
    let base = start_app(&workos_config(&api, "cache_ttl = \"300ms\"")).await;
    let alice = token(json!({"sub": "alice", "organization_membership_id": "om_alice"}));
    for _ in 0..2 {
        assert_eq!(
            generate(&base, "weatherAgent", &alice).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(seen.lock().expect("lock").len(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(
        generate(&base, "weatherAgent", &alice).await.0,
        StatusCode::OK
    );
    assert_eq!(seen.lock().expect("lock").len(), 2);
}

#[tokio::test]
async fn the_membership_comes_from_a_claim_or_the_fetched_memberships() {
    let (api, seen) = fake_workos().await;
    let base = start_app(&workos_config(&api, "")).await;
    // As the WorkOS provider's `fetch_memberships` leaves them: the active one of org_acme.
    let fetched = token(json!({"sub": "alice2", "memberships": [
        {"id": "om_other", "organization_id": "org_other", "status": "active"},
        {"id": "om_old", "organization_id": "org_acme", "status": "inactive"},
        {"id": "om_alice", "organization_id": "org_acme", "status": "active"},
    ]}));
    assert_eq!(
        generate(&base, "weatherAgent", &fetched).await.0,
        StatusCode::OK
    );
    assert_eq!(
        seen.lock()
            .expect("lock")
            .last()
            .map(|s| s.0.clone())
            .as_deref(),
        Some("om_alice")
    );
    // No membership at all: denied without asking WorkOS.
    let before = seen.lock().expect("lock").len();
    let nobody = token(json!({"sub": "nobody"}));
    assert_eq!(
        generate(&base, "weatherAgent", &nobody).await,
        (
            StatusCode::FORBIDDEN,
            denied("agents:execute", "agent:weatherAgent")
        )
    );
    assert_eq!(seen.lock().expect("lock").len(), before);
}

#[tokio::test]
async fn unknown_resources_are_denied_unless_public_by_default() {
    let (api, _) = fake_workos().await;
    let alice = token(json!({"sub": "alice", "organization_membership_id": "om_alice"}));
    let strict = start_app(&workos_config(&api, "")).await;
    assert_eq!(
        get(&format!("{strict}/api/agents/ghost"), &alice).await,
        (StatusCode::FORBIDDEN, denied("agents:read", "agent:ghost"))
    );
    let open = start_app(&workos_config(&api, "").replace(
        "allow_insecure_http = true",
        "allow_insecure_http = true\npublic_by_default = true",
    ))
    .await;
    // Allowed through, then the API's own 404 for an agent that does not exist.
    let (status, _) = get(&format!("{open}/api/agents/ghost"), &alice).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_workos_outage_is_a_503_never_an_allow() {
    let (api, _) = fake_workos().await;
    let base = start_app(&workos_config(&api, "")).await;
    let down = token(json!({"sub": "d", "organization_membership_id": "om_down"}));
    for url in [
        format!("{base}/api/agents/weatherAgent"),
        format!("{base}/api/agents"),
    ] {
        let resp = client()
            .get(&url)
            .bearer_auth(&down)
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{url}");
        assert!(resp.headers().contains_key("retry-after"));
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body, json!({"error": "Authorization service unavailable"}));
    }
    // Unreachable: nothing listens on the port any more.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", l.local_addr().expect("addr"))
    };
    let base = start_app(&workos_config(&closed, "")).await;
    let alice = token(json!({"sub": "alice", "organization_membership_id": "om_alice"}));
    let (status, _) = generate(&base, "weatherAgent", &alice).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn rbac_and_fga_must_both_allow() {
    let base = start_app(&format!(
        r#"
[auth]
provider = "jwt"
[auth.jwt]
secret = "{SECRET}"
[auth.rbac.roles]
reader = ["*:read"]
runner = ["*:read", "agents:execute"]
[auth.fga]
[[auth.fga.tuples]]
subject = "*"
permission = "agents:*"
resource = "agent:weatherAgent"
{AGENTS}"#
    ))
    .await;
    let reader = token(json!({"sub": "r", "roles": ["reader"]}));
    let runner = token(json!({"sub": "u", "roles": ["runner"]}));
    // FGA allows, RBAC refuses.
    let (status, body) = generate(&base, "weatherAgent", &reader).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["message"],
        "Missing required permission: agents:execute"
    );
    // RBAC allows, FGA refuses.
    assert_eq!(
        generate(&base, "secretAgent", &runner).await,
        (
            StatusCode::FORBIDDEN,
            denied("agents:execute", "agent:secretAgent")
        )
    );
    assert_eq!(
        generate(&base, "weatherAgent", &runner).await.0,
        StatusCode::OK
    );
}

#[test]
fn bad_fga_settings_are_refused_naming_the_setting() {
    use mastra_server::app;
    use mastra_server::config::Config;

    let cases = [
        (
            "[auth.fga]\n[[auth.fga.tuples]]\nsubject = \"alice\"\npermission = \"agents:read\"\nresource = \"agent:x\"\n",
            "auth.fga.tuples[0].subject",
        ),
        (
            "[auth.fga]\nprovider = \"workos\"\n[auth.fga.workos]\napi_base = \"https://api.workos.com\"\n",
            "auth.fga.workos.api_key",
        ),
        (
            "[auth.fga]\nprovider = \"workos\"\n[auth.fga.workos]\napi_key = \"sk\"\napi_base = \"http://example.com\"\n",
            "auth.fga.workos.api_base",
        ),
    ];
    for (table, want) in cases {
        let toml =
            format!("[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"{SECRET}\"\n{table}");
        let cfg = Config::from_toml_str(&toml, "t.toml").expect("parses");
        // The key may come from the environment instead, where one is set.
        if want.ends_with("api_key") && std::env::var_os("WORKOS_API_KEY").is_some() {
            continue;
        }
        let err = app::build(&cfg).expect_err("refused").to_string();
        assert!(err.starts_with(want), "{want}: {err}");
    }
}

#[tokio::test]
async fn thread_routes_and_the_thread_list_follow_the_tuples() {
    let base = start_app(&format!(
        r#"
[auth]
provider = "jwt"
[auth.jwt]
secret = "{SECRET}"
[storage]
url = "sqlite::memory:"
[auth.fga]
[[auth.fga.tuples]]
subject = "user:alice"
permission = "memory:*"
resource = "thread:shared-notes"
"#
    ))
    .await;
    let alice = token(json!({"sub": "alice"}));
    for id in ["shared-notes", "hidden-notes"] {
        let resp = client()
            .post(format!("{base}/api/memory/threads"))
            .bearer_auth(&alice)
            .json(&json!({"resourceId": "alice", "threadId": id, "title": id}))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), StatusCode::OK, "create {id}");
    }
    let (status, page) = get(
        &format!("{base}/api/memory/threads?resourceId=alice"),
        &alice,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let ids: Vec<&str> = page["threads"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["shared-notes"], "{page}");
    let (status, _) = get(&format!("{base}/api/memory/threads/shared-notes"), &alice).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        get(&format!("{base}/api/memory/threads/hidden-notes"), &alice).await,
        (
            StatusCode::FORBIDDEN,
            denied("memory:read", "thread:hidden-notes")
        )
    );
}
