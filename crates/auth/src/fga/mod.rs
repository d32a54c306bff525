//! Fine-grained authorization: may this user perform this permission on this one resource
//! (`agents:execute` on `agent:weatherAgent`)?
//!
//! A [`FgaChecker`] answers single checks: [`LocalChecker`] from relationship tuples held in
//! config, [`WorkosChecker`] through WorkOS's authorization API. [`Fga`] wraps one with a short
//! cache of answers, maps routes to resources (`/api/agents/{agentId}` is `agent:<agentId>`), and
//! filters lists (the agents a user may see) with bounded concurrency, in order. A checker whose
//! backend is down answers an error (a 503), never an allow; errors are not cached.

mod local;
mod workos;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};

pub use local::{LocalChecker, Tuple, TupleError};
pub use workos::{WorkosChecker, WorkosFgaConfig, WorkosFgaConfigError};

use crate::User;
use crate::error::AuthError;
use crate::verdict::Verdict;

/// A resource: its kind (`agent`, `tool`, `thread`) and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource<'a> {
    /// `agent`, `tool`, `thread`, ...
    pub kind: &'a str,
    /// Its id (`weatherAgent`).
    pub id: &'a str,
}

impl std::fmt::Display for Resource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

/// Answers single fine-grained checks. Ready when no I/O is needed; an unreachable backend is an
/// `Err` (never `Ok(true)`).
pub trait FgaChecker: Send + Sync + 'static {
    /// Whether `user` holds `permission` on `resource`.
    fn check<'a>(
        &'a self,
        user: &'a User,
        permission: &'a str,
        resource: Resource<'a>,
    ) -> Verdict<'a, bool>;
}

/// Which route parameters name a resource, and of which kind: `agentId` is an `agent`, `toolId`
/// a `tool`, `threadId` a `thread`. The first parameter of a route's template found here is the
/// route's resource (`/agents/{agentId}/tools/{toolId}` is about the agent).
pub const DEFAULT_RESOURCE_PARAMS: [(&str, &str); 3] = [
    ("agentId", "agent"),
    ("toolId", "tool"),
    ("threadId", "thread"),
];

/// Settings of [`Fga`].
#[derive(Debug, Clone, PartialEq)]
pub struct FgaSettings {
    /// How long an answer is reused (0 turns the cache off).
    pub cache_ttl: Duration,
    /// How many answers are kept.
    pub cache_capacity: u64,
    /// How many checks of one list run at once.
    pub concurrency: usize,
    /// Route parameter -> resource kind.
    pub resource_params: Vec<(String, String)>,
}

impl Default for FgaSettings {
    fn default() -> Self {
        Self {
            cache_ttl: Duration::from_secs(30),
            cache_capacity: 100_000,
            concurrency: 8,
            resource_params: DEFAULT_RESOURCE_PARAMS
                .iter()
                .map(|(p, k)| ((*p).to_owned(), (*k).to_owned()))
                .collect(),
        }
    }
}

/// A cached answer's key: who (provider and user id), what, on which resource.
type CacheKey = (Arc<str>, String, String, String, String);

/// Fine-grained authorization: a checker, a cache of its answers, and the route mapping.
pub struct Fga {
    checker: Arc<dyn FgaChecker>,
    cache: Option<moka::sync::Cache<CacheKey, bool>>,
    concurrency: usize,
    resource_params: Vec<(String, String)>,
}

impl std::fmt::Debug for Fga {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fga")
            .field("cache", &self.cache.is_some())
            .field("concurrency", &self.concurrency)
            .field("resource_params", &self.resource_params)
            .finish_non_exhaustive()
    }
}

impl Fga {
    /// Wraps `checker`.
    pub fn new(checker: Arc<dyn FgaChecker>, settings: FgaSettings) -> Self {
        let cache = (!settings.cache_ttl.is_zero() && settings.cache_capacity > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(settings.cache_capacity)
                .time_to_live(settings.cache_ttl)
                .build()
        });
        Self {
            checker,
            cache,
            concurrency: settings.concurrency.max(1),
            resource_params: settings.resource_params,
        }
    }

    /// The resource a route is about: the first parameter of `template` that names a resource
    /// kind, with its value from the decoded `path` (same segment). `None` when the route has
    /// none, or the path does not have the template's shape.
    pub fn resource_of<'p>(&'p self, template: &str, path: &'p str) -> Option<Resource<'p>> {
        let t: Vec<&str> = template.split('/').collect();
        let p: Vec<&str> = path.split('/').collect();
        if t.len() != p.len() {
            return None;
        }
        t.iter().zip(&p).find_map(|(ts, ps)| {
            let name = ts.strip_prefix('{')?.strip_suffix('}')?;
            let kind = self
                .resource_params
                .iter()
                .find(|(param, _)| param == name)?;
            Some(Resource {
                kind: &kind.1,
                id: ps,
            })
        })
    }

    /// Whether `user` holds `permission` on `resource`: a denial is
    /// [`AuthError::FgaDenied`], a backend failure an error (503). Takes the permission by
    /// value, as the pipeline derives it per request.
    pub fn require<'a>(
        &'a self,
        user: &'a User,
        permission: Cow<'a, str>,
        resource: Resource<'a>,
    ) -> Verdict<'a, ()> {
        fn denied(permission: &str, resource: Resource<'_>) -> AuthError {
            AuthError::FgaDenied {
                permission: permission.to_owned(),
                resource: resource.to_string(),
            }
        }
        // Ready answers (cache hits, local tuples) need no future; a pending one borrows the
        // permission, so it is dropped unpolled and asked again by a future that owns it.
        let now = self.check(user, &permission, resource).now();
        match now {
            Some(Ok(true)) => Verdict::Ready(Ok(())),
            Some(Ok(false)) => Verdict::Ready(Err(denied(&permission, resource))),
            Some(Err(e)) => Verdict::Ready(Err(e)),
            None => Verdict::pending(async move {
                if self.check(user, &permission, resource).await? {
                    Ok(())
                } else {
                    Err(denied(&permission, resource))
                }
            }),
        }
    }

    /// Whether `user` holds `permission` on `resource`, from the cache when it can.
    pub fn check<'a>(
        &'a self,
        user: &'a User,
        permission: &'a str,
        resource: Resource<'a>,
    ) -> Verdict<'a, bool> {
        let key = || {
            (
                user.provider.clone(),
                user.id.clone(),
                permission.to_owned(),
                resource.kind.to_owned(),
                resource.id.to_owned(),
            )
        };
        let Some(cache) = &self.cache else {
            return self.checker.check(user, permission, resource);
        };
        let key = key();
        if let Some(hit) = cache.get(&key) {
            return Verdict::Ready(Ok(hit));
        }
        match self.checker.check(user, permission, resource) {
            Verdict::Ready(answer) => {
                if let Ok(allowed) = answer {
                    cache.insert(key, allowed);
                }
                Verdict::Ready(answer)
            }
            Verdict::Pending(f) => Verdict::pending(async move {
                let answer = f.await;
                if let Ok(allowed) = answer {
                    cache.insert(key, allowed);
                }
                answer
            }),
        }
    }

    /// Which of `ids` (resources of kind `kind`) `user` holds `permission` on, in order. Runs
    /// at most the configured number of checks at once; any failure fails the whole list.
    pub async fn filter(
        &self,
        user: &User,
        permission: &str,
        kind: &str,
        ids: &[&str],
    ) -> Result<Vec<bool>, AuthError> {
        let mut answers = vec![false; ids.len()];
        let mut pending = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            match self.check(user, permission, Resource { kind, id }) {
                Verdict::Ready(answer) => answers[i] = answer?,
                Verdict::Pending(f) => pending.push((i, f)),
            }
        }
        // At most `concurrency` checks in flight (a plain loop: a stream of closures returning
        // futures makes callers' futures fail to be `Send` for every lifetime).
        let mut queue = pending.into_iter();
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < self.concurrency {
                let Some((i, f)) = queue.next() else { break };
                running.push(async move { (i, f.await) });
            }
            let Some((i, answer)) = running.next().await else {
                return Ok(answers);
            };
            answers[i] = answer?;
        }
    }
}

/// A user with just an id, for the checkers' tests.
#[cfg(test)]
pub(crate) fn test_user(id: &str) -> User {
    let mut claims = serde_json::Map::new();
    claims.insert("sub".into(), serde_json::json!(id));
    User::from_claims(claims, Arc::from("test"))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::test_user as user;
    use super::*;

    /// Allows ids starting with `ok`; counts calls; answers pending when `slow`.
    struct Counting {
        calls: AtomicUsize,
        slow: bool,
    }

    impl FgaChecker for Counting {
        fn check<'a>(&'a self, _: &'a User, _: &'a str, r: Resource<'a>) -> Verdict<'a, bool> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let answer = if r.id == "down" {
                Err(AuthError::authorization_unavailable("test backend down"))
            } else {
                Ok(r.id.starts_with("ok"))
            };
            if self.slow {
                Verdict::pending(async move {
                    tokio::task::yield_now().await;
                    answer
                })
            } else {
                Verdict::Ready(answer)
            }
        }
    }

    fn fga(slow: bool, ttl: Duration) -> (Fga, Arc<Counting>) {
        let checker = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            slow,
        });
        let fga = Fga::new(
            checker.clone(),
            FgaSettings {
                cache_ttl: ttl,
                concurrency: 3,
                ..FgaSettings::default()
            },
        );
        (fga, checker)
    }

    #[test]
    fn routes_map_to_their_first_resource_parameter() {
        let (f, _) = fga(false, Duration::ZERO);
        let r = f.resource_of(
            "/api/agents/{agentId}/tools/{toolId}",
            "/api/agents/a1/tools/t1",
        );
        assert_eq!(
            r,
            Some(Resource {
                kind: "agent",
                id: "a1"
            })
        );
        let r = f.resource_of("/api/tools/{toolId}/execute", "/api/tools/t1/execute");
        assert_eq!(
            r,
            Some(Resource {
                kind: "tool",
                id: "t1"
            })
        );
        let r = f.resource_of("/api/memory/threads/{threadId}", "/api/memory/threads/th");
        assert_eq!(
            r,
            Some(Resource {
                kind: "thread",
                id: "th"
            })
        );
        assert_eq!(f.resource_of("/api/agents", "/api/agents"), None);
        assert_eq!(f.resource_of("/api/agents/{agentId}", "/api/agents"), None);
        assert_eq!(f.resource_of("/reports/{id}", "/reports/1"), None);
    }

    #[tokio::test]
    async fn answers_are_cached_and_errors_are_not() {
        let (f, c) = fga(true, Duration::from_secs(60));
        let u = user("u1");
        let r = Resource {
            kind: "agent",
            id: "ok-1",
        };
        assert!(f.check(&u, "agents:read", r).await.unwrap());
        assert!(matches!(
            f.check(&u, "agents:read", r),
            Verdict::Ready(Ok(true))
        ));
        assert_eq!(c.calls.load(Ordering::SeqCst), 1);
        // Another user, permission or resource is another question.
        assert!(f.check(&user("u2"), "agents:read", r).await.unwrap());
        assert!(f.check(&u, "agents:execute", r).await.unwrap());
        assert_eq!(c.calls.load(Ordering::SeqCst), 3);
        let down = Resource {
            kind: "agent",
            id: "down",
        };
        assert!(f.check(&u, "agents:read", down).await.is_err());
        assert!(f.check(&u, "agents:read", down).await.is_err());
        assert_eq!(c.calls.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn cached_answers_expire() {
        let (f, c) = fga(true, Duration::from_millis(50));
        let u = user("u1");
        let r = Resource {
            kind: "agent",
            id: "ok",
        };
        assert!(f.check(&u, "agents:read", r).await.unwrap());
        assert!(f.check(&u, "agents:read", r).await.unwrap());
        assert_eq!(c.calls.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(f.check(&u, "agents:read", r).await.unwrap());
        assert_eq!(c.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn filtering_keeps_order_and_fails_closed() {
        for slow in [false, true] {
            let (f, _) = fga(slow, Duration::ZERO);
            let u = user("u1");
            let ids = ["ok-a", "no-b", "ok-c", "no-d", "ok-e"];
            let got = f.filter(&u, "agents:read", "agent", &ids).await.unwrap();
            assert_eq!(got, [true, false, true, false, true], "slow={slow}");
            let err = f
                .filter(&u, "agents:read", "agent", &["ok-a", "down", "ok-c"])
                .await
                .unwrap_err();
            assert_eq!(err.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        }
    }

    #[tokio::test]
    async fn require_denies_with_the_permission_and_resource() {
        let (f, _) = fga(false, Duration::ZERO);
        let u = user("u1");
        let err = f
            .require(
                &u,
                "agents:execute".into(),
                Resource {
                    kind: "agent",
                    id: "no-x",
                },
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "FGA authorization denied: cannot agents:execute on agent:no-x"
        );
        assert!(
            f.require(
                &u,
                "agents:execute".into(),
                Resource {
                    kind: "agent",
                    id: "ok-x"
                }
            )
            .await
            .is_ok()
        );
    }
}
