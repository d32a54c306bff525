//! `[auth.jwt]`: the shared-secret / public-key JWT provider, as the server and the CLI use it.
//!
//! Unlike the other providers' tables this one is the server's own type: `public_key` may name a
//! file resolved against the config file's directory, the secret is a [`Secret`] (wiped when
//! dropped), and `mastra token` mints tokens from these settings. Algorithm names and durations
//! are read as the auth crate reads them ([`mastra_auth::config_serde`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::units::{de_bool, de_duration, de_u64, de_usize};
use super::{ConfigError, Secret};

/// Environment variables consulted, in order, for an unset JWT secret.
pub use mastra_auth::providers::jwt::SECRET_ENV_VARS as JWT_SECRET_ENV_VARS;

/// JWS algorithm names accepted in `[auth.jwt] algorithms`.
pub use mastra_auth::config_serde::ALGORITHM_NAMES as JWT_ALGORITHMS;

/// `[auth.jwt]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JwtConfig {
    /// Shared HMAC secret; unset -> `MASTRA_JWT_SECRET`, then `JWT_AUTH_SECRET` (see
    /// [`JwtConfig::fill_from_env`]).
    pub secret: Option<Secret>,
    /// Accepted algorithms (names from [`JWT_ALGORITHMS`]); empty = the provider's default.
    #[serde(deserialize_with = "de_algorithms")]
    pub algorithms: Vec<String>,
    /// PEM public key: written as PEM text or a path to a PEM file; after loading, always the
    /// PEM text.
    pub public_key: Option<String>,
    /// Required `iss`, when set.
    pub issuer: Option<String>,
    /// Accepted `aud` values (a string or a list); empty = not checked.
    #[serde(deserialize_with = "mastra_auth::config_serde::one_or_many")]
    pub audience: Vec<String>,
    /// Reject tokens without `exp` (default false).
    #[serde(deserialize_with = "de_bool")]
    pub require_exp: bool,
    /// Clock leeway for `exp`/`nbf` (default 30 s).
    #[serde(deserialize_with = "de_duration")]
    pub leeway: Duration,
    /// Largest accepted token in bytes (default 16384).
    #[serde(deserialize_with = "de_usize")]
    pub max_token_bytes: usize,
    /// Entries in the verified-token cache (default 10000; 0 disables it).
    #[serde(deserialize_with = "de_u64")]
    pub cache_capacity: u64,
}

impl Default for JwtConfig {
    fn default() -> Self {
        JwtConfig {
            secret: None,
            algorithms: Vec::new(),
            public_key: None,
            issuer: None,
            audience: Vec::new(),
            require_exp: false,
            leeway: Duration::from_secs(30),
            max_token_bytes: 16 * 1024,
            cache_capacity: 10_000,
        }
    }
}

impl JwtConfig {
    /// Fills an unset `secret` through `lookup` from the first non-empty variable of
    /// [`JWT_SECRET_ENV_VARS`] (`MASTRA_JWT_SECRET`, then `JWT_AUTH_SECRET`); a set secret wins.
    pub fn fill_from_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        if self.secret.is_none() {
            self.secret = JWT_SECRET_ENV_VARS
                .iter()
                .find_map(|name| lookup(name).filter(|v| !v.is_empty()))
                .map(Secret::new);
        }
    }

    /// Replaces a `public_key` that is not PEM text by the contents of the file it names
    /// (resolved with `resolve`), which must hold a PEM block.
    pub(super) fn read_public_key(
        &mut self,
        origin: &str,
        resolve: &dyn Fn(&Path) -> PathBuf,
    ) -> Result<(), ConfigError> {
        let Some(key) = &self.public_key else {
            return Ok(());
        };
        if key.contains("-----BEGIN") {
            return Ok(());
        }
        let path = resolve(Path::new(key.trim()));
        let pem = std::fs::read_to_string(&path).map_err(|e| {
            ConfigError::invalid(
                origin,
                "auth.jwt.public_key",
                format!(
                    "is neither PEM text nor a readable file: {}: {e}; give the PEM \
                     text or the path of a PEM file",
                    path.display()
                ),
            )
        })?;
        if !pem.contains("-----BEGIN") {
            return Err(ConfigError::invalid(
                origin,
                "auth.jwt.public_key",
                format!(
                    "file {} holds no PEM block (`-----BEGIN ...`); give a PEM \
                     public key",
                    path.display()
                ),
            ));
        }
        self.public_key = Some(pem);
        Ok(())
    }

    /// Checks the values of `[auth.jwt]` (whether the provider is in use is [`super::AuthConfig`]'s
    /// concern).
    pub(super) fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        if self.secret.as_ref().is_some_and(|s| s.expose().is_empty()) {
            return Err(ConfigError::invalid(
                origin,
                "auth.jwt.secret",
                "must not be empty: set a secret or remove the key to use MASTRA_JWT_SECRET",
            ));
        }
        if self.max_token_bytes == 0 {
            return Err(ConfigError::invalid(
                origin,
                "auth.jwt.max_token_bytes",
                "must be larger than zero (default 16384)",
            ));
        }
        Ok(())
    }
}

/// Algorithm names, each checked against the auth crate's table and kept as written.
fn de_algorithms<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    for name in &names {
        mastra_auth::config_serde::parse_algorithm(name).map_err(de::Error::custom)?;
    }
    Ok(names)
}
