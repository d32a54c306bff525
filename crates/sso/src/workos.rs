//! [`WorkosFlow`]: WorkOS AuthKit's authorization-code flow with PKCE.

use http::Method;
use mastra_auth::idp_http::{IdpClient, IdpClientConfig, RequestBody};
use serde::Deserialize;
use serde_json::json;
use url::Url;

use crate::{LoginRequest, Profile, SsoError, TokenSet};

/// WorkOS's API host.
pub const DEFAULT_API_BASE: &str = "https://api.workos.com";

/// Settings of a [`WorkosFlow`] (`WORKOS_CLIENT_ID`, `WORKOS_API_KEY`). `Debug` redacts the key.
#[derive(Clone, Default)]
pub struct WorkosFlowConfig {
    /// API base URL (default `https://api.workos.com`; a local fake in tests).
    pub api_base: String,
    /// The client id (`client_...`).
    pub client_id: String,
    /// The API key (`sk_...`), sent as `client_secret`.
    pub api_key: String,
    /// `provider` parameter of the authorize URL (default `authkit`).
    pub provider: Option<String>,
    /// `connection_id` instead of a provider (an SSO connection).
    pub connection_id: Option<String>,
    /// `organization_id` instead of a provider (the organization's SSO).
    pub organization_id: Option<String>,
    /// HTTP client settings.
    pub http: IdpClientConfig,
}

impl std::fmt::Debug for WorkosFlowConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkosFlowConfig")
            .field("api_base", &self.api_base)
            .field("client_id", &self.client_id)
            .field("api_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// The `user_management/authenticate` answer.
#[derive(Deserialize)]
struct AuthenticateResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    user: Option<WorkosUser>,
    #[serde(default)]
    organization_id: Option<String>,
}

#[derive(Deserialize)]
struct WorkosUser {
    id: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    profile_picture_url: Option<String>,
}

impl WorkosUser {
    /// Mastra's mapping: "first last" when both, else first name, else email.
    fn profile(self) -> Profile {
        let name = match (&self.first_name, &self.last_name) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (Some(f), None) => Some(f.clone()),
            _ => self.email.clone(),
        };
        Profile {
            id: self.id,
            email: self.email,
            name,
            avatar_url: self.profile_picture_url,
        }
    }
}

/// WorkOS AuthKit for one client.
pub struct WorkosFlow {
    config: WorkosFlowConfig,
    client: IdpClient,
    base: Url,
}

impl std::fmt::Debug for WorkosFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkosFlow")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl WorkosFlow {
    /// Checks the settings.
    pub fn new(mut config: WorkosFlowConfig) -> Result<Self, SsoError> {
        let missing = |setting| SsoError::Config {
            setting,
            message: "is required for sign-in with WorkOS".into(),
        };
        if config.client_id.trim().is_empty() {
            return Err(missing("client_id"));
        }
        if config.api_key.trim().is_empty() {
            return Err(missing("api_key"));
        }
        if config.api_base.trim().is_empty() {
            config.api_base = DEFAULT_API_BASE.into();
        }
        let client = IdpClient::new(config.http.clone());
        let base = client
            .url(config.api_base.trim_end_matches('/'))
            .map_err(|e| SsoError::Config {
                setting: "api_base",
                message: e.to_string(),
            })?;
        Ok(Self {
            config,
            client,
            base,
        })
    }

    fn endpoint(&self, path: &str) -> Result<Url, SsoError> {
        self.client
            .url(&format!(
                "{}{path}",
                self.base.as_str().trim_end_matches('/')
            ))
            .map_err(|e| SsoError::Config {
                setting: "api_base",
                message: e.to_string(),
            })
    }

    /// `GET {api_base}/user_management/authorize` with `client_id`, `redirect_uri`,
    /// `response_type=code`, `state`, the S256 challenge and one connection selector
    /// (`connection_id`, `organization_id`, or `provider`, default `authkit`).
    pub fn authorize_url(
        &self,
        login: &LoginRequest,
        redirect_uri: &str,
    ) -> Result<String, SsoError> {
        let mut url = self.endpoint("/user_management/authorize")?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", &self.config.client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("response_type", "code")
                .append_pair("state", &login.state)
                .append_pair("code_challenge", &login.challenge())
                .append_pair("code_challenge_method", "S256");
            match (&self.config.connection_id, &self.config.organization_id) {
                (Some(c), _) => q.append_pair("connection_id", c),
                (None, Some(o)) => q.append_pair("organization_id", o),
                (None, None) => q.append_pair(
                    "provider",
                    self.config.provider.as_deref().unwrap_or("authkit"),
                ),
            };
        }
        Ok(url.into())
    }

    async fn authenticate(&self, mut body: serde_json::Value) -> Result<TokenSet, SsoError> {
        body["client_id"] = json!(self.config.client_id);
        body["client_secret"] = json!(self.config.api_key);
        let url = self.endpoint("/user_management/authenticate")?;
        let answer: AuthenticateResponse = self
            .client
            .send(
                Method::POST,
                &url,
                &[("accept", "application/json")],
                Some(RequestBody::Json(body)),
            )
            .await
            .map_err(SsoError::from_idp)?
            .json(&url)
            .map_err(SsoError::from_idp)?;
        Ok(TokenSet {
            session_id: None,
            access_token: answer.access_token,
            refresh_token: answer.refresh_token,
            expires_in: None,
            profile: answer.user.map(WorkosUser::profile),
            organization_id: answer.organization_id,
        })
    }

    /// `POST {api_base}/user_management/authenticate` with the `authorization_code` grant,
    /// the code and the PKCE verifier.
    pub async fn exchange_code(
        &self,
        code: &str,
        login: &LoginRequest,
    ) -> Result<TokenSet, SsoError> {
        self.authenticate(json!({
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": login.verifier,
        }))
        .await
    }

    /// The `refresh_token` grant (for the session's organization, when it has one).
    pub async fn refresh(
        &self,
        refresh_token: &str,
        organization_id: Option<&str>,
    ) -> Result<TokenSet, SsoError> {
        let mut body = json!({"grant_type": "refresh_token", "refresh_token": refresh_token});
        if let Some(org) = organization_id {
            body["organization_id"] = json!(org);
        }
        self.authenticate(body).await
    }

    /// `{api_base}/user_management/sessions/logout?session_id=...[&return_to=...]`, when the
    /// session's id is known.
    pub fn logout_url(
        &self,
        session_id: Option<&str>,
        return_to: Option<&str>,
    ) -> Result<Option<String>, SsoError> {
        let Some(sid) = session_id else {
            return Ok(None);
        };
        let mut url = self.endpoint("/user_management/sessions/logout")?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("session_id", sid);
            if let Some(r) = return_to {
                q.append_pair("return_to", r);
            }
        }
        Ok(Some(url.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow() -> WorkosFlow {
        WorkosFlow::new(WorkosFlowConfig {
            client_id: "client_123".into(),
            api_key: "sk_test_abc".into(),
            ..WorkosFlowConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn authorize_url_has_the_documented_parameters() {
        let login = LoginRequest::new().unwrap();
        let url = Url::parse(
            &flow()
                .authorize_url(&login, "https://app.example/api/auth/sso/callback")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            url.as_str().split('?').next().unwrap(),
            "https://api.workos.com/user_management/authorize"
        );
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], "client_123");
        assert_eq!(
            q["redirect_uri"],
            "https://app.example/api/auth/sso/callback"
        );
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["provider"], "authkit");
        assert_eq!(q["state"], login.state);
        assert_eq!(q["code_challenge"], login.challenge());
        assert_eq!(q["code_challenge_method"], "S256");
        assert!(!url.as_str().contains("sk_test"));
    }

    #[test]
    fn logout_url_needs_a_session_id() {
        let f = flow();
        assert_eq!(
            f.logout_url(None, Some("https://app.example/")).unwrap(),
            None
        );
        assert_eq!(
            f.logout_url(Some("session_01"), Some("https://app.example/"))
                .unwrap()
                .unwrap(),
            "https://api.workos.com/user_management/sessions/logout?session_id=session_01&return_to=https%3A%2F%2Fapp.example%2F"
        );
    }

    #[test]
    fn missing_settings_and_plain_http_are_refused() {
        assert!(WorkosFlow::new(WorkosFlowConfig::default()).is_err());
        let insecure = WorkosFlow::new(WorkosFlowConfig {
            api_base: "http://api.workos.example".into(),
            client_id: "c".into(),
            api_key: "k".into(),
            ..WorkosFlowConfig::default()
        });
        assert!(insecure.is_err());
        assert!(!format!("{:?}", flow()).contains("sk_test"));
    }

    #[test]
    fn profile_mapping() {
        let u = |f: Option<&str>, l: Option<&str>| WorkosUser {
            id: "user_1".into(),
            email: Some("a@example.com".into()),
            first_name: f.map(Into::into),
            last_name: l.map(Into::into),
            profile_picture_url: None,
        };
        assert_eq!(
            u(Some("Ada"), Some("L")).profile().name.as_deref(),
            Some("Ada L")
        );
        assert_eq!(u(Some("Ada"), None).profile().name.as_deref(), Some("Ada"));
        assert_eq!(
            u(None, Some("L")).profile().name.as_deref(),
            Some("a@example.com")
        );
    }
}
