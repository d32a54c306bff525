//! `[server.tls]`: the certificate chain and key to serve HTTPS with.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ConfigError;

/// `[server.tls]`: both files required when the table is present.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain; a relative path is resolved against the config file's directory.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1); relative paths as for `cert`.
    pub key: PathBuf,
}

impl TlsConfig {
    /// Resolves relative paths with `resolve` (against the config file's directory).
    pub(super) fn resolve_paths(&mut self, resolve: &dyn Fn(&Path) -> PathBuf) {
        self.cert = resolve(&self.cert);
        self.key = resolve(&self.key);
    }

    /// Checks that both files exist.
    pub(super) fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        for (key, path) in [
            ("server.tls.cert", &self.cert),
            ("server.tls.key", &self.key),
        ] {
            if !path.is_file() {
                return Err(ConfigError::invalid(
                    origin,
                    key,
                    format!(
                        "file {} does not exist (relative paths are resolved against the \
                         config file's directory)",
                        path.display()
                    ),
                ));
            }
        }
        Ok(())
    }
}
