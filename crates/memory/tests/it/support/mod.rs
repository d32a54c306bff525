//! Stores for the shared suite: a fresh SQLite file, or a fresh database on the test Postgres
//! server that `scripts/postgres.sh` starts (`MASTRA_TEST_POSTGRES_URL`).

use std::sync::Arc;

use mastra_memory::{MemoryStore, PostgresStore, SqliteStore};

/// A store plus what keeps its data alive, and a way to open a second handle on the same data
/// (a second process's view).
pub struct Fixture {
    /// The store under test.
    pub store: Arc<dyn MemoryStore>,
    /// Opens another store on the same database.
    pub reopen: Box<dyn Fn() -> Arc<dyn MemoryStore> + Send + Sync>,
    _dir: Option<tempfile::TempDir>,
}

/// A store on a new SQLite file in a temporary directory.
pub async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nested/memory.db");
    let store: Arc<dyn MemoryStore> = Arc::new(SqliteStore::file(&path));
    store.migrate().await.expect("migrate sqlite");
    Fixture {
        store,
        reopen: Box::new(move || Arc::new(SqliteStore::file(&path))),
        _dir: Some(dir),
    }
}

/// The test server's URL; a failure (never a skip) when the tests run without it.
pub fn postgres_url() -> String {
    std::env::var("MASTRA_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "MASTRA_TEST_POSTGRES_URL is not set: the Postgres tests need a server; run `bash scripts/test.sh` (it starts one with scripts/postgres.sh), or `eval $(bash scripts/postgres.sh start /tmp/pg)` first"
        )
    })
}

/// A new, empty database on the test server; answers its URL.
pub async fn fresh_postgres_database() -> String {
    let base = postgres_url();
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .expect("connect to MASTRA_TEST_POSTGRES_URL");
    tokio::spawn(conn);
    let name = format!("t_{}", uuid_simple());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("MASTRA_TEST_POSTGRES_URL has no database name: {base}"),
    }
}

fn uuid_simple() -> String {
    mastra_memory::new_id().replace('-', "")
}

/// A store on a new database of the test Postgres server.
pub async fn postgres() -> Fixture {
    let url = fresh_postgres_database().await;
    let store: Arc<dyn MemoryStore> = Arc::new(PostgresStore::connect(&url).expect("pool"));
    store.migrate().await.expect("migrate postgres");
    Fixture {
        store,
        reopen: Box::new(move || Arc::new(PostgresStore::connect(&url).expect("pool"))),
        _dir: None,
    }
}
