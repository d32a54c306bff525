//! The background refresher of a key set: it refreshes shortly before the keys expire and retries
//! failures with an exponential backoff.

use std::sync::Weak;
use std::time::{Duration, Instant};

use super::config::FETCH_FAILURE_BACKOFF;
use super::fetch::Inner;
use super::snapshot::Snapshot;

/// Longest wait between background retries after failures.
const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(60);

/// The background refresh loop. Holds only a `Weak`: it ends when the set is dropped (and is
/// aborted by `Inner::drop` while sleeping).
pub(super) async fn refresher(weak: Weak<Inner>) {
    let mut failures = 0u32;
    loop {
        let delay = match weak.upgrade() {
            Some(inner) => next_refresh_delay(inner.snapshot.load_full().as_deref(), failures),
            None => return,
        };
        tokio::time::sleep(delay).await;
        let fut = match weak.upgrade() {
            Some(inner) => inner.refresh(),
            None => return,
        };
        match fut.await {
            Ok(_) => failures = 0,
            Err(_) => failures = failures.saturating_add(1),
        }
    }
}

/// How long the refresher waits before its next attempt, after `failures` failures in a row.
fn next_refresh_delay(snapshot: Option<&Snapshot>, failures: u32) -> Duration {
    if failures > 0 {
        let exp = failures.saturating_sub(1).min(16);
        return FETCH_FAILURE_BACKOFF
            .saturating_mul(1 << exp)
            .min(MAX_RETRY_BACKOFF);
    }
    match snapshot {
        None => Duration::ZERO,
        Some(s) => {
            // Refresh shortly before expiry: a tenth of the lifetime early, at most 30 s.
            let margin = (s.ttl / 10).min(Duration::from_secs(30));
            (s.expires_at() - margin).saturating_duration_since(Instant::now())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_exponentially_up_to_a_minute() {
        let delays: Vec<u64> = (1..=9)
            .map(|f| next_refresh_delay(None, f).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(next_refresh_delay(None, u32::MAX), MAX_RETRY_BACKOFF);
    }

    #[test]
    fn without_keys_the_refresher_fetches_at_once() {
        assert_eq!(next_refresh_delay(None, 0), Duration::ZERO);
    }
}
