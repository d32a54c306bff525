//! What a [`KeySet`](super::KeySet) shares between its clones and tasks, and the fetch and
//! refresh logic: serving a fresh or stale snapshot, the single fetch in flight, forced refreshes
//! for unknown `kid`s, and installing what a fetch brings.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use futures::FutureExt as _;
use futures::future::{BoxFuture, Shared};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;
use tokio::task::AbortHandle;

use super::background;
use super::config::{KeyFormat, KeySetConfig, ttl_from_headers};
use super::error::KeySetError;
use super::parse::{parse_jwks, parse_x509_map};
use super::refresh_state::{BackedOff, RefreshState, UnknownKid};
use super::snapshot::Snapshot;
use super::stats::Counters;
use crate::error::AuthError;
use crate::idp_http::{IdpClient, IdpError, IdpResponse, display_url};
use crate::jwt::{self, Rejection};

/// Upper bound on negatively cached unknown `kid`s.
const NEGATIVE_CACHE_CAPACITY: u64 = 1024;

/// What one fetch yields.
pub(super) type FetchResult = Result<Arc<Snapshot>, KeySetError>;

/// The fetch in flight, awaited by every caller that needs it.
type Inflight = Shared<BoxFuture<'static, FetchResult>>;

/// The state of one key set, shared by its clones, its fetch tasks and its refresher.
pub(super) struct Inner {
    client: IdpClient,
    url: Url,
    /// The URL without its query, for logs and errors.
    pub(super) shown_url: String,
    pub(super) config: KeySetConfig,
    /// The current keys: readers load them without waiting on any lock.
    pub(super) snapshot: ArcSwapOption<Snapshot>,
    /// Every refresh decision, behind one lock never held across I/O.
    state: Mutex<RefreshState<Inflight, AbortHandle>>,
    /// `kid`s still unknown after a refresh, for the cooldown.
    unknown_kids: moka::sync::Cache<String, ()>,
    pub(super) counters: Counters,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = state.take_refresher() {
            h.abort();
        }
    }
}

impl Inner {
    /// Vets the URL (HTTPS, or plain HTTP to loopback when the client allows it); fetches
    /// nothing yet.
    pub(super) fn new(client: IdpClient, config: KeySetConfig) -> Result<Inner, IdpError> {
        let url = client.url(&config.url)?;
        let shown_url = display_url(&url);
        let unknown_kids = moka::sync::Cache::builder()
            .max_capacity(NEGATIVE_CACHE_CAPACITY)
            .time_to_live(config.refresh_cooldown.max(Duration::from_millis(1)))
            .build();
        Ok(Inner {
            client,
            url,
            shown_url,
            config,
            snapshot: ArcSwapOption::empty(),
            state: Mutex::new(RefreshState::new()),
            unknown_kids,
            counters: Counters::default(),
        })
    }

    /// Locks the refresh state, recovering from poisoning: every transition leaves it whole.
    fn state(&self) -> MutexGuard<'_, RefreshState<Inflight, AbortHandle>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn unavailable(&self, e: &KeySetError) -> AuthError {
        AuthError::authentication_unavailable(format!("key set {}: {e}", self.shown_url))
    }

    fn backed_off(&self, b: BackedOff) -> KeySetError {
        KeySetError::Backoff {
            url: self.shown_url.clone(),
            ago_ms: b.ago.as_millis(),
            cause: b.cause,
        }
    }

    /// A snapshot that may be used now: fresh, or expired but within `stale_if_error` (then a
    /// refresh is started in the background). Cold or too stale: one shared fetch.
    pub(super) async fn usable_snapshot(self: &Arc<Self>) -> Result<Arc<Snapshot>, AuthError> {
        let now = Instant::now();
        if let Some(s) = self.snapshot.load_full() {
            let expires = s.expires_at();
            if now < expires {
                return Ok(s);
            }
            if now < expires + self.config.stale_if_error {
                // Stale-while-revalidate: never make this reader wait.
                drop(self.fetch_unless_backoff());
                return Ok(s);
            }
        }
        let fetch = self.fetch_unless_backoff();
        match fetch {
            Ok(fetch) => fetch.await.map_err(|e| self.unavailable(&e)),
            Err(e) => Err(self.unavailable(&e)),
        }
    }

    /// Joins the fetch in flight, or starts one unless a fetch failed within
    /// [`FETCH_FAILURE_BACKOFF`](super::FETCH_FAILURE_BACKOFF) (then that failure).
    fn fetch_unless_backoff(self: &Arc<Self>) -> Result<Inflight, KeySetError> {
        let step = self
            .state()
            .join_or_start_after_backoff(Instant::now(), || self.spawn_fetch(false));
        step.map_err(|b| self.backed_off(b))
    }

    /// The token's `kid` is not in the set: refresh once (rate-limited, single-flight).
    pub(super) async fn refresh_for_unknown_kid(
        self: &Arc<Self>,
        kid: &str,
    ) -> Result<Arc<Snapshot>, AuthError> {
        let unknown = || AuthError::InvalidToken(Rejection::UnknownKid(kid.to_owned()));
        if self.unknown_kids.contains_key(kid) {
            return Err(unknown());
        }
        let step = self
            .state()
            .unknown_kid(Instant::now(), self.config.refresh_cooldown, || {
                self.spawn_fetch(true)
            });
        let result = match step {
            UnknownKid::Forced(fetch) => {
                self.counters.forced.fetch_add(1, Ordering::Relaxed);
                match fetch {
                    Ok(fetch) => fetch.await,
                    Err(b) => Err(self.backed_off(b)),
                }
            }
            // Rate-limited: join the fetch in flight, else answer from what we know.
            UnknownKid::Join(fetch) => fetch.await,
            UnknownKid::Unknown => return Err(unknown()),
            UnknownKid::Unavailable(cause) => {
                return Err(AuthError::authentication_unavailable(format!(
                    "key set {}: kid {kid:?} unknown and the key set could not be refreshed: {cause}",
                    self.shown_url
                )));
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

    /// Joins the fetch in flight, or starts one whatever the last fetch did: for warm-up, tests
    /// and the background refresher, never per request.
    pub(super) fn refresh(self: &Arc<Self>) -> Inflight {
        self.state().join_or_start(|| self.spawn_fetch(false))
    }

    /// Starts a fetch as its own task, so callers that give up do not cancel it; the task records
    /// how it ended in the refresh state. Called with the refresh state locked: spawning does not
    /// run the task, which waits for the lock to record its end.
    fn spawn_fetch(self: &Arc<Self>, forced: bool) -> Inflight {
        let inner = Arc::clone(self);
        let handle = tokio::spawn(async move {
            let result = inner.fetch_once(forced).await;
            inner.finish(&result);
            result
        });
        let url = self.shown_url.clone();
        async move {
            match handle.await {
                Ok(r) => r,
                Err(_) => Err(KeySetError::Cancelled { url }),
            }
        }
        .boxed()
        .shared()
    }

    /// Records the end of the fetch in flight; the first success starts the background
    /// refresher.
    fn finish(self: &Arc<Self>, result: &FetchResult) {
        let outcome = result.as_ref().map(|_| ()).map_err(ToString::to_string);
        self.state()
            .finish(Instant::now(), outcome, || self.spawn_refresher());
    }

    /// Starts the background refresher (it needs a Tokio runtime; a fetch task runs in one).
    fn spawn_refresher(self: &Arc<Self>) -> Option<AbortHandle> {
        let rt = tokio::runtime::Handle::try_current().ok()?;
        let task = rt.spawn(background::refresher(Arc::downgrade(self)));
        Some(task.abort_handle())
    }

    /// One HTTP round trip; installs the new snapshot on success.
    async fn fetch_once(&self, forced: bool) -> FetchResult {
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
            }
            Err(e) => {
                tracing::warn!(url = %self.shown_url, error = %e, forced, "key set fetch failed");
                self.counters.failures.fetch_add(1, Ordering::Relaxed);
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
}
