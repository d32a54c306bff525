//! The one storage interface, implemented by [`crate::SqliteStore`] and
//! [`crate::PostgresStore`]; [`open`] picks one from a URL.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::MemoryError;
use crate::model::{
    CloneThread, Cloned, Message, MessageQuery, NewMessage, NewThread, Page, Thread, ThreadPatch,
    ThreadQuery,
};
use crate::scope::Scope;

/// Result of a store call.
pub type Result<T, E = MemoryError> = std::result::Result<T, E>;

/// Threads and messages, each call limited to a [`Scope`].
///
/// A thread outside the scope is reported as [`MemoryError::ThreadNotFound`], like one that does
/// not exist; naming a resource outside the scope is [`MemoryError::ForeignResource`]. Every
/// call that writes runs in one transaction: it happens entirely or not at all.
#[async_trait]
pub trait MemoryStore: Send + Sync + std::fmt::Debug {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Applies the migrations not yet applied (safe to run from several processes at once) and
    /// answers the schema version.
    async fn migrate(&self) -> Result<i64>;

    /// Creates a thread. An id that exists already is updated when it is the same resource's
    /// (Mastra's upsert) and refused with [`MemoryError::IdTaken`] otherwise.
    async fn create_thread(&self, scope: &Scope, thread: NewThread) -> Result<Thread>;

    /// One thread.
    async fn get_thread(&self, scope: &Scope, thread_id: &str) -> Result<Thread>;

    /// Threads of the scope, optionally of one resource.
    async fn list_threads(&self, scope: &Scope, query: &ThreadQuery) -> Result<Page<Thread>>;

    /// Renames a thread or replaces its metadata.
    async fn update_thread(
        &self,
        scope: &Scope,
        thread_id: &str,
        patch: ThreadPatch,
    ) -> Result<Thread>;

    /// Deletes a thread and its messages.
    async fn delete_thread(&self, scope: &Scope, thread_id: &str) -> Result<()>;

    /// A page of a thread's messages, by position in the thread.
    async fn list_messages(
        &self,
        scope: &Scope,
        thread_id: &str,
        query: &MessageQuery,
    ) -> Result<Page<Message>>;

    /// The last `limit` messages of a thread, oldest first (what an agent remembers): none
    /// when the thread does not exist yet, [`MemoryError::IdTaken`] when its id belongs to a
    /// thread outside the scope (an agent run must not adopt it).
    async fn last_messages(
        &self,
        scope: &Scope,
        thread_id: &str,
        limit: u64,
    ) -> Result<Vec<Message>>;

    /// Appends messages to existing threads (or updates a message of the same thread whose id
    /// is given again); answers them in the order given.
    async fn save_messages(&self, scope: &Scope, messages: Vec<NewMessage>)
    -> Result<Vec<Message>>;

    /// Appends messages to one thread, creating the thread first when it does not exist (an
    /// agent run with memory). `thread.id` must be set; a thread of that id that belongs to
    /// another resource than `thread.resource_id` is [`MemoryError::IdTaken`], whatever the
    /// scope, so a thread is never shared.
    async fn append(
        &self,
        scope: &Scope,
        thread: NewThread,
        messages: Vec<NewMessage>,
    ) -> Result<(Thread, Vec<Message>)>;

    /// Deletes messages by id; ids that do not exist or lie outside the scope are skipped.
    /// Answers how many were deleted.
    async fn delete_messages(&self, scope: &Scope, message_ids: &[String]) -> Result<u64>;

    /// Copies a thread and its messages (new ids, same order) into a new thread.
    async fn clone_thread(
        &self,
        scope: &Scope,
        source_id: &str,
        clone: CloneThread,
    ) -> Result<Cloned>;
}

/// Opens the store a URL names: `postgres://` or `postgresql://` for Postgres,
/// `sqlite://<path>` (or a bare path) for SQLite, `sqlite::memory:` for a private in-memory
/// SQLite database. Nothing is created or connected until the first call; run
/// [`MemoryStore::migrate`] at startup to find problems early.
pub fn open(url: &str) -> Result<Arc<dyn MemoryStore>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(crate::postgres::PostgresStore::connect(url)?));
    }
    if url == "sqlite::memory:" {
        return Ok(Arc::new(crate::sqlite::SqliteStore::in_memory()));
    }
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    if path.is_empty() || path.contains("://") {
        return Err(MemoryError::Config(format!(
            "unsupported storage url {:?}: use sqlite://<path> or postgres://user@host/db",
            redact_url(url)
        )));
    }
    Ok(Arc::new(crate::sqlite::SqliteStore::file(path)))
}

/// A URL with any password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}{tail}")
            } else {
                url.to_owned()
            }
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/mem?sslmode=disable"),
            "postgres://app:***@db:5432/mem?sslmode=disable"
        );
        assert_eq!(redact_url("postgres://app@db/mem"), "postgres://app@db/mem");
        assert_eq!(redact_url(".mastra/memory.db"), ".mastra/memory.db");
    }

    #[test]
    fn unknown_schemes_are_refused() {
        let e = open("mysql://x:pw@h/db").unwrap_err().to_string();
        assert!(e.contains("sqlite://") && !e.contains("pw"), "{e}");
    }
}
