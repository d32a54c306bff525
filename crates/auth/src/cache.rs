//! A bounded cache of already-verified tokens, so a repeated token skips the crypto.
//!
//! Keyed by SHA-256 of the token (the token itself is never stored); an entry lives at most
//! `max_ttl` and never past the token's `exp`, which is re-checked on every hit. Only successes
//! are cached.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::User;

/// Default number of cached tokens.
pub const DEFAULT_CAPACITY: u64 = 10_000;
/// Default upper bound on how long a verified token is trusted without re-verification.
pub const DEFAULT_MAX_TTL: Duration = Duration::from_secs(300);

#[derive(Clone)]
struct Entry {
    user: Arc<User>,
    exp: Option<f64>,
}

/// A token's key in the cache: SHA-256 of the token. Compute it once per request with
/// [`VerifiedTokenCache::key`] and use it for the lookup and, on a miss, the insert.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey([u8; 32]);

impl std::fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CacheKey(..)")
    }
}

/// Cache of verified tokens: SHA-256(token) -> user, bounded in size and age.
#[derive(Clone)]
pub struct VerifiedTokenCache {
    inner: moka::sync::Cache<CacheKey, Entry>,
}

impl std::fmt::Debug for VerifiedTokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedTokenCache")
            .field("entries", &self.inner.entry_count())
            .finish()
    }
}

impl VerifiedTokenCache {
    /// A cache holding at most `capacity` tokens for at most `max_ttl` each.
    pub fn new(capacity: u64, max_ttl: Duration) -> Self {
        Self {
            inner: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(max_ttl)
                .build(),
        }
    }

    /// The cache key of `token` (SHA-256; the token itself is never stored).
    pub fn key(token: &str) -> CacheKey {
        CacheKey(Sha256::digest(token.as_bytes()).into())
    }

    /// The cached user for `token`, if verified before and still unexpired at `now` (+ leeway).
    pub fn get(&self, token: &str, now: u64, leeway: Duration) -> Option<Arc<User>> {
        self.get_key(&Self::key(token), now, leeway)
    }

    /// [`VerifiedTokenCache::get`] by a key from [`VerifiedTokenCache::key`].
    pub fn get_key(&self, key: &CacheKey, now: u64, leeway: Duration) -> Option<Arc<User>> {
        let entry = self.inner.get(key)?;
        if let Some(exp) = entry.exp
            && exp + leeway.as_secs() as f64 <= now as f64
        {
            self.inner.invalidate(key);
            return None;
        }
        Some(entry.user)
    }

    /// Records a successful verification.
    pub fn insert(&self, token: &str, user: Arc<User>, exp: Option<f64>) {
        self.insert_key(Self::key(token), user, exp);
    }

    /// [`VerifiedTokenCache::insert`] by a key from [`VerifiedTokenCache::key`].
    pub fn insert_key(&self, key: CacheKey, user: Arc<User>, exp: Option<f64>) {
        self.inner.insert(key, Entry { user, exp });
    }

    /// Number of entries (approximate, for metrics and tests).
    pub fn len(&self) -> u64 {
        self.inner.run_pending_tasks();
        self.inner.entry_count()
    }

    /// Whether the cache holds no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Arc<User> {
        Arc::new(User::from_claims(Default::default(), "jwt".into()))
    }

    #[test]
    fn hit_until_exp_then_miss() {
        let c = VerifiedTokenCache::new(10, DEFAULT_MAX_TTL);
        c.insert("t", user(), Some(1000.0));
        assert!(c.get("t", 900, Duration::ZERO).is_some());
        assert!(c.get("t", 1000, Duration::ZERO).is_none());
        // Expired entries are dropped, not resurrected.
        assert!(c.get("t", 900, Duration::ZERO).is_none());
    }

    #[test]
    fn no_exp_lives_until_ttl_and_other_tokens_miss() {
        let c = VerifiedTokenCache::new(10, DEFAULT_MAX_TTL);
        c.insert("t", user(), None);
        assert!(c.get("t", u64::MAX / 2, Duration::ZERO).is_some());
        assert!(c.get("u", 0, Duration::ZERO).is_none());
    }

    #[test]
    fn key_and_token_forms_agree() {
        let c = VerifiedTokenCache::new(10, DEFAULT_MAX_TTL);
        let k = VerifiedTokenCache::key("t");
        assert_eq!(k, VerifiedTokenCache::key("t"));
        assert_ne!(k, VerifiedTokenCache::key("u"));
        c.insert_key(k, user(), Some(1000.0));
        assert!(c.get("t", 900, Duration::ZERO).is_some());
        c.insert("u", user(), None);
        assert!(
            c.get_key(&VerifiedTokenCache::key("u"), 900, Duration::ZERO)
                .is_some()
        );
        assert!(c.get_key(&k, 1000, Duration::ZERO).is_none());
        assert_eq!(format!("{k:?}"), "CacheKey(..)");
    }

    #[test]
    fn bounded() {
        let c = VerifiedTokenCache::new(5, DEFAULT_MAX_TTL);
        for i in 0..100 {
            c.insert(&i.to_string(), user(), None);
        }
        assert!(c.len() <= 5, "len {}", c.len());
    }
}
