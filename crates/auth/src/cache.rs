//! A bounded cache of already-verified tokens, so a repeated token skips the crypto.
//!
//! Keyed by SHA-256, so that the cache never holds a usable credential; an entry lives at most
//! `max_ttl` and never past the token's `exp`, which is re-checked on every hit. Only successes
//! are cached.
//!
//! What is hashed: the whole token, except in caches in front of a local JWS signature check
//! ([`VerifiedTokenCache::for_jws`]), where only the signature (the part after the last `.`) is,
//! and the signing input before it (the JOSE header and the claims, base64url: not a credential
//! without the signature) is kept in the entry and compared exactly on a hit. A hit then means
//! the same signature and the same signing input, i.e. the same token, as with a hash of the
//! whole token, for SHA-256 of 43 bytes (HS256) or 342 (RS256) instead of ~200 or ~600: the hash
//! is the largest part of a cached request's auth cost (see BENCHMARKS.md). Only tokens whose
//! signature verified are ever inserted there, so the kept part is always a JWS signing input.
//!
//! Built for the request path (benchmarks in `crates/auth/benches`, figures in BENCHMARKS.md):
//! shards of a hash map under a read-write lock, indexed directly by the key (a SHA-256 output
//! is already uniformly distributed, so no second hash), bounded by entry count with CLOCK
//! (second-chance) eviction: an entry hit since the eviction hand last passed survives one more
//! round, so a burst of one-off tokens does not flush the tokens in steady use. A hit takes a
//! read lock and sets a flag; an insert takes one shard's write lock. A general-purpose
//! concurrent cache such as `moka` costs several times more per miss and per hit (see
//! BENCHMARKS.md, section 1). Only verified tokens are ever inserted, so nobody without a
//! signing key can choose the keys that land in a shard.
//!
//! Caches in front of a local signature check ([`VerifiedTokenCache::for_jws`]: the `jwt`
//! provider and the key-set providers) also admit a token on its second verification, not its
//! first: under a stream of one-off tokens an insert with its eviction (and the drop of the
//! evicted user, cold in memory) costs as much as the rest of a first-seen HS256 verification
//! (see BENCHMARKS.md) and buys nothing. A token in use is seen again within the window and is
//! cached from then on; a miss costs at most one more verification. Caches in
//! front of a remote lookup (Supabase, Clerk, WorkOS, Firebase) hash whole tokens and admit on
//! the first sight: there a miss is a network call.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

use crate::User;

/// Default number of cached tokens.
pub const DEFAULT_CAPACITY: u64 = 10_000;
/// Default upper bound on how long a verified token is trusted without re-verification.
pub const DEFAULT_MAX_TTL: Duration = Duration::from_secs(300);

/// Most shards a cache is split into (fewer when the capacity is smaller).
const MAX_SHARDS: usize = 16;

/// A token's key in the cache, borrowed from the token: the SHA-256 of its hashed part, and the
/// signing input when only the signature is hashed (see the module docs). Compute it once per
/// request with [`VerifiedTokenCache::key`] and use it for the lookup and, on a miss, the insert.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CacheKey<'t> {
    digest: Digest,
    /// Compared exactly on a hit; empty when the whole token is hashed.
    signed: &'t str,
}

impl std::fmt::Debug for CacheKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CacheKey(..)")
    }
}

/// A SHA-256 output: the index of an entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Digest([u8; 32]);

/// A token's place in an optional verified-token cache, for one request: the key is computed
/// once (only when there is a cache) and serves the lookup and, after a miss, the insert.
#[derive(Debug)]
pub struct CacheSlot<'a> {
    entry: Option<(&'a VerifiedTokenCache, CacheKey<'a>)>,
}

impl<'a> CacheSlot<'a> {
    /// The slot of `token` in `cache` (no hashing when there is no cache).
    pub fn new(cache: Option<&'a VerifiedTokenCache>, token: &'a str) -> Self {
        Self {
            entry: cache.map(|c| (c, c.key(token))),
        }
    }

    /// The cached user, if the token was verified before and is still valid at `now`.
    pub fn get(&self, now: u64, leeway: Duration) -> Option<Arc<User>> {
        let (cache, key) = self.entry.as_ref()?;
        cache.get_key(key, now, leeway)
    }

    /// Remembers a freshly verified user (nothing without a cache).
    pub fn insert(self, user: Arc<User>, exp: Option<f64>) {
        if let Some((cache, key)) = self.entry {
            cache.insert_key(key, user, exp);
        }
    }
}

/// Hashes a [`Digest`] to its first eight bytes (it is a SHA-256 output already).
#[derive(Default)]
struct KeyPrefix(u64);

impl Hasher for KeyPrefix {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // `[u8; 32]` hashes as one 32-byte write (no length prefix for arrays).
        let mut word = [0u8; 8];
        let n = bytes.len().min(8);
        word[..n].copy_from_slice(&bytes[..n]);
        self.0 ^= u64::from_le_bytes(word);
    }
}

struct Slot {
    /// The key's `signed` part (empty when the whole token is hashed).
    signed: Box<str>,
    user: Arc<User>,
    exp: Option<f64>,
    inserted: Instant,
    /// Hit since the eviction hand last passed (second chance).
    referenced: AtomicBool,
    /// Found expired: never served again, evicted first.
    dead: AtomicBool,
}

struct Shard {
    map: HashMap<Digest, Slot, BuildHasherDefault<KeyPrefix>>,
    /// The keys of `map`, oldest first: the CLOCK hand takes from the front.
    ring: VecDeque<Digest>,
    capacity: usize,
}

impl Shard {
    fn insert(&mut self, key: Digest, slot: Slot) {
        if let Some(existing) = self.map.get_mut(&key) {
            *existing = slot;
            return;
        }
        while self.map.len() >= self.capacity {
            let Some(oldest) = self.ring.pop_front() else {
                break;
            };
            let second_chance = self.map.get(&oldest).is_some_and(|s| {
                !s.dead.load(Ordering::Relaxed) && s.referenced.swap(false, Ordering::Relaxed)
            });
            if second_chance {
                self.ring.push_back(oldest);
            } else {
                self.map.remove(&oldest);
            }
        }
        self.map.insert(key, slot);
        self.ring.push_back(key);
    }
}

/// Admission filter (TinyLFU's "doorkeeper"): two bits per token in a bitset, cleared after
/// `window` sightings, so that "seen before" means "seen within the last `window` admissions
/// asked for". A false positive admits a one-off token, which is harmless; only verified tokens
/// are ever recorded, so nobody without a signing key can fill it.
struct Doorkeeper {
    words: Box<[AtomicU64]>,
    /// `bits - 1` (a power of two).
    mask: u64,
    sightings: AtomicUsize,
    window: usize,
}

impl Doorkeeper {
    /// 16 to 32 bits per cache entry (4 KiB to 512 KiB), cleared after `bits / 8` sightings: at
    /// most ~5 % false positives at the end of a window of 2-4x the capacity.
    fn new(capacity: usize) -> Self {
        let bits = capacity
            .saturating_mul(16)
            .clamp(1 << 15, 1 << 22)
            .next_power_of_two();
        Self {
            words: (0..bits / 64).map(|_| AtomicU64::new(0)).collect(),
            mask: bits as u64 - 1,
            sightings: AtomicUsize::new(0),
            window: bits / 8,
        }
    }

    /// Records a sighting of `key`; `true` when it was (probably) seen within the window.
    fn seen_before(&self, key: &Digest) -> bool {
        if self.sightings.fetch_add(1, Ordering::Relaxed) + 1 == self.window {
            // Exactly one caller reaches the window. Sightings recorded concurrently with the
            // clearing may be lost: that only delays an admission.
            for w in self.words.iter() {
                w.store(0, Ordering::Relaxed);
            }
            self.sightings.store(0, Ordering::Relaxed);
        }
        let bit = |bytes: &[u8]| {
            let mut word = [0u8; 8];
            word.copy_from_slice(bytes);
            let i = u64::from_le_bytes(word) & self.mask;
            let mask = 1u64 << (i % 64);
            let prev = self.words[(i / 64) as usize].fetch_or(mask, Ordering::Relaxed);
            prev & mask != 0
        };
        // Both bits, always: each sighting sets them.
        let first = bit(&key.0[0..8]);
        let second = bit(&key.0[8..16]);
        first && second
    }
}

struct Inner {
    shards: Box<[RwLock<Shard>]>,
    max_ttl: Duration,
    /// Present: a token is cached on its second verification (see the module docs).
    doorkeeper: Option<Doorkeeper>,
    /// Only the part after the last `.` is hashed, the rest compared (see the module docs).
    hash_signature_only: bool,
}

/// Cache of verified tokens: SHA-256 -> user, bounded in size and age. Clones share the same
/// entries.
#[derive(Clone)]
pub struct VerifiedTokenCache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for VerifiedTokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedTokenCache")
            .field("entries", &self.len())
            .finish()
    }
}

// The shared cache is used by the remote providers; local ones keep a `CacheSlot`.
#[cfg_attr(not(feature = "remote"), allow(dead_code))]
impl VerifiedTokenCache {
    /// A cache holding at most `capacity` tokens (at least one) for at most `max_ttl` each,
    /// admitting a token on its first verification (for caches in front of a remote lookup).
    pub fn new(capacity: u64, max_ttl: Duration) -> Self {
        Self::build(capacity, max_ttl, false)
    }

    /// [`VerifiedTokenCache::new`] for a cache in front of a local JWS signature check (only
    /// tokens whose signature verified may be inserted): keyed by the signature with the signing
    /// input compared (see the module docs), and admitting a token on its second verification
    /// within a window of two to four times the capacity in verifications (one-off tokens then
    /// cost no insert or eviction, and never displace tokens in use).
    pub fn for_jws(capacity: u64, max_ttl: Duration) -> Self {
        Self::build(capacity, max_ttl, true)
    }

    fn build(capacity: u64, max_ttl: Duration, jws: bool) -> Self {
        let capacity = usize::try_from(capacity.max(1)).unwrap_or(usize::MAX);
        let shards = capacity.min(MAX_SHARDS);
        // Every shard holds `capacity / shards` (>= 1): never more than `capacity` in all.
        let per_shard = capacity / shards;
        let shards = (0..shards)
            .map(|_| {
                RwLock::new(Shard {
                    map: HashMap::with_capacity_and_hasher(
                        per_shard.min(4096),
                        BuildHasherDefault::default(),
                    ),
                    ring: VecDeque::with_capacity(per_shard.min(4096)),
                    capacity: per_shard,
                })
            })
            .collect();
        Self {
            inner: Arc::new(Inner {
                shards,
                max_ttl,
                doorkeeper: jws.then(|| Doorkeeper::new(capacity)),
                hash_signature_only: jws,
            }),
        }
    }

    /// The cache key of `token` (a SHA-256; no usable credential is ever stored).
    pub fn key<'t>(&self, token: &'t str) -> CacheKey<'t> {
        let (signed, hashed) = match memchr::memrchr(b'.', token.as_bytes()) {
            // `signed` keeps its final `.`: "abc" and ".abc" stay different keys.
            Some(dot) if self.inner.hash_signature_only => token.split_at(dot + 1),
            _ => ("", token),
        };
        CacheKey {
            digest: Digest(Sha256::digest(hashed.as_bytes()).into()),
            signed,
        }
    }

    fn shard(&self, digest: &Digest) -> &RwLock<Shard> {
        // The last byte picks the shard, the first eight the bucket: independent bits.
        let shards = &self.inner.shards;
        &shards[usize::from(digest.0[31]) % shards.len()]
    }

    fn read(lock: &RwLock<Shard>) -> RwLockReadGuard<'_, Shard> {
        lock.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(lock: &RwLock<Shard>) -> RwLockWriteGuard<'_, Shard> {
        lock.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached user for `token`, if verified before and still unexpired at `now` (+ leeway).
    pub fn get(&self, token: &str, now: u64, leeway: Duration) -> Option<Arc<User>> {
        self.get_key(&self.key(token), now, leeway)
    }

    /// [`VerifiedTokenCache::get`] by a key from [`VerifiedTokenCache::key`].
    pub fn get_key(&self, key: &CacheKey<'_>, now: u64, leeway: Duration) -> Option<Arc<User>> {
        let shard = Self::read(self.shard(&key.digest));
        let slot = shard.map.get(&key.digest)?;
        // Another signing input under the same signature: another token, not verified.
        if slot.dead.load(Ordering::Relaxed) || *slot.signed != *key.signed {
            return None;
        }
        let token_expired = slot
            .exp
            .is_some_and(|exp| exp + leeway.as_secs() as f64 <= now as f64);
        if token_expired || slot.inserted.elapsed() >= self.inner.max_ttl {
            // Expired entries are dropped, not resurrected (even by an earlier `now`).
            slot.dead.store(true, Ordering::Relaxed);
            return None;
        }
        if !slot.referenced.load(Ordering::Relaxed) {
            slot.referenced.store(true, Ordering::Relaxed);
        }
        Some(slot.user.clone())
    }

    /// Records a successful verification (with a doorkeeper: from the token's second one on).
    pub fn insert(&self, token: &str, user: Arc<User>, exp: Option<f64>) {
        self.insert_key(self.key(token), user, exp);
    }

    /// [`VerifiedTokenCache::insert`] by a key from [`VerifiedTokenCache::key`].
    pub fn insert_key(&self, key: CacheKey<'_>, user: Arc<User>, exp: Option<f64>) {
        if let Some(doorkeeper) = &self.inner.doorkeeper
            && !doorkeeper.seen_before(&key.digest)
        {
            return;
        }
        let slot = Slot {
            signed: key.signed.into(),
            user,
            exp,
            inserted: Instant::now(),
            referenced: AtomicBool::new(false),
            dead: AtomicBool::new(false),
        };
        Self::write(self.shard(&key.digest)).insert(key.digest, slot);
    }

    /// Number of entries (expired ones included until evicted; for metrics and tests).
    pub fn len(&self) -> u64 {
        self.inner
            .shards
            .iter()
            .map(|s| Self::read(s).map.len() as u64)
            .sum()
    }

    /// Whether the cache holds no entries.
    #[cfg(test)]
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
        // A new verification of the same token replaces the dead entry.
        c.insert("t", user(), Some(2000.0));
        assert!(c.get("t", 1500, Duration::ZERO).is_some());
    }

    #[test]
    fn leeway_extends_exp() {
        let c = VerifiedTokenCache::new(10, DEFAULT_MAX_TTL);
        c.insert("t", user(), Some(1000.0));
        assert!(c.get("t", 1020, Duration::from_secs(30)).is_some());
        assert!(c.get("t", 1030, Duration::from_secs(30)).is_none());
    }

    #[test]
    fn no_exp_lives_until_ttl_and_other_tokens_miss() {
        let c = VerifiedTokenCache::new(10, DEFAULT_MAX_TTL);
        c.insert("t", user(), None);
        assert!(c.get("t", u64::MAX / 2, Duration::ZERO).is_some());
        assert!(c.get("u", 0, Duration::ZERO).is_none());
    }

    #[test]
    fn max_ttl_bounds_every_entry() {
        let c = VerifiedTokenCache::new(10, Duration::from_millis(50));
        c.insert("t", user(), None);
        assert!(c.get("t", 0, Duration::ZERO).is_some());
        std::thread::sleep(Duration::from_millis(60));
        assert!(c.get("t", 0, Duration::ZERO).is_none());
    }

    #[test]
    fn key_and_token_forms_agree() {
        let c = VerifiedTokenCache::new(10, DEFAULT_MAX_TTL);
        let k = c.key("t");
        assert_eq!(k, c.key("t"));
        assert_ne!(k, c.key("u"));
        c.insert_key(k, user(), Some(1000.0));
        assert!(c.get("t", 900, Duration::ZERO).is_some());
        c.insert("u", user(), None);
        assert!(c.get_key(&c.key("u"), 900, Duration::ZERO).is_some());
        assert!(c.get_key(&k, 1000, Duration::ZERO).is_none());
        assert_eq!(format!("{k:?}"), "CacheKey(..)");
    }

    #[test]
    fn bounded() {
        for capacity in [1, 5, 16, 17, 100, 10_000] {
            let c = VerifiedTokenCache::new(capacity, DEFAULT_MAX_TTL);
            for i in 0..capacity * 3 + 50 {
                c.insert(&i.to_string(), user(), None);
            }
            assert!(c.len() <= capacity, "capacity {capacity}: len {}", c.len());
            assert!(
                c.len() >= capacity / 2,
                "capacity {capacity}: len {}",
                c.len()
            );
        }
        let zero = VerifiedTokenCache::new(0, DEFAULT_MAX_TTL);
        zero.insert("t", user(), None);
        assert!(zero.len() <= 1);
    }

    #[test]
    fn reinserting_a_key_keeps_one_entry() {
        let c = VerifiedTokenCache::new(100, DEFAULT_MAX_TTL);
        for _ in 0..10 {
            c.insert("t", user(), None);
        }
        assert_eq!(c.len(), 1);
        let shard = VerifiedTokenCache::read(c.shard(&c.key("t").digest));
        assert_eq!(shard.ring.len(), 1);
    }

    #[test]
    fn tokens_in_use_survive_a_burst_of_one_off_tokens() {
        // One shard of 16 entries: 8 tokens in steady use, then 8 new tokens per round.
        let c = VerifiedTokenCache::new(16, DEFAULT_MAX_TTL);
        assert_eq!(c.inner.shards.len(), 16);
        let c = VerifiedTokenCache {
            inner: Arc::new(Inner {
                shards: vec![RwLock::new(Shard {
                    map: HashMap::default(),
                    ring: VecDeque::new(),
                    capacity: 16,
                })]
                .into_boxed_slice(),
                max_ttl: DEFAULT_MAX_TTL,
                doorkeeper: None,
                hash_signature_only: false,
            }),
        };
        let hot: Vec<String> = (0..8).map(|i| format!("hot-{i}")).collect();
        for t in &hot {
            c.insert(t, user(), None);
        }
        for round in 0..50 {
            for t in &hot {
                assert!(c.get(t, 0, Duration::ZERO).is_some(), "round {round}: {t}");
            }
            for i in 0..8 {
                c.insert(&format!("once-{round}-{i}"), user(), None);
            }
            assert!(c.len() <= 16);
        }
    }

    #[test]
    fn clones_share_entries() {
        let c = VerifiedTokenCache::new(10, DEFAULT_MAX_TTL);
        let d = c.clone();
        c.insert("t", user(), None);
        assert!(d.get("t", 0, Duration::ZERO).is_some());
        assert!(!d.is_empty());
        assert!(format!("{d:?}").contains("entries: 1"));
    }

    #[test]
    fn doorkeeper_admits_on_the_second_verification() {
        let c = VerifiedTokenCache::for_jws(100, DEFAULT_MAX_TTL);
        c.insert("t", user(), None);
        assert!(
            c.get("t", 0, Duration::ZERO).is_none(),
            "first sight: not cached"
        );
        assert!(c.is_empty());
        c.insert("t", user(), None);
        assert!(
            c.get("t", 0, Duration::ZERO).is_some(),
            "second sight: cached"
        );
        // Without a doorkeeper the first verification is cached.
        let plain = VerifiedTokenCache::new(100, DEFAULT_MAX_TTL);
        plain.insert("t", user(), None);
        assert!(plain.get("t", 0, Duration::ZERO).is_some());
    }

    #[test]
    fn one_off_tokens_neither_enter_nor_evict_behind_a_doorkeeper() {
        let hot: Vec<String> = (0..32).map(|i| format!("hot-{i}")).collect();
        let cached = |c: &VerifiedTokenCache| {
            hot.iter()
                .filter(|t| c.get(t, 0, Duration::ZERO).is_some())
                .count()
        };
        let burst = |c: &VerifiedTokenCache| {
            for i in 0..3000 {
                c.insert(&format!("once-{i}"), user(), None);
            }
        };
        let c = VerifiedTokenCache::for_jws(1024, DEFAULT_MAX_TTL);
        for t in hot.iter().chain(hot.iter()) {
            c.insert(t, user(), None);
        }
        assert_eq!(cached(&c), 32);
        burst(&c);
        assert_eq!(cached(&c), 32, "hot tokens survive the burst");
        // A bitset false positive may admit a one-off token now and then; not more.
        assert!(
            c.len() - 32 <= 300,
            "{} one-off tokens admitted",
            c.len() - 32
        );

        // The same burst through a cache without a doorkeeper fills it and evicts hot tokens.
        let plain = VerifiedTokenCache::new(1024, DEFAULT_MAX_TTL);
        for t in &hot {
            plain.insert(t, user(), None);
        }
        burst(&plain);
        assert!(cached(&plain) < 32);
    }

    #[test]
    fn doorkeeper_forgets_after_its_window() {
        let d = Doorkeeper::new(1);
        assert_eq!(d.window, (1 << 15) / 8);
        let c = VerifiedTokenCache::new(1, DEFAULT_MAX_TTL);
        let k = c.key("t").digest;
        assert!(!d.seen_before(&k));
        assert!(d.seen_before(&k));
        // Other sightings fill the window; the bitset is then cleared and `t` forgotten.
        for i in 0..d.window {
            d.seen_before(&c.key(&format!("other-{i}")).digest);
        }
        assert!(d.sightings.load(Ordering::Relaxed) < d.window);
        let set: u32 = d
            .words
            .iter()
            .map(|w| w.load(Ordering::Relaxed).count_ones())
            .sum();
        // Only the three sightings from the clearing one on (2 bits each) are left.
        assert!(set <= 6, "{set} bits still set after the clear");
        assert!(!d.seen_before(&k), "forgotten after the window");
    }

    #[test]
    fn doorkeeper_sizes() {
        for (capacity, bits) in [(1, 1 << 15), (10_000, 1 << 18), (1 << 30, 1 << 22)] {
            let d = Doorkeeper::new(capacity);
            assert_eq!(d.words.len() * 64, bits, "capacity {capacity}");
            assert_eq!(d.mask, bits as u64 - 1);
            assert_eq!(d.window, bits / 8);
        }
    }

    /// A cache in front of a JWS check that has seen `token` verified twice (so it is cached).
    fn jws_cache_with(token: &str) -> VerifiedTokenCache {
        let c = VerifiedTokenCache::for_jws(100, DEFAULT_MAX_TTL);
        c.insert(token, user(), None);
        c.insert(token, user(), None);
        assert!(c.get(token, 0, Duration::ZERO).is_some());
        c
    }

    #[test]
    fn jws_keys_hash_the_signature_and_keep_the_signing_input() {
        let c = VerifiedTokenCache::for_jws(10, DEFAULT_MAX_TTL);
        let k = c.key("aGVhZGVy.cGF5bG9hZA.c2lnbmF0dXJl");
        assert_eq!(k.signed, "aGVhZGVy.cGF5bG9hZA.");
        assert_eq!(
            k.digest.0,
            <[u8; 32]>::from(Sha256::digest(b"c2lnbmF0dXJl"))
        );
        // Without a dot, and in caches of whole tokens, everything is hashed and nothing kept.
        let whole = c.key("opaque-token");
        assert_eq!(whole.signed, "");
        assert_eq!(
            whole.digest.0,
            <[u8; 32]>::from(Sha256::digest(b"opaque-token"))
        );
        let plain = VerifiedTokenCache::new(10, DEFAULT_MAX_TTL);
        let k = plain.key("a.b.c");
        assert_eq!(k.signed, "");
        assert_eq!(k.digest.0, <[u8; 32]>::from(Sha256::digest(b"a.b.c")));
        // The kept part ends with its dot: "abc" and ".abc" are different keys.
        assert_ne!(c.key("abc"), c.key(".abc"));
        assert_eq!(c.key(".abc").signed, ".");
    }

    #[test]
    fn jws_hit_needs_the_same_signature_and_the_same_signing_input() {
        let token = "aGVhZGVy.cGF5bG9hZA.c2lnbmF0dXJl";
        let c = jws_cache_with(token);
        for other in [
            // The cached signature under other claims or another header: a forgery.
            "aGVhZGVy.b3RoZXI.c2lnbmF0dXJl",
            "b3RoZXI.cGF5bG9hZA.c2lnbmF0dXJl",
            "aGVhZGVy.cGF5bG9hZA.c2lnbmF0dXJl.c2lnbmF0dXJl",
            ".c2lnbmF0dXJl",
            "c2lnbmF0dXJl",
            // The cached signing input with another signature.
            "aGVhZGVy.cGF5bG9hZA.b3RoZXI",
            "aGVhZGVy.cGF5bG9hZA.",
            "aGVhZGVy.cGF5bG9hZA",
        ] {
            assert!(c.get(other, 0, Duration::ZERO).is_none(), "{other}");
        }
        assert!(c.get(token, 0, Duration::ZERO).is_some());
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn jws_entries_never_hold_the_signature() {
        let token = "aGVhZGVy.cGF5bG9hZA.c2lnbmF0dXJl";
        let c = jws_cache_with(token);
        let shard = VerifiedTokenCache::read(c.shard(&c.key(token).digest));
        let slot = shard.map.values().next().expect("the cached entry");
        assert_eq!(&*slot.signed, "aGVhZGVy.cGF5bG9hZA.");
        assert!(!slot.signed.contains("c2lnbmF0dXJl"));
    }

    #[test]
    fn a_verified_token_with_the_signature_of_a_cached_one_replaces_it() {
        // Not a reachable case for valid signatures; the entry stays one per digest.
        let c = jws_cache_with("aGVhZGVy.YQ.c2ln");
        c.insert("aGVhZGVy.Yg.c2ln", user(), None);
        assert_eq!(c.len(), 1);
        assert!(c.get("aGVhZGVy.Yg.c2ln", 0, Duration::ZERO).is_some());
        assert!(c.get("aGVhZGVy.YQ.c2ln", 0, Duration::ZERO).is_none());
    }
}
