//! The one HTTP client every provider uses to reach its identity provider.
//!
//! The rules for identity-provider calls in one place: HTTPS only (plain HTTP only to loopback
//! addresses, and only when `allow_insecure_http` is set), connect and total timeouts, a response
//! size cap, no redirects (a redirect to another host must not change where keys come from), and
//! typed errors that never carry credentials. Base URLs are configurable so tests and proxies can
//! point a provider at a local fake speaking the same wire format.

use std::net::IpAddr;
use std::time::Duration;

use futures::StreamExt;
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;

/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Default total timeout per request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default response size cap (key sets and user records are small).
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// Why a call to an identity provider failed. Never contains tokens or keys.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IdpError {
    /// The URL is not allowed (not HTTPS, or plain HTTP to a non-loopback host).
    #[error("refusing {url}: {reason}")]
    Insecure {
        /// The URL (without query).
        url: String,
        /// Why.
        reason: &'static str,
    },
    /// Malformed URL.
    #[error("invalid URL {0:?}")]
    BadUrl(String),
    /// Could not connect, or the request failed in transit.
    #[error("{url}: {message}")]
    Transport {
        /// The URL (without query).
        url: String,
        /// What happened.
        message: String,
    },
    /// No answer within the timeout.
    #[error("{url}: timed out")]
    Timeout {
        /// The URL (without query).
        url: String,
    },
    /// A non-success status.
    #[error("{url}: HTTP {status}")]
    Status {
        /// The URL (without query).
        url: String,
        /// The status.
        status: u16,
        /// Up to 512 bytes of the body, for diagnostics (providers must not forward it).
        body: String,
    },
    /// The body exceeded the cap.
    #[error("{url}: response larger than {limit} bytes")]
    TooLarge {
        /// The URL (without query).
        url: String,
        /// The cap.
        limit: usize,
    },
    /// The body is not the expected JSON.
    #[error("{url}: unexpected response: {message}")]
    Decode {
        /// The URL (without query).
        url: String,
        /// What failed.
        message: String,
    },
}

impl IdpError {
    /// The HTTP status, for [`IdpError::Status`].
    pub fn status(&self) -> Option<u16> {
        match self {
            IdpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Settings of [`IdpClient`].
#[derive(Debug, Clone, PartialEq)]
pub struct IdpClientConfig {
    /// Permit `http://` to loopback hosts (tests, local development). Never other hosts.
    pub allow_insecure_http: bool,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Total timeout per request.
    pub timeout: Duration,
    /// Response size cap in bytes.
    pub max_body: usize,
}

impl Default for IdpClientConfig {
    fn default() -> Self {
        Self {
            allow_insecure_http: false,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

/// A successful response: status, selected headers and the (capped) body.
#[derive(Debug, Clone)]
pub struct IdpResponse {
    /// Status code (2xx, or 304 for conditional requests).
    pub status: StatusCode,
    /// Response headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: bytes::Bytes,
}

impl IdpResponse {
    /// Decodes the body as JSON.
    pub fn json<T: DeserializeOwned>(&self, url: &Url) -> Result<T, IdpError> {
        serde_json::from_slice(&self.body).map_err(|e| IdpError::Decode {
            url: display_url(url),
            message: e.to_string(),
        })
    }

    /// A header as a string.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// HTTP client for identity-provider calls (cheap to clone; share one per provider).
#[derive(Debug, Clone)]
pub struct IdpClient {
    inner: reqwest::Client,
    config: IdpClientConfig,
}

impl IdpClient {
    /// Builds a client with the given limits.
    pub fn new(config: IdpClientConfig) -> Self {
        let inner = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("mastra-auth/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self { inner, config }
    }

    /// The limits in force.
    pub fn config(&self) -> &IdpClientConfig {
        &self.config
    }

    /// Parses and vets a URL: HTTPS, or HTTP to loopback when allowed.
    pub fn url(&self, url: &str) -> Result<Url, IdpError> {
        let parsed = Url::parse(url).map_err(|_| IdpError::BadUrl(url.to_owned()))?;
        self.check(&parsed)?;
        Ok(parsed)
    }

    /// Checks the scheme/host rule on an already parsed URL.
    pub fn check(&self, url: &Url) -> Result<(), IdpError> {
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.config.allow_insecure_http && is_loopback(url) => Ok(()),
            "http" if self.config.allow_insecure_http => Err(IdpError::Insecure {
                url: display_url(url),
                reason: "plain HTTP is allowed only to loopback addresses",
            }),
            "http" => Err(IdpError::Insecure {
                url: display_url(url),
                reason: "plain HTTP; use HTTPS (allow_insecure_http permits loopback only)",
            }),
            _ => Err(IdpError::Insecure {
                url: display_url(url),
                reason: "only https URLs are allowed",
            }),
        }
    }

    /// Sends a request and returns the capped body of a 2xx (or 304) answer.
    pub async fn send(
        &self,
        method: Method,
        url: &Url,
        headers: &[(&str, &str)],
        body: Option<RequestBody>,
    ) -> Result<IdpResponse, IdpError> {
        self.check(url)?;
        let shown = display_url(url);
        let mut req = self.inner.request(method, url.clone());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req = match body {
            None => req,
            Some(RequestBody::Json(v)) => req.json(&v),
            Some(RequestBody::Form(pairs)) => req.form(&pairs),
        };
        let res = req.send().await.map_err(|e| classify(&shown, &e))?;
        let status = res.status();
        let headers = res.headers().clone();
        if let Some(len) = res.content_length()
            && len > self.config.max_body as u64
        {
            return Err(IdpError::TooLarge {
                url: shown,
                limit: self.config.max_body,
            });
        }
        let mut body = Vec::new();
        let mut stream = res.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| classify(&shown, &e))?;
            if body.len() + chunk.len() > self.config.max_body {
                return Err(IdpError::TooLarge {
                    url: shown,
                    limit: self.config.max_body,
                });
            }
            body.extend_from_slice(&chunk);
        }
        if !(status.is_success() || status == StatusCode::NOT_MODIFIED) {
            let snippet = String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned();
            return Err(IdpError::Status {
                url: shown,
                status: status.as_u16(),
                body: snippet,
            });
        }
        Ok(IdpResponse {
            status,
            headers,
            body: body.into(),
        })
    }

    /// `GET` returning decoded JSON.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        url: &Url,
        headers: &[(&str, &str)],
    ) -> Result<T, IdpError> {
        self.send(Method::GET, url, headers, None).await?.json(url)
    }
}

/// A request body.
#[derive(Debug, Clone)]
pub enum RequestBody {
    /// JSON.
    Json(serde_json::Value),
    /// `application/x-www-form-urlencoded`.
    Form(Vec<(String, String)>),
}

fn classify(url: &str, e: &reqwest::Error) -> IdpError {
    if e.is_timeout() {
        IdpError::Timeout {
            url: url.to_owned(),
        }
    } else {
        // reqwest's Display includes the URL with its query; keep only the kind of failure.
        let kind = if e.is_connect() {
            "connection failed"
        } else if e.is_body() || e.is_decode() {
            "reading the response failed"
        } else if e.is_redirect() {
            "redirect refused"
        } else {
            "request failed"
        };
        IdpError::Transport {
            url: url.to_owned(),
            message: kind.to_owned(),
        }
    }
}

/// The URL without query or userinfo (queries may carry credentials).
pub fn display_url(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost")
                || d.parse::<IpAddr>()
                    .map(|ip| ip.is_loopback())
                    .unwrap_or(false)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(insecure: bool) -> IdpClient {
        IdpClient::new(IdpClientConfig {
            allow_insecure_http: insecure,
            ..Default::default()
        })
    }

    #[test]
    fn https_always_http_only_loopback_when_allowed() {
        assert!(client(false).url("https://idp.example/jwks").is_ok());
        assert!(client(false).url("http://127.0.0.1:1/jwks").is_err());
        assert!(client(true).url("http://127.0.0.1:1/jwks").is_ok());
        assert!(client(true).url("http://[::1]:1/jwks").is_ok());
        assert!(client(true).url("http://localhost:1/jwks").is_ok());
        assert!(client(true).url("http://10.0.0.1/jwks").is_err());
        assert!(client(true).url("http://idp.example/jwks").is_err());
        assert!(client(true).url("ftp://idp.example/jwks").is_err());
        assert!(client(true).url("not a url").is_err());
    }

    #[test]
    fn display_url_drops_query_and_userinfo() {
        let u = Url::parse("https://user:pw@idp.example/a?key=secret").unwrap();
        assert_eq!(display_url(&u), "https://idp.example/a");
    }
}
