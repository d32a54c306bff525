//! An agent run with memory: `memory: {thread, resource, readOnly}` (or the older top-level
//! `threadId` and `resourceId`) in a generate or stream body. Before the run the thread's latest
//! messages are put ahead of the request's; after it, the request's messages and the answer are
//! appended to the thread in one transaction (the thread is created then if it is new).

use std::sync::Arc;

use mastra_auth::User;
use mastra_core::{AgentOutput, AgentRequest, ChatMessage, Role};
use mastra_memory::{NewMessage, NewThread, Scope};
use serde_json::{Map, Value};

use super::{Memory, store_error, wire};
use crate::api::{ApiError, Issue};

/// What a run remembers into: the thread, its owner, and the messages to append.
#[derive(Debug, Clone)]
pub(crate) struct MemoryTurn {
    memory: Arc<Memory>,
    scope: Scope,
    thread_id: String,
    resource_id: String,
    read_only: bool,
    input: Vec<ChatMessage>,
}

const RESOURCE_REQUIRED: &str = "A resource ID is required when using memory. Provide memory.resource in the request body, or turn on authentication so that it comes from the signed-in user.";

fn bad(field: &str, message: &str) -> ApiError {
    ApiError::InvalidBody(vec![Issue::new(field, message)])
}

/// The thread id, requested resource id and read-only flag a body asks memory for.
fn memory_options(
    body: &Map<String, Value>,
) -> Result<Option<(String, Option<String>, bool)>, ApiError> {
    let string = |v: Option<&Value>, field: &str| -> Result<Option<String>, ApiError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(_) => Err(bad(field, "Invalid input: expected a non-empty string")),
        }
    };
    let (thread, resource, read_only) = match body.get("memory") {
        None | Some(Value::Null) => (
            string(body.get("threadId"), "threadId")?,
            string(body.get("resourceId"), "resourceId")?,
            false,
        ),
        Some(Value::Object(m)) => {
            let thread = match m.get("thread") {
                Some(Value::Object(t)) => string(t.get("id"), "memory.thread.id")?,
                other => string(other, "memory.thread")?,
            };
            let read_only = match m.get("readOnly") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(bad("memory.readOnly", "Invalid input: expected boolean")),
            };
            (
                thread,
                string(m.get("resource"), "memory.resource")?,
                read_only,
            )
        }
        Some(_) => return Err(bad("memory", "Invalid input: expected object")),
    };
    Ok(thread.map(|t| (t, resource, read_only)))
}

/// Prepares `request` for a run with memory: checks the caller may use the thread, loads its
/// latest messages ahead of the request's. `None` when the body names no thread or memory is
/// turned off (then the run is the same as without memory).
pub(crate) async fn remember(
    memory: Option<&Arc<Memory>>,
    user: Option<&User>,
    body: &Map<String, Value>,
    request: &mut AgentRequest,
) -> Result<Option<MemoryTurn>, ApiError> {
    let Some((thread_id, requested, read_only)) = memory_options(body)? else {
        return Ok(None);
    };
    let Some(memory) = memory else {
        return Ok(None);
    };
    let owner = memory.ownership.owner(user)?;
    let resource_id = owner
        .resource_for(requested.as_deref(), "memory.resource")
        .map_err(|e| match e {
            ApiError::InvalidBody(_) => ApiError::BadRequest(RESOURCE_REQUIRED.into()),
            other => other,
        })?;
    if owner.scope().resource_id().is_none() {
        // An unrestricted caller (auth off, cross-resource access) sees every thread: the
        // thread must still belong to the resource the run is for, as Mastra checks.
        match memory.store.get_thread(owner.scope(), &thread_id).await {
            Ok(t) if t.resource_id != resource_id => {
                return Err(store_error(mastra_memory::MemoryError::IdTaken {
                    kind: "Thread",
                }));
            }
            Ok(_) | Err(mastra_memory::MemoryError::ThreadNotFound) => {}
            Err(e) => return Err(store_error(e)),
        }
    }
    let history = memory
        .store
        .last_messages(owner.scope(), &thread_id, memory.last_messages)
        .await
        .map_err(store_error)?;
    let mut context: Vec<ChatMessage> = history.iter().filter_map(wire::chat_message).collect();
    context.append(&mut request.context);
    request.context = context;
    Ok(Some(MemoryTurn {
        memory: memory.clone(),
        scope: owner.scope().clone(),
        thread_id,
        resource_id,
        read_only,
        input: request.messages.clone(),
    }))
}

impl MemoryTurn {
    /// Appends the run's input messages and its answer to the thread (nothing when the body
    /// asked for `readOnly`).
    pub(crate) async fn save(&self, output: &AgentOutput) -> Result<(), ApiError> {
        if self.read_only {
            return Ok(());
        }
        let message = |role: &str, text: &str| NewMessage {
            id: None,
            thread_id: self.thread_id.clone(),
            role: role.to_owned(),
            kind: "text".to_owned(),
            content: wire::text_content(text),
            created_at_ms: None,
        };
        let mut messages: Vec<NewMessage> = self
            .input
            .iter()
            .filter_map(|m| {
                let role = match m.role {
                    Role::User => "user",
                    Role::Assistant => "assistant",
                    Role::System => "system",
                    Role::Tool => return None,
                };
                Some(message(role, &m.content))
            })
            .collect();
        if !output.text.is_empty() {
            messages.push(message("assistant", &output.text));
        }
        let thread = NewThread {
            id: Some(self.thread_id.clone()),
            resource_id: self.resource_id.clone(),
            // A thread an agent run creates has an empty title, as Mastra's.
            title: Some(String::new()),
            metadata: None,
        };
        self.memory
            .store
            .append(&self.scope, thread, messages)
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(v: Value) -> Result<Option<(String, Option<String>, bool)>, ApiError> {
        memory_options(v.as_object().unwrap_or(&Map::new()))
    }

    #[test]
    fn reads_every_spelling_of_the_thread() {
        assert_eq!(
            opts(json!({"memory": {"thread": "t1", "resource": "r"}})).unwrap(),
            Some(("t1".into(), Some("r".into()), false))
        );
        assert_eq!(
            opts(json!({"memory": {"thread": {"id": "t2"}, "readOnly": true}})).unwrap(),
            Some(("t2".into(), None, true))
        );
        assert_eq!(
            opts(json!({"threadId": "t3", "resourceId": "r"})).unwrap(),
            Some(("t3".into(), Some("r".into()), false))
        );
        assert_eq!(opts(json!({"messages": "hi"})).unwrap(), None);
        assert!(opts(json!({"memory": {"thread": 5}})).is_err());
        assert!(opts(json!({"memory": "t"})).is_err());
    }
}
