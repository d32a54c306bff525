//! `mastra-client` against the real server (`mastra_server::app::build`) over real HTTP, and
//! against small local axum servers for retries, timeouts and stream edge cases.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use futures::StreamExt;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mastra_client::{ChunkKind, ClientError, GenerateRequest, MastraClient, Message, Messages};
use serde_json::{Value, json};

const SECRET: &str = "client-test-secret-0123456789abcdef0123456789";

fn token() -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": "client-test", "name": "Client Test"}),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// Our server: jwt auth, the demo weatherAgent and weatherTool.
async fn server() -> String {
    let toml = format!(
        "[server]\nrequest_logs = false\n[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"{SECRET}\"\n[storage]\nurl = \"sqlite::memory:\"\n"
    );
    let cfg = mastra_server::config::Config::from_toml_str(&toml, "test.toml").unwrap();
    serve(mastra_server::app::build(&cfg).unwrap()).await
}

fn client(base: &str) -> MastraClient {
    MastraClient::builder(base)
        .bearer_token(&token())
        .build()
        .unwrap()
}

#[tokio::test]
async fn agents_and_details() {
    let base = server().await;
    let c = client(&base);
    let agents = c.agents().await.unwrap();
    assert_eq!(agents.keys().collect::<Vec<_>>(), ["weatherAgent"]);
    let a = &agents["weatherAgent"];
    assert_eq!(a.id.as_deref(), Some("weatherAgent"));
    assert_eq!(a.name, "Weather Agent");
    let d = c.agent("weatherAgent").details().await.unwrap();
    assert_eq!(d.name, "Weather Agent");
    assert_eq!(d.provider.as_deref(), Some("builtin"));
    assert_eq!(d.model_id.as_deref(), Some("echo"));
    assert_eq!(d.model_version.as_deref(), Some("v2"));
    assert!(d.instructions.is_string());
    assert!(d.extra.contains_key("defaultOptions"));
    let tool = &d.tools["weatherTool"];
    assert_eq!(tool.id, "get-weather");
    assert_eq!(
        tool.input_json_schema().unwrap()["required"],
        json!(["location"])
    );
}

#[tokio::test]
async fn generate_with_a_string_messages_and_options() {
    let base = server().await;
    let agent = client(&base).agent("weatherAgent");
    let r = agent.generate("hello").await.unwrap();
    assert_eq!(r.text, "Echo: hello");
    assert_eq!(r.finish_reason.as_deref(), Some("stop"));
    assert!(r.usage.unwrap().total_tokens.unwrap() > 0);
    assert!(r.run_id.is_some());
    assert_eq!(r.steps.len(), 1);

    let r = agent
        .generate(vec![
            Message::user("first"),
            Message::assistant("answer"),
            Message::new("user", json!([{"type": "text", "text": "second"}])),
        ])
        .await
        .unwrap();
    assert_eq!(r.text, "Echo: second");

    let r = agent
        .generate(
            GenerateRequest::new(Message::user("hi with options"))
                // The resource is the token's own: naming another one is refused.
                .memory("thread-1", "client-test")
                .request_context(json!({"tenant": "acme"}))
                .max_steps(2)
                .option("modelSettings", json!({"temperature": 0}))
                .option("somethingUnknown", json!({"kept": true})),
        )
        .await
        .unwrap();
    assert_eq!(r.text, "Echo: hi with options");

    let r = agent
        .generate(Messages::Raw(json!(["one", "two"])))
        .await
        .unwrap();
    assert_eq!(r.text, "Echo: two");

    // A server-side tool call: chunk-shaped toolCalls and toolResults.
    let r = agent.generate("weather Paris").await.unwrap();
    assert_eq!(r.finish_reason.as_deref(), Some("stop"));
    assert_eq!(r.tool_calls[0].kind, "tool-call");
    assert_eq!(r.tool_calls[0].from.as_deref(), Some("AGENT"));
    assert_eq!(r.tool_calls[0].payload["toolName"], "weatherTool");
    assert_eq!(r.tool_results[0].payload["result"]["location"], "Paris");
    assert!(r.text.contains("Paris"));
}

#[tokio::test]
async fn invalid_body_and_unknown_ids_surface_status_and_message() {
    let base = server().await;
    let c = client(&base);
    let e = c
        .agent("weatherAgent")
        .generate(Messages::Raw(json!({"messages": "x"})))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.server_message(), Some("Invalid request body"));
    assert_eq!(e.body().unwrap()["issues"][0]["field"], "messages");

    let e = c.agent("noSuchAgent").details().await.unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(
        e.server_message(),
        Some("Agent with id noSuchAgent not found")
    );
    assert_eq!(
        e.to_string(),
        "HTTP 404: Agent with id noSuchAgent not found"
    );
    let e = c.agent("noSuchAgent").stream("hi").await.unwrap_err();
    assert!(e.is_not_found());
    let e = c.tool("noSuchTool").details().await.unwrap_err();
    assert_eq!(e.server_message(), Some("Tool not found"));
    let e = c.tool("noSuchTool").execute(json!({})).await.unwrap_err();
    assert_eq!(e.status(), Some(404));
}

#[tokio::test]
async fn stream_chunk_sequence_and_text() {
    let base = server().await;
    let agent = client(&base).agent("weatherAgent");
    let stream = agent.stream("hello stream world").await.unwrap();
    assert_eq!(stream.content_type(), Some("text/event-stream"));
    let chunks: Vec<_> = stream.map(|c| c.unwrap()).collect().await;
    let types: Vec<&str> = chunks.iter().map(|c| c.chunk_type()).collect();
    assert_eq!(
        types,
        [
            "start",
            "step-start",
            "text-start",
            "text-delta",
            "text-delta",
            "text-delta",
            "text-delta",
            "text-end",
            "step-finish",
            "finish"
        ]
    );
    let text: String = chunks.iter().filter_map(|c| c.text_delta()).collect();
    assert_eq!(text, "Echo: hello stream world");
    let run_id = chunks[0].chunk.run_id.clone().unwrap();
    assert!(
        chunks
            .iter()
            .all(|c| c.chunk.run_id.as_deref() == Some(run_id.as_str()))
    );
    assert!(
        chunks
            .iter()
            .all(|c| c.chunk.from.as_deref() == Some("AGENT"))
    );
    match &chunks.last().unwrap().kind {
        ChunkKind::Finish {
            reason,
            usage,
            text,
        } => {
            assert_eq!(reason.as_deref(), Some("stop"));
            assert!(usage.unwrap().total_tokens.unwrap() > 0);
            assert_eq!(text.as_deref(), Some("Echo: hello stream world"));
        }
        other => panic!("last chunk {other:?}"),
    }

    let text = agent
        .stream(vec![Message::user("as text")])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "Echo: as text");

    // With a server-side tool call.
    let chunks: Vec<_> = agent
        .stream("weather Oslo")
        .await
        .unwrap()
        .map(|c| c.unwrap())
        .collect()
        .await;
    let call = chunks
        .iter()
        .find_map(|c| match &c.kind {
            ChunkKind::ToolCall {
                tool_name, args, ..
            } => Some((tool_name.clone(), args.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(call, ("weatherTool".into(), json!({"location": "Oslo"})));
    assert!(chunks.iter().any(|c| matches!(&c.kind,
        ChunkKind::ToolResult { result, .. } if result["location"] == "Oslo")));
    let text: String = chunks.iter().filter_map(|c| c.text_delta()).collect();
    assert!(text.contains("Oslo"), "{text}");
}

#[tokio::test]
async fn tools_list_get_execute() {
    let base = server().await;
    let c = client(&base);
    let tools = c.tools().await.unwrap();
    assert_eq!(tools["weatherTool"].id, "get-weather");
    let d = c.tool("get-weather").details().await.unwrap();
    assert_eq!(d.id, "get-weather");
    assert!(!d.description.is_empty());
    assert_eq!(
        c.tool("weatherTool").details().await.unwrap().id,
        "get-weather"
    );
    let r = c
        .tool("get-weather")
        .execute(json!({"location": "Paris"}))
        .await
        .unwrap();
    assert_eq!(r["location"], "Paris");
    let r = c
        .tool("get-weather")
        .execute_with_context(json!({"location": "Lima"}), Some(json!({"tenant": "acme"})))
        .await
        .unwrap();
    assert_eq!(r["location"], "Lima");
    // Mastra answers a schema failure with 200 {"error": true, ...}.
    let r = c.tool("get-weather").execute(json!({})).await.unwrap();
    assert_eq!(r["error"], true);
    let agent = c.agent("weatherAgent");
    assert_eq!(
        agent.tool_details("get-weather").await.unwrap().id,
        "get-weather"
    );
    let r = agent
        .execute_tool("get-weather", json!({"location": "Rome"}))
        .await
        .unwrap();
    assert_eq!(r["location"], "Rome");
}

#[tokio::test]
async fn unauthorized_without_or_with_a_bad_token() {
    let base = server().await;
    let anonymous = MastraClient::new(&base).unwrap();
    let e = anonymous.agents().await.unwrap_err();
    assert!(e.is_unauthorized());
    assert_eq!(e.server_message(), Some("Authentication required"));
    let e = anonymous
        .agent("weatherAgent")
        .stream("hi")
        .await
        .unwrap_err();
    assert_eq!(e.server_message(), Some("Authentication required"));

    let bad = MastraClient::builder(&base)
        .bearer_token("not-a-valid-token")
        .build()
        .unwrap();
    let e = bad.agent("weatherAgent").generate("hi").await.unwrap_err();
    assert_eq!(e.status(), Some(401));
    assert_eq!(e.server_message(), Some("Invalid or expired token"));
    assert!(!e.is_retryable());
    // The error never carries the token.
    assert!(!format!("{e} {e:?}").contains("not-a-valid-token"));

    // A raw Authorization header works the same as bearer_token.
    let raw = MastraClient::builder(&base)
        .header("Authorization", &format!("Bearer {}", token()))
        .build()
        .unwrap();
    assert_eq!(raw.agents().await.unwrap().len(), 1);
}

/// A server whose `/api/agents` answers `fail_first` times with `status`, then 200, counting
/// attempts and recording the last `x-tenant` and `authorization` headers it saw.
async fn flaky(status: StatusCode, fail_first: usize) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = Router::new()
        .route(
            "/api/agents",
            get(move |headers: HeaderMap| {
                let counter = counter.clone();
                async move {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    if n < fail_first {
                        return (status, axum::Json(json!({"error": "try later"}))).into_response();
                    }
                    let seen = |k: &str| {
                        headers
                            .get(k)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned()
                    };
                    axum::Json(json!({"echo": {
                        "id": "echo", "name": seen("x-tenant"),
                        "instructions": seen("authorization"),
                    }}))
                    .into_response()
                }
            }),
        )
        .route(
            "/api/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                axum::Json(json!({}))
            }),
        )
        .route(
            "/api/agents/{id}/stream",
            post(|| async {
                (
                    [("content-type", "text/event-stream")],
                    concat!(
                        ": connected\n\n",
                        "data: {\"type\":\"text-delta\",\"runId\":\"r\",\"from\":\"AGENT\",\"payload\":{\"id\":\"1\",\"text\":\"partial\"}}\n\n",
                        "data: {\"type\":\"error\",\"runId\":\"r\",\"from\":\"AGENT\",\"payload\":{\"error\":{\"name\":\"Error\",\"message\":\"model failed\"}}}\n\n",
                    ),
                )
            }),
        );
    (serve(router).await, hits)
}

#[tokio::test]
async fn retries_503_with_backoff_then_succeeds() {
    let (base, hits) = flaky(StatusCode::SERVICE_UNAVAILABLE, 2).await;
    let c = MastraClient::builder(&base)
        .bearer_token("tok")
        .header("X-Tenant", "acme")
        .build()
        .unwrap();
    let t0 = Instant::now();
    let agents = c.agents().await.unwrap();
    let elapsed = t0.elapsed();
    assert_eq!(hits.load(Ordering::SeqCst), 3, "two failures, one success");
    // Default backoff: 100 ms, then 200 ms.
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    // The default headers reach the server on every attempt.
    assert_eq!(agents["echo"].name, "acme");
    assert_eq!(agents["echo"].instructions, "Bearer tok");
}

#[tokio::test]
async fn gives_up_after_the_configured_retries() {
    let (base, hits) = flaky(StatusCode::INTERNAL_SERVER_ERROR, usize::MAX).await;
    let c = MastraClient::builder(&base)
        .backoff(Duration::from_millis(5), Duration::from_millis(20))
        .build()
        .unwrap();
    let e = c.agents().await.unwrap_err();
    assert_eq!(hits.load(Ordering::SeqCst), 4, "1 + 3 retries by default");
    assert_eq!(e.status(), Some(500));
    assert_eq!(e.server_message(), Some("try later"));

    let (base, hits) = flaky(StatusCode::BAD_GATEWAY, usize::MAX).await;
    let c = MastraClient::builder(&base).retries(0).build().unwrap();
    assert_eq!(c.agents().await.unwrap_err().status(), Some(502));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn never_retries_4xx() {
    for status in [
        StatusCode::BAD_REQUEST,
        StatusCode::UNAUTHORIZED,
        StatusCode::FORBIDDEN,
        StatusCode::NOT_FOUND,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let (base, hits) = flaky(status, usize::MAX).await;
        let e = MastraClient::new(&base)
            .unwrap()
            .agents()
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(status.as_u16()));
        assert_eq!(hits.load(Ordering::SeqCst), 1, "{status}: one attempt");
    }
}

#[tokio::test]
async fn connection_errors_are_retried_then_reported() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let c = MastraClient::builder(&base)
        .backoff(Duration::from_millis(20), Duration::from_millis(40))
        .build()
        .unwrap();
    let t0 = Instant::now();
    let e = c.agents().await.unwrap_err();
    assert!(matches!(e, ClientError::Transport { .. }), "{e:?}");
    assert!(e.is_retryable());
    // 3 retries slept 20 + 40 + 40 ms.
    assert!(
        t0.elapsed() >= Duration::from_millis(100),
        "{:?}",
        t0.elapsed()
    );
}

#[tokio::test]
async fn timeouts_are_not_retried() {
    let (base, _) = flaky(StatusCode::OK, 0).await;
    let c = MastraClient::builder(&base)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let t0 = Instant::now();
    let e = c.get::<Value>("/slow").await.unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(!e.is_retryable());
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
}

#[tokio::test]
async fn an_error_chunk_ends_the_stream() {
    let (base, _) = flaky(StatusCode::OK, 0).await;
    let c = MastraClient::new(&base).unwrap();
    let chunks: Vec<_> = c
        .agent("a")
        .stream("hi")
        .await
        .unwrap()
        .map(|c| c.unwrap())
        .collect()
        .await;
    assert_eq!(chunks.len(), 2, "the comment is skipped");
    assert_eq!(chunks[0].text_delta(), Some("partial"));
    assert_eq!(
        chunks[1].kind,
        ChunkKind::Error {
            message: "model failed".into()
        }
    );
    let e = c
        .agent("a")
        .stream("hi")
        .await
        .unwrap()
        .text()
        .await
        .unwrap_err();
    assert!(matches!(&e, ClientError::Stream { message } if message == "model failed"));
}
