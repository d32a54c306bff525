//! The `mastra` binary, black-box: serve with no config, token sign/verify, config check.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{BIN, Running};

const SECRET: &str = "cli-test-secret-0123456789abcdef0123456789";

fn mastra(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("MASTRA_JWT_SECRET")
        .env_remove("JWT_AUTH_SECRET")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts `mastra serve --port 0` and returns (process, base URL, printed stdout lines).
fn serve(dir: &Path, extra: &[&str]) -> (Running, String, Vec<String>) {
    let (running, base, lines, _) = serve_logged(dir, extra, "info");
    (running, base, lines)
}

type Log = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// Like [`serve`], with a log level, also returning the collected stderr (the logs).
fn serve_logged(dir: &Path, extra: &[&str], level: &str) -> (Running, String, Vec<String>, Log) {
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--host", "127.0.0.1"])
        .args(extra)
        .current_dir(dir)
        .env_remove("MASTRA_JWT_SECRET")
        .env_remove("JWT_AUTH_SECRET")
        .env("RUST_LOG", level)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let running = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let log: Log = Default::default();
    let sink = log.clone();
    std::thread::spawn(move || {
        // Keep draining stderr so the server never blocks on a full pipe.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(l) => {
                let done = l.contains("-d '{");
                lines.push(l);
                if done {
                    break;
                }
            }
            Err(_) if lines.iter().any(|l| l.contains("listening on")) && !extra.is_empty() => {
                break;
            }
            Err(_) => {}
        }
    }
    let base = lines
        .iter()
        .find_map(|l| l.split_whitespace().find(|w| w.starts_with("http://")))
        .expect("server printed its URL")
        .to_owned();
    (running, base, lines, log)
}

#[tokio::test]
async fn serve_without_config_prints_a_working_token_and_curl_line() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base, lines) = serve(dir.path(), &[]);
    let token = lines
        .iter()
        .map(|l| l.trim())
        .find(|l| l.starts_with("eyJ"))
        .expect("a token line")
        .to_owned();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("curl -X POST") && l.contains("/api/agents/weatherAgent/generate"))
    );
    assert!(dir.path().join(".mastra/dev-secret").exists());
    let client = reqwest::Client::new();
    let url = format!("{base}/api/agents/weatherAgent/generate");
    let res = client
        .post(&url)
        .header("Authorization", format!("Bearer {token}"))
        .json(&json!({"messages": "What is the weather in London?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(body["text"].as_str().unwrap().contains("London"), "{body}");
    let res = client
        .post(&url)
        .json(&json!({"messages": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn dev_secret_survives_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _, lines1) = serve(dir.path(), &[]);
    drop(first);
    let secret1 = std::fs::read_to_string(dir.path().join(".mastra/dev-secret")).unwrap();
    let token1 = lines1
        .iter()
        .map(|l| l.trim())
        .find(|l| l.starts_with("eyJ"))
        .unwrap()
        .to_owned();
    let (_second, base, _) = serve(dir.path(), &[]);
    let secret2 = std::fs::read_to_string(dir.path().join(".mastra/dev-secret")).unwrap();
    assert_eq!(secret1, secret2);
    assert!(secret1.trim().len() >= 32);
    // The first run's token still works after the restart.
    let res = reqwest::Client::new()
        .get(format!("{base}/api/agents"))
        .bearer_auth(token1)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[test]
fn token_sign_then_verify_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let (code, token, err) = mastra(
        dir.path(),
        &[
            "token",
            "sign",
            "--secret",
            SECRET,
            "--sub",
            "alice",
            "--claim",
            "role=admin",
            "--claim",
            "level=3",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let token = token.trim();
    assert_eq!(token.split('.').count(), 3);
    let (code, out, _) = mastra(dir.path(), &["token", "verify", token, "--secret", SECRET]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ACCEPT"), "{out}");
    assert!(out.contains("alice"), "{out}");
    assert!(out.contains("\"level\":3"), "{out}");
}

#[test]
fn token_verify_prints_the_roles_and_permissions_a_token_resolves_to() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mastra.toml"),
        format!(
            "[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"{SECRET}\"\n\
             [auth.rbac]\npermissions_claim = \"permissions\"\n[auth.rbac.roles]\n\
             member = [\"*:read\", \"agents:execute\"]\n_default = [\"agents:read\"]\n"
        ),
    )
    .unwrap();
    let sign = |claims: &[&str]| {
        let mut args = vec!["token", "sign", "--secret", SECRET, "--sub", "bob"];
        for c in claims {
            args.extend(["--claim", c]);
        }
        let (code, token, err) = mastra(dir.path(), &args);
        assert_eq!(code, 0, "{err}");
        token.trim().to_owned()
    };
    let member = sign(&["roles=member", "permissions=tools:execute"]);
    let (code, out, _) = mastra(dir.path(), &["token", "verify", &member]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("        roles: member\n"), "{out}");
    assert!(
        out.contains("        permissions: *:read, agents:execute, tools:execute\n"),
        "{out}"
    );
    let nobody = sign(&[]);
    let (code, out, _) = mastra(dir.path(), &["token", "verify", &nobody]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("        roles: (none)\n"), "{out}");
    assert!(out.contains("        permissions: agents:read\n"), "{out}");
}

#[test]
fn config_check_lints_roles_and_permissions_no_route_needs() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mastra.toml");
    std::fs::write(
        &cfg,
        format!(
            "[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"{SECRET}\"\n\
             [auth.rbac.roles]\nadmin = [\"*\"]\n\
             member = [\"agents:read\", \"agnets:execute\"]\n\
             ghost = [\"memroy:read\"]\nempty = []\n\
             [[api_routes]]\nmethod = \"GET\"\npath = \"/reports\"\n\
             permission = \"reports:export\"\njson = 1\n"
        ),
    )
    .unwrap();
    let (code, out, _) = mastra(
        dir.path(),
        &["config", "check", "--config", cfg.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}");
    let needed =
        "(the routes need agents:execute, agents:read, reports:export, tools:execute, tools:read)";
    assert!(
        out.contains(&format!(
            "warning: auth.rbac.roles.member: no route needs `agnets:execute` {needed}\n"
        )),
        "{out}"
    );
    for role in ["ghost", "empty"] {
        assert!(
            out.contains(&format!(
                "warning: auth.rbac.roles.{role} grants nothing any route needs"
            )),
            "{role}: {out}"
        );
    }
    assert!(!out.contains("roles.admin"), "{out}");
    assert!(!out.contains("`agents:read`"), "{out}");
}

#[test]
fn token_verify_explains_rejections() {
    let dir = tempfile::tempdir().unwrap();
    let (_, expired, _) = mastra(
        dir.path(),
        &["token", "sign", "--secret", SECRET, "--exp", "1s"],
    );
    std::thread::sleep(Duration::from_millis(10));
    // A wrong secret -> signature.
    let (code, out, _) = mastra(
        dir.path(),
        &[
            "token",
            "verify",
            expired.trim(),
            "--secret",
            "another-secret-0123456789abcdef01234567",
        ],
    );
    assert_eq!(code, 1);
    assert!(out.contains("REJECT") && out.contains("signature"), "{out}");
    // Garbage -> malformed.
    let (code, out, _) = mastra(
        dir.path(),
        &["token", "verify", "not-a-token", "--secret", SECRET],
    );
    assert_eq!(code, 1);
    assert!(out.contains("malformed"), "{out}");
    // Expired beyond leeway: sign with exp already past via a negative-looking claim override.
    let (_, old, _) = mastra(
        dir.path(),
        &[
            "token", "sign", "--secret", SECRET, "--exp", "none", "--claim", "exp=1000",
        ],
    );
    let (code, out, _) = mastra(
        dir.path(),
        &["token", "verify", old.trim(), "--secret", SECRET],
    );
    assert_eq!(code, 1);
    assert!(out.contains("expired"), "{out}");
}

#[test]
fn token_sign_needs_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = mastra(dir.path(), &["token", "sign"]);
    assert_eq!(code, 2);
    assert!(err.contains("--secret"), "{err}");
    let (code, _, err) = mastra(
        dir.path(),
        &["token", "sign", "--secret", SECRET, "--exp", "soon"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("--exp"), "{err}");
}

#[test]
fn config_check_reports_ok_invalid_and_lints() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        format!(
            "[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"{SECRET}\"\n[[auth.rules]]\nallow = true\n[[auth.rules]]\nmethods = [\"GET\"]\nallow = false\n"
        ),
    )
    .unwrap();
    let (code, out, _) = mastra(
        dir.path(),
        &["config", "check", "--config", good.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("OK"), "{out}");
    assert!(out.contains("auth.rules[1] can never match"), "{out}");
    assert!(
        !out.contains(SECRET),
        "the secret must never be printed: {out}"
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[server]\nprot = 1\n").unwrap();
    let (code, out, _) = mastra(
        dir.path(),
        &["config", "check", "--config", bad.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(out.contains("prot"), "{out}");

    let short = dir.path().join("short.toml");
    std::fs::write(&short, "[auth.jwt]\nsecret = \"short\"\n").unwrap();
    let (code, out, _) = mastra(
        dir.path(),
        &["config", "check", "--config", short.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(out.contains("auth.jwt.secret"), "{out}");
}

#[test]
fn help_on_every_command() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["token", "--help"],
        vec!["token", "sign", "--help"],
        vec!["token", "verify", "--help"],
        vec!["config", "check", "--help"],
    ] {
        let (code, out, _) = mastra(dir.path(), &args);
        assert_eq!(code, 0, "{args:?}");
        assert!(out.contains("Usage"), "{args:?}: {out}");
    }
}

#[tokio::test]
async fn tokens_never_reach_logs_or_error_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let (server, base, lines, log) = serve_logged(dir.path(), &[], "trace");
    let good = lines
        .iter()
        .map(|l| l.trim())
        .find(|l| l.starts_with("eyJ"))
        .unwrap()
        .to_owned();
    let forged = format!("{}AAAA", &good[..good.len() - 4]);
    let client = reqwest::Client::new();
    let mut bodies = Vec::new();
    for (auth, query) in [
        (Some(format!("Bearer {good}")), None),
        (Some(format!("Bearer {forged}")), None),
        (None, Some(forged.clone())),
        (None, Some(good.clone())),
        (Some(format!("Bearer {good}")), Some(forged.clone())),
    ] {
        let mut url = format!("{base}/api/agents/weatherAgent/generate");
        if let Some(q) = &query {
            url = format!("{url}?apiKey={q}");
        }
        let mut req = client
            .post(&url)
            .header("cookie", format!("session={good}"));
        if let Some(a) = &auth {
            req = req.header("authorization", a);
        }
        let res = req.json(&json!({"messages": "hi"})).send().await.unwrap();
        bodies.push(res.text().await.unwrap());
    }
    // Bad bodies do not crash the server either.
    let res = client
        .post(format!("{base}/api/agents/weatherAgent/generate"))
        .bearer_auth(&good)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    std::thread::sleep(Duration::from_millis(300));
    drop(server);
    let log = log.lock().unwrap().join("\n");
    assert!(
        log.contains("/api/agents/weatherAgent/generate"),
        "request logs are on: {log}"
    );
    for secret in [&good, &forged] {
        // The JWT header segment alone is common to both; look for the signature-bearing tail.
        let tail = &secret[secret.len() - 20..];
        assert!(!log.contains(tail), "token leaked into logs");
        for b in &bodies {
            assert!(!b.contains(tail), "token leaked into a response: {b}");
        }
    }
    let dev_secret = std::fs::read_to_string(dir.path().join(".mastra/dev-secret")).unwrap();
    assert!(!log.contains(dev_secret.trim()), "secret leaked into logs");
}
