//! Deterministic cost per operation: runs one case N times inside `measured`, for
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured*'`
//! (instructions / N = instructions per operation, unaffected by other load on the machine).
//! Without valgrind it prints the wall-clock time per operation.
//!
//! ```sh
//! cargo bench -p mastra-auth --bench instructions --no-run
//! B=$(ls -t target/release/deps/instructions-* | grep -v '\.d$' | head -1)
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured*' \
//!     --callgrind-out-file=/tmp/cg.out $B pipeline_hs256_repeated 20000
//! callgrind_annotate /tmp/cg.out | head -40
//! ```
//!
//! Cases: `pipeline_{no_auth,missing_token,hs256_repeated,hs256_unique,rs256_repeated,
//! rs256_unique,es256_unique}`, `verify_{hs256,rs256,es256}_{first,cached}`,
//! `raw_{hs256,rs256,es256}`, `list` (prints the cases).

mod common;

use std::hint::black_box;
use std::time::Instant;

use aws_lc_rs::{hmac, signature};
use axum::Router;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use jsonwebtoken::{Algorithm, DecodingKey};
use mastra_auth::Auth;
use mastra_auth::providers::{JwtProvider, JwtProviderConfig};
use tower::ServiceExt;

const CASES: &[&str] = &[
    "pipeline_no_auth",
    "pipeline_missing_token",
    "pipeline_hs256_repeated",
    "pipeline_hs256_unique",
    "pipeline_rs256_repeated",
    "pipeline_rs256_unique",
    "pipeline_es256_unique",
    "verify_hs256_first",
    "verify_hs256_cached",
    "verify_rs256_first",
    "verify_rs256_cached",
    "verify_es256_first",
    "verify_es256_cached",
    "raw_hs256",
    "raw_rs256",
    "raw_es256",
];

/// The measured loop: everything callgrind counts happens under this frame.
#[inline(never)]
fn measured(n: usize, f: &mut dyn FnMut(usize)) {
    for i in 0..n {
        f(i);
    }
}

fn signer(alg: &str) -> Signer {
    match alg {
        "hs256" => Signer::hs256(),
        "rs256" => Signer::asymmetric(Algorithm::RS256),
        "es256" => Signer::asymmetric(Algorithm::ES256),
        a => panic!("unknown algorithm {a}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let case = args.first().map(String::as_str).unwrap_or("list");
    if case == "list" {
        CASES.iter().for_each(|c| println!("{c}"));
        return;
    }
    let n: usize = args.get(1).map_or(10_000, |s| s.parse().expect("N"));
    let parts: Vec<&str> = case.split('_').collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let start;
    match parts.as_slice() {
        ["pipeline", rest @ ..] => {
            let (app, tokens): (Router, Vec<Option<String>>) = match rest {
                ["no", "auth"] => (router(None), vec![None]),
                ["missing", "token"] => {
                    let s = Signer::hs256();
                    let app = router(Some(
                        Auth::mastra_defaults(jwt_provider(&s, 10_000)).build(),
                    ));
                    (app, vec![None])
                }
                [alg, "repeated"] => {
                    let s = signer(alg);
                    let app = router(Some(
                        Auth::mastra_defaults(jwt_provider(&s, 10_000)).build(),
                    ));
                    (app, vec![Some(s.mint(0, false))])
                }
                [alg, "unique"] => {
                    let s = signer(alg);
                    let app = router(Some(
                        Auth::mastra_defaults(jwt_provider(&s, 10_000)).build(),
                    ));
                    let pool = s.mint_many(0, n as u64, false);
                    (app, pool.into_iter().map(Some).collect())
                }
                _ => panic!("unknown case {case}"),
            };
            let expect = if case.ends_with("missing_token") {
                401
            } else {
                200
            };
            // Two untimed calls first: lazy statics, the first allocation of each size class, and
            // a repeated token past the cache's doorkeeper (cached from its second verification).
            for _ in 0..2 {
                let first = rt.block_on(app.clone().oneshot(ping(tokens[0].as_deref())));
                assert_eq!(first.unwrap().status().as_u16(), expect);
            }
            start = Instant::now();
            measured(n, &mut |i| {
                let t = tokens[i % tokens.len()].as_deref();
                let res = rt.block_on(app.clone().oneshot(ping(t))).unwrap();
                black_box(res.status());
            });
        }
        ["verify", alg, mode] => {
            let s = signer(alg);
            let mut cfg = JwtProviderConfig {
                cache_capacity: if *mode == "cached" { 10_000 } else { 0 },
                ..Default::default()
            };
            if *alg == "hs256" {
                cfg.secret = Some(SECRET.into());
            } else {
                cfg.public_key_pem = Some(s.public_pem());
            }
            let p = JwtProvider::new(cfg).unwrap();
            let t = s.mint(0, false);
            // Twice: a token is cached from its second verification on.
            p.verify(&t).unwrap();
            p.verify(&t).unwrap();
            start = Instant::now();
            measured(n, &mut |_| {
                black_box(p.verify(black_box(&t)).unwrap());
            });
        }
        ["raw", alg] => {
            let s = signer(alg);
            let t = s.mint(0, false);
            let (message, sig) = t.rsplit_once('.').unwrap();
            let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
            let check: Box<dyn Fn() -> bool> = if *alg == "hs256" {
                let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes());
                Box::new(move || hmac::verify(&key, message.as_bytes(), &sig).is_ok())
            } else {
                let (valg, der): (&'static dyn signature::VerificationAlgorithm, DecodingKey) =
                    if *alg == "rs256" {
                        (
                            &signature::RSA_PKCS1_2048_8192_SHA256,
                            DecodingKey::from_rsa_pem(s.public_pem().as_bytes()).unwrap(),
                        )
                    } else {
                        (
                            &signature::ECDSA_P256_SHA256_FIXED,
                            DecodingKey::from_ec_pem(s.public_pem().as_bytes()).unwrap(),
                        )
                    };
                let key =
                    signature::ParsedPublicKey::new(valg, der.try_get_as_bytes().unwrap()).unwrap();
                Box::new(move || key.verify_sig(message.as_bytes(), &sig).is_ok())
            };
            assert!(check());
            start = Instant::now();
            measured(n, &mut |_| {
                black_box(check());
            });
        }
        _ => panic!("unknown case {case}; try `list`"),
    }
    let per = start.elapsed().as_nanos() as f64 / n as f64;
    println!("{case}: {n} operations, {per:.0} ns/op (wall clock)");
}
