//! `[ui]`: the built-in web page (off by default).

use serde::Deserialize;

use super::units::de_bool;

/// `[ui]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// Serve the built-in page at `/ui/` (default false): sign in, pick an agent, chat with it
    /// over the stream endpoint, sign out. The page's files are public; everything it shows
    /// comes from the API, under the API's auth.
    #[serde(deserialize_with = "de_bool")]
    pub enabled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_strict() {
        assert!(!UiConfig::default().enabled);
        let on: UiConfig = toml::from_str("enabled = true").unwrap();
        assert!(on.enabled);
        let err = toml::from_str::<UiConfig>("enable = true").unwrap_err();
        assert!(err.to_string().contains("enable"), "{err}");
    }
}
