//! What a key set is configured with: where and in which format its document lives, and its
//! lifetimes; and the lifetime a response gives the keys.

use std::time::Duration;

use jsonwebtoken::Algorithm;

use crate::idp_http::IdpResponse;

/// Default key-set lifetime when the response carries no usable `Cache-Control`.
pub const DEFAULT_TTL: Duration = Duration::from_secs(10 * 60);
/// Shortest lifetime honoured from `Cache-Control`.
pub const MIN_TTL: Duration = Duration::from_secs(60);
/// Longest lifetime honoured from `Cache-Control`.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Default minimum interval between two forced refreshes (unknown `kid`).
pub const REFRESH_COOLDOWN: Duration = Duration::from_secs(30);
/// Default time an expired set keeps being served while the IdP is unreachable.
pub const STALE_IF_ERROR: Duration = Duration::from_secs(24 * 60 * 60);
/// After a failed fetch, callers that would need a new fetch get the failure (503) for this long
/// instead of starting another one, so an outage does not turn every request into a fetch.
pub const FETCH_FAILURE_BACKOFF: Duration = Duration::from_secs(1);

/// The wire format of the key document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    /// An RFC 7517 JWK Set: `{"keys": [{"kty": ..., "kid": ..., ...}]}`.
    Jwks,
    /// Google securetoken format: `{"<kid>": "-----BEGIN CERTIFICATE-----..."}`; the public key of
    /// each certificate is used (the certificate's own signature and validity are not checked,
    /// exactly as Google's and Firebase's SDKs do).
    X509PemMap,
}

/// Settings of one [`KeySet`](super::KeySet).
#[derive(Debug, Clone)]
pub struct KeySetConfig {
    /// Where the document lives (HTTPS; plain HTTP only to loopback with `allow_insecure_http`).
    pub url: String,
    /// The document's format.
    pub format: KeyFormat,
    /// Lifetime when the answer has no `Cache-Control: max-age` (default 10 min).
    pub default_ttl: Duration,
    /// Lower clamp for `max-age` (default 1 min).
    pub min_ttl: Duration,
    /// Upper clamp for `max-age` (default 24 h).
    pub max_ttl: Duration,
    /// Minimum interval between forced refreshes caused by unknown `kid`s (default 30 s); also
    /// the lifetime of the negative cache of unknown `kid`s.
    pub refresh_cooldown: Duration,
    /// How long past its expiry a set keeps being served while refreshes fail (default 24 h).
    pub stale_if_error: Duration,
    /// Restricts the algorithms keys may be used with (e.g. `[RS256]` for Auth0); `None` = every
    /// algorithm a key's type allows.
    pub allowed_algorithms: Option<Vec<Algorithm>>,
}

impl KeySetConfig {
    fn with_format(url: String, format: KeyFormat) -> Self {
        Self {
            url,
            format,
            default_ttl: DEFAULT_TTL,
            min_ttl: MIN_TTL,
            max_ttl: MAX_TTL,
            refresh_cooldown: REFRESH_COOLDOWN,
            stale_if_error: STALE_IF_ERROR,
            allowed_algorithms: None,
        }
    }

    /// A JWKS document at `url`, with the default lifetimes.
    pub fn jwks(url: impl Into<String>) -> Self {
        Self::with_format(url.into(), KeyFormat::Jwks)
    }

    /// A Google-style `{kid: PEM certificate}` map at `url`, with the default lifetimes.
    pub fn x509_pem_map(url: impl Into<String>) -> Self {
        Self::with_format(url.into(), KeyFormat::X509PemMap)
    }
}

/// The lifetime settings of a [`KeySetConfig`], for provider configs (which choose the URL and
/// format themselves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySetTiming {
    /// See [`KeySetConfig::default_ttl`].
    pub default_ttl: Duration,
    /// See [`KeySetConfig::min_ttl`].
    pub min_ttl: Duration,
    /// See [`KeySetConfig::max_ttl`].
    pub max_ttl: Duration,
    /// See [`KeySetConfig::refresh_cooldown`].
    pub refresh_cooldown: Duration,
    /// See [`KeySetConfig::stale_if_error`].
    pub stale_if_error: Duration,
}

impl Default for KeySetTiming {
    fn default() -> Self {
        Self {
            default_ttl: DEFAULT_TTL,
            min_ttl: MIN_TTL,
            max_ttl: MAX_TTL,
            refresh_cooldown: REFRESH_COOLDOWN,
            stale_if_error: STALE_IF_ERROR,
        }
    }
}

impl KeySetConfig {
    /// Applies lifetime settings.
    pub fn with_timing(mut self, t: &KeySetTiming) -> Self {
        self.default_ttl = t.default_ttl;
        self.min_ttl = t.min_ttl;
        self.max_ttl = t.max_ttl;
        self.refresh_cooldown = t.refresh_cooldown;
        self.stale_if_error = t.stale_if_error;
        self
    }

    /// Restricts the algorithms keys may be used with.
    pub fn with_algorithms(mut self, algorithms: Option<Vec<Algorithm>>) -> Self {
        self.allowed_algorithms = algorithms;
        self
    }
}

/// Lifetime from `Cache-Control`, clamped; the default without a usable directive.
pub(super) fn ttl_from_headers(res: &IdpResponse, config: &KeySetConfig) -> Duration {
    let (min, max) = (config.min_ttl, config.max_ttl.max(config.min_ttl));
    let Some(cc) = res.header("cache-control") else {
        return config.default_ttl;
    };
    let mut max_age = None;
    for directive in cc.split(',') {
        let d = directive.trim();
        let lower = d.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return min;
        }
        if let Some(v) = lower.strip_prefix("max-age=") {
            max_age = v.trim_matches('"').parse::<u64>().ok();
        }
    }
    match max_age {
        Some(secs) => Duration::from_secs(secs).clamp(min, max),
        None => config.default_ttl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    fn headers(cc: Option<&str>) -> IdpResponse {
        let mut h = http::HeaderMap::new();
        if let Some(cc) = cc {
            h.insert("cache-control", cc.parse().unwrap());
        }
        IdpResponse {
            status: StatusCode::OK,
            headers: h,
            body: bytes::Bytes::new(),
        }
    }

    #[test]
    fn cache_control_is_clamped() {
        let c = KeySetConfig::jwks("https://idp.example/jwks");
        let ttl = |cc| ttl_from_headers(&headers(cc), &c);
        assert_eq!(ttl(None), DEFAULT_TTL);
        assert_eq!(ttl(Some("public, max-age=5")), MIN_TTL);
        assert_eq!(
            ttl(Some("max-age=3600, must-revalidate")),
            Duration::from_secs(3600)
        );
        assert_eq!(ttl(Some("max-age=99999999")), MAX_TTL);
        assert_eq!(ttl(Some("no-store")), MIN_TTL);
        assert_eq!(ttl(Some("public")), DEFAULT_TTL);
        assert_eq!(ttl(Some("max-age=abc")), DEFAULT_TTL);
    }
}
