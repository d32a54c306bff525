//! Value types of `mastra.toml` that TOML has no native form for: byte sizes and durations,
//! plus lenient scalar readers so `port = "${PORT}"` works after `${VAR}` substitution.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Parses a humantime duration such as `"180s"`, `"3m"`, `"1h 30m"`, `"250ms"`.
pub use mastra_auth::config_serde::parse_duration;

/// A size in bytes, written in `mastra.toml` as an integer or a string with a unit
/// (`"4.5MB"`, `"512 KiB"`); KB = KiB = 1024 and MB = MiB = 1024², as in Mastra.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Mastra's default request body limit: 4.5 MiB = 4 718 592 bytes.
    pub const DEFAULT_BODY_LIMIT: ByteSize = ByteSize(4_718_592);

    /// The size in bytes.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// The size in bytes as `usize` (saturating on 32-bit targets).
    pub fn as_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bytes", self.0)
    }
}

impl std::str::FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_byte_size(s).map(ByteSize)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

/// Parses `"4.5MB"`, `"512 KiB"`, `"100B"`, `"1024"` into bytes (binary multiples, fractions
/// rounded down); the error says what is accepted.
pub fn parse_byte_size(input: &str) -> Result<u64, String> {
    let s = input.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = (s[..split].trim(), s[split..].trim());
    let help = || {
        format!(
            "invalid size `{input}`: write an integer byte count or a number with a unit \
             (B, KB, KiB, MB, MiB, GB, GiB), e.g. \"4.5MB\""
        )
    };
    if number.is_empty() {
        return Err(help());
    }
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(help()),
    };
    if let Ok(whole) = number.parse::<u64>() {
        return whole
            .checked_mul(multiplier)
            .ok_or_else(|| format!("size `{input}` is too large"));
    }
    let value: f64 = number.parse().map_err(|_| help())?;
    let bytes = value * multiplier as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("size `{input}` is too large"));
    }
    Ok(bytes as u64)
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte count (integer) or a size string such as \"4.5MB\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom(format!("size must not be negative, got {v}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                parse_byte_size(v).map(ByteSize).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Deserializes a humantime duration string (`"180s"`), as the auth crate's provider configs do.
pub(crate) use mastra_auth::config_serde::duration as de_duration;

/// Deserializes an unsigned integer given as a TOML integer or as a decimal string
/// (so a substituted `"${PORT}"` works).
fn de_uint<'de, D: Deserializer<'de>>(d: D, what: &'static str) -> Result<u64, D::Error> {
    struct V(&'static str);
    impl Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{} (an integer, or a string of digits)", self.0)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v)
                .map_err(|_| E::custom(format!("expected {}, got the negative number {v}", self.0)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            v.trim()
                .parse::<u64>()
                .map_err(|_| E::custom(format!("expected {}, got the string \"{v}\"", self.0)))
        }
    }
    d.deserialize_any(V(what))
}

/// Deserializes a TCP port (integer or digit string); 0 is rejected later by validation.
pub(crate) fn de_port<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let v = de_uint(d, "a port number 1-65535")?;
    u16::try_from(v).map_err(|_| de::Error::custom(format!("port {v} is out of range 1-65535")))
}

/// Deserializes a `u64` (integer or digit string).
pub(crate) fn de_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    de_uint(d, "a non-negative integer")
}

/// Deserializes a `usize` (integer or digit string).
pub(crate) fn de_usize<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let v = de_uint(d, "a non-negative integer")?;
    usize::try_from(v).map_err(|_| de::Error::custom(format!("{v} is too large")))
}

/// Deserializes a boolean given as a TOML boolean or as the string `"true"`/`"false"`.
pub(crate) fn de_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("true or false")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
            match v.trim() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(E::custom(format!(
                    "expected true or false, got the string \"{v}\""
                ))),
            }
        }
    }
    d.deserialize_any(V)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_byte_size("4.5MB"), Ok(4_718_592));
        assert_eq!(parse_byte_size("4.5 MiB"), Ok(4_718_592));
        assert_eq!(parse_byte_size("1kb"), Ok(1024));
        assert_eq!(parse_byte_size("10B"), Ok(10));
        assert_eq!(parse_byte_size("2GB"), Ok(2 << 30));
        assert_eq!(parse_byte_size("123"), Ok(123));
        assert!(parse_byte_size("MB").is_err());
        assert!(parse_byte_size("4.5 parsecs").is_err());
        assert!(parse_byte_size("-1MB").is_err());
        assert!(parse_byte_size("99999999999999999999GB").is_err());
    }

    #[test]
    fn durations() {
        use std::time::Duration;

        assert_eq!(parse_duration("180s"), Ok(Duration::from_secs(180)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("soon").is_err());
    }
}
