//! What a key set reports about itself: [`KeySetStats`].

use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// Counters and state of a [`KeySet`](super::KeySet), for tests, metrics and `mastra token verify`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySetStats {
    /// HTTP requests made for the document (successful or not, 304s included).
    pub fetches: u64,
    /// Requests that failed (transport, status, size, undecodable document).
    pub failures: u64,
    /// Forced refreshes started because of an unknown `kid`.
    pub forced_refreshes: u64,
    /// Answers `304 Not Modified`.
    pub not_modified: u64,
    /// Time since the current keys were last fetched or revalidated; `None` before the first.
    pub key_age: Option<Duration>,
    /// Number of usable keys in the current snapshot.
    pub keys: usize,
    /// Lifetime of the current snapshot (from `Cache-Control`, clamped, or the default).
    pub ttl: Option<Duration>,
}

/// The counters of [`KeySetStats`], updated without a lock.
#[derive(Default)]
pub(super) struct Counters {
    /// See [`KeySetStats::fetches`].
    pub(super) fetches: AtomicU64,
    /// See [`KeySetStats::failures`].
    pub(super) failures: AtomicU64,
    /// See [`KeySetStats::forced_refreshes`].
    pub(super) forced: AtomicU64,
    /// See [`KeySetStats::not_modified`].
    pub(super) not_modified: AtomicU64,
}
