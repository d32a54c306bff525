//! The language-model abstraction: request/response types, stream events, errors and the
//! [`LanguageModel`] trait. Building a model from a spec string is [`crate::spec`]'s job.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// System instructions.
    System,
    /// The end user.
    User,
    /// The model.
    Assistant,
    /// A tool result fed back to the model.
    Tool,
}

impl Role {
    /// The lowercase wire name (`"user"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// A tool invocation requested by the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Provider-assigned call id, echoed back with the result.
    pub id: String,
    /// The tool's name as the model saw it (the agent's tool key).
    pub name: String,
    /// Parsed JSON arguments.
    pub args: Value,
}

/// One message of a conversation (text content plus tool-call plumbing).
#[derive(Debug, Clone, PartialEq)]
pub struct ChatMessage {
    /// Author.
    pub role: Role,
    /// Text content (for a tool message: the result as compact JSON).
    pub content: String,
    /// Tool calls made by an assistant message.
    pub tool_calls: Vec<ToolCall>,
    /// For a tool message: the id of the call this answers.
    pub tool_call_id: Option<String>,
    /// For a tool message: the tool's name.
    pub tool_name: Option<String>,
}

impl ChatMessage {
    /// A message with `role` and text `content`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            tool_name: None,
        }
    }

    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }

    /// An assistant message with text only.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }

    /// An assistant message that requested tool calls (text may be empty).
    pub fn assistant_with_tool_calls(
        content: impl Into<String>,
        tool_calls: Vec<ToolCall>,
    ) -> Self {
        Self {
            tool_calls,
            ..Self::new(Role::Assistant, content)
        }
    }

    /// A tool-result message answering call `call_id` of tool `tool_name`.
    pub fn tool_result(
        call_id: impl Into<String>,
        tool_name: impl Into<String>,
        result: &Value,
    ) -> Self {
        Self {
            tool_call_id: Some(call_id.into()),
            tool_name: Some(tool_name.into()),
            ..Self::new(Role::Tool, result.to_string())
        }
    }
}

/// A tool as offered to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDefinition {
    /// Name the model calls it by (the agent's tool key).
    pub name: String,
    /// What the tool does.
    pub description: String,
    /// JSON Schema of the arguments.
    pub parameters: Value,
}

/// How the model may use tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// No tool calls.
    None,
    /// At least one tool call.
    Required,
    /// This specific tool.
    Tool(String),
}

/// Optional sampling settings passed through to the provider.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelSettings {
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    pub top_p: Option<f64>,
    /// Cap on generated tokens.
    pub max_output_tokens: Option<u64>,
}

/// Everything a model needs for one completion.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelRequest {
    /// System instructions (sent first).
    pub system: Option<String>,
    /// Conversation so far.
    pub messages: Vec<ChatMessage>,
    /// Tools the model may call.
    pub tools: Vec<ToolDefinition>,
    /// Tool-choice constraint, if any.
    pub tool_choice: Option<ToolChoice>,
    /// Sampling settings.
    pub settings: ModelSettings,
}

/// Why the model stopped (AI SDK v5 names on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FinishReason {
    /// Natural end.
    Stop,
    /// Token limit.
    Length,
    /// Filtered by the provider.
    ContentFilter,
    /// The model wants tool results.
    ToolCalls,
    /// The provider reported an error.
    Error,
    /// Something else.
    Other,
    /// Not reported.
    Unknown,
}

impl FinishReason {
    /// The wire name (`"stop"`, `"tool-calls"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ContentFilter => "content-filter",
            FinishReason::ToolCalls => "tool-calls",
            FinishReason::Error => "error",
            FinishReason::Other => "other",
            FinishReason::Unknown => "unknown",
        }
    }
}

impl fmt::Display for FinishReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Token counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// Sum as reported (or computed).
    pub total_tokens: u64,
}

impl Usage {
    /// Usage with `total = input + output`.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            input_tokens,
            output_tokens,
            total_tokens: input_tokens.saturating_add(output_tokens),
        }
    }
}

impl std::ops::Add for Usage {
    type Output = Usage;

    /// Field-wise saturating sum.
    fn add(self, other: Usage) -> Usage {
        Usage {
            input_tokens: self.input_tokens.saturating_add(other.input_tokens),
            output_tokens: self.output_tokens.saturating_add(other.output_tokens),
            total_tokens: self.total_tokens.saturating_add(other.total_tokens),
        }
    }
}

/// Provider metadata about one response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseMetadata {
    /// Provider response id.
    pub id: Option<String>,
    /// Model that actually answered.
    pub model_id: Option<String>,
    /// Creation time, ms since the epoch.
    pub timestamp_ms: Option<u64>,
}

/// A complete (non-streamed) model answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelResponse {
    /// Response metadata.
    pub metadata: ResponseMetadata,
    /// Generated text (may be empty when only tools are called).
    pub text: String,
    /// Requested tool calls.
    pub tool_calls: Vec<ToolCall>,
    /// Why generation stopped.
    pub finish_reason: FinishReason,
    /// Token usage.
    pub usage: Usage,
}

/// One event of a streamed model answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelEvent {
    /// Provider metadata (id, model, timestamp); may arrive at any point.
    Metadata(ResponseMetadata),
    /// A piece of text; the deltas concatenate to the full text.
    TextDelta(String),
    /// A tool call started streaming its arguments.
    ToolInputStart {
        /// Call id.
        id: String,
        /// Tool name.
        name: String,
    },
    /// A fragment of a tool call's JSON arguments.
    ToolInputDelta {
        /// Call id.
        id: String,
        /// Argument text fragment.
        delta: String,
    },
    /// A complete tool call (arguments parsed).
    ToolCall(ToolCall),
    /// The end of the answer.
    Finish {
        /// Why generation stopped.
        finish_reason: FinishReason,
        /// Token usage.
        usage: Usage,
    },
}

/// Errors from a language model or its construction. Messages never contain API keys.
#[derive(Debug, Clone, Error, PartialEq)]
#[non_exhaustive]
pub enum ModelError {
    /// The model spec string is not one of the supported forms.
    #[error("unsupported model `{spec}`: supported forms are {supported}")]
    UnsupportedSpec {
        /// What was given.
        spec: String,
        /// Human-readable list of supported forms.
        supported: &'static str,
    },
    /// A required API key environment variable is missing.
    #[error(
        "{var} is not set (required for model `{model}` unless OPENAI_BASE_URL points at a loopback address)"
    )]
    MissingApiKey {
        /// The variable name.
        var: &'static str,
        /// The model that needed it.
        model: String,
    },
    /// Invalid configuration (e.g. a malformed base URL).
    #[error("invalid model configuration: {0}")]
    Config(String),
    /// The provider answered with an HTTP error status.
    #[error("model provider returned HTTP {status}: {message}")]
    Http {
        /// Upstream status code.
        status: u16,
        /// Upstream error message (redacted, truncated).
        message: String,
    },
    /// The provider reported an error inside a successful (streamed) response.
    #[error("model provider error: {0}")]
    Provider(String),
    /// The request took too long.
    #[error("model request timed out after {}s", .0.as_secs())]
    Timeout(Duration),
    /// Connecting or transferring failed.
    #[error("could not reach the model provider: {0}")]
    Transport(String),
    /// The provider's answer could not be understood.
    #[error("invalid response from the model provider: {0}")]
    InvalidResponse(String),
}

/// A chat language model. Object safe: agents hold `Arc<dyn LanguageModel>`.
#[async_trait]
pub trait LanguageModel: Send + Sync {
    /// Provider name (`"builtin"`, `"openai"`).
    fn provider(&self) -> &str;
    /// Model id within the provider (`"echo"`, `"gpt-4o-mini"`).
    fn model_id(&self) -> &str;
    /// One complete answer.
    async fn generate(&self, request: ModelRequest) -> Result<ModelResponse, ModelError>;
    /// A streamed answer: events, ending with [`ModelEvent::Finish`] or an error.
    fn stream(&self, request: ModelRequest) -> BoxStream<'static, Result<ModelEvent, ModelError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reason_wire_names() {
        assert_eq!(
            serde_json::to_value(FinishReason::ToolCalls).unwrap(),
            "tool-calls"
        );
        assert_eq!(FinishReason::ContentFilter.as_str(), "content-filter");
    }
}
