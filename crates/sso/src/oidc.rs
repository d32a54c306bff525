//! [`OidcFlow`]: the OpenID Connect authorization-code flow with PKCE, for any provider that
//! publishes a discovery document (Auth0 included).

use std::sync::Arc;

use http::Method;
use mastra_auth::idp_http::{IdpClient, IdpClientConfig, RequestBody};
use mastra_auth::providers::{OidcConfig, OidcProvider};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::OnceCell;
use url::Url;

use crate::pkce::constant_time_eq;
use crate::tokens::TokenResponse;
use crate::{LoginRequest, Profile, SsoError, TokenSet};

const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// Settings of an [`OidcFlow`]. `Debug` redacts the client secret.
#[derive(Clone, Default)]
pub struct OidcFlowConfig {
    /// The issuer, exactly as its tokens and discovery document spell it.
    pub issuer: String,
    /// Where discovery is fetched (default `{issuer}/.well-known/openid-configuration`).
    pub discovery_url: Option<String>,
    /// The client id registered with the provider.
    pub client_id: String,
    /// The client secret (sent as `client_secret` in the token request body); `None` for a
    /// public client, which PKCE alone protects.
    pub client_secret: Option<String>,
    /// Scopes requested (`openid` is added when missing).
    pub scopes: Vec<String>,
    /// More authorization parameters: `audience` (Auth0) or `resource` (RFC 8707), so that the
    /// access token is a JWT for the API the server verifies.
    pub authorize_params: Vec<(String, String)>,
    /// Logout URL used when discovery has no `end_session_endpoint`: Auth0's `/v2/logout`,
    /// called with `client_id` and `returnTo`.
    pub auth0_logout_url: Option<String>,
    /// HTTP client settings (timeouts, size cap, plain HTTP to loopback for tests).
    pub http: IdpClientConfig,
}

impl std::fmt::Debug for OidcFlowConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcFlowConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// The endpoints a flow needs from the discovery document.
#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    #[serde(default)]
    end_session_endpoint: Option<String>,
}

/// Discovered endpoints, checked.
#[derive(Debug)]
struct Endpoints {
    authorize: Url,
    token: Url,
    end_session: Option<Url>,
}

/// The OpenID Connect flow of one client at one provider.
pub struct OidcFlow {
    config: OidcFlowConfig,
    client: IdpClient,
    discovery_url: Url,
    endpoints: OnceCell<Arc<Endpoints>>,
    /// Verifies ID tokens: issuer, audience = client id, signature by the discovered key set.
    id_tokens: OidcProvider,
}

impl std::fmt::Debug for OidcFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcFlow")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn config_err(setting: &'static str) -> impl Fn(String) -> SsoError {
    move |message| SsoError::Config { setting, message }
}

impl OidcFlow {
    /// Checks the settings; nothing is fetched until the first sign-in.
    pub fn new(mut config: OidcFlowConfig) -> Result<Self, SsoError> {
        config.issuer = config.issuer.trim().to_owned();
        if config.issuer.is_empty() {
            return Err(config_err("issuer")("is required".into()));
        }
        if config.client_id.trim().is_empty() {
            return Err(config_err("client_id")(
                "is required for sign-in (the client registered with the identity provider)".into(),
            ));
        }
        if !config.scopes.iter().any(|s| s == "openid") {
            config.scopes.insert(0, "openid".into());
        }
        let client = IdpClient::new(config.http.clone());
        let discovery = config
            .discovery_url
            .clone()
            .unwrap_or_else(|| format!("{}{DISCOVERY_PATH}", config.issuer.trim_end_matches('/')));
        let discovery_url = client
            .url(&discovery)
            .map_err(|e| config_err("issuer")(e.to_string()))?;
        if let Some(u) = &config.auth0_logout_url {
            client
                .url(u)
                .map_err(|e| config_err("domain")(e.to_string()))?;
        }
        let id_tokens = OidcProvider::new(OidcConfig {
            name: "sso".into(),
            issuer: config.issuer.clone(),
            client_id: Some(config.client_id.clone()),
            discovery_url: Some(discovery),
            http: config.http.clone(),
            ..OidcConfig::default()
        })
        .map_err(|e| config_err("issuer")(e.to_string()))?;
        Ok(Self {
            config,
            client,
            discovery_url,
            endpoints: OnceCell::new(),
            id_tokens,
        })
    }

    /// The discovered endpoints (fetched once; a failed fetch is retried on the next call).
    async fn endpoints(&self) -> Result<Arc<Endpoints>, SsoError> {
        self.endpoints
            .get_or_try_init(|| async {
                let d: Discovery = self
                    .client
                    .get_json(&self.discovery_url, &[])
                    .await
                    .map_err(|e| SsoError::Unavailable(e.to_string()))?;
                if d.issuer != self.config.issuer {
                    return Err(SsoError::Protocol(format!(
                        "discovery names issuer {:?}, configured {:?}",
                        d.issuer, self.config.issuer
                    )));
                }
                let url = |u: &str| {
                    self.client
                        .url(u)
                        .map_err(|e| SsoError::Protocol(e.to_string()))
                };
                Ok(Arc::new(Endpoints {
                    authorize: url(&d.authorization_endpoint)?,
                    token: url(&d.token_endpoint)?,
                    end_session: d.end_session_endpoint.as_deref().map(url).transpose()?,
                }))
            })
            .await
            .cloned()
    }

    /// The authorization URL for this attempt: `response_type=code`, the scopes, `state`,
    /// `nonce` and the S256 PKCE challenge.
    pub async fn authorize_url(
        &self,
        login: &LoginRequest,
        redirect_uri: &str,
    ) -> Result<String, SsoError> {
        let mut url = self.endpoints().await?.authorize.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &self.config.client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("scope", &self.config.scopes.join(" "))
                .append_pair("state", &login.state)
                .append_pair("nonce", &login.nonce)
                .append_pair("code_challenge", &login.challenge())
                .append_pair("code_challenge_method", "S256");
            for (k, v) in &self.config.authorize_params {
                q.append_pair(k, v);
            }
        }
        Ok(url.into())
    }

    fn client_auth(&self, form: &mut Vec<(String, String)>) {
        form.push(("client_id".into(), self.config.client_id.clone()));
        if let Some(secret) = &self.config.client_secret {
            form.push(("client_secret".into(), secret.clone()));
        }
    }

    async fn token_request(
        &self,
        mut form: Vec<(String, String)>,
    ) -> Result<TokenResponse, SsoError> {
        self.client_auth(&mut form);
        let token = self.endpoints().await?.token.clone();
        self.client
            .send(
                Method::POST,
                &token,
                &[("accept", "application/json")],
                Some(RequestBody::Form(form)),
            )
            .await
            .map_err(SsoError::from_idp)?
            .json(&token)
            .map_err(SsoError::from_idp)
    }

    /// Exchanges the callback's code with the PKCE verifier, then verifies the ID token
    /// (signature, issuer, audience, expiry) and its `nonce`.
    pub async fn exchange_code(
        &self,
        code: &str,
        login: &LoginRequest,
        redirect_uri: &str,
    ) -> Result<TokenSet, SsoError> {
        let answer = self
            .token_request(vec![
                ("grant_type".into(), "authorization_code".into()),
                ("code".into(), code.into()),
                ("redirect_uri".into(), redirect_uri.into()),
                ("code_verifier".into(), login.verifier.clone()),
            ])
            .await?;
        let id_token = answer.id_token.as_deref().ok_or_else(|| {
            SsoError::Protocol("no id_token in the token response (is `openid` granted?)".into())
        })?;
        let claims = self.verify_id_token(id_token).await?;
        let nonce = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
        if !constant_time_eq(nonce.as_bytes(), login.nonce.as_bytes()) {
            return Err(SsoError::IdToken(
                "nonce does not match the sign-in attempt".into(),
            ));
        }
        Ok(token_set(answer, Some(&claims)))
    }

    /// Uses a refresh token; a returned ID token is verified too.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenSet, SsoError> {
        let answer = self
            .token_request(vec![
                ("grant_type".into(), "refresh_token".into()),
                ("refresh_token".into(), refresh_token.into()),
            ])
            .await?;
        let claims = match answer.id_token.as_deref() {
            Some(t) => Some(self.verify_id_token(t).await?),
            None => None,
        };
        Ok(token_set(answer, claims.as_ref()))
    }

    async fn verify_id_token(
        &self,
        id_token: &str,
    ) -> Result<serde_json::Map<String, Value>, SsoError> {
        match self.id_tokens.verify(id_token).await {
            Ok(user) => Ok((*user.claims).clone()),
            Err(mastra_auth::AuthError::Unavailable { reason, .. }) => {
                Err(SsoError::Unavailable(reason))
            }
            Err(e) => Err(SsoError::IdToken(e.to_string())),
        }
    }

    /// The provider's logout URL: the discovered `end_session_endpoint` with `client_id` and
    /// `post_logout_redirect_uri`, else Auth0's `/v2/logout` with `client_id` and `returnTo`,
    /// else none.
    pub async fn logout_url(&self, return_to: Option<&str>) -> Result<Option<String>, SsoError> {
        let endpoints = self.endpoints().await?;
        let (mut url, return_param) = match (&endpoints.end_session, &self.config.auth0_logout_url)
        {
            (Some(u), _) => (u.clone(), "post_logout_redirect_uri"),
            (None, Some(u)) => (
                self.client
                    .url(u)
                    .map_err(|e| SsoError::Protocol(e.to_string()))?,
                "returnTo",
            ),
            (None, None) => return Ok(None),
        };
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", &self.config.client_id);
            if let Some(r) = return_to {
                q.append_pair(return_param, r);
            }
        }
        Ok(Some(url.into()))
    }
}

/// The token answer with the profile from verified ID-token claims.
fn token_set(answer: TokenResponse, claims: Option<&serde_json::Map<String, Value>>) -> TokenSet {
    let s = |c: &serde_json::Map<String, Value>, k: &str| {
        c.get(k).and_then(Value::as_str).map(str::to_owned)
    };
    TokenSet {
        access_token: answer.access_token,
        refresh_token: answer.refresh_token,
        expires_in: answer.expires_in,
        profile: claims.map(|c| Profile {
            id: s(c, "sub").unwrap_or_default(),
            email: s(c, "email"),
            name: s(c, "name"),
            avatar_url: s(c, "picture"),
        }),
        session_id: claims.and_then(|c| s(c, "sid")),
        organization_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(auth0_logout: Option<&str>, end_session: Option<&str>) -> OidcFlow {
        let f = OidcFlow::new(OidcFlowConfig {
            issuer: "https://idp.example/".into(),
            client_id: "web".into(),
            client_secret: Some("s3cret-value".into()),
            scopes: vec!["profile".into()],
            authorize_params: vec![("audience".into(), "https://api.example".into())],
            auth0_logout_url: auth0_logout.map(Into::into),
            ..OidcFlowConfig::default()
        })
        .unwrap();
        // what discovery would have found
        f.endpoints
            .set(Arc::new(Endpoints {
                authorize: Url::parse("https://idp.example/authorize").unwrap(),
                token: Url::parse("https://idp.example/token").unwrap(),
                end_session: end_session.map(|u| Url::parse(u).unwrap()),
            }))
            .unwrap();
        f
    }

    #[tokio::test]
    async fn authorize_url_parameters() {
        let login = LoginRequest::new().unwrap();
        let url = flow(None, None)
            .authorize_url(&login, "https://app.example/cb")
            .await
            .unwrap();
        let q: std::collections::HashMap<_, _> = Url::parse(&url)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "web");
        assert_eq!(q["redirect_uri"], "https://app.example/cb");
        // `openid` is always asked for
        assert_eq!(q["scope"], "openid profile");
        assert_eq!(q["state"], login.state);
        assert_eq!(q["nonce"], login.nonce);
        assert_eq!(q["code_challenge"], login.challenge());
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["audience"], "https://api.example");
        assert!(!url.contains("s3cret"));
    }

    #[tokio::test]
    async fn logout_urls() {
        let end = flow(None, Some("https://idp.example/logout"));
        assert_eq!(
            end.logout_url(Some("https://app.example/"))
                .await
                .unwrap()
                .unwrap(),
            "https://idp.example/logout?client_id=web&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2F"
        );
        let auth0 = flow(Some("https://tenant.auth0.com/v2/logout"), None);
        assert_eq!(
            auth0
                .logout_url(Some("https://app.example/"))
                .await
                .unwrap()
                .unwrap(),
            "https://tenant.auth0.com/v2/logout?client_id=web&returnTo=https%3A%2F%2Fapp.example%2F"
        );
        assert_eq!(flow(None, None).logout_url(None).await.unwrap(), None);
    }

    #[test]
    fn settings_are_checked_and_the_secret_never_shown() {
        assert!(OidcFlow::new(OidcFlowConfig::default()).is_err());
        let no_client = OidcFlowConfig {
            issuer: "https://idp.example".into(),
            ..OidcFlowConfig::default()
        };
        assert!(OidcFlow::new(no_client).is_err());
        let insecure = OidcFlowConfig {
            issuer: "http://idp.example".into(),
            client_id: "web".into(),
            ..OidcFlowConfig::default()
        };
        assert!(OidcFlow::new(insecure).is_err());
        let shown = format!("{:?}", flow(None, None));
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn profile_from_id_token_claims() {
        let claims = serde_json::json!({"sub": "u1", "email": "a@x", "name": "A", "picture": "p", "sid": "s"});
        let t = token_set(
            TokenResponse {
                access_token: "at".into(),
                refresh_token: None,
                id_token: None,
                expires_in: Some(60),
            },
            claims.as_object(),
        );
        let p = t.profile.unwrap();
        assert_eq!(
            (
                p.id.as_str(),
                p.email.as_deref(),
                p.name.as_deref(),
                p.avatar_url.as_deref()
            ),
            ("u1", Some("a@x"), Some("A"), Some("p"))
        );
        assert_eq!(t.session_id.as_deref(), Some("s"));
        assert_eq!(t.expires_in, Some(60));
    }
}
