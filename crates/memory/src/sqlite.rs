//! The embedded store: one SQLite file in WAL mode (`.mastra/memory.db` by default).
//!
//! Two connections, each behind a mutex, used from blocking tasks: one writes (SQLite has one
//! writer at a time anyway, and a write transaction, `BEGIN IMMEDIATE`, takes the write lock
//! before it reads, so the sequence numbers it hands out cannot race with another process
//! sharing the file), one reads (`query_only`; in WAL mode it reads the last committed state
//! while a write waits for the disk). An in-memory database has one connection for both.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use serde_json::Value;

use crate::error::MemoryError;
use crate::migrations::SQLITE;
use crate::model::{
    CloneThread, Cloned, Direction, Message, MessageQuery, NewMessage, NewThread, Page, Thread,
    ThreadOrder, ThreadPatch, ThreadQuery, new_id, now_ms,
};
use crate::scope::Scope;
use crate::store::{MemoryStore, Result};

/// Where the database lives.
#[derive(Debug, Clone)]
enum Location {
    File(PathBuf),
    InMemory,
}

/// Memory on SQLite.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    location: Location,
    /// Opened on first use, so building a server that never touches memory creates no file.
    writer: Arc<Mutex<Option<Connection>>>,
    /// Opened on the first read, after the writer (which creates and migrates the file).
    reader: Arc<Mutex<Option<Connection>>>,
}

/// Which connection a call uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Write,
    Read,
}

impl SqliteStore {
    /// A store in the file at `path` (created, with its directory, on first use).
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self {
            location: Location::File(path.into()),
            writer: Arc::new(Mutex::new(None)),
            reader: Arc::new(Mutex::new(None)),
        }
    }

    /// A private in-memory database (gone when the store is dropped).
    pub fn in_memory() -> Self {
        Self {
            location: Location::InMemory,
            writer: Arc::new(Mutex::new(None)),
            reader: Arc::new(Mutex::new(None)),
        }
    }

    fn open(&self) -> Result<Connection> {
        let conn = match &self.location {
            Location::InMemory => Connection::open_in_memory()?,
            Location::File(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        MemoryError::Config(format!(
                            "cannot create the directory {} for the memory database: {e}",
                            dir.display()
                        ))
                    })?;
                }
                create_private(path)?;
                let conn = Connection::open(path)?;
                // WAL: readers do not block the writer; FULL: a committed message survives a
                // power loss, not only a crash of the process.
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "FULL")?;
                conn
            }
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&conn)?;
        Ok(conn)
    }

    /// The read-only connection to the file the writer opened.
    fn open_reader(&self) -> Result<Connection> {
        match &self.location {
            Location::File(path) => {
                let conn = Connection::open(path)?;
                conn.busy_timeout(std::time::Duration::from_secs(5))?;
                conn.pragma_update(None, "query_only", "ON")?;
                Ok(conn)
            }
            Location::InMemory => Err(MemoryError::Task(
                "an in-memory database has no separate reader".into(),
            )),
        }
    }

    /// Runs `f` with the connection of `role` on a blocking thread.
    async fn call<T, F>(&self, role: Role, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding a lock cannot leave a half-done transaction behind
            // (rusqlite rolls back on drop), so a poisoned lock is still usable.
            let separate_reader = role == Role::Read && matches!(this.location, Location::File(_));
            if separate_reader {
                // Once open, a read never waits for the writer's lock (held across fsync).
                let mut reader = lock(&this.reader);
                if reader.is_none() {
                    // The writer creates and migrates the file first.
                    let mut writer = lock(&this.writer);
                    if writer.is_none() {
                        *writer = Some(this.open()?);
                    }
                    drop(writer);
                    *reader = Some(this.open_reader()?);
                }
                return match reader.as_mut() {
                    Some(conn) => f(conn),
                    None => Err(MemoryError::Task("connection missing".into())),
                };
            }
            let mut writer = lock(&this.writer);
            if writer.is_none() {
                *writer = Some(this.open()?);
            }
            match writer.as_mut() {
                Some(conn) => f(conn),
                None => Err(MemoryError::Task("connection missing".into())),
            }
        })
        .await
        .map_err(|e| MemoryError::Task(e.to_string()))?
    }

    /// Runs `f` in a write transaction, committed when it returns `Ok`.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        self.call(Role::Write, move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    /// Runs `f` in a read transaction (one snapshot for a count and a page).
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        self.call(Role::Read, move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            f(&tx)
        })
        .await
    }
}

/// Locks a connection slot.
fn lock(m: &Mutex<Option<Connection>>) -> std::sync::MutexGuard<'_, Option<Connection>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Creates the database file readable by its owner only (conversations are private); SQLite
/// gives its `-wal` and `-shm` files the same permissions. An existing file is left as it is.
fn create_private(path: &std::path::Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(MemoryError::Config(format!(
            "cannot create the memory database {}: {e}",
            path.display()
        ))),
    }
}

fn migrate(conn: &Connection) -> Result<i64> {
    let tx = conn.unchecked_transaction()?;
    // Take the write lock first: two processes starting on one file migrate one after the other.
    tx.execute_batch("CREATE TABLE IF NOT EXISTS mastra_memory_lock (x INTEGER)")?;
    let mut version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let applied = version;
    for m in SQLITE.iter().filter(|m| m.version > applied) {
        tx.execute_batch(m.sql)
            .map_err(|e| MemoryError::Migration {
                version: m.version,
                message: e.to_string(),
            })?;
        tx.pragma_update(None, "user_version", m.version)?;
        version = m.version;
    }
    tx.commit()?;
    Ok(version)
}

const THREAD_COLUMNS: &str = "id, resource_id, title, metadata, created_at, updated_at";
const MESSAGE_COLUMNS: &str = "id, thread_id, resource_id, seq, role, kind, content, created_at";

fn json_text(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(Value::to_string)
}

fn parse_json(text: Option<String>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

fn thread_row(r: &Row<'_>) -> rusqlite::Result<Thread> {
    Ok(Thread {
        id: r.get(0)?,
        resource_id: r.get(1)?,
        title: r.get(2)?,
        metadata: parse_json(r.get(3)?),
        created_at_ms: r.get(4)?,
        updated_at_ms: r.get(5)?,
    })
}

fn message_row(r: &Row<'_>) -> rusqlite::Result<Message> {
    let content: String = r.get(6)?;
    Ok(Message {
        id: r.get(0)?,
        thread_id: r.get(1)?,
        resource_id: r.get(2)?,
        seq: r.get(3)?,
        role: r.get(4)?,
        kind: r.get(5)?,
        content: serde_json::from_str(&content).unwrap_or(Value::String(content)),
        created_at_ms: r.get(7)?,
    })
}

/// The thread `id` regardless of scope.
fn find_thread(tx: &Transaction<'_>, id: &str) -> Result<Option<Thread>> {
    Ok(tx
        .query_row(
            &format!("SELECT {THREAD_COLUMNS} FROM mastra_threads WHERE id = ?1"),
            [id],
            thread_row,
        )
        .optional()?)
}

/// The thread `id` if the scope admits it.
fn scoped_thread(tx: &Transaction<'_>, scope: &Scope, id: &str) -> Result<Thread> {
    find_thread(tx, id)?
        .filter(|t| scope.admits(&t.resource_id))
        .ok_or(MemoryError::ThreadNotFound)
}

fn insert_thread(tx: &Transaction<'_>, scope: &Scope, new: NewThread) -> Result<Thread> {
    let new = crate::checks::new_thread(scope, new)?;
    let now = now_ms();
    let thread = Thread {
        id: new.id.unwrap_or_else(new_id),
        resource_id: new.resource_id,
        title: new.title,
        metadata: new.metadata,
        created_at_ms: now,
        updated_at_ms: now,
    };
    tx.execute(
        "INSERT INTO mastra_threads (id, resource_id, title, metadata, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            thread.id,
            thread.resource_id,
            thread.title,
            json_text(&thread.metadata),
            thread.created_at_ms,
            thread.updated_at_ms
        ],
    )?;
    Ok(thread)
}

fn create_thread(tx: &Transaction<'_>, scope: &Scope, new: NewThread) -> Result<Thread> {
    let existing = match &new.id {
        Some(id) => find_thread(tx, id)?,
        None => None,
    };
    match existing {
        None => insert_thread(tx, scope, new),
        Some(t) if scope.admits(&t.resource_id) && t.resource_id == new.resource_id => {
            let patch = ThreadPatch {
                title: new.title,
                metadata: new.metadata,
            };
            patch_thread(tx, t, patch)
        }
        Some(_) => Err(MemoryError::IdTaken { kind: "Thread" }),
    }
}

fn patch_thread(tx: &Transaction<'_>, mut t: Thread, patch: ThreadPatch) -> Result<Thread> {
    let patch = crate::checks::patch(patch)?;
    if let Some(title) = patch.title {
        t.title = Some(title);
    }
    if let Some(metadata) = patch.metadata {
        t.metadata = Some(metadata);
    }
    t.updated_at_ms = now_ms().max(t.updated_at_ms);
    tx.execute(
        "UPDATE mastra_threads SET title = ?2, metadata = ?3, updated_at = ?4 WHERE id = ?1",
        params![t.id, t.title, json_text(&t.metadata), t.updated_at_ms],
    )?;
    Ok(t)
}

/// Inserts (or, for an id of the same thread, updates) messages of one thread, numbering the
/// new ones after the thread's last.
fn put_messages(
    tx: &Transaction<'_>,
    thread: &Thread,
    messages: Vec<NewMessage>,
) -> Result<Vec<Message>> {
    let mut next: i64 = tx.query_row(
        "SELECT next_seq FROM mastra_threads WHERE id = ?1",
        [&thread.id],
        |r| r.get(0),
    )?;
    let now = now_ms();
    let mut out = Vec::with_capacity(messages.len());
    for m in messages {
        let m = crate::checks::new_message(m)?;
        let existing: Option<(String, i64)> = match &m.id {
            Some(id) => tx
                .query_row(
                    "SELECT thread_id, seq FROM mastra_messages WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?,
            None => None,
        };
        let message = crate::checks::stored(thread, m, now);
        let message = match existing {
            Some((owner, _)) if owner != thread.id => {
                return Err(MemoryError::IdTaken { kind: "Message" });
            }
            Some((_, seq)) => {
                tx.execute(
                    "UPDATE mastra_messages SET role = ?2, kind = ?3, content = ?4, created_at = ?5
                     WHERE id = ?1",
                    params![
                        message.id,
                        message.role,
                        message.kind,
                        message.content.to_string(),
                        message.created_at_ms
                    ],
                )?;
                Message { seq, ..message }
            }
            None => {
                let message = Message {
                    seq: next,
                    ..message
                };
                next += 1;
                tx.execute(
                    "INSERT INTO mastra_messages
                     (id, thread_id, resource_id, seq, role, kind, content, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        message.id,
                        message.thread_id,
                        message.resource_id,
                        message.seq,
                        message.role,
                        message.kind,
                        message.content.to_string(),
                        message.created_at_ms
                    ],
                )?;
                message
            }
        };
        out.push(message);
    }
    tx.execute(
        "UPDATE mastra_threads SET next_seq = ?2, updated_at = max(updated_at, ?3) WHERE id = ?1",
        params![thread.id, next, now],
    )?;
    Ok(out)
}

fn direction_sql(d: Direction) -> &'static str {
    match d {
        Direction::Asc => "ASC",
        Direction::Desc => "DESC",
    }
}

#[async_trait]
impl MemoryStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<i64> {
        // Opening migrates; ask for the version the file now has.
        self.call(Role::Write, |conn| {
            Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
        })
        .await
    }

    async fn create_thread(&self, scope: &Scope, thread: NewThread) -> Result<Thread> {
        let scope = scope.clone();
        self.write(move |tx| create_thread(tx, &scope, thread))
            .await
    }

    async fn get_thread(&self, scope: &Scope, thread_id: &str) -> Result<Thread> {
        let (scope, id) = (scope.clone(), thread_id.to_owned());
        self.read(move |tx| scoped_thread(tx, &scope, &id)).await
    }

    async fn list_threads(&self, scope: &Scope, query: &ThreadQuery) -> Result<Page<Thread>> {
        let resource = crate::checks::listed_resource(scope, query)?;
        let query = query.clone();
        self.read(move |tx| {
            let (filter, arg): (&str, Option<&str>) = match &resource {
                Some(r) => ("WHERE resource_id = ?1", Some(r.as_str())),
                None => ("", None),
            };
            let total: i64 = tx.query_row(
                &format!("SELECT count(*) FROM mastra_threads {filter}"),
                rusqlite::params_from_iter(arg),
                |r| r.get(0),
            )?;
            let field = match query.order {
                ThreadOrder::CreatedAt => "created_at",
                ThreadOrder::UpdatedAt => "updated_at",
            };
            let dir = direction_sql(query.direction);
            let (limit, offset) = query.paging.limit_offset();
            let sql = format!(
                "SELECT {THREAD_COLUMNS} FROM mastra_threads {filter}
                 ORDER BY {field} {dir}, id {dir} LIMIT {} OFFSET {offset}",
                limit.unwrap_or(-1)
            );
            let mut stmt = tx.prepare(&sql)?;
            let items = stmt
                .query_map(rusqlite::params_from_iter(arg), thread_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Page {
                items,
                total: u64::try_from(total).unwrap_or(0),
                page: query.paging.page,
                per_page: query.paging.per_page,
            })
        })
        .await
    }

    async fn update_thread(
        &self,
        scope: &Scope,
        thread_id: &str,
        patch: ThreadPatch,
    ) -> Result<Thread> {
        let (scope, id) = (scope.clone(), thread_id.to_owned());
        self.write(move |tx| {
            let t = scoped_thread(tx, &scope, &id)?;
            patch_thread(tx, t, patch)
        })
        .await
    }

    async fn delete_thread(&self, scope: &Scope, thread_id: &str) -> Result<()> {
        let (scope, id) = (scope.clone(), thread_id.to_owned());
        self.write(move |tx| {
            scoped_thread(tx, &scope, &id)?;
            tx.execute("DELETE FROM mastra_messages WHERE thread_id = ?1", [&id])?;
            tx.execute("DELETE FROM mastra_threads WHERE id = ?1", [&id])?;
            Ok(())
        })
        .await
    }

    async fn list_messages(
        &self,
        scope: &Scope,
        thread_id: &str,
        query: &MessageQuery,
    ) -> Result<Page<Message>> {
        let (scope, id, query) = (scope.clone(), thread_id.to_owned(), *query);
        self.read(move |tx| {
            scoped_thread(tx, &scope, &id)?;
            let total: i64 = tx.query_row(
                "SELECT count(*) FROM mastra_messages WHERE thread_id = ?1",
                [&id],
                |r| r.get(0),
            )?;
            let (limit, offset) = query.paging.limit_offset();
            let sql = format!(
                "SELECT {MESSAGE_COLUMNS} FROM mastra_messages WHERE thread_id = ?1
                 ORDER BY seq {} LIMIT {} OFFSET {offset}",
                direction_sql(query.direction),
                limit.unwrap_or(-1)
            );
            let mut stmt = tx.prepare(&sql)?;
            let items = stmt
                .query_map([&id], message_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Page {
                items,
                total: u64::try_from(total).unwrap_or(0),
                page: query.paging.page,
                per_page: query.paging.per_page,
            })
        })
        .await
    }

    async fn last_messages(
        &self,
        scope: &Scope,
        thread_id: &str,
        limit: u64,
    ) -> Result<Vec<Message>> {
        let (scope, id) = (scope.clone(), thread_id.to_owned());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |tx| {
            match find_thread(tx, &id)? {
                None => return Ok(Vec::new()),
                Some(t) if !scope.admits(&t.resource_id) => {
                    return Err(MemoryError::IdTaken { kind: "Thread" });
                }
                Some(_) => {}
            }
            let mut stmt = tx.prepare(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM mastra_messages WHERE thread_id = ?1
                 ORDER BY seq DESC LIMIT ?2"
            ))?;
            let mut items = stmt
                .query_map(params![id, limit], message_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            items.reverse();
            Ok(items)
        })
        .await
    }

    async fn save_messages(
        &self,
        scope: &Scope,
        messages: Vec<NewMessage>,
    ) -> Result<Vec<Message>> {
        let scope = scope.clone();
        self.write(move |tx| {
            let mut out = Vec::with_capacity(messages.len());
            for (thread_id, group) in crate::checks::by_thread(messages) {
                let thread = scoped_thread(tx, &scope, &thread_id)?;
                out.extend(put_messages(tx, &thread, group)?);
            }
            Ok(out)
        })
        .await
    }

    async fn append(
        &self,
        scope: &Scope,
        thread: NewThread,
        messages: Vec<NewMessage>,
    ) -> Result<(Thread, Vec<Message>)> {
        let scope = scope.clone();
        self.write(move |tx| {
            let id = thread
                .id
                .clone()
                .ok_or_else(|| MemoryError::Invalid("a thread id is required".into()))?;
            let thread = match find_thread(tx, &id)? {
                Some(t) if scope.admits(&t.resource_id) && t.resource_id == thread.resource_id => t,
                Some(_) => return Err(MemoryError::IdTaken { kind: "Thread" }),
                None => insert_thread(tx, &scope, thread)?,
            };
            let messages = crate::checks::into_thread(messages, &thread.id);
            let saved = put_messages(tx, &thread, messages)?;
            Ok((thread, saved))
        })
        .await
    }

    async fn delete_messages(&self, scope: &Scope, message_ids: &[String]) -> Result<u64> {
        let (scope, ids) = (scope.clone(), message_ids.to_vec());
        self.write(move |tx| {
            let mut deleted = 0u64;
            for id in ids {
                let owner: Option<String> = tx
                    .query_row(
                        "SELECT resource_id FROM mastra_messages WHERE id = ?1",
                        [&id],
                        |r| r.get(0),
                    )
                    .optional()?;
                if owner.is_some_and(|r| scope.admits(&r)) {
                    deleted +=
                        tx.execute("DELETE FROM mastra_messages WHERE id = ?1", [&id])? as u64;
                }
            }
            Ok(deleted)
        })
        .await
    }

    async fn clone_thread(
        &self,
        scope: &Scope,
        source_id: &str,
        clone: CloneThread,
    ) -> Result<Cloned> {
        let (scope, source_id) = (scope.clone(), source_id.to_owned());
        self.write(move |tx| {
            let source = scoped_thread(tx, &scope, &source_id)?;
            let (new, limit) = crate::checks::clone_plan(&source, clone);
            if let Some(id) = &new.id
                && find_thread(tx, id)?.is_some()
            {
                return Err(MemoryError::IdTaken { kind: "Thread" });
            }
            let thread = insert_thread(tx, &scope, new)?;
            let limit = limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
            let mut stmt = tx.prepare(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM mastra_messages WHERE thread_id = ?1
                 ORDER BY seq DESC LIMIT ?2"
            ))?;
            let mut originals = stmt
                .query_map(params![source.id, limit], message_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            originals.reverse();
            let source_ids = originals.iter().map(|m| m.id.clone()).collect();
            let copies = crate::checks::copies(originals, &thread.id);
            let messages = put_messages(tx, &thread, copies)?;
            Ok(Cloned {
                thread,
                messages,
                source_ids,
            })
        })
        .await
    }
}
