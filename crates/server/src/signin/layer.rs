//! The session layer: in front of the router, it turns the session cookie into the pipeline's
//! token ([`SessionToken`]), refuses cross-site state changes carried by the cookie, and
//! refreshes an expired access token.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::header::{AUTHORIZATION, SET_COOKIE};
use http::{Method, StatusCode};
use mastra_auth::SessionToken;
use mastra_session::{OpenError, unix_now};

use super::refresh::Refreshed;
use super::session::Session;
use super::{REFRESH_MARGIN, SignIn, cookies, origin};
use crate::http::json_error;

/// Message of the 403 for a cross-site request carried by the session cookie.
pub(crate) const CROSS_SITE: &str = "Cross-site request refused";
/// Message of the 401 when the session has ended and cannot be refreshed.
pub(crate) const SESSION_EXPIRED: &str = "Session expired";

/// Who signed in, from the session, for `/auth/me` and `/auth/capabilities`.
#[derive(Debug, Clone)]
pub(super) struct SessionProfile(pub(super) mastra_sso::Profile);

/// The middleware (`axum::middleware::from_fn_with_state` with the [`SignIn`]).
///
/// With the session cookie present:
/// 1. a request that changes state (not GET, HEAD, OPTIONS) without an `Authorization`
///    header must come from the server's own origin or an allowed one
///    (`origin::same_origin_request`), else 403;
/// 2. with an `Authorization` header the cookie is left alone (the explicit credential wins);
///    the sign-in routes that read the cookie themselves get it untouched;
/// 3. a valid session hands its access token on; one whose access token expired is refreshed
///    first and the new cookie set on the response; a session that ended, or whose refresh
///    was refused, is cleared, and a 401 from the pipeline becomes `Session expired`;
/// 4. a cookie that is not authentic is cleared and ignored.
pub async fn session_layer(
    State(signin): State<Arc<SignIn>>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(cookie) = cookies::read(req.headers(), &signin.cookie_name).map(str::to_owned) else {
        return next.run(req).await;
    };
    let explicit = req.headers().contains_key(AUTHORIZATION);
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !explicit
        && !safe
        && !origin::same_origin_request(
            req.headers(),
            req.uri(),
            signin.tls,
            &signin.allowed_origins,
        )
    {
        return json_error(StatusCode::FORBIDDEN, CROSS_SITE);
    }
    if explicit || signin.reads_own_cookie(req.uri().path()) {
        return next.run(req).await;
    }
    let secure = !origin::is_loopback_host(req.headers(), req.uri());
    let now = unix_now();
    let session = match signin
        .sealer
        .open::<Session>(&signin.cookie_name, &cookie, now)
    {
        Ok(s) => s,
        Err(OpenError::Expired) => return ended(&signin, req, next, secure).await,
        Err(_) => {
            let mut res = next.run(req).await;
            res.headers_mut()
                .append(SET_COOKIE, signin.clear_session_cookie(secure));
            return res;
        }
    };
    if session.access_expires_at > now + REFRESH_MARGIN {
        hand_on(&mut req, &session);
        return next.run(req).await;
    }
    let Some(refresh_token) = session.refresh_token.as_deref() else {
        return ended(&signin, req, next, secure).await;
    };
    let tokens = match signin
        .refreshes
        .refresh(
            &signin.flow,
            refresh_token,
            session.organization_id.as_deref(),
        )
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
            return ended(&signin, req, next, secure).await;
        }
    };
    let renewed = session.refreshed(tokens, now);
    let Some(set_cookie) = signin.session_cookie(&renewed, now, secure) else {
        return ended(&signin, req, next, secure).await;
    };
    hand_on(&mut req, &renewed);
    let mut res = next.run(req).await;
    res.headers_mut().append(SET_COOKIE, set_cookie);
    res
}

/// Puts the session's token and profile in the request for the pipeline and the handlers.
fn hand_on(req: &mut Request, session: &Session) {
    let ext = req.extensions_mut();
    ext.insert(SessionToken(session.access_token.as_str().into()));
    ext.insert(SessionProfile(session.profile.clone()));
}

/// The request without a session: the cookie is cleared, and where the pipeline then refuses
/// (401) the answer says the session expired, so the page can sign in again.
async fn ended(signin: &SignIn, req: Request, next: Next, secure: bool) -> Response {
    let mut res = next.run(req).await;
    if res.status() == StatusCode::UNAUTHORIZED {
        let www = res.headers().get(http::header::WWW_AUTHENTICATE).cloned();
        res = json_error(StatusCode::UNAUTHORIZED, SESSION_EXPIRED);
        if let Some(v) = www {
            res.headers_mut().insert(http::header::WWW_AUTHENTICATE, v);
        }
    }
    res.headers_mut()
        .append(SET_COOKIE, signin.clear_session_cookie(secure));
    res
}
