//! How the provider config types read themselves from a config file (feature `serde`).
//!
//! Each config type ([`JwksConfig`](crate::providers::JwksConfig),
//! [`ClerkConfig`](crate::providers::clerk::ClerkConfig), ...) deserializes from the table a
//! `mastra.toml` gives it (`[auth.jwks]`, `[auth.clerk]`, ...): unknown keys are errors, missing
//! keys keep the type's `Default`, and settings that have no key in that table (cache sizes,
//! timeouts, key-set lifetimes, path patterns) are not read at all. The helpers here give the
//! values their file form:
//! - durations are human strings such as `"30s"`, `"5m"`, `"1h 30m"` ([`parse_duration`]);
//! - some lists may be written as one string ([`one_or_many`]);
//! - algorithms are JWS names from [`ALGORITHM_NAMES`] ([`parse_algorithm`]);
//! - the identity-provider HTTP client is configured by one flat `allow_insecure_http` switch
//!   ([`insecure_http`]).
//!
//! Errors name the value, never the key: the caller knows where the value sits in its file.

use std::fmt;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

#[cfg(feature = "remote")]
use crate::idp_http::IdpClientConfig;
use crate::jwt;

/// The JWS algorithm names accepted in configs, as RFC 7518 spells them; [`parse_algorithm`]
/// turns one into an [`Algorithm`].
pub const ALGORITHM_NAMES: [&str; 12] = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "EdDSA",
];

/// The algorithm named `name` (exact case); the error lists [`ALGORITHM_NAMES`].
pub fn parse_algorithm(name: &str) -> Result<Algorithm, String> {
    jwt::alg_from_name(name).ok_or_else(|| {
        format!(
            "unknown algorithm `{name}`: expected one of {}",
            ALGORITHM_NAMES.join(", ")
        )
    })
}

/// Parses a humantime duration such as `"180s"`, `"3m"`, `"1h 30m"`, `"250ms"`.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
    humantime::parse_duration(input.trim()).map_err(|e| {
        format!("invalid duration `{input}` ({e}): write a number with a unit, e.g. \"180s\", \"3m\", \"250ms\"")
    })
}

/// Deserializes a duration string ([`parse_duration`]); a bare number is refused, since
/// seconds and milliseconds are both plausible readings of it.
pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Duration;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration string such as \"180s\" or \"3m\"")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
            parse_duration(v).map_err(E::custom)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
            Err(bare_number(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
            Err(bare_number(v))
        }
    }
    d.deserialize_any(V)
}

fn bare_number<E: de::Error>(v: impl fmt::Display) -> E {
    E::custom(format!(
        "a bare number ({v}) is ambiguous: write the duration with a unit, e.g. \"{v}s\" or \"{v}ms\""
    ))
}

/// Deserializes a string or a list of strings into a list (`"a"` is `["a"]`).
pub fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        One(String),
        Many(Vec<String>),
    }
    match Raw::deserialize(d)
        .map_err(|_| de::Error::custom("expected a string or a list of strings"))?
    {
        Raw::One(s) => Ok(vec![s]),
        Raw::Many(v) => Ok(v),
    }
}

/// Deserializes a list of algorithm names ([`parse_algorithm`]) into a restriction: present in
/// the file means restricted to exactly these.
pub fn algorithms<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Algorithm>>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|name| parse_algorithm(name).map_err(de::Error::custom))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

#[cfg(feature = "remote")]
/// Deserializes the `allow_insecure_http` switch (a boolean) into the HTTP client settings it
/// belongs to; the client's other settings keep their defaults.
pub fn insecure_http<'de, D: Deserializer<'de>>(d: D) -> Result<IdpClientConfig, D::Error> {
    Ok(IdpClientConfig {
        allow_insecure_http: bool::deserialize(d)?,
        ..IdpClientConfig::default()
    })
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::AlgorithmFamily;

    use super::*;

    #[test]
    fn algorithm_names_are_exactly_the_parsed_ones() {
        for name in ALGORITHM_NAMES {
            let alg = parse_algorithm(name).expect(name);
            assert_eq!(format!("{alg:?}"), name);
        }
        for family in [
            AlgorithmFamily::Hmac,
            AlgorithmFamily::Rsa,
            AlgorithmFamily::Ec,
            AlgorithmFamily::Ed,
        ] {
            for alg in family.algorithms() {
                assert!(
                    ALGORITHM_NAMES.contains(&format!("{alg:?}").as_str()),
                    "{alg:?} missing from ALGORITHM_NAMES"
                );
            }
        }
        let err = parse_algorithm("hs256").unwrap_err();
        assert!(err.contains("`hs256`") && err.contains("EdDSA"), "{err}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("180s"), Ok(Duration::from_secs(180)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("soon").is_err());
    }
}
