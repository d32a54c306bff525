//! The refresh bookkeeping of one key set as a single state machine, kept behind one lock by
//! [`Inner`](super::fetch::Inner): whether a fetch is running or how the last one ended
//! ([`Phase`]), when an unknown `kid` last forced a refresh, and the background refresher.
//!
//! The freshness of the keys (fresh, stale within `stale_if_error`, too stale) is not state
//! here: it follows from the current snapshot's age, which readers check without any lock.
//!
//! Every transition is a method, given the time and, where it may start a task, a closure that
//! starts it. Starting a task does not run it, so the lock is never held across I/O. The machine
//! is generic over the fetch handle `F` and the refresher handle `H`, so that its transitions are
//! tested without a runtime.

use std::time::{Duration, Instant};

use super::config::FETCH_FAILURE_BACKOFF;

/// Whether a fetch is running, else how the last one ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Phase<F> {
    /// No fetch is running; none has run yet, or the last one succeeded.
    Idle,
    /// A fetch is running: every caller that needs one joins it (single-flight). How the fetch
    /// before it ended no longer matters, since nothing starts another one meanwhile.
    Fetching(F),
    /// No fetch is running and the last one failed. Until [`FETCH_FAILURE_BACKOFF`] after `at`,
    /// a request that would start a fetch gets this failure instead, so that an outage does not
    /// turn every request into a fetch; until the next success, an unknown `kid` within its
    /// cooldown is answered with this failure (503) rather than as unknown (401).
    Failed {
        /// When the fetch failed.
        at: Instant,
        /// Why (never tokens or key material).
        cause: String,
    },
}

/// A fetch not started because the last one failed less than [`FETCH_FAILURE_BACKOFF`] ago.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BackedOff {
    /// Time since that failure.
    pub(super) ago: Duration,
    /// Its cause.
    pub(super) cause: String,
}

/// What a token whose `kid` the keys lack leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum UnknownKid<F> {
    /// The cooldown allowed a forced refresh, and the next one waits a full cooldown from now:
    /// the fetch to await, or the failure backoff that kept one from starting.
    Forced(Result<F, BackedOff>),
    /// Within the cooldown, and a fetch is running: its keys decide.
    Join(F),
    /// Within the cooldown, no fetch is running and the last one succeeded: the `kid` is
    /// unknown.
    Unknown,
    /// Within the cooldown, no fetch is running and the last one failed for this cause.
    Unavailable(String),
}

/// The refresh state of one key set.
#[derive(Debug)]
pub(super) struct RefreshState<F, H> {
    /// The fetch running, or how the last one ended.
    phase: Phase<F>,
    /// When an unknown `kid` last forced a refresh. The cooldown runs alongside every phase (a
    /// forced refresh may start from any of them), so it is a field rather than a phase.
    last_forced: Option<Instant>,
    /// The background refresher, started after the first successful fetch.
    refresher: Option<H>,
}

impl<F: Clone, H> RefreshState<F, H> {
    /// Nothing fetched yet, no forced refresh yet, no refresher.
    pub(super) fn new() -> Self {
        RefreshState {
            phase: Phase::Idle,
            last_forced: None,
            refresher: None,
        }
    }

    /// Joins the running fetch, or starts one with `start` however the last one ended: for
    /// refreshes no request waits for (warm-up, the background refresher).
    pub(super) fn join_or_start(&mut self, start: impl FnOnce() -> F) -> F {
        match &self.phase {
            Phase::Fetching(f) => f.clone(),
            Phase::Idle | Phase::Failed { .. } => self.start(start),
        }
    }

    /// Joins the running fetch, or starts one with `start` unless the last one failed less than
    /// [`FETCH_FAILURE_BACKOFF`] before `now`.
    pub(super) fn join_or_start_after_backoff(
        &mut self,
        now: Instant,
        start: impl FnOnce() -> F,
    ) -> Result<F, BackedOff> {
        match &self.phase {
            Phase::Fetching(f) => Ok(f.clone()),
            Phase::Failed { at, cause }
                if now.saturating_duration_since(*at) < FETCH_FAILURE_BACKOFF =>
            {
                Err(BackedOff {
                    ago: now.saturating_duration_since(*at),
                    cause: cause.clone(),
                })
            }
            Phase::Idle | Phase::Failed { .. } => Ok(self.start(start)),
        }
    }

    /// The running fetch ended at `now` with `outcome`. After a success the background
    /// refresher is started with `start_refresher` unless it runs already; when it cannot start
    /// (`None`), the next success tries again.
    pub(super) fn finish(
        &mut self,
        now: Instant,
        outcome: Result<(), String>,
        start_refresher: impl FnOnce() -> Option<H>,
    ) {
        match outcome {
            Ok(()) => {
                self.phase = Phase::Idle;
                if self.refresher.is_none() {
                    self.refresher = start_refresher();
                }
            }
            Err(cause) => self.phase = Phase::Failed { at: now, cause },
        }
    }

    /// A token's `kid` is not in the keys (nor known to be unknown): at most one forced refresh
    /// per `cooldown`, which still respects the failure backoff; within the cooldown, the
    /// running fetch or the last outcome answers.
    pub(super) fn unknown_kid(
        &mut self,
        now: Instant,
        cooldown: Duration,
        start: impl FnOnce() -> F,
    ) -> UnknownKid<F> {
        let allowed = self
            .last_forced
            .is_none_or(|t| now.saturating_duration_since(t) >= cooldown);
        if allowed {
            self.last_forced = Some(now);
            return UnknownKid::Forced(self.join_or_start_after_backoff(now, start));
        }
        match &self.phase {
            Phase::Fetching(f) => UnknownKid::Join(f.clone()),
            Phase::Idle => UnknownKid::Unknown,
            Phase::Failed { cause, .. } => UnknownKid::Unavailable(cause.clone()),
        }
    }

    /// Takes the background refresher, to stop it when the key set is dropped.
    pub(super) fn take_refresher(&mut self) -> Option<H> {
        self.refresher.take()
    }

    fn start(&mut self, start: impl FnOnce() -> F) -> F {
        let f = start();
        self.phase = Phase::Fetching(f.clone());
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOLDOWN: Duration = Duration::from_secs(30);

    /// Fetch handles are numbers here, refresher handles names.
    type State = RefreshState<u32, &'static str>;

    fn never<T>() -> T {
        panic!("no task may start here")
    }

    fn failed_at(at: Instant, cause: &str) -> State {
        let mut s = State::new();
        s.join_or_start(|| 1);
        s.finish(at, Err(cause.into()), never);
        s
    }

    #[test]
    fn a_new_set_is_idle() {
        let s = State::new();
        assert_eq!(s.phase, Phase::Idle);
        assert_eq!((s.last_forced, s.refresher), (None, None));
    }

    #[test]
    fn idle_starts_a_fetch() {
        let mut s = State::new();
        assert_eq!(s.join_or_start_after_backoff(Instant::now(), || 7), Ok(7));
        assert_eq!(s.phase, Phase::Fetching(7));
        let mut s = State::new();
        assert_eq!(s.join_or_start(|| 8), 8);
        assert_eq!(s.phase, Phase::Fetching(8));
    }

    #[test]
    fn a_running_fetch_is_joined_never_doubled() {
        let mut s = State::new();
        s.join_or_start(|| 1);
        assert_eq!(s.join_or_start(never), 1);
        assert_eq!(s.join_or_start_after_backoff(Instant::now(), never), Ok(1));
        assert_eq!(s.phase, Phase::Fetching(1));
    }

    #[test]
    fn a_success_returns_to_idle_and_starts_the_refresher_once() {
        let mut s = State::new();
        s.join_or_start(|| 1);
        s.finish(Instant::now(), Ok(()), || Some("refresher"));
        assert_eq!(s.phase, Phase::Idle);
        assert_eq!(s.refresher, Some("refresher"));
        s.join_or_start(|| 2);
        s.finish(Instant::now(), Ok(()), never);
        assert_eq!(s.refresher, Some("refresher"));
        assert_eq!(s.take_refresher(), Some("refresher"));
        assert_eq!(s.take_refresher(), None);
    }

    #[test]
    fn a_refresher_that_could_not_start_is_started_after_the_next_success() {
        let mut s = State::new();
        s.join_or_start(|| 1);
        s.finish(Instant::now(), Ok(()), || None);
        assert_eq!(s.refresher, None);
        s.join_or_start(|| 2);
        s.finish(Instant::now(), Ok(()), || Some("refresher"));
        assert_eq!(s.refresher, Some("refresher"));
    }

    #[test]
    fn a_failure_is_kept_with_its_time_and_cause_and_starts_no_refresher() {
        let at = Instant::now();
        let s = failed_at(at, "502 Bad Gateway");
        assert_eq!(
            s.phase,
            Phase::Failed {
                at,
                cause: "502 Bad Gateway".into()
            }
        );
        assert_eq!(s.refresher, None);
    }

    #[test]
    fn the_backoff_refuses_new_fetches_until_it_ends() {
        let at = Instant::now();
        let mut s = failed_at(at, "down");
        let soon = at + Duration::from_millis(400);
        assert_eq!(
            s.join_or_start_after_backoff(soon, never),
            Err(BackedOff {
                ago: Duration::from_millis(400),
                cause: "down".into()
            })
        );
        assert!(matches!(s.phase, Phase::Failed { .. }));
        let later = at + FETCH_FAILURE_BACKOFF;
        assert_eq!(s.join_or_start_after_backoff(later, || 2), Ok(2));
        assert_eq!(s.phase, Phase::Fetching(2));
    }

    #[test]
    fn refreshes_no_request_waits_for_ignore_the_backoff() {
        let at = Instant::now();
        let mut s = failed_at(at, "down");
        assert_eq!(s.join_or_start(|| 2), 2);
        assert_eq!(s.phase, Phase::Fetching(2));
    }

    #[test]
    fn a_success_after_a_failure_forgets_it() {
        let at = Instant::now();
        let mut s = failed_at(at, "down");
        s.join_or_start(|| 2);
        s.finish(at, Ok(()), || Some("refresher"));
        assert_eq!(s.phase, Phase::Idle);
        assert_eq!(s.join_or_start_after_backoff(at, || 3), Ok(3));
    }

    #[test]
    fn an_unknown_kid_forces_one_refresh_per_cooldown() {
        let t0 = Instant::now();
        let mut s = State::new();
        assert_eq!(s.unknown_kid(t0, COOLDOWN, || 1), UnknownKid::Forced(Ok(1)));
        assert_eq!(s.last_forced, Some(t0));
        assert_eq!(s.phase, Phase::Fetching(1));
        s.finish(t0, Ok(()), || Some("refresher"));
        let within = t0 + COOLDOWN - Duration::from_millis(1);
        assert_eq!(s.unknown_kid(within, COOLDOWN, never), UnknownKid::Unknown);
        assert_eq!(s.last_forced, Some(t0));
        let after = t0 + COOLDOWN;
        assert_eq!(
            s.unknown_kid(after, COOLDOWN, || 2),
            UnknownKid::Forced(Ok(2))
        );
        assert_eq!(s.last_forced, Some(after));
    }

    #[test]
    fn a_forced_refresh_joins_a_running_fetch() {
        let t0 = Instant::now();
        let mut s = State::new();
        s.join_or_start(|| 1);
        assert_eq!(
            s.unknown_kid(t0, COOLDOWN, never),
            UnknownKid::Forced(Ok(1))
        );
        assert_eq!(s.last_forced, Some(t0));
    }

    #[test]
    fn within_the_cooldown_a_running_fetch_is_joined() {
        let t0 = Instant::now();
        let mut s = State::new();
        s.unknown_kid(t0, COOLDOWN, || 1);
        assert_eq!(
            s.unknown_kid(t0 + Duration::from_secs(1), COOLDOWN, never),
            UnknownKid::Join(1)
        );
    }

    #[test]
    fn within_the_cooldown_after_a_failure_the_set_is_unavailable() {
        let t0 = Instant::now();
        let mut s = State::new();
        s.unknown_kid(t0, COOLDOWN, || 1);
        s.finish(t0, Err("timeout".into()), never);
        // Long past the failure backoff, but within the cooldown: no fetch, the failure answers.
        let later = t0 + Duration::from_secs(5);
        assert_eq!(
            s.unknown_kid(later, COOLDOWN, never),
            UnknownKid::Unavailable("timeout".into())
        );
    }

    #[test]
    fn a_forced_refresh_in_the_backoff_uses_up_the_cooldown() {
        let t0 = Instant::now();
        let mut s = failed_at(t0, "down");
        let soon = t0 + Duration::from_millis(100);
        assert_eq!(
            s.unknown_kid(soon, COOLDOWN, never),
            UnknownKid::Forced(Err(BackedOff {
                ago: Duration::from_millis(100),
                cause: "down".into()
            }))
        );
        assert_eq!(s.last_forced, Some(soon));
        assert_eq!(
            s.unknown_kid(t0 + Duration::from_secs(2), COOLDOWN, never),
            UnknownKid::Unavailable("down".into())
        );
    }

    #[test]
    fn a_zero_cooldown_forces_every_time() {
        let t0 = Instant::now();
        let mut s = State::new();
        s.unknown_kid(t0, Duration::ZERO, || 1);
        s.finish(t0, Ok(()), || None);
        assert_eq!(
            s.unknown_kid(t0, Duration::ZERO, || 2),
            UnknownKid::Forced(Ok(2))
        );
    }
}
