//! `provider = "api_keys"`: static API keys, stored as SHA-256 hashes, each mapped to a user.

use std::sync::Arc;

use http::request::Parts;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::User;
use crate::error::AuthError;
use crate::jwt::Rejection;
use crate::pattern::PatternList;
use crate::provider::AuthProvider;
use crate::verdict::Verdict;

/// One configured key: its SHA-256 and the user it stands for.
#[derive(Clone)]
pub struct ApiKey {
    /// SHA-256 of the key.
    pub sha256: [u8; 32],
    /// User id.
    pub user: String,
    /// Claims the user carries (e.g. roles for rules).
    pub claims: Map<String, Value>,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("user", &self.user)
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

/// Why an API key entry is unusable. Each message begins with the name of the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    /// `sha256` is not 64 hex digits.
    #[error("keys[{0}].sha256 must be 64 hex digits (the SHA-256 of the key)")]
    BadHash(usize),
    /// A plaintext key that is too short to resist guessing.
    #[error("keys[{0}].key is {1} characters; use at least 24 random characters")]
    ShortKey(usize, usize),
    /// Neither or both of `key` and `sha256`.
    #[error("keys[{0}] needs exactly one of `sha256` (recommended) or `key`")]
    KeyOrHash(usize),
    /// No keys.
    #[error("keys is empty: configure at least one key")]
    NoKeys,
    /// Empty user id.
    #[error("keys[{0}].user must not be empty")]
    NoUser(usize),
}

impl ApiKey {
    /// From the hex SHA-256 of a key.
    pub fn from_hash(
        index: usize,
        hex: &str,
        user: String,
        claims: Map<String, Value>,
    ) -> Result<Self, ApiKeyError> {
        let sha256 = parse_hex32(hex.trim()).ok_or(ApiKeyError::BadHash(index))?;
        if user.is_empty() {
            return Err(ApiKeyError::NoUser(index));
        }
        Ok(Self {
            sha256,
            user,
            claims,
        })
    }

    /// From a plaintext key (hashed immediately; the plaintext is not kept).
    pub fn from_plaintext(
        index: usize,
        key: &str,
        user: String,
        claims: Map<String, Value>,
    ) -> Result<Self, ApiKeyError> {
        if key.chars().count() < 24 {
            return Err(ApiKeyError::ShortKey(index, key.chars().count()));
        }
        if user.is_empty() {
            return Err(ApiKeyError::NoUser(index));
        }
        Ok(Self {
            sha256: Sha256::digest(key.as_bytes()).into(),
            user,
            claims,
        })
    }
}

/// Hex SHA-256 of a key, as written in `auth.api_keys.keys[].sha256`.
pub fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn parse_hex32(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in hex.as_bytes().chunks(2).enumerate() {
        let s = std::str::from_utf8(chunk).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

/// Compares two digests without an early exit.
fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The static API-key provider.
#[derive(Debug)]
pub struct ApiKeysProvider {
    name: Arc<str>,
    keys: Vec<ApiKey>,
    public: PatternList,
    protected: PatternList,
}

impl ApiKeysProvider {
    /// Builds the provider; refuses an empty key list.
    pub fn new(
        name: impl Into<String>,
        keys: Vec<ApiKey>,
        public: PatternList,
        protected: PatternList,
    ) -> Result<Self, ApiKeyError> {
        if keys.is_empty() {
            return Err(ApiKeyError::NoKeys);
        }
        Ok(Self {
            name: name.into().into(),
            keys,
            public,
            protected,
        })
    }

    /// The user for a presented key, comparing against every configured hash.
    pub fn lookup(&self, presented: &str) -> Option<User> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found: Option<&ApiKey> = None;
        for k in &self.keys {
            if ct_eq(&k.sha256, &digest) && found.is_none() {
                found = Some(k);
            }
        }
        found.map(|k| {
            let mut claims = k.claims.clone();
            claims.insert("sub".into(), Value::String(k.user.clone()));
            User {
                id: k.user.clone(),
                claims: claims.into(),
                provider: self.name.clone(),
            }
        })
    }
}

impl AuthProvider for ApiKeysProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn authenticate<'a>(&'a self, token: &'a str, _parts: &'a Parts) -> Verdict<'a, Option<User>> {
        Verdict::Ready(
            self.lookup(token).map(Some).ok_or_else(|| {
                AuthError::InvalidToken(Rejection::Provider("unknown API key".into()))
            }),
        )
    }

    fn public(&self) -> PatternList {
        self.public.clone()
    }

    fn protected(&self) -> PatternList {
        self.protected.clone()
    }

    fn handles_jwt(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> ApiKeysProvider {
        let mut claims = Map::new();
        claims.insert("role".into(), "admin".into());
        ApiKeysProvider::new(
            "api_keys",
            vec![
                ApiKey::from_plaintext(
                    0,
                    "sk_live_aaaaaaaaaaaaaaaaaaaaaaaa",
                    "svc-a".into(),
                    claims,
                )
                .unwrap(),
                ApiKey::from_hash(
                    1,
                    &hash_key("sk_live_bbbbbbbbbbbbbbbbbbbbbbbb"),
                    "svc-b".into(),
                    Map::new(),
                )
                .unwrap(),
            ],
            PatternList::default(),
            PatternList::default(),
        )
        .unwrap()
    }

    #[test]
    fn known_keys_map_to_users() {
        let p = provider();
        let a = p.lookup("sk_live_aaaaaaaaaaaaaaaaaaaaaaaa").unwrap();
        assert_eq!(a.id, "svc-a");
        assert_eq!(a.claims["role"], "admin");
        assert_eq!(a.claims["sub"], "svc-a");
        assert_eq!(
            p.lookup("sk_live_bbbbbbbbbbbbbbbbbbbbbbbb").unwrap().id,
            "svc-b"
        );
        assert!(p.lookup("sk_live_cccccccccccccccccccccccc").is_none());
        assert!(p.lookup("").is_none());
    }

    #[test]
    fn config_errors_name_the_entry() {
        assert!(matches!(
            ApiKey::from_hash(3, "zz", "u".into(), Map::new()),
            Err(ApiKeyError::BadHash(3))
        ));
        assert!(matches!(
            ApiKey::from_plaintext(2, "short", "u".into(), Map::new()),
            Err(ApiKeyError::ShortKey(2, 5))
        ));
        assert!(matches!(
            ApiKey::from_hash(0, &hash_key("x"), String::new(), Map::new()),
            Err(ApiKeyError::NoUser(0))
        ));
        assert!(
            ApiKeysProvider::new("k", vec![], PatternList::default(), PatternList::default())
                .is_err()
        );
        assert!(
            ApiKeyError::BadHash(3)
                .to_string()
                .contains("keys[3].sha256")
        );
    }

    #[test]
    fn debug_hides_hashes() {
        let s = format!("{:?}", provider());
        assert!(!s.contains(&hash_key("sk_live_bbbbbbbbbbbbbbbbbbbbbbbb")));
    }
}
