//! A local WorkOS speaking the wire format the sign-in uses: `GET /user_management/authorize`
//! (the hosted AuthKit page, which here signs one user in at once), `POST
//! /user_management/authenticate` (`authorization_code` with PKCE, `refresh_token`, client
//! secret = API key; answers `{user, organization_id, access_token, refresh_token,
//! authentication_method}`), `GET /user_management/users/{id}` and the client's key set at
//! `GET /sso/jwks/{client_id}`. Access tokens are RS256 JWTs with `iss` = the base URL, `sub`,
//! `sid`, `org_id`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::Digest as _;

/// The user the fake signs in.
pub const USER_ID: &str = "user_01ADALOVELACE";
/// The WorkOS session id in its access tokens.
pub const SESSION_ID: &str = "session_01FAKE";
/// The organization of the session.
pub const ORG_ID: &str = "org_01FAKE";

struct Inner {
    base: String,
    client_id: String,
    api_key: String,
    access_ttl: u64,
    key: EncodingKey,
    jwk: Value,
    /// code -> (code_challenge, redirect_uri)
    codes: Mutex<HashMap<String, String>>,
    refresh_tokens: Mutex<Vec<String>>,
    authenticate_bodies: Mutex<Vec<Value>>,
    counter: Mutex<u64>,
}

/// A running fake.
#[derive(Clone)]
pub struct WorkosFake {
    inner: Arc<Inner>,
    /// Its base URL (the `api_base` to configure).
    pub base: String,
}

impl WorkosFake {
    /// Every `POST /user_management/authenticate` body received, in order.
    pub fn authenticate_bodies(&self) -> Vec<Value> {
        self.inner.authenticate_bodies.lock().unwrap().clone()
    }
}

fn next(inner: &Inner, prefix: &str) -> String {
    let mut c = inner.counter.lock().unwrap();
    *c += 1;
    format!("{prefix}_{:08}", *c)
}

/// Starts the fake for one client; access tokens live `access_ttl` seconds.
pub async fn start(client_id: &str, api_key: &str, access_ttl: u64) -> WorkosFake {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    // RS256, as WorkOS signs its access tokens.
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("key");
    let der = aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
        .expect("pkcs8");
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("pem");
    let public = aws_lc_rs::signature::KeyPair::public_key(&pair);
    let jwk = json!({
        "kty": "RSA", "alg": "RS256", "use": "sig", "kid": "fake-key-1",
        "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
    });
    let inner = Arc::new(Inner {
        base: base.clone(),
        client_id: client_id.into(),
        api_key: api_key.into(),
        access_ttl,
        key,
        jwk,
        codes: Mutex::new(HashMap::new()),
        refresh_tokens: Mutex::new(Vec::new()),
        authenticate_bodies: Mutex::new(Vec::new()),
        counter: Mutex::new(0),
    });
    let app = Router::new()
        .route("/sso/jwks/{client_id}", get(jwks))
        .route("/user_management/authorize", get(authorize))
        .route("/user_management/authenticate", post(authenticate))
        .route("/user_management/users/{id}", get(user))
        .with_state(inner.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    WorkosFake { inner, base }
}

async fn jwks(State(s): State<Arc<Inner>>, Path(client): Path<String>) -> Response {
    if client != s.client_id {
        return StatusCode::NOT_FOUND.into_response();
    }
    Json(json!({"keys": [s.jwk]})).into_response()
}

fn user_object() -> Value {
    json!({
        "object": "user", "id": USER_ID, "email": "ada@example.test",
        "first_name": "Ada", "last_name": "Lovelace", "email_verified": true,
        "profile_picture_url": "https://example.test/ada.png",
        "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z",
    })
}

fn error(status: StatusCode, code: &str) -> Response {
    (
        status,
        Json(json!({"error": code, "error_description": code})),
    )
        .into_response()
}

/// The hosted sign-in page: checks the documented parameters, then sends the browser back
/// with a code bound to the PKCE challenge.
async fn authorize(
    State(s): State<Arc<Inner>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let ok = q.get("client_id") == Some(&s.client_id)
        && q.get("response_type").map(String::as_str) == Some("code")
        && q.get("provider").map(String::as_str) == Some("authkit")
        && q.get("code_challenge_method").map(String::as_str) == Some("S256")
        && q.get("code_challenge").is_some_and(|c| c.len() == 43)
        && q.contains_key("state");
    let Some(redirect) = q.get("redirect_uri").filter(|_| ok) else {
        return error(StatusCode::BAD_REQUEST, "invalid_request");
    };
    let code = next(&s, "code");
    s.codes
        .lock()
        .unwrap()
        .insert(code.clone(), q["code_challenge"].clone());
    let mut url = reqwest::Url::parse(redirect).expect("redirect_uri");
    url.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &q["state"]);
    Redirect::to(url.as_str()).into_response()
}

fn access_token(s: &Inner) -> String {
    let now = mastra_session::unix_now();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("fake-key-1".into());
    jsonwebtoken::encode(
        &header,
        &json!({
            "iss": s.base, "sub": USER_ID, "sid": SESSION_ID, "org_id": ORG_ID,
            "iat": now, "exp": now + s.access_ttl, "jti": next(s, "jti"),
        }),
        &s.key,
    )
    .expect("sign")
}

async fn authenticate(State(s): State<Arc<Inner>>, Json(body): Json<Value>) -> Response {
    s.authenticate_bodies.lock().unwrap().push(body.clone());
    if body["client_id"] != json!(s.client_id) || body["client_secret"] != json!(s.api_key) {
        return error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    match body["grant_type"].as_str() {
        Some("authorization_code") => {
            let code = body["code"].as_str().unwrap_or("");
            let Some(challenge) = s.codes.lock().unwrap().remove(code) else {
                return error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            let verifier = body["code_verifier"].as_str().unwrap_or("");
            let computed = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
            if computed != challenge {
                return error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
        }
        Some("refresh_token") => {
            let rt = body["refresh_token"].as_str().unwrap_or("");
            let mut tokens = s.refresh_tokens.lock().unwrap();
            let Some(i) = tokens.iter().position(|t| t == rt) else {
                return error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            // rotation: a refresh token is spent by its use
            tokens.remove(i);
        }
        _ => return error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    }
    let refresh_token = next(&s, "rt");
    s.refresh_tokens.lock().unwrap().push(refresh_token.clone());
    Json(json!({
        "user": user_object(),
        "organization_id": ORG_ID,
        "access_token": access_token(&s),
        "refresh_token": refresh_token,
        "authentication_method": "Password",
    }))
    .into_response()
}

async fn user(State(s): State<Arc<Inner>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let expected = format!("Bearer {}", s.api_key);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    if id != USER_ID {
        return error(StatusCode::NOT_FOUND, "entity_not_found");
    }
    Json(user_object()).into_response()
}
