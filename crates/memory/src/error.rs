//! The store's errors: what the caller did wrong (not found, an id taken, a resource outside the
//! scope, bad input) apart from what failed underneath (the database).

use thiserror::Error;

/// An error of a [`crate::MemoryStore`] call.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MemoryError {
    /// The thread does not exist or is outside the caller's scope (the two are not told apart).
    #[error("Thread not found")]
    ThreadNotFound,
    /// A client-chosen thread id is already used by a thread outside the caller's scope, or a
    /// message id by another thread: ids are never shared or merged across owners.
    #[error("{kind} id is already in use")]
    IdTaken {
        /// `Thread` or `Message`.
        kind: &'static str,
    },
    /// The request names a resource outside the caller's scope.
    #[error("resource is outside the caller's scope")]
    ForeignResource,
    /// The input cannot be stored (an empty id, metadata that is not an object).
    #[error("{0}")]
    Invalid(String),
    /// The storage URL or options are unusable.
    #[error("storage configuration: {0}")]
    Config(String),
    /// A schema migration failed.
    #[error("migrating the memory schema to version {version}: {message}")]
    Migration {
        /// The migration's version.
        version: i64,
        /// What failed.
        message: String,
    },
    /// SQLite failed.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Postgres failed.
    #[error("Postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No Postgres connection could be had from the pool.
    #[error("Postgres pool: {0}")]
    Pool(String),
    /// The blocking task running a SQLite call ended abnormally.
    #[error("storage task failed: {0}")]
    Task(String),
}

impl From<deadpool_postgres::PoolError> for MemoryError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => MemoryError::Postgres(e),
            other => MemoryError::Pool(other.to_string()),
        }
    }
}

impl MemoryError {
    /// Whether the caller caused it (bad input, unknown thread), as opposed to the storage.
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            MemoryError::ThreadNotFound
                | MemoryError::IdTaken { .. }
                | MemoryError::ForeignResource
                | MemoryError::Invalid(_)
        )
    }
}
