//! Google's OAuth 2.0 token endpoint for service accounts (the JWT-bearer grant), on loopback.
//!
//! `POST /token` with a form `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=`
//! answers `{"access_token","expires_in","token_type"}` — but only after verifying the assertion
//! the way Google does: RS256 signature with the service account's public key, `iss` = the
//! client e-mail, `aud` = this endpoint's URL, the expected `scope`, `exp` - `iat` <= 3600, and
//! the header `kid` when one is expected. Refusals use Google's OAuth error shape
//! `{"error": "invalid_grant", "error_description": "..."}` with status 400.
//!
//! Issued tokens go into a shared set that [`super::firestore::FirestoreFake`] accepts, so a
//! test can revoke them all. The Google certificate map itself is served by
//! [`super::jwks::JwksFake`] (`set_document(cert_map(...))` at `/certs`).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

/// Access tokens a fake token endpoint has issued and not revoked.
pub type IssuedTokens = Arc<Mutex<HashSet<String>>>;

/// How `/token` answers.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenBehavior {
    /// Verify the assertion and issue a token.
    Normal,
    /// This status with Google's error JSON.
    Status(u16),
}

struct Inner {
    base: String,
    public_key_pem: String,
    client_email: String,
    key_id: Option<String>,
    scope: String,
    expires_in: Mutex<u64>,
    behavior: Mutex<TokenBehavior>,
    delay: Mutex<Duration>,
    issued: IssuedTokens,
    requests: AtomicUsize,
    granted: AtomicUsize,
    last_assertion_claims: Mutex<Option<Value>>,
}

/// A running fake token endpoint; stops when dropped.
pub struct GoogleTokenFake {
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for GoogleTokenFake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl GoogleTokenFake {
    /// Starts an endpoint that accepts assertions signed by the private key matching
    /// `public_key_pem`, issued by `client_email` (with header `kid` = `key_id` when given), for
    /// `scope`.
    pub async fn start(
        public_key_pem: &str,
        client_email: &str,
        key_id: Option<&str>,
        scope: &str,
    ) -> GoogleTokenFake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let inner = Arc::new(Inner {
            base: format!("http://{addr}"),
            public_key_pem: public_key_pem.to_owned(),
            client_email: client_email.to_owned(),
            key_id: key_id.map(str::to_owned),
            scope: scope.to_owned(),
            expires_in: Mutex::new(3599),
            behavior: Mutex::new(TokenBehavior::Normal),
            delay: Mutex::new(Duration::ZERO),
            issued: Arc::new(Mutex::new(HashSet::new())),
            requests: AtomicUsize::new(0),
            granted: AtomicUsize::new(0),
            last_assertion_claims: Mutex::new(None),
        });
        let app = Router::new()
            .route("/token", post(token))
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        GoogleTokenFake { inner, task }
    }

    /// `{base}/token`, the value for the service account's `token_uri`.
    pub fn token_uri(&self) -> String {
        format!("{}/token", self.inner.base)
    }

    /// The shared set of valid access tokens (hand it to the Firestore fake).
    pub fn issued(&self) -> IssuedTokens {
        self.inner.issued.clone()
    }

    /// Revokes every token issued so far.
    pub fn revoke_all(&self) {
        self.inner.issued.lock().unwrap().clear();
    }

    /// `expires_in` of future answers (default 3599, as Google).
    pub fn set_expires_in(&self, seconds: u64) {
        *self.inner.expires_in.lock().unwrap() = seconds;
    }

    /// How future requests are answered.
    pub fn set_behavior(&self, b: TokenBehavior) {
        *self.inner.behavior.lock().unwrap() = b;
    }

    /// Delay before every answer.
    pub fn set_delay(&self, d: Duration) {
        *self.inner.delay.lock().unwrap() = d;
    }

    /// Requests received (any answer).
    pub fn requests(&self) -> usize {
        self.inner.requests.load(Ordering::SeqCst)
    }

    /// Tokens issued.
    pub fn granted(&self) -> usize {
        self.inner.granted.load(Ordering::SeqCst)
    }

    /// Claims of the last assertion that verified.
    pub fn last_assertion_claims(&self) -> Option<Value> {
        self.inner.last_assertion_claims.lock().unwrap().clone()
    }
}

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

async fn token(
    State(s): State<Arc<Inner>>,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> Response {
    s.requests.fetch_add(1, Ordering::SeqCst);
    let delay = *s.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let TokenBehavior::Status(code) = *s.behavior.lock().unwrap() {
        return oauth_error(code, "internal_failure", "Backend Error");
    }
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return oauth_error(400, "unsupported_grant_type", "Invalid grant_type: ");
    }
    let Some(assertion) = form.get("assertion") else {
        return oauth_error(
            400,
            "invalid_request",
            "Missing required parameter: assertion",
        );
    };
    let Ok(header) = jsonwebtoken::decode_header(assertion) else {
        return oauth_error(400, "invalid_grant", "Invalid JWT: malformed");
    };
    if header.alg != Algorithm::RS256 {
        return oauth_error(400, "invalid_grant", "Invalid JWT Signature.");
    }
    if s.key_id.is_some() && header.kid != s.key_id {
        return oauth_error(400, "invalid_grant", "Invalid JWT Signature.");
    }
    let Ok(key) = DecodingKey::from_rsa_pem(s.public_key_pem.as_bytes()) else {
        return oauth_error(500, "internal_failure", "bad fake key");
    };
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[format!("{}/token", s.base)]);
    validation.set_issuer(&[s.client_email.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    validation.leeway = 0;
    let claims = match jsonwebtoken::decode::<Value>(assertion, &key, &validation) {
        Ok(data) => data.claims,
        Err(e) => {
            return oauth_error(400, "invalid_grant", &format!("Invalid JWT: {e}"));
        }
    };
    if claims.get("scope").and_then(Value::as_str) != Some(s.scope.as_str()) {
        return oauth_error(
            400,
            "invalid_scope",
            "Invalid OAuth scope or ID token audience provided.",
        );
    }
    let (Some(iat), Some(exp)) = (
        claims.get("iat").and_then(Value::as_i64),
        claims.get("exp").and_then(Value::as_i64),
    ) else {
        return oauth_error(400, "invalid_grant", "Invalid JWT: iat/exp");
    };
    if exp - iat > 3600 || exp <= iat {
        return oauth_error(
            400,
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
        );
    }
    *s.last_assertion_claims.lock().unwrap() = Some(claims);
    let n = s.granted.fetch_add(1, Ordering::SeqCst) + 1;
    let access_token = format!("ya29.fake-access-token-{n}");
    s.issued.lock().unwrap().insert(access_token.clone());
    let expires_in = *s.expires_in.lock().unwrap();
    axum::Json(json!({
        "access_token": access_token,
        "expires_in": expires_in,
        "token_type": "Bearer",
    }))
    .into_response()
}
