//! Small helpers shared by the models and the agent loop: clock, timestamps, ids and a
//! runtime-agnostic way to turn an async producer into a stream.

use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::channel::mpsc;
use futures::stream::{self, BoxStream, StreamExt};

/// Milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Formats milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds, the way
/// JavaScript's `Date.prototype.toISOString` does (`1970-01-01T00:00:00.000Z`).
pub fn iso8601_ms(ms: u64) -> String {
    let secs = ms / 1000;
    let millis = ms % 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if mo <= 2 { y + 1 } else { y };
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

/// A fresh random (v4) UUID as a string.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Sending half handed to a producer started by [`channel_stream`].
pub type Emitter<T> = mpsc::Sender<T>;

/// Runs `producer` as part of the returned stream: items the producer sends on its
/// [`Emitter`] come out of the stream, which ends when the producer returns. Needs no
/// runtime (`spawn`): the producer is polled by whoever polls the stream, and dropping
/// the stream cancels the producer (and with it any upstream request it was making).
pub fn channel_stream<T, F, Fut>(producer: F) -> BoxStream<'static, T>
where
    T: Send + 'static,
    F: FnOnce(Emitter<T>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<T>(32);
    let driver = stream::once(producer(tx)).filter_map(|()| async { None::<T> });
    stream::select(rx, driver).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::SinkExt;

    #[test]
    fn iso_formats_like_javascript() {
        assert_eq!(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_ms(1_795_423_659_788), "2026-11-23T08:47:39.788Z");
        assert_eq!(iso8601_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[tokio::test]
    async fn channel_stream_yields_in_order_and_ends() {
        let s = channel_stream(|mut tx| async move {
            for i in 0..100u32 {
                if tx.send(i).await.is_err() {
                    return;
                }
            }
        });
        let got: Vec<u32> = s.collect().await;
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    }
}
