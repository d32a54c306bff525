//! Memory on Postgres, for several server processes sharing one database.
//!
//! Appends lock the thread's row (`SELECT ... FOR UPDATE`) in the transaction that inserts the
//! messages and advances the thread's `next_seq`, so concurrent appends from any number of
//! processes are numbered one after the other, without gaps or duplicates. Migrations run under
//! a transaction-scoped advisory lock, so replicas starting together migrate once.

use async_trait::async_trait;
use deadpool_postgres::{Config, Pool, Runtime};
use serde_json::Value;
use tokio::sync::OnceCell;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row, Transaction};

use crate::error::MemoryError;
use crate::migrations::POSTGRES;
use crate::model::{
    CloneThread, Cloned, Direction, Message, MessageQuery, NewMessage, NewThread, Page, Thread,
    ThreadOrder, ThreadPatch, ThreadQuery, new_id, now_ms,
};
use crate::scope::Scope;
use crate::store::{MemoryStore, Result, redact_url};

/// Key of the advisory lock held while migrating (any constant unique to this schema).
const MIGRATION_LOCK: i64 = 0x6d61_7374_7261_6d65;

/// Connections kept open per process.
const POOL_SIZE: usize = 16;

/// Memory on Postgres.
pub struct PostgresStore {
    pool: Pool,
    migrated: OnceCell<i64>,
    url: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &redact_url(&self.url))
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// A store for the database at `url` (`postgres://user:password@host:port/db`). Connections
    /// are opened on first use. The connection is not encrypted: use it on a private network
    /// or through a local socket or proxy.
    pub fn connect(url: &str) -> Result<Self> {
        let mut cfg = Config::new();
        cfg.url = Some(url.to_owned());
        cfg.pool = Some(deadpool_postgres::PoolConfig::new(POOL_SIZE));
        let pool = cfg.create_pool(Some(Runtime::Tokio1), NoTls).map_err(|e| {
            MemoryError::Config(format!(
                "cannot use the Postgres url {}: {e}",
                redact_url(url)
            ))
        })?;
        Ok(Self {
            pool,
            migrated: OnceCell::new(),
            url: url.to_owned(),
        })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.migrated
            .get_or_try_init(|| self.run_migrations())
            .await?;
        Ok(self.pool.get().await?)
    }

    async fn run_migrations(&self) -> Result<i64> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS mastra_memory_schema (
                version BIGINT PRIMARY KEY NOT NULL,
                applied_at BIGINT NOT NULL
            )",
        )
        .await?;
        let row = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM mastra_memory_schema",
                &[],
            )
            .await?;
        let mut version: i64 = row.try_get(0)?;
        let applied = version;
        for m in POSTGRES.iter().filter(|m| m.version > applied) {
            tx.batch_execute(m.sql)
                .await
                .map_err(|e| MemoryError::Migration {
                    version: m.version,
                    message: e.to_string(),
                })?;
            tx.execute(
                "INSERT INTO mastra_memory_schema (version, applied_at) VALUES ($1, $2)",
                &[&m.version, &now_ms()],
            )
            .await?;
            version = m.version;
        }
        tx.commit().await?;
        Ok(version)
    }
}

const THREAD_COLUMNS: &str = "id, resource_id, title, metadata, created_at, updated_at";
const MESSAGE_COLUMNS: &str = "id, thread_id, resource_id, seq, role, kind, content, created_at";

fn json_text(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(Value::to_string)
}

fn thread_row(r: &Row) -> Result<Thread> {
    let metadata: Option<String> = r.try_get(3)?;
    Ok(Thread {
        id: r.try_get(0)?,
        resource_id: r.try_get(1)?,
        title: r.try_get(2)?,
        metadata: metadata.and_then(|t| serde_json::from_str(&t).ok()),
        created_at_ms: r.try_get(4)?,
        updated_at_ms: r.try_get(5)?,
    })
}

fn message_row(r: &Row) -> Result<Message> {
    let content: String = r.try_get(6)?;
    Ok(Message {
        id: r.try_get(0)?,
        thread_id: r.try_get(1)?,
        resource_id: r.try_get(2)?,
        seq: r.try_get(3)?,
        role: r.try_get(4)?,
        kind: r.try_get(5)?,
        content: serde_json::from_str(&content).unwrap_or(Value::String(content)),
        created_at_ms: r.try_get(7)?,
    })
}

fn rows<T>(rows: Vec<Row>, f: fn(&Row) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(f).collect()
}

/// The thread `id` regardless of scope; `lock` holds its row until the transaction ends.
async fn find_thread(tx: &Transaction<'_>, id: &str, lock: bool) -> Result<Option<Thread>> {
    let sql = format!(
        "SELECT {THREAD_COLUMNS} FROM mastra_threads WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    tx.query_opt(&sql, &[&id])
        .await?
        .as_ref()
        .map(thread_row)
        .transpose()
}

async fn scoped_thread(
    tx: &Transaction<'_>,
    scope: &Scope,
    id: &str,
    lock: bool,
) -> Result<Thread> {
    find_thread(tx, id, lock)
        .await?
        .filter(|t| scope.admits(&t.resource_id))
        .ok_or(MemoryError::ThreadNotFound)
}

/// Inserts the thread unless its id exists; answers whether it was inserted.
async fn try_insert_thread(tx: &Transaction<'_>, thread: &Thread) -> Result<bool> {
    let n = tx
        .execute(
            "INSERT INTO mastra_threads (id, resource_id, title, metadata, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            &[
                &thread.id,
                &thread.resource_id,
                &thread.title,
                &json_text(&thread.metadata),
                &thread.created_at_ms,
                &thread.updated_at_ms,
            ],
        )
        .await?;
    Ok(n == 1)
}

fn thread_of(new: NewThread) -> Thread {
    let now = now_ms();
    Thread {
        id: new.id.unwrap_or_else(new_id),
        resource_id: new.resource_id,
        title: new.title,
        metadata: new.metadata,
        created_at_ms: now,
        updated_at_ms: now,
    }
}

async fn patch_thread(tx: &Transaction<'_>, mut t: Thread, patch: ThreadPatch) -> Result<Thread> {
    let patch = crate::checks::patch(patch)?;
    if let Some(title) = patch.title {
        t.title = Some(title);
    }
    if let Some(metadata) = patch.metadata {
        t.metadata = Some(metadata);
    }
    t.updated_at_ms = now_ms().max(t.updated_at_ms);
    tx.execute(
        "UPDATE mastra_threads SET title = $2, metadata = $3, updated_at = $4 WHERE id = $1",
        &[&t.id, &t.title, &json_text(&t.metadata), &t.updated_at_ms],
    )
    .await?;
    Ok(t)
}

/// Inserts (or, for an id of the same thread, updates) messages of one thread whose row the
/// transaction holds locked, numbering the new ones after the thread's last.
async fn put_messages(
    tx: &Transaction<'_>,
    thread: &Thread,
    messages: Vec<NewMessage>,
) -> Result<Vec<Message>> {
    let row = tx
        .query_one(
            "SELECT next_seq FROM mastra_threads WHERE id = $1",
            &[&thread.id],
        )
        .await?;
    let mut next: i64 = row.try_get(0)?;
    let now = now_ms();
    let mut out = Vec::with_capacity(messages.len());
    for m in messages {
        let m = crate::checks::new_message(m)?;
        let existing = match &m.id {
            Some(id) => tx
                .query_opt(
                    "SELECT thread_id, seq FROM mastra_messages WHERE id = $1",
                    &[id],
                )
                .await?
                .map(|r| -> Result<(String, i64)> { Ok((r.try_get(0)?, r.try_get(1)?)) })
                .transpose()?,
            None => None,
        };
        let message = crate::checks::stored(thread, m, now);
        let content = message.content.to_string();
        let message = match existing {
            Some((owner, _)) if owner != thread.id => {
                return Err(MemoryError::IdTaken { kind: "Message" });
            }
            Some((_, seq)) => {
                tx.execute(
                    "UPDATE mastra_messages SET role = $2, kind = $3, content = $4, created_at = $5
                     WHERE id = $1",
                    &[
                        &message.id,
                        &message.role,
                        &message.kind,
                        &content,
                        &message.created_at_ms,
                    ],
                )
                .await?;
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
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        &message.id,
                        &message.thread_id,
                        &message.resource_id,
                        &message.seq,
                        &message.role,
                        &message.kind,
                        &content,
                        &message.created_at_ms,
                    ],
                )
                .await?;
                message
            }
        };
        out.push(message);
    }
    tx.execute(
        "UPDATE mastra_threads SET next_seq = $2, updated_at = greatest(updated_at, $3)
         WHERE id = $1",
        &[&thread.id, &next, &now],
    )
    .await?;
    Ok(out)
}

fn direction_sql(d: Direction) -> &'static str {
    match d {
        Direction::Asc => "ASC",
        Direction::Desc => "DESC",
    }
}

/// Page size for SQL: `NULL` is no limit in Postgres.
fn limit(n: Option<u64>) -> Option<i64> {
    n.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

#[async_trait]
impl MemoryStore for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> Result<i64> {
        self.migrated
            .get_or_try_init(|| self.run_migrations())
            .await
            .copied()
    }

    async fn create_thread(&self, scope: &Scope, new: NewThread) -> Result<Thread> {
        let new = crate::checks::new_thread(scope, new)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let thread = thread_of(new.clone());
        let thread = if try_insert_thread(&tx, &thread).await? {
            thread
        } else {
            match find_thread(&tx, &thread.id, true).await? {
                Some(t) if scope.admits(&t.resource_id) && t.resource_id == new.resource_id => {
                    let patch = ThreadPatch {
                        title: new.title,
                        metadata: new.metadata,
                    };
                    patch_thread(&tx, t, patch).await?
                }
                _ => return Err(MemoryError::IdTaken { kind: "Thread" }),
            }
        };
        tx.commit().await?;
        Ok(thread)
    }

    async fn get_thread(&self, scope: &Scope, thread_id: &str) -> Result<Thread> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        scoped_thread(&tx, scope, thread_id, false).await
    }

    async fn list_threads(&self, scope: &Scope, query: &ThreadQuery) -> Result<Page<Thread>> {
        let resource = crate::checks::listed_resource(scope, query)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let filter = if resource.is_some() {
            "WHERE resource_id = $1"
        } else {
            "WHERE $1::TEXT IS NULL"
        };
        let total: i64 = tx
            .query_one(
                &format!("SELECT count(*) FROM mastra_threads {filter}"),
                &[&resource],
            )
            .await?
            .try_get(0)?;
        let field = match query.order {
            ThreadOrder::CreatedAt => "created_at",
            ThreadOrder::UpdatedAt => "updated_at",
        };
        let dir = direction_sql(query.direction);
        let (lim, offset) = query.paging.limit_offset();
        let sql = format!(
            "SELECT {THREAD_COLUMNS} FROM mastra_threads {filter}
             ORDER BY {field} {dir}, id {dir} LIMIT $2 OFFSET $3"
        );
        let params: [&(dyn ToSql + Sync); 3] = [&resource, &lim, &offset];
        let items = rows(tx.query(&sql, &params).await?, thread_row)?;
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or(0),
            page: query.paging.page,
            per_page: query.paging.per_page,
        })
    }

    async fn update_thread(
        &self,
        scope: &Scope,
        thread_id: &str,
        patch: ThreadPatch,
    ) -> Result<Thread> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let t = scoped_thread(&tx, scope, thread_id, true).await?;
        let t = patch_thread(&tx, t, patch).await?;
        tx.commit().await?;
        Ok(t)
    }

    async fn delete_thread(&self, scope: &Scope, thread_id: &str) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        scoped_thread(&tx, scope, thread_id, true).await?;
        tx.execute(
            "DELETE FROM mastra_messages WHERE thread_id = $1",
            &[&thread_id],
        )
        .await?;
        tx.execute("DELETE FROM mastra_threads WHERE id = $1", &[&thread_id])
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_messages(
        &self,
        scope: &Scope,
        thread_id: &str,
        query: &MessageQuery,
    ) -> Result<Page<Message>> {
        let mut client = self.client().await?;
        // One snapshot for the count and the page.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        scoped_thread(&tx, scope, thread_id, false).await?;
        let total: i64 = tx
            .query_one(
                "SELECT count(*) FROM mastra_messages WHERE thread_id = $1",
                &[&thread_id],
            )
            .await?
            .try_get(0)?;
        let (lim, offset) = query.paging.limit_offset();
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM mastra_messages WHERE thread_id = $1
             ORDER BY seq {} LIMIT $2 OFFSET $3",
            direction_sql(query.direction)
        );
        let items = rows(
            tx.query(&sql, &[&thread_id, &lim, &offset]).await?,
            message_row,
        )?;
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or(0),
            page: query.paging.page,
            per_page: query.paging.per_page,
        })
    }

    async fn last_messages(
        &self,
        scope: &Scope,
        thread_id: &str,
        count: u64,
    ) -> Result<Vec<Message>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        match find_thread(&tx, thread_id, false).await? {
            None => return Ok(Vec::new()),
            Some(t) if !scope.admits(&t.resource_id) => {
                return Err(MemoryError::IdTaken { kind: "Thread" });
            }
            Some(_) => {}
        }
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM mastra_messages WHERE thread_id = $1
             ORDER BY seq DESC LIMIT $2"
        );
        let mut items = rows(
            tx.query(&sql, &[&thread_id, &limit(Some(count))]).await?,
            message_row,
        )?;
        items.reverse();
        Ok(items)
    }

    async fn save_messages(
        &self,
        scope: &Scope,
        messages: Vec<NewMessage>,
    ) -> Result<Vec<Message>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut out = Vec::with_capacity(messages.len());
        for (thread_id, group) in crate::checks::by_thread(messages) {
            let thread = scoped_thread(&tx, scope, &thread_id, true).await?;
            out.extend(put_messages(&tx, &thread, group).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn append(
        &self,
        scope: &Scope,
        thread: NewThread,
        messages: Vec<NewMessage>,
    ) -> Result<(Thread, Vec<Message>)> {
        if thread.id.is_none() {
            return Err(MemoryError::Invalid("a thread id is required".into()));
        }
        let new = crate::checks::new_thread(scope, thread)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        try_insert_thread(&tx, &thread_of(new.clone())).await?;
        let id = new.id.unwrap_or_default();
        let thread = match find_thread(&tx, &id, true).await? {
            Some(t) if scope.admits(&t.resource_id) && t.resource_id == new.resource_id => t,
            _ => return Err(MemoryError::IdTaken { kind: "Thread" }),
        };
        let saved = put_messages(&tx, &thread, crate::checks::into_thread(messages, &id)).await?;
        tx.commit().await?;
        Ok((thread, saved))
    }

    async fn delete_messages(&self, scope: &Scope, message_ids: &[String]) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut deleted = 0u64;
        for id in message_ids {
            let owner: Option<String> = tx
                .query_opt(
                    "SELECT resource_id FROM mastra_messages WHERE id = $1",
                    &[id],
                )
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
            if owner.is_some_and(|r| scope.admits(&r)) {
                deleted += tx
                    .execute("DELETE FROM mastra_messages WHERE id = $1", &[id])
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(deleted)
    }

    async fn clone_thread(
        &self,
        scope: &Scope,
        source_id: &str,
        clone: CloneThread,
    ) -> Result<Cloned> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let source = scoped_thread(&tx, scope, source_id, true).await?;
        let (new, count) = crate::checks::clone_plan(&source, clone);
        let thread = thread_of(crate::checks::new_thread(scope, new)?);
        if !try_insert_thread(&tx, &thread).await? {
            return Err(MemoryError::IdTaken { kind: "Thread" });
        }
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM mastra_messages WHERE thread_id = $1
             ORDER BY seq DESC LIMIT $2"
        );
        let mut originals = rows(
            tx.query(&sql, &[&source.id, &limit(count)]).await?,
            message_row,
        )?;
        originals.reverse();
        let source_ids = originals.iter().map(|m| m.id.clone()).collect();
        let copies = crate::checks::copies(originals, &thread.id);
        let messages = put_messages(&tx, &thread, copies).await?;
        tx.commit().await?;
        Ok(Cloned {
            thread,
            messages,
            source_ids,
        })
    }
}
