//! For random request paths built from the pieces that matter (encodings, dots, slashes,
//! backslashes, `;`, case, UTF-8 good and bad), the auth layer decides on exactly the path the
//! router dispatches: [`NormalizeLayer`] in front of an axum router whose routes are behind the
//! auth layer. Each case checks, through the real layers:
//!
//! - the request is refused with 400 exactly when `normalize_path` refuses its path;
//! - otherwise the handler ran on the canonical path, the auth layer's authorizer saw its decoded
//!   form, and the route parameters the router extracted (percent-decoded by axum) spell that same
//!   decoded path: router and auth agree on every segment;
//! - the canonical form is a fixpoint and decodes to the same path.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use http::{Request, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mastra_auth::normalize::normalize_path;
use mastra_auth::pattern::RoutePattern;
use mastra_auth::providers::{JwtProvider, JwtProviderConfig};
use mastra_auth::{Auth, AuthzRequest, NormalizeLayer};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tower::{Layer, ServiceExt};

const SECRET: &str = "proptest-normalize-secret-0123456789abcdef";

/// Path pieces a segment is made of (1-3 each): mostly ones that decode cleanly, so that many
/// cases reach a route, and the ones every check is about.
const BENIGN: &[&str] = &[
    "a", "%61", "%41", "static", "%C3%A9", "%c3%a9", "%20", "~", "+", ":", "@", "!", "*", "-", "_",
    "=", "&", "$", ",", "'", ";", ";x=1", "%3B", "%25", "%3F", "...a", "a.", ".b",
];
const RISKY: &[&str] = &[
    ".", "..", "%2e", "%2E", "%2F", "%2f", "%5C", "\\", "%2541", "%252e", "%C0%AE", "%FF",
    "%E2%82", "%00", "%0A", "%", "%4", "%zz",
];
/// First segments: the routes' own (`r`, `s`) in several spellings, or anything.
const FIRST: &[&str] = &["r", "%72", "R", "s", "%73", "x"];

/// What the route handlers saw: (route, canonical path, decoded params joined).
type Seen = Arc<Mutex<Option<(String, String, String)>>>;

fn app(
    auth_saw: Arc<Mutex<Option<String>>>,
    seen: Seen,
) -> axum::routing::RouterIntoService<axum::body::Body> {
    let provider = JwtProvider::new(JwtProviderConfig::with_secret(SECRET)).unwrap();
    let auth = Auth::mastra_defaults(Arc::new(provider))
        .protected(RoutePattern::path("/*").unwrap())
        .authorize(move |req: &AuthzRequest<'_>| {
            *auth_saw.lock().unwrap() = Some(req.path.to_owned());
            true
        })
        .build();
    let s1 = seen.clone();
    let s2 = seen.clone();
    let s3 = seen.clone();
    let router = Router::new()
        .route(
            "/r/{a}",
            get(
                move |Path(a): Path<String>, req: Request<axum::body::Body>| {
                    let s = s1.clone();
                    async move {
                        *s.lock().unwrap() =
                            Some(("/r/{a}".into(), req.uri().path().into(), format!("/r/{a}")));
                        StatusCode::OK
                    }
                },
            ),
        )
        .route(
            "/r/{a}/{*rest}",
            get(
                move |Path((a, rest)): Path<(String, String)>, req: Request<axum::body::Body>| {
                    let s = s2.clone();
                    async move {
                        *s.lock().unwrap() = Some((
                            "/r/{a}/{*rest}".into(),
                            req.uri().path().into(),
                            format!("/r/{a}/{rest}"),
                        ));
                        StatusCode::OK
                    }
                },
            ),
        )
        .route(
            "/s/static",
            get(move |req: Request<axum::body::Body>| {
                let s = s3.clone();
                async move {
                    *s.lock().unwrap() = Some((
                        "/s/static".into(),
                        req.uri().path().into(),
                        "/s/static".into(),
                    ));
                    StatusCode::OK
                }
            }),
        )
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(auth.layer());
    router.into_service()
}

fn path_strategy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => prop::sample::select(BENIGN),
        2 => prop::sample::select(RISKY),
    ];
    let segment = prop::collection::vec(piece, 1..=3).prop_map(|p| p.concat());
    (
        prop::sample::select(FIRST),
        prop::collection::vec(segment, 0..=3),
        any::<bool>(),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(first, segments, trailing, empty)| {
            let mut path = format!("/{first}");
            if first == "s" && segments.is_empty() {
                path.push_str("/static");
            }
            for s in &segments {
                path.push('/');
                path.push_str(s);
            }
            if empty {
                path.insert(0, '/');
            }
            if trailing {
                path.push('/');
            }
            path
        })
}

/// How one case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Outcome {
    /// Not a request-target at all (hyper would not accept it either).
    NotAUri,
    /// 400 from the normalizer.
    Refused,
    /// Rewritten or kept, then served by a route.
    Served,
    /// Accepted, no route: 404.
    NoRoute,
}

fn check(raw: &str) -> Result<Outcome, TestCaseError> {
    let uri: http::Uri = match raw.parse() {
        Ok(u) => u,
        Err(_) => return Ok(Outcome::NotAUri),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let auth_saw = Arc::new(Mutex::new(None));
    let seen: Seen = Arc::default();
    let service = NormalizeLayer.layer(app(auth_saw.clone(), seen.clone()));
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &serde_json::json!({"sub": "u"}),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let request = Request::get(uri)
        .header("host", "localhost")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let status = rt.block_on(service.oneshot(request)).unwrap().status();

    let Ok(norm) = normalize_path(raw) else {
        prop_assert_eq!(status, StatusCode::BAD_REQUEST, "{}", raw);
        prop_assert!(auth_saw.lock().unwrap().is_none());
        prop_assert!(seen.lock().unwrap().is_none());
        return Ok(Outcome::Refused);
    };
    prop_assert_ne!(status, StatusCode::BAD_REQUEST, "{}", raw);
    // Every path is protected and the token valid: the authorizer ran, on the decoded path.
    let decided = auth_saw.lock().unwrap().clone();
    prop_assert_eq!(decided.as_deref(), Some(norm.decoded()), "{}", raw);
    let again = normalize_path(norm.canonical()).unwrap();
    prop_assert_eq!(again.canonical(), norm.canonical());
    prop_assert_eq!(again.decoded(), norm.decoded());
    let Some((route, served, params)) = seen.lock().unwrap().clone() else {
        prop_assert_eq!(status, StatusCode::NOT_FOUND, "{}", raw);
        return Ok(Outcome::NoRoute);
    };
    prop_assert_eq!(status, StatusCode::OK);
    prop_assert_eq!(served.as_str(), norm.canonical(), "{} via {}", raw, route);
    prop_assert_eq!(params.as_str(), norm.decoded(), "{} via {}", raw, route);
    Ok(Outcome::Served)
}

#[test]
fn auth_decides_on_the_path_the_router_dispatches() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        ..ProptestConfig::default()
    });
    let counts: Mutex<std::collections::HashMap<Outcome, usize>> = Mutex::default();
    runner
        .run(&path_strategy(), |raw| {
            let outcome = check(&raw)?;
            *counts.lock().unwrap().entry(outcome).or_default() += 1;
            Ok(())
        })
        .unwrap();
    // Not vacuous: every outcome happened, and many requests reached a route.
    let counts = counts.into_inner().unwrap();
    eprintln!("{counts:?}");
    for outcome in [Outcome::Refused, Outcome::Served, Outcome::NoRoute] {
        assert!(
            counts.get(&outcome).copied().unwrap_or(0) >= cases as usize / 50,
            "{outcome:?} too rare: {counts:?}"
        );
    }
}
