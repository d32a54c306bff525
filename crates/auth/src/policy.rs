//! Who needs to authenticate, and who may proceed (steps 3–5 and 7 of the auth pipeline in
//! ARCHITECTURE.md).

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::MatchedPath;
use http::Method;
use http::request::Parts;

use crate::User;
use crate::error::AuthError;
use crate::pattern::{MethodSet, PatternList, RoutePattern};
use crate::permission;
use crate::rbac::Rbac;
use crate::rules::{RuleContext, Rules};
use crate::verdict::Verdict;

/// What an authorizer sees.
#[derive(Debug, Clone, Copy)]
pub struct AuthzRequest<'a> {
    /// The decoded, normalized request path ([`crate::normalize`]).
    pub path: &'a str,
    /// The request method.
    pub method: &'a Method,
    /// The authenticated user.
    pub user: &'a User,
    /// The whole request head (headers, extensions).
    pub parts: &'a Parts,
}

/// An access decision: Mastra's `authorize(path, method, user, ctx)` or `authorizeUser(user, req)`.
///
/// `Err(AuthError::Unavailable{..})` when a backend is down becomes a 503; never an allow. A
/// closure `Fn(&AuthzRequest) -> bool` is an authorizer that answers [`Verdict::Ready`]; one that
/// needs I/O answers [`Verdict::pending`].
///
/// [`AuthError::Unavailable`]: crate::AuthError::Unavailable
pub trait Authorizer: Send + Sync + 'static {
    /// `true` lets the request through; `false` is a 403.
    fn authorize<'a>(&'a self, req: AuthzRequest<'a>) -> Verdict<'a, bool>;
}

impl<F> Authorizer for F
where
    F: Fn(&AuthzRequest<'_>) -> bool + Send + Sync + 'static,
{
    fn authorize<'a>(&'a self, req: AuthzRequest<'a>) -> Verdict<'a, bool> {
        Verdict::Ready(Ok(self(&req)))
    }
}

/// A custom route's `requires_auth` flag, looked up by the route the router matched.
#[derive(Debug, Clone)]
pub struct RouteFlag {
    /// Methods the route answers.
    pub methods: MethodSet,
    /// The route template as registered with the router (`/things/{id}`).
    pub template: String,
    /// Compiled template, for services without axum's `MatchedPath`.
    pub pattern: RoutePattern,
    /// `requires_auth`.
    pub requires_auth: bool,
    /// The permission the route needs under RBAC, instead of the one derived from its template.
    pub permission: Option<String>,
}

/// Whether a request must authenticate, after steps 1–5 of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Let it through without looking at credentials.
    Pass,
    /// Authenticate (and then authorize).
    Authenticate,
}

/// The effective path policy: public and protected lists (defaults included), custom route
/// flags, and the authorization mechanisms (an override or callback, and rules on top).
#[derive(Clone, Default)]
pub struct Policy {
    /// Effective public patterns.
    pub public: PatternList,
    /// Effective protected patterns.
    pub protected: PatternList,
    /// Custom route flags.
    pub routes: Vec<RouteFlag>,
    /// User-supplied replacement for the provider's `authorize_user`.
    pub authorize_user: Option<Arc<dyn Authorizer>>,
    /// Mastra's `authorize(path, method, user, ctx)` callback.
    pub authorize: Option<Arc<dyn Authorizer>>,
    /// Ordered rules, applied on top of whichever of the above (or the provider) decides.
    pub rules: Option<Rules>,
    /// Role-based access control, applied on top of the rules: both must allow.
    pub rbac: Option<Arc<Rbac>>,
    /// The API prefix route permissions are derived under (`/api`).
    pub api_prefix: String,
    /// Fine-grained authorization of a route's resource, on top of everything else.
    #[cfg(feature = "remote")]
    pub fga: Option<Arc<crate::fga::Fga>>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("public", &self.public)
            .field("protected", &self.protected)
            .field("routes", &self.routes)
            .field("authorize_user", &self.authorize_user.is_some())
            .field("authorize", &self.authorize.is_some())
            .field("rules", &self.rules)
            .field("rbac", &self.rbac)
            .field("api_prefix", &self.api_prefix)
            .finish_non_exhaustive()
    }
}

impl Policy {
    /// Every path protected (`/*` and `/`), none public: the neutral default.
    pub fn protect_all() -> Self {
        let mut p = Policy::default();
        let pat = |s: &str| RoutePattern::path(s).expect("built-in default pattern is valid");
        p.protected.push(pat("/*"));
        p.protected.push(pat("/"));
        p
    }

    /// The defaults for an API prefix: protected `{prefix}/*`; public `{prefix}` and `/health`.
    pub fn with_defaults(api_prefix: &str) -> Self {
        let prefix = api_prefix.trim_end_matches('/');
        let mut p = Policy {
            api_prefix: prefix.to_owned(),
            ..Policy::default()
        };
        let pat = |s: &str| RoutePattern::path(s).expect("built-in default pattern is valid");
        p.protected.push(pat(&format!("{prefix}/*")));
        p.public
            .push(pat(if prefix.is_empty() { "/" } else { prefix }));
        p.public.push(pat("/health"));
        p
    }

    /// The flag of the route the router dispatches this request to. Among the routes on the
    /// matched template, the router prefers one naming the method, then (for `HEAD`) a `GET`
    /// route, then an `ALL` route, whatever their order in the config; so does this. Without
    /// axum's `MatchedPath` the templates are matched the way the router matches them.
    fn route_flag(&self, path: &str, parts: &Parts) -> Option<bool> {
        self.matched_route(path, parts).map(|r| r.requires_auth)
    }

    /// The custom route the router dispatches this request to, if it is one (see
    /// [`Policy::route_flag`]).
    fn matched_route(&self, path: &str, parts: &Parts) -> Option<&RouteFlag> {
        if self.routes.is_empty() {
            return None;
        }
        let method = &parts.method;
        let matched = parts.extensions.get::<MatchedPath>();
        let on_route = |r: &&RouteFlag| match matched {
            Some(m) => r.template == m.as_str(),
            None => r.pattern.path.matches_exact(path),
        };
        let rank = |r: &RouteFlag| match &r.methods {
            MethodSet::Only(set) if set.contains(method) => Some(0),
            MethodSet::Only(set) if *method == Method::HEAD && set.contains(&Method::GET) => {
                Some(1)
            }
            MethodSet::Only(_) => None,
            MethodSet::All => Some(2),
        };
        self.routes
            .iter()
            .filter(on_route)
            .filter_map(|r| rank(r).map(|k| (k, r)))
            .min_by_key(|(k, _)| *k)
            .map(|(_, r)| r)
    }

    /// The permission this request's route needs: a custom route's own, else the one derived
    /// from the template the router matched ([`permission::derive`]); without axum's
    /// `MatchedPath` (a service outside a router), from the decoded path itself.
    pub fn required_permission<'a>(
        &'a self,
        path: &'a str,
        parts: &'a Parts,
    ) -> Option<Cow<'a, str>> {
        if let Some(p) = self
            .matched_route(path, parts)
            .and_then(|r| r.permission.as_deref())
        {
            return Some(Cow::Borrowed(p));
        }
        let template = parts
            .extensions
            .get::<MatchedPath>()
            .map_or(path, MatchedPath::as_str);
        permission::derive(&parts.method, template, &self.api_prefix).map(Cow::Owned)
    }

    /// Role-based access control on top of the rules: the route's permission must be held. A
    /// route without a derivable permission (no resource segment) needs none.
    pub fn rbac_check(&self, user: &User, path: &str, parts: &Parts) -> Result<(), AuthError> {
        if self.rbac.is_none() {
            return Ok(());
        }
        self.rbac_check_with(user, self.required_permission(path, parts).as_deref())
    }

    /// [`Policy::rbac_check`] with the route's permission already derived.
    pub(crate) fn rbac_check_with(
        &self,
        user: &User,
        permission: Option<&str>,
    ) -> Result<(), AuthError> {
        match (&self.rbac, permission) {
            (Some(rbac), Some(required)) if !rbac.allows(user, required) => {
                Err(AuthError::MissingPermission(required.to_owned()))
            }
            _ => Ok(()),
        }
    }

    /// Whether anything reads the route's permission: the rules, RBAC or FGA.
    pub(crate) fn reads_permission(&self) -> bool {
        let fga = {
            #[cfg(feature = "remote")]
            {
                self.fga.is_some()
            }
            #[cfg(not(feature = "remote"))]
            {
                false
            }
        };
        self.rules.is_some() || self.rbac.is_some() || fga
    }

    /// Steps 3–5 on the decoded, normalized `path` ([`crate::normalize`]): route flag,
    /// protected, public. Protected patterns match broadly (any case, one optional trailing
    /// slash); public patterns are exemptions and match exactly, as the router does.
    pub fn need(&self, path: &str, parts: &Parts) -> Need {
        let method = &parts.method;
        let flag = self.route_flag(path, parts);
        if flag == Some(false) {
            return Need::Pass;
        }
        let protected = flag == Some(true) || self.protected.matches(path, method);
        if !protected {
            return Need::Pass;
        }
        if flag != Some(true) && self.public.matches_exact(path, method) {
            return Need::Pass;
        }
        Need::Authenticate
    }

    /// Whether the configured rules let this request through (no rules: yes). Rules apply on
    /// top of every other authorizer: both must allow.
    pub fn rules_allow(&self, req: &AuthzRequest<'_>) -> bool {
        if self.rules.is_none() {
            return true;
        }
        let permission = self.required_permission(req.path, req.parts);
        self.rules_allow_with(req, permission.as_deref())
    }

    /// [`Policy::rules_allow`] with the route's permission already derived.
    pub(crate) fn rules_allow_with(
        &self,
        req: &AuthzRequest<'_>,
        permission: Option<&str>,
    ) -> bool {
        self.rules.as_ref().is_none_or(|rules| {
            rules.evaluate(&RuleContext {
                path: req.path,
                method: req.method,
                user: req.user,
                permission: permission.unwrap_or(""),
            })
        })
    }

    /// The override (`authorize_user`), else the `authorize` callback, else allow; without the
    /// rules, which the caller applies on top.
    pub fn authorize_callbacks<'a>(&'a self, req: AuthzRequest<'a>) -> Verdict<'a, bool> {
        match (&self.authorize_user, &self.authorize) {
            (Some(a), _) | (None, Some(a)) => a.authorize(req),
            (None, None) => Verdict::Ready(Ok(true)),
        }
    }

    /// Step 7 when the provider does not authorize by itself: the rules, and the override or
    /// callback (both must allow).
    pub fn authorize<'a>(&'a self, req: AuthzRequest<'a>) -> Verdict<'a, bool> {
        if !self.rules_allow(&req) {
            return Verdict::Ready(Ok(false));
        }
        self.authorize_callbacks(req)
    }
}
