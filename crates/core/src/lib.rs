//! mastra-core: agents, language models and tools for a Mastra-compatible agent server.
//!
//! - [`LanguageModel`]: the model trait, with [`EchoModel`] (`builtin/echo`, offline) and
//!   [`OpenAiModel`] (`openai/<model>`, any OpenAI-compatible Chat Completions endpoint);
//!   [`model_from_spec`] builds one from a spec string.
//! - [`Tool`]: tools with JSON Schemas and Mastra-style input validation; [`WeatherTool`]
//!   is the offline demo tool.
//! - [`Agent`]: instructions + model + tools, running the tool loop in
//!   [`Agent::generate`] and [`Agent::stream`].
//! - [`Registry`]: the agents and tools a server exposes; [`Registry::demo`] is the default.
//!
//! No HTTP server code lives here.

#![warn(missing_docs)]

pub mod agent;
pub mod echo;
pub mod message;
pub mod model;
pub mod openai;
pub mod registry;
pub mod spec;
pub mod tool;
pub mod util;

/// Re-export so implementors of [`LanguageModel`] and [`Tool`] need no extra dependency.
pub use async_trait::async_trait;

pub use agent::{
    Agent, AgentError, AgentEvent, AgentOutput, AgentRequest, ClientTool, DEFAULT_MAX_STEPS,
    StepResult, StepType, ToolResult,
};
pub use echo::{ECHO_RECALL, EchoModel};
pub use message::{MessageError, parse_messages};
pub use model::{
    ChatMessage, FinishReason, LanguageModel, ModelError, ModelEvent, ModelRequest, ModelResponse,
    ModelSettings, ResponseMetadata, Role, ToolCall, ToolChoice, ToolDefinition, Usage,
};
pub use openai::{OpenAiConfig, OpenAiModel};
pub use registry::{Registry, demo_agent};
pub use spec::model_from_spec;
pub use tool::{Tool, ToolError, WeatherTool, builtin_tools, validate_tool_input};
