//! `OpenAiModel` against a local fake that speaks the Chat Completions wire format
//! (JSON and `text/event-stream`), started on 127.0.0.1:0 by the test itself.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::StreamExt;
use mastra_core::{
    Agent, AgentEvent, AgentRequest, ChatMessage, FinishReason, LanguageModel, ModelError,
    ModelEvent, ModelRequest, OpenAiConfig, OpenAiModel, ToolDefinition, Usage, WeatherTool,
};
use serde_json::{Value, json};

const KEY: &str = "sk-test-SECRET-0123456789";

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(HeaderMap, Value)>>>);

fn sse(chunks: &[Value], done: bool) -> Response {
    let mut body = String::new();
    for c in chunks {
        body.push_str(&format!("data: {c}\n\n"));
    }
    if done {
        body.push_str("data: [DONE]\n\n");
    }
    ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response()
}

fn completion(message: Value, finish: &str) -> Value {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000u64, "model": "fake-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}
    })
}

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1_700_000_000u64, "model": "fake-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

async fn handler(
    State(seen): State<Seen>,
    Path(scenario): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let body: Value = serde_json::from_str(&body).expect("client sent JSON");
    seen.0.lock().unwrap().push((headers, body.clone()));
    let last_role = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .map(|m| m["role"].as_str().unwrap_or("").to_string())
        .unwrap_or_default();
    match scenario.as_str() {
        "text" => axum::Json(completion(json!({"role": "assistant", "content": "Hello there"}), "stop")).into_response(),
        "tools" if last_role == "tool" => axum::Json(completion(
            json!({"role": "assistant", "content": "It is sunny"}),
            "stop",
        ))
        .into_response(),
        "tools" => axum::Json(completion(
            json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_abc", "type": "function",
                "function": {"name": "weatherTool", "arguments": "{\"location\":\"Oslo\"}"}}]}),
            "tool_calls",
        ))
        .into_response(),
        "stream-text" => sse(
            &[
                chunk(json!({"role": "assistant", "content": ""}), None),
                chunk(json!({"content": "Hel"}), None),
                chunk(json!({"content": "lo "}), None),
                chunk(json!({"content": "world"}), None),
                chunk(json!({}), Some("stop")),
                json!({"id": "chatcmpl-2", "object": "chat.completion.chunk", "choices": [],
                    "usage": {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}}),
            ],
            true,
        ),
        "stream-tools" if last_role == "tool" => sse(
            &[chunk(json!({"content": "Sunny in Oslo"}), None), chunk(json!({}), Some("stop"))],
            true,
        ),
        "stream-tools" => sse(
            &[
                chunk(json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_s1", "type": "function",
                    "function": {"name": "weatherTool", "arguments": ""}}]}), None),
                chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"locat"}}]}), None),
                chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "ion\":\"Oslo\"}"}}]}), None),
                chunk(json!({}), Some("tool_calls")),
            ],
            true,
        ),
        "error500" => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({"error": {"message": format!("The server had an error (key {KEY})"), "type": "server_error"}})),
        )
            .into_response(),
        "error401-text" => (StatusCode::UNAUTHORIZED, "nope").into_response(),
        "garbage" => (StatusCode::OK, "<html>definitely not json</html>").into_response(),
        "no-choices" => axum::Json(json!({"id": "x"})).into_response(),
        "stream-garbage" => {
            ([(header::CONTENT_TYPE, "text/event-stream")], "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {broken\n\n")
                .into_response()
        }
        "stream-truncated" => sse(&[chunk(json!({"content": "partial"}), None)], false),
        "stream-error-event" => sse(&[json!({"error": {"message": "overloaded"}})], false),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            axum::Json(completion(json!({"role": "assistant", "content": "late"}), "stop")).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn fake() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/{scenario}/v1/chat/completions", post(handler))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

fn model(base: &str, scenario: &str, key: Option<&str>) -> OpenAiModel {
    OpenAiModel::new(OpenAiConfig {
        model: "gpt-test".into(),
        base_url: format!("{base}/{scenario}/v1/"),
        api_key: key.map(str::to_string),
        timeout: Duration::from_secs(10),
    })
    .unwrap()
}

fn weather_def() -> ToolDefinition {
    ToolDefinition {
        name: "weatherTool".into(),
        description: "weather".into(),
        parameters: json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "properties": {"location": {"type": "string"}}, "required": ["location"]}),
    }
}

#[tokio::test]
async fn generate_text_sends_the_real_wire_format() {
    let (base, seen) = fake().await;
    let m = model(&base, "text", Some(KEY));
    let req = ModelRequest {
        system: Some("be brief".into()),
        messages: vec![ChatMessage::user("hi")],
        tools: vec![weather_def()],
        ..Default::default()
    };
    let r = m.generate(req).await.unwrap();
    assert_eq!(r.text, "Hello there");
    assert_eq!(r.finish_reason, FinishReason::Stop);
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: 11,
            output_tokens: 3,
            total_tokens: 14
        }
    );
    assert_eq!(r.metadata.id.as_deref(), Some("chatcmpl-1"));
    assert_eq!(r.metadata.timestamp_ms, Some(1_700_000_000_000));

    let (headers, body) = seen.0.lock().unwrap()[0].clone();
    assert_eq!(headers[header::AUTHORIZATION], format!("Bearer {KEY}"));
    assert_eq!(body["model"], "gpt-test");
    assert_eq!(
        body["messages"],
        json!([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}])
    );
    assert_eq!(body["tools"][0]["type"], "function");
    assert_eq!(body["tools"][0]["function"]["name"], "weatherTool");
    assert!(
        body["tools"][0]["function"]["parameters"]
            .get("$schema")
            .is_none()
    );
    assert!(body.get("stream").is_none());
}

#[tokio::test]
async fn loopback_needs_no_key_and_sends_no_authorization() {
    let (base, seen) = fake().await;
    let m = model(&base, "text", None);
    m.generate(ModelRequest {
        messages: vec![ChatMessage::user("hi")],
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(
        seen.0.lock().unwrap()[0]
            .0
            .get(header::AUTHORIZATION)
            .is_none()
    );
}

#[tokio::test]
async fn agent_tool_loop_over_openai() {
    let (base, seen) = fake().await;
    let agent = Agent::new("a", "A", Arc::new(model(&base, "tools", Some(KEY))))
        .with_instructions("use tools")
        .with_tool("weatherTool", Arc::new(WeatherTool));
    let out = agent
        .generate(AgentRequest::from_text("weather in Oslo?"))
        .await
        .unwrap();
    assert_eq!(out.text, "It is sunny");
    assert_eq!(out.steps.len(), 2);
    assert_eq!(out.usage.total_tokens, 28);
    let results = out.tool_results();
    assert_eq!(results[0].result["location"], "Oslo");

    let requests = seen.0.lock().unwrap().clone();
    assert_eq!(requests.len(), 2);
    let msgs = requests[1].1["messages"].as_array().unwrap().clone();
    assert_eq!(msgs[2]["role"], "assistant");
    assert_eq!(msgs[2]["tool_calls"][0]["id"], "call_abc");
    assert_eq!(
        msgs[2]["tool_calls"][0]["function"]["arguments"],
        "{\"location\":\"Oslo\"}"
    );
    assert_eq!(msgs[3]["role"], "tool");
    assert_eq!(msgs[3]["tool_call_id"], "call_abc");
    let content: Value = serde_json::from_str(msgs[3]["content"].as_str().unwrap()).unwrap();
    assert_eq!(content["conditions"], "Sunny");
}

#[tokio::test]
async fn stream_text_deltas_and_usage() {
    let (base, seen) = fake().await;
    let m = model(&base, "stream-text", Some(KEY));
    let events: Vec<ModelEvent> = m
        .stream(ModelRequest {
            messages: vec![ChatMessage::user("hi")],
            ..Default::default()
        })
        .map(|e| e.unwrap())
        .collect()
        .await;
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            ModelEvent::TextDelta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "Hello world");
    assert_eq!(
        events.last(),
        Some(&ModelEvent::Finish {
            finish_reason: FinishReason::Stop,
            usage: Usage {
                input_tokens: 4,
                output_tokens: 3,
                total_tokens: 7
            }
        })
    );
    let body = seen.0.lock().unwrap()[0].1.clone();
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn agent_stream_with_streamed_tool_call() {
    let (base, _seen) = fake().await;
    let agent = Agent::new("a", "A", Arc::new(model(&base, "stream-tools", Some(KEY))))
        .with_tool("weatherTool", Arc::new(WeatherTool));
    let events: Vec<AgentEvent> = agent
        .stream(AgentRequest::from_text("weather?"))
        .map(|e| e.unwrap())
        .collect()
        .await;
    let deltas: String = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::ToolInputDelta { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(deltas, "{\"location\":\"Oslo\"}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AgentEvent::ToolResult(r) if r.result["location"] == "Oslo"))
    );
    let Some(AgentEvent::Finish(out)) = events.last() else {
        panic!("no finish")
    };
    assert_eq!(out.text, "Sunny in Oslo");
    assert_eq!(out.steps.len(), 2);
}

#[tokio::test]
async fn http_500_maps_to_typed_error_without_the_key() {
    let (base, _) = fake().await;
    let err = model(&base, "error500", Some(KEY))
        .generate(ModelRequest::default())
        .await
        .unwrap_err();
    match &err {
        ModelError::Http { status, message } => {
            assert_eq!(*status, 500);
            assert!(message.starts_with("The server had an error"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.to_string().contains(KEY), "{err}");
    assert!(!format!("{err:?}").contains(KEY));

    // Same for the streaming path.
    let events: Vec<_> = model(&base, "error500", Some(KEY))
        .stream(ModelRequest::default())
        .collect()
        .await;
    assert_eq!(events.len(), 1);
    assert!(
        matches!(&events[0], Err(ModelError::Http { status: 500, message }) if !message.contains(KEY))
    );

    let err = model(&base, "error401-text", Some(KEY))
        .generate(ModelRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ModelError::Http {
            status: 401,
            message: "nope".into()
        }
    );
}

#[tokio::test]
async fn garbage_is_an_invalid_response() {
    let (base, _) = fake().await;
    for scenario in ["garbage", "no-choices"] {
        let err = model(&base, scenario, Some(KEY))
            .generate(ModelRequest::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, ModelError::InvalidResponse(_)),
            "{scenario}: {err:?}"
        );
    }
    for scenario in ["stream-garbage", "stream-truncated"] {
        let events: Vec<_> = model(&base, scenario, Some(KEY))
            .stream(ModelRequest::default())
            .collect()
            .await;
        assert!(
            matches!(events.last(), Some(Err(ModelError::InvalidResponse(_)))),
            "{scenario}: {events:?}"
        );
    }
    let events: Vec<_> = model(&base, "stream-error-event", Some(KEY))
        .stream(ModelRequest::default())
        .collect()
        .await;
    assert_eq!(
        events.last(),
        Some(&Err(ModelError::Provider("overloaded".into())))
    );
}

#[tokio::test]
async fn timeout_is_typed() {
    let (base, _) = fake().await;
    let m = OpenAiModel::new(OpenAiConfig {
        model: "m".into(),
        base_url: format!("{base}/slow/v1"),
        api_key: None,
        timeout: Duration::from_millis(300),
    })
    .unwrap();
    let err = m.generate(ModelRequest::default()).await.unwrap_err();
    assert!(matches!(err, ModelError::Timeout(_)), "{err:?}");
}

#[tokio::test]
async fn unreachable_endpoint_is_a_transport_error() {
    // Bind then drop to get a (very likely) closed port.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let m = model(&format!("http://{addr}"), "x", Some(KEY));
    let err = m.generate(ModelRequest::default()).await.unwrap_err();
    assert!(matches!(err, ModelError::Transport(_)), "{err:?}");
    assert!(!err.to_string().contains(KEY));
}
