//! Wire types of the agents and tools API (Mastra 1.x shapes). Every struct keeps the fields
//! it does not name in `extra`, so nothing the server sends is lost.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A serialized agent: `GET /api/agents/{id}`, or one value of `GET /api/agents` (which also
/// carries `id`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentDetails {
    /// The agent id (present in list entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Description, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// System instructions: usually a string (the schema also allows an array).
    #[serde(default)]
    pub instructions: Value,
    /// The agent's tools, keyed by the agent's tool key.
    #[serde(default)]
    pub tools: BTreeMap<String, ToolDetails>,
    /// Model provider (`openai`, `builtin`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Model id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    /// Model interface version (`v2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// Every other field (`agents`, `workflows`, `defaultOptions`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A serialized tool: `GET /api/tools/{id}`, one value of `GET /api/tools`, or of an agent's
/// `tools`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolDetails {
    /// The tool id (e.g. `get-weather`), distinct from the key it is listed under.
    #[serde(default)]
    pub id: String,
    /// What the tool does.
    #[serde(default)]
    pub description: String,
    /// The input schema as Mastra sends it: a JSON **string** of `{"json": <JSON Schema>}`
    /// (see [`ToolDetails::input_json_schema`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<String>,
    /// The output schema, same encoding as `input_schema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<String>,
    /// Whether calls need human approval.
    #[serde(default)]
    pub require_approval: bool,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Decodes Mastra's schema string (`{"json": schema}` serialized) to the JSON Schema.
fn decode_schema(s: &str) -> Option<Value> {
    let v: Value = serde_json::from_str(s).ok()?;
    match v {
        Value::Object(mut o) if o.contains_key("json") => o.remove("json"),
        other => Some(other),
    }
}

impl ToolDetails {
    /// The input JSON Schema, decoded from the `{"json": ...}` string.
    pub fn input_json_schema(&self) -> Option<Value> {
        self.input_schema.as_deref().and_then(decode_schema)
    }

    /// The output JSON Schema, decoded from the `{"json": ...}` string.
    pub fn output_json_schema(&self) -> Option<Value> {
        self.output_schema.as_deref().and_then(decode_schema)
    }
}

/// One chat message: `{role, content}`; `content` is a string or an array of parts
/// (`{"type": "text", "text": ...}`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `user`, `assistant`, `system` or `tool`.
    pub role: String,
    /// Text, or content parts.
    pub content: Value,
}

impl Message {
    /// A message with any role and content.
    pub fn new(role: impl Into<String>, content: impl Into<Value>) -> Self {
        Self {
            role: role.into(),
            content: content.into(),
        }
    }

    /// A user message with text content.
    pub fn user(text: impl Into<String>) -> Self {
        Self::new("user", text.into())
    }

    /// An assistant message with text content.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::new("assistant", text.into())
    }

    /// A system message.
    pub fn system(text: impl Into<String>) -> Self {
        Self::new("system", text.into())
    }
}

/// The `messages` of a generate or stream call: a string (one user message), a list of
/// messages, or any JSON the server accepts (e.g. an array of strings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Messages {
    /// One user message.
    Text(String),
    /// A conversation.
    List(Vec<Message>),
    /// Sent as is.
    Raw(Value),
}

impl From<&str> for Messages {
    fn from(s: &str) -> Self {
        Messages::Text(s.to_owned())
    }
}

impl From<String> for Messages {
    fn from(s: String) -> Self {
        Messages::Text(s)
    }
}

impl From<&String> for Messages {
    fn from(s: &String) -> Self {
        Messages::Text(s.clone())
    }
}

impl From<Vec<Message>> for Messages {
    fn from(m: Vec<Message>) -> Self {
        Messages::List(m)
    }
}

impl From<Message> for Messages {
    fn from(m: Message) -> Self {
        Messages::List(vec![m])
    }
}

/// The body of `POST /api/agents/{id}/generate` and `/stream`: `{...options, messages}`.
///
/// Options are passed through untouched, as `@mastra/client-js` does: `memory`,
/// `requestContext`, `maxSteps`, `modelSettings`, `toolChoice`, `instructions`, ... (the
/// server keeps unknown keys). A string, a `Vec<Message>` or a [`Message`] converts into a
/// request with no options.
///
/// ```
/// use mastra_client::{GenerateRequest, Message};
/// use serde_json::json;
///
/// let req = GenerateRequest::new(vec![Message::user("Weather in London")])
///     .memory("thread-1", "user-1")
///     .request_context(json!({"tenant": "acme"}))
///     .max_steps(2)
///     .option("modelSettings", json!({"temperature": 0}));
/// let body = serde_json::to_value(&req).unwrap();
/// assert_eq!(body["messages"][0]["content"], "Weather in London");
/// assert_eq!(body["memory"], json!({"thread": "thread-1", "resource": "user-1"}));
/// assert_eq!(body["maxSteps"], 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateRequest {
    /// The input messages.
    pub messages: Messages,
    /// Everything else in the body (a `messages` key here is ignored).
    pub options: Map<String, Value>,
}

impl GenerateRequest {
    /// A request for `messages` with no options.
    pub fn new(messages: impl Into<Messages>) -> Self {
        Self {
            messages: messages.into(),
            options: Map::new(),
        }
    }

    /// Sets one option (`maxSteps`, `toolChoice`, ...), replacing an earlier value.
    pub fn option(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.options.insert(key.into(), value.into());
        self
    }

    /// Merges an object of options (non-objects are ignored).
    pub fn options(mut self, options: Value) -> Self {
        if let Value::Object(o) = options {
            self.options.extend(o);
        }
        self
    }

    /// `memory: {thread, resource}`.
    pub fn memory(self, thread: impl Into<String>, resource: impl Into<String>) -> Self {
        let memory = serde_json::json!({"thread": thread.into(), "resource": resource.into()});
        self.option("memory", memory)
    }

    /// `requestContext`: an object merged into the server's per-request context.
    pub fn request_context(self, context: Value) -> Self {
        self.option("requestContext", context)
    }

    /// `maxSteps`: the most model calls (tool round trips) for this run.
    pub fn max_steps(self, steps: u32) -> Self {
        self.option("maxSteps", steps)
    }

    /// `instructions`: replaces the agent's system instructions for this call.
    pub fn instructions(self, text: impl Into<String>) -> Self {
        self.option("instructions", text.into())
    }
}

macro_rules! request_from {
    ($($t:ty),*) => {$(
        impl From<$t> for GenerateRequest {
            fn from(m: $t) -> Self {
                GenerateRequest::new(m)
            }
        }
    )*};
}
request_from!(&str, String, &String, Vec<Message>, Message, Messages);

impl Serialize for GenerateRequest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let extra = self
            .options
            .iter()
            .filter(|(k, _)| k.as_str() != "messages");
        let mut map = serializer.serialize_map(None)?;
        for (k, v) in extra {
            map.serialize_entry(k, v)?;
        }
        map.serialize_entry("messages", &self.messages)?;
        map.end()
    }
}

/// Token counts (AI SDK v5 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Prompt tokens.
    #[serde(default)]
    pub input_tokens: Option<u64>,
    /// Completion tokens.
    #[serde(default)]
    pub output_tokens: Option<u64>,
    /// Sum.
    #[serde(default)]
    pub total_tokens: Option<u64>,
}

/// The chunk envelope `{type, runId, from, payload}` of streams, also used for the
/// `toolCalls` and `toolResults` of a generate response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Chunk type: `text-delta`, `tool-call`, `finish`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The run this chunk belongs to.
    #[serde(rename = "runId", default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Producer: `AGENT`, `WORKFLOW`, `NETWORK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Type-specific payload.
    #[serde(default)]
    pub payload: Value,
}

/// The answer of `POST /api/agents/{id}/generate`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateResponse {
    /// The final text.
    #[serde(default)]
    pub text: String,
    /// Why the run stopped: `stop`, `tool-calls`, `length`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// Usage of the last step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Usage summed over all steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_usage: Option<Usage>,
    /// Tool calls, chunk-shaped (`payload: {toolCallId, toolName, args}`).
    #[serde(default)]
    pub tool_calls: Vec<Chunk>,
    /// Tool results, chunk-shaped (`payload: {toolCallId, toolName, args, result}`).
    #[serde(default)]
    pub tool_results: Vec<Chunk>,
    /// One entry per model call.
    #[serde(default)]
    pub steps: Vec<Value>,
    /// The run id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// `{id, timestamp, modelId, messages, ...}`.
    #[serde(default)]
    pub response: Value,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_body_is_options_then_messages() {
        let req = GenerateRequest::new("hello").options(json!({"maxSteps": 2, "messages": "x"}));
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"maxSteps":2,"messages":"hello"}"#
        );
        let req: GenerateRequest = vec![Message::user("a"), Message::assistant("b")].into();
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]})
        );
        let req = GenerateRequest::new(Messages::Raw(json!(["one", "two"])));
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({"messages": ["one", "two"]})
        );
    }

    #[test]
    fn details_parse_and_keep_unknown_fields() {
        let d: AgentDetails = serde_json::from_value(json!({
            "id": "a", "name": "A", "instructions": "be nice", "provider": "openai",
            "modelId": "gpt-4o", "modelVersion": "v2", "workflows": {},
            "tools": {"t": {"id": "get-t", "description": "d",
                "inputSchema": "{\"json\":{\"type\":\"object\"}}", "requireApproval": false}}
        }))
        .unwrap();
        assert_eq!(d.model_id.as_deref(), Some("gpt-4o"));
        assert_eq!(d.extra["workflows"], json!({}));
        assert_eq!(
            d.tools["t"].input_json_schema(),
            Some(json!({"type": "object"}))
        );
        assert_eq!(d.tools["t"].output_json_schema(), None);
    }
}
