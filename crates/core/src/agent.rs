//! Agents: instructions + a model + tools, and the tool loop (model asks for a tool ->
//! run it -> feed the result back -> continue) for both one-shot and streamed runs.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use futures::SinkExt;
use futures::future::join_all;
use futures::stream::{BoxStream, StreamExt};
use serde_json::Value;
use thiserror::Error;

use crate::model::{
    ChatMessage, FinishReason, LanguageModel, ModelError, ModelEvent, ModelRequest, ModelSettings,
    ResponseMetadata, Role, ToolCall, ToolChoice, ToolDefinition, Usage,
};
use crate::tool::Tool;
use crate::util::{Emitter, channel_stream, new_id, now_ms};

/// Steps an agent run may take when the request does not say (`maxSteps`).
pub const DEFAULT_MAX_STEPS: usize = 5;
/// Upper bound on `maxSteps`.
pub const MAX_MAX_STEPS: usize = 100;

/// Errors of an agent run.
#[derive(Debug, Clone, Error, PartialEq)]
#[non_exhaustive]
pub enum AgentError {
    /// The model failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The request was unusable.
    #[error("invalid agent request: {0}")]
    InvalidRequest(String),
}

/// A tool defined by the caller (Mastra `clientTools`): offered to the model, but when
/// the model calls it the run stops with finish reason `tool-calls` so the caller runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientTool {
    /// Tool id (informational).
    pub id: Option<String>,
    /// Description shown to the model.
    pub description: String,
    /// JSON Schema of the input.
    pub input_schema: Value,
}

/// One agent run's input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentRequest {
    /// The conversation (the new user turn last).
    pub messages: Vec<ChatMessage>,
    /// Extra messages placed before `messages` (Mastra `context`).
    pub context: Vec<ChatMessage>,
    /// Replaces the agent's instructions for this run.
    pub instructions: Option<String>,
    /// Additional system text appended after the instructions.
    pub system: Vec<String>,
    /// Step limit (default [`DEFAULT_MAX_STEPS`], capped at [`MAX_MAX_STEPS`]).
    pub max_steps: Option<usize>,
    /// Run id to use (a UUID is generated otherwise).
    pub run_id: Option<String>,
    /// Only these agent tool keys are offered, when set.
    pub active_tools: Option<Vec<String>>,
    /// Tool-choice constraint.
    pub tool_choice: Option<ToolChoice>,
    /// Caller-executed tools by name.
    pub client_tools: BTreeMap<String, ClientTool>,
    /// Sampling settings.
    pub settings: ModelSettings,
}

impl AgentRequest {
    /// A request with a single user message.
    pub fn from_text(text: impl Into<String>) -> Self {
        Self {
            messages: vec![ChatMessage::user(text)],
            ..Self::default()
        }
    }
}

/// A tool call and what it returned.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    /// The call.
    pub call: ToolCall,
    /// The result (for a failed tool: `{"error": true, "message": ...}` as Mastra feeds back).
    pub result: Value,
    /// Whether the tool failed (validation or execution).
    pub is_error: bool,
}

/// Kind of step, as Mastra/AI SDK report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepType {
    /// The first step.
    Initial,
    /// A step that follows tool results.
    ToolResult,
}

impl StepType {
    /// Wire name (`"initial"`, `"tool-result"`).
    pub fn as_str(self) -> &'static str {
        match self {
            StepType::Initial => "initial",
            StepType::ToolResult => "tool-result",
        }
    }
}

/// One model call within a run, plus the tools it triggered.
#[derive(Debug, Clone, PartialEq)]
pub struct StepResult {
    /// Step kind.
    pub step_type: StepType,
    /// Text generated in this step.
    pub text: String,
    /// Tool calls requested in this step.
    pub tool_calls: Vec<ToolCall>,
    /// Results of the server-side tools run in this step.
    pub tool_results: Vec<ToolResult>,
    /// Why the model stopped.
    pub finish_reason: FinishReason,
    /// Usage of this step.
    pub usage: Usage,
    /// Provider metadata (id/model/timestamp filled in when the provider omitted them).
    pub response: ResponseMetadata,
    /// When the step started (ms since the epoch).
    pub started_at_ms: u64,
    /// Whether another step follows.
    pub is_continued: bool,
}

/// The result of a complete run.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentOutput {
    /// Run id.
    pub run_id: String,
    /// Id of the assistant message this run produced.
    pub message_id: String,
    /// All text generated, across steps.
    pub text: String,
    /// The steps, in order.
    pub steps: Vec<StepResult>,
    /// Finish reason of the last step.
    pub finish_reason: FinishReason,
    /// Usage summed over the steps.
    pub usage: Usage,
    /// The messages the run started from (context + input).
    pub input_messages: Vec<ChatMessage>,
    /// Model id that answered.
    pub model_id: String,
    /// Provider of the model.
    pub provider: String,
}

impl AgentOutput {
    /// All tool calls over all steps.
    pub fn tool_calls(&self) -> Vec<&ToolCall> {
        self.steps
            .iter()
            .flat_map(|s| s.tool_calls.iter())
            .collect()
    }

    /// All tool results over all steps.
    pub fn tool_results(&self) -> Vec<&ToolResult> {
        self.steps
            .iter()
            .flat_map(|s| s.tool_results.iter())
            .collect()
    }

    /// The messages this run added to the conversation (assistant turns, tool results).
    pub fn response_messages(&self) -> Vec<ChatMessage> {
        response_messages(&self.steps)
    }
}

/// The messages produced by `steps`: per step an assistant message (text and tool calls)
/// followed by one tool message per executed tool.
pub fn response_messages(steps: &[StepResult]) -> Vec<ChatMessage> {
    let mut out = Vec::new();
    for s in steps {
        if !s.text.is_empty() || !s.tool_calls.is_empty() {
            out.push(ChatMessage::assistant_with_tool_calls(
                s.text.clone(),
                s.tool_calls.clone(),
            ));
        }
        for r in &s.tool_results {
            out.push(ChatMessage::tool_result(
                r.call.id.clone(),
                r.call.name.clone(),
                &r.result,
            ));
        }
    }
    out
}

/// One event of a streamed run (the server turns these into Mastra chunks).
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    /// The run started.
    Start {
        /// Run id.
        run_id: String,
        /// Assistant message id.
        message_id: String,
    },
    /// A step (model call) started.
    StepStart {
        /// 0-based step index.
        index: usize,
        /// Start time, ms since the epoch.
        started_at_ms: u64,
    },
    /// A text part opened.
    TextStart {
        /// Text part id.
        id: String,
    },
    /// A piece of text.
    TextDelta {
        /// Text part id.
        id: String,
        /// The text.
        text: String,
    },
    /// The text part closed.
    TextEnd {
        /// Text part id.
        id: String,
    },
    /// A tool call started streaming its arguments.
    ToolInputStart {
        /// Call id.
        tool_call_id: String,
        /// Tool name.
        tool_name: String,
    },
    /// Argument text of a streaming tool call.
    ToolInputDelta {
        /// Call id.
        tool_call_id: String,
        /// Tool name.
        tool_name: String,
        /// Fragment.
        delta: String,
    },
    /// The arguments are complete.
    ToolInputEnd {
        /// Call id.
        tool_call_id: String,
    },
    /// The model called a tool.
    ToolCall(ToolCall),
    /// A server-side tool finished.
    ToolResult(ToolResult),
    /// A step finished.
    StepFinish(Box<StepResult>),
    /// The run finished.
    Finish(Box<AgentOutput>),
}

/// An agent: identity, instructions, a model and tools keyed by tool key.
#[derive(Clone)]
pub struct Agent {
    /// Agent id (URL segment).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// System instructions.
    pub instructions: String,
    /// The model.
    pub model: Arc<dyn LanguageModel>,
    /// Tools by key (the name the model calls).
    pub tools: BTreeMap<String, Arc<dyn Tool>>,
}

impl fmt::Debug for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("id", &self.id)
            .field("name", &self.name)
            .field(
                "model",
                &format_args!("{}/{}", self.model.provider(), self.model.model_id()),
            )
            .field("tools", &self.tools.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Everything a run needs, owned, so streamed runs can outlive the borrow of the agent.
struct Run {
    model: Arc<dyn LanguageModel>,
    tools: BTreeMap<String, Arc<dyn Tool>>,
    client_tools: BTreeMap<String, ClientTool>,
    system: Option<String>,
    definitions: Vec<ToolDefinition>,
    tool_choice: Option<ToolChoice>,
    settings: ModelSettings,
    max_steps: usize,
    run_id: String,
    message_id: String,
    input: Vec<ChatMessage>,
}

/// Drops assistant tool calls that never got a result (providers reject them) and
/// assistant messages left empty by that.
fn sanitize_history(messages: Vec<ChatMessage>) -> Vec<ChatMessage> {
    let answered: HashSet<String> = messages
        .iter()
        .filter(|m| m.role == Role::Tool)
        .filter_map(|m| m.tool_call_id.clone())
        .collect();
    messages
        .into_iter()
        .filter_map(|mut m| {
            if m.role == Role::Assistant && !m.tool_calls.is_empty() {
                m.tool_calls.retain(|c| answered.contains(&c.id));
                if m.tool_calls.is_empty() && m.content.is_empty() {
                    return None;
                }
            }
            Some(m)
        })
        .collect()
}

impl Agent {
    /// An agent with no description, instructions or tools.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        model: Arc<dyn LanguageModel>,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            description: String::new(),
            instructions: String::new(),
            model,
            tools: BTreeMap::new(),
        }
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Sets the instructions.
    pub fn with_instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = instructions.into();
        self
    }

    /// Adds a tool under `key`.
    pub fn with_tool(mut self, key: impl Into<String>, tool: Arc<dyn Tool>) -> Self {
        self.tools.insert(key.into(), tool);
        self
    }

    fn prepare(&self, req: AgentRequest) -> Run {
        let instructions = req
            .instructions
            .unwrap_or_else(|| self.instructions.clone());
        let system: Vec<String> = std::iter::once(instructions)
            .chain(req.system)
            .filter(|s| !s.trim().is_empty())
            .collect();
        let tools: BTreeMap<String, Arc<dyn Tool>> = self
            .tools
            .iter()
            .filter(|(k, _)| req.active_tools.as_ref().is_none_or(|a| a.contains(k)))
            .map(|(k, t)| (k.clone(), t.clone()))
            .collect();
        let client_tools: BTreeMap<String, ClientTool> = req
            .client_tools
            .into_iter()
            .filter(|(k, _)| !tools.contains_key(k))
            .collect();
        let mut definitions: Vec<ToolDefinition> = tools
            .iter()
            .map(|(k, t)| ToolDefinition {
                name: k.clone(),
                description: t.description().to_string(),
                parameters: t.input_schema(),
            })
            .collect();
        definitions.extend(client_tools.iter().map(|(k, t)| ToolDefinition {
            name: k.clone(),
            description: t.description.clone(),
            parameters: t.input_schema.clone(),
        }));
        let mut input = req.context;
        input.extend(req.messages);
        Run {
            model: self.model.clone(),
            tools,
            client_tools,
            system: (!system.is_empty()).then(|| system.join("\n\n")),
            definitions,
            tool_choice: req.tool_choice,
            settings: req.settings,
            max_steps: req
                .max_steps
                .unwrap_or(DEFAULT_MAX_STEPS)
                .clamp(1, MAX_MAX_STEPS),
            run_id: req.run_id.filter(|r| !r.is_empty()).unwrap_or_else(new_id),
            message_id: new_id(),
            input: sanitize_history(input),
        }
    }

    /// Runs the agent to completion (non-streaming model calls).
    pub async fn generate(&self, request: AgentRequest) -> Result<AgentOutput, AgentError> {
        let run = self.prepare(request);
        let mut history = run.input.clone();
        let mut steps: Vec<StepResult> = Vec::new();
        for index in 0..run.max_steps {
            let started_at_ms = now_ms();
            let resp = run.model.generate(run.model_request(&history)).await?;
            let tool_results = run.execute_tools(&resp.tool_calls).await;
            let mut step = StepResult {
                step_type: step_type(index),
                text: resp.text,
                tool_calls: resp.tool_calls,
                tool_results,
                finish_reason: resp.finish_reason,
                usage: resp.usage,
                response: run.fill_metadata(resp.metadata),
                started_at_ms,
                is_continued: false,
            };
            step.is_continued = run.should_continue(&step, index);
            let cont = step.is_continued;
            history.extend(response_messages(std::slice::from_ref(&step)));
            steps.push(step);
            if !cont {
                break;
            }
        }
        Ok(run.output(steps))
    }

    /// Runs the agent with streaming model calls. Yields [`AgentEvent`]s, ending with
    /// [`AgentEvent::Finish`]; on failure yields one `Err` and ends.
    pub fn stream(
        &self,
        request: AgentRequest,
    ) -> BoxStream<'static, Result<AgentEvent, AgentError>> {
        let run = self.prepare(request);
        channel_stream(move |mut tx| async move {
            if let Err(e) = run.stream_into(&mut tx).await {
                let _ = tx.send(Err(e)).await;
            }
        })
    }
}

fn step_type(index: usize) -> StepType {
    if index == 0 {
        StepType::Initial
    } else {
        StepType::ToolResult
    }
}

/// Receiver dropped: stop quietly.
struct Closed;

async fn emit(
    tx: &mut Emitter<Result<AgentEvent, AgentError>>,
    ev: AgentEvent,
) -> Result<(), Closed> {
    tx.send(Ok(ev)).await.map_err(|_| Closed)
}

impl Run {
    fn model_request(&self, history: &[ChatMessage]) -> ModelRequest {
        ModelRequest {
            system: self.system.clone(),
            messages: history.to_vec(),
            tools: self.definitions.clone(),
            tool_choice: self.tool_choice.clone(),
            settings: self.settings.clone(),
        }
    }

    fn fill_metadata(&self, m: ResponseMetadata) -> ResponseMetadata {
        ResponseMetadata {
            id: Some(m.id.unwrap_or_else(new_id)),
            model_id: Some(
                m.model_id
                    .unwrap_or_else(|| self.model.model_id().to_string()),
            ),
            timestamp_ms: Some(m.timestamp_ms.unwrap_or_else(now_ms)),
        }
    }

    /// Continue when the model asked only for server-side tools and steps remain.
    fn should_continue(&self, step: &StepResult, index: usize) -> bool {
        !step.tool_calls.is_empty()
            && step
                .tool_calls
                .iter()
                .all(|c| !self.client_tools.contains_key(&c.name))
            && index + 1 < self.max_steps
    }

    async fn execute_one(&self, call: &ToolCall) -> ToolResult {
        let (result, is_error) = match self.tools.get(&call.name) {
            Some(tool) => match tool.execute(call.args.clone()).await {
                Ok(v) => (v, false),
                Err(e) => (e.to_json(), true),
            },
            None => (
                serde_json::json!({"error": true, "message": format!("Tool {} not found", call.name)}),
                true,
            ),
        };
        ToolResult {
            call: call.clone(),
            result,
            is_error,
        }
    }

    /// Runs the server-side tools among `calls` concurrently; results in call order.
    async fn execute_tools(&self, calls: &[ToolCall]) -> Vec<ToolResult> {
        let server: Vec<&ToolCall> = calls
            .iter()
            .filter(|c| !self.client_tools.contains_key(&c.name))
            .collect();
        join_all(server.into_iter().map(|c| self.execute_one(c))).await
    }

    fn output(&self, steps: Vec<StepResult>) -> AgentOutput {
        let usage = steps.iter().fold(Usage::default(), |acc, s| acc + s.usage);
        AgentOutput {
            run_id: self.run_id.clone(),
            message_id: self.message_id.clone(),
            text: steps.iter().map(|s| s.text.as_str()).collect(),
            finish_reason: steps
                .last()
                .map(|s| s.finish_reason)
                .unwrap_or(FinishReason::Unknown),
            usage,
            steps,
            input_messages: self.input.clone(),
            model_id: self.model.model_id().to_string(),
            provider: self.model.provider().to_string(),
        }
    }

    async fn stream_into(
        &self,
        tx: &mut Emitter<Result<AgentEvent, AgentError>>,
    ) -> Result<(), AgentError> {
        match self.stream_steps(tx).await {
            Ok(()) | Err(StreamFailure::Closed) => Ok(()),
            Err(StreamFailure::Agent(e)) => Err(e),
        }
    }

    async fn stream_steps(
        &self,
        tx: &mut Emitter<Result<AgentEvent, AgentError>>,
    ) -> Result<(), StreamFailure> {
        emit(
            tx,
            AgentEvent::Start {
                run_id: self.run_id.clone(),
                message_id: self.message_id.clone(),
            },
        )
        .await?;
        let mut history = self.input.clone();
        let mut steps: Vec<StepResult> = Vec::new();
        for index in 0..self.max_steps {
            let started_at_ms = now_ms();
            emit(
                tx,
                AgentEvent::StepStart {
                    index,
                    started_at_ms,
                },
            )
            .await?;
            let mut events = self.model.stream(self.model_request(&history));
            let text_id = "t0".to_string();
            let mut text = String::new();
            let mut text_open = false;
            let mut started: HashMap<String, String> = HashMap::new();
            let mut calls: Vec<ToolCall> = Vec::new();
            let mut metadata = ResponseMetadata::default();
            let mut finish: Option<(FinishReason, Usage)> = None;
            while let Some(ev) = events.next().await {
                match ev.map_err(AgentError::from)? {
                    ModelEvent::Metadata(m) => {
                        metadata = ResponseMetadata {
                            id: m.id.or(metadata.id),
                            model_id: m.model_id.or(metadata.model_id),
                            timestamp_ms: m.timestamp_ms.or(metadata.timestamp_ms),
                        }
                    }
                    ModelEvent::TextDelta(d) => {
                        if d.is_empty() {
                            continue;
                        }
                        if !text_open {
                            text_open = true;
                            emit(
                                tx,
                                AgentEvent::TextStart {
                                    id: text_id.clone(),
                                },
                            )
                            .await?;
                        }
                        text.push_str(&d);
                        emit(
                            tx,
                            AgentEvent::TextDelta {
                                id: text_id.clone(),
                                text: d,
                            },
                        )
                        .await?;
                    }
                    ModelEvent::ToolInputStart { id, name } => {
                        started.insert(id.clone(), name.clone());
                        emit(
                            tx,
                            AgentEvent::ToolInputStart {
                                tool_call_id: id,
                                tool_name: name,
                            },
                        )
                        .await?;
                    }
                    ModelEvent::ToolInputDelta { id, delta } => {
                        let tool_name = started.get(&id).cloned().unwrap_or_default();
                        emit(
                            tx,
                            AgentEvent::ToolInputDelta {
                                tool_call_id: id,
                                tool_name,
                                delta,
                            },
                        )
                        .await?;
                    }
                    ModelEvent::ToolCall(call) => {
                        if started.remove(&call.id).is_some() {
                            emit(
                                tx,
                                AgentEvent::ToolInputEnd {
                                    tool_call_id: call.id.clone(),
                                },
                            )
                            .await?;
                        }
                        calls.push(call.clone());
                        emit(tx, AgentEvent::ToolCall(call)).await?;
                    }
                    ModelEvent::Finish {
                        finish_reason,
                        usage,
                    } => finish = Some((finish_reason, usage)),
                }
            }
            drop(events);
            if text_open {
                emit(tx, AgentEvent::TextEnd { id: text_id }).await?;
            }
            let (finish_reason, usage) = finish.unwrap_or_else(|| {
                let r = if calls.is_empty() {
                    FinishReason::Stop
                } else {
                    FinishReason::ToolCalls
                };
                (r, Usage::default())
            });
            let tool_results = self.execute_tools(&calls).await;
            for r in &tool_results {
                emit(tx, AgentEvent::ToolResult(r.clone())).await?;
            }
            let mut step = StepResult {
                step_type: step_type(index),
                text,
                tool_calls: calls,
                tool_results,
                finish_reason,
                usage,
                response: self.fill_metadata(metadata),
                started_at_ms,
                is_continued: false,
            };
            step.is_continued = self.should_continue(&step, index);
            let cont = step.is_continued;
            history.extend(response_messages(std::slice::from_ref(&step)));
            emit(tx, AgentEvent::StepFinish(Box::new(step.clone()))).await?;
            steps.push(step);
            if !cont {
                break;
            }
        }
        emit(tx, AgentEvent::Finish(Box::new(self.output(steps)))).await?;
        Ok(())
    }
}

enum StreamFailure {
    Closed,
    Agent(AgentError),
}

impl From<Closed> for StreamFailure {
    fn from(_: Closed) -> Self {
        StreamFailure::Closed
    }
}

impl From<AgentError> for StreamFailure {
    fn from(e: AgentError) -> Self {
        StreamFailure::Agent(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::echo::EchoModel;
    use crate::tool::{WEATHER_TOOL_KEY, WeatherTool};
    use serde_json::json;

    fn agent() -> Agent {
        Agent::new("a", "A", Arc::new(EchoModel::new()))
            .with_instructions("be nice")
            .with_tool(WEATHER_TOOL_KEY, Arc::new(WeatherTool))
    }

    #[tokio::test]
    async fn generate_plain() {
        let out = agent()
            .generate(AgentRequest::from_text("hello"))
            .await
            .unwrap();
        assert_eq!(out.text, "Echo: hello");
        assert_eq!(out.steps.len(), 1);
        assert_eq!(out.finish_reason, FinishReason::Stop);
        // input: "be nice" (2) + "hello" (1); output: 2 words
        assert_eq!(out.usage, Usage::new(3, 2));
    }

    #[tokio::test]
    async fn generate_tool_loop() {
        let out = agent()
            .generate(AgentRequest::from_text("weather Rome"))
            .await
            .unwrap();
        assert_eq!(out.steps.len(), 2);
        assert_eq!(out.finish_reason, FinishReason::Stop);
        assert_eq!(out.steps[0].finish_reason, FinishReason::ToolCalls);
        assert!(out.steps[0].is_continued);
        let r = &out.tool_results()[0];
        assert_eq!(
            r.result,
            json!({"location": "Rome", "temperatureC": 21, "conditions": "Sunny"})
        );
        assert!(out.text.starts_with("Weather: {"), "{}", out.text);
        assert_eq!(out.response_messages().len(), 3);
    }

    #[tokio::test]
    async fn max_steps_one_stops_after_tool() {
        let req = AgentRequest {
            max_steps: Some(1),
            ..AgentRequest::from_text("weather Rome")
        };
        let out = agent().generate(req).await.unwrap();
        assert_eq!(out.steps.len(), 1);
        assert_eq!(out.finish_reason, FinishReason::ToolCalls);
        assert_eq!(out.tool_results().len(), 1);
    }

    #[tokio::test]
    async fn client_tool_stops_the_loop() {
        let mut req = AgentRequest::from_text("weather Rome");
        req.client_tools.insert(
            "weatherTool".into(),
            ClientTool {
                id: None,
                description: "client".into(),
                input_schema: json!({}),
            },
        );
        // An agent without the server tool: the client tool of the same name is offered.
        let a = Agent::new("a", "A", Arc::new(EchoModel::new()));
        let out = a.generate(req).await.unwrap();
        assert_eq!(out.finish_reason, FinishReason::ToolCalls);
        assert_eq!(out.tool_calls().len(), 1);
        assert!(out.tool_results().is_empty());
    }

    #[tokio::test]
    async fn stream_sequence_and_text() {
        let events: Vec<AgentEvent> = agent()
            .stream(AgentRequest::from_text("weather Oslo"))
            .map(|e| e.unwrap())
            .collect()
            .await;
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| match e {
                AgentEvent::Start { .. } => "start",
                AgentEvent::StepStart { .. } => "step-start",
                AgentEvent::TextStart { .. } => "text-start",
                AgentEvent::TextDelta { .. } => "text-delta",
                AgentEvent::TextEnd { .. } => "text-end",
                AgentEvent::ToolInputStart { .. } => "input-start",
                AgentEvent::ToolInputDelta { .. } => "input-delta",
                AgentEvent::ToolInputEnd { .. } => "input-end",
                AgentEvent::ToolCall(_) => "tool-call",
                AgentEvent::ToolResult(_) => "tool-result",
                AgentEvent::StepFinish(_) => "step-finish",
                AgentEvent::Finish(_) => "finish",
            })
            .collect();
        assert_eq!(
            kinds[..9],
            [
                "start",
                "step-start",
                "input-start",
                "input-delta",
                "input-end",
                "tool-call",
                "tool-result",
                "step-finish",
                "step-start"
            ]
        );
        assert_eq!(kinds.last(), Some(&"finish"));
        let deltas: String = events
            .iter()
            .filter_map(|e| match e {
                AgentEvent::TextDelta { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        let Some(AgentEvent::Finish(out)) = events.last() else {
            panic!()
        };
        assert_eq!(deltas, out.text);
        assert_eq!(out.steps.len(), 2);
    }

    #[test]
    fn sanitize_drops_unanswered_calls() {
        let call = ToolCall {
            id: "x".into(),
            name: "t".into(),
            args: json!({}),
        };
        let msgs = sanitize_history(vec![
            ChatMessage::user("hi"),
            ChatMessage::assistant_with_tool_calls("", vec![call]),
        ]);
        assert_eq!(msgs, vec![ChatMessage::user("hi")]);
    }
}
