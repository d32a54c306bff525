//! `[[agents]]`: the agents served under `{api_prefix}/agents`.

use std::collections::HashSet;

use serde::Deserialize;

use super::ConfigError;

/// `[[agents]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Agent id, used in URLs (`/api/agents/{id}`).
    pub id: String,
    /// Display name (default: the id).
    #[serde(default)]
    pub name: String,
    /// Description (default empty).
    #[serde(default)]
    pub description: String,
    /// System instructions.
    pub instructions: String,
    /// Model, `provider/model` (default `builtin/echo`).
    #[serde(default = "default_model")]
    pub model: String,
    /// Tool names (checked by the assembler against the registered tools).
    #[serde(default)]
    pub tools: Vec<String>,
}

fn default_model() -> String {
    "builtin/echo".to_string()
}

/// Fills derived defaults: an agent's name defaults to its id.
pub(super) fn fill_defaults(agents: &mut [AgentConfig]) {
    for agent in agents {
        if agent.name.is_empty() {
            agent.name = agent.id.clone();
        }
    }
}

/// Checks every agent: a usable, unique id and a model.
pub(super) fn validate_agents(agents: &[AgentConfig], origin: &str) -> Result<(), ConfigError> {
    let invalid = |key: &str, message: String| ConfigError::invalid(origin, key, message);
    let mut ids = HashSet::new();
    for (i, agent) in agents.iter().enumerate() {
        let key = format!("agents[{i}].id");
        if agent.id.is_empty()
            || !agent
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(invalid(
                &key,
                format!(
                    "`{}` is not a usable agent id: use letters, digits, `_`, `-` or `.`",
                    agent.id
                ),
            ));
        }
        if !ids.insert(agent.id.as_str()) {
            return Err(invalid(
                &key,
                format!(
                    "agent id `{}` is defined twice: ids must be unique",
                    agent.id
                ),
            ));
        }
        if agent.model.trim().is_empty() {
            return Err(invalid(
                &format!("agents[{i}].model"),
                "must not be empty: use e.g. \"builtin/echo\" or \"openai/gpt-4o-mini\"".into(),
            ));
        }
    }
    Ok(())
}
