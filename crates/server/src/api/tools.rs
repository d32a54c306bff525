//! Tool routes: list, details and execute (standalone and through an agent).

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use mastra_auth::AuthUser;
use mastra_core::{Registry, Tool, ToolError};
use serde_json::{Map, Value};

use super::body::json_object;
use super::list_filter::{ListFilter, visible};
use super::{ApiError, Issue, wire};

/// `GET /tools`: object keyed by tool key.
pub(super) async fn list(
    State(reg): State<Arc<Registry>>,
    filter: Option<Extension<ListFilter>>,
    user: Option<AuthUser>,
) -> Result<axum::Json<Value>, Response> {
    let tools = reg.all_tools();
    // Tools are resources by id (`tool:get-weather`), listed by key.
    let items = tools.iter().map(|(k, t)| (k.as_str(), t.id())).collect();
    let keep = visible(
        filter.as_deref(),
        user.as_ref().map(|u| &u.0),
        "tools:read",
        "tool",
        items,
    )
    .await?;
    let map: Map<String, Value> = keep
        .into_iter()
        .filter_map(|k| {
            tools
                .get(k)
                .map(|t| (k.to_owned(), wire::tool_json(t.as_ref())))
        })
        .collect();
    Ok(axum::Json(Value::Object(map)))
}

/// `GET /tools/{toolId}` (by id or key).
pub(super) async fn details(
    State(reg): State<Arc<Registry>>,
    Path(tool_id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let (_, tool) = reg
        .find_tool(&tool_id)
        .ok_or_else(ApiError::tool_not_found)?;
    Ok(axum::Json(wire::tool_json(tool.as_ref())))
}

/// `data` from an execute body (`{data, requestContext?}`); `data` is required.
fn execute_input(body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let mut body = json_object(body)?;
    body.remove("data")
        .ok_or_else(|| ApiError::InvalidBody(vec![Issue::new("data", "data is required")]))
}

/// Runs `tool`: its raw result; a validation failure is a 200 `{"error": true, ...}` as in
/// Mastra; an execution failure is a 500.
async fn run(tool: Arc<dyn Tool>, data: Value) -> Result<axum::Json<Value>, ApiError> {
    match tool.execute(data).await {
        Ok(v) => Ok(axum::Json(v)),
        Err(e @ ToolError::Validation { .. }) => Ok(axum::Json(e.to_json())),
        Err(e) => Err(ApiError::Internal(e.to_string())),
    }
}

/// `POST /tools/{toolId}/execute`.
pub(super) async fn execute(
    State(reg): State<Arc<Registry>>,
    Path(tool_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let data = execute_input(body)?;
    let (_, tool) = reg
        .find_tool(&tool_id)
        .ok_or_else(ApiError::tool_not_found)?;
    run(tool, data).await
}

fn agent_tool_lookup(
    reg: &Registry,
    agent_id: &str,
    tool_id: &str,
) -> Result<Arc<dyn Tool>, ApiError> {
    let agent = reg
        .agent(agent_id)
        .ok_or_else(|| ApiError::agent_not_found(agent_id))?;
    agent
        .tools
        .values()
        .find(|t| t.id() == tool_id)
        .or_else(|| agent.tools.get(tool_id))
        .cloned()
        .ok_or_else(ApiError::tool_not_found)
}

/// `GET /agents/{agentId}/tools/{toolId}` (tool id, or the agent's tool key).
pub(super) async fn agent_tool(
    State(reg): State<Arc<Registry>>,
    Path((agent_id, tool_id)): Path<(String, String)>,
) -> Result<axum::Json<Value>, ApiError> {
    let tool = agent_tool_lookup(&reg, &agent_id, &tool_id)?;
    Ok(axum::Json(wire::tool_json(tool.as_ref())))
}

/// `POST /agents/{agentId}/tools/{toolId}/execute`.
pub(super) async fn agent_tool_execute(
    State(reg): State<Arc<Registry>>,
    Path((agent_id, tool_id)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let data = execute_input(body)?;
    let tool = agent_tool_lookup(&reg, &agent_id, &tool_id)?;
    run(tool, data).await
}
