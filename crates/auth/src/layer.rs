//! The tower layer that runs the auth pipeline (steps 1-8 in ARCHITECTURE.md) in front of any
//! service.

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use futures::future::BoxFuture;
use http::Request;
use http::request::Parts;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::User;
use crate::error::AuthError;
use crate::normalize::normalized_view;
use crate::pattern::{PatternList, RoutePattern};
use crate::policy::{Authorizer, AuthzRequest, Need, Policy, RouteFlag};
use crate::provider::AuthProvider;
use crate::rbac::Rbac;
use crate::rules::Rules;
use crate::token::TokenExtractor;
use crate::verdict::Verdict;

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
    /// Starts building an auth pipeline around a provider with neutral defaults: every path
    /// the layer wraps is protected, none is public, and the token is read from the
    /// `Authorization` header (and the provider's cookies) only, never from the query string.
    /// Open paths with [`AuthBuilder::public`]; for a Mastra-compatible server use
    /// [`Auth::mastra_defaults`].
    pub fn builder(provider: Arc<dyn AuthProvider>) -> AuthBuilder {
        AuthBuilder {
            policy: Policy::protect_all(),
            provider,
            extractor: TokenExtractor {
                api_key_query: false,
            },
            exempt_preflight: true,
            public: PatternList::default(),
            protected: PatternList::default(),
        }
    }

    /// Starts building with Mastra's defaults: protected `/api/*`, public `/api` and `/health`,
    /// and `?apiKey=<token>` accepted as a credential, as `@mastra/client-js` may send it.
    /// Change the prefix with [`AuthBuilder::api_prefix`], the query with
    /// [`AuthBuilder::api_key_query`].
    pub fn mastra_defaults(provider: Arc<dyn AuthProvider>) -> AuthBuilder {
        Self::builder(provider)
            .api_prefix("/api")
            .api_key_query(true)
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
    /// authenticated and authorized, `Err` = the response to send. Ready whenever the provider
    /// and the authorizer answer ready (a verified-token cache hit, a local signature check,
    /// rules, a closure callback); await the verdict for the rest.
    pub fn check<'a>(&'a self, parts: &'a Parts) -> Verdict<'a, Option<User>> {
        match self.decide(parts) {
            Decision::Done(result) => Verdict::Ready(result),
            stopped => Verdict::pending(self.finish(parts, stopped)),
        }
    }

    /// The steps that need no awaiting, up to the first provider or authorizer that answers
    /// pending. The pending future is dropped unpolled and asked for again by
    /// [`Auth::finish`]: it borrows the request head, which the layer must move into its
    /// response future first.
    // With the `profiling` feature, a frame of its own (one call per request) so that profiles of
    // the server can attribute the pipeline's time (bench/profile-auth.sh); inlined, it disappears
    // into the router's futures.
    #[cfg_attr(feature = "profiling", inline(never))]
    fn decide<'a>(&self, parts: &'a Parts) -> Decision<'a> {
        let path = match normalized_view(parts) {
            Ok(path) => path,
            Err(e) => return Decision::Done(Err(AuthError::BadRequest(e))),
        };
        if (self.exempt_preflight && is_preflight(&parts.method, &parts.headers))
            || self.policy.need(&path, parts) == Need::Pass
        {
            return Decision::Done(Ok(None));
        }
        let token = match self.extractor.find(parts, self.provider.cookie_names()) {
            Ok(Some((token, _source))) => token,
            Ok(None) => return Decision::Done(Err(AuthError::MissingToken)),
            Err(e) => return Decision::Done(Err(e)),
        };
        // A pending answer borrows the token: note it and ask again in `finish`.
        let Some(answer) = self.provider.authenticate(&token, parts).now() else {
            return Decision::Authenticate(token);
        };
        let user = match authenticated(answer) {
            Ok(user) => user,
            Err(e) => return Decision::Done(Err(e)),
        };
        let permission = self.route_permission(&path, parts);
        if let Err(e) = self.rules_and_roles(&user, &path, parts, permission.as_deref()) {
            return Decision::Done(Err(e));
        }
        let Some(access) = self.access(&user, &path, parts, permission).now() else {
            return Decision::Authorize(user);
        };
        Decision::Done(allowed(access, user))
    }

    /// The permission of the route this request is for, derived once per request and only
    /// when the rules, RBAC or FGA read it.
    fn route_permission<'a>(&'a self, path: &'a str, parts: &'a Parts) -> Option<Cow<'a, str>> {
        if self.policy.reads_permission() {
            self.policy.required_permission(path, parts)
        } else {
            None
        }
    }

    /// Finishes what [`Auth::decide`] left, awaiting the provider or the authorizer.
    async fn finish(
        &self,
        parts: &Parts,
        stopped: Decision<'_>,
    ) -> Result<Option<User>, AuthError> {
        let path = normalized_view(parts)?;
        let permission = self.route_permission(&path, parts);
        let user = match stopped {
            Decision::Done(result) => return result,
            // `decide` applied the rules already.
            Decision::Authorize(user) => user,
            Decision::Authenticate(token) => {
                let user = authenticated(self.provider.authenticate(&token, parts).await)?;
                self.rules_and_roles(&user, &path, parts, permission.as_deref())?;
                user
            }
        };
        let access = self.access(&user, &path, parts, permission).await;
        allowed(access, user)
    }

    /// Step 7 without the rules (the caller applies them first, and both must allow): the
    /// provider's own decision, else the override or `authorize` callback, else allow.
    #[inline]
    #[cfg_attr(not(feature = "remote"), allow(unused_variables))]
    fn access<'a>(
        &'a self,
        user: &'a User,
        path: &'a str,
        parts: &'a Parts,
        permission: Option<Cow<'a, str>>,
    ) -> Verdict<'a, bool> {
        let decided = if self.provider_decides(user) {
            self.provider.authorize(user, parts)
        } else {
            self.policy
                .authorize_callbacks(authz_request(user, path, parts))
        };
        #[cfg(feature = "remote")]
        if let Some(fga) = self.fga_requirement(user, path, parts, permission) {
            return match decided {
                Verdict::Ready(Ok(true)) => match fga {
                    Verdict::Ready(done) => Verdict::Ready(done.map(|()| true)),
                    Verdict::Pending(f) => Verdict::pending(async move { f.await.map(|()| true) }),
                },
                Verdict::Ready(other) => Verdict::Ready(other),
                Verdict::Pending(d) => Verdict::pending(async move {
                    if !d.await? {
                        return Ok(false);
                    }
                    fga.await.map(|()| true)
                }),
            };
        }
        decided
    }

    /// Fine-grained authorization of the route's resource (`agent:<agentId>`), when configured
    /// and the route the router matched has one.
    #[cfg(feature = "remote")]
    fn fga_requirement<'a>(
        &'a self,
        user: &'a User,
        path: &'a str,
        parts: &'a Parts,
        permission: Option<Cow<'a, str>>,
    ) -> Option<Verdict<'a, ()>> {
        let fga = self.policy.fga.as_ref()?;
        let template = parts.extensions.get::<axum::extract::MatchedPath>()?;
        let resource = fga.resource_of(template.as_str(), path)?;
        Some(fga.require(user, permission?, resource))
    }

    /// The rules, then role-based access control: both must allow, and so must [`Auth::access`].
    #[inline]
    fn rules_and_roles(
        &self,
        user: &User,
        path: &str,
        parts: &Parts,
        permission: Option<&str>,
    ) -> Result<(), AuthError> {
        if !self
            .policy
            .rules_allow_with(&authz_request(user, path, parts), permission)
        {
            return Err(AuthError::Forbidden);
        }
        self.policy.rbac_check_with(user, permission)
    }

    /// Whether the provider's `authorize` decides (as in Mastra: unless overridden).
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

/// How far [`Auth::decide`] got.
enum Decision<'a> {
    /// Decided: what [`Auth::check`] answers.
    Done(Result<Option<User>, AuthError>),
    /// The provider needs I/O to verify this token.
    Authenticate(Cow<'a, str>),
    /// Authenticated and allowed by the rules; the authorizer needs I/O.
    Authorize(User),
}

impl Decision<'_> {
    /// The same state, owning its token (to outlive the request head it was read from).
    fn into_owned(self) -> Decision<'static> {
        match self {
            Decision::Done(r) => Decision::Done(r),
            Decision::Authenticate(t) => Decision::Authenticate(Cow::Owned(t.into_owned())),
            Decision::Authorize(u) => Decision::Authorize(u),
        }
    }
}

/// The authorizer's answer for an authenticated user.
#[inline(always)]
fn allowed(access: Result<bool, AuthError>, user: User) -> Result<Option<User>, AuthError> {
    match access? {
        true => Ok(Some(user)),
        false => Err(AuthError::Forbidden),
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
        self.policy.api_prefix = fresh.api_prefix;
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

    /// Turns on fine-grained authorization of each route's resource ([`crate::fga`]), on top of
    /// every other check.
    #[cfg(feature = "remote")]
    pub fn fga(mut self, fga: Arc<crate::fga::Fga>) -> Self {
        self.policy.fga = Some(fga);
        self
    }

    /// Turns on role-based access control: every authenticated request needs its route's
    /// permission ([`crate::permission`]), on top of the rules.
    pub fn rbac(mut self, rbac: Rbac) -> Self {
        self.policy.rbac = Some(Arc::new(rbac));
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
    type Future = AuthFuture<S>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        // Decided without awaiting: the request is handled here, in place.
        let stopped = match self.auth.decide(&parts) {
            Decision::Done(Ok(user)) => {
                if let Some(user) = user {
                    parts.extensions.insert(user);
                }
                // `self.inner` is the service `poll_ready` readied.
                let future = self.inner.call(Request::from_parts(parts, body));
                return AuthFuture {
                    state: State::Inner { future },
                };
            }
            Decision::Done(Err(err)) => {
                log_refusal(&parts, &err);
                let response = ready(Ok(err.into_response()));
                return AuthFuture {
                    state: State::Refused { response },
                };
            }
            stopped => stopped.into_owned(),
        };
        // The ready service handles this request later; a fresh clone takes its place.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        // The future owns the request head: the provider and the authorizer borrow it.
        let check = Box::pin(async move {
            let result = auth.finish(&parts, stopped).await;
            admit(parts, body, result)
        });
        AuthFuture {
            state: State::Checking { check, inner },
        }
    }
}

/// What the pipeline's decision makes of a request.
enum Admission {
    /// Pass it on to the inner service.
    Pass(Request<Body>),
    /// Answer with this refusal.
    Refuse(Response),
}

/// The request with the user in its extensions, or the refusal to answer (as
/// [`AuthService::call`] does in place when it decides without awaiting).
fn admit(mut parts: Parts, body: Body, result: Result<Option<User>, AuthError>) -> Admission {
    match result {
        Ok(user) => {
            if let Some(user) = user {
                parts.extensions.insert(user);
            }
            Admission::Pass(Request::from_parts(parts, body))
        }
        Err(err) => {
            log_refusal(&parts, &err);
            Admission::Refuse(err.into_response())
        }
    }
}

pin_project! {
    /// The response future of [`AuthService`]. When the pipeline decided without awaiting (the
    /// common case: a verified-token cache hit) it is the inner service's own future, with no
    /// allocation; a refusal is answered at once; otherwise the pipeline is awaited first.
    pub struct AuthFuture<S>
    where
        S: Service<Request<Body>>,
    {
        #[pin]
        state: State<S, S::Future>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, F> {
        // Let through: the inner service answers.
        Inner {
            #[pin]
            future: F,
        },
        // Refused: this is the answer.
        Refused {
            response: Ready<Result<Response, Infallible>>,
        },
        // Awaiting the provider or the authorizer, in a future that owns the request; then the
        // inner service (the one `poll_ready` readied) gets it, or the refusal is the answer.
        Checking {
            check: BoxFuture<'static, Admission>,
            inner: S,
        },
    }
}

impl<S: Service<Request<Body>>> State<S, S::Future> {
    /// The state once the pipeline has decided: `inner` (ready) gets the request, or the
    /// refusal is the answer.
    fn after(admission: Admission, inner: &mut S) -> Self {
        match admission {
            Admission::Pass(req) => State::Inner {
                future: inner.call(req),
            },
            Admission::Refuse(response) => State::Refused {
                response: ready(Ok(response)),
            },
        }
    }
}

impl<S> std::fmt::Debug for AuthFuture<S>
where
    S: Service<Request<Body>>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::Inner { .. } => "Inner",
            State::Refused { .. } => "Refused",
            State::Checking { .. } => "Checking",
        };
        f.debug_struct("AuthFuture").field("state", &state).finish()
    }
}

impl<S> Future for AuthFuture<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Inner { future } => return future.poll(cx),
                StateProj::Refused { response } => return Pin::new(response).poll(cx),
                StateProj::Checking { check, inner } => {
                    let next = State::after(std::task::ready!(check.as_mut().poll(cx)), inner);
                    state.set(next);
                }
            }
        }
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
