//! `provider = "jwt"`: a shared HMAC secret (HS256/384/512) and/or a PEM public key
//! (RS*, PS*, ES256/384, EdDSA), with a verified-token cache.

use std::sync::Arc;
use std::time::Duration;

use http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey};

use crate::cache::{CacheSlot, DEFAULT_CAPACITY, DEFAULT_MAX_TTL, VerifiedTokenCache};
use crate::error::AuthError;
use crate::jwt::{self, ClaimsPolicy, PreparedKey, Rejection, VerifyKey};
use crate::pattern::PatternList;
use crate::provider::AuthProvider;
use crate::setting::fill_secret;
use crate::verdict::Verdict;
use crate::{Secret, User};

/// Minimum HMAC secret length: below this, offline brute force of a captured token is practical.
pub const MIN_SECRET_BYTES: usize = 32;

const HMAC_ALGS: [Algorithm; 3] = [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];

/// Environment variables consulted, in order, for an unset [`JwtProviderConfig::secret`].
pub const SECRET_ENV_VARS: [&str; 2] = ["MASTRA_JWT_SECRET", "JWT_AUTH_SECRET"];

/// Settings of the shared-secret / public-key JWT provider.
#[derive(Clone)]
pub struct JwtProviderConfig {
    /// Provider name (default `jwt`).
    pub name: String,
    /// HMAC secret (`MASTRA_JWT_SECRET` / `JWT_AUTH_SECRET`).
    pub secret: Option<Secret>,
    /// A PEM-encoded public key (RSA, EC P-256/P-384, Ed25519).
    pub public_key_pem: Option<String>,
    /// Restricts the accepted algorithms (default: every algorithm the keys support).
    pub algorithms: Option<Vec<Algorithm>>,
    /// Registered-claims policy (issuer, audience, require_exp, leeway).
    pub claims: ClaimsPolicy,
    /// Largest accepted token in bytes.
    pub max_token_bytes: usize,
    /// Verified-token cache capacity (0 disables the cache).
    pub cache_capacity: u64,
    /// Longest a verified token is trusted from the cache.
    pub cache_max_ttl: Duration,
    /// Provider-specific public paths.
    pub public: PatternList,
    /// Provider-specific protected paths.
    pub protected: PatternList,
}

impl std::fmt::Debug for JwtProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtProviderConfig")
            .field("name", &self.name)
            .field("secret", &self.secret)
            .field("public_key_pem", &self.public_key_pem.is_some())
            .field("algorithms", &self.algorithms)
            .field("claims", &self.claims)
            .field("max_token_bytes", &self.max_token_bytes)
            .finish_non_exhaustive()
    }
}

impl Default for JwtProviderConfig {
    fn default() -> Self {
        Self {
            name: "jwt".into(),
            secret: None,
            public_key_pem: None,
            algorithms: None,
            claims: ClaimsPolicy::default(),
            max_token_bytes: jwt::DEFAULT_MAX_TOKEN_BYTES,
            cache_capacity: DEFAULT_CAPACITY,
            cache_max_ttl: DEFAULT_MAX_TTL,
            public: PatternList::default(),
            protected: PatternList::default(),
        }
    }
}

impl JwtProviderConfig {
    /// A config with just an HMAC secret.
    pub fn with_secret(secret: impl Into<String>) -> Self {
        Self {
            secret: Some(Secret::new(secret)),
            ..Self::default()
        }
    }

    /// Fills an unset `secret` through `lookup` from the first non-empty variable of
    /// [`SECRET_ENV_VARS`] (`MASTRA_JWT_SECRET`, then `JWT_AUTH_SECRET`); a set secret wins.
    pub fn fill_from_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        fill_secret(&mut self.secret, &lookup, &SECRET_ENV_VARS);
    }
}

/// Why a JWT provider could not be built. Each message begins with the name of the field at fault, so an application can put its own path (a config key) in front.
#[derive(Debug, thiserror::Error)]
pub enum JwtConfigError {
    /// Neither a secret nor a public key.
    #[error(
        "secret (or MASTRA_JWT_SECRET / JWT_AUTH_SECRET) or public_key_pem is required: the provider needs a key"
    )]
    NoKey,
    /// Secret too short.
    #[error(
        "secret (MASTRA_JWT_SECRET / JWT_AUTH_SECRET) is {0} bytes; use at least {MIN_SECRET_BYTES} random bytes, e.g. `openssl rand -hex 32`"
    )]
    ShortSecret(usize),
    /// The PEM is not an RSA, EC or Ed25519 public key.
    #[error("public_key_pem is not a PEM RSA, EC (P-256/P-384) or Ed25519 public key: {0}")]
    BadPublicKey(String),
    /// RSA modulus too small.
    #[error("public_key_pem is a {0}-bit RSA key; at least 2048 bits are required")]
    WeakRsaKey(usize),
    /// `algorithms` lists something no configured key can verify.
    #[error("algorithms lists {0:?}, which no configured key can verify")]
    AlgorithmWithoutKey(String),
}

/// The `jwt` provider.
pub struct JwtProvider {
    name: Arc<str>,
    keys: Vec<VerifyKey>,
    /// `keys`, made ready for the crypto backend once (index for index).
    prepared: Vec<PreparedKey>,
    claims: ClaimsPolicy,
    max_token_bytes: usize,
    cache: Option<VerifiedTokenCache>,
    public: PatternList,
    protected: PatternList,
}

impl std::fmt::Debug for JwtProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtProvider")
            .field("name", &self.name)
            .field("keys", &self.keys)
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

impl JwtProvider {
    /// Builds the provider, refusing weak or unusable keys.
    pub fn new(cfg: JwtProviderConfig) -> Result<Self, JwtConfigError> {
        let mut keys = Vec::new();
        if let Some(secret) = cfg.secret.as_ref().map(Secret::expose) {
            if secret.len() < MIN_SECRET_BYTES {
                return Err(JwtConfigError::ShortSecret(secret.len()));
            }
            keys.push(VerifyKey {
                kid: None,
                algorithms: HMAC_ALGS.to_vec(),
                key: DecodingKey::from_secret(secret.as_bytes()),
            });
        }
        if let Some(pem) = &cfg.public_key_pem {
            keys.push(public_key_from_pem(pem.as_bytes())?);
        }
        if keys.is_empty() {
            return Err(JwtConfigError::NoKey);
        }
        if let Some(allowed) = &cfg.algorithms {
            for a in allowed {
                if !keys.iter().any(|k| k.algorithms.contains(a)) {
                    return Err(JwtConfigError::AlgorithmWithoutKey(format!("{a:?}")));
                }
            }
            for k in &mut keys {
                k.algorithms.retain(|a| allowed.contains(a));
            }
            keys.retain(|k| !k.algorithms.is_empty());
        }
        Ok(Self {
            name: cfg.name.into(),
            prepared: jwt::prepare(&keys),
            keys,
            claims: cfg.claims,
            max_token_bytes: cfg.max_token_bytes,
            cache: (cfg.cache_capacity > 0)
                .then(|| VerifiedTokenCache::for_jws(cfg.cache_capacity, cfg.cache_max_ttl)),
            public: cfg.public,
            protected: cfg.protected,
        })
    }

    /// Verifies a token and returns the user, or the precise reason it was refused.
    pub fn verify(&self, token: &str) -> Result<Arc<User>, Rejection> {
        let now = jwt::now_secs();
        let slot = CacheSlot::new(self.cache.as_ref(), token);
        if let Some(user) = slot.get(now, self.claims.leeway) {
            return Ok(user);
        }
        let (claims, exp) = jwt::verify_prepared(
            token,
            &self.keys,
            &self.prepared,
            &self.claims,
            self.max_token_bytes,
            now,
        )?;
        let user = Arc::new(User::from_claims(claims, self.name.clone()));
        slot.insert(user.clone(), exp);
        Ok(user)
    }

    /// The verification keys with their bound algorithms.
    pub fn keys(&self) -> &[VerifyKey] {
        &self.keys
    }
}

/// Classifies a PEM public key and binds it to the algorithms of its type.
pub fn public_key_from_pem(pem: &[u8]) -> Result<VerifyKey, JwtConfigError> {
    if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        let modulus = key
            .try_get_as_bytes()
            .ok()
            .and_then(rsa_modulus)
            .ok_or_else(|| JwtConfigError::BadPublicKey("unreadable RSA key".into()))?;
        crate::weak_keys::check_rsa_modulus(modulus)
            .map_err(|short| JwtConfigError::WeakRsaKey(short.bits))?;
        return Ok(VerifyKey {
            kid: None,
            algorithms: jwt::RSA_ALGORITHMS.to_vec(),
            key,
        });
    }
    if let Ok(key) = DecodingKey::from_ec_pem(pem) {
        let point_len = key.try_get_as_bytes().map(<[u8]>::len).unwrap_or(0);
        let alg = match point_len {
            65 => Algorithm::ES256,
            97 => Algorithm::ES384,
            n => {
                return Err(JwtConfigError::BadPublicKey(format!(
                    "unsupported EC curve (public point of {n} bytes)"
                )));
            }
        };
        return Ok(VerifyKey {
            kid: None,
            algorithms: vec![alg],
            key,
        });
    }
    match DecodingKey::from_ed_pem(pem) {
        Ok(key)
            if key
                .try_get_as_bytes()
                .ok()
                .is_none_or(crate::weak_keys::ed25519_key_is_small_order) =>
        {
            Err(JwtConfigError::BadPublicKey(
                "Ed25519 public key of small order (verifies forgeries)".into(),
            ))
        }
        Ok(key) => Ok(VerifyKey {
            kid: None,
            algorithms: vec![Algorithm::EdDSA],
            key,
        }),
        Err(e) => Err(JwtConfigError::BadPublicKey(e.to_string())),
    }
}

/// The modulus of a PKCS#1 `RSAPublicKey` DER (`SEQUENCE { INTEGER n, INTEGER e }`), as its
/// INTEGER's content bytes (leading zeros included).
fn rsa_modulus(der: &[u8]) -> Option<&[u8]> {
    fn read_len(b: &[u8]) -> Option<(usize, &[u8])> {
        let (&first, rest) = b.split_first()?;
        if first < 0x80 {
            return Some((first as usize, rest));
        }
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &x| (acc << 8) | x as usize);
        Some((len, &rest[n..]))
    }
    let (&tag, rest) = der.split_first()?;
    if tag != 0x30 {
        return None;
    }
    let (_, rest) = read_len(rest)?;
    let (&tag, rest) = rest.split_first()?;
    if tag != 0x02 {
        return None;
    }
    let (len, rest) = read_len(rest)?;
    rest.get(..len)
}

impl AuthProvider for JwtProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn authenticate<'a>(&'a self, token: &'a str, _parts: &'a Parts) -> Verdict<'a, Option<User>> {
        // Keys are local: verification never waits on I/O.
        Verdict::Ready(
            self.verify(token)
                .map(|u| Some((*u).clone()))
                .map_err(AuthError::InvalidToken),
        )
    }

    fn public(&self) -> PatternList {
        self.public.clone()
    }

    fn protected(&self) -> PatternList {
        self.protected.clone()
    }

    fn issuers(&self) -> &[String] {
        &self.claims.issuers
    }
}
