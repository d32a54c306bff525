//! The built-in page (`[ui]`) driven in headless Chromium over WebDriver, against the real
//! `mastra` binary:
//! - with browser sign-in at a certified OpenID provider (`tests/oidc-provider`): the sign-in
//!   button, the provider's login and consent forms, back on the page with the user's name, the
//!   agent list, a message and its streamed answer, sign-out;
//! - with auth off: the agent list, a message sent with the keyboard, the answer rendered delta
//!   by delta; on a server whose API needs credentials it cannot get in a browser, the page
//!   saying so; and, when the agent's model is down, the failure shown, never silent.
//!
//! Needs Debian's `chromium` and `chromium-driver`, Node and the provider's npm packages
//! (`bash scripts/test.sh` installs them when missing); without them the tests fail with the
//! install command, never skip. Screenshots go to `target/test-artifacts/`: the signed-in chat
//! `ui-chat.png`, the chat with auth off `ui-chat-no-auth.png`, the failed answer `ui-error.png`.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::support::{BIN, Running};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long the page may take to show what a step waits for.
const STEP: Duration = Duration::from_secs(15);

/// A running `mastra serve` and the base URL it printed.
struct Served {
    _process: Running,
    base: String,
}

/// Starts `mastra serve` with `config` (a `mastra.toml` text) in `dir`, on a free port, with a
/// cleared environment plus `env`.
fn serve(dir: &Path, name: &str, config: &str, env: &[(&str, &str)]) -> Served {
    serve_on(dir, name, config, 0, env)
}

/// [`serve`] on `port` (0: a free one).
fn serve_on(dir: &Path, name: &str, config: &str, port: u16, env: &[(&str, &str)]) -> Served {
    let path = dir.join(name);
    std::fs::write(&path, config).expect("write config");
    let mut child = Command::new(BIN)
        .args(["serve", "--host", "127.0.0.1", "--config"])
        .arg(&path)
        .arg("--port")
        .arg(port.to_string())
        .current_dir(dir)
        .env_clear()
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mastra");
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let process = Running(child);
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Keep reading after the URL: a closed pipe would fail the server's later prints.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100))
            && line.contains("listening on")
            && let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://"))
        {
            return Served {
                _process: process,
                base: url.to_owned(),
            };
        }
    }
    drop(process);
    let errors = errors.join().unwrap_or_default();
    panic!(
        "mastra serve --config {} printed no URL:\n{errors}",
        path.display()
    );
}

/// Starts chromedriver on a free loopback port and waits until it answers.
async fn chromedriver() -> (Running, String) {
    assert!(
        Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(),
        "the browser test needs Debian's chromium and chromium-driver ({CHROMIUM}, \
         {CHROMEDRIVER}): run: apt-get install chromium chromium-driver  (or: bash scripts/test.sh)"
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn chromedriver");
    let driver = Running(child);
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(res) = client.get(format!("{url}/status")).send().await
            && res.status().is_success()
        {
            return (driver, url);
        }
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A headless Chromium session (root in CI: no sandbox; a fresh profile in `profile`).
async fn browser(driver: &str, profile: &Path) -> Client {
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--window-size=1200,800",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    let Value::Object(caps) = caps else {
        unreachable!("a JSON object literal")
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(driver)
        .await
        .expect("start a Chromium session")
}

/// Waits until `script` (a function body returning a value) returns something truthy; returns
/// it. Panics with `what` and the page's visible text on timeout.
async fn wait_until(c: &Client, what: &str, script: &str) -> Value {
    let deadline = Instant::now() + STEP;
    loop {
        let value = c.execute(script, Vec::new()).await.expect("run script");
        let truthy = match &value {
            Value::Null | Value::Bool(false) => false,
            Value::String(s) => !s.is_empty(),
            _ => true,
        };
        if truthy {
            return value;
        }
        if Instant::now() > deadline {
            let text = c
                .execute("return document.body.innerText", Vec::new())
                .await
                .unwrap_or(Value::Null);
            panic!("timed out waiting for {what}; the page shows:\n{text}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The visible text of `selector`'s first match (empty when absent or hidden).
async fn text_of(c: &Client, selector: &str) -> String {
    let script = format!(
        "const e = document.querySelector({}); return e && e.offsetParent !== null ? e.innerText : '';",
        json!(selector)
    );
    match c.execute(&script, Vec::new()).await.expect("run script") {
        Value::String(s) => s,
        _ => String::new(),
    }
}

/// Where the screenshot goes: `target/test-artifacts/` (or under `CARGO_TARGET_DIR`).
fn artifact(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("create the artifact directory");
    dir.join(name)
}

/// Saves a PNG screenshot of the page as the artifact `name`.
async fn save_screenshot(c: &Client, name: &str) -> Result<(), String> {
    let png = c
        .screenshot()
        .await
        .map_err(|e| format!("screenshot: {e}"))?;
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG screenshot");
    let path = artifact(name);
    std::fs::write(&path, &png).map_err(|e| format!("write {}: {e}", path.display()))
}

/// Types `text` into the message box and presses Enter (the keyboard path).
async fn send_message(c: &Client, text: &str) -> Result<(), String> {
    c.find(Locator::Id("message"))
        .await
        .map_err(|e| format!("find the message box: {e}"))?
        .send_keys(&format!("{text}\u{E007}"))
        .await
        .map_err(|e| format!("type the message: {e}"))
}

/// The text of the first answer once it has finished streaming.
async fn finished_answer(c: &Client) -> Value {
    wait_until(
        c,
        "the streamed answer",
        "const m = document.querySelector('.message.assistant'); \
         return m && !m.hasAttribute('aria-busy') ? m.querySelector('.text').innerText : null;",
    )
    .await
}

/// Waits until the sign-in button is visible.
async fn sign_in_button_shown(c: &Client, what: &str) {
    wait_until(
        c,
        what,
        "const b = document.getElementById('sign-in-button'); return b.offsetParent !== null;",
    )
    .await;
}

/// A config with the page on: `auth` (the `[auth]` tables) and `agents` (`[[agents]]` tables).
fn page_config(auth: &str, agents: &str) -> String {
    format!("[server]\nrequest_logs = false\n\n{auth}\n[ui]\nenabled = true\n\n{agents}")
}

const NO_AUTH: &str = "[auth]\nprovider = \"none\"\n";

/// The offline echo model's agent, as `[[agents]]`.
const ECHO_AGENT: &str = r#"
[[agents]]
id = "echoAgent"
name = "Echo Agent"
description = "Repeats what you say (offline echo model)"
instructions = "Repeat the message."
model = "builtin/echo"
"#;

const HELPER_AGENT: &str = r#"
[[agents]]
id = "helperAgent"
name = "Helper Agent"
description = "Also answers offline"
instructions = "Help."
model = "builtin/echo"
"#;

const JWT_AUTH: &str = r#"
[auth]
provider = "jwt"
[auth.jwt]
secret = "ui-browser-secret-0123456789abcdef0123456789"
"#;

/// An agent whose model endpoint is `OPENAI_BASE_URL`.
const DOWN_AGENT: &str = r#"
[[agents]]
id = "downAgent"
name = "Down Agent"
instructions = "Answer."
model = "openai/gpt-4o-mini"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let open_config = page_config(NO_AUTH, &format!("{ECHO_AGENT}{HELPER_AGENT}"));
    let open = serve(dir.path(), "open.toml", &open_config, &[]);
    let closed = serve(dir.path(), "closed.toml", &page_config(JWT_AUTH, ""), &[]);
    // A model endpoint nobody listens on: every answer fails.
    let unused = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let down = format!("http://{unused}/v1");
    let broken = serve(
        dir.path(),
        "broken.toml",
        &page_config(NO_AUTH, DOWN_AGENT),
        &[("OPENAI_BASE_URL", down.as_str())],
    );
    let (_driver, driver_url) = chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver_url, profile.path()).await;

    let session = c.clone();
    let bases = [open.base.clone(), closed.base.clone(), broken.base.clone()];
    run_then_close(c, async move {
        let [open, closed, broken] = &bases;
        drive(&session, open, closed, broken).await
    })
    .await;
}

/// Runs `steps` in their own task, so that a failed assertion (a panic) still reaches the
/// session's close and no Chromium outlives the test; then fails as the steps did.
async fn run_then_close(
    c: Client,
    steps: impl std::future::Future<Output = Result<(), String>> + Send + 'static,
) {
    let outcome = tokio::spawn(steps).await;
    let _ = c.close().await;
    match outcome {
        Ok(result) => result.unwrap_or_else(|e| panic!("{e}")),
        Err(failed) => std::panic::resume_unwind(failed.into_panic()),
    }
}

/// The steps; an `Err` names the step that failed.
async fn drive(c: &Client, open: &str, closed: &str, broken: &str) -> Result<(), String> {
    // Auth off: straight to the agents, no account shown.
    c.goto(&format!("{open}/ui/"))
        .await
        .map_err(|e| format!("open the page: {e}"))?;
    let names = wait_until(
        c,
        "the agent list",
        "const n = [...document.querySelectorAll('#agent-list .agent-name')].map(e => e.innerText); \
         return n.length === 2 ? n : null;",
    )
    .await;
    let mut names: Vec<String> = serde_json::from_value(names).map_err(|e| e.to_string())?;
    names.sort();
    assert_eq!(names, ["Echo Agent", "Helper Agent"]);
    assert_eq!(text_of(c, "#account").await, "", "no account with auth off");
    assert_eq!(text_of(c, "#error").await, "", "no error on load");

    // Pick an agent by its label, type, press Enter: the keyboard path.
    c.find(Locator::Css("input[name=agent][value=echoAgent]"))
        .await
        .map_err(|e| format!("find echoAgent: {e}"))?
        .click()
        .await
        .map_err(|e| format!("pick echoAgent: {e}"))?;
    assert_eq!(text_of(c, "#chat-title").await, "Chat with Echo Agent");
    // Count the changes to the conversation: the answer is appended delta by delta (one change
    // each), not set once at the end.
    c.execute(
        "window.__updates = 0; new MutationObserver((records) => window.__updates += records.length)\
         .observe(document.getElementById('messages'), \
         {subtree: true, characterData: true, childList: true});",
        Vec::new(),
    )
    .await
    .map_err(|e| format!("observe the messages: {e}"))?;
    let message = "hello from a headless browser";
    send_message(c, message).await?;
    let answer = finished_answer(c).await;
    assert_eq!(answer, json!(format!("Echo: {message}")));
    assert_eq!(
        text_of(c, ".message.user .text").await,
        message,
        "the question is shown"
    );
    let updates = c
        .execute("return window.__updates", Vec::new())
        .await
        .map_err(|e| format!("read the update count: {e}"))?;
    // The user's message and the empty answer are 2 updates; each of the 6 words another.
    assert!(
        updates.as_u64().is_some_and(|n| n >= 2 + 6),
        "the answer was rendered as it streamed: {updates} updates"
    );
    assert_eq!(text_of(c, "#error").await, "", "no error after the answer");
    assert_eq!(text_of(c, "#status").await, "Answer complete.");
    let focused = c
        .execute("return document.activeElement.id", Vec::new())
        .await
        .map_err(|e| format!("read the focus: {e}"))?;
    assert_eq!(focused, json!("message"), "focus back in the message box");

    save_screenshot(c, "ui-chat-no-auth.png").await?;

    // The API needs a token, and the server offers no browser sign-in (its capabilities say
    // so): the page explains it.
    c.goto(&format!("{closed}/ui/"))
        .await
        .map_err(|e| format!("open the closed page: {e}"))?;
    let text = wait_until(
        c,
        "the sign-in explanation",
        "const s = document.getElementById('sign-in'); return s.hidden ? null : s.innerText;",
    )
    .await;
    let text = text.as_str().unwrap_or_default();
    assert!(text.contains("offers no sign-in in the browser"), "{text}");
    assert_eq!(text_of(c, "#workspace").await, "", "no agents shown");
    assert_eq!(
        text_of(c, "#error").await,
        "",
        "the explanation, not an error"
    );

    // The model fails: the page says so, and marks the answer that failed.
    c.goto(&format!("{broken}/ui/"))
        .await
        .map_err(|e| format!("open the broken page: {e}"))?;
    wait_until(
        c,
        "the broken server's agent",
        "return document.querySelector('input[name=agent][value=downAgent]:checked');",
    )
    .await;
    send_message(c, "anyone there?").await?;
    let error = wait_until(
        c,
        "the error alert",
        "const e = document.getElementById('error'); return e.hidden ? null : e.innerText;",
    )
    .await;
    let error = error.as_str().unwrap_or_default();
    assert!(error.starts_with("The agent could not answer: "), "{error}");
    assert_eq!(text_of(c, "#status").await, "The answer failed.");
    let failed = c
        .execute(
            "return document.querySelectorAll('.message.failed').length",
            Vec::new(),
        )
        .await
        .map_err(|e| format!("count failed messages: {e}"))?;
    assert_eq!(failed, json!(1), "the failed answer is marked");
    save_screenshot(c, "ui-error.png").await?;
    assert_eq!(text_of(c, "#sign-in-button").await, "", "no sign-in button");
    Ok(())
}

/// The OpenID provider of `tests/oidc-provider` (`oidc-provider` from npm, with its built-in
/// development login and consent forms), killed when dropped.
struct Provider {
    _process: Running,
    issuer: String,
    resource: String,
    clients: Value,
}

/// Starts the provider with browser clients allowed to redirect to `redirect_uri`.
fn oidc_provider(redirect_uri: &str) -> Provider {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc-provider");
    assert!(
        dir.join("node_modules/oidc-provider/package.json")
            .is_file(),
        "the oidc-provider harness is not installed in {}: run: npm ci --prefix tests/oidc-provider  (or: bash scripts/test.sh)",
        dir.display()
    );
    let mut child = Command::new("node")
        .arg("server.js")
        .current_dir(&dir)
        .env("REDIRECT_URIS", redirect_uri)
        // It exits when its stdin closes: with the test.
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `node` ({e}): install Node 20+"));
    let stdout = child.stdout.take().expect("stdout");
    let process = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("oidc-provider printed its ready line");
    let ready: Value = serde_json::from_str(&line).expect("the ready line is JSON");
    Provider {
        _process: process,
        issuer: ready["issuer"].as_str().expect("issuer").to_owned(),
        resource: ready["resource"].as_str().expect("resource").to_owned(),
        clients: ready["clients"].clone(),
    }
}

const SESSION_SECRET: &str = "ui-browser-session-secret-0123456789abcdef0123";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_chat_sign_out_in_headless_chromium() {
    // The provider must know the callback URL before the server starts: pick the port first.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let op = oidc_provider(&format!("{base}/api/auth/sso/callback"));
    let auth = format!(
        r#"
[auth]
provider = "oidc"

[auth.oidc]
issuer = "{issuer}"
audience = "{resource}"
allow_insecure_http = true

[auth.session]
secrets = ["{SESSION_SECRET}"]

[auth.sso]
client_id = "e2e-web"
client_secret = "{secret}"
scopes = ["openid", "profile", "email", "offline_access", "api:read"]
audience = "{resource}"
"#,
        issuer = op.issuer,
        resource = op.resource,
        secret = op.clients["e2e-web"].as_str().expect("e2e-web secret"),
    );
    let config = page_config(&auth, ECHO_AGENT);
    let dir = tempfile::tempdir().unwrap();
    let served = serve_on(dir.path(), "signin.toml", &config, port, &[]);
    assert_eq!(served.base, base);
    let (_driver, driver_url) = chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver_url, profile.path()).await;
    let session = c.clone();
    let issuer = op.issuer.clone();
    run_then_close(
        c,
        async move { sign_in_steps(&session, &base, &issuer).await },
    )
    .await;
}

async fn sign_in_steps(c: &Client, base: &str, issuer: &str) -> Result<(), String> {
    let page = format!("{base}/ui/");
    c.goto(&page)
        .await
        .map_err(|e| format!("open the page: {e}"))?;
    sign_in_button_shown(c, "the sign-in button").await;
    assert_eq!(
        text_of(c, "#workspace").await,
        "",
        "no agents before sign-in"
    );
    c.find(Locator::Id("sign-in-button"))
        .await
        .map_err(|e| format!("find the sign-in button: {e}"))?
        .click()
        .await
        .map_err(|e| format!("click sign in: {e}"))?;

    // The provider's development forms: any login name, any password, then consent.
    let mut signed_in = false;
    for _ in 0..6 {
        let url = c.current_url().await.map_err(|e| e.to_string())?;
        if url.as_str().starts_with(&page) {
            signed_in = true;
            break;
        }
        if !url.as_str().starts_with(issuer) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        if let Ok(login) = c.find(Locator::Css("input[name=login]")).await {
            login.send_keys("ada").await.map_err(|e| e.to_string())?;
            c.find(Locator::Css("input[name=password]"))
                .await
                .map_err(|e| e.to_string())?
                .send_keys("any password")
                .await
                .map_err(|e| e.to_string())?;
        }
        c.find(Locator::Css("button[type=submit]"))
            .await
            .map_err(|e| format!("the provider's form at {url}: {e}"))?
            .click()
            .await
            .map_err(|e| e.to_string())?;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(signed_in, "back on the page after the provider's forms");

    let name = wait_until(
        c,
        "the signed-in user's name",
        "const n = document.getElementById('user-name'); return n.offsetParent !== null ? n.innerText : null;",
    )
    .await;
    assert_eq!(name, json!("User ada"));
    wait_until(
        c,
        "the agent list",
        "return document.querySelector('input[name=agent][value=echoAgent]:checked');",
    )
    .await;
    let message = "hello after signing in";
    send_message(c, message).await?;
    let answer = finished_answer(c).await;
    assert_eq!(answer, json!(format!("Echo: {message}")));
    assert_eq!(text_of(c, "#error").await, "", "no error after the answer");
    save_screenshot(c, "ui-chat.png").await?;

    // Sign out: the session cookie is gone (the page may first visit the provider's logout).
    c.find(Locator::Id("sign-out"))
        .await
        .map_err(|e| format!("find sign out: {e}"))?
        .click()
        .await
        .map_err(|e| format!("click sign out: {e}"))?;
    wait_until(
        c,
        "leaving the signed-in page",
        "const b = document.getElementById('sign-in-button'); \
         return !document.getElementById('workspace') || (b && b.offsetParent !== null);",
    )
    .await;
    c.goto(&page)
        .await
        .map_err(|e| format!("reopen the page: {e}"))?;
    sign_in_button_shown(c, "the sign-in button after signing out").await;
    assert_eq!(
        text_of(c, "#account").await,
        "",
        "no account after sign-out"
    );
    Ok(())
}
