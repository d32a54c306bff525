//! The `firebase` provider against local fakes of Google's securetoken certificate map, Google's
//! OAuth token endpoint (which verifies the service-account assertion) and Firestore: ID-token
//! rules one by one, and `user_access/{uid}` authorization through the real `Auth` layer over HTTP.

use std::sync::Arc;
use std::time::Duration;

use crate::fakes::firestore::{FirestoreBehavior, FirestoreFake};
use crate::fakes::google::{GoogleTokenFake, TokenBehavior};
use crate::fakes::jwks::{Behavior, JwksFake, cert_map, fixture, now, sign_with};
use axum::Router;
use axum::routing::get;
use http::request::Parts;
use jsonwebtoken::Algorithm;
use mastra_auth::google_oauth::{DATASTORE_SCOPE, ServiceAccount};
use mastra_auth::jwt::Rejection;
use mastra_auth::providers::firebase::{FirebaseConfig, FirebaseConfigError, FirebaseProvider};
use mastra_auth::{Auth, AuthError, AuthProvider, AuthUser, User};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PROJECT: &str = "demo-mastra";
const CLIENT_EMAIL: &str = "firebase-adminsdk-test@demo-mastra.iam.gserviceaccount.com";
const SA_KEY_ID: &str = "0123456789abcdef0123456789abcdef01234567";
const KID: &str = "securetoken-kid-a";
const KID_B: &str = "securetoken-kid-b";

struct Google {
    certs: JwksFake,
    oauth: GoogleTokenFake,
    firestore: FirestoreFake,
}

impl Google {
    async fn start() -> Google {
        let certs =
            JwksFake::start_with(cert_map(&[(KID, "rsa2048.crt"), (KID_B, "rsa2048-b.crt")])).await;
        // What Google sends with the certificate map.
        certs.set_cache_control(Some("public, max-age=19302, must-revalidate, no-transform"));
        let oauth = GoogleTokenFake::start(
            &fixture("service-account.pub"),
            CLIENT_EMAIL,
            Some(SA_KEY_ID),
            DATASTORE_SCOPE,
        )
        .await;
        let firestore = FirestoreFake::start(PROJECT, oauth.issued()).await;
        Google {
            certs,
            oauth,
            firestore,
        }
    }

    /// The service-account key file, as the console hands it out, pointing at the fake endpoint.
    fn service_account_json(&self) -> String {
        json!({
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": SA_KEY_ID,
            "private_key": fixture("service-account.key"),
            "client_email": CLIENT_EMAIL,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.oauth.token_uri(),
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/firebase-adminsdk-test%40demo-mastra.iam.gserviceaccount.com",
            "universe_domain": "googleapis.com",
        })
        .to_string()
    }

    fn config(&self) -> FirebaseConfig {
        FirebaseConfig {
            service_account: Some(self.service_account_json().into()),
            certs_url: Some(self.certs.certs_url()),
            firestore_base_url: Some(self.firestore.base_url()),
            allow_insecure_http: true,
            timeout: Duration::from_secs(2),
            ..FirebaseConfig::default()
        }
    }

    fn provider(&self) -> FirebaseProvider {
        FirebaseProvider::new(self.config()).expect("provider")
    }

    fn grant(&self, uid: &str) {
        self.firestore.put(
            "(default)",
            "user_access",
            uid,
            json!({"role": {"stringValue": "member"}}),
        );
    }
}

/// The claims Firebase Auth puts in an ID token for `uid`.
fn id_claims(uid: &str) -> Value {
    let now = now();
    json!({
        "iss": format!("https://securetoken.google.com/{PROJECT}"),
        "aud": PROJECT,
        "auth_time": now - 120,
        "user_id": uid,
        "sub": uid,
        "iat": now - 60,
        "exp": now + 3540,
        "email": format!("{uid}@example.com"),
        "email_verified": true,
        "firebase": {"identities": {"email": [format!("{uid}@example.com")]}, "sign_in_provider": "password"},
    })
}

fn with(mut claims: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

fn id_token(claims: &Value) -> String {
    sign_with("rsa2048.key", Algorithm::RS256, Some(KID), claims)
}

fn parts() -> Parts {
    http::Request::new(()).into_parts().0
}

fn rejection(r: Result<Option<User>, AuthError>) -> Rejection {
    match r {
        Err(AuthError::InvalidToken(r)) => r,
        other => panic!("expected InvalidToken, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Verification

#[tokio::test]
async fn accepts_a_firebase_id_token() {
    let g = Google::start().await;
    let p = g.provider();
    assert_eq!(p.project_id(), PROJECT);
    assert_eq!(p.database_id(), "(default)");
    let user = p
        .authenticate(&id_token(&id_claims("uid-alice")), &parts())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.id, "uid-alice");
    assert_eq!(user.claims["uid"], "uid-alice");
    assert_eq!(user.claims["email"], "uid-alice@example.com");
    assert_eq!(&*user.provider, "firebase");
    // The second certificate in the map works too.
    let b = sign_with(
        "rsa2048-b.key",
        Algorithm::RS256,
        Some(KID_B),
        &id_claims("uid-bob"),
    );
    assert_eq!(
        p.authenticate(&b, &parts()).await.unwrap().unwrap().id,
        "uid-bob"
    );
    assert_eq!(g.certs.requests(), 1, "one certificate fetch, then cached");
}

#[tokio::test]
async fn rejects_each_rule() {
    let g = Google::start().await;
    let p = g.provider();
    let ok = id_claims("uid-alice");
    let check = |token: String| {
        let p = &p;
        async move { rejection(p.authenticate(&token, &parts()).await) }
    };

    // Signature: key B's signature under key A's kid.
    let r = check(sign_with("rsa2048-b.key", Algorithm::RS256, Some(KID), &ok)).await;
    assert_eq!(r, Rejection::BadSignature);
    // Tampered payload.
    let t = id_token(&ok);
    let mut pieces: Vec<&str> = t.split('.').collect();
    let other = id_token(&with(ok.clone(), json!({"sub": "uid-root"})));
    let other_payload = other.split('.').nth(1).unwrap().to_owned();
    pieces[1] = &other_payload;
    assert_eq!(check(pieces.join(".")).await, Rejection::BadSignature);

    // Issuer, audience.
    let r = check(id_token(&with(
        ok.clone(),
        json!({"iss": "https://securetoken.google.com/other-project"}),
    )))
    .await;
    assert!(matches!(r, Rejection::IssuerMismatch { .. }), "{r}");
    let r = check(id_token(&with(ok.clone(), json!({"aud": "other-project"})))).await;
    assert!(matches!(r, Rejection::AudienceMismatch { .. }), "{r}");
    let r = check(id_token(&with(ok.clone(), json!({"aud": [PROJECT, "x"]})))).await;
    assert_eq!(r, Rejection::ClaimType("aud"));

    // Times.
    let r = check(id_token(&with(ok.clone(), json!({"exp": now() - 3600})))).await;
    assert!(matches!(r, Rejection::Expired { .. }), "{r}");
    let r = check(id_token(&with(ok.clone(), json!({"exp": null})))).await;
    assert_eq!(r, Rejection::MissingClaim("exp"));
    let r = check(id_token(&with(ok.clone(), json!({"iat": now() + 3600})))).await;
    assert!(matches!(r, Rejection::IssuedInFuture { .. }), "{r}");
    let r = check(id_token(&with(ok.clone(), json!({"iat": null})))).await;
    assert_eq!(r, Rejection::MissingClaim("iat"));
    let r = check(id_token(&with(
        ok.clone(),
        json!({"auth_time": now() + 3600}),
    )))
    .await;
    assert!(r.to_string().contains("auth_time"), "{r}");
    let r = check(id_token(&with(ok.clone(), json!({"auth_time": null})))).await;
    assert_eq!(r, Rejection::MissingClaim("auth_time"));
    let r = check(id_token(&with(
        ok.clone(),
        json!({"auth_time": "yesterday"}),
    )))
    .await;
    assert_eq!(r, Rejection::ClaimType("auth_time"));

    // Subject.
    let r = check(id_token(&with(ok.clone(), json!({"sub": ""})))).await;
    assert!(r.to_string().contains("empty \"sub\""), "{r}");
    let r = check(id_token(&with(ok.clone(), json!({"sub": "u".repeat(129)})))).await;
    assert!(r.to_string().contains("128"), "{r}");
    let r = check(id_token(&with(ok.clone(), json!({"sub": null})))).await;
    assert_eq!(r, Rejection::MissingClaim("sub"));
    let r = check(id_token(&with(ok.clone(), json!({"sub": 42})))).await;
    assert_eq!(r, Rejection::ClaimType("sub"));

    // kid: missing, unknown.
    let r = check(sign_with("rsa2048.key", Algorithm::RS256, None, &ok)).await;
    assert!(r.to_string().contains("kid"), "{r}");
    let r = check(sign_with(
        "rsa2048.key",
        Algorithm::RS256,
        Some("nope"),
        &ok,
    ))
    .await;
    assert_eq!(r, Rejection::UnknownKid("nope".into()));

    // Algorithms other than RS256, even with a valid key behind them.
    for alg in [Algorithm::RS384, Algorithm::PS256] {
        let r = check(sign_with("rsa2048.key", alg, Some(KID), &ok)).await;
        assert!(
            matches!(r, Rejection::AlgorithmNotAllowed(_)),
            "{alg:?}: {r}"
        );
    }
    let hs = {
        let mut h = jsonwebtoken::Header::new(Algorithm::HS256);
        h.kid = Some(KID.into());
        jsonwebtoken::encode(
            &h,
            &ok,
            &jsonwebtoken::EncodingKey::from_secret(fixture("rsa2048.crt").as_bytes()),
        )
        .unwrap()
    };
    assert!(matches!(check(hs).await, Rejection::AlgorithmNotAllowed(_)));
    let none = format!(
        "{}.{}.",
        "eyJhbGciOiJub25lIiwia2lkIjoic2VjdXJldG9rZW4ta2lkLWEifQ",
        id_token(&ok).split('.').nth(1).unwrap()
    );
    assert!(matches!(
        check(none).await,
        Rejection::Malformed(_) | Rejection::AlgNone
    ));

    // The valid one still passes after all that.
    assert!(p.authenticate(&id_token(&ok), &parts()).await.is_ok());
}

#[tokio::test]
async fn certificates_unreachable_is_503_not_401() {
    let g = Google::start().await;
    g.certs.set_behavior(Behavior::Status(503));
    let p = g.provider();
    match p
        .authenticate(&id_token(&id_claims("uid-alice")), &parts())
        .await
    {
        Err(e @ AuthError::Unavailable { .. }) => assert_eq!(e.status(), 503),
        other => panic!("expected 503, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Authorization over HTTP

async fn serve(provider: Arc<dyn AuthProvider>) -> String {
    let router = Router::new()
        .route(
            "/api/agents",
            get(|u: AuthUser| async move { axum::Json(json!({"user": u.0.id})) }),
        )
        .layer(Auth::mastra_defaults(provider).build().layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

async fn get_agents(base: &str, token: &str) -> (StatusCode, Option<String>, Value) {
    let res = reqwest::Client::new()
        .get(format!("{base}/api/agents"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn authorization_allow_deny_and_unavailable_over_http() {
    let g = Google::start().await;
    g.grant("uid-alice");
    let base = serve(Arc::new(g.provider())).await;
    let alice = id_token(&id_claims("uid-alice"));
    let bob = id_token(&id_claims("uid-bob"));

    let (s, _, body) = get_agents(&base, &alice).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, json!({"user": "uid-alice"}));
    assert_eq!(
        g.firestore.paths().last().unwrap(),
        &format!("/v1/projects/{PROJECT}/databases/(default)/documents/user_access/uid-alice")
    );
    // The assertion the token endpoint verified: issuer, audience, scope, one-hour lifetime.
    let a = g.oauth.last_assertion_claims().unwrap();
    assert_eq!(a["iss"], CLIENT_EMAIL);
    assert_eq!(a["aud"], g.oauth.token_uri());
    assert_eq!(a["scope"], DATASTORE_SCOPE);
    assert_eq!(
        a["exp"].as_i64().unwrap() - a["iat"].as_i64().unwrap(),
        3600
    );

    let (s, _, body) = get_agents(&base, &bob).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(body, json!({"error": "Access denied"}));

    // Access granted or revoked in Firestore takes effect on the next request.
    g.grant("uid-bob");
    assert_eq!(get_agents(&base, &bob).await.0, StatusCode::OK);
    g.firestore.delete("(default)", "user_access", "uid-bob");
    assert_eq!(get_agents(&base, &bob).await.0, StatusCode::FORBIDDEN);

    for b in [
        FirestoreBehavior::Status(500),
        FirestoreBehavior::Status(503),
        FirestoreBehavior::Html,
    ] {
        g.firestore.set_behavior(b.clone());
        let (s, retry, body) = get_agents(&base, &alice).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{b:?}");
        assert_eq!(retry.as_deref(), Some("5"));
        assert_eq!(body, json!({"error": "Authorization service unavailable"}));
    }
    g.firestore.set_behavior(FirestoreBehavior::Normal);
    assert_eq!(get_agents(&base, &alice).await.0, StatusCode::OK);

    // Invalid token: 401 before any authorization.
    let before = g.firestore.requests();
    let forged = sign_with(
        "rsa2048-b.key",
        Algorithm::RS256,
        Some(KID),
        &id_claims("uid-alice"),
    );
    assert_eq!(get_agents(&base, &forged).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(g.firestore.requests(), before);
}

#[tokio::test]
async fn firestore_too_slow_is_503() {
    let g = Google::start().await;
    g.grant("uid-alice");
    let p = FirebaseProvider::new(FirebaseConfig {
        timeout: Duration::from_millis(300),
        ..g.config()
    })
    .unwrap();
    let user = p
        .authenticate(&id_token(&id_claims("uid-alice")), &parts())
        .await
        .unwrap()
        .unwrap();
    g.firestore.set_delay(Duration::from_millis(800));
    let e = p.authorize(&user, &parts()).await.unwrap_err();
    assert_eq!(e.status(), 503);
}

#[tokio::test]
async fn token_endpoint_down_or_refusing_is_503() {
    let g = Google::start().await;
    g.grant("uid-alice");
    let base = serve(Arc::new(g.provider())).await;
    let alice = id_token(&id_claims("uid-alice"));
    g.oauth.set_behavior(TokenBehavior::Status(500));
    let (s, retry, body) = get_agents(&base, &alice).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry.as_deref(), Some("5"));
    assert_eq!(body, json!({"error": "Authorization service unavailable"}));
    assert_eq!(
        g.firestore.requests(),
        0,
        "no Firestore call without a token"
    );
    // Recovery after the failure cooldown.
    g.oauth.set_behavior(TokenBehavior::Normal);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get_agents(&base, &alice).await.0, StatusCode::OK);

    // A service account whose key the endpoint does not know: the grant is refused -> 503.
    let wrong = json!({
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": SA_KEY_ID,
        "private_key": fixture("rsa2048.key"),
        "client_email": CLIENT_EMAIL,
        "token_uri": g.oauth.token_uri(),
    })
    .to_string();
    let p = FirebaseProvider::new(FirebaseConfig {
        service_account: Some(wrong.into()),
        ..g.config()
    })
    .unwrap();
    let user = p.authenticate(&alice, &parts()).await.unwrap().unwrap();
    let e = p.authorize(&user, &parts()).await.unwrap_err();
    assert_eq!(e.status(), 503);
    assert!(e.to_string().contains("invalid_grant"), "{e}");
    assert_eq!(
        g.oauth.granted(),
        1,
        "only the first provider ever got a token"
    );
}

#[tokio::test]
async fn access_token_is_cached_and_minted_once_for_concurrent_callers() {
    let g = Google::start().await;
    g.grant("uid-alice");
    let p = Arc::new(g.provider());
    let user = p
        .authenticate(&id_token(&id_claims("uid-alice")), &parts())
        .await
        .unwrap()
        .unwrap();
    g.oauth.set_delay(Duration::from_millis(200));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let p = p.clone();
            let user = user.clone();
            tokio::spawn(async move { p.authorize(&user, &parts()).await })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().unwrap());
    }
    for _ in 0..20 {
        assert!(p.authorize(&user, &parts()).await.unwrap());
    }
    assert_eq!(
        g.oauth.requests(),
        1,
        "28 authorizations, one token request"
    );
    assert_eq!(p.access_tokens().token_requests(), 1);
    assert_eq!(g.firestore.requests(), 28, "Firestore is asked every time");
}

#[tokio::test]
async fn access_token_refreshed_before_expiry_and_after_revocation() {
    let g = Google::start().await;
    g.grant("uid-alice");
    // A token that lives less than the 5-minute margin is never reused.
    g.oauth.set_expires_in(200);
    let p = g.provider();
    let user = p
        .authenticate(&id_token(&id_claims("uid-alice")), &parts())
        .await
        .unwrap()
        .unwrap();
    assert!(p.authorize(&user, &parts()).await.unwrap());
    assert!(p.authorize(&user, &parts()).await.unwrap());
    assert_eq!(g.oauth.granted(), 2);
    // A long-lived token is reused until Firestore refuses it (401), then replaced once.
    g.oauth.set_expires_in(3599);
    assert!(p.authorize(&user, &parts()).await.unwrap());
    assert!(p.authorize(&user, &parts()).await.unwrap());
    assert_eq!(g.oauth.granted(), 3);
    g.oauth.revoke_all();
    assert!(p.authorize(&user, &parts()).await.unwrap());
    assert_eq!(g.oauth.granted(), 4);
}

#[tokio::test]
async fn named_database() {
    let g = Google::start().await;
    g.firestore.add_database("tenant-db");
    g.firestore
        .put("tenant-db", "user_access", "uid-alice", json!({}));
    g.grant("uid-bob"); // only in (default)
    let p = FirebaseProvider::new(FirebaseConfig {
        database_id: Some("tenant-db".into()),
        ..g.config()
    })
    .unwrap();
    assert_eq!(p.database_id(), "tenant-db");
    let alice = p
        .authenticate(&id_token(&id_claims("uid-alice")), &parts())
        .await
        .unwrap()
        .unwrap();
    let bob = p
        .authenticate(&id_token(&id_claims("uid-bob")), &parts())
        .await
        .unwrap()
        .unwrap();
    assert!(p.authorize(&alice, &parts()).await.unwrap());
    assert!(!p.authorize(&bob, &parts()).await.unwrap());
    assert!(
        g.firestore
            .paths()
            .iter()
            .all(|path| path.contains("/databases/tenant-db/documents/user_access/"))
    );
    // A database that does not exist is a misconfiguration (503), not a denial.
    let p = FirebaseProvider::new(FirebaseConfig {
        database_id: Some("missing-db".into()),
        ..g.config()
    })
    .unwrap();
    let e = p.authorize(&alice, &parts()).await.unwrap_err();
    assert_eq!(e.status(), 503);
    // From the environment, FIRESTORE_DATABASE_ID first.
    let cfg = g.config().from_env_with(|k| match k {
        "FIRESTORE_DATABASE_ID" => Some("tenant-db".into()),
        "FIREBASE_DATABASE_ID" => Some("other".into()),
        _ => None,
    });
    assert_eq!(
        FirebaseProvider::new(cfg).unwrap().database_id(),
        "tenant-db"
    );
}

#[tokio::test]
async fn uid_cannot_change_the_document_path() {
    let g = Google::start().await;
    let p = g.provider();
    // Ids that cannot be documents of user_access are denied without a request.
    for uid in [
        "..",
        ".",
        "a/b",
        "../user_access",
        "x/../../admin",
        "__reserved__",
    ] {
        let user = p
            .authenticate(&id_token(&id_claims(uid)), &parts())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.id, uid);
        assert!(!p.authorize(&user, &parts()).await.unwrap(), "{uid}");
    }
    assert_eq!(g.firestore.requests(), 0);
    // Other unusual ids are encoded into exactly one path segment and reach their document.
    for uid in [
        "a b", "100%", "q?x=1", "h#frag", "ünï", "a;b", "..a", "(x)", "+plus",
    ] {
        g.grant(uid);
        let user = p
            .authenticate(&id_token(&id_claims(uid)), &parts())
            .await
            .unwrap()
            .unwrap();
        assert!(p.authorize(&user, &parts()).await.unwrap(), "{uid}");
        let path = g.firestore.paths().pop().unwrap();
        let last = path.rsplit('/').next().unwrap();
        assert_eq!(
            percent_encoding::percent_decode_str(last)
                .decode_utf8()
                .unwrap(),
            uid
        );
        assert!(path.starts_with(&format!(
            "/v1/projects/{PROJECT}/databases/(default)/documents/user_access/"
        )));
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration

#[tokio::test]
async fn configuration() {
    let g = Google::start().await;
    // The service account from a file path, project id from the file.
    let dir = std::env::temp_dir().join(format!("mastra-firebase-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sa.json");
    std::fs::write(&path, g.service_account_json()).unwrap();
    let p = FirebaseProvider::new(
        FirebaseConfig {
            service_account: None,
            ..g.config()
        }
        .from_env_with(|k| (k == "FIREBASE_SERVICE_ACCOUNT").then(|| path.display().to_string())),
    )
    .unwrap();
    assert_eq!(p.project_id(), PROJECT);
    // An explicit project id wins over the file's.
    let p = FirebaseProvider::new(FirebaseConfig {
        project_id: Some("other-project".into()),
        ..g.config()
    })
    .unwrap();
    assert_eq!(p.project_id(), "other-project");
    let r = rejection(
        p.authenticate(&id_token(&id_claims("uid-alice")), &parts())
            .await,
    );
    assert!(matches!(r, Rejection::IssuerMismatch { .. }), "{r}");
    std::fs::remove_dir_all(&dir).ok();

    let err = |cfg: FirebaseConfig| FirebaseProvider::new(cfg).unwrap_err();
    let e = err(FirebaseConfig {
        service_account: None,
        ..g.config()
    });
    assert!(matches!(e, FirebaseConfigError::MissingServiceAccount));
    assert!(e.to_string().starts_with("service_account"));
    let e = err(FirebaseConfig {
        service_account: Some(
            "{\"type\": \"authorized_user\", \"private_key\": \"x\", \"client_email\": \"y\"}"
                .into(),
        ),
        ..g.config()
    });
    assert!(e.to_string().contains("authorized_user"), "{e}");
    let e = err(FirebaseConfig {
        service_account: Some("{not json".into()),
        ..g.config()
    });
    assert!(e.to_string().starts_with("service_account"), "{e}");
    let no_project = json!({
        "type": "service_account",
        "private_key": fixture("service-account.key"),
        "client_email": CLIENT_EMAIL,
    })
    .to_string();
    let e = err(FirebaseConfig {
        service_account: Some(no_project.into()),
        ..g.config()
    });
    assert!(matches!(e, FirebaseConfigError::MissingProjectId), "{e}");
    let bad_key = json!({
        "type": "service_account",
        "project_id": PROJECT,
        "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "client_email": CLIENT_EMAIL,
    })
    .to_string();
    let e = err(FirebaseConfig {
        service_account: Some(bad_key.into()),
        ..g.config()
    });
    assert!(e.to_string().contains("private_key"), "{e}");
    let e = err(FirebaseConfig {
        database_id: Some("a/b".into()),
        ..g.config()
    });
    assert!(e.to_string().starts_with("database_id"), "{e}");
    let e = err(FirebaseConfig {
        allow_insecure_http: false,
        ..g.config()
    });
    assert!(e.to_string().starts_with("certs_url"), "{e}");
    let e = err(FirebaseConfig {
        firestore_base_url: Some("http://firestore.example/v1".into()),
        ..g.config()
    });
    assert!(e.to_string().starts_with("firestore_base_url"), "{e}");

    // No secrets in Debug output, of the config or of the loaded account.
    let cfg = g.config();
    let shown = format!("{cfg:?}");
    assert!(
        !shown.contains("PRIVATE KEY") && !shown.contains("MII"),
        "{shown}"
    );
    let sa = ServiceAccount::from_json(&g.service_account_json()).unwrap();
    let shown = format!("{sa:?}");
    assert!(
        !shown.contains("PRIVATE KEY") && !shown.contains("MII"),
        "{shown}"
    );
    assert!(!format!("{:?}", g.provider()).contains("PRIVATE KEY"));
}
