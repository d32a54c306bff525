//! A local Clerk: the Frontend API's JWKS (`/.well-known/jwks.json`) and the Backend API's
//! `GET /v1/users/{user_id}/organization_memberships?limit=&offset=`, speaking Clerk's JSON
//! shapes and status codes (`{"data": [...], "total_count": N}`; errors
//! `{"errors": [{"message", "long_message", "code"}]}`). It can go down (503), be slow, and
//! counts requests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// Memberships per user id: `(organization id, slug, role)`.
pub type MembershipMap = HashMap<String, Vec<(String, String, String)>>;

/// Shared state of the fake.
#[derive(Default)]
pub struct ClerkState {
    /// The JWKS document served.
    pub jwks: Mutex<Value>,
    /// The Backend API secret key callers must present.
    pub secret_key: Mutex<String>,
    /// Memberships per user id: `(organization id, slug, role)`.
    pub memberships: Mutex<MembershipMap>,
    /// When set, every Backend API call answers 503.
    pub down: AtomicBool,
    /// Delay before answering Backend API calls.
    pub delay_ms: AtomicU64,
    /// Backend API calls received.
    pub api_requests: AtomicUsize,
    /// JWKS fetches received.
    pub jwks_requests: AtomicUsize,
    /// `(user_id as decoded by the router, offset)` of each membership call.
    pub log: Mutex<Vec<(String, usize)>>,
}

/// A running fake.
pub struct ClerkFake {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The state, to steer and inspect.
    pub state: Arc<ClerkState>,
}

fn clerk_error(status: StatusCode, code: &str, message: &str, long: &str) -> Response {
    (
        status,
        axum::Json(json!({
            "errors": [{"message": message, "long_message": long, "code": code}],
            "clerk_trace_id": "trace_fake"
        })),
    )
        .into_response()
}

async fn jwks(State(s): State<Arc<ClerkState>>) -> Response {
    s.jwks_requests.fetch_add(1, Ordering::SeqCst);
    let doc = s.jwks.lock().unwrap().clone();
    ([("cache-control", "public, max-age=600")], axum::Json(doc)).into_response()
}

async fn memberships(
    State(s): State<Arc<ClerkState>>,
    Path(user_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    s.api_requests.fetch_add(1, Ordering::SeqCst);
    let delay = s.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if s.down.load(Ordering::SeqCst) {
        return clerk_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "Service unavailable",
            "The service is temporarily unavailable",
        );
    }
    let want = format!("Bearer {}", s.secret_key.lock().unwrap());
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(want.as_str()) {
        return clerk_error(
            StatusCode::UNAUTHORIZED,
            "authentication_invalid",
            "Invalid authentication",
            "Unable to authenticate the request, you need to supply an active API key",
        );
    }
    let limit: usize = match q.get("limit").map(|l| l.parse()) {
        None => 10,
        Some(Ok(l)) if (1..=500).contains(&l) => l,
        _ => {
            return clerk_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "form_param_value_invalid",
                "is invalid",
                "limit must be between 1 and 500",
            );
        }
    };
    let offset: usize = q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    s.log.lock().unwrap().push((user_id.clone(), offset));
    let all = s.memberships.lock().unwrap().get(&user_id).cloned();
    let Some(all) = all else {
        return clerk_error(
            StatusCode::NOT_FOUND,
            "resource_not_found",
            "not found",
            "Resource not found",
        );
    };
    let data: Vec<Value> = all
        .iter()
        .enumerate()
        .skip(offset)
        .take(limit)
        .map(|(i, (org_id, slug, role))| {
            json!({
                "object": "organization_membership",
                "id": format!("orgmem_{i}"),
                "public_metadata": {},
                "private_metadata": {},
                "role": role,
                "role_name": role.trim_start_matches("org:"),
                "permissions": [],
                "created_at": 1_700_000_000_000u64,
                "updated_at": 1_700_000_000_000u64,
                "organization": {
                    "object": "organization",
                    "id": org_id,
                    "name": slug.to_uppercase(),
                    "slug": slug,
                    "image_url": "https://img.clerk.com/x",
                    "has_image": false,
                    "members_count": 1,
                    "max_allowed_memberships": 5,
                    "admin_delete_enabled": true,
                    "public_metadata": {},
                    "created_at": 1_700_000_000_000u64,
                    "updated_at": 1_700_000_000_000u64
                },
                "public_user_data": {"user_id": user_id, "identifier": "user@example.com"}
            })
        })
        .collect();
    axum::Json(json!({"data": data, "total_count": all.len()})).into_response()
}

impl ClerkFake {
    /// Starts the fake on a loopback port.
    pub async fn start(jwks_doc: Value, secret_key: &str) -> Self {
        let state = Arc::new(ClerkState::default());
        *state.jwks.lock().unwrap() = jwks_doc;
        *state.secret_key.lock().unwrap() = secret_key.to_owned();
        let app = Router::new()
            .route("/.well-known/jwks.json", get(jwks))
            .route(
                "/v1/users/{user_id}/organization_memberships",
                get(memberships),
            )
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base: format!("http://{addr}"),
            state,
        }
    }

    /// The Backend API base (`{base}/v1`).
    pub fn api_base(&self) -> String {
        format!("{}/v1", self.base)
    }

    /// The JWKS URL.
    pub fn jwks_uri(&self) -> String {
        format!("{}/.well-known/jwks.json", self.base)
    }

    /// Sets a user's memberships: `(organization id, slug)` pairs, role `org:member`.
    pub fn set_memberships(&self, user_id: &str, orgs: &[(&str, &str)]) {
        self.state.memberships.lock().unwrap().insert(
            user_id.to_owned(),
            orgs.iter()
                .map(|(id, slug)| (id.to_string(), slug.to_string(), "org:member".to_string()))
                .collect(),
        );
    }

    /// Backend API calls so far.
    pub fn api_requests(&self) -> usize {
        self.state.api_requests.load(Ordering::SeqCst)
    }

    /// Makes the Backend API answer 503 (or recover).
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// Delays Backend API answers.
    pub fn set_delay(&self, d: Duration) {
        self.state
            .delay_ms
            .store(d.as_millis() as u64, Ordering::SeqCst);
    }

    /// The `(user_id, offset)` log of membership calls.
    pub fn log(&self) -> Vec<(String, usize)> {
        self.state.log.lock().unwrap().clone()
    }
}
