//! `[auth.session]` (the sealed session cookie) and `[auth.sso]` (browser sign-in at the
//! identity provider).
//!
//! Which settings sign-in reads depends on the provider, following each provider's documented
//! names: `workos` uses `[auth.workos]` (`client_id`/`WORKOS_CLIENT_ID`, `api_key`/
//! `WORKOS_API_KEY`, `redirect_uri`/`WORKOS_REDIRECT_URI`); `auth0` uses `[auth.auth0]`'s domain
//! and audience with `client_id`/`AUTH0_CLIENT_ID`, `client_secret`/`AUTH0_CLIENT_SECRET`,
//! `redirect_uri`/`AUTH0_REDIRECT_URI`; `oidc` uses `[auth.oidc]`'s issuer with `[auth.sso]`'s
//! client settings (`OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET`, `OIDC_REDIRECT_URI`).

use std::time::Duration;

use serde::Deserialize;

use super::units::de_duration;
use super::{ConfigError, Secret};

/// Environment variable holding the session secret (newest first when several, separated by
/// whitespace).
pub const SESSION_SECRET_ENV: &str = "MASTRA_SESSION_SECRET";

/// Default session cookie name.
pub const DEFAULT_SESSION_COOKIE: &str = "mastra_session";

/// `[auth.session]`: the sealed session cookie.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// Secrets the session key is derived from, newest first: sessions are sealed with the
    /// first and opened with any (rotation). At least 32 bytes each. Default
    /// `MASTRA_SESSION_SECRET`; `mastra serve` generates a development one without either.
    pub secrets: Vec<Secret>,
    /// The cookie's name (default `mastra_session`).
    pub cookie_name: String,
    /// How long a session lasts after sign-in, refreshes included (default 7 days).
    #[serde(deserialize_with = "de_duration")]
    pub max_age: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            secrets: Vec::new(),
            cookie_name: DEFAULT_SESSION_COOKIE.into(),
            max_age: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

impl SessionConfig {
    /// Fills `secrets` from `MASTRA_SESSION_SECRET` when the file sets none.
    pub fn fill_from_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        if self.secrets.is_empty()
            && let Some(v) = lookup(SESSION_SECRET_ENV)
        {
            self.secrets = v.split_whitespace().map(Secret::new).collect();
        }
    }

    pub(super) fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let name = &self.cookie_name;
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(ConfigError::invalid(
                origin,
                "auth.session.cookie_name",
                "use letters, digits, `-`, `_` or `.`",
            ));
        }
        if self.max_age < Duration::from_secs(60) {
            return Err(ConfigError::invalid(
                origin,
                "auth.session.max_age",
                "must be at least 1m",
            ));
        }
        for (i, s) in self.secrets.iter().enumerate() {
            if let Err(e) = mastra_session::SessionKey::from_secret(s.expose()) {
                return Err(ConfigError::invalid(
                    origin,
                    format!("auth.session.secrets[{i}]"),
                    e.to_string(),
                ));
            }
        }
        Ok(())
    }
}

/// `[auth.sso]`: browser sign-in (`/api/auth/sso/login` and its callback).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SsoConfig {
    /// The client registered at the identity provider (`AUTH0_CLIENT_ID`, `OIDC_CLIENT_ID`;
    /// WorkOS: `[auth.workos] client_id`).
    pub client_id: Option<String>,
    /// Its secret (`AUTH0_CLIENT_SECRET`, `OIDC_CLIENT_SECRET`; WorkOS: the API key).
    pub client_secret: Option<Secret>,
    /// The callback URL registered at the identity provider (`AUTH0_REDIRECT_URI`,
    /// `OIDC_REDIRECT_URI`, `WORKOS_REDIRECT_URI`); default `<origin of the request><api
    /// prefix>/auth/sso/callback`.
    pub redirect_uri: Option<String>,
    /// Scopes requested (default `openid profile email offline_access`; WorkOS takes none).
    pub scopes: Vec<String>,
    /// The API the access token is for: Auth0's `audience` parameter (default the
    /// `[auth.auth0]` audience) or the `resource` parameter for another OpenID provider.
    pub audience: Option<String>,
    /// Origins other than the server's own that may be the target of `redirect_to` and the
    /// `Origin` of cookie-authenticated requests that change state (a front end on another
    /// port or host), e.g. `["https://app.example.com"]`.
    pub allowed_origins: Vec<String>,
    /// Where the provider's logout sends the browser back to (absolute URL; default none).
    pub post_logout_redirect: Option<String>,
    /// WorkOS: `provider` parameter (default `authkit`), or a `connection_id` or
    /// `organization_id` selecting an SSO connection.
    pub workos_provider: Option<String>,
    /// WorkOS: an SSO connection id.
    pub workos_connection_id: Option<String>,
    /// WorkOS: an organization whose SSO to use.
    pub workos_organization_id: Option<String>,
}

impl SsoConfig {
    pub(super) fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        for (i, o) in self.allowed_origins.iter().enumerate() {
            if !is_origin(o) {
                return Err(ConfigError::invalid(
                    origin,
                    format!("auth.sso.allowed_origins[{i}]"),
                    format!(
                        "{o:?} is not an origin: write scheme://host[:port] with no path, e.g. \"https://app.example.com\""
                    ),
                ));
            }
        }
        for (key, v) in [
            ("auth.sso.redirect_uri", &self.redirect_uri),
            ("auth.sso.post_logout_redirect", &self.post_logout_redirect),
        ] {
            if let Some(v) = v
                && !(v.starts_with("https://") || v.starts_with("http://"))
            {
                return Err(ConfigError::invalid(
                    origin,
                    key,
                    "must be an absolute http(s) URL",
                ));
            }
        }
        Ok(())
    }
}

/// `scheme://host[:port]` with an http(s) scheme and nothing after the authority.
pub fn is_origin(s: &str) -> bool {
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert!(is_origin("https://app.example.com"));
        assert!(is_origin("http://localhost:5173"));
        assert!(is_origin("http://[::1]:5173"));
        for bad in [
            "app.example.com",
            "https://app.example.com/",
            "https://a.example/x",
            "javascript://x",
            "https://",
            "https://a@b",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
    }

    fn load(toml: &str) -> Result<crate::config::Config, String> {
        crate::config::Config::from_toml_str(toml, "t.toml").map_err(|e| e.to_string())
    }

    #[test]
    fn tables_are_checked_where_they_are_read() {
        let ok = load(
            "[auth]\nprovider = \"oidc\"\n[auth.oidc]\nissuer = \"https://i.example\"\naudience = \"a\"\n\
             [auth.sso]\nclient_id = \"web\"\nallowed_origins = [\"https://app.example.com\"]\n\
             [auth.session]\nsecrets = [\"0123456789abcdef0123456789abcdef\"]\nmax_age = \"12h\"\n",
        )
        .unwrap();
        let session = ok.auth.session.unwrap();
        assert_eq!(session.max_age, Duration::from_secs(12 * 3600));
        assert_eq!(session.cookie_name, DEFAULT_SESSION_COOKIE);
        assert!(!format!("{session:?}").contains("0123456789"));

        let jwt =
            load("[auth]\nprovider = \"jwt\"\n[auth.sso]\nclient_id = \"web\"\n").unwrap_err();
        assert!(
            jwt.contains("auth.sso") && jwt.contains("\"oidc\", \"auth0\" or \"workos\""),
            "{jwt}"
        );
        let short = load("[auth.session]\nsecrets = [\"short\"]\n").unwrap_err();
        assert!(
            short.contains("auth.session.secrets[0]") && short.contains("at least 32"),
            "{short}"
        );
        let unknown = load("[auth.session]\nsecret = \"x\"\n").unwrap_err();
        assert!(unknown.contains("secret"), "{unknown}");
        let origin = load(
            "[auth]\nprovider = \"workos\"\n[auth.sso]\nallowed_origins = [\"https://app.example.com/\"]\n",
        )
        .unwrap_err();
        assert!(origin.contains("auth.sso.allowed_origins[0]"), "{origin}");
        let cookie = load("[auth.session]\ncookie_name = \"a;b\"\n").unwrap_err();
        assert!(cookie.contains("auth.session.cookie_name"), "{cookie}");
    }

    #[test]
    fn secret_from_env_newest_first() {
        let mut c = SessionConfig::default();
        c.fill_from_env(|k| (k == SESSION_SECRET_ENV).then(|| "new-one old-one".into()));
        assert_eq!(c.secrets.len(), 2);
        assert_eq!(c.secrets[0].expose(), "new-one");
        assert!(c.validate("test").is_err());
    }
}
