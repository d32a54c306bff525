//! The tower layer that runs the auth pipeline (steps 1-8 in ARCHITECTURE.md) in front of any
//! service.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use futures::future::{BoxFuture, Either};
use http::Request;
use http::request::Parts;
use tower::{Layer, Service};

use crate::User;
use crate::error::AuthError;
use crate::normalize::normalized_view;
use crate::pattern::{PatternList, RoutePattern};
use crate::policy::{Authorizer, AuthzRequest, Need, Policy, RouteFlag};
use crate::provider::AuthProvider;
use crate::rules::Rules;
use crate::token::TokenExtractor;

/// Everything the pipeline needs, shared by every clone of the service.
pub struct Auth {
    provider: Arc<dyn AuthProvider>,
    policy: Policy,
    extractor: TokenExtractor,
    exempt_preflight: bool,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("provider", &self.provider.name())
            .field("policy", &self.policy)
            .field("extractor", &self.extractor)
            .field("exempt_preflight", &self.exempt_preflight)
            .finish()
    }
}

impl Auth {
    /// Starts building an auth pipeline around a provider, with the defaults for `/api`.
    pub fn builder(provider: Arc<dyn AuthProvider>) -> AuthBuilder {
        AuthBuilder {
            policy: Policy::with_defaults("/api"),
            provider,
            extractor: TokenExtractor::default(),
            exempt_preflight: true,
            public: PatternList::default(),
            protected: PatternList::default(),
        }
    }

    /// The provider.
    pub fn provider(&self) -> &Arc<dyn AuthProvider> {
        &self.provider
    }

    /// The effective policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Runs steps 1–8 on a request head: `Ok(None)` = pass without a user, `Ok(Some(user))` =
    /// authenticated and authorized, `Err` = the response to send.
    pub async fn check(&self, parts: &Parts) -> Result<Option<User>, AuthError> {
        let state = self.check_now(parts);
        self.resume(parts, state).await
    }

    /// Runs as much of [`Auth::check`] as can be decided without awaiting: every step when the
    /// provider answers from its verified-token cache (or verifies by computation alone) and no
    /// async authorizer is configured. Continue with [`Auth::resume`] unless it is `Done`.
    // With the `profiling` feature, a frame of its own (one call per request) so that profiles of
    // the server can attribute the pipeline's time (bench/profile-auth.sh); inlined, it disappears
    // into the router's futures.
    #[cfg_attr(feature = "profiling", inline(never))]
    pub fn check_now<'a>(&self, parts: &'a Parts) -> CheckNow<'a> {
        let path = match normalized_view(parts) {
            Ok(path) => path,
            Err(e) => return CheckNow::Done(Err(AuthError::BadRequest(e))),
        };
        if (self.exempt_preflight && is_preflight(&parts.method, &parts.headers))
            || self.policy.need(&path, parts) == Need::Pass
        {
            return CheckNow::Done(Ok(None));
        }
        let token = match self.extractor.find(parts, self.provider.cookie_names()) {
            Ok(Some((token, _source))) => token,
            Ok(None) => return CheckNow::Done(Err(AuthError::MissingToken)),
            Err(e) => return CheckNow::Done(Err(e)),
        };
        match self.provider.authenticate_now(&token, parts) {
            None => CheckNow::Authenticate(token),
            Some(result) => match authenticated(result) {
                Ok(user) => self.authorize_now(user, &path, parts),
                Err(e) => CheckNow::Done(Err(e)),
            },
        }
    }

    /// Finishes what [`Auth::check_now`] left, awaiting the provider or the authorizer.
    pub async fn resume(
        &self,
        parts: &Parts,
        state: CheckNow<'_>,
    ) -> Result<Option<User>, AuthError> {
        let user = match state {
            CheckNow::Done(result) => return result,
            // `authorize_now` applied the rules already.
            CheckNow::Authorize(user) => user,
            CheckNow::Authenticate(token) => {
                let user = authenticated(self.provider.authenticate_token(&token, parts).await)?;
                let path = normalized_view(parts)?;
                if !self.policy.rules_allow(&authz_request(&user, &path, parts)) {
                    return Err(AuthError::Forbidden);
                }
                user
            }
        };
        let allowed = if self.provider_decides(&user) {
            self.provider.authorize_user(&user, parts).await?
        } else {
            let path = normalized_view(parts)?;
            self.policy
                .authorize_callbacks(&authz_request(&user, &path, parts))
                .await?
        };
        if allowed {
            Ok(Some(user))
        } else {
            Err(AuthError::Forbidden)
        }
    }

    /// Step 7 without awaiting, or [`CheckNow::Authorize`] when it needs to. The rules are
    /// applied first and on top of whichever authorizer decides: both must allow.
    fn authorize_now<'a>(&self, user: User, path: &str, parts: &Parts) -> CheckNow<'a> {
        let decision = {
            let req = authz_request(&user, path, parts);
            if !self.policy.rules_allow(&req) {
                return CheckNow::Done(Err(AuthError::Forbidden));
            }
            if self.provider_decides(&user) {
                self.provider.authorize_user_now(&user, parts)
            } else if self.policy.authorize_user.is_some() || self.policy.authorize.is_some() {
                None
            } else {
                Some(Ok(true))
            }
        };
        match decision {
            None => CheckNow::Authorize(user),
            Some(Ok(true)) => CheckNow::Done(Ok(Some(user))),
            Some(Ok(false)) => CheckNow::Done(Err(AuthError::Forbidden)),
            Some(Err(e)) => CheckNow::Done(Err(e)),
        }
    }

    /// Whether the provider's `authorize_user` decides (as in Mastra: unless overridden).
    fn provider_decides(&self, user: &User) -> bool {
        self.policy.authorize_user.is_none() && self.provider.authorizes(user)
    }

    /// This pipeline as a tower layer.
    pub fn layer(self) -> AuthLayer {
        AuthLayer {
            auth: Arc::new(self),
        }
    }
}

/// How far [`Auth::check_now`] got.
#[derive(Debug)]
pub enum CheckNow<'a> {
    /// Decided: what [`Auth::check`] returns.
    Done(Result<Option<User>, AuthError>),
    /// The provider needs I/O to verify this token.
    Authenticate(std::borrow::Cow<'a, str>),
    /// Authenticated; the authorizer must be awaited.
    Authorize(User),
}

impl CheckNow<'_> {
    /// The same state, owning its token (to outlive the request head it was read from).
    pub fn into_owned(self) -> CheckNow<'static> {
        match self {
            CheckNow::Done(r) => CheckNow::Done(r),
            CheckNow::Authenticate(t) => CheckNow::Authenticate(t.into_owned().into()),
            CheckNow::Authorize(u) => CheckNow::Authorize(u),
        }
    }
}

/// A provider's answer as a user: "no user" is a refused token.
fn authenticated(result: Result<Option<User>, AuthError>) -> Result<User, AuthError> {
    result?.ok_or_else(|| {
        AuthError::InvalidToken(crate::jwt::Rejection::Provider(
            "provider returned no user".into(),
        ))
    })
}

fn authz_request<'a>(user: &'a User, path: &'a str, parts: &'a Parts) -> AuthzRequest<'a> {
    AuthzRequest {
        path,
        method: &parts.method,
        user,
        parts,
    }
}

/// A CORS preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`. The one
/// definition for the auth layer's exemption and for a CORS layer that answers preflights, so
/// the two never disagree on what a preflight is.
pub fn is_preflight(method: &http::Method, headers: &http::HeaderMap) -> bool {
    method == http::Method::OPTIONS
        && headers.contains_key(http::header::ORIGIN)
        && headers.contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// Builder for [`Auth`].
pub struct AuthBuilder {
    provider: Arc<dyn AuthProvider>,
    policy: Policy,
    extractor: TokenExtractor,
    exempt_preflight: bool,
    public: PatternList,
    protected: PatternList,
}

impl AuthBuilder {
    /// Uses the defaults for another API prefix (protected `{prefix}/*`, public `{prefix}`).
    pub fn api_prefix(mut self, prefix: &str) -> Self {
        let fresh = Policy::with_defaults(prefix);
        self.policy.public = fresh.public;
        self.policy.protected = fresh.protected;
        self
    }

    /// Adds a public pattern.
    pub fn public(mut self, p: RoutePattern) -> Self {
        self.public.push(p);
        self
    }

    /// Adds public patterns.
    pub fn public_list(mut self, p: PatternList) -> Self {
        self.public.extend(p);
        self
    }

    /// Adds a protected pattern.
    pub fn protected(mut self, p: RoutePattern) -> Self {
        self.protected.push(p);
        self
    }

    /// Adds protected patterns.
    pub fn protected_list(mut self, p: PatternList) -> Self {
        self.protected.extend(p);
        self
    }

    /// Declares a route's `requires_auth` flag (custom routes; `template` as given to the router).
    pub fn route(mut self, flag: RouteFlag) -> Self {
        self.policy.routes.push(flag);
        self
    }

    /// Replaces the provider's `authorize_user` (Mastra's `authorizeUser` option).
    pub fn authorize_user(mut self, a: impl Authorizer) -> Self {
        self.policy.authorize_user = Some(Arc::new(a));
        self
    }

    /// Sets Mastra's `authorize(path, method, user, ctx)` callback.
    pub fn authorize(mut self, a: impl Authorizer) -> Self {
        self.policy.authorize = Some(Arc::new(a));
        self
    }

    /// Sets the ordered rules.
    pub fn rules(mut self, rules: Rules) -> Self {
        self.policy.rules = Some(rules);
        self
    }

    /// Accepts (default) or ignores `?apiKey=`.
    pub fn api_key_query(mut self, on: bool) -> Self {
        self.extractor.api_key_query = on;
        self
    }

    /// Lets CORS preflights (`OPTIONS` + `Origin` + `Access-Control-Request-Method`) through
    /// without credentials (default true), for a CORS layer placed *inside* this one to answer.
    /// Turn it off when preflights are answered outside this layer (or not at all): a
    /// preflight-shaped request that reaches this layer then authenticates like any other, so it
    /// cannot run a handler that accepts `OPTIONS` (an `ALL` route, a proxy) unauthenticated.
    pub fn exempt_preflight(mut self, on: bool) -> Self {
        self.exempt_preflight = on;
        self
    }

    /// Finishes: defaults + provider additions + configured additions.
    pub fn build(mut self) -> Auth {
        self.policy.public.extend(self.provider.public());
        self.policy.public.extend(self.public);
        self.policy.protected.extend(self.provider.protected());
        self.policy.protected.extend(self.protected);
        Auth {
            provider: self.provider,
            policy: self.policy,
            extractor: self.extractor,
            exempt_preflight: self.exempt_preflight,
        }
    }
}

/// Tower layer running the auth pipeline; add it with `Router::layer` so `MatchedPath` is seen.
#[derive(Clone, Debug)]
pub struct AuthLayer {
    auth: Arc<Auth>,
}

impl AuthLayer {
    /// The shared pipeline.
    pub fn auth(&self) -> &Arc<Auth> {
        &self.auth
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            auth: self.auth.clone(),
        }
    }
}

/// The service produced by [`AuthLayer`].
#[derive(Clone, Debug)]
pub struct AuthService<S> {
    inner: S,
    auth: Arc<Auth>,
}

/// The response future of [`AuthService`]: the inner service's own future when every step was
/// decided without awaiting (the common case: a verified-token cache hit), else a boxed one.
pub type AuthFuture<F> = Either<
    F,
    Either<Ready<Result<Response, Infallible>>, BoxFuture<'static, Result<Response, Infallible>>>,
>;

impl<S> Service<Request<Body>> for AuthService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = AuthFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        let state = match self.auth.check_now(&parts) {
            CheckNow::Done(Ok(user)) => {
                if let Some(user) = user {
                    parts.extensions.insert(user);
                }
                // `self.inner` is the service `poll_ready` readied.
                return Either::Left(self.inner.call(Request::from_parts(parts, body)));
            }
            CheckNow::Done(Err(err)) => {
                log_refusal(&parts, &err);
                return Either::Right(Either::Left(ready(Ok(err.into_response()))));
            }
            pending => pending.into_owned(),
        };
        // The ready service handles this request later; a fresh clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        Either::Right(Either::Right(Box::pin(async move {
            match auth.resume(&parts, state).await {
                Ok(user) => {
                    if let Some(user) = user {
                        parts.extensions.insert(user);
                    }
                    inner.call(Request::from_parts(parts, body)).await
                }
                Err(err) => {
                    log_refusal(&parts, &err);
                    Ok(err.into_response())
                }
            }
        })))
    }
}

fn log_refusal(parts: &Parts, err: &AuthError) {
    let path = parts.uri.path();
    let method = &parts.method;
    match err {
        AuthError::Unavailable { what, reason, .. } => {
            tracing::warn!(%method, path, what, reason, "auth backend unavailable")
        }
        AuthError::InvalidToken(reason) => {
            tracing::info!(%method, path, reason = %reason, "token refused")
        }
        other => tracing::debug!(%method, path, error = %other, "request refused"),
    }
}
