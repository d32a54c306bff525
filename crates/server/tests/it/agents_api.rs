//! The agents/tools API over real HTTP: `axum::serve` on 127.0.0.1:0 with the router
//! nested under `/api`, driven with reqwest. The expected shapes are those a Mastra 1.69 server
//! answers to the same requests.

use std::sync::Arc;

use axum::Router;
use futures::stream::{self, BoxStream, StreamExt};
use mastra_core::{
    Agent, EchoModel, LanguageModel, ModelError, ModelEvent, ModelRequest, ModelResponse, Registry,
    WeatherTool, async_trait,
};
use mastra_server::api::router;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support;

async fn serve(registry: Registry) -> String {
    let app = Router::new().nest("/api", router(Arc::new(registry)));
    format!("http://{}/api", support::serve(app).await)
}

async fn demo() -> (String, reqwest::Client) {
    (serve(Registry::demo()).await, reqwest::Client::new())
}

async fn json_of(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(ct.starts_with("application/json"), "content-type {ct}");
    (status, resp.json().await.unwrap())
}

async fn post(c: &reqwest::Client, url: String, body: Value) -> (StatusCode, Value) {
    json_of(c.post(url).json(&body).send().await.unwrap()).await
}

async fn get(c: &reqwest::Client, url: String) -> (StatusCode, Value) {
    json_of(c.get(url).send().await.unwrap()).await
}

fn schema_of(s: &Value) -> Value {
    let parsed: Value = serde_json::from_str(s.as_str().expect("schema is a string")).unwrap();
    parsed["json"].clone()
}

// ---------------------------------------------------------------- agents: list / details

#[tokio::test]
async fn list_agents_is_an_object_keyed_by_id() {
    let (base, c) = demo().await;
    let (status, v) = get(&c, format!("{base}/agents")).await;
    assert_eq!(status, 200);
    let a = &v["weatherAgent"];
    assert_eq!(a["id"], "weatherAgent");
    assert_eq!(a["name"], "Weather Agent");
    assert_eq!(a["hasDraft"], false);
    assert_eq!(a["instructions"], "You are a helpful weather assistant.");
    let t = &a["tools"]["weatherTool"];
    assert_eq!(t["id"], "get-weather");
    assert_eq!(t["requireApproval"], false);
    let input = schema_of(&t["inputSchema"]);
    assert_eq!(input["type"], "object");
    assert_eq!(input["required"], json!(["location"]));
    assert_eq!(
        input["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        schema_of(&t["outputSchema"])["properties"]["temperatureC"]["type"],
        "number"
    );
}

#[tokio::test]
async fn agent_details_fields() {
    let (base, c) = demo().await;
    let (status, v) = get(&c, format!("{base}/agents/weatherAgent")).await;
    assert_eq!(status, 200);
    for key in [
        "name",
        "description",
        "instructions",
        "tools",
        "agents",
        "workflows",
        "skills",
        "workspaceTools",
        "browserTools",
        "hasBrowser",
        "inputProcessors",
        "outputProcessors",
        "provider",
        "modelId",
        "modelVersion",
        "supportsMemory",
        "defaultOptions",
        "defaultGenerateOptionsLegacy",
        "defaultStreamOptionsLegacy",
        "source",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["provider"], "builtin");
    assert_eq!(v["modelId"], "echo");
    assert_eq!(v["modelVersion"], "v2");
    assert_eq!(v["source"], "code");
    assert_eq!(v["agents"], json!({}));
}

#[tokio::test]
async fn unknown_agent_is_404_everywhere() {
    let (base, c) = demo().await;
    let expected = json!({"error": "Agent with id nope not found"});
    assert_eq!(
        get(&c, format!("{base}/agents/nope")).await,
        (StatusCode::NOT_FOUND, expected.clone())
    );
    for route in ["generate", "stream"] {
        let r = post(
            &c,
            format!("{base}/agents/nope/{route}"),
            json!({"messages": "hi"}),
        )
        .await;
        assert_eq!(r, (StatusCode::NOT_FOUND, expected.clone()), "{route}");
    }
    let r = get(&c, format!("{base}/agents/nope/tools/get-weather")).await;
    assert_eq!(r, (StatusCode::NOT_FOUND, expected));
}

#[tokio::test]
async fn wrong_method_is_plain_404() {
    let (base, c) = demo().await;
    let r = c.post(format!("{base}/agents")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(r.text().await.unwrap(), "404 Not Found");
}

// ---------------------------------------------------------------- generate

#[tokio::test]
async fn generate_with_a_string() {
    let (base, c) = demo().await;
    let (status, v) = post(
        &c,
        format!("{base}/agents/weatherAgent/generate"),
        json!({"messages": "hello"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(v["text"], "Echo: hello");
    assert_eq!(v["finishReason"], "stop");
    // usage: input = words of the instructions (6) + "hello" (1); output = 2 words
    assert_eq!(v["usage"]["inputTokens"], 7);
    assert_eq!(v["usage"]["outputTokens"], 2);
    assert_eq!(v["usage"]["totalTokens"], 9);
    assert_eq!(v["totalUsage"]["totalTokens"], 9);
    assert_eq!(v["steps"].as_array().unwrap().len(), 1);
    let step = &v["steps"][0];
    assert_eq!(step["stepType"], "initial");
    assert_eq!(step["text"], "Echo: hello");
    assert_eq!(
        step["content"],
        json!([{"type": "text", "text": "Echo: hello"}])
    );
    assert_eq!(v["toolCalls"], json!([]));
    assert_eq!(v["toolResults"], json!([]));
    for key in [
        "warnings",
        "reasoning",
        "sources",
        "files",
        "rememberedMessages",
    ] {
        assert_eq!(v[key], json!([]), "{key}");
    }
    assert_eq!(v["usedFallbackValue"], false);
    let run_id = v["runId"].as_str().unwrap();
    assert_eq!(run_id.len(), 36);
    let resp = &v["response"];
    assert!(resp["id"].is_string());
    assert!(resp["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(resp["modelId"], "echo");
    assert_eq!(
        resp["modelMetadata"],
        json!({"modelId": "echo", "modelVersion": "v2", "modelProvider": "builtin"})
    );
    assert_eq!(
        resp["messages"],
        json!([{"role": "assistant", "content": [{"type": "text", "text": "Echo: hello"}]}])
    );
    // input + output messages in Mastra's stored format
    let msgs = v["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0]["role"], "user");
    assert_eq!(msgs[0]["content"]["content"], "hello");
    assert_eq!(msgs[1]["role"], "assistant");
    assert_eq!(msgs[1]["content"]["format"], 2);
}

#[tokio::test]
async fn generate_with_array_of_strings_and_role_messages() {
    let (base, c) = demo().await;
    let url = format!("{base}/agents/weatherAgent/generate");
    let (s, v) = post(&c, url.clone(), json!({"messages": ["first", "second"]})).await;
    assert_eq!(
        (s, v["text"].clone()),
        (StatusCode::OK, json!("Echo: second"))
    );

    let (s, v) = post(
        &c,
        url.clone(),
        json!({"messages": [
            {"role": "system", "content": "extra rules"},
            {"role": "user", "content": "earlier"},
            {"role": "assistant", "content": "Echo: earlier"},
            {"role": "user", "content": [{"type": "text", "text": "parts "}, {"type": "text", "text": "work"}]}
        ]}),
    )
    .await;
    assert_eq!(
        (s, v["text"].clone()),
        (StatusCode::OK, json!("Echo: parts work"))
    );
}

#[tokio::test]
async fn generate_with_client_options_is_accepted() {
    // The exact body @mastra/client-js 1.47 sent in the capture, plus a runId.
    let (base, c) = demo().await;
    let (s, v) = post(
        &c,
        format!("{base}/agents/weatherAgent/generate"),
        json!({"memory": {"thread": "thread-probe", "resource": "user-1"}, "requestContext": {"tenant": "acme"},
            "maxSteps": 2, "runId": "my-run", "somethingNew": {"x": 1},
            "messages": [{"role": "user", "content": "hi with options"}]}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["text"], "Echo: hi with options");
    assert_eq!(v["runId"], "my-run");
}

#[tokio::test]
async fn generate_runs_the_weather_tool() {
    let (base, c) = demo().await;
    let (s, v) = post(
        &c,
        format!("{base}/agents/weatherAgent/generate"),
        json!({"messages": "weather Rome"}),
    )
    .await;
    assert_eq!(s, 200);
    let run_id = v["runId"].as_str().unwrap();
    assert_eq!(v["finishReason"], "stop");
    let text = v["text"].as_str().unwrap();
    assert!(text.starts_with("Weather: {"), "{text}");
    let weather = json!({"location": "Rome", "temperatureC": 21, "conditions": "Sunny"});
    let echoed: Value = serde_json::from_str(&text["Weather: ".len()..]).unwrap();
    assert_eq!(echoed, weather);
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0]["finishReason"], "tool-calls");
    assert_eq!(steps[1]["stepType"], "tool-result");
    let call = &v["toolCalls"][0];
    assert_eq!(call["type"], "tool-call");
    assert_eq!(call["from"], "AGENT");
    assert_eq!(call["runId"], run_id);
    assert_eq!(call["payload"]["toolName"], "weatherTool");
    assert_eq!(call["payload"]["args"], json!({"location": "Rome"}));
    let id = call["payload"]["toolCallId"].as_str().unwrap();
    let result = &v["toolResults"][0];
    assert_eq!(result["type"], "tool-result");
    assert_eq!(result["payload"]["toolCallId"], id);
    assert_eq!(result["payload"]["result"], weather);
    assert_eq!(result["payload"]["args"], json!({"location": "Rome"}));
    // response.messages: assistant tool-call, tool result, assistant text
    let rm = v["response"]["messages"].as_array().unwrap();
    assert_eq!(rm.len(), 3);
    assert_eq!(rm[0]["content"][0]["type"], "tool-call");
    assert_eq!(rm[1]["role"], "tool");
    assert_eq!(
        rm[1]["content"][0]["output"],
        json!({"type": "json", "value": weather})
    );
    assert_eq!(rm[2]["content"][0]["text"], text);
    // usage is summed over the steps
    let u0 = steps[0]["usage"]["totalTokens"].as_u64().unwrap();
    let u1 = steps[1]["usage"]["totalTokens"].as_u64().unwrap();
    assert_eq!(v["usage"]["totalTokens"].as_u64().unwrap(), u0 + u1);
}

#[tokio::test]
async fn generate_max_steps_one_stops_at_the_tool_call() {
    let (base, c) = demo().await;
    let (s, v) = post(
        &c,
        format!("{base}/agents/weatherAgent/generate"),
        json!({"messages": "weather Oslo", "maxSteps": 1}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["finishReason"], "tool-calls");
    assert_eq!(v["text"], "");
    assert_eq!(
        v["toolCalls"][0]["payload"]["toolCallId"],
        v["toolResults"][0]["payload"]["toolCallId"]
    );
}

#[tokio::test]
async fn generate_can_continue_from_returned_response_messages() {
    // What the JS client does after a client-tool call: previous messages + response.messages.
    let (base, c) = demo().await;
    let url = format!("{base}/agents/weatherAgent/generate");
    let (_, first) = post(
        &c,
        url.clone(),
        json!({"messages": "weather Oslo", "maxSteps": 1}),
    )
    .await;
    let mut msgs = vec![json!({"role": "user", "content": "weather Oslo"})];
    msgs.extend(
        first["response"]["messages"]
            .as_array()
            .unwrap()
            .iter()
            .cloned(),
    );
    let (s, v) = post(&c, url, json!({"messages": msgs})).await;
    assert_eq!(s, 200);
    assert!(v["text"].as_str().unwrap().starts_with("Weather: "), "{v}");
}

#[tokio::test]
async fn generate_body_errors_are_400() {
    let (base, c) = demo().await;
    let url = format!("{base}/agents/weatherAgent/generate");
    let missing = json!({"error": "Invalid request body", "issues": [{"field": "messages", "message": "Invalid input"}]});
    assert_eq!(
        post(&c, url.clone(), json!({})).await,
        (StatusCode::BAD_REQUEST, missing.clone())
    );
    assert_eq!(
        post(&c, url.clone(), json!({"messages": null})).await,
        (StatusCode::BAD_REQUEST, missing.clone())
    );
    assert_eq!(
        post(&c, url.clone(), json!({"messages": 42})).await,
        (StatusCode::BAD_REQUEST, missing)
    );
    // validation happens before the agent lookup, as in Mastra
    let (s, _) = post(&c, format!("{base}/agents/nope/generate"), json!({})).await;
    assert_eq!(s, 400);

    let (s, v) = post(
        &c,
        url.clone(),
        json!({"messages": "hi", "maxSteps": "two"}),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        v["issues"],
        json!([{"field": "maxSteps", "message": "Invalid input: expected number, received string"}])
    );

    for raw in ["{\"messages\": ", "not json", ""] {
        let r = c
            .post(url.clone())
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        let (s, v) = json_of(r).await;
        assert_eq!(s, 400, "{raw:?}");
        assert_eq!(v["error"], "Invalid request body");
        assert_eq!(v["issues"][0]["field"], "body");
    }
    let (s, v) = json_of(c.post(url.clone()).body("").send().await.unwrap()).await;
    assert_eq!(
        (s, v["issues"][0]["message"].clone()),
        (
            StatusCode::BAD_REQUEST,
            json!("Unexpected end of JSON input")
        )
    );

    let (s, v) = post(&c, url.clone(), json!(["messages"])).await;
    assert_eq!(s, 400);
    assert_eq!(v["issues"][0]["field"], "root");
}

#[tokio::test]
async fn generate_tolerates_a_wrong_content_type() {
    let (base, c) = demo().await;
    let r = c
        .post(format!("{base}/agents/weatherAgent/generate"))
        .header("content-type", "text/plain")
        .body(r#"{"messages":"hello"}"#)
        .send()
        .await
        .unwrap();
    let (s, v) = json_of(r).await;
    assert_eq!(
        (s, v["text"].clone()),
        (StatusCode::OK, json!("Echo: hello"))
    );
}

// ---------------------------------------------------------------- stream

struct Sse {
    frames: Vec<Value>,
    done: bool,
    raw: String,
}

async fn read_sse(resp: reqwest::Response) -> Sse {
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h["content-type"], "text/event-stream");
    assert_eq!(h["cache-control"], "no-cache");
    assert_eq!(h["x-accel-buffering"], "no");
    let raw = resp.text().await.unwrap();
    assert!(raw.ends_with("\n\n"), "frames end with a blank line");
    let mut frames = Vec::new();
    let mut done = false;
    for record in raw.split("\n\n").filter(|r| !r.is_empty()) {
        assert!(!done, "nothing after [DONE]");
        let data = record
            .strip_prefix("data: ")
            .expect("every record is `data: `");
        assert!(!data.contains('\n'), "single-line JSON");
        if data == "[DONE]" {
            done = true;
        } else {
            frames.push(serde_json::from_str(data).unwrap());
        }
    }
    Sse { frames, done, raw }
}

fn types(frames: &[Value]) -> Vec<&str> {
    frames.iter().map(|f| f["type"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn stream_plain_reply_matches_the_capture_sequence() {
    let (base, c) = demo().await;
    let resp = c
        .post(format!("{base}/agents/weatherAgent/stream"))
        .json(&json!({"messages": "hello"}))
        .send()
        .await
        .unwrap();
    let sse = read_sse(resp).await;
    assert!(sse.done);
    assert!(sse.raw.ends_with("data: [DONE]\n\n"));
    assert!(
        sse.raw.starts_with("data: {\"type\":\"start\",\"runId\":"),
        "envelope key order"
    );
    assert_eq!(
        types(&sse.frames),
        [
            "start",
            "step-start",
            "text-start",
            "text-delta",
            "text-delta",
            "text-end",
            "step-finish",
            "finish"
        ]
    );
    let run_id = sse.frames[0]["runId"].as_str().unwrap();
    for f in &sse.frames {
        assert_eq!(f["runId"], run_id);
        assert_eq!(f["from"], "AGENT");
    }
    let start = &sse.frames[0]["payload"];
    assert_eq!(start["id"], "weatherAgent");
    let message_id = start["messageId"].as_str().unwrap();
    assert_eq!(sse.frames[1]["payload"]["messageId"], message_id);
    assert!(sse.frames[1]["payload"]["startedAt"].is_u64());
    assert_eq!(sse.frames[2]["payload"], json!({"id": "t0"}));
    assert_eq!(
        sse.frames[3]["payload"],
        json!({"id": "t0", "text": "Echo:"})
    );
    assert_eq!(
        sse.frames[4]["payload"],
        json!({"id": "t0", "text": " hello"})
    );
    assert_eq!(
        sse.frames[5]["payload"],
        json!({"type": "text-end", "id": "t0"})
    );
    let deltas: String = sse
        .frames
        .iter()
        .filter(|f| f["type"] == "text-delta")
        .map(|f| f["payload"]["text"].as_str().unwrap())
        .collect();
    let finish = &sse.frames[7]["payload"];
    assert_eq!(finish["output"]["text"], deltas.as_str());
    assert_eq!(
        finish["stepResult"],
        json!({"reason": "stop", "isContinued": false})
    );
    assert_eq!(finish["usage"]["outputTokens"], 2);
    assert_eq!(
        finish["output"]["usage"]["totalTokens"],
        finish["usage"]["totalTokens"]
    );
    assert_eq!(
        finish["metadata"]["modelMetadata"]["modelProvider"],
        "builtin"
    );
    assert_eq!(
        finish["messages"]["user"],
        json!([{"role": "user", "content": [{"type": "text", "text": "hello"}]}])
    );
    assert_eq!(finish["messages"]["all"].as_array().unwrap().len(), 2);
    let step_finish = &sse.frames[6]["payload"];
    assert_eq!(step_finish["stepResult"]["reason"], "stop");
    assert_eq!(step_finish["output"]["steps"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn stream_long_text_deltas_concatenate() {
    let (base, c) = demo().await;
    let msg = "  several words,\nwith  odd   spacing and ünïcödé  ";
    let resp = c
        .post(format!("{base}/agents/weatherAgent/stream"))
        .json(&json!({"messages": [{"role": "user", "content": msg}]}))
        .send()
        .await
        .unwrap();
    let sse = read_sse(resp).await;
    let deltas: String = sse
        .frames
        .iter()
        .filter(|f| f["type"] == "text-delta")
        .map(|f| f["payload"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, format!("Echo: {msg}"));
    assert_eq!(
        sse.frames.last().unwrap()["payload"]["output"]["text"],
        deltas.as_str()
    );
}

#[tokio::test]
async fn stream_with_the_weather_tool() {
    let (base, c) = demo().await;
    let resp = c
        .post(format!("{base}/agents/weatherAgent/stream"))
        .json(&json!({"messages": "weather Paris"}))
        .send()
        .await
        .unwrap();
    let sse = read_sse(resp).await;
    assert!(sse.done);
    assert_eq!(
        types(&sse.frames),
        [
            "start",
            "step-start",
            "tool-call-input-streaming-start",
            "tool-call-delta",
            "tool-call-input-streaming-end",
            "tool-call",
            "tool-result",
            "step-finish",
            "step-start",
            "text-start",
            "text-delta",
            "text-delta",
            "text-end",
            "step-finish",
            "finish"
        ]
    );
    let f = &sse.frames;
    let id = f[2]["payload"]["toolCallId"].as_str().unwrap();
    assert_eq!(f[2]["payload"]["toolName"], "weatherTool");
    assert_eq!(f[3]["payload"]["argsTextDelta"], "{\"location\":\"Paris\"}");
    assert_eq!(f[4]["payload"], json!({"toolCallId": id}));
    assert_eq!(
        f[5]["payload"],
        json!({"toolCallId": id, "toolName": "weatherTool", "args": {"location": "Paris"}})
    );
    let weather = json!({"location": "Paris", "temperatureC": 21, "conditions": "Sunny"});
    assert_eq!(f[6]["payload"]["result"], weather);
    assert_eq!(f[6]["payload"]["args"], json!({"location": "Paris"}));
    assert_eq!(
        f[7]["payload"]["stepResult"],
        json!({"reason": "tool-calls", "isContinued": true})
    );
    assert_eq!(f[7]["payload"]["output"]["toolCalls"][0]["toolCallId"], id);
    let finish = &f[14]["payload"];
    assert_eq!(finish["stepResult"]["reason"], "stop");
    let text = finish["output"]["text"].as_str().unwrap();
    let echoed: Value = serde_json::from_str(text.strip_prefix("Weather: ").unwrap()).unwrap();
    assert_eq!(echoed, weather);
    assert_eq!(finish["output"]["steps"].as_array().unwrap().len(), 2);
    assert_eq!(finish["response"]["messages"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn stream_validation_errors_are_plain_json() {
    let (base, c) = demo().await;
    let (s, v) = post(
        &c,
        format!("{base}/agents/weatherAgent/stream"),
        json!({"foo": 1}),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        v,
        json!({"error": "Invalid request body", "issues": [{"field": "messages", "message": "Invalid input"}]})
    );
}

/// A model that always fails the way an upstream provider does.
struct FailingModel;

#[async_trait]
impl LanguageModel for FailingModel {
    fn provider(&self) -> &str {
        "test"
    }
    fn model_id(&self) -> &str {
        "failing"
    }
    async fn generate(&self, _: ModelRequest) -> Result<ModelResponse, ModelError> {
        Err(ModelError::Http {
            status: 503,
            message: "upstream overloaded".into(),
        })
    }
    fn stream(&self, _: ModelRequest) -> BoxStream<'static, Result<ModelEvent, ModelError>> {
        stream::iter(vec![
            Ok(ModelEvent::TextDelta("partial".into())),
            Err(ModelError::Provider("boom mid-stream".into())),
        ])
        .boxed()
    }
}

fn failing_registry() -> Registry {
    Registry::demo().with_agent(Agent::new("broken", "Broken", Arc::new(FailingModel)))
}

#[tokio::test]
async fn model_errors_are_500_json() {
    let base = serve(failing_registry()).await;
    let c = reqwest::Client::new();
    let (s, v) = post(
        &c,
        format!("{base}/agents/broken/generate"),
        json!({"messages": "hi"}),
    )
    .await;
    assert_eq!(s, 500);
    assert_eq!(
        v,
        json!({"error": "model provider returned HTTP 503: upstream overloaded"})
    );
}

#[tokio::test]
async fn stream_error_after_start_is_an_error_chunk_then_close() {
    let base = serve(failing_registry()).await;
    let c = reqwest::Client::new();
    let resp = c
        .post(format!("{base}/agents/broken/stream"))
        .json(&json!({"messages": "hi"}))
        .send()
        .await
        .unwrap();
    let sse = read_sse(resp).await;
    assert_eq!(
        types(&sse.frames),
        ["start", "step-start", "text-start", "text-delta", "error"]
    );
    assert!(!sse.done, "no [DONE] after an error");
    let err = &sse.frames.last().unwrap()["payload"]["error"];
    assert_eq!(err["message"], "model provider error: boom mid-stream");
}

// ---------------------------------------------------------------- tools

#[tokio::test]
async fn tools_list_and_details_by_key_and_id() {
    let (base, c) = demo().await;
    let (s, v) = get(&c, format!("{base}/tools")).await;
    assert_eq!(s, 200);
    assert_eq!(v.as_object().unwrap().len(), 1);
    assert_eq!(v["weatherTool"]["id"], "get-weather");
    assert_eq!(
        v["weatherTool"]["description"],
        "Get current weather for a location (offline fake)"
    );
    for id in ["weatherTool", "get-weather"] {
        let (s, t) = get(&c, format!("{base}/tools/{id}")).await;
        assert_eq!(s, 200, "{id}");
        assert_eq!(t, v["weatherTool"]);
    }
    assert_eq!(
        get(&c, format!("{base}/tools/nope")).await,
        (StatusCode::NOT_FOUND, json!({"error": "Tool not found"}))
    );
}

#[tokio::test]
async fn tool_execute_returns_the_raw_result() {
    let (base, c) = demo().await;
    let weather = json!({"location": "Paris", "temperatureC": 21, "conditions": "Sunny"});
    for id in ["weatherTool", "get-weather"] {
        // the JS client posts to `.../execute?` with a requestContext
        let (s, v) = post(
            &c,
            format!("{base}/tools/{id}/execute?"),
            json!({"data": {"location": "Paris"}, "requestContext": {}}),
        )
        .await;
        assert_eq!((s, v), (StatusCode::OK, weather.clone()), "{id}");
    }
}

#[tokio::test]
async fn tool_execute_errors() {
    let (base, c) = demo().await;
    let url = format!("{base}/tools/get-weather/execute");
    assert_eq!(
        post(&c, url.clone(), json!({"requestContext": {}})).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "Invalid request body", "issues": [{"field": "data", "message": "data is required"}]})
        )
    );
    let (s, v) = post(&c, url.clone(), json!({"data": {"city": "Paris"}})).await;
    assert_eq!(s, 200, "validation failure is a 200 like Mastra");
    assert_eq!(v["error"], true);
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.starts_with("Tool input validation failed for get-weather."),
        "{msg}"
    );
    assert!(
        msg.contains("- location: Invalid input: expected string, received undefined"),
        "{msg}"
    );
    assert_eq!(
        v["validationErrors"]["fields"]["location"]["errors"][0],
        "Invalid input: expected string, received undefined"
    );
    let (s, v) = post(&c, url.clone(), json!({"data": {"location": 3}})).await;
    assert_eq!(s, 200);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("expected string, received number")
    );

    let (s, v) = post(
        &c,
        format!("{base}/tools/nope/execute"),
        json!({"data": {}}),
    )
    .await;
    assert_eq!(
        (s, v),
        (StatusCode::NOT_FOUND, json!({"error": "Tool not found"}))
    );
    let r = c
        .post(url)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r).await.0, 400);
}

#[tokio::test]
async fn agent_tool_routes() {
    let (base, c) = demo().await;
    for id in ["get-weather", "weatherTool"] {
        let (s, v) = get(&c, format!("{base}/agents/weatherAgent/tools/{id}")).await;
        assert_eq!((s, v["id"].clone()), (StatusCode::OK, json!("get-weather")));
    }
    let (s, v) = post(
        &c,
        format!("{base}/agents/weatherAgent/tools/get-weather/execute"),
        json!({"data": {"location": "Lima"}}),
    )
    .await;
    assert_eq!((s, v["location"].clone()), (StatusCode::OK, json!("Lima")));
    assert_eq!(
        get(&c, format!("{base}/agents/weatherAgent/tools/nope")).await,
        (StatusCode::NOT_FOUND, json!({"error": "Tool not found"}))
    );
    let (s, v) = post(
        &c,
        format!("{base}/agents/nope/tools/get-weather/execute"),
        json!({"data": {}}),
    )
    .await;
    assert_eq!(
        (s, v),
        (
            StatusCode::NOT_FOUND,
            json!({"error": "Agent with id nope not found"})
        )
    );
}

#[tokio::test]
async fn agent_only_tools_are_listed_and_executable() {
    // An agent whose tool is not registered standalone: still listed under /tools (Mastra
    // lists agents' tools too) and executable by id.
    let agent = Agent::new("solo", "Solo", Arc::new(EchoModel::new()))
        .with_tool("wx", Arc::new(WeatherTool));
    let base = serve(mastra_core::Registry::new().with_agent(agent)).await;
    let c = reqwest::Client::new();
    let (_, v) = get(&c, format!("{base}/tools")).await;
    assert_eq!(v["wx"]["id"], "get-weather");
    let (s, v) = post(
        &c,
        format!("{base}/tools/get-weather/execute"),
        json!({"data": {"location": "X"}}),
    )
    .await;
    assert_eq!((s, v["location"].clone()), (StatusCode::OK, json!("X")));
}
