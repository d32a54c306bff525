//! Typed errors: an HTTP error keeps the status and the server's `error` message.

use serde_json::Value;

/// Everything a [`MastraClient`](crate::MastraClient) call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server answered with a non-2xx status (after retries, for 5xx).
    ///
    /// `message` is the server's `error` string (`Authentication required`,
    /// `Agent with id x not found`, ...), or the raw body text when it was not Mastra's
    /// `{"error": "..."}` JSON; `body` is the parsed JSON body, if it was JSON.
    #[error("HTTP {status}: {message}")]
    Http {
        /// HTTP status code.
        status: u16,
        /// The server's message.
        message: String,
        /// The parsed JSON body (e.g. with `issues` for a 400), if any.
        body: Option<Value>,
    },
    /// The request could not be sent or its response not received: connection refused or
    /// reset, DNS, TLS, or the configured timeout (see [`ClientError::is_timeout`]).
    #[error("request to {url} failed: {source}")]
    Transport {
        /// The URL requested (never carries credentials).
        url: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// No response head within the configured timeout (stream calls).
    #[error("request to {url} timed out")]
    Timeout {
        /// The URL requested.
        url: String,
    },
    /// A 2xx response whose body was not what the API promises (e.g. not JSON).
    #[error("invalid response from {url}: {message}")]
    Decode {
        /// The URL requested.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// An `error` chunk in an agent stream (the stream ends after it).
    #[error("stream error: {message}")]
    Stream {
        /// The error message the server put in the chunk.
        message: String,
    },
    /// The client was configured with an invalid value (base URL, header, ...).
    #[error("invalid client configuration: {0}")]
    Config(String),
}

impl ClientError {
    /// The HTTP status, for [`ClientError::Http`].
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's `error` message, for [`ClientError::Http`].
    pub fn server_message(&self) -> Option<&str> {
        match self {
            ClientError::Http { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The parsed JSON error body, for [`ClientError::Http`].
    pub fn body(&self) -> Option<&Value> {
        match self {
            ClientError::Http { body, .. } => body.as_ref(),
            _ => None,
        }
    }

    /// 401: no token, or the token was refused.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }

    /// 403: authenticated, but not allowed.
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(403)
    }

    /// 404: unknown agent, tool or route.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// The request timed out (no retry is made for timeouts).
    pub fn is_timeout(&self) -> bool {
        match self {
            ClientError::Timeout { .. } => true,
            ClientError::Transport { source, .. } => source.is_timeout(),
            _ => false,
        }
    }

    /// Whether the client retries this error: 5xx answers and connection failures, never
    /// 4xx, timeouts or invalid bodies (the same rule as `@mastra/client-js`).
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Http { status, .. } => *status >= 500,
            ClientError::Transport { source, .. } => {
                !source.is_timeout() && (source.is_connect() || source.is_request())
            }
            _ => false,
        }
    }
}

/// Builds [`ClientError::Http`] from a status and the raw body, the way the server words it:
/// `{"error": "<message>"}` gives that message; `{"error": {...}}` its `message` or the JSON;
/// anything else the text itself (or the status reason when empty).
pub(crate) fn http_error(status: reqwest::StatusCode, body: &[u8]) -> ClientError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let message = match parsed.as_ref().and_then(|v| v.get("error")) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| Value::Object(o.clone()).to_string()),
        Some(other) if !other.is_null() => parsed
            .as_ref()
            .and_then(|v| v.get("message"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| other.to_string()),
        _ => {
            let text = String::from_utf8_lossy(body).trim().to_owned();
            if text.is_empty() {
                status.canonical_reason().unwrap_or("").to_owned()
            } else {
                text
            }
        }
    };
    ClientError::Http {
        status: status.as_u16(),
        message,
        body: parsed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn keeps_the_server_message() {
        let e = http_error(
            StatusCode::UNAUTHORIZED,
            br#"{"error":"Authentication required"}"#,
        );
        assert_eq!(e.status(), Some(401));
        assert_eq!(e.server_message(), Some("Authentication required"));
        assert!(e.is_unauthorized() && !e.is_retryable());
        assert_eq!(e.to_string(), "HTTP 401: Authentication required");
    }

    #[test]
    fn object_error_and_text_bodies() {
        let e = http_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"error":{"code":"x","message":"model not allowed"}}"#,
        );
        assert_eq!(e.server_message(), Some("model not allowed"));
        let e = http_error(StatusCode::NOT_FOUND, b"404 Not Found");
        assert_eq!(e.server_message(), Some("404 Not Found"));
        assert!(e.body().is_none());
        let e = http_error(StatusCode::BAD_GATEWAY, b"");
        assert_eq!(e.server_message(), Some("Bad Gateway"));
        assert!(e.is_retryable());
        let e = http_error(
            StatusCode::OK,
            br#"{"error":true,"message":"Tool input validation failed"}"#,
        );
        assert_eq!(e.server_message(), Some("Tool input validation failed"));
    }
}
