//! The set of agents and tools a server exposes.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::agent::Agent;
use crate::echo::EchoModel;
use crate::tool::{Tool, WEATHER_TOOL_KEY, WeatherTool};

/// Agents by id and standalone tools by registration key.
#[derive(Clone, Default)]
pub struct Registry {
    /// Agents by id.
    pub agents: BTreeMap<String, Arc<Agent>>,
    /// Tools registered directly (not only through an agent), by key.
    pub tools: BTreeMap<String, Arc<dyn Tool>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("agents", &self.agents.values().collect::<Vec<_>>())
            .field("tools", &self.tools.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The demo agent: `weatherAgent` ("Weather Agent") on `builtin/echo` with `weatherTool`.
pub fn demo_agent() -> Agent {
    Agent::new("weatherAgent", "Weather Agent", Arc::new(EchoModel::new()))
        .with_description("Answers weather questions (offline echo model)")
        .with_instructions("You are a helpful weather assistant.")
        .with_tool(WEATHER_TOOL_KEY, Arc::new(WeatherTool))
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The default when nothing is configured: [`demo_agent`] plus `weatherTool`.
    pub fn demo() -> Self {
        Self::new()
            .with_agent(demo_agent())
            .with_tool(WEATHER_TOOL_KEY, Arc::new(WeatherTool))
    }

    /// Adds (or replaces) an agent under its id.
    pub fn with_agent(mut self, agent: Agent) -> Self {
        self.agents.insert(agent.id.clone(), Arc::new(agent));
        self
    }

    /// Adds (or replaces) a standalone tool under `key`.
    pub fn with_tool(mut self, key: impl Into<String>, tool: Arc<dyn Tool>) -> Self {
        self.tools.insert(key.into(), tool);
        self
    }

    /// The agent with this id.
    pub fn agent(&self, id: &str) -> Option<&Arc<Agent>> {
        self.agents.get(id)
    }

    /// Every tool by key: registered tools first, then agents' tools whose id is not
    /// already listed (deduplicated by tool id, as Mastra's `GET /api/tools` does).
    pub fn all_tools(&self) -> BTreeMap<String, Arc<dyn Tool>> {
        let mut out = self.tools.clone();
        for agent in self.agents.values() {
            for (key, tool) in &agent.tools {
                let seen = out.values().any(|t| t.id() == tool.id());
                if !seen && !out.contains_key(key) {
                    out.insert(key.clone(), tool.clone());
                }
            }
        }
        out
    }

    /// A tool by id or key: registered tools by id, then by key, then agents' tools by
    /// id, then by key. Returns the key it is known under and the tool.
    pub fn find_tool(&self, id_or_key: &str) -> Option<(String, Arc<dyn Tool>)> {
        let all = self.all_tools();
        let by_id = all.iter().find(|(_, t)| t.id() == id_or_key);
        let found = by_id.or_else(|| all.get_key_value(id_or_key));
        found.map(|(k, t)| (k.clone(), t.clone())).or_else(|| {
            self.agents.values().find_map(|a| {
                a.tools
                    .iter()
                    .find(|(k, t)| t.id() == id_or_key || k.as_str() == id_or_key)
                    .map(|(k, t)| (k.clone(), t.clone()))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_has_weather_agent_and_tool() {
        let r = Registry::demo();
        let a = r.agent("weatherAgent").unwrap();
        assert_eq!(a.name, "Weather Agent");
        assert_eq!(a.model.provider(), "builtin");
        assert_eq!(r.all_tools().len(), 1);
        assert_eq!(r.find_tool("get-weather").unwrap().0, "weatherTool");
        assert_eq!(r.find_tool("weatherTool").unwrap().1.id(), "get-weather");
        assert!(r.find_tool("nope").is_none());
    }

    #[test]
    fn agent_tools_listed_without_registration() {
        let r = Registry::new().with_agent(demo_agent());
        assert!(r.all_tools().contains_key("weatherTool"));
        assert!(r.find_tool("get-weather").is_some());
    }
}
