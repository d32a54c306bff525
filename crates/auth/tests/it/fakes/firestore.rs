//! The Firestore REST API's document `get`, on loopback.
//!
//! `GET /v1/projects/{project}/databases/{database}/documents/{collection}/{document}` with
//! `Authorization: Bearer <access token>`; the token must be one the token fake issued (else 401
//! `UNAUTHENTICATED`). Answers as Firestore does: 200 with the document
//! `{"name", "fields", "createTime", "updateTime"}`; 404 `NOT_FOUND` for a missing document (or a
//! database that does not exist, with Firestore's message for that); 403 `PERMISSION_DENIED` for
//! another project. Error bodies have Google's shape `{"error":{"code","message","status"}}`.
//!
//! Path segments are percent-decoded one by one from the raw request path, as Google's front end
//! does, and every raw path is logged, so tests can check how ids were encoded.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use super::google::IssuedTokens;

/// How document requests are answered.
#[derive(Debug, Clone, PartialEq)]
pub enum FirestoreBehavior {
    /// Check the token, serve the documents.
    Normal,
    /// This status with Google's error JSON (500 `INTERNAL`, 503 `UNAVAILABLE`, ...).
    Status(u16),
    /// `200 text/html` (a proxy's page).
    Html,
}

struct Inner {
    base: String,
    project: String,
    databases: Mutex<HashSet<String>>,
    /// (database, collection, document id) -> fields.
    docs: Mutex<HashMap<(String, String, String), Value>>,
    tokens: IssuedTokens,
    behavior: Mutex<FirestoreBehavior>,
    delay: Mutex<Duration>,
    requests: AtomicUsize,
    paths: Mutex<Vec<String>>,
}

/// A running fake Firestore; stops when dropped.
pub struct FirestoreFake {
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FirestoreFake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FirestoreFake {
    /// Starts a fake for `project` with the `(default)` database, accepting `tokens`.
    pub async fn start(project: &str, tokens: IssuedTokens) -> FirestoreFake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let inner = Arc::new(Inner {
            base: format!("http://{addr}"),
            project: project.to_owned(),
            databases: Mutex::new(HashSet::from(["(default)".to_owned()])),
            docs: Mutex::new(HashMap::new()),
            tokens,
            behavior: Mutex::new(FirestoreBehavior::Normal),
            delay: Mutex::new(Duration::ZERO),
            requests: AtomicUsize::new(0),
            paths: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FirestoreFake { inner, task }
    }

    /// `{base}/v1`, the value for the provider's Firestore base URL.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.inner.base)
    }

    /// Creates a (named) database.
    pub fn add_database(&self, id: &str) {
        self.inner.databases.lock().unwrap().insert(id.to_owned());
    }

    /// Creates or replaces a document.
    pub fn put(&self, database: &str, collection: &str, id: &str, fields: Value) {
        self.inner.docs.lock().unwrap().insert(
            (database.to_owned(), collection.to_owned(), id.to_owned()),
            fields,
        );
    }

    /// Deletes a document.
    pub fn delete(&self, database: &str, collection: &str, id: &str) {
        self.inner.docs.lock().unwrap().remove(&(
            database.to_owned(),
            collection.to_owned(),
            id.to_owned(),
        ));
    }

    /// How future requests are answered.
    pub fn set_behavior(&self, b: FirestoreBehavior) {
        *self.inner.behavior.lock().unwrap() = b;
    }

    /// Delay before every answer.
    pub fn set_delay(&self, d: Duration) {
        *self.inner.delay.lock().unwrap() = d;
    }

    /// Requests received.
    pub fn requests(&self) -> usize {
        self.inner.requests.load(Ordering::SeqCst)
    }

    /// Raw request paths, in order.
    pub fn paths(&self) -> Vec<String> {
        self.inner.paths.lock().unwrap().clone()
    }
}

fn google_error(code: u16, status: &str, message: &str) -> Response {
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(json!({"error": {"code": code, "message": message, "status": status}})),
    )
        .into_response()
}

async fn handle(
    State(s): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    s.requests.fetch_add(1, Ordering::SeqCst);
    s.paths.lock().unwrap().push(uri.path().to_owned());
    let delay = *s.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match s.behavior.lock().unwrap().clone() {
        FirestoreBehavior::Normal => {}
        FirestoreBehavior::Status(503) => {
            return google_error(503, "UNAVAILABLE", "The service is currently unavailable.");
        }
        FirestoreBehavior::Status(code) => {
            return google_error(code, "INTERNAL", "Internal error encountered.");
        }
        FirestoreBehavior::Html => {
            return (
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body>proxy</body></html>",
            )
                .into_response();
        }
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|t| s.tokens.lock().unwrap().contains(t)) {
        return google_error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        );
    }
    if method != Method::GET {
        return google_error(400, "INVALID_ARGUMENT", "Only GET is faked.");
    }
    // Decode segment by segment: an encoded `/` inside a segment stays inside it.
    let segments: Vec<String> = uri
        .path()
        .trim_start_matches('/')
        .split('/')
        .map(|seg| percent_decode_str(seg).decode_utf8_lossy().into_owned())
        .collect();
    let [
        v1,
        projects,
        project,
        databases,
        database,
        documents,
        collection,
        id,
    ] = segments.as_slice()
    else {
        return google_error(404, "NOT_FOUND", "Requested entity was not found.");
    };
    if v1 != "v1" || projects != "projects" || databases != "databases" || documents != "documents"
    {
        return google_error(404, "NOT_FOUND", "Requested entity was not found.");
    }
    if *project != s.project {
        return google_error(
            403,
            "PERMISSION_DENIED",
            "Missing or insufficient permissions.",
        );
    }
    if !s.databases.lock().unwrap().contains(database) {
        return google_error(
            404,
            "NOT_FOUND",
            &format!(
                "The database {database} does not exist for project {project} Please visit https://console.cloud.google.com/datastore/setup?project={project} to add a Cloud Datastore or Cloud Firestore database."
            ),
        );
    }
    let name = format!("projects/{project}/databases/{database}/documents/{collection}/{id}");
    let doc = s
        .docs
        .lock()
        .unwrap()
        .get(&(database.clone(), collection.clone(), id.clone()))
        .cloned();
    match doc {
        Some(fields) => axum::Json(json!({
            "name": name,
            "fields": fields,
            "createTime": "2025-01-01T00:00:00.000000Z",
            "updateTime": "2025-01-01T00:00:00.000000Z",
        }))
        .into_response(),
        None => google_error(404, "NOT_FOUND", &format!("Document \"{name}\" not found.")),
    }
}
