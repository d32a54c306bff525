//! `[server]`: listener, limits, API prefix, OpenAPI, request logs; CORS and TLS have their own
//! modules.

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;
use super::cors::CorsConfig;
use super::tls::TlsConfig;
use super::units::{ByteSize, de_bool, de_duration, de_port};

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Bind host (default `localhost`).
    pub host: String,
    /// Bind port (default 4111).
    #[serde(deserialize_with = "de_port")]
    pub port: u16,
    /// Time allowed to produce a response head (default 180 s); past it, 504.
    #[serde(deserialize_with = "de_duration")]
    pub timeout: Duration,
    /// After SIGINT/SIGTERM, how long open requests (streams included) may run before the
    /// server stops without them (default 10 s; `0s` stops at once).
    #[serde(deserialize_with = "de_duration")]
    pub shutdown_timeout: Duration,
    /// Largest accepted request body (default 4.5 MiB); past it, 413.
    pub body_limit: ByteSize,
    /// Prefix of the Mastra API routes (default `/api`).
    pub api_prefix: String,
    /// Serve `{api_prefix}/openapi.json` (default false).
    #[serde(deserialize_with = "de_bool")]
    pub openapi: bool,
    /// Log one line per request (default true).
    #[serde(deserialize_with = "de_bool")]
    pub request_logs: bool,
    /// `[server.cors]`.
    pub cors: CorsConfig,
    /// `[server.tls]`: serve HTTPS when present.
    pub tls: Option<TlsConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "localhost".to_string(),
            port: 4111,
            timeout: Duration::from_secs(180),
            shutdown_timeout: Duration::from_secs(10),
            body_limit: ByteSize::DEFAULT_BODY_LIMIT,
            api_prefix: "/api".to_string(),
            openapi: false,
            request_logs: true,
            cors: CorsConfig::default(),
            tls: None,
        }
    }
}

impl ServerConfig {
    /// Checks `[server]`, then `[server.cors]` and `[server.tls]`.
    pub(super) fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: &str| ConfigError::invalid(origin, key, message);
        if self.host.trim().is_empty() {
            return Err(invalid(
                "server.host",
                "must not be empty: use e.g. \"localhost\" or \"0.0.0.0\"",
            ));
        }
        if self.port == 0 {
            return Err(invalid("server.port", "must be between 1 and 65535"));
        }
        if self.timeout.is_zero() {
            return Err(invalid(
                "server.timeout",
                "must be longer than zero, e.g. \"180s\"",
            ));
        }
        if self.body_limit.as_u64() == 0 {
            return Err(invalid(
                "server.body_limit",
                "must be larger than zero, e.g. \"4.5MB\"",
            ));
        }
        validate_prefix(&self.api_prefix)
            .map_err(|m| ConfigError::invalid(origin, "server.api_prefix", m))?;
        self.cors.validate(origin)?;
        if let Some(tls) = &self.tls {
            tls.validate(origin)?;
        }
        Ok(())
    }
}

fn validate_prefix(prefix: &str) -> Result<(), String> {
    let ok = prefix.len() > 1
        && prefix.starts_with('/')
        && !prefix.ends_with('/')
        && !prefix.contains("//")
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.' | '~'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{prefix}` is not a usable prefix: it must start with `/`, have no trailing `/`, and \
             use only letters, digits, `-`, `_`, `.`, `~` (e.g. \"/api\")"
        ))
    }
}
