//! [`ConfigError`]: why a configuration could not be loaded, naming the file, the key and the fix.

use std::path::PathBuf;

use super::Config;

/// Why a configuration could not be loaded; every variant names the file (`origin`) and, where
/// there is one, the key, and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}: {source} (check the path given with --config)", path.display())]
    Read {
        /// The path that was tried.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML (the message carries line and column).
    #[error("{origin}: invalid TOML: {message}")]
    Syntax {
        /// The file name (or other origin) of the text.
        origin: String,
        /// toml's message, with the location.
        message: String,
    },
    /// A key is unknown, missing, or has a value of the wrong type or form.
    #[error("{origin}: `{key}`: {message}\n  fix: {hint}")]
    Schema {
        /// The file name (or other origin) of the text.
        origin: String,
        /// Dotted key path, e.g. `server.cors.max_age` (`.` for the top level).
        key: String,
        /// What is wrong (toml's message, with the location when it can be found).
        message: String,
        /// What to do about it.
        hint: String,
    },
    /// `${VAR}` referenced an environment variable that is not set.
    #[error(
        "{origin}: `{key}`: environment variable `{var}` is not set: set it, or write `$${{` for a literal `${{`"
    )]
    MissingEnv {
        /// The file name (or other origin) of the text.
        origin: String,
        /// Dotted key path of the string holding the reference.
        key: String,
        /// The variable name.
        var: String,
    },
    /// A malformed `${...}` reference.
    #[error("{origin}: `{key}`: {message}")]
    Substitution {
        /// The file name (or other origin) of the text.
        origin: String,
        /// Dotted key path of the string holding the reference.
        key: String,
        /// What is wrong and how to write it.
        message: String,
    },
    /// The values parse but do not make sense together (or a referenced file is missing).
    #[error("{origin}: `{key}`: {message}")]
    Invalid {
        /// The file name (or other origin) of the text.
        origin: String,
        /// Dotted key path of the offending value.
        key: String,
        /// What is wrong and what to do.
        message: String,
    },
}

impl ConfigError {
    /// The dotted key path the error is about, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Read { .. } | ConfigError::Syntax { .. } => None,
            ConfigError::Schema { key, .. }
            | ConfigError::MissingEnv { key, .. }
            | ConfigError::Substitution { key, .. }
            | ConfigError::Invalid { key, .. } => Some(key),
        }
    }

    /// An [`ConfigError::Invalid`] about `key` of the text from `origin`.
    pub(crate) fn invalid(
        origin: &str,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ConfigError::Invalid {
            origin: origin.to_string(),
            key: key.into(),
            message: message.into(),
        }
    }
}

/// A deserialization error as a [`ConfigError::Schema`], with the key path, the location in the
/// raw text when it can be found, and a hint.
pub(super) fn schema_error(
    text: &str,
    origin: &str,
    err: serde_path_to_error::Error<toml::de::Error>,
) -> ConfigError {
    let key = err.path().to_string();
    let inner = err.into_inner();
    let core = inner.message().trim_end().to_string();
    // Substitution only rewrites string contents, so the same error on the raw text carries a
    // line/column snippet; use it when it is the same error.
    let message = match toml::from_str::<Config>(text) {
        Err(raw) if raw.message().trim_end() == core && raw.span().is_some() => {
            raw.to_string().trim_end().to_string()
        }
        _ => core.clone(),
    };
    let hint = if core.starts_with("unknown field") {
        "remove the key or correct its spelling (unknown keys are errors)"
    } else if core.starts_with("missing field") {
        "add the missing key"
    } else if core.starts_with("unknown variant") {
        "use one of the listed values"
    } else {
        "correct the value as described above"
    };
    ConfigError::Schema {
        origin: origin.to_string(),
        key,
        message,
        hint: hint.to_string(),
    }
}
