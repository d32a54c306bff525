//! The tower layer that runs the request pipeline of DESIGN §3 in front of any service.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use http::Request;
use http::request::Parts;
use tower::{Layer, Service};

use crate::User;
use crate::error::AuthError;
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
        if (self.exempt_preflight && is_preflight(parts)) || self.policy.need(parts) == Need::Pass {
            return Ok(None);
        }
        let token = self.extractor.find(parts, self.provider.cookie_names())?;
        let Some((token, _source)) = token else {
            return Err(AuthError::MissingToken);
        };
        let user = match self.provider.authenticate_token(&token, parts).await {
            Ok(Some(user)) => user,
            Ok(None) => {
                return Err(AuthError::InvalidToken(crate::jwt::Rejection::Provider(
                    "provider returned no user".into(),
                )));
            }
            Err(e) => return Err(e),
        };
        let req = AuthzRequest {
            path: parts.uri.path(),
            method: &parts.method,
            user: &user,
            parts,
        };
        let allowed = if self.policy.authorize_user.is_none() && self.provider.authorizes(&user) {
            self.provider.authorize_user(&user, parts).await?
        } else {
            self.policy.authorize(&req).await?
        };
        if !allowed {
            return Err(AuthError::Forbidden);
        }
        Ok(Some(user))
    }

    /// This pipeline as a tower layer.
    pub fn layer(self) -> AuthLayer {
        AuthLayer {
            auth: Arc::new(self),
        }
    }
}

/// A CORS preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
pub fn is_preflight(parts: &Parts) -> bool {
    parts.method == http::Method::OPTIONS
        && parts.headers.contains_key(http::header::ORIGIN)
        && parts
            .headers
            .contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD)
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

impl<S> Service<Request<Body>> for AuthService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // The ready service handles this request; a fresh clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            match auth.check(&parts).await {
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
        })
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
