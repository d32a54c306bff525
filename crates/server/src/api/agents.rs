//! Agent routes: list, details, generate and stream.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, BoxStream, StreamExt};
use mastra_auth::AuthUser;
use mastra_core::{AgentError, AgentEvent, Registry};
use serde_json::{Map, Value};

use super::ApiError;
use super::body::{agent_request, json_object};
use super::list_filter::{ListFilter, visible};
use super::memory::{Memory, MemoryTurn, remember};
use super::wire::{self, SSE_DONE, StreamEncoder, sse_frame};

/// `GET /agents`: object keyed by agent id; with `[auth.fga]`, only the agents the caller may
/// read.
pub(super) async fn list(
    State(state): State<RunState>,
    filter: Option<Extension<ListFilter>>,
    user: Option<AuthUser>,
) -> Result<axum::Json<Value>, Response> {
    let reg = &state.registry;
    let items = reg
        .agents
        .keys()
        .map(|id| (id.as_str(), id.as_str()))
        .collect();
    let keep = visible(
        filter.as_deref(),
        user.as_ref().map(|u| &u.0),
        "agents:read",
        "agent",
        items,
    )
    .await?;
    let supports_memory = Value::Bool(state.memory.is_some());
    let map: Map<String, Value> = keep
        .into_iter()
        .filter_map(|id| {
            let mut entry = wire::agent_list_entry(reg.agents.get(id)?);
            if let Some(fields) = entry.as_object_mut() {
                fields.insert("supportsMemory".into(), supports_memory.clone());
            }
            Some((id.to_owned(), entry))
        })
        .collect();
    Ok(axum::Json(Value::Object(map)))
}

/// Every agent's `GET /agents/{agentId}` body, serialized once: agents do not change after
/// startup, and building the document (tool schemas included) would dominate the cost of the
/// request (see BENCHMARKS.md).
#[derive(Debug, Clone)]
pub(super) struct RenderedDetails(Arc<std::collections::BTreeMap<String, Bytes>>);

impl RenderedDetails {
    pub(super) fn new(reg: &Registry, supports_memory: bool) -> Self {
        Self(Arc::new(
            reg.agents
                .iter()
                .map(|(id, agent)| {
                    let mut json = wire::agent_json(agent);
                    if let Some(details) = json.as_object_mut() {
                        details.insert("supportsMemory".into(), Value::Bool(supports_memory));
                    }
                    let body =
                        serde_json::to_vec(&json).expect("a serde_json::Value always serializes");
                    (id.clone(), Bytes::from(body))
                })
                .collect(),
        ))
    }
}

/// `GET /agents/{agentId}`.
pub(super) async fn details(
    State(rendered): State<RenderedDetails>,
    Path(agent_id): Path<String>,
) -> Result<Response, ApiError> {
    let body = rendered
        .0
        .get(&agent_id)
        .ok_or_else(|| ApiError::agent_not_found(&agent_id))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.clone(),
    )
        .into_response())
}

fn agent_error(e: AgentError) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// What generate and stream need: the agents, and memory when it is on.
#[derive(Debug, Clone)]
pub(super) struct RunState {
    pub(super) registry: Arc<Registry>,
    pub(super) memory: Option<Arc<Memory>>,
}

/// `POST /agents/{agentId}/generate`.
pub(super) async fn generate(
    State(state): State<RunState>,
    Path(agent_id): Path<String>,
    user: Option<AuthUser>,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let body = json_object(body)?;
    let mut request = agent_request(&body)?;
    let agent = state
        .registry
        .agent(&agent_id)
        .ok_or_else(|| ApiError::agent_not_found(&agent_id))?;
    let user = user.map(|AuthUser(u)| u);
    let turn = remember(state.memory.as_ref(), user.as_ref(), &body, &mut request).await?;
    let out = agent.generate(request).await.map_err(agent_error)?;
    if let Some(turn) = turn {
        turn.save(&out).await?;
    }
    Ok(axum::Json(wire::generate_json(&out)))
}

/// Saves the run to memory when it finishes, before the `finish` chunk goes out, so a client
/// that sends its next message after the stream ended finds this turn remembered. A failure
/// to save ends the stream with an `error` chunk instead.
fn remembered(
    events: BoxStream<'static, Result<AgentEvent, AgentError>>,
    turn: Option<MemoryTurn>,
) -> BoxStream<'static, Result<AgentEvent, AgentError>> {
    let Some(turn) = turn else {
        return events;
    };
    events
        .then(move |item| {
            let turn = turn.clone();
            async move {
                if let Ok(AgentEvent::Finish(out)) = &item
                    && let Err(e) = turn.save(out).await
                {
                    return Err(AgentError::InvalidRequest(e.to_string()));
                }
                item
            }
        })
        .boxed()
}

/// `POST /agents/{agentId}/stream`: SSE frames `data: <json>\n\n`, then `data: [DONE]`.
/// An error after the stream started becomes an `error` chunk and the stream ends.
pub(super) async fn stream(
    State(state): State<RunState>,
    Path(agent_id): Path<String>,
    user: Option<AuthUser>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = json_object(body)?;
    let mut request = agent_request(&body)?;
    let agent = state
        .registry
        .agent(&agent_id)
        .ok_or_else(|| ApiError::agent_not_found(&agent_id))?
        .clone();
    let user = user.map(|AuthUser(u)| u);
    let turn = remember(state.memory.as_ref(), user.as_ref(), &body, &mut request).await?;
    let mut input = request.context.clone();
    input.extend(request.messages.iter().cloned());
    let mut encoder = StreamEncoder::new(&agent, &input);
    let events = remembered(agent.stream(request), turn);

    let frames = events
        .map(Some)
        .chain(stream::once(async { None }))
        .scan(false, move |stopped, item| {
            let out = if *stopped {
                None
            } else {
                Some(match item {
                    Some(Ok(ev)) => {
                        let finished = matches!(ev, AgentEvent::Finish(_));
                        let mut s: String = encoder.encode(ev).iter().map(sse_frame).collect();
                        if finished {
                            s.push_str(SSE_DONE);
                            *stopped = true;
                        }
                        s
                    }
                    Some(Err(e)) => {
                        *stopped = true;
                        sse_frame(&encoder.error(&e.to_string()))
                    }
                    // Ended without a finish (should not happen): close cleanly.
                    None => {
                        *stopped = true;
                        SSE_DONE.to_string()
                    }
                })
            };
            async move { out }
        })
        .filter(|s| futures::future::ready(!s.is_empty()))
        .map(|s| Ok::<Bytes, Infallible>(Bytes::from(s)));

    let mut response = Body::from_stream(frames).into_response();
    *response.status_mut() = StatusCode::OK;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}
