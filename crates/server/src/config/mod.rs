//! The server's configuration file, `mastra.toml`.
//!
//! Loading ([`Config::load`], in `load.rs`) runs in four steps, each with an error that names
//! the file, the key and the fix:
//! 1. parse the TOML text;
//! 2. substitute `${VAR}` inside string values (on the parsed tree, so a value cannot inject
//!    TOML syntax; `$${` is a literal `${`);
//! 3. deserialize into [`Config`] — every table denies unknown keys;
//! 4. validate across keys (port, prefix, TLS files, custom routes, agents) and resolve relative
//!    file paths against the config file's directory.
//!
//! One module per table: `server` (`[server]`), `cors`, `tls`, `auth` (`[auth]` and the
//! identity-provider tables, which are the auth crate's config types), `jwt` (`[auth.jwt]`),
//! `fga` (`[auth.fga]`), `signin` (`[auth.session]`, `[auth.sso]`), `routes` (`[[api_routes]]`),
//! `agents` (`[[agents]]`), `memory` (`[storage]`, `[memory]`), `ui` (`[ui]`). Each checks its
//! own values.
//!
//! [`Config::fill_from_env`] then fills provider fields left unset (the JWT secret) from the
//! documented environment variables; the identity providers' variables are read when the
//! provider is built. CLI flags are applied by the caller after loading.

mod agents;
mod auth;
mod cors;
mod env;
mod error;
mod fga;
mod jwt;
mod load;
mod memory;
mod routes;

mod server;
mod signin;
mod tls;
mod ui;
mod units;

use serde::Deserialize;

pub use agents::AgentConfig;
pub use auth::{ApiKeyEntry, ApiKeysConfig, AuthConfig, AuthProviderKind, CompositeConfig};
pub use cors::{CorsConfig, CorsOrigin};
pub use error::ConfigError;
pub use fga::{FgaConfig, FgaProviderKind};
pub use jwt::{JWT_ALGORITHMS, JWT_SECRET_ENV_VARS, JwtConfig};
pub use mastra_auth::Secret;
pub use memory::{DEFAULT_STORAGE_URL, MAX_LAST_MESSAGES, MemoryConfig, StorageConfig};
pub use routes::{
    ApiRouteConfig, MethodOrAll, RESERVED_PATHS, RESERVED_TREES, RouteAction, RouteError, RouteSet,
};
pub use server::ServerConfig;
pub use signin::{DEFAULT_SESSION_COOKIE, SESSION_SECRET_ENV, SessionConfig, SsoConfig, is_origin};
pub use tls::TlsConfig;
pub use ui::UiConfig;
pub use units::{ByteSize, parse_byte_size, parse_duration};

/// The file name `mastra serve` looks for when no `--config` is given.
pub const DEFAULT_CONFIG_FILE: &str = "mastra.toml";

/// The whole `mastra.toml`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[server]`: listener, limits, CORS, TLS, OpenAPI, logs.
    pub server: ServerConfig,
    /// `[auth]`: provider, path policy, rules.
    pub auth: AuthConfig,
    /// `[[api_routes]]`: custom routes (fixed JSON or reverse proxy).
    pub api_routes: Vec<ApiRouteConfig>,
    /// `[[agents]]`: agents served under `{api_prefix}/agents`.
    pub agents: Vec<AgentConfig>,
    /// `[storage]`: where memory threads and messages are kept.
    pub storage: StorageConfig,
    /// `[memory]`: thread ownership and how much agents remember.
    pub memory: MemoryConfig,
    /// `[ui]`: the built-in web page.
    pub ui: UiConfig,
}

impl Config {
    /// Checks rules that span keys; run again by callers that change the config after loading
    /// (CLI flags), with `origin` naming where the values came from. Tables are checked in file
    /// order: `[server]`, `[auth]`, `[[api_routes]]`, `[[agents]]`.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        self.server.validate(origin)?;
        self.auth.validate(origin)?;
        routes::validate_routes(&self.api_routes, &self.server.api_prefix, origin)?;
        agents::validate_agents(&self.agents, origin)?;
        memory::validate(&self.storage, &self.memory, origin)
    }

    /// Fills provider fields left unset from the documented environment variables: for the
    /// `jwt` provider, `secret` from `MASTRA_JWT_SECRET`, then `JWT_AUTH_SECRET`
    /// ([`JwtConfig::fill_from_env`]).
    pub fn fill_from_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        if !self.auth.uses(AuthProviderKind::Jwt) {
            return;
        }
        match &mut self.auth.jwt {
            Some(jwt) => jwt.fill_from_env(lookup),
            None => {
                let mut jwt = JwtConfig::default();
                jwt.fill_from_env(lookup);
                if jwt.secret.is_some() {
                    self.auth.jwt = Some(jwt);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = Config::default();
        assert_eq!(c.server.port, 4111);
        assert_eq!(c.server.body_limit.as_u64(), 4_718_592);
        assert_eq!(c.auth.provider, AuthProviderKind::Jwt);
        assert!(c.auth.api_key_query);
        assert!(c.validate("default").is_ok());
    }
}
