//! [`Flow`]: the configured provider's sign-in flow.

use crate::{LoginRequest, OidcFlow, SsoError, TokenSet, WorkosFlow};

/// One provider's authorization-code flow.
#[derive(Debug)]
pub enum Flow {
    /// OpenID Connect (generic, Auth0).
    Oidc(Box<OidcFlow>),
    /// WorkOS AuthKit.
    Workos(Box<WorkosFlow>),
}

impl Flow {
    /// Where to send the browser for this attempt.
    pub async fn authorize_url(
        &self,
        login: &LoginRequest,
        redirect_uri: &str,
    ) -> Result<String, SsoError> {
        match self {
            Flow::Oidc(f) => f.authorize_url(login, redirect_uri).await,
            Flow::Workos(f) => f.authorize_url(login, redirect_uri),
        }
    }

    /// Exchanges the callback's code (the caller has checked `state`).
    pub async fn exchange_code(
        &self,
        code: &str,
        login: &LoginRequest,
        redirect_uri: &str,
    ) -> Result<TokenSet, SsoError> {
        match self {
            Flow::Oidc(f) => f.exchange_code(code, login, redirect_uri).await,
            Flow::Workos(f) => f.exchange_code(code, login).await,
        }
    }

    /// New tokens for a refresh token.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        organization_id: Option<&str>,
    ) -> Result<TokenSet, SsoError> {
        match self {
            Flow::Oidc(f) => f.refresh(refresh_token).await,
            Flow::Workos(f) => f.refresh(refresh_token, organization_id).await,
        }
    }

    /// The provider's logout URL, where it has one.
    pub async fn logout_url(
        &self,
        session_id: Option<&str>,
        return_to: Option<&str>,
    ) -> Result<Option<String>, SsoError> {
        match self {
            Flow::Oidc(f) => f.logout_url(return_to).await,
            Flow::Workos(f) => f.logout_url(session_id, return_to),
        }
    }
}
