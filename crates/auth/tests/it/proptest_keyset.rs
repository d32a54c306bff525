//! Property tests over the key-document parsers (`keyset::parse_jwks`, `keyset::parse_x509_map`):
//! key documents come from the network, so any JSON must be handled without panicking, and
//! whatever loads obeys the key-binding rules (never a symmetric key, never a key whose
//! `use`/`key_ops`/`alg` says otherwise, algorithms that fit the key type).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use mastra_auth::keyset::{parse_jwks, parse_x509_map};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Cases per property: `PROPTEST_CASES` for long runs, else a count that keeps `cargo test` fast.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn b64_bytes() -> impl Strategy<Value = Value> {
    prop_oneof![
        // Sizes that matter: P-256/P-384 coordinates, Ed25519 keys, RSA moduli around 2048 bits.
        prop::sample::select(vec![0usize, 1, 31, 32, 33, 47, 48, 49, 255, 256, 257, 512])
            .prop_flat_map(|n| prop::collection::vec(any::<u8>(), n..=n))
            .prop_map(|b| json!(URL_SAFE_NO_PAD.encode(b))),
        Just(json!("AQAB")),
        Just(json!("AQ")),
        Just(json!("AA")),
        Just(json!("AQAB==")),
        Just(json!("+/+/")),
        Just(json!(1)),
        Just(Value::Null),
    ]
}

fn member_str(options: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::sample::select(options).prop_map(|s| json!(s)),
        1 => "[ -~]{0,6}".prop_map(|s| json!(s)),
        1 => Just(json!(5)),
        1 => Just(json!(["sig"])),
    ]
}

/// A JWK-shaped object with members of plausible and implausible values.
fn jwk() -> impl Strategy<Value = Value> {
    let members = (
        prop::option::of(member_str(&["RSA", "EC", "OKP", "oct", "rsa", "DSA"])),
        prop::option::of(member_str(&[
            "P-256",
            "P-384",
            "P-521",
            "Ed25519",
            "X25519",
            "secp256k1",
        ])),
        prop::option::of(member_str(&[
            "RS256", "PS256", "ES256", "ES384", "EdDSA", "Ed25519", "HS256", "none", "ES512",
        ])),
        prop::option::of(member_str(&["sig", "enc"])),
        prop::option::of(prop_oneof![
            Just(json!(["verify"])),
            Just(json!(["encrypt"])),
            Just(json!([])),
            Just(json!("verify")),
        ]),
        prop::option::of(member_str(&["k1", "", "../k"])),
        prop::collection::btree_map(
            prop::sample::select(vec!["n", "e", "x", "y", "k", "d"]),
            b64_bytes(),
            0..5,
        ),
    );
    members.prop_map(|(kty, crv, alg, use_, ops, kid, material)| {
        let mut m = Map::new();
        for (k, v) in [
            ("kty", kty),
            ("crv", crv),
            ("alg", alg),
            ("use", use_),
            ("key_ops", ops),
            ("kid", kid),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        }
        for (k, v) in material {
            m.insert(k.into(), v);
        }
        Value::Object(m)
    })
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[ -~]{0,10}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 20, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn type_algorithms(kty: &str) -> Vec<Algorithm> {
    match kty {
        "RSA" => vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        "EC" => vec![Algorithm::ES256, Algorithm::ES384],
        "OKP" => vec![Algorithm::EdDSA],
        _ => vec![],
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(1024), ..ProptestConfig::default() })]

    /// JWK Sets of generated keys: no panic; every loaded key fits the rules.
    #[test]
    fn jwks_documents_load_only_well_bound_keys(keys in prop::collection::vec(jwk(), 0..6)) {
        let doc = json!({ "keys": keys });
        let parsed = parse_jwks(&doc, None).unwrap();
        prop_assert_eq!(parsed.keys.len() + parsed.skipped.len(), keys.len());
        let mut loaded = 0;
        for jwk in &keys {
            let alone = parse_jwks(&json!({"keys": [jwk]}), None).unwrap();
            let Some(key) = alone.keys.first() else {
                continue;
            };
            loaded += 1;
            let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
            let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or_default();
            prop_assert!(kty != "oct", "symmetric key loaded");
            prop_assert!(!key.algorithms.is_empty());
            let allowed = type_algorithms(kty);
            prop_assert!(
                key.algorithms.iter().all(|a| allowed.contains(a)),
                "{:?} for {}", key.algorithms, kty
            );
            if let Some(u) = jwk.get("use") {
                prop_assert_eq!(u, &json!("sig"));
            }
            if let Some(ops) = jwk.get("key_ops") {
                prop_assert!(ops.as_array().is_some_and(|o| o.contains(&json!("verify"))));
            }
            if let Some(alg) = jwk.get("alg") {
                prop_assert_eq!(key.algorithms.len(), 1);
                let name = alg.as_str().unwrap();
                let expect = if name == "Ed25519" { "EdDSA" } else { name };
                prop_assert_eq!(format!("{:?}", key.algorithms[0]), expect);
            }
            prop_assert_eq!(&key.kid, &kid);
            if kty == "RSA" {
                let n = URL_SAFE_NO_PAD
                    .decode(jwk["n"].as_str().unwrap().trim_end_matches('='))
                    .unwrap();
                let n: Vec<u8> = n.into_iter().skip_while(|&b| b == 0).collect();
                let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
                prop_assert!(bits >= 2048, "{}-bit RSA key loaded", bits);
            }
        }
        prop_assert_eq!(loaded, parsed.keys.len());
        // An allow-list restricts, never widens.
        let only = parse_jwks(&doc, Some(&[Algorithm::ES256])).unwrap();
        prop_assert!(only.keys.iter().all(|k| k.algorithms == vec![Algorithm::ES256]));
    }

    /// Any JSON as a JWK Set or as a certificate map: no panic, and a document that is not of
    /// the format is an error, not a silent empty set.
    #[test]
    fn arbitrary_documents_never_panic(doc in any_json(), cert in "[ -~\n]{0,200}") {
        let jwks = parse_jwks(&doc, None);
        if !doc.get("keys").is_some_and(Value::is_array) {
            prop_assert!(jwks.is_err());
        }
        let map = parse_x509_map(&doc, None);
        prop_assert_eq!(map.is_ok(), doc.is_object());
        let pem = format!("-----BEGIN CERTIFICATE-----\n{cert}\n-----END CERTIFICATE-----\n");
        let parsed = parse_x509_map(&json!({"k": pem, "raw": cert}), None).unwrap();
        prop_assert_eq!(parsed.keys.len() + parsed.skipped.len(), 2);
    }
}
