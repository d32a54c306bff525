//! `{prefix}/auth/*`: capabilities, the signed-in user, sign-in, refresh and logout. All public
//! in the auth pipeline ([`PUBLIC_ROUTES`], exactly these paths and methods): each decides on
//! the session itself.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::header::{ACCEPT, LOCATION, SET_COOKIE};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode};
use mastra_auth::rbac::Rbac;
use mastra_auth::{AuthProvider, TokenExtractor, User};
use mastra_session::{OpenError, unix_now};
use mastra_sso::{LoginRequest, Profile, SsoError};
use serde::Deserialize;
use serde_json::{Value, json};

use super::layer::{SESSION_EXPIRED, SessionProfile};
use super::refresh::Refreshed;
use super::session::{PendingLogin, Session, access_expiry};
use super::{LOGIN_TTL, STATE_COOKIE, SignIn, cookies, origin};
use crate::http::{json_error, json_response};

/// The sign-in routes under the API prefix, with their methods: public in the auth pipeline.
pub const PUBLIC_ROUTES: [(&str, &str); 6] = [
    ("/auth/capabilities", "GET"),
    ("/auth/me", "GET"),
    ("/auth/sso/login", "GET"),
    ("/auth/sso/callback", "GET"),
    ("/auth/refresh", "POST"),
    ("/auth/logout", "POST"),
];

/// What the handlers share.
#[derive(Clone)]
struct Routes {
    signin: Option<Arc<SignIn>>,
    provider: Option<Arc<dyn AuthProvider>>,
    extractor: TokenExtractor,
    prefix: String,
    /// Role-based access control, for the roles and permissions `me` reports.
    rbac: Option<Arc<Rbac>>,
    /// Whether fine-grained authorization is on.
    fga: bool,
}

/// The routes, to be nested under the API prefix.
pub fn router(
    signin: Option<Arc<SignIn>>,
    auth: Option<&mastra_auth::Auth>,
    api_key_query: bool,
    prefix: &str,
) -> Router {
    let provider = auth.map(|a| a.provider().clone());
    let rbac = auth.and_then(|a| a.policy().rbac.clone());
    let fga = auth.is_some_and(|a| a.policy().fga.is_some());
    Router::new()
        .route("/auth/capabilities", get(capabilities))
        .route("/auth/me", get(me))
        .route("/auth/sso/login", get(login))
        .route("/auth/sso/callback", get(callback))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .with_state(Routes {
            signin,
            provider,
            extractor: TokenExtractor { api_key_query },
            prefix: prefix.to_owned(),
            rbac,
            fga,
        })
}

/// The user of this request's credential (session, bearer token or `apiKey`), verified by the
/// server's provider as the pipeline would.
async fn current_user(state: &Routes, parts: &Parts) -> Option<(User, Option<Profile>)> {
    let provider = state.provider.as_ref()?;
    let (token, _) = state
        .extractor
        .find(parts, provider.cookie_names())
        .ok()??;
    let user = provider.authenticate(&token, parts).await.ok()??;
    let profile = parts
        .extensions
        .get::<SessionProfile>()
        .map(|p| p.0.clone());
    Some((user, profile))
}

/// `{id, email, name, avatarUrl}`: the session's profile, else the token's claims.
fn user_json(user: &User, profile: Option<Profile>) -> Value {
    let claim = |k: &str| user.claim(k).and_then(Value::as_str).map(str::to_owned);
    let p = profile.unwrap_or_else(|| Profile {
        id: user.id.clone(),
        email: claim("email"),
        name: claim("name"),
        avatar_url: claim("picture"),
    });
    let id = if user.id.is_empty() {
        p.id
    } else {
        user.id.clone()
    };
    json!({"id": id, "email": p.email, "name": p.name, "avatarUrl": p.avatar_url})
}

/// `GET /auth/capabilities`.
async fn capabilities(State(state): State<Routes>, parts: Parts) -> Response {
    if state.provider.is_none() {
        return json_response(StatusCode::OK, &json!({"enabled": false, "login": null}));
    }
    let login = state
        .signin
        .as_ref()
        .map(|_| json!({"type": "sso", "url": format!("{}/auth/sso/login", state.prefix)}));
    let mut body = json!({"enabled": true, "login": login});
    if let Some((user, profile)) = current_user(&state, &parts).await {
        body["user"] = user_json(&user, profile);
        let session = state.signin.is_some();
        body["capabilities"] = json!({
            "user": true, "session": session, "sso": session,
            "rbac": state.rbac.is_some(), "acl": false, "fga": state.fga,
        });
        if let Some(rbac) = &state.rbac {
            let grants = rbac.grants(&user);
            body["access"] = json!({"roles": grants.roles, "permissions": grants.permissions});
        }
    }
    json_response(StatusCode::OK, &body)
}

/// `GET /auth/me`.
async fn me(State(state): State<Routes>, parts: Parts) -> Response {
    match current_user(&state, &parts).await {
        Some((user, profile)) => {
            let mut body = user_json(&user, profile);
            // Mastra adds the RBAC roles and permissions when RBAC is configured.
            if let Some(rbac) = &state.rbac {
                let grants = rbac.grants(&user);
                body["roles"] = json!(grants.roles);
                body["permissions"] = json!(grants.permissions);
            }
            json_response(StatusCode::OK, &body)
        }
        None => json_error(StatusCode::UNAUTHORIZED, "Authentication required"),
    }
}

/// Whether the client asked for JSON rather than a page (`fetch` from a front end).
fn prefers_json(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

#[derive(Deserialize)]
struct LoginQuery {
    redirect_to: Option<String>,
    /// Mastra's name for the same parameter.
    redirect_uri: Option<String>,
}

fn not_configured() -> Response {
    json_error(StatusCode::NOT_FOUND, "SSO not configured")
}

fn sso_failure(e: &SsoError) -> Response {
    if e.is_unavailable() {
        tracing::warn!(error = %e, "sign-in: identity provider unavailable");
        json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Authentication service unavailable",
        )
    } else {
        tracing::error!(error = %e, "sign-in failed");
        json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in is misconfigured",
        )
    }
}

/// `GET /auth/sso/login[?redirect_to=...]`: 302 to the provider (or `{url}` for JSON clients)
/// with the attempt sealed in the state cookie.
async fn login(State(state): State<Routes>, Query(q): Query<LoginQuery>, parts: Parts) -> Response {
    let (headers, uri) = (&parts.headers, &parts.uri);
    let Some(signin) = state.signin.as_ref() else {
        return not_configured();
    };
    let own = origin::request_origin(headers, uri, signin.tls);
    let target = q
        .redirect_to
        .or(q.redirect_uri)
        .unwrap_or_else(|| "/".into());
    if !origin::redirect_allowed(&target, own.as_deref(), &signin.allowed_origins) {
        return json_error(
            StatusCode::BAD_REQUEST,
            "Invalid redirect_to: use a path on this server or an allowed origin",
        );
    }
    let callback = match (&signin.redirect_uri, &own) {
        (Some(uri), _) => uri.clone(),
        (None, Some(own)) => format!("{own}{}/auth/sso/callback", signin.prefix),
        (None, None) => return json_error(StatusCode::BAD_REQUEST, "Missing Host"),
    };
    let login = match LoginRequest::new() {
        Ok(l) => l,
        Err(e) => return sso_failure(&e),
    };
    let url = match signin.flow.authorize_url(&login, &callback).await {
        Ok(u) => u,
        Err(e) => return sso_failure(&e),
    };
    let pending = PendingLogin {
        login,
        redirect_to: target,
        callback,
    };
    let sealed = match signin
        .sealer
        .seal(STATE_COOKIE, &pending, unix_now() + LOGIN_TTL.as_secs())
    {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot seal the sign-in state");
            return json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Sign-in is misconfigured",
            );
        }
    };
    let state_cookie = cookies::set(
        STATE_COOKIE,
        &sealed,
        &signin.state_cookie_path(),
        LOGIN_TTL,
        !origin::is_loopback_host(headers, uri),
    );
    let mut res = if prefers_json(headers) {
        json_response(StatusCode::OK, &json!({ "url": url }))
    } else {
        redirect(&url)
    };
    res.headers_mut().append(SET_COOKIE, state_cookie);
    res
}

/// A 302 to `location`.
fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (StatusCode::FOUND, [(LOCATION, v)]).into_response(),
        Err(_) => json_error(StatusCode::INTERNAL_SERVER_ERROR, "Invalid redirect"),
    }
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/sso/callback`: checks the state against the state cookie, exchanges the code with
/// the verifier, verifies the tokens, sets the session cookie and sends the browser on.
async fn callback(
    State(state): State<Routes>,
    Query(q): Query<CallbackQuery>,
    parts: Parts,
) -> Response {
    let Some(signin) = state.signin.as_ref() else {
        return not_configured();
    };
    let secure = !origin::is_loopback_host(&parts.headers, &parts.uri);
    let clear_state = cookies::clear(STATE_COOKIE, &signin.state_cookie_path(), secure);
    let mut res = match finish_sign_in(signin, q, &parts, secure).await {
        Ok((location, session_cookie)) => {
            let mut r = redirect(&location);
            r.headers_mut().append(SET_COOKIE, session_cookie);
            r
        }
        Err(refusal) => refusal,
    };
    res.headers_mut().append(SET_COOKIE, clear_state);
    res
}

/// A refused sign-in: `{"error": "Sign-in failed: <reason>"}`.
fn refused(status: StatusCode, reason: &str) -> Response {
    json_error(status, &format!("Sign-in failed: {reason}"))
}

async fn finish_sign_in(
    signin: &SignIn,
    q: CallbackQuery,
    parts: &Parts,
    secure: bool,
) -> Result<(String, HeaderValue), Response> {
    let bad = StatusCode::BAD_REQUEST;
    let sealed = cookies::read(&parts.headers, STATE_COOKIE)
        .ok_or_else(|| refused(bad, "no sign-in in progress in this browser"))?;
    let now = unix_now();
    let pending: PendingLogin =
        signin
            .sealer
            .open(STATE_COOKIE, sealed, now)
            .map_err(|e| match e {
                OpenError::Expired => refused(bad, "the sign-in attempt expired"),
                _ => refused(bad, "invalid sign-in state"),
            })?;
    if !q
        .state
        .as_deref()
        .is_some_and(|s| pending.login.state_matches(s))
    {
        return Err(refused(bad, "state does not match"));
    }
    if let Some(e) = q.error {
        let code: String = e
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return Err(refused(
            StatusCode::UNAUTHORIZED,
            &format!("the identity provider answered {code}"),
        ));
    }
    let code = q.code.ok_or_else(|| refused(bad, "no code"))?;
    let tokens = signin
        .flow
        .exchange_code(&code, &pending.login, &pending.callback)
        .await
        .map_err(|e| match e {
            SsoError::Refused(_) => {
                tracing::info!(error = %e, "sign-in: code exchange refused");
                refused(StatusCode::UNAUTHORIZED, "the code exchange was refused")
            }
            SsoError::IdToken(_) => {
                tracing::info!(error = %e, "sign-in: ID token refused");
                refused(StatusCode::UNAUTHORIZED, "the ID token was refused")
            }
            other => sso_failure(&other),
        })?;
    // The access token must pass the same provider every request's token passes.
    let user = match signin
        .provider
        .authenticate(&tokens.access_token, parts)
        .await
    {
        Ok(Some(user)) => user,
        other => {
            let reason = match other {
                Err(e) => e.to_string(),
                _ => "no user".to_owned(),
            };
            tracing::info!(%reason, "sign-in: the access token was refused by the auth provider");
            return Err(refused(
                StatusCode::UNAUTHORIZED,
                "the access token was refused",
            ));
        }
    };
    let claim_str = |k: &str| user.claim(k).and_then(Value::as_str).map(str::to_owned);
    let mut profile = tokens.profile.clone().unwrap_or_default();
    if !user.id.is_empty() {
        profile.id = user.id.clone();
    }
    let session = Session {
        access_expires_at: user
            .claim("exp")
            .and_then(Value::as_u64)
            .unwrap_or_else(|| access_expiry(&tokens, now)),
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        ends_at: now + signin.max_age.as_secs(),
        profile,
        provider_session_id: tokens.session_id.or_else(|| claim_str("sid")),
        organization_id: tokens.organization_id,
    };
    let cookie = signin
        .session_cookie(&session, now, secure)
        .ok_or_else(|| json_error(StatusCode::INTERNAL_SERVER_ERROR, "Session too large"))?;
    Ok((pending.redirect_to, cookie))
}

/// `POST /auth/refresh`: new tokens for the session's refresh token.
async fn refresh(State(state): State<Routes>, parts: Parts) -> Response {
    let headers = &parts.headers;
    let Some(signin) = state.signin.as_ref() else {
        return json_error(StatusCode::NOT_FOUND, "Session refresh not configured");
    };
    let secure = !origin::is_loopback_host(headers, &parts.uri);
    let Some(cookie) = cookies::read(headers, &signin.cookie_name) else {
        return json_error(StatusCode::UNAUTHORIZED, "No session");
    };
    let now = unix_now();
    let expired = || {
        let mut r = json_error(StatusCode::UNAUTHORIZED, SESSION_EXPIRED);
        r.headers_mut()
            .append(SET_COOKIE, signin.clear_session_cookie(secure));
        r
    };
    let Ok(session) = signin
        .sealer
        .open::<Session>(&signin.cookie_name, cookie, now)
    else {
        return expired();
    };
    let Some(rt) = session.refresh_token.as_deref() else {
        return expired();
    };
    let tokens = match signin
        .refreshes
        .refresh(&signin.flow, rt, session.organization_id.as_deref())
        .await
    {
        Refreshed::Tokens(t) => t,
        Refreshed::Unavailable(e) => {
            tracing::warn!(error = %e, "session refresh: identity provider unavailable");
            return json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Authentication service unavailable",
            );
        }
        Refreshed::Refused(e) => {
            tracing::info!(error = %e, "session refresh refused");
            return expired();
        }
    };
    let renewed = session.refreshed(tokens, now);
    let Some(set_cookie) = signin.session_cookie(&renewed, now, secure) else {
        return expired();
    };
    let mut res = json_response(StatusCode::OK, &json!({"success": true}));
    res.headers_mut().append(SET_COOKIE, set_cookie);
    res
}

/// `POST /auth/logout`: clears the session; answers the provider's logout URL when it has one.
async fn logout(State(state): State<Routes>, parts: Parts) -> Response {
    let headers = &parts.headers;
    let Some(signin) = state.signin.as_ref() else {
        return json_response(StatusCode::OK, &json!({"success": true}));
    };
    let secure = !origin::is_loopback_host(headers, &parts.uri);
    let sid = cookies::read(headers, &signin.cookie_name)
        .and_then(|c| {
            signin
                .sealer
                .open::<Session>(&signin.cookie_name, c, unix_now())
                .ok()
        })
        .map(|s| s.provider_session_id);
    let mut body = json!({"success": true});
    if let Some(sid) = sid {
        match signin
            .flow
            .logout_url(sid.as_deref(), signin.post_logout_redirect.as_deref())
            .await
        {
            Ok(Some(url)) => body["redirectTo"] = json!(url),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "logout: no provider logout URL"),
        }
    }
    let mut res = json_response(StatusCode::OK, &body);
    res.headers_mut()
        .append(SET_COOKIE, signin.clear_session_cookie(secure));
    res
}
