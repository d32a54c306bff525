//! A server killed (SIGKILL) while agent runs are appending to a thread leaves no half-written
//! turn: after a restart on the same database every turn in the thread is whole (question and
//! answer adjacent), for SQLite and for Postgres.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{postgres_url, serve_config, sign_token};

const SECRET: &str = "crash-test-secret-0123456789abcdef";

async fn killed_mid_run_leaves_whole_turns(storage_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[server]\nrequest_logs = false\n[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"{SECRET}\"\n[storage]\nurl = \"{storage_url}\"\n"
    );
    std::fs::write(dir.path().join("mastra.toml"), config).unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let user = format!("crash-{}-{nanos}", std::process::id());
    let thread = format!("thread-{user}");
    let bearer = sign_token(SECRET, &user);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    let (server, base, _) = serve_config(dir.path());
    let mut writers = Vec::new();
    for w in 0..8 {
        let (http, base, bearer, thread) =
            (http.clone(), base.clone(), bearer.clone(), thread.clone());
        writers.push(tokio::spawn(async move {
            for turn in 0.. {
                let sent = http
                    .post(format!("{base}/api/agents/weatherAgent/generate"))
                    .bearer_auth(&bearer)
                    .json(
                        &json!({"messages": format!("w{w}t{turn}"), "memory": {"thread": thread}}),
                    )
                    .send()
                    .await;
                if sent.is_err() {
                    break; // the server is gone
                }
            }
        }));
    }
    // Let turns pile up, then kill the server in the middle of them.
    tokio::time::sleep(Duration::from_millis(700)).await;
    drop(server);
    for w in writers {
        w.await.unwrap();
    }

    let (_server, base, _) = serve_config(dir.path());
    let page: Value = http
        .get(format!(
            "{base}/api/memory/threads/{thread}/messages?agentId=weatherAgent&perPage=false"
        ))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let texts: Vec<&str> = page["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .iter()
        .map(|m| m["content"]["content"].as_str().unwrap_or(""))
        .collect();
    assert!(
        texts.len() >= 2,
        "some turns were saved before the kill: {page}"
    );
    assert_eq!(texts.len() % 2, 0, "a turn was cut in half: {texts:?}");
    for pair in texts.chunks(2) {
        assert_eq!(pair[1], format!("Echo: {}", pair[0]), "{pair:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_keeps_only_whole_turns_after_a_kill() {
    killed_mid_run_leaves_whole_turns("sqlite://.mastra/memory.db").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_keeps_only_whole_turns_after_a_kill() {
    let url = postgres_url();
    killed_mid_run_leaves_whole_turns(&url).await;
}
