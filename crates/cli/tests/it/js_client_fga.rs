//! List filtering through the official `@mastra/client-js`: with `[auth.fga]`, each user of the
//! real client sees only the agents and tools their tuples allow, and reading another agent is
//! refused. Runs `tests/js-client/visible.mjs` against the real `mastra` binary.

use std::process::Command;

use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

use crate::js_client::{js_dir, node, serve};

const SECRET: &str = "js-fga-secret-0123456789abcdef-0123456789ab";

fn token(sub: &str) -> String {
    let exp = jsonwebtoken::get_current_timestamp() + 600;
    jsonwebtoken::encode(
        &Header::default(),
        &json!({"sub": sub, "exp": exp}),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("sign")
}

fn visible(base: &str, token: &str) -> Value {
    let out = Command::new(node())
        .arg(js_dir().join("visible.mjs"))
        .current_dir(js_dir())
        .env("MASTRA_URL", base)
        .env("MASTRA_TOKEN", token)
        .env("MASTRA_HIDDEN_AGENT", "secretAgent")
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "visible.mjs failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn each_user_of_the_client_sees_only_what_their_tuples_allow() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mastra.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[auth]
provider = "jwt"
[auth.jwt]
secret = "{SECRET}"

[auth.fga]
[[auth.fga.tuples]]
subject = "user:alice"
permission = "agents:read"
resource = "agent:weatherAgent"
[[auth.fga.tuples]]
subject = "user:alice"
permission = "tools:read"
resource = "tool:*"
[[auth.fga.tuples]]
subject = "user:bob"
permission = "agents:*"
resource = "agent:*"

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
"#
        ),
    )
    .unwrap();
    let served = serve(dir.path(), &["--config", config.to_str().unwrap()]);

    let alice = visible(&served.base, &token("alice"));
    assert_eq!(alice["agents"], json!(["weatherAgent"]), "{alice}");
    assert_eq!(alice["tools"], json!(["weatherTool"]), "{alice}");
    assert_eq!(alice["hidden"]["status"], 403, "{alice}");
    assert_eq!(
        alice["hidden"]["body"]["message"],
        "FGA authorization denied: cannot agents:read on agent:secretAgent",
        "{alice}"
    );

    let bob = visible(&served.base, &token("bob"));
    assert_eq!(
        bob["agents"],
        json!(["secretAgent", "weatherAgent"]),
        "{bob}"
    );
    assert_eq!(bob["tools"], json!([]), "{bob}");
    assert_eq!(bob["hidden"]["status"], 200, "{bob}");

    let carol = visible(&served.base, &token("carol"));
    assert_eq!(carol["agents"], json!([]), "{carol}");
}
