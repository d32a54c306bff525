//! Input rules both backends share: what an id may look like, which resource a call may name,
//! how a clone is planned. The backends only run SQL.

use serde_json::Value;

use crate::error::MemoryError;
use crate::model::{
    CloneThread, Message, NewMessage, NewThread, Thread, ThreadPatch, ThreadQuery, new_id,
};
use crate::scope::Scope;

/// Longest id (thread, message, resource) accepted.
pub const MAX_ID_LEN: usize = 256;

/// Roles a message may have.
pub const ROLES: &[&str] = &["user", "assistant", "system", "tool"];

fn check_id(kind: &str, id: &str) -> Result<(), MemoryError> {
    if id.is_empty() || id.len() > MAX_ID_LEN || id.chars().any(char::is_control) {
        return Err(MemoryError::Invalid(format!(
            "{kind} must be 1 to {MAX_ID_LEN} characters without control characters"
        )));
    }
    Ok(())
}

fn check_metadata(metadata: &Option<Value>) -> Result<(), MemoryError> {
    match metadata {
        None | Some(Value::Object(_)) => Ok(()),
        Some(_) => Err(MemoryError::Invalid(
            "metadata must be a JSON object".into(),
        )),
    }
}

/// A thread to create, checked against the scope.
pub(crate) fn new_thread(scope: &Scope, new: NewThread) -> Result<NewThread, MemoryError> {
    if let Some(id) = &new.id {
        check_id("threadId", id)?;
    }
    check_id("resourceId", &new.resource_id)?;
    if !scope.admits(&new.resource_id) {
        return Err(MemoryError::ForeignResource);
    }
    check_metadata(&new.metadata)?;
    Ok(new)
}

/// A thread change, checked.
pub(crate) fn patch(patch: ThreadPatch) -> Result<ThreadPatch, MemoryError> {
    check_metadata(&patch.metadata)?;
    Ok(patch)
}

/// A message to store, checked.
pub(crate) fn new_message(m: NewMessage) -> Result<NewMessage, MemoryError> {
    if let Some(id) = &m.id {
        check_id("message id", id)?;
    }
    if !ROLES.contains(&m.role.as_str()) {
        return Err(MemoryError::Invalid(format!(
            "message role must be one of {}",
            ROLES.join(", ")
        )));
    }
    Ok(m)
}

/// The message `m` becomes in `thread` (its position is set when it is inserted).
pub(crate) fn stored(thread: &Thread, m: NewMessage, now: i64) -> Message {
    Message {
        id: m.id.unwrap_or_else(new_id),
        thread_id: thread.id.clone(),
        resource_id: thread.resource_id.clone(),
        seq: 0,
        role: m.role,
        kind: m.kind,
        content: m.content,
        created_at_ms: m.created_at_ms.unwrap_or(now),
    }
}

/// The resource a listing is limited to: the scope's own when the query names none, the
/// query's when the scope admits it; naming another resource is refused.
pub(crate) fn listed_resource(
    scope: &Scope,
    query: &ThreadQuery,
) -> Result<Option<String>, MemoryError> {
    match (scope.resource_id(), &query.resource_id) {
        (_, Some(asked)) if !scope.admits(asked) => Err(MemoryError::ForeignResource),
        (_, Some(asked)) => Ok(Some(asked.clone())),
        (own, None) => Ok(own.map(str::to_owned)),
    }
}

/// Messages grouped by thread, threads in the order they first appear.
pub(crate) fn by_thread(messages: Vec<NewMessage>) -> Vec<(String, Vec<NewMessage>)> {
    let mut groups: Vec<(String, Vec<NewMessage>)> = Vec::new();
    for m in messages {
        match groups.iter_mut().find(|(t, _)| *t == m.thread_id) {
            Some((_, g)) => g.push(m),
            None => groups.push((m.thread_id.clone(), vec![m])),
        }
    }
    groups
}

/// The messages, all addressed to `thread_id`.
pub(crate) fn into_thread(messages: Vec<NewMessage>, thread_id: &str) -> Vec<NewMessage> {
    messages
        .into_iter()
        .map(|m| NewMessage {
            thread_id: thread_id.to_owned(),
            ..m
        })
        .collect()
}

/// The new thread of a clone and how many of the last messages to copy.
pub(crate) fn clone_plan(
    source: &crate::model::Thread,
    clone: CloneThread,
) -> (NewThread, Option<u64>) {
    let title = clone.title;
    let thread = NewThread {
        id: Some(clone.new_id.unwrap_or_else(new_id)),
        resource_id: clone
            .resource_id
            .unwrap_or_else(|| source.resource_id.clone()),
        title,
        metadata: clone.metadata.or_else(|| source.metadata.clone()),
    };
    (thread, clone.message_limit)
}

/// Copies of `originals` for `thread_id`: new ids, same content and times.
pub(crate) fn copies(originals: Vec<Message>, thread_id: &str) -> Vec<NewMessage> {
    originals
        .into_iter()
        .map(|m| NewMessage {
            id: Some(new_id()),
            thread_id: thread_id.to_owned(),
            role: m.role,
            kind: m.kind,
            content: m.content,
            created_at_ms: Some(m.created_at_ms),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Direction, Paging, ThreadOrder};

    fn query(resource: Option<&str>) -> ThreadQuery {
        ThreadQuery {
            resource_id: resource.map(str::to_owned),
            paging: Paging {
                page: 0,
                per_page: Some(10),
            },
            order: ThreadOrder::CreatedAt,
            direction: Direction::Desc,
        }
    }

    #[test]
    fn a_listing_stays_inside_the_scope() {
        let alice = Scope::resource("alice");
        assert_eq!(
            listed_resource(&alice, &query(None)).unwrap().as_deref(),
            Some("alice")
        );
        assert_eq!(
            listed_resource(&alice, &query(Some("alice")))
                .unwrap()
                .as_deref(),
            Some("alice")
        );
        assert!(matches!(
            listed_resource(&alice, &query(Some("bob"))),
            Err(MemoryError::ForeignResource)
        ));
        let all = Scope::unrestricted();
        assert_eq!(listed_resource(&all, &query(None)).unwrap(), None);
        assert_eq!(
            listed_resource(&all, &query(Some("bob")))
                .unwrap()
                .as_deref(),
            Some("bob")
        );
    }

    #[test]
    fn a_thread_for_another_resource_is_refused() {
        let new = NewThread {
            resource_id: "bob".into(),
            ..NewThread::default()
        };
        assert!(matches!(
            new_thread(&Scope::resource("alice"), new),
            Err(MemoryError::ForeignResource)
        ));
    }

    #[test]
    fn ids_and_metadata_are_checked() {
        let bad_id = NewThread {
            id: Some("a\nb".into()),
            resource_id: "r".into(),
            ..NewThread::default()
        };
        assert!(new_thread(&Scope::unrestricted(), bad_id).is_err());
        let empty_resource = NewThread::default();
        assert!(new_thread(&Scope::unrestricted(), empty_resource).is_err());
        let bad_meta = ThreadPatch {
            title: None,
            metadata: Some(Value::from(3)),
        };
        assert!(patch(bad_meta).is_err());
    }

    #[test]
    fn groups_keep_first_appearance_order() {
        let m = |t: &str, role: &str| NewMessage {
            id: None,
            thread_id: t.into(),
            role: role.into(),
            kind: "text".into(),
            content: Value::Null,
            created_at_ms: None,
        };
        let groups = by_thread(vec![m("b", "user"), m("a", "user"), m("b", "assistant")]);
        let shape: Vec<(&str, usize)> = groups.iter().map(|(t, g)| (t.as_str(), g.len())).collect();
        assert_eq!(shape, [("b", 2), ("a", 1)]);
        assert!(new_message(m("a", "wizard")).is_err());
    }
}
