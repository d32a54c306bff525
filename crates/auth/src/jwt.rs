//! Strict JSON Web Token verification.
//!
//! Everything that can be refused without crypto is refused first: size, shape, non-canonical
//! base64url, `alg: none`, `crit`, unknown algorithms, duplicate JSON members. The algorithm is
//! bound to the key ([`VerifyKey`]) and never taken from the token alone. Claims are typed
//! strictly and checked here, not by `jsonwebtoken`'s defaults (which do not require issuer or
//! audience).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::{hmac, signature as aws_sig};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
pub use jsonwebtoken::Algorithm;
use jsonwebtoken::{DecodingKey, DecodingKeyKind};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

/// Default upper bound on the size of a token; a larger one is refused before any decoding.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Default clock-skew allowance for `exp`/`nbf`/`iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// Why a token was refused. `Display` is precise enough for `mastra token verify` and logs and
/// never includes the token itself.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejection {
    /// Larger than the configured limit.
    #[error("token is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Token size.
        size: usize,
        /// Configured limit.
        limit: usize,
    },
    /// Not three dot-separated parts, empty parts, bad base64url or bad JSON.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// `alg` is `none` (in any casing).
    #[error("unsigned token (alg \"none\") refused")]
    AlgNone,
    /// `alg` names an algorithm we do not implement.
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The token's algorithm is not one the configured keys accept.
    #[error("algorithm {0:?} is not accepted by any configured key")]
    AlgorithmNotAllowed(String),
    /// The header carries `crit` (or `b64`), whose extensions we do not understand.
    #[error("header parameter {0:?} is not supported")]
    UnsupportedHeader(&'static str),
    /// No configured key has the token's `kid`.
    #[error("no key with kid {0:?}")]
    UnknownKid(String),
    /// The signature does not verify with the key bound to the algorithm.
    #[error("signature does not verify")]
    BadSignature,
    /// `exp` is in the past (beyond leeway).
    #[error("token expired at {exp} (now {now}, leeway {leeway}s)")]
    Expired {
        /// The `exp` claim.
        exp: f64,
        /// Current time.
        now: u64,
        /// Leeway in seconds.
        leeway: u64,
    },
    /// `nbf` is in the future (beyond leeway).
    #[error("token not valid before {nbf} (now {now}, leeway {leeway}s)")]
    NotYetValid {
        /// The `nbf` claim.
        nbf: f64,
        /// Current time.
        now: u64,
        /// Leeway in seconds.
        leeway: u64,
    },
    /// `iat` is in the future (beyond leeway).
    #[error("token issued in the future at {iat} (now {now}, leeway {leeway}s)")]
    IssuedInFuture {
        /// The `iat` claim.
        iat: f64,
        /// Current time.
        now: u64,
        /// Leeway in seconds.
        leeway: u64,
    },
    /// A claim is present with the wrong JSON type.
    #[error("claim {0:?} has the wrong type")]
    ClaimType(&'static str),
    /// A required claim is absent.
    #[error("required claim {0:?} is missing")]
    MissingClaim(&'static str),
    /// `iss` is not the configured issuer.
    #[error("issuer {found:?} is not the expected {expected:?}")]
    IssuerMismatch {
        /// The token's `iss`.
        found: String,
        /// The configured issuers.
        expected: Vec<String>,
    },
    /// `aud` does not contain the configured audience.
    #[error("audience {found:?} does not include any of {expected:?}")]
    AudienceMismatch {
        /// The token's `aud` values.
        found: Vec<String>,
        /// The configured audiences.
        expected: Vec<String>,
    },
    /// A provider-specific reason (azp, org, auth_time...).
    #[error("{0}")]
    Provider(String),
}

/// The header fields we act on. Others (`jku`, `x5u`, `jwk`, `x5c`, ...) are ignored: never used
/// to fetch or select a key.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The signing algorithm.
    pub alg: Algorithm,
    /// Key id, if any.
    pub kid: Option<String>,
    /// Media type, if any.
    pub typ: Option<String>,
}

/// A token split and decoded, not yet verified.
#[derive(Debug, Clone)]
pub struct ParsedToken<'a> {
    /// Decoded header.
    pub header: Header,
    /// Decoded payload (a JSON object).
    pub claims: Map<String, Value>,
    /// `base64url(header) "." base64url(payload)`, the signed bytes.
    pub signing_input: &'a str,
    /// The signature part, still base64url.
    pub signature: &'a str,
}

/// Splits and decodes a compact JWS, refusing everything malformed before any crypto.
pub fn parse(token: &str, max_bytes: usize) -> Result<ParsedToken<'_>, Rejection> {
    if token.len() > max_bytes {
        return Err(Rejection::TooLarge {
            size: token.len(),
            limit: max_bytes,
        });
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        let n = token.split('.').count();
        return Err(Rejection::Malformed(format!(
            "expected 3 dot-separated parts, found {n}"
        )));
    };
    if h.is_empty() || p.is_empty() {
        return Err(Rejection::Malformed("empty header or payload".into()));
    }
    if s.is_empty() {
        return Err(Rejection::Malformed("empty signature".into()));
    }
    let header_json = b64(h, "header")?;
    let payload_json = b64(p, "payload")?;
    let sig = b64(s, "signature")?;
    if sig.is_empty() {
        return Err(Rejection::Malformed("empty signature".into()));
    }
    let header = parse_header(&header_json)?;
    let claims = json_object(&payload_json, "payload")?;
    Ok(ParsedToken {
        header,
        claims,
        signing_input: &token[..h.len() + 1 + p.len()],
        signature: s,
    })
}

fn b64(part: &str, what: &str) -> Result<Vec<u8>, Rejection> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| Rejection::Malformed(format!("{what} is not canonical unpadded base64url")))
}

fn parse_header(bytes: &[u8]) -> Result<Header, Rejection> {
    let map = json_object(bytes, "header")?;
    if map.contains_key("crit") {
        return Err(Rejection::UnsupportedHeader("crit"));
    }
    if map.contains_key("b64") {
        return Err(Rejection::UnsupportedHeader("b64"));
    }
    let alg = match map.get("alg") {
        Some(Value::String(a)) => a,
        Some(_) => {
            return Err(Rejection::Malformed(
                "header \"alg\" is not a string".into(),
            ));
        }
        None => return Err(Rejection::Malformed("header has no \"alg\"".into())),
    };
    if alg.eq_ignore_ascii_case("none") {
        return Err(Rejection::AlgNone);
    }
    let alg = alg_from_name(alg).ok_or_else(|| Rejection::UnsupportedAlgorithm(alg.clone()))?;
    let opt_str = |k: &str| -> Result<Option<String>, Rejection> {
        match map.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Rejection::Malformed(format!(
                "header {k:?} is not a string"
            ))),
        }
    };
    Ok(Header {
        alg,
        kid: opt_str("kid")?,
        typ: opt_str("typ")?,
    })
}

/// Algorithm from its JOSE name (exact case, as RFC 7518 spells it).
pub fn alg_from_name(name: &str) -> Option<Algorithm> {
    Some(match name {
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        _ => return None,
    })
}

/// Parses a JSON object, refusing duplicate top-level members (ambiguous between parsers).
fn json_object(bytes: &[u8], what: &str) -> Result<Map<String, Value>, Rejection> {
    struct NoDup;
    impl<'de> Visitor<'de> for NoDup {
        type Value = Map<String, Value>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            let mut map = Map::new();
            while let Some((k, v)) = access.next_entry::<String, Value>()? {
                if map.contains_key(&k) {
                    return Err(serde::de::Error::custom(format!("duplicate member {k:?}")));
                }
                map.insert(k, v);
            }
            Ok(map)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let map = (&mut de)
        .deserialize_map(NoDup)
        .and_then(|m| de.end().map(|()| m))
        .map_err(|e| Rejection::Malformed(format!("{what} is not a valid JSON object: {e}")))?;
    Ok(map)
}

/// The RSA algorithms (PKCS#1 v1.5 and PSS), all verified with the same kind of key.
pub const RSA_ALGORITHMS: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// A verification key with the algorithms it may be used with: the algorithm is bound to the key,
/// never taken from the token alone.
#[derive(Clone)]
pub struct VerifyKey {
    /// Key id; `None` matches any `kid` (a configured secret or PEM key).
    pub kid: Option<String>,
    /// Algorithms this key verifies.
    pub algorithms: Vec<Algorithm>,
    /// The key itself.
    pub key: DecodingKey,
}

impl fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyKey")
            .field("kid", &self.kid)
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

/// A [`VerifyKey`] made ready for the crypto backend once, when the key is loaded (keys are
/// parsed once per key-set refresh, never per request): the HMAC key schedule, or the parsed
/// public key (RSA with its Montgomery context, the EC point checked on the curve), for each
/// algorithm the key is bound to. `jsonwebtoken::crypto::verify` rebuilds these from the key
/// bytes on every call.
///
/// Verifying with it checks exactly what `jsonwebtoken::crypto::verify` checks, on the same
/// aws-lc-rs algorithms (RSA 2048–8192 bits, fixed-size ECDSA signatures); an algorithm whose
/// key could not be prepared falls back to `jsonwebtoken::crypto::verify`.
pub struct PreparedKey {
    ready: Vec<(Algorithm, Ready)>,
}

enum Ready {
    Hmac(Box<hmac::Key>),
    Public(aws_sig::ParsedPublicKey),
}

impl fmt::Debug for PreparedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let algs: Vec<Algorithm> = self.ready.iter().map(|(a, _)| *a).collect();
        f.debug_struct("PreparedKey")
            .field("algorithms", &algs)
            .finish()
    }
}

impl PreparedKey {
    /// Prepares `key` for each of its algorithms.
    pub fn new(key: &VerifyKey) -> PreparedKey {
        PreparedKey {
            ready: key
                .algorithms
                .iter()
                .filter_map(|&alg| prepare_one(&key.key, alg).map(|r| (alg, r)))
                .collect(),
        }
    }

    fn get(&self, alg: Algorithm) -> Option<&Ready> {
        self.ready.iter().find(|(a, _)| *a == alg).map(|(_, r)| r)
    }
}

/// Prepares every key of a set, in order (index `i` belongs to `keys[i]`).
pub fn prepare(keys: &[VerifyKey]) -> Vec<PreparedKey> {
    keys.iter().map(PreparedKey::new).collect()
}

fn prepare_one(key: &DecodingKey, alg: Algorithm) -> Option<Ready> {
    // As jsonwebtoken: a key of another family never verifies (left to its own refusal).
    if key.family() != alg.family() {
        return None;
    }
    let hmac_alg = match alg {
        Algorithm::HS256 => Some(hmac::HMAC_SHA256),
        Algorithm::HS384 => Some(hmac::HMAC_SHA384),
        Algorithm::HS512 => Some(hmac::HMAC_SHA512),
        _ => None,
    };
    if let Some(h) = hmac_alg {
        let secret = key.try_get_as_bytes().ok()?;
        return Some(Ready::Hmac(Box::new(hmac::Key::new(h, secret))));
    }
    // The verification algorithms jsonwebtoken's aws-lc-rs backend uses for each JWS algorithm.
    let rsa: Option<&'static aws_sig::RsaParameters> = match alg {
        Algorithm::RS256 => Some(&aws_sig::RSA_PKCS1_2048_8192_SHA256),
        Algorithm::RS384 => Some(&aws_sig::RSA_PKCS1_2048_8192_SHA384),
        Algorithm::RS512 => Some(&aws_sig::RSA_PKCS1_2048_8192_SHA512),
        Algorithm::PS256 => Some(&aws_sig::RSA_PSS_2048_8192_SHA256),
        Algorithm::PS384 => Some(&aws_sig::RSA_PSS_2048_8192_SHA384),
        Algorithm::PS512 => Some(&aws_sig::RSA_PSS_2048_8192_SHA512),
        _ => None,
    };
    let parsed = match (rsa, key.kind()) {
        (Some(params), DecodingKeyKind::RsaModulusExponent { n, e }) => {
            aws_sig::RsaPublicKeyComponents { n, e }.to_parsed_public_key(params)
        }
        (Some(params), DecodingKeyKind::SecretOrDer(der)) => {
            aws_sig::ParsedPublicKey::new(params, der)
        }
        (None, DecodingKeyKind::SecretOrDer(bytes)) => {
            let other: &'static dyn aws_sig::VerificationAlgorithm = match alg {
                Algorithm::ES256 => &aws_sig::ECDSA_P256_SHA256_FIXED,
                Algorithm::ES384 => &aws_sig::ECDSA_P384_SHA384_FIXED,
                Algorithm::EdDSA => &aws_sig::ED25519,
                _ => return None,
            };
            aws_sig::ParsedPublicKey::new(other, bytes)
        }
        (None, DecodingKeyKind::RsaModulusExponent { .. }) => return None,
    };
    parsed.ok().map(Ready::Public)
}

/// One signature check with key `k` (prepared when `prepared` is given).
fn check_one(
    token: &ParsedToken<'_>,
    k: &VerifyKey,
    prepared: Option<&PreparedKey>,
    alg: Algorithm,
) -> bool {
    let message = token.signing_input.as_bytes();
    match prepared.and_then(|p| p.get(alg)) {
        Some(ready) => {
            // Canonical base64url was checked by `parse`; a failure here is simply no match.
            let Ok(sig) = URL_SAFE_NO_PAD.decode(token.signature) else {
                return false;
            };
            match ready {
                Ready::Hmac(key) => hmac::verify(key, message, &sig).is_ok(),
                Ready::Public(key) => key.verify_sig(message, &sig).is_ok(),
            }
        }
        None => matches!(
            jsonwebtoken::crypto::verify(token.signature, message, &k.key, alg),
            Ok(true)
        ),
    }
}

/// Verifies the signature of a parsed token against the keys, binding algorithm to key.
pub fn verify_signature(token: &ParsedToken<'_>, keys: &[VerifyKey]) -> Result<(), Rejection> {
    verify_signature_prepared(token, keys, &[])
}

/// [`verify_signature`] with the keys' [`PreparedKey`]s (`prepared[i]` belongs to `keys[i]`;
/// missing entries fall back to `jsonwebtoken::crypto::verify`).
// Not inlined with the `profiling` feature: bench/profile-auth.sh measures the pipeline against
// this frame.
#[cfg_attr(feature = "profiling", inline(never))]
pub fn verify_signature_prepared(
    token: &ParsedToken<'_>,
    keys: &[VerifyKey],
    prepared: &[PreparedKey],
) -> Result<(), Rejection> {
    let alg = token.header.alg;
    let mut alg_ok = false;
    let mut kid_ok = token.header.kid.is_none();
    for (i, k) in keys.iter().enumerate() {
        if let (Some(want), Some(have)) = (&token.header.kid, &k.kid)
            && want != have
        {
            continue;
        }
        kid_ok = true;
        if !k.algorithms.contains(&alg) {
            continue;
        }
        alg_ok = true;
        if check_one(token, k, prepared.get(i), alg) {
            return Ok(());
        }
    }
    if !kid_ok {
        return Err(Rejection::UnknownKid(
            token.header.kid.clone().unwrap_or_default(),
        ));
    }
    if !alg_ok {
        return Err(Rejection::AlgorithmNotAllowed(format!("{alg:?}")));
    }
    Err(Rejection::BadSignature)
}

/// What the claims must satisfy.
#[derive(Debug, Clone)]
pub struct ClaimsPolicy {
    /// Accepted issuers; empty = not checked (but `iss` must still be a string if present).
    pub issuers: Vec<String>,
    /// Accepted audiences; empty = not checked (but `aud` must still be well-typed if present).
    pub audiences: Vec<String>,
    /// Whether `exp` must be present.
    pub require_exp: bool,
    /// Clock-skew allowance.
    pub leeway: Duration,
}

impl Default for ClaimsPolicy {
    fn default() -> Self {
        Self {
            issuers: Vec::new(),
            audiences: Vec::new(),
            require_exp: false,
            leeway: DEFAULT_LEEWAY,
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn numeric(claims: &Map<String, Value>, name: &'static str) -> Result<Option<f64>, Rejection> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if f.is_finite() => Ok(Some(f)),
            _ => Err(Rejection::ClaimType(name)),
        },
        Some(_) => Err(Rejection::ClaimType(name)),
    }
}

/// Checks the registered claims against the policy at time `now`. Returns `exp` if present.
pub fn check_claims(
    claims: &Map<String, Value>,
    policy: &ClaimsPolicy,
    now: u64,
) -> Result<Option<f64>, Rejection> {
    let leeway = policy.leeway.as_secs();
    let (nowf, leewayf) = (now as f64, leeway as f64);
    let exp = numeric(claims, "exp")?;
    let nbf = numeric(claims, "nbf")?;
    let iat = numeric(claims, "iat")?;
    match exp {
        Some(exp) if exp + leewayf < nowf => return Err(Rejection::Expired { exp, now, leeway }),
        None if policy.require_exp => return Err(Rejection::MissingClaim("exp")),
        _ => {}
    }
    if let Some(nbf) = nbf
        && nbf > nowf + leewayf
    {
        return Err(Rejection::NotYetValid { nbf, now, leeway });
    }
    if let Some(iat) = iat
        && iat > nowf + leewayf
    {
        return Err(Rejection::IssuedInFuture { iat, now, leeway });
    }
    if let Some(sub) = claims.get("sub")
        && !sub.is_string()
    {
        return Err(Rejection::ClaimType("sub"));
    }
    let iss = match claims.get("iss") {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err(Rejection::ClaimType("iss")),
    };
    if !policy.issuers.is_empty() {
        let iss = iss.ok_or(Rejection::MissingClaim("iss"))?;
        if !policy.issuers.iter().any(|i| i == iss) {
            return Err(Rejection::IssuerMismatch {
                found: iss.clone(),
                expected: policy.issuers.clone(),
            });
        }
    }
    let aud: Option<Vec<&str>> = match claims.get("aud") {
        None => None,
        Some(Value::String(s)) => Some(vec![s.as_str()]),
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|v| v.as_str().ok_or(Rejection::ClaimType("aud")))
                .collect::<Result<_, _>>()?,
        ),
        Some(_) => return Err(Rejection::ClaimType("aud")),
    };
    if !policy.audiences.is_empty() {
        let aud = aud.ok_or(Rejection::MissingClaim("aud"))?;
        if !aud.iter().any(|a| policy.audiences.iter().any(|p| p == a)) {
            return Err(Rejection::AudienceMismatch {
                found: aud.iter().map(|s| s.to_string()).collect(),
                expected: policy.audiences.clone(),
            });
        }
    }
    Ok(exp)
}

/// Parses, verifies the signature, then checks the claims: the whole verification.
pub fn verify(
    token: &str,
    keys: &[VerifyKey],
    policy: &ClaimsPolicy,
    max_bytes: usize,
    now: u64,
) -> Result<(Map<String, Value>, Option<f64>), Rejection> {
    verify_prepared(token, keys, &[], policy, max_bytes, now)
}

/// [`verify`] with the keys' [`PreparedKey`]s (see [`verify_signature_prepared`]).
pub fn verify_prepared(
    token: &str,
    keys: &[VerifyKey],
    prepared: &[PreparedKey],
    policy: &ClaimsPolicy,
    max_bytes: usize,
    now: u64,
) -> Result<(Map<String, Value>, Option<f64>), Rejection> {
    let parsed = parse(token, max_bytes)?;
    verify_signature_prepared(&parsed, keys, prepared)?;
    let exp = check_claims(&parsed.claims, policy, now)?;
    Ok((parsed.claims, exp))
}
