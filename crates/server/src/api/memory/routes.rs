//! The `/memory/*` handlers. Each that touches data takes an [`Owner`] and passes its scope to
//! the store.

use std::sync::Arc;

use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::Bytes;
use mastra_auth::AuthUser;
use mastra_core::util::{iso8601_ms, now_ms};
use mastra_memory::{CloneThread, MessageQuery, NewMessage, NewThread, ThreadPatch, ThreadQuery};
use serde_json::{Map, Value, json};

use super::wire::{self, Query as Params};
use super::{Memory, Owner, store_error};
use crate::api::ListFilter;
use crate::api::body::json_object;
use crate::api::list_filter::visible;
use crate::api::{ApiError, Issue};

type Answer = Result<Json<Value>, ApiError>;

fn params(q: Result<Query<Params>, QueryRejection>) -> Result<Params, ApiError> {
    q.map(|Query(p)| p)
        .map_err(|e| ApiError::InvalidQuery(vec![Issue::new("query", e.body_text())]))
}

fn checked(issues: Vec<Issue>) -> Result<(), ApiError> {
    if issues.is_empty() {
        Ok(())
    } else {
        Err(ApiError::InvalidQuery(issues))
    }
}

fn require_agent_id(p: &Params) -> Result<(), ApiError> {
    match wire::text_param(p, "agentId") {
        Some(_) => Ok(()),
        None => Err(ApiError::InvalidQuery(vec![Issue::new(
            "agentId",
            "Invalid input: expected string, received undefined",
        )])),
    }
}

/// An optional string field of a body; another type is a 400 naming the field.
fn opt_string(body: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::InvalidBody(vec![Issue::new(
            field,
            "Invalid input: expected string",
        )])),
    }
}

/// An optional JSON-object field of a body.
fn opt_object(body: &Map<String, Value>, field: &str) -> Result<Option<Value>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
        Some(_) => Err(ApiError::InvalidBody(vec![Issue::new(
            field,
            "Invalid input: expected object",
        )])),
    }
}

const NOT_INITIALIZED: &str = "Memory is not initialized";

/// Any memory route while memory is turned off (Mastra's answer for an agent without memory).
pub(super) async fn off() -> ApiError {
    ApiError::BadRequest(NOT_INITIALIZED.into())
}

/// `GET /memory/status` while memory is turned off.
pub(super) async fn status_off() -> Json<Value> {
    Json(json!({"result": false}))
}

/// `GET /memory/config` while memory is turned off.
pub(super) async fn config_off() -> Json<Value> {
    Json(json!({"config": null}))
}

/// `GET /memory/status?agentId=`.
pub(super) async fn status(q: Result<Query<Params>, QueryRejection>) -> Answer {
    require_agent_id(&params(q)?)?;
    Ok(Json(json!({"result": true, "memoryType": "local"})))
}

/// `GET /memory/config?agentId=`.
pub(super) async fn config(
    State(memory): State<Arc<Memory>>,
    q: Result<Query<Params>, QueryRejection>,
) -> Answer {
    require_agent_id(&params(q)?)?;
    Ok(Json(json!({"config": {
        "lastMessages": memory.last_messages,
        "semanticRecall": false,
        "generateTitle": false,
        "workingMemory": {"enabled": false},
        "observationalMemory": {"enabled": false},
    }})))
}

/// `GET /memory/threads`: the caller's threads (a resource they may name, with cross-resource
/// access or auth off).
pub(super) async fn list_threads(
    State(memory): State<Arc<Memory>>,
    owner: Owner,
    filter: Option<Extension<ListFilter>>,
    user: Option<AuthUser>,
    q: Result<Query<Params>, QueryRejection>,
) -> Response {
    let mut page = match thread_page(&memory, &owner, q).await {
        Ok(page) => page,
        Err(e) => return e.into_response(),
    };
    // With `[auth.fga]`, the page keeps only the threads the caller may read; its `total` still
    // counts the owner's threads.
    let ids: Vec<(&str, &str)> = page
        .items
        .iter()
        .map(|t| (t.id.as_str(), t.id.as_str()))
        .collect();
    let keep: Vec<String> = match visible(
        filter.as_deref(),
        user.as_ref().map(|u| &u.0),
        "memory:read",
        "thread",
        ids,
    )
    .await
    {
        Ok(keep) => keep.into_iter().map(str::to_owned).collect(),
        Err(refusal) => return refusal,
    };
    page.items.retain(|t| keep.contains(&t.id));
    Json(wire::threads_page_json(&page)).into_response()
}

async fn thread_page(
    memory: &Memory,
    owner: &Owner,
    q: Result<Query<Params>, QueryRejection>,
) -> Result<mastra_memory::Page<mastra_memory::Thread>, ApiError> {
    let q = params(q)?;
    let mut issues = Vec::new();
    let paging = wire::paging(&q, 100, &mut issues);
    let (order, direction) = wire::thread_order(&q, &mut issues);
    checked(issues)?;
    let query = ThreadQuery {
        resource_id: owner.named_resource(wire::text_param(&q, "resourceId").as_deref())?,
        paging,
        order,
        direction,
    };
    memory
        .store
        .list_threads(owner.scope(), &query)
        .await
        .map_err(store_error)
}

/// `POST /memory/threads` with `{resourceId, title?, metadata?, threadId?}`.
pub(super) async fn create_thread(
    State(memory): State<Arc<Memory>>,
    owner: Owner,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = json_object(body)?;
    let resource_id =
        owner.resource_for(opt_string(&body, "resourceId")?.as_deref(), "resourceId")?;
    let new = NewThread {
        id: opt_string(&body, "threadId")?.filter(|id| !id.is_empty()),
        resource_id,
        title: opt_string(&body, "title")?,
        metadata: opt_object(&body, "metadata")?,
    };
    let thread = memory
        .store
        .create_thread(owner.scope(), new)
        .await
        .map_err(store_error)?;
    Ok(Json(wire::thread_json(&thread)))
}

/// `GET /memory/threads/{threadId}`.
pub(super) async fn get_thread(
    State(memory): State<Arc<Memory>>,
    owner: Owner,
    Path(thread_id): Path<String>,
) -> Answer {
    let thread = memory
        .store
        .get_thread(owner.scope(), &thread_id)
        .await
        .map_err(store_error)?;
    Ok(Json(wire::thread_json(&thread)))
}

/// `PATCH /memory/threads/{threadId}` with `{title?, metadata?}`. A thread is never moved to
/// another resource here.
pub(super) async fn update_thread(
    State(memory): State<Arc<Memory>>,
    owner: Owner,
    Path(thread_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = json_object(body)?;
    owner.named_resource(opt_string(&body, "resourceId")?.as_deref())?;
    let patch = ThreadPatch {
        title: opt_string(&body, "title")?,
        metadata: opt_object(&body, "metadata")?,
    };
    let thread = memory
        .store
        .update_thread(owner.scope(), &thread_id, patch)
        .await
        .map_err(store_error)?;
    Ok(Json(wire::thread_json(&thread)))
}

/// `DELETE /memory/threads/{threadId}`.
pub(super) async fn delete_thread(
    State(memory): State<Arc<Memory>>,
    owner: Owner,
    Path(thread_id): Path<String>,
) -> Answer {
    memory
        .store
        .delete_thread(owner.scope(), &thread_id)
        .await
        .map_err(store_error)?;
    Ok(Json(json!({"result": "Thread deleted"})))
}

/// `GET /memory/threads/{threadId}/messages?page=&perPage=&orderBy=`.
pub(super) async fn list_messages(
    State(memory): State<Arc<Memory>>,
    owner: Owner,
    Path(thread_id): Path<String>,
    q: Result<Query<Params>, QueryRejection>,
) -> Answer {
    let q = params(q)?;
    let mut issues = Vec::new();
    let query = MessageQuery {
        paging: wire::paging(&q, 40, &mut issues),
        direction: wire::message_direction(&q, &mut issues),
    };
    checked(issues)?;
    let page = memory
        .store
        .list_messages(owner.scope(), &thread_id, &query)
        .await
        .map_err(store_error)?;
    Ok(Json(wire::messages_page_json(&page, query.direction)))
}

/// One message of `POST /memory/save-messages`.
fn new_message(owner: &Owner, i: usize, v: &Value) -> Result<NewMessage, ApiError> {
    let field = |name: &str| format!("messages.{i}.{name}");
    let bad =
        |name: &str, message: &str| ApiError::InvalidBody(vec![Issue::new(field(name), message)]);
    let m = v
        .as_object()
        .ok_or_else(|| bad("", "Invalid input: expected object"))?;
    let text = |name: &str| -> Result<Option<String>, ApiError> {
        match m.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(name, "Invalid input: expected string")),
        }
    };
    let thread_id = text("threadId")?.filter(|t| !t.is_empty()).ok_or_else(|| {
        bad(
            "threadId",
            "Invalid input: expected string, received undefined",
        )
    })?;
    owner.named_resource(text("resourceId")?.as_deref())?;
    let role = text("role")?
        .ok_or_else(|| bad("role", "Invalid input: expected string, received undefined"))?;
    let content = match m.get("content") {
        Some(Value::String(s)) => wire::text_content(s),
        Some(v @ Value::Object(_)) => v.clone(),
        _ => return Err(bad("content", "Invalid input: expected object or string")),
    };
    let created_at_ms = match m.get("createdAt") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            wire::parse_iso8601_ms(s)
                .ok_or_else(|| bad("createdAt", "Invalid input: expected an ISO 8601 date"))?,
        ),
        Some(Value::Number(n)) => Some(
            n.as_i64()
                .ok_or_else(|| bad("createdAt", "Invalid input: expected milliseconds"))?,
        ),
        Some(_) => return Err(bad("createdAt", "Invalid input: expected a date")),
    };
    Ok(NewMessage {
        id: text("id")?.filter(|id| !id.is_empty()),
        thread_id,
        role,
        kind: text("type")?.unwrap_or_else(|| "text".into()),
        content,
        created_at_ms,
    })
}

/// `POST /memory/save-messages` with `{messages: [...]}`: all stored or none.
pub(super) async fn save_messages(
    State(memory): State<Arc<Memory>>,
    owner: Owner,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = json_object(body)?;
    let Some(Value::Array(items)) = body.get("messages") else {
        return Err(ApiError::InvalidBody(vec![Issue::new(
            "messages",
            "Invalid input: expected array",
        )]));
    };
    let messages = items
        .iter()
        .enumerate()
        .map(|(i, v)| new_message(&owner, i, v))
        .collect::<Result<Vec<_>, _>>()?;
    let saved = memory
        .store
        .save_messages(owner.scope(), messages)
        .await
        .map_err(store_error)?;
    Ok(Json(json!({
        "messages": saved.iter().map(wire::message_json).collect::<Vec<_>>()
    })))
}

/// `POST /memory/messages/delete` with `{messageIds}`: ids as strings or `{id}` objects, one
/// or many. Ids the caller cannot see are skipped; the answer counts the ids asked for (as
/// Mastra's does), so it tells nothing about other users' messages.
pub(super) async fn delete_messages(
    State(memory): State<Arc<Memory>>,
    owner: Owner,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = json_object(body)?;
    let id_of = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        }
    };
    let ids: Option<Vec<String>> = match body.get("messageIds") {
        Some(Value::Array(items)) => items.iter().map(id_of).collect(),
        Some(v) => id_of(v).map(|id| vec![id]),
        None => None,
    };
    let ids =
        ids.ok_or_else(|| ApiError::InvalidBody(vec![Issue::new("messageIds", "Invalid input")]))?;
    memory
        .store
        .delete_messages(owner.scope(), &ids)
        .await
        .map_err(store_error)?;
    let n = ids.len();
    let noun = if n == 1 { "message" } else { "messages" };
    Ok(Json(json!({
        "success": true,
        "message": format!("{n} {noun} deleted successfully"),
    })))
}

/// `POST /memory/threads/{threadId}/clone` with `{newThreadId?, resourceId?, title?, metadata?,
/// options?: {messageLimit?}}`.
pub(super) async fn clone_thread(
    State(memory): State<Arc<Memory>>,
    owner: Owner,
    Path(thread_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = json_object(body)?;
    let resource_id = owner.named_resource(opt_string(&body, "resourceId")?.as_deref())?;
    let message_limit = match body.get("options").and_then(|o| o.get("messageLimit")) {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            ApiError::InvalidBody(vec![Issue::new(
                "options.messageLimit",
                "Invalid input: expected a non-negative integer",
            )])
        })?),
    };
    let mut metadata = match opt_object(&body, "metadata")? {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let now = iso8601_ms(now_ms());
    metadata.insert(
        "clone".into(),
        json!({"sourceThreadId": thread_id, "clonedAt": now}),
    );
    let clone = CloneThread {
        new_id: opt_string(&body, "newThreadId")?.filter(|id| !id.is_empty()),
        resource_id,
        title: opt_string(&body, "title")?,
        metadata: Some(Value::Object(metadata)),
        message_limit,
    };
    let cloned = memory
        .store
        .clone_thread(owner.scope(), &thread_id, clone)
        .await
        .map_err(|e| match e {
            mastra_memory::MemoryError::ThreadNotFound => {
                ApiError::NotFound("Source thread not found".into())
            }
            other => store_error(other),
        })?;
    let id_map: Map<String, Value> = cloned
        .source_ids
        .iter()
        .zip(&cloned.messages)
        .map(|(from, to)| (from.clone(), Value::String(to.id.clone())))
        .collect();
    Ok(Json(json!({
        "thread": wire::thread_json(&cloned.thread),
        "messageIdMap": id_map,
        "clonedMessages": cloned.messages.iter().map(wire::message_json).collect::<Vec<_>>(),
    })))
}
