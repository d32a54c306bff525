//! Loading `mastra.toml`: read, parse, substitute `${VAR}`, deserialize, resolve files, fill
//! derived defaults, validate.

use std::path::{Path, PathBuf};

use super::error::schema_error;
use super::{Config, ConfigError, agents, env};

impl Config {
    /// Loads and validates a config file, substituting `${VAR}` from the process environment.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(path, |name| std::env::var(name).ok())
    }

    /// Like [`Config::load`], with `${VAR}` looked up through `lookup`.
    pub fn load_with_env(
        path: impl AsRef<Path>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().filter(|p| !p.as_os_str().is_empty());
        Self::parse(&text, &path.display().to_string(), base, &lookup)
    }

    /// Parses and validates config text; `origin` names it in errors; relative paths are
    /// resolved against the current directory; `${VAR}` comes from the process environment.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, ConfigError> {
        Self::from_toml_str_with_env(text, origin, |name| std::env::var(name).ok())
    }

    /// Like [`Config::from_toml_str`], with `${VAR}` looked up through `lookup`.
    pub fn from_toml_str_with_env(
        text: &str,
        origin: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Self::parse(text, origin, None, &lookup)
    }

    fn parse(
        text: &str,
        origin: &str,
        base: Option<&Path>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let mut value = toml::Value::Table(table);
        env::substitute_tree(&mut value, &mut String::new(), lookup).map_err(
            |(key, err)| match err {
                env::SubstError::Missing(var) => ConfigError::MissingEnv {
                    origin: origin.to_string(),
                    key,
                    var,
                },
                env::SubstError::Malformed(message) => ConfigError::Substitution {
                    origin: origin.to_string(),
                    key,
                    message,
                },
            },
        )?;
        let mut config: Config =
            serde_path_to_error::deserialize(value).map_err(|e| schema_error(text, origin, e))?;
        config.resolve_files(origin, base)?;
        agents::fill_defaults(&mut config.agents);
        config.validate(origin)?;
        Ok(config)
    }

    /// Resolves relative TLS paths against `base` and reads `public_key` files.
    fn resolve_files(&mut self, origin: &str, base: Option<&Path>) -> Result<(), ConfigError> {
        let resolve = |p: &Path| -> PathBuf {
            match base {
                Some(dir) if p.is_relative() => dir.join(p),
                _ => p.to_path_buf(),
            }
        };
        if let Some(tls) = &mut self.server.tls {
            tls.resolve_paths(&resolve);
        }
        if let Some(jwt) = &mut self.auth.jwt {
            jwt.read_public_key(origin, &resolve)?;
        }
        Ok(())
    }
}
