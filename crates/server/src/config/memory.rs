//! `[storage]` (where memory lives) and `[memory]` (who may see which threads, how much an
//! agent remembers).

use serde::Deserialize;

use super::ConfigError;

/// The SQLite file used when `[storage] url` is not set, relative to the working directory.
pub const DEFAULT_STORAGE_URL: &str = "sqlite://.mastra/memory.db";

/// `[storage]`.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// `sqlite://<path>` (relative paths from the working directory), `sqlite::memory:`, or
    /// `postgres://user:password@host:port/db` for several server processes on one database.
    pub url: String,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            url: DEFAULT_STORAGE_URL.to_string(),
        }
    }
}

impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageConfig")
            .field("url", &mastra_memory::redact_url(&self.url))
            .finish()
    }
}

/// `[memory]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryConfig {
    /// Serve `/api/memory/*` and give agents memory (default true).
    pub enabled: bool,
    /// The claim of a signed-in user that is their resource id (default `sub`).
    pub resource_claim: String,
    /// User ids (of API keys or service principals) allowed to name any resource.
    pub cross_resource: Vec<String>,
    /// How many of a thread's latest messages an agent is given (default 10, as Mastra).
    pub last_messages: u64,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            resource_claim: "sub".to_string(),
            cross_resource: Vec::new(),
            last_messages: 10,
        }
    }
}

/// Most messages an agent may be given from memory.
pub const MAX_LAST_MESSAGES: u64 = 1000;

/// Checks `[storage]` and `[memory]`.
pub(super) fn validate(
    storage: &StorageConfig,
    memory: &MemoryConfig,
    origin: &str,
) -> Result<(), ConfigError> {
    let invalid = |key: &str, message: &str| ConfigError::invalid(origin, key, message.to_string());
    let url = storage.url.as_str();
    let known = ["sqlite://", "postgres://", "postgresql://"]
        .iter()
        .any(|s| url.starts_with(s) && url.len() > s.len())
        || url == "sqlite::memory:";
    if !known {
        return Err(invalid(
            "storage.url",
            "use sqlite://<path> (e.g. sqlite://.mastra/memory.db), sqlite::memory: or postgres://user:password@host:5432/db",
        ));
    }
    if memory.resource_claim.trim().is_empty() {
        return Err(invalid(
            "memory.resource_claim",
            "must name a claim of the signed-in user's token, e.g. \"sub\"",
        ));
    }
    if memory.last_messages > MAX_LAST_MESSAGES {
        return Err(invalid("memory.last_messages", "must be at most 1000"));
    }
    if memory.cross_resource.iter().any(|id| id.is_empty()) {
        return Err(invalid(
            "memory.cross_resource",
            "lists user ids (of API keys or service principals); an empty id is not one",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_sqlite_and_sub() {
        let (s, m) = (StorageConfig::default(), MemoryConfig::default());
        assert_eq!(s.url, DEFAULT_STORAGE_URL);
        assert_eq!((m.resource_claim.as_str(), m.last_messages), ("sub", 10));
        assert!(validate(&s, &m, "t").is_ok());
    }

    #[test]
    fn bad_values_name_their_key() {
        let m = MemoryConfig::default();
        let s = StorageConfig {
            url: "mysql://db".into(),
        };
        assert!(
            validate(&s, &m, "t")
                .unwrap_err()
                .to_string()
                .contains("storage.url")
        );
        let m2 = MemoryConfig {
            resource_claim: " ".into(),
            ..MemoryConfig::default()
        };
        let e = validate(&StorageConfig::default(), &m2, "t").unwrap_err();
        assert!(e.to_string().contains("memory.resource_claim"), "{e}");
    }

    #[test]
    fn the_password_is_not_in_debug_output() {
        let s = StorageConfig {
            url: "postgres://app:hunter2@db/mem".into(),
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
