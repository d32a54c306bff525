//! Typed failures of authentication and authorization, and their HTTP rendering.

use std::time::Duration;

use http::{HeaderValue, StatusCode, header};

use crate::jwt::Rejection;

/// Why a request was not let through. Rendered once, at the edge, by [`AuthError::status`] and
/// [`AuthError::message`]; messages never contain the token or key material.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No credential was presented on a protected route.
    #[error("Authentication required")]
    MissingToken,
    /// A credential was presented and refused; the reason is for logs and `token verify`.
    #[error("Invalid or expired token")]
    InvalidToken(#[source] Rejection),
    /// The request carries two different credentials (two headers, or header and query disagree).
    #[error("Conflicting credentials: {0}")]
    ConflictingTokens(&'static str),
    /// The request cannot be read one way only (path, method or `Host`; see [`crate::normalize`]).
    #[error("Bad request: {0}")]
    BadRequest(#[from] crate::normalize::RequestError),
    /// Authenticated, but the authorizer said no.
    #[error("Access denied")]
    Forbidden,
    /// Authenticated, but without the permission the route needs (role-based access control).
    #[error("Missing required permission: {0}")]
    MissingPermission(String),
    /// Fine-grained authorization refused the permission on this resource.
    #[error("FGA authorization denied: cannot {permission} on {resource}")]
    FgaDenied {
        /// The permission (`agents:execute`).
        permission: String,
        /// The resource (`agent:weatherAgent`).
        resource: String,
    },
    /// A backend needed to decide (key set, identity provider API) could not be reached.
    #[error("{what} unavailable: {reason}")]
    Unavailable {
        /// `Authentication service` or `Authorization service`.
        what: &'static str,
        /// Operator-facing cause (never sent to the client).
        reason: String,
        /// Hint for the `Retry-After` header.
        retry_after: Duration,
    },
}

impl AuthError {
    /// The stable HTTP status for this failure.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::MissingToken | AuthError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            AuthError::ConflictingTokens(_) | AuthError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AuthError::Forbidden
            | AuthError::MissingPermission(_)
            | AuthError::FgaDenied { .. } => StatusCode::FORBIDDEN,
            AuthError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable client-facing message (`{"error": message}`).
    pub fn message(&self) -> String {
        match self {
            AuthError::MissingToken => "Authentication required".into(),
            AuthError::InvalidToken(_) => "Invalid or expired token".into(),
            AuthError::ConflictingTokens(_) => "Conflicting credentials in request".into(),
            AuthError::BadRequest(e) => e.message().into(),
            AuthError::Forbidden => "Access denied".into(),
            AuthError::MissingPermission(_) | AuthError::FgaDenied { .. } => "Forbidden".into(),
            AuthError::Unavailable { what, .. } => format!("{what} unavailable"),
        }
    }

    /// A backend failure during authorization; always a 503, never an allow.
    pub fn authorization_unavailable(reason: impl Into<String>) -> Self {
        AuthError::Unavailable {
            what: "Authorization service",
            reason: reason.into(),
            retry_after: Duration::from_secs(5),
        }
    }

    /// A backend failure during authentication (e.g. no key and the IdP unreachable).
    pub fn authentication_unavailable(reason: impl Into<String>) -> Self {
        AuthError::Unavailable {
            what: "Authentication service",
            reason: reason.into(),
            retry_after: Duration::from_secs(5),
        }
    }

    /// Renders the JSON error response with `WWW-Authenticate` / `Retry-After` where they apply.
    pub fn into_response(self) -> http::Response<axum::body::Body> {
        let status = self.status();
        let body = match &self {
            // Mastra's body: the permission goes in `message`, `error` stays generic.
            AuthError::MissingPermission(_) | AuthError::FgaDenied { .. } => serde_json::json!({
                "error": self.message(),
                "message": self.to_string(),
            }),
            _ => serde_json::json!({ "error": self.message() }),
        }
        .to_string();
        let mut res = http::Response::new(axum::body::Body::from(body));
        *res.status_mut() = status;
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        match &self {
            AuthError::MissingToken => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            AuthError::InvalidToken(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            AuthError::ConflictingTokens(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_request\""),
                );
            }
            AuthError::Unavailable { retry_after, .. } => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after.as_secs()),
                );
            }
            AuthError::MissingPermission(p) => {
                // Permissions are validated to a header-safe alphabet; fall back to the bare
                // error code rather than fail if one is not.
                let value = HeaderValue::from_str(&format!(
                    "Bearer error=\"insufficient_scope\", scope=\"{p}\""
                ))
                .unwrap_or(HeaderValue::from_static(
                    "Bearer error=\"insufficient_scope\"",
                ));
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
            AuthError::Forbidden | AuthError::FgaDenied { .. } | AuthError::BadRequest(_) => {}
        }
        res
    }
}

impl axum::response::IntoResponse for AuthError {
    fn into_response(self) -> axum::response::Response {
        AuthError::into_response(self)
    }
}
