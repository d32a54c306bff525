//! Remote key sets (JWKS documents and Google's X.509 certificate maps), fetched, parsed once per
//! refresh, cached and refreshed in the background (ARCHITECTURE.md, verifying tokens).
//!
//! One [`KeySet`] per issuer / URL, never shared across providers or tenants: a token is only
//! ever checked against the keys of the set its provider configured.
//!
//! Behaviour:
//! - Fetched through [`IdpClient`] (HTTPS, or plain HTTP to loopback by explicit opt-in; timeouts;
//!   size cap; no redirects).
//! - Keys are parsed once per refresh into [`VerifyKey`]s bound to the algorithms their
//!   `kty`/`crv`/`alg` allow; `use` other than `sig`, `key_ops` without `verify`, symmetric
//!   keys, RSA moduli under 2048 bits, Ed25519 keys of small order, unknown curves and malformed
//!   members are skipped (logged) without failing the set.
//! - Lifetime: `Cache-Control: max-age` clamped to `[min_ttl, max_ttl]` (`no-store`/`no-cache`
//!   count as `min_ttl`), `default_ttl` otherwise. `ETag`/`If-None-Match` revalidation: a 304
//!   keeps the keys and restarts the lifetime.
//! - Readers load an [`arc_swap`] snapshot and never wait on a lock held across I/O. A cold set
//!   (or one stale past `stale_if_error`) makes exactly one fetch however many callers arrive
//!   (single-flight, run as its own task so a cancelled request does not cancel the fetch).
//! - A background task (holding only a `Weak`, aborted when the set is dropped) refreshes
//!   shortly before expiry and retries failures with backoff.
//! - Unknown `kid`: at most one forced refresh per `refresh_cooldown` (single-flight); kids
//!   still unknown after a refresh are negatively cached for the cooldown.
//! - Stale-if-error: an expired set keeps being served for up to `stale_if_error` past its
//!   expiry while refreshes fail. No usable set and the fetch fails -> 503
//!   ([`AuthError::authentication_unavailable`]), never 401 and never allow.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use base64::Engine as _;
use futures::FutureExt as _;
use futures::future::{BoxFuture, Shared};
use jsonwebtoken::{Algorithm, DecodingKey};
use reqwest::{Method, StatusCode, Url};
use serde_json::{Map, Value};

use crate::error::AuthError;
use crate::idp_http::{IdpClient, IdpError, IdpResponse, display_url};
use crate::jwt::{self, ClaimsPolicy, PreparedKey, Rejection, VerifyKey};

/// Default key-set lifetime when the response carries no usable `Cache-Control`.
pub const DEFAULT_TTL: Duration = Duration::from_secs(10 * 60);
/// Shortest lifetime honoured from `Cache-Control`.
pub const MIN_TTL: Duration = Duration::from_secs(60);
/// Longest lifetime honoured from `Cache-Control`.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Default minimum interval between two forced refreshes (unknown `kid`).
pub const REFRESH_COOLDOWN: Duration = Duration::from_secs(30);
/// Default time an expired set keeps being served while the IdP is unreachable.
pub const STALE_IF_ERROR: Duration = Duration::from_secs(24 * 60 * 60);
/// After a failed fetch, callers that would need a new fetch get the failure (503) for this long
/// instead of starting another one, so an outage does not turn every request into a fetch.
pub const FETCH_FAILURE_BACKOFF: Duration = Duration::from_secs(1);
/// Smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// The y coordinates (little-endian, sign bit ignored) of the Ed25519 points of small order,
/// including the non-canonical encodings `p` and `p + 1` (libsodium's blocklist).
const ED25519_SMALL_ORDER: [[u8; 32]; 7] = [
    [0; 32],
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    [
        0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    [
        0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
];

/// Whether a raw 32-byte Ed25519 public key is a point of small order. With such a key the
/// verifier accepts signatures nobody had to compute (e.g. R = identity, S = 0 verifies for any
/// message with the identity point), so it is refused at load like a short RSA modulus.
pub fn ed25519_key_is_small_order(key: &[u8]) -> bool {
    key.len() == 32
        && ED25519_SMALL_ORDER
            .iter()
            .any(|bad| key[..31] == bad[..31] && key[31] & 0x7f == bad[31])
}
/// Upper bound on negatively cached unknown `kid`s.
const NEGATIVE_CACHE_CAPACITY: u64 = 1024;
/// Longest wait between background retries after failures.
const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(60);

/// The wire format of the key document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    /// An RFC 7517 JWK Set: `{"keys": [{"kty": ..., "kid": ..., ...}]}`.
    Jwks,
    /// Google securetoken format: `{"<kid>": "-----BEGIN CERTIFICATE-----..."}`; the public key of
    /// each certificate is used (the certificate's own signature and validity are not checked,
    /// exactly as Google's and Firebase's SDKs do).
    X509PemMap,
}

/// Settings of one [`KeySet`].
#[derive(Debug, Clone)]
pub struct KeySetConfig {
    /// Where the document lives (HTTPS; plain HTTP only to loopback with `allow_insecure_http`).
    pub url: String,
    /// The document's format.
    pub format: KeyFormat,
    /// Lifetime when the answer has no `Cache-Control: max-age` (default 10 min).
    pub default_ttl: Duration,
    /// Lower clamp for `max-age` (default 1 min).
    pub min_ttl: Duration,
    /// Upper clamp for `max-age` (default 24 h).
    pub max_ttl: Duration,
    /// Minimum interval between forced refreshes caused by unknown `kid`s (default 30 s); also
    /// the lifetime of the negative cache of unknown `kid`s.
    pub refresh_cooldown: Duration,
    /// How long past its expiry a set keeps being served while refreshes fail (default 24 h).
    pub stale_if_error: Duration,
    /// Restricts the algorithms keys may be used with (e.g. `[RS256]` for Auth0); `None` = every
    /// algorithm a key's type allows.
    pub allowed_algorithms: Option<Vec<Algorithm>>,
}

impl KeySetConfig {
    fn with_format(url: String, format: KeyFormat) -> Self {
        Self {
            url,
            format,
            default_ttl: DEFAULT_TTL,
            min_ttl: MIN_TTL,
            max_ttl: MAX_TTL,
            refresh_cooldown: REFRESH_COOLDOWN,
            stale_if_error: STALE_IF_ERROR,
            allowed_algorithms: None,
        }
    }

    /// A JWKS document at `url`, with the default lifetimes.
    pub fn jwks(url: impl Into<String>) -> Self {
        Self::with_format(url.into(), KeyFormat::Jwks)
    }

    /// A Google-style `{kid: PEM certificate}` map at `url`, with the default lifetimes.
    pub fn x509_pem_map(url: impl Into<String>) -> Self {
        Self::with_format(url.into(), KeyFormat::X509PemMap)
    }
}

/// The lifetime settings of a [`KeySetConfig`], for provider configs (which choose the URL and
/// format themselves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySetTiming {
    /// See [`KeySetConfig::default_ttl`].
    pub default_ttl: Duration,
    /// See [`KeySetConfig::min_ttl`].
    pub min_ttl: Duration,
    /// See [`KeySetConfig::max_ttl`].
    pub max_ttl: Duration,
    /// See [`KeySetConfig::refresh_cooldown`].
    pub refresh_cooldown: Duration,
    /// See [`KeySetConfig::stale_if_error`].
    pub stale_if_error: Duration,
}

impl Default for KeySetTiming {
    fn default() -> Self {
        Self {
            default_ttl: DEFAULT_TTL,
            min_ttl: MIN_TTL,
            max_ttl: MAX_TTL,
            refresh_cooldown: REFRESH_COOLDOWN,
            stale_if_error: STALE_IF_ERROR,
        }
    }
}

impl KeySetConfig {
    /// Applies lifetime settings.
    pub fn with_timing(mut self, t: &KeySetTiming) -> Self {
        self.default_ttl = t.default_ttl;
        self.min_ttl = t.min_ttl;
        self.max_ttl = t.max_ttl;
        self.refresh_cooldown = t.refresh_cooldown;
        self.stale_if_error = t.stale_if_error;
        self
    }

    /// Restricts the algorithms keys may be used with.
    pub fn with_algorithms(mut self, algorithms: Option<Vec<Algorithm>>) -> Self {
        self.allowed_algorithms = algorithms;
        self
    }
}

/// Counters and state of a [`KeySet`], for tests, metrics and `mastra token verify`.
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

/// Why a key-set fetch failed. Never contains tokens or key material.
#[derive(Debug, Clone, thiserror::Error)]
pub enum KeySetError {
    /// The HTTP call failed (transport, timeout, status, size cap).
    #[error(transparent)]
    Idp(#[from] IdpError),
    /// The answer is not a key document of the configured format.
    #[error("{url}: not a usable key document: {message}")]
    Document {
        /// The URL (without query).
        url: String,
        /// What is wrong.
        message: String,
    },
    /// A recent fetch failed and the retry backoff is running.
    #[error("{url}: last fetch failed {ago_ms} ms ago ({cause}); not retrying yet")]
    Backoff {
        /// The URL (without query).
        url: String,
        /// Milliseconds since the failure.
        ago_ms: u128,
        /// The failure.
        cause: String,
    },
    /// The fetch task was cancelled (runtime shutting down).
    #[error("{url}: key-set fetch was cancelled")]
    Cancelled {
        /// The URL (without query).
        url: String,
    },
}

/// One parsed, immutable generation of the key set.
/// A verified token's claims and `exp`.
pub type Verified = (Map<String, Value>, Option<f64>);

struct Snapshot {
    keys: Arc<[VerifyKey]>,
    /// `keys`, made ready for the crypto backend once per refresh (index for index).
    prepared: Arc<[PreparedKey]>,
    kids: HashSet<String>,
    /// Whether some key has no `kid` (it then matches any token kid).
    has_kidless: bool,
    etag: Option<String>,
    validated_at: Instant,
    ttl: Duration,
}

impl Snapshot {
    fn expires_at(&self) -> Instant {
        self.validated_at + self.ttl
    }

    /// The signature with these keys, then the claims.
    fn verify(
        &self,
        parsed: jwt::ParsedToken<'_>,
        policy: &ClaimsPolicy,
    ) -> Result<Verified, AuthError> {
        jwt::verify_signature_prepared(&parsed, &self.keys, &self.prepared)
            .map_err(AuthError::InvalidToken)?;
        let exp = jwt::check_claims(&parsed.claims, policy, jwt::now_secs())
            .map_err(AuthError::InvalidToken)?;
        Ok((parsed.claims, exp))
    }

    fn has_kid(&self, kid: &str) -> bool {
        // A key without `kid` matches any token kid (see `jwt::verify_signature`).
        self.has_kidless || self.kids.contains(kid)
    }
}

type FetchResult = Result<Arc<Snapshot>, KeySetError>;
type Inflight = Shared<BoxFuture<'static, FetchResult>>;

#[derive(Default)]
struct Counters {
    fetches: AtomicU64,
    failures: AtomicU64,
    forced: AtomicU64,
    not_modified: AtomicU64,
}

struct Inner {
    client: IdpClient,
    url: Url,
    shown_url: String,
    config: KeySetConfig,
    snapshot: ArcSwapOption<Snapshot>,
    /// The fetch in flight, if any (held only to clone or replace the handle, never across I/O).
    inflight: Mutex<Option<Inflight>>,
    /// When the last forced refresh started.
    last_forced: Mutex<Option<Instant>>,
    /// The last failed fetch: when and why (cleared by a success).
    last_failure: Mutex<Option<(Instant, String)>>,
    /// Whether the most recent fetch succeeded.
    last_fetch_ok: AtomicBool,
    unknown_kids: moka::sync::Cache<String, ()>,
    counters: Counters,
    refresher: Mutex<Option<tokio::task::AbortHandle>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(h) = lock(&self.refresher).take() {
            h.abort();
        }
    }
}

/// Locks a std mutex, recovering from poisoning (the data are plain values, always consistent).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A cached, self-refreshing remote key set. Cheap to clone (shared state inside); create one
/// per issuer / URL and never share it across providers or tenants.
#[derive(Clone)]
pub struct KeySet {
    inner: Arc<Inner>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet")
            .field("url", &self.inner.shown_url)
            .field("format", &self.inner.config.format)
            .field("stats", &self.stats())
            .finish()
    }
}

impl KeySet {
    /// A key set fetched from `config.url` with `client`. Vets the URL now (HTTPS, or plain HTTP
    /// to loopback when the client allows it); fetches lazily on first use.
    pub fn new(client: IdpClient, config: KeySetConfig) -> Result<KeySet, IdpError> {
        let url = client.url(&config.url)?;
        let shown_url = display_url(&url);
        let unknown_kids = moka::sync::Cache::builder()
            .max_capacity(NEGATIVE_CACHE_CAPACITY)
            .time_to_live(config.refresh_cooldown.max(Duration::from_millis(1)))
            .build();
        Ok(KeySet {
            inner: Arc::new(Inner {
                client,
                url,
                shown_url,
                config,
                snapshot: ArcSwapOption::empty(),
                inflight: Mutex::new(None),
                last_forced: Mutex::new(None),
                last_failure: Mutex::new(None),
                last_fetch_ok: AtomicBool::new(true),
                unknown_kids,
                counters: Counters::default(),
                refresher: Mutex::new(None),
            }),
        })
    }

    /// The document URL (without query).
    pub fn url(&self) -> &str {
        &self.inner.shown_url
    }

    /// The settings.
    pub fn config(&self) -> &KeySetConfig {
        &self.inner.config
    }

    /// Parses the token, selects the key by `kid` and algorithm (one forced refresh on an unknown
    /// `kid`, single-flight, rate-limited, negatively cached), verifies the signature and checks
    /// the claims. Returns the claims and `exp`.
    ///
    /// A refused token is [`AuthError::InvalidToken`] (401); no usable key because the identity
    /// provider is unreachable is [`AuthError::Unavailable`] (503).
    pub async fn verify(
        &self,
        token: &str,
        policy: &ClaimsPolicy,
        max_token_bytes: usize,
    ) -> Result<Verified, AuthError> {
        // Everything refusable without keys is refused before any network or crypto.
        let parsed = jwt::parse(token, max_token_bytes).map_err(AuthError::InvalidToken)?;
        let mut snapshot = self.inner.usable_snapshot().await?;
        if let Some(kid) = &parsed.header.kid
            && !snapshot.has_kid(kid)
        {
            snapshot = self.inner.refresh_for_unknown_kid(kid).await?;
        }
        snapshot.verify(parsed, policy)
    }

    /// [`KeySet::verify`] without awaiting, when it needs no fetch: the token is malformed, or the
    /// current key set is fresh and knows the token's `kid`. `None` = call [`KeySet::verify`]
    /// (a cold or expired set, an unknown `kid`): it decides those exactly as before.
    pub fn verify_now(
        &self,
        token: &str,
        policy: &ClaimsPolicy,
        max_token_bytes: usize,
    ) -> Option<Result<Verified, AuthError>> {
        let parsed = match jwt::parse(token, max_token_bytes) {
            Ok(parsed) => parsed,
            Err(e) => return Some(Err(AuthError::InvalidToken(e))),
        };
        let snapshot = self.inner.snapshot.load_full()?;
        if Instant::now() >= snapshot.expires_at() {
            return None;
        }
        if let Some(kid) = &parsed.header.kid
            && !snapshot.has_kid(kid)
        {
            return None;
        }
        Some(snapshot.verify(parsed, policy))
    }

    /// The current keys (fetching first if the set is cold or stale past `stale_if_error`).
    pub async fn keys(&self) -> Result<Arc<[VerifyKey]>, AuthError> {
        Ok(self.inner.usable_snapshot().await?.keys.clone())
    }

    /// Fetches now (single-flight, honouring `ETag`), regardless of the current lifetime; for
    /// warm-up at startup and for tests. Not rate-limited: do not call per request.
    pub async fn refresh(&self) -> Result<(), KeySetError> {
        self.inner.refresh(false).await.map(|_| ())
    }

    /// Counters and the state of the current snapshot.
    pub fn stats(&self) -> KeySetStats {
        let c = &self.inner.counters;
        let snap = self.inner.snapshot.load();
        KeySetStats {
            fetches: c.fetches.load(Ordering::Relaxed),
            failures: c.failures.load(Ordering::Relaxed),
            forced_refreshes: c.forced.load(Ordering::Relaxed),
            not_modified: c.not_modified.load(Ordering::Relaxed),
            key_age: snap.as_ref().map(|s| s.validated_at.elapsed()),
            keys: snap.as_ref().map_or(0, |s| s.keys.len()),
            ttl: snap.as_ref().map(|s| s.ttl),
        }
    }
}

impl Inner {
    fn unavailable(&self, e: &KeySetError) -> AuthError {
        AuthError::authentication_unavailable(format!("key set {}: {e}", self.shown_url))
    }

    /// A snapshot that may be used now: fresh, or expired but within `stale_if_error` (then a
    /// refresh is started in the background). Cold or too stale: one shared fetch.
    async fn usable_snapshot(self: &Arc<Self>) -> Result<Arc<Snapshot>, AuthError> {
        let now = Instant::now();
        if let Some(s) = self.snapshot.load_full() {
            let expires = s.expires_at();
            if now < expires {
                return Ok(s);
            }
            if now < expires + self.config.stale_if_error {
                // Stale-while-revalidate: never make this reader wait.
                drop(self.refresh_unless_backoff(false));
                return Ok(s);
            }
        }
        match self.refresh_unless_backoff(false) {
            Ok(fetch) => fetch.await.map_err(|e| self.unavailable(&e)),
            Err(e) => Err(self.unavailable(&e)),
        }
    }

    /// Joins the fetch in flight, or starts one unless a fetch failed within
    /// [`FETCH_FAILURE_BACKOFF`] (then that failure).
    fn refresh_unless_backoff(self: &Arc<Self>, forced: bool) -> Result<Inflight, KeySetError> {
        if let Some(f) = lock(&self.inflight).clone() {
            return Ok(f);
        }
        match self.backoff_error() {
            Some(e) => Err(e),
            None => Ok(self.refresh(forced)),
        }
    }

    /// The recent failure, if the failure backoff is still running.
    fn backoff_error(&self) -> Option<KeySetError> {
        let failure = lock(&self.last_failure);
        let (at, cause) = failure.as_ref()?;
        let ago = at.elapsed();
        (ago < FETCH_FAILURE_BACKOFF).then(|| KeySetError::Backoff {
            url: self.shown_url.clone(),
            ago_ms: ago.as_millis(),
            cause: cause.clone(),
        })
    }

    /// The token's `kid` is not in the set: refresh once (rate-limited, single-flight).
    async fn refresh_for_unknown_kid(
        self: &Arc<Self>,
        kid: &str,
    ) -> Result<Arc<Snapshot>, AuthError> {
        let unknown = || AuthError::InvalidToken(Rejection::UnknownKid(kid.to_owned()));
        if self.unknown_kids.contains_key(kid) {
            return Err(unknown());
        }
        let allowed = {
            let mut last = lock(&self.last_forced);
            let ok = last.is_none_or(|t| t.elapsed() >= self.config.refresh_cooldown);
            if ok {
                *last = Some(Instant::now());
            }
            ok
        };
        let result = if allowed {
            self.counters.forced.fetch_add(1, Ordering::Relaxed);
            match self.refresh_unless_backoff(true) {
                Ok(fetch) => fetch.await,
                Err(e) => Err(e),
            }
        } else {
            // Rate-limited: join a fetch already in flight, else answer from what we know.
            let joined = lock(&self.inflight).clone();
            match joined {
                Some(f) => f.await,
                None if self.last_fetch_ok.load(Ordering::Relaxed) => return Err(unknown()),
                None => {
                    let cause = lock(&self.last_failure)
                        .as_ref()
                        .map(|(_, c)| c.clone())
                        .unwrap_or_else(|| "last fetch failed".into());
                    return Err(AuthError::authentication_unavailable(format!(
                        "key set {}: kid {kid:?} unknown and the key set could not be refreshed: {cause}",
                        self.shown_url
                    )));
                }
            }
        };
        match result {
            Ok(s) if s.has_kid(kid) => Ok(s),
            Ok(_) => {
                self.unknown_kids.insert(kid.to_owned(), ());
                Err(unknown())
            }
            Err(e) => Err(self.unavailable(&e)),
        }
    }

    /// Starts (or joins) the single fetch in flight. The fetch runs as its own task, so callers
    /// that give up do not cancel it.
    fn refresh(self: &Arc<Self>, forced: bool) -> Inflight {
        let mut slot = lock(&self.inflight);
        if let Some(f) = slot.as_ref() {
            return f.clone();
        }
        let inner = Arc::clone(self);
        let handle = tokio::spawn(async move {
            let result = inner.fetch_once(forced).await;
            *lock(&inner.inflight) = None;
            result
        });
        let url = self.shown_url.clone();
        let fut = async move {
            match handle.await {
                Ok(r) => r,
                Err(_) => Err(KeySetError::Cancelled { url }),
            }
        }
        .boxed()
        .shared();
        *slot = Some(fut.clone());
        fut
    }

    /// One HTTP round trip; installs the new snapshot on success.
    async fn fetch_once(self: &Arc<Self>, forced: bool) -> FetchResult {
        let prev = self.snapshot.load_full();
        let accept = match self.config.format {
            KeyFormat::Jwks => "application/jwk-set+json, application/json",
            KeyFormat::X509PemMap => "application/json",
        };
        let mut headers = vec![("accept", accept)];
        if let Some(etag) = prev.as_ref().and_then(|s| s.etag.as_deref()) {
            headers.push(("if-none-match", etag));
        }
        self.counters.fetches.fetch_add(1, Ordering::Relaxed);
        let result = self
            .client
            .send(Method::GET, &self.url, &headers, None)
            .await
            .map_err(KeySetError::from)
            .and_then(|res| self.install(prev.as_ref(), &res));
        match &result {
            Ok(s) => {
                tracing::debug!(
                    url = %self.shown_url,
                    keys = s.keys.len(),
                    ttl_s = s.ttl.as_secs(),
                    forced,
                    "key set refreshed"
                );
                self.last_fetch_ok.store(true, Ordering::Relaxed);
                *lock(&self.last_failure) = None;
                self.ensure_refresher();
            }
            Err(e) => {
                tracing::warn!(url = %self.shown_url, error = %e, forced, "key set fetch failed");
                self.counters.failures.fetch_add(1, Ordering::Relaxed);
                self.last_fetch_ok.store(false, Ordering::Relaxed);
                *lock(&self.last_failure) = Some((Instant::now(), e.to_string()));
            }
        }
        result
    }

    /// Turns a response into the new snapshot and publishes it.
    fn install(&self, prev: Option<&Arc<Snapshot>>, res: &IdpResponse) -> FetchResult {
        let ttl = ttl_from_headers(res, &self.config);
        let etag = res.header("etag").map(str::to_owned);
        let snapshot = if res.status == StatusCode::NOT_MODIFIED {
            let Some(prev) = prev else {
                return Err(self.doc_error("304 Not Modified without a cached key set"));
            };
            self.counters.not_modified.fetch_add(1, Ordering::Relaxed);
            Snapshot {
                keys: prev.keys.clone(),
                prepared: prev.prepared.clone(),
                kids: prev.kids.clone(),
                has_kidless: prev.has_kidless,
                etag: etag.or_else(|| prev.etag.clone()),
                validated_at: Instant::now(),
                ttl,
            }
        } else {
            let doc: Value = serde_json::from_slice(&res.body)
                .map_err(|e| self.doc_error(&format!("invalid JSON: {e}")))?;
            let keys = match self.config.format {
                KeyFormat::Jwks => parse_jwks(&doc, self.config.allowed_algorithms.as_deref()),
                KeyFormat::X509PemMap => {
                    parse_x509_map(&doc, self.config.allowed_algorithms.as_deref())
                }
            }
            .map_err(|m| self.doc_error(&m))?;
            for (kid, reason) in &keys.skipped {
                tracing::warn!(url = %self.shown_url, kid = ?kid, %reason, "key skipped");
            }
            let kids = keys.keys.iter().filter_map(|k| k.kid.clone()).collect();
            let has_kidless = keys.keys.iter().any(|k| k.kid.is_none());
            Snapshot {
                prepared: jwt::prepare(&keys.keys).into(),
                keys: keys.keys.into(),
                kids,
                has_kidless,
                etag,
                validated_at: Instant::now(),
                ttl,
            }
        };
        let snapshot = Arc::new(snapshot);
        self.snapshot.store(Some(snapshot.clone()));
        Ok(snapshot)
    }

    fn doc_error(&self, message: &str) -> KeySetError {
        KeySetError::Document {
            url: self.shown_url.clone(),
            message: message.to_owned(),
        }
    }

    /// Starts the background refresher once (needs a Tokio runtime; we are inside one here).
    fn ensure_refresher(self: &Arc<Self>) {
        let mut slot = lock(&self.refresher);
        if slot.is_some() {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak = Arc::downgrade(self);
        let task = rt.spawn(refresher(weak));
        *slot = Some(task.abort_handle());
    }

    /// How long the refresher waits before its next attempt.
    fn next_refresh_delay(&self, failures: u32) -> Duration {
        if failures > 0 {
            let exp = failures.saturating_sub(1).min(16);
            return FETCH_FAILURE_BACKOFF
                .saturating_mul(1 << exp)
                .min(MAX_RETRY_BACKOFF);
        }
        match self.snapshot.load_full() {
            None => Duration::ZERO,
            Some(s) => {
                // Refresh shortly before expiry: a tenth of the lifetime early, at most 30 s.
                let margin = (s.ttl / 10).min(Duration::from_secs(30));
                (s.expires_at() - margin).saturating_duration_since(Instant::now())
            }
        }
    }
}

/// The background refresh loop. Holds only a `Weak`: it ends when the set is dropped (and is
/// aborted by `Inner::drop` while sleeping).
async fn refresher(weak: Weak<Inner>) {
    let mut failures = 0u32;
    loop {
        let delay = match weak.upgrade() {
            Some(inner) => inner.next_refresh_delay(failures),
            None => return,
        };
        tokio::time::sleep(delay).await;
        let fut = match weak.upgrade() {
            Some(inner) => inner.refresh(false),
            None => return,
        };
        match fut.await {
            Ok(_) => failures = 0,
            Err(_) => failures = failures.saturating_add(1),
        }
    }
}

/// Lifetime from `Cache-Control`, clamped; the default without a usable directive.
fn ttl_from_headers(res: &IdpResponse, config: &KeySetConfig) -> Duration {
    let (min, max) = (config.min_ttl, config.max_ttl.max(config.min_ttl));
    let Some(cc) = res.header("cache-control") else {
        return config.default_ttl;
    };
    let mut max_age = None;
    for directive in cc.split(',') {
        let d = directive.trim();
        let lower = d.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return min;
        }
        if let Some(v) = lower.strip_prefix("max-age=") {
            max_age = v.trim_matches('"').parse::<u64>().ok();
        }
    }
    match max_age {
        Some(secs) => Duration::from_secs(secs).clamp(min, max),
        None => config.default_ttl,
    }
}

/// Keys parsed from a document, and the ones skipped with why.
#[derive(Debug, Default)]
pub struct ParsedKeys {
    /// Usable keys, each bound to its algorithms.
    pub keys: Vec<VerifyKey>,
    /// `(kid, reason)` of every skipped entry.
    pub skipped: Vec<(Option<String>, String)>,
}

/// Parses a JWK Set document (`{"keys": [...]}`), skipping unusable keys. Fails only when the
/// document itself is not a JWK Set.
pub fn parse_jwks(doc: &Value, allowed: Option<&[Algorithm]>) -> Result<ParsedKeys, String> {
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("no \"keys\" array")?;
    let mut out = ParsedKeys::default();
    for jwk in keys {
        let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
        match jwk_to_key(jwk).and_then(|k| restrict(k, allowed)) {
            Ok(k) => out.keys.push(k),
            Err(reason) => out.skipped.push((kid, reason)),
        }
    }
    Ok(out)
}

/// Parses a `{kid: PEM certificate}` map, skipping unusable entries. Fails only when the
/// document is not a JSON object.
pub fn parse_x509_map(doc: &Value, allowed: Option<&[Algorithm]>) -> Result<ParsedKeys, String> {
    let map = doc
        .as_object()
        .ok_or("not a JSON object of kid -> certificate")?;
    let mut out = ParsedKeys::default();
    for (kid, pem) in map {
        let result = pem
            .as_str()
            .ok_or_else(|| "certificate is not a string".to_owned())
            .and_then(|pem| certificate_to_key(pem.as_bytes()))
            .map(|mut k| {
                k.kid = Some(kid.clone());
                k
            })
            .and_then(|k| restrict(k, allowed));
        match result {
            Ok(k) => out.keys.push(k),
            Err(reason) => out.skipped.push((Some(kid.clone()), reason)),
        }
    }
    Ok(out)
}

fn restrict(mut key: VerifyKey, allowed: Option<&[Algorithm]>) -> Result<VerifyKey, String> {
    if let Some(allowed) = allowed {
        key.algorithms.retain(|a| allowed.contains(a));
        if key.algorithms.is_empty() {
            return Err("none of its algorithms is allowed".into());
        }
    }
    Ok(key)
}

/// Decodes a base64url member, tolerating padding (some IdPs pad), refusing anything else.
fn b64_member(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>, String> {
    let s = match jwk.get(name) {
        Some(Value::String(s)) => s,
        Some(_) => return Err(format!("\"{name}\" is not a string")),
        None => return Err(format!("\"{name}\" is missing")),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| format!("\"{name}\" is not base64url"))
}

fn opt_str<'a>(jwk: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("\"{name}\" is not a string")),
    }
}

/// One JWK to a verification key bound to the algorithms its `kty`/`crv`/`alg` allow.
fn jwk_to_key(jwk: &Value) -> Result<VerifyKey, String> {
    let jwk = jwk.as_object().ok_or("not a JSON object")?;
    let kid = opt_str(jwk, "kid")?.map(str::to_owned);
    if let Some(u) = opt_str(jwk, "use")?
        && u != "sig"
    {
        return Err(format!("\"use\" is {u:?}, not \"sig\""));
    }
    if let Some(ops) = jwk.get("key_ops") {
        let ops = ops.as_array().ok_or("\"key_ops\" is not an array")?;
        if !ops.iter().any(|o| o.as_str() == Some("verify")) {
            return Err("\"key_ops\" does not include \"verify\"".into());
        }
    }
    let alg = opt_str(jwk, "alg")?;
    let kty = opt_str(jwk, "kty")?.ok_or("\"kty\" is missing")?;
    let (key, type_algs): (DecodingKey, Vec<Algorithm>) = match kty {
        "RSA" => {
            let n = b64_member(jwk, "n")?;
            let e = b64_member(jwk, "e")?;
            let n = strip_leading_zeros(&n);
            let e = strip_leading_zeros(&e);
            let bits = bit_len(n);
            if bits < MIN_RSA_BITS {
                return Err(format!(
                    "RSA modulus of {bits} bits (at least {MIN_RSA_BITS} required)"
                ));
            }
            if e.is_empty() || e.len() > 8 {
                return Err("unusable RSA exponent".into());
            }
            (
                DecodingKey::from_rsa_raw_components(n, e),
                jwt::RSA_ALGORITHMS.to_vec(),
            )
        }
        "EC" => {
            let crv = opt_str(jwk, "crv")?.ok_or("\"crv\" is missing")?;
            let (alg, len) = match crv {
                "P-256" => (Algorithm::ES256, 32),
                "P-384" => (Algorithm::ES384, 48),
                other => return Err(format!("unsupported curve {other:?}")),
            };
            let x = b64_member(jwk, "x")?;
            let y = b64_member(jwk, "y")?;
            if x.len() != len || y.len() != len {
                return Err(format!("{crv} coordinates must be {len} bytes"));
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            (DecodingKey::from_ec_der(&point), vec![alg])
        }
        "OKP" => {
            let crv = opt_str(jwk, "crv")?.ok_or("\"crv\" is missing")?;
            if crv != "Ed25519" {
                return Err(format!("unsupported OKP curve {crv:?}"));
            }
            let x = b64_member(jwk, "x")?;
            if x.len() != 32 {
                return Err("Ed25519 public key must be 32 bytes".into());
            }
            if ed25519_key_is_small_order(&x) {
                return Err("Ed25519 public key of small order (verifies forgeries)".into());
            }
            (DecodingKey::from_ed_der(&x), vec![Algorithm::EdDSA])
        }
        "oct" => return Err("symmetric keys are never accepted from a key set".into()),
        other => return Err(format!("unsupported kty {other:?}")),
    };
    let algorithms = match alg {
        None => type_algs,
        Some(name) => {
            // RFC 9864's fully-specified name for EdDSA over Ed25519.
            let a = if name == "Ed25519" {
                Some(Algorithm::EdDSA)
            } else {
                jwt::alg_from_name(name)
            };
            match a {
                Some(a) if type_algs.contains(&a) => vec![a],
                _ => return Err(format!("\"alg\" {name:?} does not fit kty {kty:?}")),
            }
        }
    };
    Ok(VerifyKey {
        kid,
        algorithms,
        key,
    })
}

/// The public key of a PEM X.509 certificate, bound to the algorithms of its type.
fn certificate_to_key(pem: &[u8]) -> Result<VerifyKey, String> {
    use x509_parser::oid_registry::{
        OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION,
        OID_SIG_ED25519,
    };
    use x509_parser::public_key::PublicKey;

    let (rest, pem) =
        x509_parser::pem::parse_x509_pem(pem).map_err(|_| "not a PEM block".to_owned())?;
    if pem.label != "CERTIFICATE" {
        return Err(format!("PEM block is {:?}, not CERTIFICATE", pem.label));
    }
    if !rest.iter().all(u8::is_ascii_whitespace) {
        return Err("trailing data after the certificate".into());
    }
    let cert = pem
        .parse_x509()
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let spki = cert.public_key();
    let oid = &spki.algorithm.algorithm;
    if *oid == OID_PKCS1_RSAENCRYPTION {
        let Ok(PublicKey::RSA(rsa)) = spki.parsed() else {
            return Err("unreadable RSA public key".into());
        };
        let n = strip_leading_zeros(rsa.modulus);
        let e = strip_leading_zeros(rsa.exponent);
        let bits = bit_len(n);
        if bits < MIN_RSA_BITS {
            return Err(format!(
                "RSA modulus of {bits} bits (at least {MIN_RSA_BITS} required)"
            ));
        }
        if e.is_empty() || e.len() > 8 {
            return Err("unusable RSA exponent".into());
        }
        return Ok(VerifyKey {
            kid: None,
            algorithms: jwt::RSA_ALGORITHMS.to_vec(),
            key: DecodingKey::from_rsa_raw_components(n, e),
        });
    }
    if *oid == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        let (alg, len) = match curve {
            Some(c) if c == OID_EC_P256 => (Algorithm::ES256, 65),
            Some(c) if c == OID_NIST_EC_P384 => (Algorithm::ES384, 97),
            _ => return Err("unsupported EC curve".into()),
        };
        let point = spki.subject_public_key.data.as_ref();
        if point.len() != len || point.first() != Some(&0x04) {
            return Err("EC public key is not an uncompressed point".into());
        }
        return Ok(VerifyKey {
            kid: None,
            algorithms: vec![alg],
            key: DecodingKey::from_ec_der(point),
        });
    }
    if *oid == OID_SIG_ED25519 {
        let raw = spki.subject_public_key.data.as_ref();
        if raw.len() != 32 {
            return Err("Ed25519 public key must be 32 bytes".into());
        }
        if ed25519_key_is_small_order(raw) {
            return Err("Ed25519 public key of small order (verifies forgeries)".into());
        }
        return Ok(VerifyKey {
            kid: None,
            algorithms: vec![Algorithm::EdDSA],
            key: DecodingKey::from_ed_der(raw),
        });
    }
    Err(format!("unsupported public key algorithm {oid}"))
}

fn strip_leading_zeros(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[i..]
}

fn bit_len(n: &[u8]) -> usize {
    match n.first() {
        None => 0,
        Some(&first) => n.len() * 8 - first.leading_zeros() as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(cc: Option<&str>) -> IdpResponse {
        let mut h = http::HeaderMap::new();
        if let Some(cc) = cc {
            h.insert("cache-control", cc.parse().unwrap());
        }
        IdpResponse {
            status: StatusCode::OK,
            headers: h,
            body: bytes::Bytes::new(),
        }
    }

    #[test]
    fn cache_control_is_clamped() {
        let c = KeySetConfig::jwks("https://idp.example/jwks");
        let ttl = |cc| ttl_from_headers(&headers(cc), &c);
        assert_eq!(ttl(None), DEFAULT_TTL);
        assert_eq!(ttl(Some("public, max-age=5")), MIN_TTL);
        assert_eq!(
            ttl(Some("max-age=3600, must-revalidate")),
            Duration::from_secs(3600)
        );
        assert_eq!(ttl(Some("max-age=99999999")), MAX_TTL);
        assert_eq!(ttl(Some("no-store")), MIN_TTL);
        assert_eq!(ttl(Some("public")), DEFAULT_TTL);
        assert_eq!(ttl(Some("max-age=abc")), DEFAULT_TTL);
    }

    #[test]
    fn jwk_rules() {
        let ed = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        let k = jwk_to_key(&ed).unwrap();
        assert_eq!(k.algorithms, vec![Algorithm::EdDSA]);
        assert!(k.kid.is_none());
        let mut enc = ed.clone();
        enc["use"] = json!("enc");
        assert!(jwk_to_key(&enc).is_err());
        let mut wrong_alg = ed.clone();
        wrong_alg["alg"] = json!("ES256");
        assert!(jwk_to_key(&wrong_alg).is_err());
        let mut ops = ed.clone();
        ops["key_ops"] = json!(["encrypt"]);
        assert!(jwk_to_key(&ops).is_err());
        assert!(jwk_to_key(&json!({"kty": "oct", "k": "c2VjcmV0"})).is_err());
        assert!(jwk_to_key(&json!({"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"})).is_err());
        assert!(jwk_to_key(&json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"})).is_err());
        // A 1024-bit modulus is refused.
        let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xffu8; 128]);
        let rsa = json!({"kty": "RSA", "n": n, "e": "AQAB"});
        assert!(jwk_to_key(&rsa).unwrap_err().contains("1024"));
        let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xffu8; 256]);
        let rsa = json!({"kty": "RSA", "n": n, "e": "AQAB", "alg": "PS256"});
        assert_eq!(jwk_to_key(&rsa).unwrap().algorithms, vec![Algorithm::PS256]);
    }

    #[test]
    fn document_shapes() {
        assert!(parse_jwks(&json!({"nokeys": []}), None).is_err());
        let p = parse_jwks(&json!({"keys": [1, {"kty": "oct"}]}), None).unwrap();
        assert!(p.keys.is_empty());
        assert_eq!(p.skipped.len(), 2);
        assert!(parse_x509_map(&json!([]), None).is_err());
        let p = parse_x509_map(&json!({"a": "junk", "b": 5}), None).unwrap();
        assert_eq!(p.skipped.len(), 2);
    }

    #[test]
    fn bits() {
        assert_eq!(bit_len(strip_leading_zeros(&[0, 0, 1])), 1);
        assert_eq!(bit_len(&[0x80, 0]), 16);
        assert_eq!(bit_len(&[]), 0);
    }
}
