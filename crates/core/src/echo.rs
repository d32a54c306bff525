//! `builtin/echo`: an offline, deterministic model for demos and tests.
//!
//! Behaviour (mirrors the offline model of the Mastra server in `bench/mastra-node/server.mjs`):
//! - the last message is a tool result -> answers `Weather: <result JSON>` (for the
//!   `weatherTool`; other tools give `<tool>: <result JSON>`);
//! - the last user message is `weather <city>` (case-insensitive) and a tool named
//!   `weatherTool` is offered -> calls it with `{"location": "<city>"}`;
//! - the last user message is `recall` (case-insensitive) -> `Earlier you said: <the user
//!   message before it>`, or `Nothing earlier` when there is none. This is how tests see that an
//!   agent with memory gave the model the thread's earlier turns (the Mastra peer has no
//!   counterpart; its model only echoes);
//! - otherwise -> `Echo: <last user message text>`.
//!
//! Token usage is a word count: input tokens = whitespace-separated words of the system
//! prompt and all message contents; output tokens = words of the answer, or 1 for a
//! tool call. Streaming sends the answer word by word: each delta is one word with the
//! whitespace before it, so the deltas concatenate exactly to the full text.

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt};
use serde_json::json;

use crate::model::{
    ChatMessage, FinishReason, LanguageModel, ModelError, ModelEvent, ModelRequest, ModelResponse,
    ResponseMetadata, Role, ToolCall, Usage,
};

/// Tool key the echo model calls for `weather <city>`.
pub const ECHO_WEATHER_TOOL: &str = "weatherTool";

/// The user message that makes the echo model quote the user message before it.
pub const ECHO_RECALL: &str = "recall";

/// The offline echo model (`builtin/echo`).
#[derive(Debug, Clone, Default)]
pub struct EchoModel;

impl EchoModel {
    /// A new echo model.
    pub fn new() -> Self {
        Self
    }
}

enum Plan {
    Text(String),
    Call(ToolCall),
}

fn word_count(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}

fn input_tokens(req: &ModelRequest) -> u64 {
    req.system.as_deref().map(word_count).unwrap_or(0)
        + req
            .messages
            .iter()
            .map(|m| word_count(&m.content))
            .sum::<u64>()
}

fn last_user_text(messages: &[ChatMessage]) -> &str {
    messages
        .iter()
        .rev()
        .find(|m| m.role == Role::User)
        .map(|m| m.content.as_str())
        .unwrap_or("")
}

/// `weather <city>` -> `Some(city)`.
fn weather_city(text: &str) -> Option<&str> {
    let t = text.trim();
    let head = t.get(..7)?;
    if !head.eq_ignore_ascii_case("weather") {
        return None;
    }
    let rest = &t[7..];
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let city = rest.trim();
    (!city.is_empty()).then_some(city)
}

fn plan(req: &ModelRequest) -> Plan {
    // Trailing tool results (after the last assistant turn) -> answer from them.
    let trailing: Vec<&ChatMessage> = req
        .messages
        .iter()
        .rev()
        .take_while(|m| m.role == Role::Tool)
        .collect();
    if !trailing.is_empty() {
        let parts: Vec<String> = trailing
            .iter()
            .rev()
            .map(|m| {
                let name = m.tool_name.as_deref().unwrap_or("tool");
                let label = if name == ECHO_WEATHER_TOOL {
                    "Weather"
                } else {
                    name
                };
                format!("{label}: {}", m.content)
            })
            .collect();
        return Plan::Text(parts.join("\n"));
    }
    let text = last_user_text(&req.messages);
    if let Some(city) = weather_city(text)
        && req.tools.iter().any(|t| t.name == ECHO_WEATHER_TOOL)
        && req.tool_choice != Some(crate::model::ToolChoice::None)
    {
        let n = req
            .messages
            .iter()
            .map(|m| m.tool_calls.len())
            .sum::<usize>()
            + 1;
        return Plan::Call(ToolCall {
            id: format!("call-{n}"),
            name: ECHO_WEATHER_TOOL.to_string(),
            args: json!({ "location": city }),
        });
    }
    if text.trim().eq_ignore_ascii_case(ECHO_RECALL) {
        return Plan::Text(match earlier_user_text(&req.messages) {
            Some(earlier) => format!("Earlier you said: {earlier}"),
            None => "Nothing earlier".to_string(),
        });
    }
    Plan::Text(format!("Echo: {text}"))
}

/// The user message before the last one.
fn earlier_user_text(messages: &[ChatMessage]) -> Option<&str> {
    messages
        .iter()
        .rev()
        .filter(|m| m.role == Role::User)
        .nth(1)
        .map(|m| m.content.as_str())
}

fn metadata() -> ResponseMetadata {
    ResponseMetadata {
        id: Some("resp-echo".to_string()),
        model_id: Some("echo".to_string()),
        timestamp_ms: None,
    }
}

/// Splits `text` into words, each carrying the whitespace that precedes it, so that the
/// pieces concatenate back to `text` exactly.
pub fn split_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_word = false;
    for ch in text.chars() {
        let ws = ch.is_whitespace();
        if ws && prev_word {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(ch);
        prev_word = !ws;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[async_trait]
impl LanguageModel for EchoModel {
    fn provider(&self) -> &str {
        "builtin"
    }

    fn model_id(&self) -> &str {
        "echo"
    }

    async fn generate(&self, request: ModelRequest) -> Result<ModelResponse, ModelError> {
        let input = input_tokens(&request);
        Ok(match plan(&request) {
            Plan::Call(call) => ModelResponse {
                metadata: metadata(),
                text: String::new(),
                tool_calls: vec![call],
                finish_reason: FinishReason::ToolCalls,
                usage: Usage::new(input, 1),
            },
            Plan::Text(text) => ModelResponse {
                metadata: metadata(),
                usage: Usage::new(input, word_count(&text)),
                text,
                tool_calls: Vec::new(),
                finish_reason: FinishReason::Stop,
            },
        })
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'static, Result<ModelEvent, ModelError>> {
        let input = input_tokens(&request);
        let mut events = vec![ModelEvent::Metadata(metadata())];
        match plan(&request) {
            Plan::Call(call) => {
                events.push(ModelEvent::ToolInputStart {
                    id: call.id.clone(),
                    name: call.name.clone(),
                });
                events.push(ModelEvent::ToolInputDelta {
                    id: call.id.clone(),
                    delta: call.args.to_string(),
                });
                events.push(ModelEvent::ToolCall(call));
                events.push(ModelEvent::Finish {
                    finish_reason: FinishReason::ToolCalls,
                    usage: Usage::new(input, 1),
                });
            }
            Plan::Text(text) => {
                events.extend(split_words(&text).into_iter().map(ModelEvent::TextDelta));
                events.push(ModelEvent::Finish {
                    finish_reason: FinishReason::Stop,
                    usage: Usage::new(input, word_count(&text)),
                });
            }
        }
        stream::iter(events.into_iter().map(Ok)).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ToolDefinition;

    fn req(text: &str, with_tool: bool) -> ModelRequest {
        ModelRequest {
            messages: vec![ChatMessage::user(text)],
            tools: if with_tool {
                vec![ToolDefinition {
                    name: ECHO_WEATHER_TOOL.into(),
                    description: String::new(),
                    parameters: json!({}),
                }]
            } else {
                vec![]
            },
            ..Default::default()
        }
    }

    #[test]
    fn split_words_concatenates_exactly() {
        for t in [
            "Echo: hello",
            "  a  b\n c ",
            "",
            "one",
            "Echo: héllo wörld  ",
        ] {
            let parts = split_words(t);
            assert_eq!(parts.concat(), t);
        }
        assert_eq!(split_words("Echo: hello"), vec!["Echo:", " hello"]);
    }

    #[tokio::test]
    async fn echoes_last_user_message() {
        let r = EchoModel.generate(req("hello", true)).await.unwrap();
        assert_eq!(r.text, "Echo: hello");
        assert_eq!(r.finish_reason, FinishReason::Stop);
        assert_eq!(r.usage, Usage::new(1, 2));
    }

    #[tokio::test]
    async fn recall_quotes_the_user_turn_before() {
        let mut r = req("recall", false);
        let alone = EchoModel.generate(r.clone()).await.unwrap();
        assert_eq!(alone.text, "Nothing earlier");
        r.messages = vec![
            ChatMessage::user("my name is Ada"),
            ChatMessage::assistant("Echo: my name is Ada"),
            ChatMessage::user("RECALL"),
        ];
        let out = EchoModel.generate(r).await.unwrap();
        assert_eq!(out.text, "Earlier you said: my name is Ada");
    }

    #[tokio::test]
    async fn weather_calls_tool_only_when_offered() {
        let r = EchoModel
            .generate(req("Weather  Paris ", true))
            .await
            .unwrap();
        assert_eq!(r.finish_reason, FinishReason::ToolCalls);
        assert_eq!(r.tool_calls[0].args, json!({"location": "Paris"}));
        let r = EchoModel
            .generate(req("weather Paris", false))
            .await
            .unwrap();
        assert_eq!(r.text, "Echo: weather Paris");
        let r = EchoModel.generate(req("weatherman", true)).await.unwrap();
        assert_eq!(r.text, "Echo: weatherman");
    }

    #[tokio::test]
    async fn answers_from_tool_result() {
        let mut rq = req("weather Rome", true);
        let call = ToolCall {
            id: "call-1".into(),
            name: ECHO_WEATHER_TOOL.into(),
            args: json!({"location": "Rome"}),
        };
        rq.messages
            .push(ChatMessage::assistant_with_tool_calls("", vec![call]));
        rq.messages.push(ChatMessage::tool_result(
            "call-1",
            ECHO_WEATHER_TOOL,
            &json!({"location": "Rome"}),
        ));
        let r = EchoModel.generate(rq).await.unwrap();
        assert_eq!(r.text, r#"Weather: {"location":"Rome"}"#);
    }

    #[tokio::test]
    async fn stream_deltas_match_generate() {
        let events: Vec<_> = EchoModel
            .stream(req("hello big world", true))
            .collect::<Vec<_>>()
            .await;
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                Ok(ModelEvent::TextDelta(d)) => Some(d.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "Echo: hello big world");
        assert!(matches!(
            events.last(),
            Some(Ok(ModelEvent::Finish {
                finish_reason: FinishReason::Stop,
                ..
            }))
        ));
    }
}
