//! Memory for a Mastra-compatible agent server: conversation threads and their messages, owned
//! by a resource (a user), stored in SQLite (embedded, the default) or Postgres (shared by
//! several server processes).
//!
//! Every [`MemoryStore`] call takes a [`Scope`]: a thread outside it is "not found", a resource
//! outside it is refused. A server builds the scope from the authenticated user, so no handler
//! can read or write another user's threads by naming them.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mastra_memory::MemoryError> {
//! use mastra_memory::{NewThread, Scope, open};
//!
//! let store = open("sqlite://.mastra/memory.db")?;
//! store.migrate().await?;
//! let alice = Scope::resource("alice");
//! let thread = store
//!     .create_thread(&alice, NewThread { resource_id: "alice".into(), ..NewThread::default() })
//!     .await?;
//! assert!(store.get_thread(&Scope::resource("bob"), &thread.id).await.is_err());
//! # Ok(()) }
//! ```

mod checks;
mod error;
mod migrations;
mod model;
mod postgres;
mod scope;
mod sqlite;
mod store;

pub use checks::{MAX_ID_LEN, ROLES};
pub use error::MemoryError;
pub use migrations::SCHEMA_VERSION;
pub use model::{
    CloneThread, Cloned, Direction, Message, MessageQuery, NewMessage, NewThread, Page, Paging,
    Thread, ThreadOrder, ThreadPatch, ThreadQuery, new_id,
};
pub use postgres::PostgresStore;
pub use scope::Scope;
pub use sqlite::SqliteStore;
pub use store::{MemoryStore, Result, open, redact_url};
