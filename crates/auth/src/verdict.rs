//! [`Verdict`]: an answer that is either ready or must be awaited, so that a caller pays for a
//! future only when one is needed.

use std::fmt;
use std::future::{Future, IntoFuture, Ready, ready};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::BoxFuture;

use crate::error::AuthError;

/// An answer of a provider, an authorizer or the pipeline: [`Verdict::Ready`] when it was decided
/// by computation alone (a verified-token cache hit, a locally held key, a claim check),
/// [`Verdict::Pending`] when it needs I/O (a key-set fetch, an identity provider's API).
///
/// Answering `Ready` whenever possible is what lets the auth layer run every step of a request
/// without allocating a future. Await a verdict (it implements [`IntoFuture`]) or match on it.
///
/// A `Pending` future may be dropped before it is first polled and the same question asked
/// again: the auth layer does so to carry the request head across the await. Futures do nothing
/// until polled, so put the work that needs I/O inside the future, never before it.
#[must_use = "a verdict decides nothing until it is matched or awaited"]
pub enum Verdict<'a, T> {
    /// Decided now.
    Ready(Result<T, AuthError>),
    /// Decided once this future completes.
    Pending(BoxFuture<'a, Result<T, AuthError>>),
}

impl<'a, T> Verdict<'a, T> {
    /// A verdict decided now.
    pub fn ready(result: Result<T, AuthError>) -> Self {
        Verdict::Ready(result)
    }

    /// A verdict decided by `future` (boxed here).
    pub fn pending(future: impl Future<Output = Result<T, AuthError>> + Send + 'a) -> Self {
        Verdict::Pending(Box::pin(future))
    }

    /// Whether it was decided without awaiting.
    pub fn is_ready(&self) -> bool {
        matches!(self, Verdict::Ready(_))
    }

    /// Whether it must be awaited.
    pub fn is_pending(&self) -> bool {
        matches!(self, Verdict::Pending(_))
    }

    /// The answer if it is ready; a pending future is dropped unpolled.
    pub fn now(self) -> Option<Result<T, AuthError>> {
        match self {
            Verdict::Ready(result) => Some(result),
            Verdict::Pending(_) => None,
        }
    }

    /// The answer, awaiting it if needed (the same as `.await` on the verdict).
    pub fn resolve(self) -> Resolve<'a, T> {
        Resolve(match self {
            Verdict::Ready(result) => Resolving::Ready(ready(result)),
            Verdict::Pending(future) => Resolving::Pending(future),
        })
    }
}

impl<T> From<Result<T, AuthError>> for Verdict<'_, T> {
    fn from(result: Result<T, AuthError>) -> Self {
        Verdict::Ready(result)
    }
}

impl<'a, T> IntoFuture for Verdict<'a, T> {
    type Output = Result<T, AuthError>;
    type IntoFuture = Resolve<'a, T>;

    fn into_future(self) -> Self::IntoFuture {
        self.resolve()
    }
}

impl<T: fmt::Debug> fmt::Debug for Verdict<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Ready(result) => f.debug_tuple("Ready").field(result).finish(),
            Verdict::Pending(_) => f.write_str("Pending"),
        }
    }
}

/// The future of [`Verdict::resolve`]: ready at once for [`Verdict::Ready`], else the pending
/// future itself (no second allocation).
#[must_use = "futures do nothing unless polled"]
pub struct Resolve<'a, T>(Resolving<'a, T>);

enum Resolving<'a, T> {
    Ready(Ready<Result<T, AuthError>>),
    Pending(BoxFuture<'a, Result<T, AuthError>>),
}

impl<T> Future for Resolve<'_, T> {
    type Output = Result<T, AuthError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Both variants are `Unpin`, and so is `Resolve`.
        match &mut self.get_mut().0 {
            Resolving::Ready(ready) => Pin::new(ready).poll(cx),
            Resolving::Pending(future) => future.as_mut().poll(cx),
        }
    }
}

impl<T> fmt::Debug for Resolve<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Resolving::Ready(_) => "Resolve(Ready)",
            Resolving::Pending(_) => "Resolve(Pending)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ready_and_pending_resolve_to_their_answers() {
        let now: Verdict<'_, u8> = Verdict::ready(Ok(1));
        assert!(now.is_ready() && !now.is_pending());
        assert_eq!(now.await.unwrap(), 1);
        let later: Verdict<'_, u8> = Verdict::pending(async { Ok(2) });
        assert!(later.is_pending() && !later.is_ready());
        assert_eq!(later.resolve().await.unwrap(), 2);
        let refused: Verdict<'_, u8> = Err(AuthError::MissingToken).into();
        assert!(matches!(refused.await, Err(AuthError::MissingToken)));
    }

    #[test]
    fn a_pending_future_runs_only_when_polled() {
        let ran = std::sync::atomic::AtomicBool::new(false);
        let v: Verdict<'_, ()> = Verdict::pending(async {
            ran.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        });
        assert_eq!(format!("{v:?}"), "Pending");
        drop(v);
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }
}
