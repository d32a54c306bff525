//! Non-auth HTTP plumbing: each piece is a tower layer or an axum router the assembler wires in.
//!
//! Suggested order, outermost first (the request path in ARCHITECTURE.md):
//! [`logging::layer`] (sees final statuses) -> [`cors::layer`] (answers preflights before auth,
//! decorates every answer, including 401/413/504) -> [`limits::timeout_layer`] ->
//! [`limits::body_limit_layer`] -> auth -> routes ([`health_router`], [`openapi::router`],
//! [`custom_routes::router`], the Mastra API).
//!
//! Every error body is JSON `{"error": "<message>"}` ([`json_error`]).

pub mod cors;
pub mod custom_routes;
pub mod limits;
pub mod logging;
pub mod openapi;
pub mod shutdown;
pub mod tls;

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, StatusCode, header};

/// Name reported by the welcome route and the OpenAPI document.
pub const SERVER_NAME: &str = "mastra-rs";

/// This crate's version, reported by the welcome route and the OpenAPI document.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A JSON error response `{"error": message}` with `status`.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    json_response(status, &serde_json::json!({ "error": message }))
}

/// A JSON response with `content-type: application/json`.
pub fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut res = (status, bytes).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// The body of `GET {api_prefix}`: name, version and a pointer to the agents list.
pub fn welcome_body(api_prefix: &str) -> serde_json::Value {
    serde_json::json!({
        "name": SERVER_NAME,
        "version": VERSION,
        "message": format!("Welcome to the {SERVER_NAME} API. Agents are listed at {api_prefix}/agents."),
    })
}

/// `GET /health` -> `{"success":true}` and `GET {api_prefix}` -> [`welcome_body`].
pub fn health_router<S>(api_prefix: &str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let welcome = welcome_body(api_prefix);
    Router::new()
        .route(
            "/health",
            get(|| async { json_response(StatusCode::OK, &serde_json::json!({"success": true})) }),
        )
        .route(
            api_prefix,
            get(move || {
                let body = welcome.clone();
                async move { json_response(StatusCode::OK, &body) }
            }),
        )
}
