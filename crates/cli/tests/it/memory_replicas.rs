//! Two `mastra serve` processes sharing one Postgres database: a thread written through one is
//! read through the other, ownership holds across them, and concurrent agent runs appending to
//! one thread through both keep every message, each turn's two messages adjacent and each
//! writer's turns in order. Needs the Postgres server `scripts/test.sh` starts
//! (`MASTRA_TEST_POSTGRES_URL`); fails without it.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::support::{postgres_url, serve_config, sign_token};

const SECRET: &str = "replica-test-secret-0123456789abcdef";

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_share_threads_and_keep_every_message_in_order() {
    const WRITERS_PER_SERVER: usize = 6;
    const TURNS: usize = 8;
    let url = postgres_url();
    // One run's users: the shared database keeps other runs' threads, never listed here.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let run = format!("{}-{nanos}", std::process::id());
    let (alice, bob) = (format!("alice-{run}"), format!("bob-{run}"));
    let (alice_token, bob_token) = (sign_token(SECRET, &alice), sign_token(SECRET, &bob));

    let config = format!(
        "[server]\nrequest_logs = false\n[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"{SECRET}\"\n[storage]\nurl = \"{url}\"\n"
    );
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    for d in &dirs {
        std::fs::write(d.path().join("mastra.toml"), &config).unwrap();
    }
    let (_a, base_a, memory_line) = serve_config(dirs[0].path());
    assert!(
        memory_line.contains("postgres at postgres://"),
        "{memory_line}"
    );
    let (_b, base_b, _) = serve_config(dirs[1].path());
    assert!(
        !dirs[0].path().join(".mastra/memory.db").exists(),
        "Postgres, not SQLite"
    );
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    // Written through A, read through B; bob gets nothing through either.
    let (s, t) = call(
        &http,
        reqwest::Method::POST,
        format!("{base_a}/api/memory/threads?agentId=weatherAgent"),
        &alice_token,
        Some(json!({"title": "shared"})),
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let id = t["id"].as_str().unwrap().to_owned();
    let (s, t) = call(
        &http,
        reqwest::Method::GET,
        format!("{base_b}/api/memory/threads/{id}?agentId=weatherAgent"),
        &alice_token,
        None,
    )
    .await;
    assert_eq!((s, t["title"].as_str()), (200, Some("shared")));
    for base in [&base_a, &base_b] {
        let (s, _) = call(
            &http,
            reqwest::Method::GET,
            format!("{base}/api/memory/threads/{id}?agentId=weatherAgent"),
            &bob_token,
            None,
        )
        .await;
        assert_eq!(s, 404);
        let (s, list) = call(
            &http,
            reqwest::Method::GET,
            format!("{base}/api/memory/threads?agentId=weatherAgent"),
            &bob_token,
            None,
        )
        .await;
        assert_eq!((s, list["total"].as_u64()), (200, Some(0)));
        let (s, _) = call(
            &http,
            reqwest::Method::POST,
            format!("{base}/api/agents/weatherAgent/generate"),
            &bob_token,
            Some(json!({"messages": "recall", "memory": {"thread": id}})),
        )
        .await;
        assert_eq!(s, 403);
    }

    // Concurrent agent runs on one thread through both servers.
    let mut tasks = Vec::new();
    for (server, base) in [&base_a, &base_b].into_iter().enumerate() {
        for w in 0..WRITERS_PER_SERVER {
            let (http, base, token, id) =
                (http.clone(), base.clone(), alice_token.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                for turn in 0..TURNS {
                    let (s, v) = call(&http, reqwest::Method::POST, format!("{base}/api/agents/weatherAgent/generate"), &token,
                        Some(json!({"messages": format!("s{server}w{w}t{turn}"), "memory": {"thread": id}}))).await;
                    assert_eq!(s, 200, "{v}");
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }

    let (s, page) = call(
        &http,
        reqwest::Method::GET,
        format!("{base_b}/api/memory/threads/{id}/messages?agentId=weatherAgent&perPage=false"),
        &alice_token,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let texts: Vec<String> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"]["content"].as_str().unwrap().to_owned())
        .collect();
    let expected = 2 * WRITERS_PER_SERVER * TURNS * 2;
    assert_eq!(
        (texts.len(), page["total"].as_u64()),
        (expected, Some(expected as u64))
    );
    let mut next: BTreeMap<String, usize> = BTreeMap::new();
    for pair in texts.chunks(2) {
        assert_eq!(
            pair[1],
            format!("Echo: {}", pair[0]),
            "a turn was split: {pair:?}"
        );
        let (writer, turn) = pair[0].split_once('t').unwrap();
        let expected_turn = next.entry(writer.to_owned()).or_insert(0);
        assert_eq!(
            turn.parse::<usize>().unwrap(),
            *expected_turn,
            "{writer} out of order"
        );
        *expected_turn += 1;
    }
    assert_eq!(next.len(), 2 * WRITERS_PER_SERVER);
    // The same view through the other server.
    let (_, page_a) = call(
        &http,
        reqwest::Method::GET,
        format!("{base_a}/api/memory/threads/{id}/messages?agentId=weatherAgent&perPage=false"),
        &alice_token,
        None,
    )
    .await;
    assert_eq!(page_a["messages"], page["messages"]);
}
