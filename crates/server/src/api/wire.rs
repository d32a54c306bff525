//! Mastra 1.x JSON shapes: serialized agents and tools, the generate response and the
//! stream chunks (`{type, runId, from: "AGENT", payload}`), built from mastra-core types.

use mastra_core::{
    Agent, AgentEvent, AgentOutput, ChatMessage, Role, StepResult, Tool, ToolCall, ToolResult,
    Usage, util::iso8601_ms,
};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// `modelVersion` reported for every model (AI SDK v5 / LanguageModelV2 semantics).
pub const MODEL_VERSION: &str = "v2";

/// A schema as Mastra serializes it: the JSON string of `{"json": <schema>}`.
pub fn schema_string(schema: &Value) -> String {
    json!({ "json": schema }).to_string()
}

/// A serialized tool: `{id, description, inputSchema, outputSchema?, requireApproval}`.
pub fn tool_json(tool: &dyn Tool) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(tool.id()));
    m.insert("description".into(), json!(tool.description()));
    m.insert(
        "inputSchema".into(),
        json!(schema_string(&tool.input_schema())),
    );
    if let Some(out) = tool.output_schema() {
        m.insert("outputSchema".into(), json!(schema_string(&out)));
    }
    m.insert("requireApproval".into(), json!(tool.require_approval()));
    Value::Object(m)
}

/// A serialized agent (`GET /agents/{id}`).
pub fn agent_json(agent: &Agent) -> Value {
    let tools: Map<String, Value> = agent
        .tools
        .iter()
        .map(|(k, t)| (k.clone(), tool_json(t.as_ref())))
        .collect();
    json!({
        "name": agent.name,
        "description": agent.description,
        "instructions": agent.instructions,
        "tools": tools,
        "agents": {},
        "workflows": {},
        "skills": [],
        "workspaceTools": [],
        "browserTools": [],
        "hasBrowser": false,
        "inputProcessors": [],
        "outputProcessors": [],
        "provider": agent.model.provider(),
        "modelId": agent.model.model_id(),
        "modelVersion": MODEL_VERSION,
        "supportsMemory": false,
        "defaultOptions": {},
        "defaultGenerateOptionsLegacy": {},
        "defaultStreamOptionsLegacy": {},
        "source": "code",
    })
}

/// A list entry (`GET /agents`): the details plus `id` and `hasDraft`.
pub fn agent_list_entry(agent: &Agent) -> Value {
    let mut v = agent_json(agent);
    if let Value::Object(m) = &mut v {
        m.insert("id".into(), json!(agent.id));
        m.insert("hasDraft".into(), json!(false));
    }
    v
}

/// `{inputTokens, outputTokens, totalTokens, raw}`; `raw` is the provider's last report.
pub fn usage_json(usage: Usage, raw: Usage) -> Value {
    json!({
        "inputTokens": usage.input_tokens,
        "outputTokens": usage.output_tokens,
        "totalTokens": usage.total_tokens,
        "raw": {"inputTokens": raw.input_tokens, "outputTokens": raw.output_tokens, "totalTokens": raw.total_tokens},
    })
}

/// The chunk envelope of streams and of `toolCalls`/`toolResults` in generate responses.
/// Serialized in Mastra's key order: `type`, `runId`, `from`, `payload`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chunk {
    /// Chunk type (`text-delta`, `finish`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Run id.
    #[serde(rename = "runId")]
    pub run_id: String,
    /// Always `AGENT` here.
    pub from: &'static str,
    /// Type-specific payload.
    pub payload: Value,
}

impl Chunk {
    /// A chunk of `kind` for run `run_id`.
    pub fn new(kind: &str, run_id: &str, payload: Value) -> Self {
        Self {
            kind: kind.to_string(),
            run_id: run_id.to_string(),
            from: "AGENT",
            payload,
        }
    }

    /// As a JSON value (for embedding in a generate response).
    pub fn to_value(&self) -> Value {
        json!({"type": self.kind, "runId": self.run_id, "from": self.from, "payload": self.payload})
    }
}

fn chunk(kind: &str, run_id: &str, payload: Value) -> Chunk {
    Chunk::new(kind, run_id, payload)
}

/// A `tool-call` chunk.
pub fn tool_call_chunk(run_id: &str, call: &ToolCall) -> Chunk {
    chunk(
        "tool-call",
        run_id,
        json!({"toolCallId": call.id, "toolName": call.name, "args": call.args}),
    )
}

/// A `tool-result` chunk.
pub fn tool_result_chunk(run_id: &str, r: &ToolResult) -> Chunk {
    chunk(
        "tool-result",
        run_id,
        json!({"args": r.call.args, "toolCallId": r.call.id, "toolName": r.call.name, "result": r.result}),
    )
}

fn tool_output(r: &ToolResult) -> Value {
    let kind = if r.is_error { "error-json" } else { "json" };
    json!({"type": kind, "value": r.result})
}

/// Content parts of a step (text, tool calls, tool results), AI SDK v5 style.
fn step_content(step: &StepResult) -> Vec<Value> {
    let mut content = Vec::new();
    if !step.text.is_empty() {
        content.push(json!({"type": "text", "text": step.text}));
    }
    for c in &step.tool_calls {
        content.push(
            json!({"type": "tool-call", "toolCallId": c.id, "toolName": c.name, "input": c.args}),
        );
    }
    for r in &step.tool_results {
        content.push(
            json!({"type": "tool-result", "input": r.call.args, "output": tool_output(r),
            "toolCallId": r.call.id, "toolName": r.call.name}),
        );
    }
    content
}

/// AI SDK model messages (`response.messages`) produced by `steps`: per step an assistant
/// message (text, tool calls) and a tool message with the results.
pub fn model_messages(steps: &[StepResult]) -> Vec<Value> {
    let mut out = Vec::new();
    for s in steps {
        let mut content = Vec::new();
        if !s.text.is_empty() {
            content.push(json!({"type": "text", "text": s.text}));
        }
        for c in &s.tool_calls {
            content.push(json!({"type": "tool-call", "toolCallId": c.id, "toolName": c.name, "input": c.args}));
        }
        if !content.is_empty() {
            out.push(json!({"role": "assistant", "content": content}));
        }
        if !s.tool_results.is_empty() {
            let results: Vec<Value> = s
                .tool_results
                .iter()
                .map(|r| {
                    json!({"type": "tool-result", "toolCallId": r.call.id, "toolName": r.call.name,
                        "output": tool_output(r), "input": r.call.args})
                })
                .collect();
            out.push(json!({"role": "tool", "content": results}));
        }
    }
    out
}

/// Input messages as AI SDK model messages.
pub fn input_model_messages(messages: &[ChatMessage]) -> Vec<Value> {
    messages
        .iter()
        .map(|m| match m.role {
            Role::Tool => json!({"role": "tool", "content": [{"type": "tool-result",
                "toolCallId": m.tool_call_id, "toolName": m.tool_name,
                "output": {"type": "json", "value": serde_json::from_str::<Value>(&m.content).unwrap_or(Value::Null)}}]}),
            role => {
                let mut content = Vec::new();
                if !m.content.is_empty() {
                    content.push(json!({"type": "text", "text": m.content}));
                }
                for c in &m.tool_calls {
                    content.push(json!({"type": "tool-call", "toolCallId": c.id, "toolName": c.name, "input": c.args}));
                }
                json!({"role": role.as_str(), "content": content})
            }
        })
        .collect()
}

fn model_metadata(out_model: &str, provider: &str) -> Value {
    json!({"modelId": out_model, "modelVersion": MODEL_VERSION, "modelProvider": provider})
}

fn response_meta(step: &StepResult) -> (String, String, String) {
    (
        step.response.id.clone().unwrap_or_default(),
        iso8601_ms(step.response.timestamp_ms.unwrap_or(0)),
        step.response.model_id.clone().unwrap_or_default(),
    )
}

/// Mastra's stored (db) assistant message for the whole run.
fn db_assistant_message(out: &AgentOutput, created_ms: u64) -> Value {
    let mut parts = Vec::new();
    for (i, s) in out.steps.iter().enumerate() {
        if i > 0 {
            parts.push(json!({"type": "step-start", "createdAt": s.started_at_ms,
                "model": format!("{}/{}", out.provider, out.model_id)}));
        }
        if !s.text.is_empty() {
            parts.push(json!({"type": "text", "text": s.text, "createdAt": s.started_at_ms}));
        }
        for c in &s.tool_calls {
            let result = s.tool_results.iter().find(|r| r.call.id == c.id);
            let inv = match result {
                Some(r) => {
                    json!({"state": "result", "toolCallId": c.id, "toolName": c.name, "args": c.args, "result": r.result})
                }
                None => {
                    json!({"state": "call", "toolCallId": c.id, "toolName": c.name, "args": c.args})
                }
            };
            parts.push(json!({"type": "tool-invocation", "toolInvocation": inv, "createdAt": s.started_at_ms}));
        }
    }
    json!({
        "id": out.message_id,
        "role": "assistant",
        "content": {"format": 2, "parts": parts, "content": out.text,
            "metadata": {"modelId": out.model_id, "provider": out.provider}},
        "createdAt": iso8601_ms(created_ms),
    })
}

/// AI SDK v5 UI message for the run.
fn ui_assistant_message(out: &AgentOutput, created_ms: u64) -> Value {
    let mut parts = Vec::new();
    for (i, s) in out.steps.iter().enumerate() {
        if i > 0 {
            parts.push(json!({"type": "step-start"}));
        }
        for c in &s.tool_calls {
            let mut p = json!({"type": format!("tool-{}", c.name), "toolCallId": c.id, "input": c.args,
                "state": "input-available"});
            if let Some(r) = s.tool_results.iter().find(|r| r.call.id == c.id) {
                p["output"] = r.result.clone();
                p["state"] = json!(if r.is_error {
                    "output-error"
                } else {
                    "output-available"
                });
            }
            parts.push(p);
        }
        if !s.text.is_empty() {
            parts.push(json!({"type": "text", "text": s.text}));
        }
    }
    json!({
        "id": out.message_id,
        "role": "assistant",
        "metadata": {"modelId": out.model_id, "provider": out.provider, "createdAt": iso8601_ms(created_ms)},
        "parts": parts,
    })
}

fn db_input_message(m: &ChatMessage, created_ms: u64) -> Value {
    json!({
        "id": mastra_core::util::new_id(),
        "role": m.role.as_str(),
        "createdAt": iso8601_ms(created_ms),
        "content": {"format": 2, "parts": [{"type": "text", "text": m.content, "createdAt": created_ms}], "content": m.content},
    })
}

fn step_json(out: &AgentOutput, index: usize, step: &StepResult) -> Value {
    let (id, ts, model_id) = response_meta(step);
    json!({
        "stepType": step.step_type.as_str(),
        "sources": [],
        "files": [],
        "toolCalls": step.tool_calls.iter().map(|c| tool_call_chunk(&out.run_id, c).to_value()).collect::<Vec<_>>(),
        "toolResults": step.tool_results.iter().map(|r| tool_result_chunk(&out.run_id, r).to_value()).collect::<Vec<_>>(),
        "content": step_content(step),
        "text": step.text,
        "reasoningText": "",
        "reasoning": [],
        "staticToolCalls": [],
        "dynamicToolCalls": [],
        "staticToolResults": [],
        "dynamicToolResults": [],
        "finishReason": step.finish_reason.as_str(),
        "usage": usage_json(step.usage, step.usage),
        "warnings": [],
        "request": {},
        "response": {
            "id": id, "timestamp": ts, "modelId": model_id,
            "modelMetadata": model_metadata(&out.model_id, &out.provider),
            "messages": model_messages(&out.steps[..=index]),
        },
    })
}

/// The 200 body of `POST /agents/{id}/generate`.
pub fn generate_json(out: &AgentOutput) -> Value {
    let last = out.steps.last();
    let raw = last.map(|s| s.usage).unwrap_or_default();
    let (id, ts, model_id) = last.map(response_meta).unwrap_or_default();
    let created = last.map(|s| s.started_at_ms).unwrap_or(0);
    let db = db_assistant_message(out, created);
    let ui = ui_assistant_message(out, created);
    let mut messages: Vec<Value> = out
        .input_messages
        .iter()
        .filter(|m| m.role == Role::User || m.role == Role::System)
        .map(|m| db_input_message(m, created))
        .collect();
    messages.push(db.clone());
    json!({
        "text": out.text,
        "usage": usage_json(out.usage, raw),
        "steps": out.steps.iter().enumerate().map(|(i, s)| step_json(out, i, s)).collect::<Vec<_>>(),
        "finishReason": out.finish_reason.as_str(),
        "warnings": [],
        "request": {},
        "reasoning": [],
        "toolCalls": out.tool_calls().into_iter().map(|c| tool_call_chunk(&out.run_id, c).to_value()).collect::<Vec<_>>(),
        "toolResults": out.tool_results().into_iter().map(|r| tool_result_chunk(&out.run_id, r).to_value()).collect::<Vec<_>>(),
        "sources": [],
        "files": [],
        "response": {
            "id": id, "timestamp": ts, "modelId": model_id,
            "modelMetadata": model_metadata(&out.model_id, &out.provider),
            "messages": model_messages(&out.steps),
            "uiMessages": [ui],
            "dbMessages": [db],
        },
        "totalUsage": usage_json(out.usage, raw),
        "usedFallbackValue": false,
        "runId": out.run_id,
        "messages": messages,
        "rememberedMessages": [],
    })
}

/// Turns [`AgentEvent`]s into stream chunks, keeping what later chunks repeat.
pub struct StreamEncoder {
    agent_id: String,
    provider: String,
    model_id: String,
    run_id: String,
    message_id: String,
    input: Vec<Value>,
    steps: Vec<StepResult>,
}

impl StreamEncoder {
    /// An encoder for a run of `agent` on `input` messages.
    pub fn new(agent: &Agent, input: &[ChatMessage]) -> Self {
        Self {
            agent_id: agent.id.clone(),
            provider: agent.model.provider().to_string(),
            model_id: agent.model.model_id().to_string(),
            run_id: String::new(),
            message_id: String::new(),
            input: input_model_messages(input),
            steps: Vec::new(),
        }
    }

    fn chunk(&self, kind: &str, payload: Value) -> Chunk {
        chunk(kind, &self.run_id, payload)
    }

    fn stream_step(&self, index: usize, s: &StepResult) -> Value {
        let (id, ts, model_id) = response_meta(s);
        json!({
            "content": step_content(s),
            "usage": usage_json(s.usage, s.usage),
            "warnings": [],
            "response": {"id": id, "timestamp": ts, "modelId": model_id,
                "messages": model_messages(&self.steps[..=index])},
        })
    }

    /// step-finish / finish payload for the latest step.
    fn finish_payload(&self, s: &StepResult, text: &str, usage: Value) -> Value {
        let (id, ts, model_id) = response_meta(s);
        let non_user = model_messages(&self.steps);
        let mut all = self.input.clone();
        all.extend(non_user.iter().cloned());
        json!({
            "messageId": self.message_id,
            "stepResult": {"reason": s.finish_reason.as_str(), "isContinued": s.is_continued},
            "metadata": {"id": id, "timestamp": ts, "modelId": model_id,
                "modelMetadata": model_metadata(&self.model_id, &self.provider)},
            "output": {
                "text": text,
                "toolCalls": s.tool_calls.iter().map(|c| json!({"toolCallId": c.id, "toolName": c.name, "args": c.args})).collect::<Vec<_>>(),
                "usage": usage,
                "steps": self.steps.iter().enumerate().map(|(i, st)| self.stream_step(i, st)).collect::<Vec<_>>(),
            },
            "messages": {"all": all, "user": self.input, "nonUser": non_user},
            "processorRetryCount": 0,
        })
    }

    /// The chunks for one event (usually one).
    pub fn encode(&mut self, ev: AgentEvent) -> Vec<Chunk> {
        match ev {
            AgentEvent::Start { run_id, message_id } => {
                self.run_id = run_id;
                self.message_id = message_id;
                vec![self.chunk("start", json!({"id": self.agent_id, "messageId": self.message_id}))]
            }
            AgentEvent::StepStart { started_at_ms, .. } => vec![self.chunk(
                "step-start",
                json!({"warnings": [], "messageId": self.message_id, "startedAt": started_at_ms, "request": {}}),
            )],
            AgentEvent::TextStart { id } => vec![self.chunk("text-start", json!({"id": id}))],
            AgentEvent::TextDelta { id, text } => vec![self.chunk("text-delta", json!({"id": id, "text": text}))],
            AgentEvent::TextEnd { id } => vec![self.chunk("text-end", json!({"type": "text-end", "id": id}))],
            AgentEvent::ToolInputStart {
                tool_call_id,
                tool_name,
            } => vec![self.chunk(
                "tool-call-input-streaming-start",
                json!({"toolCallId": tool_call_id, "toolName": tool_name}),
            )],
            AgentEvent::ToolInputDelta {
                tool_call_id,
                tool_name,
                delta,
            } => vec![self.chunk(
                "tool-call-delta",
                json!({"argsTextDelta": delta, "toolCallId": tool_call_id, "toolName": tool_name}),
            )],
            AgentEvent::ToolInputEnd { tool_call_id } => {
                vec![self.chunk("tool-call-input-streaming-end", json!({"toolCallId": tool_call_id}))]
            }
            AgentEvent::ToolCall(call) => vec![tool_call_chunk(&self.run_id, &call)],
            AgentEvent::ToolResult(r) => vec![tool_result_chunk(&self.run_id, &r)],
            AgentEvent::StepFinish(step) => {
                self.steps.push(*step);
                let Some(s) = self.steps.last() else {
                    return Vec::new();
                };
                let payload = self.finish_payload(s, &s.text, usage_json(s.usage, s.usage));
                vec![self.chunk("step-finish", payload)]
            }
            AgentEvent::Finish(out) => {
                let Some(s) = self.steps.last() else {
                    return Vec::new();
                };
                let usage = usage_json(out.usage, s.usage);
                let mut payload = self.finish_payload(s, &out.text, usage.clone());
                let (id, ts, model_id) = response_meta(s);
                let created = s.started_at_ms;
                payload["usage"] = usage;
                payload["response"] = json!({
                    "id": id, "timestamp": ts, "modelId": model_id,
                    "modelMetadata": model_metadata(&self.model_id, &self.provider),
                    "messages": model_messages(&self.steps),
                    "uiMessages": [ui_assistant_message(&out, created)],
                });
                vec![self.chunk("finish", payload)]
            }
        }
    }

    /// An `error` chunk (the client throws on it).
    pub fn error(&self, message: &str) -> Chunk {
        self.chunk(
            "error",
            json!({"error": {"name": "Error", "message": message}}),
        )
    }
}

/// One SSE frame: `data: <compact JSON>\n\n`.
pub fn sse_frame(chunk: &Chunk) -> String {
    let json = serde_json::to_string(chunk).unwrap_or_else(|_| chunk.to_value().to_string());
    format!("data: {json}\n\n")
}

/// The stream terminator frame.
pub const SSE_DONE: &str = "data: [DONE]\n\n";
