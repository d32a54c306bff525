//! A Supabase project on loopback: GoTrue's `GET /auth/v1/user`, its JWKS, and PostgREST's
//! `GET /rest/v1/users`, behind an API gateway that wants the `apikey` header (as Kong does).
//!
//! Wire shapes and statuses as the real services answer:
//! - gateway without `apikey`: 401 `{"message":"No API key found in request"}`; with a wrong one:
//!   401 `{"message":"Invalid API key"}`.
//! - GoTrue: 200 with the user object; no bearer: 401 `no_authorization`; a token that does not
//!   verify (signature, expiry, malformed): `{"code":<bad_jwt_status>,"error_code":"bad_jwt",
//!   "msg":"invalid JWT: unable to parse or verify signature, ..."}` (401 by default; GoTrue
//!   versions differ, 403 in newer ones); a valid token of a deleted user: 403 `user_not_found`.
//! - PostgREST: `select=isAdmin&id=eq.<id>` -> `[{"isAdmin": ...}]` or `[]`; a bearer that does
//!   not verify: 401 `{"code":"PGRST301","details":null,"hint":null,"message":"..."}`; unknown
//!   column: 400 `42703`; the table missing: 404 `PGRST205`.
//!
//! Both services can be made to fail, answer garbage or slowly, and count their requests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

/// The anon key every fake project uses (a real one is a JWT with `role: anon`; its content is
/// irrelevant to the gateway, which compares it).
pub const ANON_KEY: &str =
    "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiIsImlzcyI6InN1cGFiYXNlIn0.fake-anon-signature";
/// The project's legacy HS256 JWT secret.
pub const JWT_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
/// `kid` of the asymmetric (ES256) signing key in the project's JWKS.
pub const ES256_KID: &str = "supabase-es256-1";

/// How one of the two services answers.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceBehavior {
    /// As the real service.
    Normal,
    /// This status with a short JSON body.
    Status(u16),
    /// `200 text/html`.
    Garbage,
    /// PostgREST only: the `users` table does not exist (404 `PGRST205`).
    NoTable,
}

struct Inner {
    base: String,
    users: Mutex<HashMap<String, Value>>,
    admin: Mutex<HashMap<String, Value>>,
    auth_behavior: Mutex<ServiceBehavior>,
    rest_behavior: Mutex<ServiceBehavior>,
    bad_jwt_status: Mutex<u16>,
    delay: Mutex<Duration>,
    user_requests: AtomicUsize,
    rest_requests: AtomicUsize,
    jwks_requests: AtomicUsize,
    rest_queries: Mutex<Vec<RestQuery>>,
}

/// One PostgREST request as received: decoded query pairs and the bearer token.
pub type RestQuery = (Vec<(String, String)>, String);

/// A running fake Supabase project; stops when dropped.
pub struct SupabaseFake {
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SupabaseFake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SupabaseFake {
    /// Starts an empty project.
    pub async fn start() -> SupabaseFake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let inner = Arc::new(Inner {
            base: format!("http://{addr}"),
            users: Mutex::new(HashMap::new()),
            admin: Mutex::new(HashMap::new()),
            auth_behavior: Mutex::new(ServiceBehavior::Normal),
            rest_behavior: Mutex::new(ServiceBehavior::Normal),
            bad_jwt_status: Mutex::new(401),
            delay: Mutex::new(Duration::ZERO),
            user_requests: AtomicUsize::new(0),
            rest_requests: AtomicUsize::new(0),
            jwks_requests: AtomicUsize::new(0),
            rest_queries: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/auth/v1/user", get(user))
            .route("/auth/v1/.well-known/jwks.json", get(jwks))
            .route("/rest/v1/users", get(rest_users))
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        SupabaseFake { inner, task }
    }

    /// The project URL (`SUPABASE_URL`).
    pub fn url(&self) -> &str {
        &self.inner.base
    }

    /// The issuer of the project's tokens, `{url}/auth/v1`.
    pub fn issuer(&self) -> String {
        format!("{}/auth/v1", self.inner.base)
    }

    /// Adds a user (GoTrue's user object shape) and returns its object.
    pub fn add_user(&self, id: &str, email: &str) -> Value {
        let user = json!({
            "id": id,
            "aud": "authenticated",
            "role": "authenticated",
            "email": email,
            "email_confirmed_at": "2025-01-01T00:00:00.000000Z",
            "phone": "",
            "confirmed_at": "2025-01-01T00:00:00.000000Z",
            "last_sign_in_at": "2025-01-02T00:00:00.000000Z",
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {"full_name": "Test User", "email_verified": true},
            "identities": [],
            "created_at": "2025-01-01T00:00:00.000000Z",
            "updated_at": "2025-01-02T00:00:00.000000Z",
            "is_anonymous": false,
        });
        self.inner
            .users
            .lock()
            .unwrap()
            .insert(id.to_owned(), user.clone());
        user
    }

    /// Deletes a user from GoTrue (tokens stay valid JWTs; `/user` answers `user_not_found`).
    pub fn remove_user(&self, id: &str) {
        self.inner.users.lock().unwrap().remove(id);
    }

    /// Sets the `users` table row of `id` (`isAdmin` value, e.g. `true`, `false`, `null`).
    pub fn set_admin(&self, id: &str, is_admin: Value) {
        self.inner
            .admin
            .lock()
            .unwrap()
            .insert(id.to_owned(), is_admin);
    }

    /// An HS256 access token of the project for `sub`, expiring in `exp_in` seconds.
    pub fn token(&self, sub: &str, exp_in: i64) -> String {
        self.token_with(json!({ "sub": sub, "exp": super::jwks::now() + exp_in }))
    }

    /// An HS256 access token with the standard claims overridden/extended by `extra`.
    pub fn token_with(&self, extra: Value) -> String {
        let claims = self.claims(extra);
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("legacy-hs256".into());
        jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
        )
        .expect("sign")
    }

    /// An ES256 access token signed with the project's asymmetric key (`kid` [`ES256_KID`]).
    pub fn es256_token(&self, extra: Value) -> String {
        super::jwks::sign(Algorithm::ES256, Some(ES256_KID), &self.claims(extra))
    }

    /// The claims GoTrue puts in an access token, with `extra` merged over them.
    pub fn claims(&self, extra: Value) -> Value {
        let now = super::jwks::now();
        let mut claims = json!({
            "iss": self.issuer(),
            "aud": "authenticated",
            "exp": now + 3600,
            "iat": now,
            "sub": "00000000-0000-0000-0000-000000000000",
            "email": "user@example.com",
            "phone": "",
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {},
            "role": "authenticated",
            "aal": "aal1",
            "amr": [{"method": "password", "timestamp": now}],
            "session_id": "11111111-1111-1111-1111-111111111111",
            "is_anonymous": false,
        });
        if let (Some(c), Some(e)) = (claims.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                if v.is_null() {
                    c.remove(k);
                } else {
                    c.insert(k.clone(), v.clone());
                }
            }
        }
        claims
    }

    /// How GoTrue answers.
    pub fn set_auth_behavior(&self, b: ServiceBehavior) {
        *self.inner.auth_behavior.lock().unwrap() = b;
    }

    /// How PostgREST answers.
    pub fn set_rest_behavior(&self, b: ServiceBehavior) {
        *self.inner.rest_behavior.lock().unwrap() = b;
    }

    /// The status GoTrue uses for `bad_jwt` (401 by default, 403 in newer GoTrue versions).
    pub fn set_bad_jwt_status(&self, status: u16) {
        *self.inner.bad_jwt_status.lock().unwrap() = status;
    }

    /// Delay before every answer.
    pub fn set_delay(&self, d: Duration) {
        *self.inner.delay.lock().unwrap() = d;
    }

    /// `GET /auth/v1/user` requests received.
    pub fn user_requests(&self) -> usize {
        self.inner.user_requests.load(Ordering::SeqCst)
    }

    /// `GET /rest/v1/users` requests received.
    pub fn rest_requests(&self) -> usize {
        self.inner.rest_requests.load(Ordering::SeqCst)
    }

    /// JWKS requests received.
    pub fn jwks_requests(&self) -> usize {
        self.inner.jwks_requests.load(Ordering::SeqCst)
    }

    /// Decoded query pairs and bearer token of every PostgREST request, in order.
    pub fn rest_queries(&self) -> Vec<RestQuery> {
        self.inner.rest_queries.lock().unwrap().clone()
    }
}

async fn pause(s: &Inner) {
    let delay = *s.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}

/// Kong's `key-auth` check: the refusal, if the `apikey` header is missing or wrong.
fn gateway(headers: &HeaderMap) -> Option<Response> {
    match headers.get("apikey").and_then(|v| v.to_str().ok()) {
        None => Some(
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"message": "No API key found in request"})),
            )
                .into_response(),
        ),
        Some(k) if k != ANON_KEY => Some(
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"message": "Invalid API key"})),
            )
                .into_response(),
        ),
        Some(_) => None,
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
}

/// Verifies a project token as GoTrue / PostgREST do (HS256 secret or the ES256 key).
fn verify(token: &str, issuer: &str) -> Result<Value, String> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| format!("token is malformed: {e}"))?;
    let key = match header.alg {
        Algorithm::HS256 => DecodingKey::from_secret(JWT_SECRET.as_bytes()),
        Algorithm::ES256 => DecodingKey::from_ec_pem(super::jwks::fixture("p256.pub").as_bytes())
            .map_err(|e| e.to_string())?,
        _ => return Err("signing method is invalid".into()),
    };
    let mut v = Validation::new(header.alg);
    v.set_audience(&["authenticated"]);
    v.set_issuer(&[issuer]);
    v.leeway = 0;
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .map(|d| d.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                "token has invalid claims: token is expired".to_owned()
            }
            _ => format!("token signature is invalid: {e}"),
        })
}

fn behavior_response(b: &ServiceBehavior) -> Option<Response> {
    match b {
        ServiceBehavior::Normal | ServiceBehavior::NoTable => None,
        ServiceBehavior::Status(code) => Some(
            (
                StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                axum::Json(
                    json!({"message": "An invalid response was received from the upstream server"}),
                ),
            )
                .into_response(),
        ),
        ServiceBehavior::Garbage => Some(
            (
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body>upstream</body></html>",
            )
                .into_response(),
        ),
    }
}

async fn user(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    s.user_requests.fetch_add(1, Ordering::SeqCst);
    pause(&s).await;
    if let Some(r) = behavior_response(&s.auth_behavior.lock().unwrap().clone()) {
        return r;
    }
    if let Some(r) = gateway(&headers) {
        return r;
    }
    let gotrue = |status: u16, code: &str, msg: &str| {
        (
            StatusCode::from_u16(status).unwrap_or(StatusCode::UNAUTHORIZED),
            axum::Json(json!({"code": status, "error_code": code, "msg": msg})),
        )
            .into_response()
    };
    let Some(token) = bearer(&headers) else {
        return gotrue(
            401,
            "no_authorization",
            "This endpoint requires a Bearer token",
        );
    };
    let bad = *s.bad_jwt_status.lock().unwrap();
    let claims = match verify(&token, &format!("{}/auth/v1", s.base)) {
        Ok(c) => c,
        Err(e) => {
            return gotrue(
                bad,
                "bad_jwt",
                &format!("invalid JWT: unable to parse or verify signature, {e}"),
            );
        }
    };
    let Some(sub) = claims.get("sub").and_then(Value::as_str) else {
        return gotrue(bad, "bad_jwt", "invalid claim: missing sub claim");
    };
    match s.users.lock().unwrap().get(sub) {
        Some(u) => axum::Json(u.clone()).into_response(),
        None => gotrue(
            403,
            "user_not_found",
            "User from sub claim in JWT does not exist",
        ),
    }
}

async fn jwks(State(s): State<Arc<Inner>>) -> Response {
    s.jwks_requests.fetch_add(1, Ordering::SeqCst);
    pause(&s).await;
    if let Some(r) = behavior_response(&s.auth_behavior.lock().unwrap().clone()) {
        return r;
    }
    (
        [(header::CACHE_CONTROL, "public, max-age=600")],
        axum::Json(json!({"keys": [super::jwks::jwk(Algorithm::ES256, ES256_KID)]})),
    )
        .into_response()
}

fn postgrest(status: StatusCode, code: &str, message: &str, hint: Value) -> Response {
    (
        status,
        axum::Json(json!({"code": code, "details": null, "hint": hint, "message": message})),
    )
        .into_response()
}

async fn rest_users(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    s.rest_requests.fetch_add(1, Ordering::SeqCst);
    pause(&s).await;
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    s.rest_queries
        .lock()
        .unwrap()
        .push((pairs.clone(), bearer(&headers).unwrap_or_default()));
    let behavior = s.rest_behavior.lock().unwrap().clone();
    if let Some(r) = behavior_response(&behavior) {
        return r;
    }
    if let Some(r) = gateway(&headers) {
        return r;
    }
    // PostgREST runs as the token's role; a token that does not verify is refused.
    if let Some(token) = bearer(&headers)
        && let Err(e) = verify(&token, &format!("{}/auth/v1", s.base))
    {
        return postgrest(StatusCode::UNAUTHORIZED, "PGRST301", &e, Value::Null);
    }
    if behavior == ServiceBehavior::NoTable {
        return postgrest(
            StatusCode::NOT_FOUND,
            "PGRST205",
            "Could not find the table 'public.users' in the schema cache",
            json!("Perhaps you meant the table 'public.profiles'"),
        );
    }
    let mut select = None;
    let mut id = None;
    for (k, v) in &pairs {
        match k.as_str() {
            "select" => select = Some(v.clone()),
            "id" => id = Some(v.clone()),
            other => {
                return postgrest(
                    StatusCode::BAD_REQUEST,
                    "42703",
                    &format!("column users.{other} does not exist"),
                    Value::Null,
                );
            }
        }
    }
    if select.as_deref() != Some("isAdmin") {
        return postgrest(
            StatusCode::BAD_REQUEST,
            "42703",
            "column users.select does not exist",
            Value::Null,
        );
    }
    let Some(id) = id.as_deref().and_then(|v| v.strip_prefix("eq.")) else {
        return postgrest(
            StatusCode::BAD_REQUEST,
            "PGRST100",
            "failed to parse filter",
            Value::Null,
        );
    };
    let rows = match s.admin.lock().unwrap().get(id) {
        Some(v) => json!([{ "isAdmin": v }]),
        None => json!([]),
    };
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        rows.to_string(),
    )
        .into_response()
}
