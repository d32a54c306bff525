//! Browser sign-in: the `/api/auth/*` routes, the sealed session cookie and the layer that
//! turns that cookie into the auth pipeline's token.
//!
//! - `settings`: which provider's flow, from which config keys and environment variables,
//!   and what is missing (for `config check` and startup errors);
//! - `session`: what the cookie holds, sealed by `mastra-session`;
//! - `layer`: in front of the router, opens the cookie, refuses cross-site state changes,
//!   refreshes an expired access token, and hands the token on as a [`SessionToken`];
//! - `routes`: `capabilities`, `me`, `sso/login`, `sso/callback`, `refresh`, `logout`;
//! - `refresh`: one refresh per refresh token at a time;
//! - `origin`, `cookies`: the request's origin, redirect targets, `Set-Cookie` values.
//!
//! [`SessionToken`]: mastra_auth::SessionToken

mod cookies;
mod layer;
mod origin;
mod refresh;
mod routes;
mod session;
mod settings;

use std::sync::Arc;
use std::time::Duration;

use mastra_auth::AuthProvider;
use mastra_session::Sealer;
use mastra_sso::Flow;

pub use layer::session_layer;
pub use routes::{PUBLIC_ROUTES, router};
pub use settings::{SignInStatus, status};

use crate::build_error::BuildError;
use crate::config::Config;

/// Name of the short-lived cookie that binds a sign-in attempt to the browser.
pub const STATE_COOKIE: &str = "mastra_sso_state";

/// How long a sign-in attempt may take at the identity provider.
const LOGIN_TTL: Duration = Duration::from_secs(600);

/// Refresh an access token this long before it expires.
const REFRESH_MARGIN: u64 = 10;

/// Everything the sign-in routes and the session layer share.
pub struct SignIn {
    flow: Flow,
    sealer: Sealer,
    cookie_name: String,
    max_age: Duration,
    redirect_uri: Option<String>,
    allowed_origins: Vec<String>,
    post_logout_redirect: Option<String>,
    prefix: String,
    tls: bool,
    /// The server's auth provider: verifies the access token at the callback, as the pipeline
    /// will on every request.
    provider: Arc<dyn AuthProvider>,
    /// Concurrent refreshes of one session share one call to the provider.
    refreshes: refresh::Refreshes,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("flow", &self.flow)
            .field("cookie_name", &self.cookie_name)
            .finish_non_exhaustive()
    }
}

impl SignIn {
    /// The sign-in the config describes, `None` when it describes none.
    pub fn build(
        cfg: &Config,
        provider: Arc<dyn AuthProvider>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Arc<SignIn>>, BuildError> {
        let Some(s) = settings::resolve(cfg, &lookup)? else {
            return Ok(None);
        };
        let secrets: Vec<&str> = s.session.secrets.iter().map(|x| x.expose()).collect();
        let sealer = Sealer::from_secrets(&secrets).map_err(|e| BuildError::Auth {
            key: "auth.session.secrets".into(),
            message: e.to_string(),
        })?;
        Ok(Some(Arc::new(SignIn {
            flow: s.flow,
            sealer,
            cookie_name: s.session.cookie_name.clone(),
            max_age: s.session.max_age,
            redirect_uri: s.redirect_uri,
            allowed_origins: s.sso.allowed_origins.clone(),
            post_logout_redirect: s.sso.post_logout_redirect.clone(),
            prefix: cfg.server.api_prefix.clone(),
            tls: cfg.server.tls.is_some(),
            provider,
            refreshes: refresh::Refreshes::default(),
        })))
    }

    /// The path the state cookie is scoped to: only the login and callback routes see it.
    fn state_cookie_path(&self) -> String {
        format!("{}/auth/sso", self.prefix)
    }
}

impl SignIn {
    /// The routes that read the session cookie themselves (refresh, logout, the sign-in flow).
    fn reads_own_cookie(&self, path: &str) -> bool {
        path.strip_prefix(self.prefix.as_str())
            .and_then(|p| p.strip_prefix("/auth/"))
            .is_some_and(|p| p == "refresh" || p == "logout" || p.starts_with("sso/"))
    }

    /// The session cookie for `session`, or `None` (logged) when it cannot be sealed.
    fn session_cookie(
        &self,
        session: &session::Session,
        now: u64,
        secure: bool,
    ) -> Option<http::HeaderValue> {
        match self
            .sealer
            .seal(&self.cookie_name, session, session.ends_at)
        {
            Ok(value) => Some(cookies::set(
                &self.cookie_name,
                &value,
                "/",
                Duration::from_secs(session.ends_at.saturating_sub(now)),
                secure,
            )),
            Err(e) => {
                tracing::error!(error = %e, "cannot seal the session");
                None
            }
        }
    }

    /// Deletes the session cookie.
    fn clear_session_cookie(&self, secure: bool) -> http::HeaderValue {
        cookies::clear(&self.cookie_name, "/", secure)
    }
}
