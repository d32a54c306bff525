//! From the config and environment to a sign-in flow, or a list of what is missing.

use mastra_auth::idp_http::IdpClientConfig;
use mastra_auth::providers::auth0::normalize_domain;
use mastra_sso::{Flow, OidcFlow, OidcFlowConfig, WorkosFlow, WorkosFlowConfig};

use crate::build_error::BuildError;
use crate::config::{AuthProviderKind, Config, SessionConfig, SsoConfig};

/// Scopes asked for by default: identity, and a refresh token (`offline_access`).
const DEFAULT_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Whether the config turns browser sign-in on, for `config check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInStatus {
    /// No sign-in configured (bearer tokens only).
    Off,
    /// On, with this provider's flow.
    On(AuthProviderKind),
    /// Asked for, but these settings are missing (each names its key and variable).
    Incomplete(Vec<String>),
    /// On, except the session secret, which `mastra serve` generates for development.
    NeedsSessionSecret(AuthProviderKind),
}

/// What [`resolve`] found.
pub(super) struct Resolved {
    pub(super) flow: Flow,
    pub(super) session: SessionConfig,
    pub(super) sso: SsoConfig,
    pub(super) redirect_uri: Option<String>,
}

/// The flow's client settings before the flow is built.
struct Client {
    kind: AuthProviderKind,
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_uri: Option<String>,
    missing: Vec<String>,
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// The client settings of the configured provider, `None` when sign-in is not asked for.
fn client(cfg: &Config, lookup: &dyn Fn(&str) -> Option<String>) -> Option<Client> {
    let auth = &cfg.auth;
    let sso = auth.sso.clone().unwrap_or_default();
    let table = auth.sso.is_some();
    let secret = sso.client_secret.as_ref().map(|s| s.expose().to_owned());
    let (kind, client_id, client_secret, redirect_uri, id_key, secret_key) = match auth.provider {
        AuthProviderKind::Workos => {
            let mut w = auth.workos.clone().unwrap_or_default();
            w.fill_from_env(|k| lookup(k));
            let redirect = non_empty(sso.redirect_uri.clone()).or(non_empty(w.redirect_uri));
            if !table && redirect.is_none() {
                return None;
            }
            (
                AuthProviderKind::Workos,
                non_empty(w.client_id),
                non_empty(w.api_key.as_ref().map(|k| k.expose().to_owned())),
                redirect,
                "auth.workos.client_id (WORKOS_CLIENT_ID)",
                "auth.workos.api_key (WORKOS_API_KEY)",
            )
        }
        AuthProviderKind::Auth0 => {
            let id =
                non_empty(sso.client_id.clone()).or_else(|| non_empty(lookup("AUTH0_CLIENT_ID")));
            if !table && id.is_none() {
                return None;
            }
            (
                AuthProviderKind::Auth0,
                id,
                non_empty(secret).or_else(|| non_empty(lookup("AUTH0_CLIENT_SECRET"))),
                non_empty(sso.redirect_uri.clone())
                    .or_else(|| non_empty(lookup("AUTH0_REDIRECT_URI"))),
                "auth.sso.client_id (AUTH0_CLIENT_ID)",
                "auth.sso.client_secret (AUTH0_CLIENT_SECRET)",
            )
        }
        AuthProviderKind::Oidc => {
            let id = non_empty(sso.client_id.clone())
                .or_else(|| non_empty(lookup("OIDC_CLIENT_ID")))
                .or_else(|| {
                    auth.oidc
                        .as_ref()
                        .and_then(|o| non_empty(o.client_id.clone()))
                });
            if !table && non_empty(lookup("OIDC_CLIENT_ID")).is_none() {
                return None;
            }
            (
                AuthProviderKind::Oidc,
                id,
                // optional: a public client is protected by PKCE alone (empty = none)
                Some(
                    non_empty(secret)
                        .or_else(|| non_empty(lookup("OIDC_CLIENT_SECRET")))
                        .unwrap_or_default(),
                ),
                non_empty(sso.redirect_uri.clone())
                    .or_else(|| non_empty(lookup("OIDC_REDIRECT_URI"))),
                "auth.sso.client_id (OIDC_CLIENT_ID)",
                "",
            )
        }
        _ => return None,
    };
    let mut missing = Vec::new();
    if client_id.is_none() {
        missing.push(id_key.to_owned());
    }
    if client_secret.is_none() {
        missing.push(secret_key.to_owned());
    }
    Some(Client {
        kind,
        client_id,
        client_secret: client_secret.filter(|s| !s.is_empty()),
        redirect_uri,
        missing,
    })
}

/// The session's secrets: `[auth.session] secrets`, else `MASTRA_SESSION_SECRET`.
fn session(cfg: &Config, lookup: &dyn Fn(&str) -> Option<String>) -> SessionConfig {
    let mut s = cfg.auth.session.clone().unwrap_or_default();
    s.fill_from_env(|k| lookup(k));
    s
}

/// What `config check` reports about sign-in.
pub fn status(cfg: &Config, lookup: impl Fn(&str) -> Option<String>) -> SignInStatus {
    let Some(c) = client(cfg, &lookup) else {
        return SignInStatus::Off;
    };
    if !c.missing.is_empty() {
        return SignInStatus::Incomplete(c.missing);
    }
    if session(cfg, &lookup).secrets.is_empty() {
        return SignInStatus::NeedsSessionSecret(c.kind);
    }
    SignInStatus::On(c.kind)
}

fn err(key: &str, message: impl ToString) -> BuildError {
    BuildError::Auth {
        key: key.into(),
        message: message.to_string(),
    }
}

/// The flow and session settings, `None` without sign-in, an error naming what is missing.
pub(super) fn resolve(
    cfg: &Config,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Resolved>, BuildError> {
    let Some(c) = client(cfg, lookup) else {
        return Ok(None);
    };
    if !c.missing.is_empty() {
        return Err(err(
            "auth.sso",
            format!("browser sign-in needs {}", c.missing.join(" and ")),
        ));
    }
    let session = session(cfg, lookup);
    if session.secrets.is_empty() {
        return Err(err(
            "auth.session.secrets",
            "browser sign-in needs a session secret: set MASTRA_SESSION_SECRET (32+ random bytes) or [auth.session] secrets; `mastra serve` generates a development one in .mastra/session-secret",
        ));
    }
    let sso = cfg.auth.sso.clone().unwrap_or_default();
    let client_id = c.client_id.unwrap_or_default();
    let scopes = if sso.scopes.is_empty() {
        DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect()
    } else {
        sso.scopes.clone()
    };
    let flow = match c.kind {
        AuthProviderKind::Workos => {
            let mut w = cfg.auth.workos.clone().unwrap_or_default();
            w.fill_from_env(|k| lookup(k));
            Flow::Workos(Box::new(
                WorkosFlow::new(WorkosFlowConfig {
                    api_base: w.api_base.clone(),
                    client_id,
                    api_key: c.client_secret.unwrap_or_default(),
                    provider: sso.workos_provider.clone(),
                    connection_id: sso.workos_connection_id.clone(),
                    organization_id: sso.workos_organization_id.clone(),
                    http: IdpClientConfig {
                        allow_insecure_http: w.allow_insecure_http,
                        timeout: w.http_timeout,
                        ..IdpClientConfig::default()
                    },
                })
                .map_err(|e| err("auth.workos", e))?,
            ))
        }
        AuthProviderKind::Auth0 => {
            let mut a = cfg.auth.auth0.clone().unwrap_or_default();
            a.fill_from_env(|k| lookup(k));
            let domain = normalize_domain(&a.domain).map_err(|e| err("auth.auth0.domain", e))?;
            let base = a
                .base_url
                .clone()
                .unwrap_or_else(|| format!("https://{domain}"));
            let base = base.trim_end_matches('/');
            let audience = sso.audience.clone().or(non_empty(Some(a.audience.clone())));
            Flow::Oidc(Box::new(
                OidcFlow::new(OidcFlowConfig {
                    issuer: format!("https://{domain}/"),
                    discovery_url: Some(format!("{base}/.well-known/openid-configuration")),
                    client_id,
                    client_secret: c.client_secret,
                    scopes,
                    authorize_params: audience
                        .map(|a| vec![("audience".into(), a)])
                        .unwrap_or_default(),
                    auth0_logout_url: Some(format!("{base}/v2/logout")),
                    http: a.http.clone(),
                })
                .map_err(|e| err("auth.auth0", e))?,
            ))
        }
        _ => {
            let o = cfg.auth.oidc.clone().unwrap_or_default();
            Flow::Oidc(Box::new(
                OidcFlow::new(OidcFlowConfig {
                    issuer: o.issuer.clone(),
                    discovery_url: o.discovery_url.clone(),
                    client_id,
                    client_secret: c.client_secret,
                    scopes,
                    authorize_params: sso
                        .audience
                        .clone()
                        .map(|a| vec![("resource".into(), a)])
                        .unwrap_or_default(),
                    auth0_logout_url: None,
                    http: o.http.clone(),
                })
                .map_err(|e| err("auth.oidc", e))?,
            ))
        }
    };
    Ok(Some(Resolved {
        flow,
        session,
        sso,
        redirect_uri: c.redirect_uri,
    }))
}
