//! Memory over HTTP: `/memory/*` routes shaped like Mastra 1.x's, and the thread history agents
//! load and save (`history`).
//!
//! Ownership is enforced by construction: every handler that touches data takes an `Owner`
//! (an extractor built from the verified user, `owner.rs`), and every store call takes the
//! owner's scope. A thread of another resource answers 404 `Thread not found`, exactly as one
//! that does not exist, so its id cannot be probed; naming another resource (`resourceId`) is
//! 403; a client-chosen thread id that another resource already uses is refused with 403 by the
//! calls that would create it (create, clone, generate), never shared.

mod history;
mod owner;
mod routes;
mod wire;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use mastra_memory::{MemoryError, MemoryStore};

pub(crate) use history::{MemoryTurn, remember};
pub use mastra_memory::redact_url;
pub(crate) use owner::{Owner, Ownership};

use super::ApiError;
use crate::build_error::BuildError;
use crate::config::{AuthProviderKind, Config};

/// Memory as the API serves it: the store, who may see what, and how much agents remember.
#[derive(Debug)]
pub(crate) struct Memory {
    pub(crate) store: Arc<dyn MemoryStore>,
    pub(crate) ownership: Ownership,
    pub(crate) last_messages: u64,
}

impl Memory {
    /// The memory of a config; `None` when `[memory] enabled = false`. Opens nothing yet: the
    /// store connects (and migrates) on first use, or at startup through [`prepare`].
    pub(crate) fn from_config(cfg: &Config) -> Result<Option<Arc<Memory>>, BuildError> {
        if !cfg.memory.enabled {
            return Ok(None);
        }
        let store =
            mastra_memory::open(&cfg.storage.url).map_err(|e| BuildError::Memory(e.to_string()))?;
        Ok(Some(Arc::new(Memory {
            store,
            ownership: Ownership {
                auth: cfg.auth.provider != AuthProviderKind::None,
                claim: cfg.memory.resource_claim.clone(),
                cross_resource: cfg.memory.cross_resource.iter().cloned().collect(),
            },
            last_messages: cfg.memory.last_messages,
        })))
    }
}

/// Opens the configured storage and applies its migrations, so that a server fails at startup
/// (not at its first memory request) when the database is unusable. Answers the store's
/// backend and schema version, or nothing when memory is turned off.
pub async fn prepare(cfg: &Config) -> Result<Option<(&'static str, i64)>, BuildError> {
    if !cfg.memory.enabled {
        return Ok(None);
    }
    let store =
        mastra_memory::open(&cfg.storage.url).map_err(|e| BuildError::Memory(e.to_string()))?;
    let version = store.migrate().await.map_err(|e| {
        // The driver's top-level message ("error connecting to server") hides the cause.
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message = format!("{message}: {text}");
            }
            source = cause.source();
        }
        BuildError::Memory(format!(
            "storage {}: {message}",
            mastra_memory::redact_url(&cfg.storage.url)
        ))
    })?;
    Ok(Some((store.backend(), version)))
}

/// The `/memory/*` routes (relative to the API prefix).
pub(crate) fn router(memory: Option<Arc<Memory>>) -> Router {
    let Some(memory) = memory else {
        return Router::new()
            .route("/memory/status", get(routes::status_off))
            .route("/memory/config", get(routes::config_off))
            .route("/memory/threads", get(routes::off).post(routes::off))
            .route(
                "/memory/threads/{threadId}",
                get(routes::off).patch(routes::off).delete(routes::off),
            )
            .route("/memory/threads/{threadId}/messages", get(routes::off))
            .route("/memory/threads/{threadId}/clone", post(routes::off))
            .route("/memory/save-messages", post(routes::off))
            .route("/memory/messages/delete", post(routes::off));
    };
    Router::new()
        .route("/memory/status", get(routes::status))
        .route("/memory/config", get(routes::config))
        .route(
            "/memory/threads",
            get(routes::list_threads).post(routes::create_thread),
        )
        .route(
            "/memory/threads/{threadId}",
            get(routes::get_thread)
                .patch(routes::update_thread)
                .delete(routes::delete_thread),
        )
        .route(
            "/memory/threads/{threadId}/messages",
            get(routes::list_messages),
        )
        .route(
            "/memory/threads/{threadId}/clone",
            post(routes::clone_thread),
        )
        .route("/memory/save-messages", post(routes::save_messages))
        .route("/memory/messages/delete", post(routes::delete_messages))
        .with_state(memory)
}

/// A store error as the API answers it; storage failures are logged and answered without
/// their details.
pub(crate) fn store_error(e: MemoryError) -> ApiError {
    match e {
        MemoryError::ThreadNotFound => ApiError::NotFound("Thread not found".into()),
        MemoryError::IdTaken { kind: "Message" } => {
            ApiError::Forbidden("Access denied: message belongs to a different thread".into())
        }
        MemoryError::IdTaken { .. } => {
            ApiError::Forbidden("Access denied: thread belongs to a different resource".into())
        }
        MemoryError::ForeignResource => owner::foreign_resource(),
        MemoryError::Invalid(message) => ApiError::BadRequest(message),
        other => {
            tracing::error!(error = %other, "memory storage failed");
            ApiError::Internal("Memory storage failed".into())
        }
    }
}
