//! Versioned schema migrations. Each backend has its own list, same versions, same tables;
//! a version once released is never edited, only followed by a new one. Both stores record the
//! applied version and apply the rest in one transaction at startup.

/// One migration: a version and the SQL that brings the schema from the previous version to it.
pub(crate) struct Migration {
    /// Schema version after this migration.
    pub(crate) version: i64,
    /// Statements, separated by `;`.
    pub(crate) sql: &'static str,
}

/// SQLite migrations (the version is kept in `PRAGMA user_version`).
pub(crate) const SQLITE: &[Migration] = &[Migration {
    version: 1,
    sql: "
CREATE TABLE mastra_threads (
    id TEXT PRIMARY KEY NOT NULL,
    resource_id TEXT NOT NULL,
    title TEXT,
    metadata TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    next_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX mastra_threads_by_resource ON mastra_threads (resource_id, created_at);
CREATE TABLE mastra_messages (
    id TEXT PRIMARY KEY NOT NULL,
    thread_id TEXT NOT NULL REFERENCES mastra_threads (id) ON DELETE CASCADE,
    resource_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL,
    kind TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (thread_id, seq)
);
",
}];

/// Postgres migrations (the version is kept in `mastra_memory_schema`).
pub(crate) const POSTGRES: &[Migration] = &[Migration {
    version: 1,
    sql: "
CREATE TABLE mastra_threads (
    id TEXT PRIMARY KEY NOT NULL,
    resource_id TEXT NOT NULL,
    title TEXT,
    metadata TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    next_seq BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX mastra_threads_by_resource ON mastra_threads (resource_id, created_at);
CREATE TABLE mastra_messages (
    id TEXT PRIMARY KEY NOT NULL,
    thread_id TEXT NOT NULL REFERENCES mastra_threads (id) ON DELETE CASCADE,
    resource_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    role TEXT NOT NULL,
    kind TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (thread_id, seq)
);
",
}];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_by_one_and_agree() {
        for list in [SQLITE, POSTGRES] {
            for (i, m) in list.iter().enumerate() {
                assert_eq!(m.version, i as i64 + 1);
            }
            assert_eq!(list.last().map(|m| m.version), Some(SCHEMA_VERSION));
        }
    }
}
