//! Agent routes: list, details, generate and stream.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, StreamExt};
use mastra_auth::AuthUser;
use mastra_core::{AgentError, AgentEvent, Registry};
use serde_json::{Map, Value};

use super::ApiError;
use super::body::{agent_request, json_object};
use super::list_filter::{ListFilter, visible};
use super::wire::{self, SSE_DONE, StreamEncoder, sse_frame};

/// `GET /agents`: object keyed by agent id.
pub(super) async fn list(
    State(reg): State<Arc<Registry>>,
    filter: Option<Extension<ListFilter>>,
    user: Option<AuthUser>,
) -> Result<axum::Json<Value>, Response> {
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
    let map: Map<String, Value> = keep
        .into_iter()
        .filter_map(|id| {
            reg.agents
                .get(id)
                .map(|a| (id.to_owned(), wire::agent_list_entry(a)))
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
    pub(super) fn new(reg: &Registry) -> Self {
        Self(Arc::new(
            reg.agents
                .iter()
                .map(|(id, agent)| {
                    let body = serde_json::to_vec(&wire::agent_json(agent))
                        .expect("a serde_json::Value always serializes");
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

/// `POST /agents/{agentId}/generate`.
pub(super) async fn generate(
    State(reg): State<Arc<Registry>>,
    Path(agent_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let body = json_object(body)?;
    let request = agent_request(&body)?;
    let agent = reg
        .agent(&agent_id)
        .ok_or_else(|| ApiError::agent_not_found(&agent_id))?;
    let out = agent.generate(request).await.map_err(agent_error)?;
    Ok(axum::Json(wire::generate_json(&out)))
}

/// `POST /agents/{agentId}/stream`: SSE frames `data: <json>\n\n`, then `data: [DONE]`.
/// An error after the stream started becomes an `error` chunk and the stream ends.
pub(super) async fn stream(
    State(reg): State<Arc<Registry>>,
    Path(agent_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = json_object(body)?;
    let request = agent_request(&body)?;
    let agent = reg
        .agent(&agent_id)
        .ok_or_else(|| ApiError::agent_not_found(&agent_id))?
        .clone();
    let mut input = request.context.clone();
    input.extend(request.messages.iter().cloned());
    let mut encoder = StreamEncoder::new(&agent, &input);
    let events = agent.stream(request);

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
