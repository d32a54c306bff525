//! `/api/memory/*` and agents with memory, over real HTTP with real tokens: shapes, paging,
//! two-turn conversations, and ownership across every route (bob never reaches alice's
//! threads).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{client, hs256_token, start_app};

const SECRET: &str = "memory-test-secret-0123456789abcdef";

struct Api {
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Api {
    /// A server with JWT auth (or none) and memory on a fresh SQLite file; `extra` is appended
    /// to the config.
    async fn start(auth: bool, extra: &str) -> Api {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("memory.db");
        let auth = if auth {
            format!("[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"{SECRET}\"\n")
        } else {
            "[auth]\nprovider = \"none\"\n".to_string()
        };
        let toml = format!(
            "{auth}[storage]\nurl = \"sqlite://{}\"\n{extra}",
            db.display()
        );
        Api {
            base: start_app(&toml).await,
            http: client(),
            _dir: dir,
        }
    }

    async fn call(
        &self,
        who: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api{path}", self.base));
        if let Some(sub) = who {
            req = req.bearer_auth(hs256_token(SECRET.as_bytes(), &json!({"sub": sub})));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, who: &str, path: &str) -> (StatusCode, Value) {
        self.call(Some(who), Method::GET, path, None).await
    }

    async fn post(&self, who: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Some(who), Method::POST, path, Some(body)).await
    }

    /// Streams and answers the concatenated text deltas (or the raw body when not 200).
    async fn stream_text(&self, who: &str, body: Value) -> (StatusCode, String) {
        let resp = self
            .http
            .post(format!("{}/api/agents/weatherAgent/stream", self.base))
            .bearer_auth(hs256_token(SECRET.as_bytes(), &json!({"sub": who})))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body = resp.text().await.unwrap();
        if status != StatusCode::OK {
            return (status, body);
        }
        let text = body
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .filter(|c| c["type"] == "text-delta")
            .map(|c| c["payload"]["text"].as_str().unwrap_or("").to_owned())
            .collect();
        (status, text)
    }
}

const AGENT: &str = "agentId=weatherAgent";

#[tokio::test]
async fn threads_crud_and_message_paging() {
    let api = Api::start(true, "").await;
    // No resourceId: the thread belongs to the signed-in user.
    let (s, t) = api
        .post(
            "alice",
            &format!("/memory/threads?{AGENT}"),
            json!({"agentId": "weatherAgent", "title": "trip", "metadata": {"k": 1}}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    let id = t["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(
        (t["resourceId"].as_str(), t["title"].as_str()),
        (Some("alice"), Some("trip"))
    );
    assert_eq!(t["metadata"], json!({"k": 1}));
    assert!(t["createdAt"].as_str().unwrap().ends_with('Z'));

    let (s, list) = api
        .get(
            "alice",
            &format!("/memory/threads?{AGENT}&resourceId=alice"),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            list["total"].as_u64(),
            list["page"].as_u64(),
            list["perPage"].as_u64(),
            list["hasMore"].as_bool()
        ),
        (Some(1), Some(0), Some(100), Some(false))
    );
    assert_eq!(list["threads"][0]["id"], id.as_str());

    let (s, renamed) = api
        .call(
            Some("alice"),
            Method::PATCH,
            &format!("/memory/threads/{id}?{AGENT}"),
            Some(json!({"title": "renamed"})),
        )
        .await;
    assert_eq!(
        (s, renamed["title"].as_str()),
        (StatusCode::OK, Some("renamed"))
    );
    let (_, got) = api
        .get("alice", &format!("/memory/threads/{id}?{AGENT}"))
        .await;
    assert_eq!(got["title"], "renamed");

    let messages: Vec<Value> = (0..5)
        .map(|i| json!({"threadId": id, "resourceId": "alice", "role": if i % 2 == 0 {"user"} else {"assistant"},
            "content": {"format": 2, "parts": [{"type": "text", "text": format!("m{i}")}]}, "createdAt": "2026-01-01T00:00:00.000Z"}))
        .collect();
    let (s, saved) = api
        .post(
            "alice",
            &format!("/memory/save-messages?{AGENT}"),
            json!({"messages": messages}),
        )
        .await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!(saved["messages"].as_array().unwrap().len(), 5);
    assert_eq!(
        saved["messages"][0]["createdAt"],
        "2026-01-01T00:00:00.000Z"
    );

    // Pages count from the newest (Mastra's default); each page reads oldest first.
    let texts = |v: &Value| -> Vec<String> {
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                m["content"]["parts"][0]["text"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let (s, p0) = api
        .get(
            "alice",
            &format!("/memory/threads/{id}/messages?{AGENT}&page=0&perPage=2"),
        )
        .await;
    assert_eq!(s, 200, "{p0}");
    assert_eq!(texts(&p0), ["m3", "m4"]);
    assert_eq!(
        (p0["total"].as_u64(), p0["hasMore"].as_bool()),
        (Some(5), Some(true))
    );
    let (_, p2) = api
        .get(
            "alice",
            &format!("/memory/threads/{id}/messages?{AGENT}&page=2&perPage=2"),
        )
        .await;
    assert_eq!(texts(&p2), ["m0"]);
    let asc = r#"{"field":"createdAt","direction":"ASC"}"#;
    let (_, first) = api
        .get(
            "alice",
            &format!(
                "/memory/threads/{id}/messages?{AGENT}&perPage=2&orderBy={}",
                urlencode(asc)
            ),
        )
        .await;
    assert_eq!(texts(&first), ["m0", "m1"]);
    assert_eq!(p0["messages"][0]["type"], "text");
    assert_eq!(p0["messages"][0]["threadId"], id.as_str());

    let (s, e) = api
        .get(
            "alice",
            &format!("/memory/threads/{id}/messages?perPage=abc"),
        )
        .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Invalid query parameters"))
    );

    // Delete one message, clone, delete the thread.
    let victim = saved["messages"][0]["id"].as_str().unwrap().to_owned();
    let (s, d) = api
        .post(
            "alice",
            &format!("/memory/messages/delete?{AGENT}"),
            json!({"messageIds": [victim]}),
        )
        .await;
    assert_eq!(
        (s, d),
        (
            StatusCode::OK,
            json!({"success": true, "message": "1 message deleted successfully"})
        )
    );
    let (s, c) = api
        .post(
            "alice",
            &format!("/memory/threads/{id}/clone?{AGENT}"),
            json!({"title": "copy"}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["clonedMessages"].as_array().unwrap().len(), 4);
    assert_eq!(
        c["thread"]["metadata"]["clone"]["sourceThreadId"],
        id.as_str()
    );
    assert_eq!(c["messageIdMap"].as_object().unwrap().len(), 4);
    let (s, d) = api
        .call(
            Some("alice"),
            Method::DELETE,
            &format!("/memory/threads/{id}?{AGENT}"),
            None,
        )
        .await;
    assert_eq!(
        (s, d),
        (StatusCode::OK, json!({"result": "Thread deleted"}))
    );
    let (s, e) = api
        .get("alice", &format!("/memory/threads/{id}?{AGENT}"))
        .await;
    assert_eq!(
        (s, e),
        (StatusCode::NOT_FOUND, json!({"error": "Thread not found"}))
    );

    let (s, st) = api.get("alice", &format!("/memory/status?{AGENT}")).await;
    assert_eq!(
        (s, st),
        (
            StatusCode::OK,
            json!({"result": true, "memoryType": "local"})
        )
    );
    let (_, cfg) = api.get("alice", &format!("/memory/config?{AGENT}")).await;
    assert_eq!(cfg["config"]["lastMessages"], 10);
    let (_, details) = api.get("alice", "/agents/weatherAgent").await;
    assert_eq!(details["supportsMemory"], true);
    let (_, list) = api.get("alice", "/agents").await;
    assert_eq!(list["weatherAgent"]["supportsMemory"], true);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_second_answer_sees_the_first() {
    let api = Api::start(true, "").await;
    let turn =
        |text: &str| json!({"messages": text, "memory": {"thread": "chat-1", "resource": "alice"}});
    let (s, first) = api
        .post(
            "alice",
            "/agents/weatherAgent/generate",
            turn("my name is Ada"),
        )
        .await;
    assert_eq!(
        (s, first["text"].as_str()),
        (StatusCode::OK, Some("Echo: my name is Ada"))
    );
    let (s, second) = api
        .post("alice", "/agents/weatherAgent/generate", turn("recall"))
        .await;
    assert_eq!(
        (s, second["text"].as_str()),
        (StatusCode::OK, Some("Earlier you said: my name is Ada"))
    );

    // Streaming remembers too, and sees what generate saved.
    let (s, text) = api
        .stream_text(
            "alice",
            json!({"messages": "recall", "memory": {"thread": {"id": "chat-1"}}}),
        )
        .await;
    assert_eq!(
        (s, text.as_str()),
        (StatusCode::OK, "Earlier you said: recall")
    );

    let (_, page) = api
        .get(
            "alice",
            &format!("/memory/threads/chat-1/messages?{AGENT}&perPage=false"),
        )
        .await;
    let roles: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        [
            "user",
            "assistant",
            "user",
            "assistant",
            "user",
            "assistant"
        ]
    );
    let (_, thread) = api
        .get("alice", &format!("/memory/threads/chat-1?{AGENT}"))
        .await;
    assert_eq!(
        (thread["resourceId"].as_str(), thread["title"].as_str()),
        (Some("alice"), Some(""))
    );

    // The older top-level threadId works; readOnly reads without saving.
    let (s, v) = api
        .post(
            "alice",
            "/agents/weatherAgent/generate",
            json!({"messages": "recall", "threadId": "chat-1", "memory": null}),
        )
        .await;
    assert_eq!(
        (s, v["text"].as_str()),
        (StatusCode::OK, Some("Earlier you said: recall"))
    );
    let (_, v) = api
        .post(
            "alice",
            "/agents/weatherAgent/generate",
            json!({"messages": "x", "memory": {"thread": "chat-1", "readOnly": true}}),
        )
        .await;
    assert_eq!(v["text"], "Echo: x");
    let (_, page) = api
        .get("alice", &format!("/memory/threads/chat-1/messages?{AGENT}"))
        .await;
    assert_eq!(page["total"], 8);
}

#[tokio::test]
async fn bob_gets_nothing_of_alices_threads_through_any_route() {
    let api = Api::start(true, "").await;
    let (_, t) = api
        .post(
            "alice",
            &format!("/memory/threads?{AGENT}"),
            json!({"resourceId": "alice", "title": "private", "threadId": "alice-chat"}),
        )
        .await;
    let id = t["id"].as_str().unwrap().to_owned();
    let (s, saved) = api
        .post(
            "alice",
            &format!("/memory/save-messages?{AGENT}"),
            json!({"messages": [{"threadId": id, "role": "user", "content": "my secret"}]}),
        )
        .await;
    assert_eq!(s, 200, "{saved}");
    let secret_id = saved["messages"][0]["id"].as_str().unwrap().to_owned();
    let not_found = json!({"error": "Thread not found"});

    // list: only bob's own (none); naming alice is 403.
    let (s, list) = api.get("bob", &format!("/memory/threads?{AGENT}")).await;
    assert_eq!((s, list["total"].as_u64()), (StatusCode::OK, Some(0)));
    let (s, _) = api
        .get("bob", &format!("/memory/threads?{AGENT}&resourceId=alice"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // get, messages, rename, delete, clone: as if it did not exist.
    assert_eq!(
        api.get("bob", &format!("/memory/threads/{id}?{AGENT}"))
            .await,
        (StatusCode::NOT_FOUND, not_found.clone())
    );
    assert_eq!(
        api.get("bob", &format!("/memory/threads/{id}/messages?{AGENT}"))
            .await,
        (StatusCode::NOT_FOUND, not_found.clone())
    );
    assert_eq!(
        api.call(
            Some("bob"),
            Method::PATCH,
            &format!("/memory/threads/{id}?{AGENT}"),
            Some(json!({"title": "pwned"}))
        )
        .await,
        (StatusCode::NOT_FOUND, not_found.clone())
    );
    assert_eq!(
        api.call(
            Some("bob"),
            Method::DELETE,
            &format!("/memory/threads/{id}?{AGENT}"),
            None
        )
        .await,
        (StatusCode::NOT_FOUND, not_found.clone())
    );
    let (s, e) = api
        .post(
            "bob",
            &format!("/memory/threads/{id}/clone?{AGENT}"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, e),
        (
            StatusCode::NOT_FOUND,
            json!({"error": "Source thread not found"})
        )
    );
    // save into alice's thread: 404 (naming her resource: 403).
    let (s, _) = api
        .post(
            "bob",
            &format!("/memory/save-messages?{AGENT}"),
            json!({"messages": [{"threadId": id, "role": "user", "content": "injected"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = api.post("bob", &format!("/memory/save-messages?{AGENT}"), json!({"messages": [{"threadId": id, "resourceId": "alice", "role": "user", "content": "x"}]})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // delete alice's message: answered like Mastra, but nothing is deleted.
    let (s, _) = api
        .post(
            "bob",
            &format!("/memory/messages/delete?{AGENT}"),
            json!({"messageIds": [secret_id]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // create with alice's client-chosen id, or for alice's resource: refused, never shared.
    let (s, e) = api
        .post(
            "bob",
            &format!("/memory/threads?{AGENT}"),
            json!({"resourceId": "bob", "threadId": id}),
        )
        .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("Access denied: thread belongs to a different resource")
        )
    );
    let (s, _) = api
        .post(
            "bob",
            &format!("/memory/threads?{AGENT}"),
            json!({"resourceId": "alice"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // generate and stream with alice's thread: refused before the model runs.
    let (s, e) = api
        .post(
            "bob",
            "/agents/weatherAgent/generate",
            json!({"messages": "recall", "memory": {"thread": id, "resource": "bob"}}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    let (s, _) = api
        .post(
            "bob",
            "/agents/weatherAgent/generate",
            json!({"messages": "recall", "memory": {"thread": id, "resource": "alice"}}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = api
        .stream_text(
            "bob",
            json!({"messages": "recall", "memory": {"thread": id}}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = api
        .post(
            "bob",
            "/agents/weatherAgent/generate",
            json!({"messages": "recall", "threadId": id, "resourceId": "bob"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Alice's thread is exactly as she left it.
    let (_, t) = api
        .get("alice", &format!("/memory/threads/{id}?{AGENT}"))
        .await;
    assert_eq!(t["title"], "private");
    let (_, page) = api
        .get("alice", &format!("/memory/threads/{id}/messages?{AGENT}"))
        .await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["messages"][0]["content"]["content"], "my secret");
    // Without a token nothing is reached at all.
    let (s, _) = api
        .call(None, Method::GET, &format!("/memory/threads?{AGENT}"), None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_public_memory_route_still_needs_an_owner() {
    // A config that makes memory public must not open it to anonymous callers.
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[auth]\nprovider = \"jwt\"\npublic = [\"/api/memory/*\"]\n[auth.jwt]\nsecret = \"{SECRET}\"\n[storage]\nurl = \"sqlite://{}\"\n",
        dir.path().join("m.db").display()
    );
    let base = start_app(&toml).await;
    let resp = client()
        .get(format!("{base}/api/memory/threads?{AGENT}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "Authentication required");
}

#[tokio::test]
async fn other_claims_and_cross_resource_principals() {
    let api = Api::start(
        true,
        "[memory]\nresource_claim = \"sub\"\ncross_resource = [\"ops-bot\"]\n",
    )
    .await;
    api.post(
        "alice",
        &format!("/memory/threads?{AGENT}"),
        json!({"threadId": "a1"}),
    )
    .await;
    let (s, list) = api
        .get(
            "ops-bot",
            &format!("/memory/threads?{AGENT}&resourceId=alice"),
        )
        .await;
    assert_eq!((s, list["total"].as_u64()), (StatusCode::OK, Some(1)));
    let (s, _) = api
        .get("ops-bot", &format!("/memory/threads/a1?{AGENT}"))
        .await;
    assert_eq!(s, StatusCode::OK);

    let tenant = Api::start(true, "[memory]\nresource_claim = \"tenant\"\n").await;
    let token = hs256_token(
        SECRET.as_bytes(),
        &json!({"sub": "carol", "tenant": "acme"}),
    );
    let resp = tenant
        .http
        .post(format!("{}/api/memory/threads?{AGENT}", tenant.base))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let t: Value = resp.json().await.unwrap();
    assert_eq!(t["resourceId"], "acme");
    // A token without the claim owns nothing.
    let (s, _) = tenant
        .get("dave", &format!("/memory/threads?{AGENT}"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn with_auth_off_the_request_names_the_resource() {
    let api = Api::start(false, "").await;
    let (s, e) = api
        .call(
            None,
            Method::POST,
            &format!("/memory/threads?{AGENT}"),
            Some(json!({"title": "x"})),
        )
        .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Invalid request body"))
    );
    let (s, t) = api
        .call(
            None,
            Method::POST,
            &format!("/memory/threads?{AGENT}"),
            Some(json!({"resourceId": "r1", "threadId": "t1"})),
        )
        .await;
    assert_eq!((s, t["resourceId"].as_str()), (StatusCode::OK, Some("r1")));
    let (_, list) = api
        .call(None, Method::GET, &format!("/memory/threads?{AGENT}"), None)
        .await;
    assert_eq!(list["total"], 1);
    let (s, e) = api
        .call(
            None,
            Method::POST,
            "/agents/weatherAgent/generate",
            Some(json!({"messages": "hi", "memory": {"thread": "t2"}})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .starts_with("A resource ID is required"),
        "{e}"
    );
    // Without auth, generating in r1's thread as r2 is refused (Mastra: the same 403).
    let (s, e) = api
        .call(
            None,
            Method::POST,
            "/agents/weatherAgent/generate",
            Some(json!({"messages": "hi", "memory": {"thread": "t1", "resource": "r2"}})),
        )
        .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("Access denied: thread belongs to a different resource")
        )
    );
    let (s, v) = api
        .call(
            None,
            Method::POST,
            "/agents/weatherAgent/generate",
            Some(json!({"messages": "hi", "memory": {"thread": "t1", "resource": "r1"}})),
        )
        .await;
    assert_eq!((s, v["text"].as_str()), (StatusCode::OK, Some("Echo: hi")));
    // Even without auth, a thread id is never shared across resources.
    let (s, _) = api
        .call(
            None,
            Method::POST,
            &format!("/memory/threads?{AGENT}"),
            Some(json!({"resourceId": "r2", "threadId": "t1"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn memory_turned_off_answers_like_an_agent_without_memory() {
    let api = Api::start(true, "[memory]\nenabled = false\n").await;
    let (s, v) = api.get("alice", &format!("/memory/status?{AGENT}")).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"result": false})));
    let (_, v) = api.get("alice", &format!("/memory/config?{AGENT}")).await;
    assert_eq!(v, json!({"config": null}));
    let (s, v) = api.get("alice", &format!("/memory/threads?{AGENT}")).await;
    assert_eq!(
        (s, v),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "Memory is not initialized"})
        )
    );
    let (_, details) = api.get("alice", "/agents/weatherAgent").await;
    assert_eq!(details["supportsMemory"], false);
    let (_, list) = api.get("alice", "/agents").await;
    assert_eq!(list["weatherAgent"]["supportsMemory"], false);
    let (s, v) = api
        .post(
            "alice",
            "/agents/weatherAgent/generate",
            json!({"messages": "hi", "memory": {"thread": "t"}}),
        )
        .await;
    assert_eq!((s, v["text"].as_str()), (StatusCode::OK, Some("Echo: hi")));
}

/// The key set of a JSON object (empty for anything else).
fn keys(v: &Value) -> std::collections::BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn shapes_match_the_real_mastra_server() {
    // Bodies captured from Mastra 1.69 (see the fixture's _comment); ours must have the same
    // keys, so @mastra/client-js and front ends read them the same way.
    let mastra: Value =
        serde_json::from_str(include_str!("fixtures/mastra-1.69-memory.json")).unwrap();
    let api = Api::start(true, "").await;
    let (_, thread) = api
        .post(
            "alice",
            &format!("/memory/threads?{AGENT}"),
            json!({"title": "t1", "metadata": {"a": 1}}),
        )
        .await;
    assert_eq!(keys(&thread), keys(&mastra["thread"]));
    let id = thread["id"].as_str().unwrap().to_owned();
    let (_, page) = api
        .get("alice", &format!("/memory/threads?{AGENT}&perPage=1"))
        .await;
    assert_eq!(keys(&page), keys(&mastra["threads_page"]));
    assert_eq!(
        keys(&page["threads"][0]),
        keys(&mastra["threads_page"]["threads"][0])
    );

    api.post(
        "alice",
        "/agents/weatherAgent/generate",
        json!({"messages": "hello two", "memory": {"thread": id}}),
    )
    .await;
    let (_, messages) = api
        .get("alice", &format!("/memory/threads/{id}/messages?{AGENT}"))
        .await;
    assert_eq!(keys(&messages), keys(&mastra["messages_page"]));
    for (ours, theirs) in messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .zip(mastra["messages_page"]["messages"].as_array().unwrap())
    {
        assert_eq!(keys(ours), keys(theirs));
        assert_eq!(ours["role"], theirs["role"]);
        for key in ["format", "parts", "content"] {
            assert!(ours["content"].get(key).is_some(), "{key}: {ours}");
        }
        assert_eq!(ours["content"]["format"], theirs["content"]["format"]);
    }
    assert_eq!(
        messages["uiMessages"],
        mastra["messages_page"]["uiMessages"]
    );

    let (_, saved) = api
        .post("alice", &format!("/memory/save-messages?{AGENT}"), json!({"messages": [{"id": "m-y", "threadId": id, "role": "user", "content": {"format": 2, "parts": [{"type": "text", "text": "saved"}]}, "createdAt": "2026-01-01T00:00:00.000Z"}]}))
        .await;
    assert_eq!(keys(&saved), keys(&mastra["save_messages"]));
    let (_, cloned) = api
        .post(
            "alice",
            &format!("/memory/threads/{id}/clone?{AGENT}"),
            json!({"newThreadId": "cl-1", "options": {"messageLimit": 1}}),
        )
        .await;
    assert_eq!(keys(&cloned), keys(&mastra["clone"]));
    assert_eq!(keys(&cloned["thread"]), keys(&mastra["clone"]["thread"]));
    assert_eq!(
        keys(&cloned["clonedMessages"][0]),
        keys(&mastra["clone"]["clonedMessages"][0])
    );
    let (_, deleted) = api
        .post(
            "alice",
            &format!("/memory/messages/delete?{AGENT}"),
            json!({"messageIds": ["m-y", "zzz"]}),
        )
        .await;
    assert_eq!(deleted, mastra["delete_messages"]);
    let (_, status) = api.get("alice", &format!("/memory/status?{AGENT}")).await;
    assert_eq!(status, mastra["status"]);
    let (_, config) = api.get("alice", &format!("/memory/config?{AGENT}")).await;
    assert_eq!(keys(&config["config"]), keys(&mastra["config"]["config"]));
    let (_, missing) = api
        .get("alice", &format!("/memory/threads/nope?{AGENT}"))
        .await;
    assert_eq!(missing, mastra["thread_not_found"]);
    let (_, gone) = api
        .call(
            Some("alice"),
            Method::DELETE,
            &format!("/memory/threads/{id}?{AGENT}"),
            None,
        )
        .await;
    assert_eq!(gone, mastra["delete_thread"]);
}
