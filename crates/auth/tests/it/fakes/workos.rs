//! A local WorkOS API: `GET /sso/jwks/{client_id}`, `GET /user_management/users/{id}` and
//! `GET /user_management/organization_memberships?user_id=&limit=&after=`, speaking WorkOS's
//! JSON shapes and status codes (user objects, list objects with `list_metadata`, errors
//! `{"message", "code"}`). It can go down (500), be slow, and counts requests.

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

/// A membership as the fake stores it.
#[derive(Clone, Debug)]
pub struct FakeMembership {
    /// `om_…`.
    pub id: String,
    /// `org_…`.
    pub organization_id: String,
    /// Role slug.
    pub role: String,
    /// `active` / `inactive` / `pending`.
    pub status: String,
}

/// A user as the fake stores it: `(email, first_name, last_name)`.
pub type FakeUser = (String, Option<String>, Option<String>);

/// Shared state of the fake.
#[derive(Default)]
pub struct WorkosState {
    /// The client id whose JWKS is served.
    pub client_id: Mutex<String>,
    /// The JWKS document served.
    pub jwks: Mutex<Value>,
    /// The API key callers must present.
    pub api_key: Mutex<String>,
    /// Users by id: `(email, first_name, last_name)`.
    pub users: Mutex<HashMap<String, FakeUser>>,
    /// Memberships by user id.
    pub memberships: Mutex<HashMap<String, Vec<FakeMembership>>>,
    /// When set, every API call (not the JWKS) answers 500.
    pub down: AtomicBool,
    /// Delay before answering API calls.
    pub delay_ms: AtomicU64,
    /// User lookups received.
    pub user_requests: AtomicUsize,
    /// Membership list calls received.
    pub membership_requests: AtomicUsize,
    /// JWKS fetches received.
    pub jwks_requests: AtomicUsize,
    /// The `after` cursor of each membership call.
    pub cursors: Mutex<Vec<Option<String>>>,
    /// User ids as decoded by the router.
    pub user_ids: Mutex<Vec<String>>,
}

/// A running fake.
pub struct WorkosFake {
    /// `http://127.0.0.1:<port>` (the API base).
    pub base: String,
    /// The state, to steer and inspect.
    pub state: Arc<WorkosState>,
}

fn workos_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"message": message, "code": code})),
    )
        .into_response()
}

async fn gate(s: &WorkosState, headers: &HeaderMap) -> Result<(), Response> {
    let delay = s.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if s.down.load(Ordering::SeqCst) {
        return Err(workos_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Internal Server Error",
        ));
    }
    let want = format!("Bearer {}", s.api_key.lock().unwrap());
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(want.as_str()) {
        return Err(workos_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
        ));
    }
    Ok(())
}

async fn jwks(State(s): State<Arc<WorkosState>>, Path(client_id): Path<String>) -> Response {
    s.jwks_requests.fetch_add(1, Ordering::SeqCst);
    if *s.client_id.lock().unwrap() != client_id {
        return workos_error(
            StatusCode::NOT_FOUND,
            "entity_not_found",
            &format!("Could not find a client with ID '{client_id}'."),
        );
    }
    axum::Json(s.jwks.lock().unwrap().clone()).into_response()
}

async fn user(
    State(s): State<Arc<WorkosState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    s.user_requests.fetch_add(1, Ordering::SeqCst);
    s.user_ids.lock().unwrap().push(id.clone());
    if let Err(r) = gate(&s, &headers).await {
        return r;
    }
    let found = s.users.lock().unwrap().get(&id).cloned();
    let Some((email, first, last)) = found else {
        return workos_error(
            StatusCode::NOT_FOUND,
            "entity_not_found",
            &format!("User not found: '{id}'."),
        );
    };
    axum::Json(json!({
        "object": "user",
        "id": id,
        "email": email,
        "first_name": first,
        "last_name": last,
        "email_verified": true,
        "profile_picture_url": "https://workoscdn.com/images/v1/avatar.png",
        "last_sign_in_at": "2025-01-01T00:00:00.000Z",
        "external_id": null,
        "metadata": {},
        "created_at": "2024-01-01T00:00:00.000Z",
        "updated_at": "2024-06-01T00:00:00.000Z"
    }))
    .into_response()
}

async fn memberships(
    State(s): State<Arc<WorkosState>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    s.membership_requests.fetch_add(1, Ordering::SeqCst);
    if let Err(r) = gate(&s, &headers).await {
        return r;
    }
    let limit: usize = match q.get("limit").map(|l| l.parse()) {
        None => 10,
        Some(Ok(l)) if (1..=100).contains(&l) => l,
        _ => {
            return workos_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request_parameters",
                "limit must be between 1 and 100",
            );
        }
    };
    let Some(user_id) = q.get("user_id") else {
        return workos_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request_parameters",
            "Either user_id or organization_id is required",
        );
    };
    let after = q.get("after").cloned();
    s.cursors.lock().unwrap().push(after.clone());
    let all = s
        .memberships
        .lock()
        .unwrap()
        .get(user_id)
        .cloned()
        .unwrap_or_default();
    let start = match &after {
        None => 0,
        Some(a) => match all.iter().position(|m| &m.id == a) {
            Some(i) => i + 1,
            None => {
                return workos_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_request_parameters",
                    "Invalid cursor",
                );
            }
        },
    };
    let page: Vec<&FakeMembership> = all.iter().skip(start).take(limit).collect();
    let more = start + page.len() < all.len();
    let data: Vec<Value> = page
        .iter()
        .map(|m| {
            json!({
                "object": "organization_membership",
                "id": m.id,
                "user_id": user_id,
                "organization_id": m.organization_id,
                "organization_name": format!("Org {}", m.organization_id),
                "role": {"slug": m.role},
                "status": m.status,
                "created_at": "2024-01-01T00:00:00.000Z",
                "updated_at": "2024-01-01T00:00:00.000Z"
            })
        })
        .collect();
    let last = page.last().map(|m| m.id.clone());
    axum::Json(json!({
        "object": "list",
        "data": data,
        "list_metadata": {
            "before": after.as_ref().and(page.first().map(|m| m.id.clone())),
            "after": if more { last } else { None }
        }
    }))
    .into_response()
}

impl WorkosFake {
    /// Starts the fake on a loopback port.
    pub async fn start(client_id: &str, jwks_doc: Value, api_key: &str) -> Self {
        let state = Arc::new(WorkosState::default());
        *state.client_id.lock().unwrap() = client_id.to_owned();
        *state.jwks.lock().unwrap() = jwks_doc;
        *state.api_key.lock().unwrap() = api_key.to_owned();
        let app = Router::new()
            .route("/sso/jwks/{client_id}", get(jwks))
            .route("/user_management/users/{id}", get(user))
            .route(
                "/user_management/organization_memberships",
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

    /// Adds a user.
    pub fn add_user(&self, id: &str, email: &str, first: Option<&str>, last: Option<&str>) {
        self.state.users.lock().unwrap().insert(
            id.to_owned(),
            (
                email.to_owned(),
                first.map(str::to_owned),
                last.map(str::to_owned),
            ),
        );
    }

    /// Sets a user's memberships: `(organization id, role slug, status)`.
    pub fn set_memberships(&self, user_id: &str, ms: &[(&str, &str, &str)]) {
        self.state.memberships.lock().unwrap().insert(
            user_id.to_owned(),
            ms.iter()
                .enumerate()
                .map(|(i, (org, role, status))| FakeMembership {
                    id: format!("om_{user_id}_{i:04}"),
                    organization_id: org.to_string(),
                    role: role.to_string(),
                    status: status.to_string(),
                })
                .collect(),
        );
    }

    /// User lookups so far.
    pub fn user_requests(&self) -> usize {
        self.state.user_requests.load(Ordering::SeqCst)
    }

    /// Membership list calls so far.
    pub fn membership_requests(&self) -> usize {
        self.state.membership_requests.load(Ordering::SeqCst)
    }

    /// Makes the API answer 500 (or recover).
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// Delays API answers.
    pub fn set_delay(&self, d: Duration) {
        self.state
            .delay_ms
            .store(d.as_millis() as u64, Ordering::SeqCst);
    }

    /// The `after` cursors received, in order.
    pub fn cursors(&self) -> Vec<Option<String>> {
        self.state.cursors.lock().unwrap().clone()
    }
}
