//! `openai/<model>`: any OpenAI-compatible Chat Completions endpoint.
//!
//! Configuration: `OPENAI_BASE_URL` (default `https://api.openai.com/v1`) and
//! `OPENAI_API_KEY` (required unless the base URL's host is a loopback address).
//! Non-streaming calls `POST {base}/chat/completions`; streaming adds `"stream": true`
//! and reads the server-sent `data:` lines until `data: [DONE]`.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use bytes::BytesMut;
use futures::SinkExt;
use futures::stream::{BoxStream, StreamExt};
use serde_json::{Map, Value, json};

use crate::model::{
    ChatMessage, FinishReason, LanguageModel, ModelError, ModelEvent, ModelRequest, ModelResponse,
    ResponseMetadata, Role, ToolCall, ToolChoice, Usage,
};
use crate::util::{Emitter, channel_stream};

/// Default base URL when `OPENAI_BASE_URL` is unset.
pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
/// Default timeout: whole request (non-streaming) or silence between chunks (streaming).
pub const DEFAULT_OPENAI_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_ERROR_MESSAGE: usize = 500;

/// Settings for [`OpenAiModel`].
#[derive(Clone)]
pub struct OpenAiConfig {
    /// Model name sent as `model`.
    pub model: String,
    /// Base URL, e.g. `https://api.openai.com/v1` (no trailing `/chat/completions`).
    pub base_url: String,
    /// Bearer key; may be `None` only for loopback base URLs.
    pub api_key: Option<String>,
    /// Request timeout (whole request; for streams, the longest silence between chunks).
    pub timeout: Duration,
}

impl std::fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("model", &self.model)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl OpenAiConfig {
    /// Config for `model` from `OPENAI_BASE_URL` / `OPENAI_API_KEY` (empty values count as unset).
    pub fn from_env(model: &str) -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Self {
            model: model.to_string(),
            base_url: var("OPENAI_BASE_URL").unwrap_or_else(|| DEFAULT_OPENAI_BASE_URL.to_string()),
            api_key: var("OPENAI_API_KEY"),
            timeout: DEFAULT_OPENAI_TIMEOUT,
        }
    }
}

/// A model served by an OpenAI-compatible Chat Completions endpoint.
#[derive(Clone)]
pub struct OpenAiModel {
    model: String,
    endpoint: reqwest::Url,
    api_key: Option<String>,
    timeout: Duration,
    client: reqwest::Client,
}

impl std::fmt::Debug for OpenAiModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiModel")
            .field("model", &self.model)
            .field("endpoint", &self.endpoint.as_str())
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

impl OpenAiModel {
    /// Model `model` configured from the environment (see the module docs).
    pub fn from_env(model: &str) -> Result<Self, ModelError> {
        Self::new(OpenAiConfig::from_env(model))
    }

    /// Model from explicit settings. A missing key is an error unless the base URL is loopback.
    pub fn new(config: OpenAiConfig) -> Result<Self, ModelError> {
        if config.model.trim().is_empty() {
            return Err(ModelError::Config("the model name is empty".into()));
        }
        let base = config.base_url.trim().trim_end_matches('/');
        let endpoint = reqwest::Url::parse(&format!("{base}/chat/completions")).map_err(|e| {
            ModelError::Config(format!("OPENAI_BASE_URL `{base}` is not a valid URL: {e}"))
        })?;
        if !matches!(endpoint.scheme(), "http" | "https") {
            return Err(ModelError::Config(format!(
                "OPENAI_BASE_URL `{base}` must be an http or https URL"
            )));
        }
        let api_key = config.api_key.filter(|k| !k.trim().is_empty());
        if api_key.is_none() && !is_loopback(&endpoint) {
            return Err(ModelError::MissingApiKey {
                var: "OPENAI_API_KEY",
                model: format!("openai/{}", config.model),
            });
        }
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(config.timeout)
            .build()
            .map_err(|e| ModelError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            model: config.model,
            endpoint,
            api_key,
            timeout: config.timeout,
            client,
        })
    }

    /// The full `.../chat/completions` URL requests go to.
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    fn redact(&self, s: &str) -> String {
        let mut out = match &self.api_key {
            Some(k) if k.len() >= 4 => s.replace(k.as_str(), "[redacted]"),
            _ => s.to_string(),
        };
        if out.chars().count() > MAX_ERROR_MESSAGE {
            out = out.chars().take(MAX_ERROR_MESSAGE).collect::<String>() + "…";
        }
        out
    }

    fn body(&self, req: &ModelRequest, stream: bool) -> Value {
        let mut body = Map::new();
        body.insert("model".into(), Value::String(self.model.clone()));
        body.insert("messages".into(), Value::Array(wire_messages(req)));
        if !req.tools.is_empty() {
            let tools = req
                .tools
                .iter()
                .map(|t| {
                    let mut params = t.parameters.clone();
                    if let Value::Object(m) = &mut params {
                        m.remove("$schema");
                    }
                    json!({"type": "function", "function": {
                        "name": t.name, "description": t.description, "parameters": params}})
                })
                .collect();
            body.insert("tools".into(), Value::Array(tools));
            if let Some(choice) = &req.tool_choice {
                let v = match choice {
                    ToolChoice::Auto => json!("auto"),
                    ToolChoice::None => json!("none"),
                    ToolChoice::Required => json!("required"),
                    ToolChoice::Tool(name) => {
                        json!({"type": "function", "function": {"name": name}})
                    }
                };
                body.insert("tool_choice".into(), v);
            }
        }
        let s = &req.settings;
        if let Some(t) = s.temperature {
            body.insert("temperature".into(), json!(t));
        }
        if let Some(p) = s.top_p {
            body.insert("top_p".into(), json!(p));
        }
        if let Some(m) = s.max_output_tokens {
            body.insert("max_tokens".into(), json!(m));
        }
        if stream {
            body.insert("stream".into(), Value::Bool(true));
            body.insert("stream_options".into(), json!({"include_usage": true}));
        }
        Value::Object(body)
    }

    fn transport_error(&self, e: reqwest::Error) -> ModelError {
        if e.is_timeout() {
            return ModelError::Timeout(self.timeout);
        }
        let e = e.without_url();
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            src = s.source();
        }
        ModelError::Transport(self.redact(&msg))
    }

    fn redact_error(&self, e: ModelError) -> ModelError {
        match e {
            ModelError::Provider(m) => ModelError::Provider(self.redact(&m)),
            ModelError::InvalidResponse(m) => ModelError::InvalidResponse(self.redact(&m)),
            other => other,
        }
    }

    async fn send(
        &self,
        body: &Value,
        total_timeout: bool,
    ) -> Result<reqwest::Response, ModelError> {
        let mut rb = self.client.post(self.endpoint.clone()).json(body);
        if total_timeout {
            rb = rb.timeout(self.timeout);
        }
        if let Some(k) = &self.api_key {
            rb = rb.bearer_auth(k);
        }
        let resp = rb.send().await.map_err(|e| self.transport_error(e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let text = resp.text().await.unwrap_or_default();
        Err(ModelError::Http {
            status: status.as_u16(),
            message: self.redact(&error_message(&text, status)),
        })
    }
}

/// Pulls the human message out of an OpenAI-style error body (`{"error":{"message":..}}`).
fn error_message(body: &str, status: reqwest::StatusCode) -> String {
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        let e = v.get("error").unwrap_or(&v);
        if let Some(m) = e.get("message").and_then(Value::as_str) {
            return m.to_string();
        }
        if let Some(m) = e.as_str() {
            return m.to_string();
        }
    }
    let trimmed = body.trim();
    if trimmed.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        trimmed.to_string()
    }
}

fn wire_messages(req: &ModelRequest) -> Vec<Value> {
    let mut out = Vec::with_capacity(req.messages.len() + 1);
    if let Some(s) = req.system.as_deref().filter(|s| !s.is_empty()) {
        out.push(json!({"role": "system", "content": s}));
    }
    for m in &req.messages {
        out.push(wire_message(m));
    }
    out
}

fn wire_message(m: &ChatMessage) -> Value {
    match m.role {
        Role::Tool => json!({
            "role": "tool",
            "tool_call_id": m.tool_call_id.clone().unwrap_or_default(),
            "content": m.content,
        }),
        Role::Assistant if !m.tool_calls.is_empty() => {
            let calls: Vec<Value> = m
                .tool_calls
                .iter()
                .map(|c| {
                    json!({"id": c.id, "type": "function",
                        "function": {"name": c.name, "arguments": c.args.to_string()}})
                })
                .collect();
            let content = if m.content.is_empty() {
                Value::Null
            } else {
                Value::String(m.content.clone())
            };
            json!({"role": "assistant", "content": content, "tool_calls": calls})
        }
        role => json!({"role": role.as_str(), "content": m.content}),
    }
}

fn finish_reason(s: Option<&str>) -> FinishReason {
    match s {
        Some("stop") => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some("tool_calls") | Some("function_call") => FinishReason::ToolCalls,
        Some("content_filter") => FinishReason::ContentFilter,
        Some(_) => FinishReason::Other,
        None => FinishReason::Unknown,
    }
}

fn usage(v: Option<&Value>) -> Usage {
    let Some(u) = v else {
        return Usage::default();
    };
    let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
    let (i, o) = (n("prompt_tokens"), n("completion_tokens"));
    let total = u
        .get("total_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(i.saturating_add(o));
    Usage {
        input_tokens: i,
        output_tokens: o,
        total_tokens: total,
    }
}

fn metadata(v: &Value) -> ResponseMetadata {
    ResponseMetadata {
        id: v.get("id").and_then(Value::as_str).map(str::to_string),
        model_id: v.get("model").and_then(Value::as_str).map(str::to_string),
        timestamp_ms: v
            .get("created")
            .and_then(Value::as_u64)
            .map(|s| s.saturating_mul(1000)),
    }
}

fn parse_args(name: &str, raw: &str) -> Result<Value, ModelError> {
    if raw.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_str(raw).map_err(|e| {
        ModelError::InvalidResponse(format!(
            "arguments of tool call `{name}` are not valid JSON: {e}"
        ))
    })
}

fn parse_response(v: &Value) -> Result<ModelResponse, ModelError> {
    if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
        let msg = err
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| err.to_string());
        return Err(ModelError::Provider(msg));
    }
    let choice = v
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .ok_or_else(|| ModelError::InvalidResponse("no `choices` in the response".into()))?;
    let message = choice
        .get("message")
        .ok_or_else(|| ModelError::InvalidResponse("no `message` in the first choice".into()))?;
    let text = message
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut tool_calls = Vec::new();
    for (i, c) in message
        .get("tool_calls")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let f = c.get("function").unwrap_or(&Value::Null);
        let name = f
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| ModelError::InvalidResponse("a tool call has no function name".into()))?
            .to_string();
        let raw = f.get("arguments").and_then(Value::as_str).unwrap_or("");
        tool_calls.push(ToolCall {
            id: c
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("call-{i}")),
            args: parse_args(&name, raw)?,
            name,
        });
    }
    Ok(ModelResponse {
        metadata: metadata(v),
        text,
        tool_calls,
        finish_reason: finish_reason(choice.get("finish_reason").and_then(Value::as_str)),
        usage: usage(v.get("usage")),
    })
}

#[derive(Default)]
struct PartialCall {
    id: String,
    name: String,
    args: String,
    started: bool,
}

/// Incremental state of one streamed completion.
#[derive(Default)]
struct StreamState {
    calls: BTreeMap<u64, PartialCall>,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
    metadata_sent: bool,
    done: bool,
}

impl StreamState {
    /// Handles one `data:` payload, returning the events it produces.
    fn on_data(&mut self, data: &str) -> Result<Vec<ModelEvent>, ModelError> {
        if data == "[DONE]" {
            self.done = true;
            return Ok(Vec::new());
        }
        let v: Value = serde_json::from_str(data).map_err(|e| {
            ModelError::InvalidResponse(format!("a stream chunk is not valid JSON: {e}"))
        })?;
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            let msg = err
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| err.to_string());
            return Err(ModelError::Provider(msg));
        }
        if !v.is_object() {
            return Err(ModelError::InvalidResponse(
                "a stream chunk is not a JSON object".into(),
            ));
        }
        let mut events = Vec::new();
        if !self.metadata_sent {
            self.metadata_sent = true;
            events.push(ModelEvent::Metadata(metadata(&v)));
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(usage(Some(u)));
        }
        let Some(choice) = v
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
        else {
            return Ok(events);
        };
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        if let Some(t) = delta.get("content").and_then(Value::as_str)
            && !t.is_empty()
        {
            events.push(ModelEvent::TextDelta(t.to_string()));
        }
        for tc in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let index = tc.get("index").and_then(Value::as_u64).unwrap_or(0);
            let pc = self.calls.entry(index).or_default();
            if let Some(id) = tc.get("id").and_then(Value::as_str) {
                pc.id = id.to_string();
            }
            let f = tc.get("function").unwrap_or(&Value::Null);
            if let Some(n) = f.get("name").and_then(Value::as_str) {
                pc.name.push_str(n);
            }
            if !pc.started && !pc.name.is_empty() {
                pc.started = true;
                if pc.id.is_empty() {
                    pc.id = format!("call-{index}");
                }
                events.push(ModelEvent::ToolInputStart {
                    id: pc.id.clone(),
                    name: pc.name.clone(),
                });
                if !pc.args.is_empty() {
                    events.push(ModelEvent::ToolInputDelta {
                        id: pc.id.clone(),
                        delta: pc.args.clone(),
                    });
                }
            }
            if let Some(a) = f.get("arguments").and_then(Value::as_str)
                && !a.is_empty()
            {
                pc.args.push_str(a);
                if pc.started {
                    events.push(ModelEvent::ToolInputDelta {
                        id: pc.id.clone(),
                        delta: a.to_string(),
                    });
                }
            }
        }
        if let Some(r) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish = Some(finish_reason(Some(r)));
        }
        Ok(events)
    }

    /// Events for the end of the stream (completed tool calls, then `Finish`).
    fn finish(&mut self) -> Result<Vec<ModelEvent>, ModelError> {
        if !self.done && self.finish.is_none() {
            return Err(ModelError::InvalidResponse(
                "the stream ended before `data: [DONE]`".into(),
            ));
        }
        let mut events = Vec::new();
        for (index, pc) in std::mem::take(&mut self.calls) {
            if pc.name.is_empty() {
                return Err(ModelError::InvalidResponse(format!(
                    "streamed tool call #{index} has no function name"
                )));
            }
            events.push(ModelEvent::ToolCall(ToolCall {
                args: parse_args(&pc.name, &pc.args)?,
                id: pc.id,
                name: pc.name,
            }));
        }
        let finish_reason = match self.finish {
            Some(r) => r,
            None if events.is_empty() => FinishReason::Stop,
            None => FinishReason::ToolCalls,
        };
        events.push(ModelEvent::Finish {
            finish_reason,
            usage: self.usage.unwrap_or_default(),
        });
        Ok(events)
    }
}

/// Splits complete lines off the front of `buf` (LF or CRLF terminated).
fn take_line(buf: &mut BytesMut) -> Option<Result<String, ModelError>> {
    let pos = buf.iter().position(|&b| b == b'\n')?;
    let line = buf.split_to(pos + 1);
    let line = &line[..pos];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some(
        String::from_utf8(line.to_vec())
            .map_err(|_| ModelError::InvalidResponse("the stream is not valid UTF-8".into())),
    )
}

/// `data:` payload of an SSE line, if it is one.
fn sse_data(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("data:")?;
    Some(rest.strip_prefix(' ').unwrap_or(rest).trim_end())
}

async fn run_stream(
    model: OpenAiModel,
    request: ModelRequest,
    mut tx: Emitter<Result<ModelEvent, ModelError>>,
) {
    let result = async {
        let body = model.body(&request, true);
        let resp = model.send(&body, false).await?;
        let mut bytes = resp.bytes_stream();
        let mut buf = BytesMut::new();
        let mut state = StreamState::default();
        'outer: loop {
            while let Some(line) = take_line(&mut buf) {
                let line = line?;
                if let Some(data) = sse_data(&line) {
                    for ev in state.on_data(data)? {
                        if tx.send(Ok(ev)).await.is_err() {
                            return Ok(());
                        }
                    }
                    if state.done {
                        break 'outer;
                    }
                }
            }
            match bytes.next().await {
                Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
                Some(Err(e)) => return Err(model.transport_error(e)),
                None => {
                    // A final line without a trailing newline.
                    if !buf.is_empty() {
                        buf.extend_from_slice(b"\n");
                        continue;
                    }
                    break;
                }
            }
        }
        for ev in state.finish()? {
            if tx.send(Ok(ev)).await.is_err() {
                return Ok(());
            }
        }
        Ok::<(), ModelError>(())
    }
    .await;
    if let Err(e) = result {
        let _ = tx.send(Err(model.redact_error(e))).await;
    }
}

#[async_trait]
impl LanguageModel for OpenAiModel {
    fn provider(&self) -> &str {
        "openai"
    }

    fn model_id(&self) -> &str {
        &self.model
    }

    async fn generate(&self, request: ModelRequest) -> Result<ModelResponse, ModelError> {
        let body = self.body(&request, false);
        let resp = self.send(&body, true).await?;
        let bytes = resp.bytes().await.map_err(|e| self.transport_error(e))?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ModelError::InvalidResponse(format!("the response is not valid JSON: {e}"))
        })?;
        parse_response(&v).map_err(|e| self.redact_error(e))
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'static, Result<ModelEvent, ModelError>> {
        let model = self.clone();
        channel_stream(move |tx| run_stream(model, request, tx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_state_assembles_tool_calls() {
        let mut s = StreamState::default();
        let mut evs = Vec::new();
        for d in [
            r#"{"id":"c1","model":"m","created":1,"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"weatherTool","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"loc"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ation\":\"Oslo\"}"}}]},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#,
            "[DONE]",
        ] {
            evs.extend(s.on_data(d).unwrap());
        }
        evs.extend(s.finish().unwrap());
        assert!(matches!(&evs[0], ModelEvent::Metadata(m) if m.id.as_deref() == Some("c1")));
        assert!(evs.contains(&ModelEvent::ToolCall(ToolCall {
            id: "call_1".into(),
            name: "weatherTool".into(),
            args: json!({"location": "Oslo"}),
        })));
        assert_eq!(
            evs.last(),
            Some(&ModelEvent::Finish {
                finish_reason: FinishReason::ToolCalls,
                usage: Usage {
                    input_tokens: 5,
                    output_tokens: 7,
                    total_tokens: 12
                }
            })
        );
    }

    #[test]
    fn missing_key_is_an_error_unless_loopback() {
        let cfg = |base: &str| OpenAiConfig {
            model: "gpt-x".into(),
            base_url: base.into(),
            api_key: None,
            timeout: DEFAULT_OPENAI_TIMEOUT,
        };
        let err = OpenAiModel::new(cfg("https://api.openai.com/v1")).unwrap_err();
        assert!(err.to_string().contains("OPENAI_API_KEY"), "{err}");
        for ok in [
            "http://127.0.0.1:9/v1",
            "http://localhost:8080/v1/",
            "http://[::1]:1/v1",
        ] {
            let m = OpenAiModel::new(cfg(ok)).unwrap();
            assert!(
                m.endpoint().ends_with("/v1/chat/completions"),
                "{}",
                m.endpoint()
            );
        }
        assert!(matches!(
            OpenAiModel::new(cfg("not a url")),
            Err(ModelError::Config(_))
        ));
    }

    #[test]
    fn redacts_key_and_debug_hides_it() {
        let m = OpenAiModel::new(OpenAiConfig {
            model: "m".into(),
            base_url: "https://example.invalid/v1".into(),
            api_key: Some("sk-secret-123".into()),
            timeout: DEFAULT_OPENAI_TIMEOUT,
        })
        .unwrap();
        assert_eq!(m.redact("bad key sk-secret-123"), "bad key [redacted]");
        assert!(!format!("{m:?}").contains("sk-secret"));
    }
}
