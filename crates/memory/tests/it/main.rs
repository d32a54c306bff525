//! The storage suite: every behaviour is one generic test, run against SQLite and Postgres.

mod store;
mod support;
