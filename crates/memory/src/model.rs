//! The thread and message model, and the queries and changes the store accepts.

use serde_json::Value;

/// A conversation: an ordered list of messages owned by one resource (a user, a tenant).
#[derive(Debug, Clone, PartialEq)]
pub struct Thread {
    /// The thread's id (generated: a random UUID; or chosen by the client).
    pub id: String,
    /// The resource that owns the thread.
    pub resource_id: String,
    /// Title, if any.
    pub title: Option<String>,
    /// Free-form JSON metadata (an object), if any.
    pub metadata: Option<Value>,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// Last change (rename, metadata, new message), milliseconds since the Unix epoch.
    pub updated_at_ms: i64,
}

/// A stored message. `content` is kept as the JSON the client or the agent produced (Mastra's
/// `{format: 2, parts, content}`), so the store never loses a field it does not know.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The message's id.
    pub id: String,
    /// The thread it belongs to.
    pub thread_id: String,
    /// The thread's resource.
    pub resource_id: String,
    /// Position in the thread: assigned when the message is appended, increasing, gap-free
    /// within one append.
    pub seq: i64,
    /// `user`, `assistant`, `system` or `tool`.
    pub role: String,
    /// Mastra's message type (`text`, ...).
    pub kind: String,
    /// The content as JSON.
    pub content: Value,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

/// A thread to create.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewThread {
    /// The id the client asked for; a random UUID when `None`.
    pub id: Option<String>,
    /// The owning resource; must be inside the caller's scope.
    pub resource_id: String,
    /// Title.
    pub title: Option<String>,
    /// Metadata (a JSON object).
    pub metadata: Option<Value>,
}

/// Changes to a thread; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThreadPatch {
    /// New title.
    pub title: Option<String>,
    /// New metadata (replaces the old).
    pub metadata: Option<Value>,
}

/// A message to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// The id the client chose; a random UUID when `None`.
    pub id: Option<String>,
    /// The thread to append to.
    pub thread_id: String,
    /// `user`, `assistant`, `system` or `tool`.
    pub role: String,
    /// Mastra's message type (`text` when unsure).
    pub kind: String,
    /// The content as JSON.
    pub content: Value,
    /// Creation time; now when `None`.
    pub created_at_ms: Option<i64>,
}

/// Which way a list is sorted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Direction {
    /// Oldest first.
    Asc,
    /// Newest first.
    #[default]
    Desc,
}

/// The field threads are sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ThreadOrder {
    /// Creation time.
    #[default]
    CreatedAt,
    /// Last change.
    UpdatedAt,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many items the whole list has.
    pub total: u64,
    /// This page's number, from 0.
    pub page: u64,
    /// Items per page; `None` means all items in one page.
    pub per_page: Option<u64>,
}

impl<T> Page<T> {
    /// Whether pages follow this one.
    pub fn has_more(&self) -> bool {
        match self.per_page {
            Some(n) => (self.page + 1).saturating_mul(n) < self.total,
            None => false,
        }
    }
}

/// Paging of a list: page number from 0 and page size (`None`: everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Page number, from 0.
    pub page: u64,
    /// Page size; `None` for all items.
    pub per_page: Option<u64>,
}

impl Paging {
    /// `LIMIT` and `OFFSET` for SQL (`LIMIT -1` means no limit in SQLite; Postgres takes `NULL`).
    pub(crate) fn limit_offset(&self) -> (Option<i64>, i64) {
        match self.per_page {
            Some(n) => {
                let n = i64::try_from(n).unwrap_or(i64::MAX);
                let page = i64::try_from(self.page).unwrap_or(i64::MAX);
                (Some(n), page.saturating_mul(n))
            }
            None => (None, 0),
        }
    }
}

/// A thread listing.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadQuery {
    /// Only this resource's threads; `None` lists every thread the scope admits.
    pub resource_id: Option<String>,
    /// Paging.
    pub paging: Paging,
    /// Sort field.
    pub order: ThreadOrder,
    /// Sort direction.
    pub direction: Direction,
}

/// A message listing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MessageQuery {
    /// Paging.
    pub paging: Paging,
    /// Sort direction by position in the thread.
    pub direction: Direction,
}

/// How to clone a thread.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CloneThread {
    /// Id of the new thread; a random UUID when `None`.
    pub new_id: Option<String>,
    /// Owner of the copy; the source's owner when `None`. Must be inside the caller's scope.
    pub resource_id: Option<String>,
    /// Title of the copy (none when `None`).
    pub title: Option<String>,
    /// Metadata of the copy; the source's when `None`.
    pub metadata: Option<Value>,
    /// Copy only the last this many messages.
    pub message_limit: Option<u64>,
}

/// A cloned thread and its copied messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Cloned {
    /// The new thread.
    pub thread: Thread,
    /// The copies, in thread order.
    pub messages: Vec<Message>,
    /// The id of the message each copy was made from, in the same order.
    pub source_ids: Vec<String>,
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A new unguessable id: a random (version 4) UUID, 122 random bits.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_more_counts_pages_from_zero() {
        let page = |page, per_page, total| Page::<()> {
            items: vec![],
            total,
            page,
            per_page,
        };
        assert!(page(0, Some(2), 3).has_more());
        assert!(!page(1, Some(2), 3).has_more());
        assert!(!page(0, Some(2), 2).has_more());
        assert!(!page(0, None, 100).has_more());
    }

    #[test]
    fn generated_ids_differ_and_are_uuids() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert_eq!(
            uuid::Uuid::parse_str(&a).map(|u| u.get_version_num()),
            Ok(4)
        );
    }
}
