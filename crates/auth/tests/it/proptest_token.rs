//! Property tests over the token parser, signature binding and claims validation (the stable
//! counterpart of the `token` cargo-fuzz target in `crates/auth/fuzz`): nothing panics on any
//! input, nothing verifies unless the holder of the key signed exactly those bytes, and
//! `check_claims` agrees with an exact reference on generated numeric dates.

use std::time::Duration;

use crate::common_keys;
use crate::common_keys::{SECRET, fixture};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use mastra_auth::jwt::{self, ClaimsPolicy, Rejection, VerifyKey};
use mastra_auth::providers::jwt::{JwtProvider, JwtProviderConfig, public_key_from_pem};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn keys() -> Vec<VerifyKey> {
    let mut keys = vec![VerifyKey {
        kid: None,
        algorithms: vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512],
        key: DecodingKey::from_secret(SECRET.as_bytes()),
    }];
    for f in ["rsa2048.pub", "p256.pub", "ed25519.pub"] {
        keys.push(public_key_from_pem(fixture(f).as_bytes()).unwrap());
    }
    keys
}

fn b64(b: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

/// Arbitrary JSON, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
        Just(json!("none")),
        Just(json!("HS256")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A header: usually a real-looking one, sometimes anything.
fn header() -> impl Strategy<Value = String> {
    let alg = prop_oneof![
        Just("HS256".to_owned()),
        Just("HS384".to_owned()),
        Just("HS512".to_owned()),
        Just("RS256".to_owned()),
        Just("ES256".to_owned()),
        Just("EdDSA".to_owned()),
        Just("none".to_owned()),
        Just("NONE".to_owned()),
        Just("ES512".to_owned()),
        "[A-Za-z0-9]{0,6}",
    ];
    let extra = prop::collection::btree_map(
        prop_oneof![
            Just("kid".to_owned()),
            Just("typ".to_owned()),
            Just("crit".to_owned()),
            Just("b64".to_owned()),
            Just("jku".to_owned()),
            Just("jwk".to_owned()),
            "[a-z]{1,3}",
        ],
        json_value(),
        0..3,
    );
    prop_oneof![
        4 => (alg, extra).prop_map(|(alg, extra)| {
            let mut h: Map<String, Value> = extra.into_iter().collect();
            h.insert("alg".into(), Value::from(alg));
            Value::Object(h).to_string()
        }),
        1 => json_value().prop_map(|v| v.to_string()),
        1 => "[ -~]{0,40}",
    ]
}

/// A payload: claims with registered names of any type, or anything at all.
fn payload() -> impl Strategy<Value = String> {
    let claims = prop::collection::btree_map(
        prop_oneof![
            Just("exp".to_owned()),
            Just("nbf".to_owned()),
            Just("iat".to_owned()),
            Just("iss".to_owned()),
            Just("aud".to_owned()),
            Just("sub".to_owned()),
            "[a-z]{1,4}",
        ],
        json_value(),
        0..6,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()).to_string());
    prop_oneof![4 => claims, 1 => json_value().prop_map(|v| v.to_string()), 1 => "[ -~]{0,40}"]
}

/// What happens to a correctly made token before it is presented.
#[derive(Debug, Clone)]
enum Mutation {
    None,
    /// Flip one bit of one byte of the token text.
    FlipBit(usize, u8),
    /// Insert a character.
    Insert(usize, char),
    /// Remove a character.
    Remove(usize),
    /// Replace the signature part with these bytes.
    Signature(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => Just(Mutation::None),
        2 => (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        1 => (any::<usize>(), prop_oneof![Just('='), Just('.'), Just('A'), Just('+'), Just(' ')])
            .prop_map(|(i, c)| Mutation::Insert(i, c)),
        1 => any::<usize>().prop_map(Mutation::Remove),
        1 => prop::collection::vec(any::<u8>(), 0..80).prop_map(Mutation::Signature),
    ]
}

fn apply(token: &str, m: &Mutation) -> String {
    let mut bytes = token.as_bytes().to_vec();
    match m {
        Mutation::None => {}
        Mutation::FlipBit(i, b) => {
            let i = i % bytes.len();
            bytes[i] ^= 1 << b;
        }
        Mutation::Insert(i, c) => {
            let i = i % (bytes.len() + 1);
            bytes.insert(i, *c as u8);
        }
        Mutation::Remove(i) => {
            let i = i % bytes.len();
            bytes.remove(i);
        }
        Mutation::Signature(sig) => {
            let (input, _) = token.rsplit_once('.').unwrap();
            return format!("{input}.{}", b64(sig));
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Cases per property: `PROPTEST_CASES` for long runs, else a count that keeps `cargo test` fast.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), ..ProptestConfig::default() })]

    /// Arbitrary bytes (as the text a header could carry) never panic and never verify.
    #[test]
    fn arbitrary_bytes_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let token = String::from_utf8_lossy(&bytes);
        let keys = keys();
        if let Ok(parsed) = jwt::parse(&token, jwt::DEFAULT_MAX_TOKEN_BYTES) {
            prop_assert!(jwt::verify_signature(&parsed, &keys).is_err());
        }
        let _ = jwt::verify(&token, &keys, &ClaimsPolicy::default(), 1 << 14, 1_700_000_000);
    }

    /// Three base64url-alphabet parts: the parser's happy shape, still never verifying.
    #[test]
    fn arbitrary_three_part_tokens_are_refused(
        h in "[A-Za-z0-9_-]{0,80}", p in "[A-Za-z0-9_-]{0,80}", s in "[A-Za-z0-9_=+/-]{0,120}"
    ) {
        let token = format!("{h}.{p}.{s}");
        prop_assert!(jwt::verify(&token, &keys(), &ClaimsPolicy::default(), 1 << 14, 0).is_err());
    }

    /// Tokens with arbitrary headers and payloads, signed with the right or a wrong HMAC secret
    /// and then possibly altered: a token verifies only when the right secret signed exactly
    /// what is presented, and then exactly when the claims pass.
    #[test]
    fn only_the_key_holders_exact_tokens_verify(
        header in header(),
        payload in payload(),
        right_key in any::<bool>(),
        wrong in "[a-z0-9]{32,40}",
        m in mutation(),
    ) {
        let secret = if right_key { SECRET.to_owned() } else { wrong };
        let input = format!("{}.{}", b64(&header), b64(&payload));
        // The HMAC algorithm the header names, if it names one; else sign HS256 anyway.
        let named = serde_json::from_str::<Value>(&header)
            .ok()
            .and_then(|h| h.get("alg").and_then(Value::as_str).and_then(jwt::alg_from_name))
            .filter(|a| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512));
        let alg = named.unwrap_or(Algorithm::HS256);
        let sig = jsonwebtoken::crypto::sign(
            input.as_bytes(),
            &EncodingKey::from_secret(secret.as_bytes()),
            alg,
        )
        .unwrap();
        let made = format!("{input}.{sig}");
        let token = apply(&made, &m);
        let now = 1_700_000_000;
        let result = jwt::verify(&token, &keys(), &ClaimsPolicy::default(), 1 << 14, now);
        if result.is_ok() {
            prop_assert!(right_key, "a token signed with a wrong secret verified");
            prop_assert_eq!(&token, &made, "an altered token verified ({:?})", m);
        }
        if right_key && token == made && named.is_some() {
            // Made by the key holder and presented as made: the outcome is the claims' (or the
            // header's) verdict, never a signature failure.
            if let Err(e) = &result {
                prop_assert!(
                    !matches!(e, Rejection::BadSignature),
                    "genuine token refused as forged"
                );
            }
        }
    }

    /// The jwt provider (with its verified-token cache) refuses what `jwt::verify` refuses, also
    /// when the genuine token is cached: its cache entry (keyed by the signature) serves no other
    /// token.
    #[test]
    fn provider_and_cache_agree_with_verify(
        payload in payload(),
        m in mutation(),
        warm in any::<bool>(),
    ) {
        let provider = JwtProvider::new(JwtProviderConfig::with_secret(SECRET)).unwrap();
        let made = common_keys::raw_hs256(r#"{"alg":"HS256"}"#, &payload);
        let token = apply(&made, &m);
        let now = jwt::now_secs();
        if warm {
            // Verified twice: cached (when it verifies at all).
            let _ = provider.verify(&made);
            let _ = provider.verify(&made);
        }
        let direct = jwt::verify(&token, &keys(), &ClaimsPolicy::default(), 1 << 14, now);
        let first = provider.verify(&token);
        let second = provider.verify(&token);
        prop_assert_eq!(direct.is_ok(), first.is_ok());
        prop_assert_eq!(first.is_ok(), second.is_ok());
    }

    /// `check_claims` on integer dates agrees with the exact rule (i128 arithmetic): expired iff
    /// exp + leeway < now; not yet valid iff nbf > now + leeway; same for iat.
    #[test]
    fn numeric_dates_match_the_exact_rule(
        exp in prop::option::of(-(1i64 << 53)..(1i64 << 53)),
        nbf in prop::option::of(-(1i64 << 53)..(1i64 << 53)),
        iat in prop::option::of(-(1i64 << 53)..(1i64 << 53)),
        near in prop::option::of((-100i64..100, 0usize..3)),
        now in 0u64..(1u64 << 40),
        leeway in 0u64..1000,
        require_exp in any::<bool>(),
    ) {
        let (mut exp, mut nbf, mut iat) = (exp, nbf, iat);
        // Half the time, put one date right around its boundary.
        if let Some((delta, which)) = near {
            let n = now as i64;
            let l = leeway as i64;
            match which {
                0 => exp = Some(n - l + delta),
                1 => nbf = Some(n + l + delta),
                _ => iat = Some(n + l + delta),
            }
        }
        let mut claims = Map::new();
        for (k, v) in [("exp", exp), ("nbf", nbf), ("iat", iat)] {
            if let Some(v) = v {
                claims.insert(k.into(), json!(v));
            }
        }
        let policy = ClaimsPolicy {
            require_exp,
            leeway: Duration::from_secs(leeway),
            ..Default::default()
        };
        let (now_i, l) = (now as i128, leeway as i128);
        let expect_ok = match exp {
            Some(e) => e as i128 + l >= now_i,
            None => !require_exp,
        } && nbf.is_none_or(|n| n as i128 <= now_i + l)
            && iat.is_none_or(|i| i as i128 <= now_i + l);
        let got = jwt::check_claims(&claims, &policy, now);
        prop_assert_eq!(got.is_ok(), expect_ok, "{:?} at {} leeway {}", claims, now, leeway);
        if let Ok(e) = got {
            prop_assert_eq!(e, exp.map(|e| e as f64));
        }
    }

    /// Any claim values: `check_claims` never panics, and accepting implies every configured
    /// requirement holds with the exact types.
    #[test]
    fn accepted_claims_satisfy_the_policy(
        claims in prop::collection::btree_map(
            prop_oneof![
                Just("exp".to_owned()), Just("nbf".to_owned()), Just("iat".to_owned()),
                Just("iss".to_owned()), Just("aud".to_owned()), Just("sub".to_owned()),
            ],
            prop_oneof![
                json_value(),
                Just(json!("https://issuer.test/")),
                Just(json!("api")),
                Just(json!(["x", "api"])),
                Just(json!(2_000_000_000u64)),
            ],
            0..6,
        ),
        now in prop_oneof![Just(0u64), Just(1_700_000_000u64), Just(u64::MAX), any::<u64>()],
    ) {
        let claims: Map<String, Value> = claims.into_iter().collect();
        let policy = ClaimsPolicy {
            issuers: vec!["https://issuer.test/".into()],
            audiences: vec!["api".into()],
            require_exp: true,
            leeway: Duration::from_secs(30),
        };
        let _ = jwt::check_claims(&claims, &ClaimsPolicy::default(), now);
        if jwt::check_claims(&claims, &policy, now).is_ok() {
            prop_assert_eq!(claims.get("iss"), Some(&json!("https://issuer.test/")));
            let aud_ok = match claims.get("aud") {
                Some(Value::String(a)) => a == "api",
                Some(Value::Array(a)) => {
                    a.iter().all(Value::is_string) && a.contains(&json!("api"))
                }
                _ => false,
            };
            prop_assert!(aud_ok);
            let exp = claims.get("exp").and_then(Value::as_f64);
            prop_assert!(exp.is_some_and(|e| e + 30.0 >= now as f64));
            prop_assert!(claims.get("sub").is_none_or(Value::is_string));
        }
    }
}
