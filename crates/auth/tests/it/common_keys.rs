//! Test helpers shared by the auth integration tests: fixture keys and token minting.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::Value;

/// A 32+ byte HMAC secret.
pub const SECRET: &str = "0123456789abcdef0123456789abcdef-test-secret";

/// A fixture file's text.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Now, in seconds.
pub fn now() -> i64 {
    mastra_auth::jwt::now_secs() as i64
}

/// Signs claims with the fixture private key for `alg`.
pub fn sign(alg: Algorithm, claims: &Value) -> String {
    sign_kid(alg, claims, None)
}

/// Signs with a `kid` header.
pub fn sign_kid(alg: Algorithm, claims: &Value, kid: Option<&str>) -> String {
    let key = match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            EncodingKey::from_secret(SECRET.as_bytes())
        }
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => EncodingKey::from_rsa_pem(fixture("rsa2048.key").as_bytes()).unwrap(),
        Algorithm::ES256 => EncodingKey::from_ec_pem(fixture("p256.key").as_bytes()).unwrap(),
        Algorithm::ES384 => EncodingKey::from_ec_pem(fixture("p384.key").as_bytes()).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(fixture("ed25519.key").as_bytes()).unwrap(),
        _ => unreachable!(),
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, &key).unwrap()
}

/// Builds a token from raw header and payload JSON with an HMAC signature over them.
pub fn raw_hs256(header: &str, payload: &str) -> String {
    use base64::Engine;
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let input = format!("{}.{}", e.encode(header), e.encode(payload));
    let sig = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap();
    format!("{input}.{sig}")
}
