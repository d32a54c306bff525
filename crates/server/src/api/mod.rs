//! The Mastra HTTP API for agents and tools (routes relative to the API prefix; the
//! server nests this under `/api`). Independent of auth, which wraps the whole app.
//!
//! Routes: `GET /agents`, `GET /agents/{agentId}`, `POST /agents/{agentId}/generate`,
//! `POST /agents/{agentId}/stream`, `GET /agents/{agentId}/tools/{toolId}`,
//! `POST /agents/{agentId}/tools/{toolId}/execute`, `GET /tools`, `GET /tools/{toolId}`,
//! `POST /tools/{toolId}/execute`, and memory's `/memory/*` (`memory/`). Shapes follow the
//! Mastra 1.x server, so that `@mastra/client-js` works unchanged
//! (`crates/cli/tests/it/js_client.rs` drives it).

#![warn(missing_docs)]

mod agents;
mod body;
mod list_filter;
pub mod memory;
mod tools;
pub mod wire;

pub use list_filter::ListFilter;

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mastra_core::Registry;
use serde::Serialize;
use serde_json::json;

/// Every route of [`router`], as `(method, template under the API prefix)`: the list
/// `mastra config check` derives route permissions from. A test checks that the router serves
/// each of them on exactly that template.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/agents"),
    ("GET", "/agents/{agentId}"),
    ("POST", "/agents/{agentId}/generate"),
    ("POST", "/agents/{agentId}/stream"),
    ("GET", "/agents/{agentId}/tools/{toolId}"),
    ("POST", "/agents/{agentId}/tools/{toolId}/execute"),
    ("GET", "/tools"),
    ("GET", "/tools/{toolId}"),
    ("POST", "/tools/{toolId}/execute"),
    ("GET", "/memory/status"),
    ("GET", "/memory/config"),
    ("GET", "/memory/threads"),
    ("POST", "/memory/threads"),
    ("GET", "/memory/threads/{threadId}"),
    ("PATCH", "/memory/threads/{threadId}"),
    ("DELETE", "/memory/threads/{threadId}"),
    ("GET", "/memory/threads/{threadId}/messages"),
    ("POST", "/memory/threads/{threadId}/clone"),
    ("POST", "/memory/save-messages"),
    ("POST", "/memory/messages/delete"),
];

/// The agents + tools API with its state applied, memory turned off; mount it with
/// `nest("/api", ...)`.
pub fn router(registry: Arc<Registry>) -> Router {
    router_with(registry, None)
}

/// The agents + tools + memory API with its state applied.
pub(crate) fn router_with(registry: Arc<Registry>, memory: Option<Arc<memory::Memory>>) -> Router {
    let runs = agents::RunState {
        registry: registry.clone(),
        memory: memory.clone(),
    };
    let supports_memory = memory.is_some();
    Router::new()
        .route("/agents", get(agents::list).with_state(runs.clone()))
        .route(
            "/agents/{agentId}",
            get(agents::details)
                .with_state(agents::RenderedDetails::new(&registry, supports_memory)),
        )
        .route(
            "/agents/{agentId}/generate",
            post(agents::generate).with_state(runs.clone()),
        )
        .route(
            "/agents/{agentId}/stream",
            post(agents::stream).with_state(runs),
        )
        .route("/agents/{agentId}/tools/{toolId}", get(tools::agent_tool))
        .route(
            "/agents/{agentId}/tools/{toolId}/execute",
            post(tools::agent_tool_execute),
        )
        .route("/tools", get(tools::list))
        .route("/tools/{toolId}", get(tools::details))
        .route("/tools/{toolId}/execute", post(tools::execute))
        .with_state(registry)
        .merge(memory::router(memory))
        // Mastra (Hono) answers a wrong method on a known path like an unknown route.
        .method_not_allowed_fallback(not_found_text)
}

async fn not_found_text() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=UTF-8")],
        "404 Not Found",
    )
        .into_response()
}

/// One validation problem: `{"field": "<dotted path>", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Dotted path of the offending field (`messages`, `body`, `root`, ...).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl Issue {
    /// An issue for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An error answer of the API; every variant renders as JSON with a top-level `error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400 `{"error":"Invalid request body","issues":[...]}`.
    #[error("Invalid request body")]
    InvalidBody(Vec<Issue>),
    /// 400 `{"error":"Invalid query parameters","issues":[...]}`.
    #[error("Invalid query parameters")]
    InvalidQuery(Vec<Issue>),
    /// 400 `{"error":"<message>"}`.
    #[error("{0}")]
    BadRequest(String),
    /// 401 `{"error":"Authentication required"}`: a route that needs the caller's identity was
    /// reached without one.
    #[error("Authentication required")]
    Unauthenticated,
    /// 403 `{"error":"<message>"}`.
    #[error("{0}")]
    Forbidden(String),
    /// 404 `{"error":"<message>"}`.
    #[error("{0}")]
    NotFound(String),
    /// 413 `{"error":"Request body too large"}`.
    #[error("Request body too large")]
    TooLarge,
    /// 500 `{"error":"<message>"}` (messages never carry secrets).
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// 404 for an unknown agent id, worded as Mastra does.
    pub fn agent_not_found(id: &str) -> Self {
        ApiError::NotFound(format!("Agent with id {id} not found"))
    }

    /// 404 for an unknown tool.
    pub fn tool_not_found() -> Self {
        ApiError::NotFound("Tool not found".into())
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidBody(_) | ApiError::InvalidQuery(_) | ApiError::BadRequest(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            ApiError::InvalidBody(issues) => {
                json!({"error": "Invalid request body", "issues": issues})
            }
            ApiError::InvalidQuery(issues) => {
                json!({"error": "Invalid query parameters", "issues": issues})
            }
            other => json!({"error": other.to_string()}),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::extract::{MatchedPath, Request};
    use axum::middleware::{self, Next};
    use tower::ServiceExt;

    use super::*;

    async fn echo_matched(req: Request, next: Next) -> Response {
        let matched = req
            .extensions()
            .get::<MatchedPath>()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default();
        let mut res = next.run(req).await;
        if let Ok(v) = matched.parse() {
            res.headers_mut().insert("x-matched", v);
        }
        res
    }

    #[tokio::test]
    async fn the_router_serves_every_listed_route_on_its_template() {
        let app = router(Arc::new(Registry::demo())).route_layer(middleware::from_fn(echo_matched));
        for (method, template) in ROUTES {
            // `{agentId}` -> `agentId1`: any value routes to the template.
            let path = template.replace(['{', '}'], "").replace("Id", "Id1");
            let req = Request::builder()
                .method(*method)
                .uri(&path)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .expect("request");
            let res = app.clone().oneshot(req).await.expect("infallible");
            assert_eq!(
                res.headers().get("x-matched").and_then(|v| v.to_str().ok()),
                Some(*template),
                "{method} {path}"
            );
        }
    }
}
