//! [`MastraClient`], its builder, the request pipeline (headers, timeout, retries) and the
//! agent and tool handles.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::{ClientError, http_error};
use crate::stream::AgentStream;
use crate::types::{AgentDetails, GenerateRequest, GenerateResponse, ToolDetails};

/// Retries after the first attempt, as `@mastra/client-js` (`retries: 3`).
pub const DEFAULT_RETRIES: u32 = 3;
/// First backoff delay, doubled after each retry (`backoffMs: 100`).
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(100);
/// Cap on the backoff delay (`maxBackoffMs: 1000`).
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_millis(1000);
/// Default connect timeout (the JS client has none; a dead host should not hang forever).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Header names whose values `Debug` never shows.
const SENSITIVE: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "api-key",
];

fn is_sensitive(name: &HeaderName) -> bool {
    SENSITIVE.contains(&name.as_str())
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    api_prefix: String,
    headers: HeaderMap,
    timeout: Option<Duration>,
    retries: u32,
    backoff: Duration,
    max_backoff: Duration,
}

/// A client for a Mastra-compatible server (this project's `mastra serve`, or Mastra itself).
///
/// Cheap to clone (one connection pool). Requests go to `base_url + api_prefix + path` with
/// the default headers; connection failures and 5xx answers are retried with exponential
/// backoff (3 retries, 100 ms doubling up to 1 s, as `@mastra/client-js`), 4xx never.
///
/// ```no_run
/// use futures::StreamExt;
/// use mastra_client::{ChunkKind, MastraClient, Message};
///
/// # async fn run() -> Result<(), mastra_client::ClientError> {
/// let token = std::env::var("MASTRA_JWT_TOKEN").unwrap_or_default();
/// let client = MastraClient::builder("http://localhost:4111")
///     .bearer_token(&token)
///     .build()?;
///
/// for (id, agent) in client.agents().await? {
///     println!("{id}: {}", agent.name);
/// }
/// let agent = client.agent("weatherAgent");
/// let answer = agent.generate("Weather in London").await?;
/// println!("{}", answer.text);
///
/// let mut stream = agent.stream(vec![Message::user("hello")]).await?;
/// while let Some(chunk) = stream.next().await {
///     if let ChunkKind::TextDelta { text, .. } = chunk?.kind {
///         print!("{text}");
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MastraClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MastraClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: BTreeMap<&str, &str> = self
            .inner
            .headers
            .iter()
            .map(|(k, v)| {
                let shown = if is_sensitive(k) || v.is_sensitive() {
                    "<redacted>"
                } else {
                    v.to_str().unwrap_or("<binary>")
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("MastraClient")
            .field("base_url", &self.inner.base_url)
            .field("api_prefix", &self.inner.api_prefix)
            .field("headers", &headers)
            .field("timeout", &self.inner.timeout)
            .field("retries", &self.inner.retries)
            .field("backoff", &self.inner.backoff)
            .field("max_backoff", &self.inner.max_backoff)
            .finish()
    }
}

/// Configures a [`MastraClient`]; see [`MastraClient::builder`].
pub struct MastraClientBuilder {
    base_url: String,
    api_prefix: String,
    headers: HeaderMap,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    retries: u32,
    backoff: Duration,
    max_backoff: Duration,
    http: Option<reqwest::Client>,
    error: Option<String>,
}

impl std::fmt::Debug for MastraClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MastraClientBuilder")
            .field("base_url", &self.base_url)
            .field("api_prefix", &self.api_prefix)
            .field("header_names", &self.headers.keys().collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

impl MastraClientBuilder {
    /// Adds a header sent with every request (replacing an earlier value of the same name).
    /// An invalid name or value makes [`build`](Self::build) fail.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(mut v)) => {
                if is_sensitive(&n) {
                    v.set_sensitive(true);
                }
                self.headers.insert(n, v);
            }
            _ => {
                self.error
                    .get_or_insert_with(|| format!("invalid header {name:?}"));
            }
        }
        self
    }

    /// Adds headers sent with every request.
    pub fn headers(mut self, headers: HeaderMap) -> Self {
        for (name, mut value) in headers {
            if let Some(name) = name {
                if is_sensitive(&name) {
                    value.set_sensitive(true);
                }
                self.headers.insert(name, value);
            }
        }
        self
    }

    /// Sends `Authorization: Bearer <token>` with every request.
    pub fn bearer_token(self, token: &str) -> Self {
        match HeaderValue::from_str(&format!("Bearer {token}")) {
            Ok(mut v) => {
                v.set_sensitive(true);
                let mut s = self;
                s.headers.insert(AUTHORIZATION, v);
                s
            }
            Err(_) => {
                let mut s = self;
                s.error
                    .get_or_insert_with(|| "the bearer token is not a valid header value".into());
                s
            }
        }
    }

    /// The API prefix (default `/api`), normalized like the JS client: leading `/` added,
    /// trailing `/` removed.
    pub fn api_prefix(mut self, prefix: &str) -> Self {
        let trimmed = prefix.trim().trim_end_matches('/');
        self.api_prefix = if trimmed.is_empty() || trimmed.starts_with('/') {
            trimmed.to_owned()
        } else {
            format!("/{trimmed}")
        };
        self
    }

    /// Time limit of one attempt: until the whole body is read for JSON calls, until the
    /// response head for streams. Default: none (the server has its own, 180 s by default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Time limit to establish a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Retries after the first attempt for connection errors and 5xx (default 3; 0 = none).
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// First backoff delay (doubled per retry) and its cap (defaults 100 ms and 1 s).
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Uses this `reqwest::Client` (its own timeouts and proxies apply; the connect timeout
    /// set here is then ignored).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Builds the client; fails on an invalid base URL or header.
    pub fn build(self) -> Result<MastraClient, ClientError> {
        if let Some(e) = self.error {
            return Err(ClientError::Config(e));
        }
        let base_url = self.base_url.trim().trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base_url)
            .map_err(|e| ClientError::Config(format!("base URL {base_url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ClientError::Config(format!(
                "base URL {base_url:?}: scheme must be http or https"
            )));
        }
        if self.api_prefix.contains("..")
            || self.api_prefix.contains('?')
            || self.api_prefix.contains('#')
        {
            return Err(ClientError::Config(format!(
                "api prefix {:?}: must be a plain path",
                self.api_prefix
            )));
        }
        let http = match self.http {
            Some(c) => c,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .build()
                .map_err(|e| ClientError::Config(format!("HTTP client: {e}")))?,
        };
        Ok(MastraClient {
            inner: Arc::new(Inner {
                http,
                base_url,
                api_prefix: self.api_prefix,
                headers: self.headers,
                timeout: self.timeout,
                retries: self.retries,
                backoff: self.backoff,
                max_backoff: self.max_backoff,
            }),
        })
    }
}

/// A request to send (possibly several times).
struct Call<'a> {
    method: Method,
    path: String,
    body: Option<&'a Value>,
    stream: bool,
}

impl MastraClient {
    /// A client for `base_url` (e.g. `http://localhost:4111`) with the defaults.
    pub fn new(base_url: impl Into<String>) -> Result<Self, ClientError> {
        Self::builder(base_url).build()
    }

    /// A builder for `base_url`, to set headers, a bearer token, timeouts and retries.
    pub fn builder(base_url: impl Into<String>) -> MastraClientBuilder {
        MastraClientBuilder {
            base_url: base_url.into(),
            api_prefix: "/api".into(),
            headers: HeaderMap::new(),
            timeout: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            backoff: DEFAULT_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            http: None,
            error: None,
        }
    }

    /// The base URL (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// `GET /api/agents`: every agent, keyed by id.
    pub async fn agents(&self) -> Result<BTreeMap<String, AgentDetails>, ClientError> {
        self.get("/agents").await
    }

    /// A handle on one agent (no request is made).
    pub fn agent(&self, id: impl Into<String>) -> Agent {
        Agent {
            client: self.clone(),
            id: id.into(),
        }
    }

    /// `GET /api/tools`: every tool, keyed by its registration key.
    pub async fn tools(&self) -> Result<BTreeMap<String, ToolDetails>, ClientError> {
        self.get("/tools").await
    }

    /// A handle on one tool, by id or key (no request is made).
    pub fn tool(&self, id: impl Into<String>) -> Tool {
        Tool {
            client: self.clone(),
            path: format!("/tools/{}", segment(&id.into())),
        }
    }

    /// `GET {api_prefix}{path}`, decoded as JSON into `T` (for routes without a helper).
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.json(Method::GET, path, None).await
    }

    /// `POST {api_prefix}{path}` with a JSON body, decoded as JSON into `T`.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<T, ClientError> {
        self.json(Method::POST, path, Some(body)).await
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, ClientError> {
        let call = Call {
            method,
            path: path.to_owned(),
            body,
            stream: false,
        };
        let (url, res) = self.send(&call).await?;
        let bytes = res.bytes().await.map_err(|source| ClientError::Transport {
            url: url.clone(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
            url,
            message: e.to_string(),
        })
    }

    async fn stream_call(&self, path: &str, body: &Value) -> Result<AgentStream, ClientError> {
        let call = Call {
            method: Method::POST,
            path: path.to_owned(),
            body: Some(body),
            stream: true,
        };
        let (url, res) = self.send(&call).await?;
        let content_type = res
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(AgentStream::from_bytes(
            Box::pin(res.bytes_stream()),
            url,
            content_type,
        ))
    }

    /// Sends `call`, retrying connection errors and 5xx with exponential backoff. Returns a
    /// 2xx response (body unread); a non-2xx becomes [`ClientError::Http`].
    async fn send(&self, call: &Call<'_>) -> Result<(String, Response), ClientError> {
        let inner = &self.inner;
        let url = format!("{}{}{}", inner.base_url, inner.api_prefix, call.path);
        let mut delay = inner.backoff;
        let mut attempt = 0;
        loop {
            let result = self.attempt(&url, call).await;
            let err = match result {
                Ok(res) => return Ok((url, res)),
                Err(e) => e,
            };
            if !err.is_retryable() || attempt >= inner.retries {
                return Err(err);
            }
            attempt += 1;
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(inner.max_backoff);
        }
    }

    async fn attempt(&self, url: &str, call: &Call<'_>) -> Result<Response, ClientError> {
        let inner = &self.inner;
        let mut req = inner
            .http
            .request(call.method.clone(), url)
            .headers(inner.headers.clone());
        if let Some(body) = call.body {
            req = req
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(body).expect("a JSON value serializes"));
        }
        let transport = |source| ClientError::Transport {
            url: url.to_owned(),
            source,
        };
        let res = match (inner.timeout, call.stream) {
            // Streams: the timeout bounds the wait for the response head only.
            (Some(t), true) => tokio::time::timeout(t, req.send())
                .await
                .map_err(|_| ClientError::Timeout {
                    url: url.to_owned(),
                })?
                .map_err(transport)?,
            (Some(t), false) => req.timeout(t).send().await.map_err(transport)?,
            (None, _) => req.send().await.map_err(transport)?,
        };
        let status = res.status();
        if status.is_success() {
            return Ok(res);
        }
        let body = res.bytes().await.unwrap_or_default();
        Err(http_error(status, &body))
    }
}

/// Percent-encodes a path segment (ids are normally plain, but never let one add a `/`).
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@!$&'()*+,;=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One agent: details, generate, stream and its tools. Made by [`MastraClient::agent`].
#[derive(Debug, Clone)]
pub struct Agent {
    client: MastraClient,
    id: String,
}

impl Agent {
    /// The agent id.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn path(&self, rest: &str) -> String {
        format!("/agents/{}{rest}", segment(&self.id))
    }

    /// `GET /api/agents/{id}`.
    pub async fn details(&self) -> Result<AgentDetails, ClientError> {
        self.client.get(&self.path("")).await
    }

    /// `POST /api/agents/{id}/generate`: a string, messages, or a [`GenerateRequest`] with
    /// options.
    ///
    /// ```no_run
    /// # async fn run(client: mastra_client::MastraClient) -> Result<(), mastra_client::ClientError> {
    /// use mastra_client::{GenerateRequest, Message};
    /// use serde_json::json;
    ///
    /// let agent = client.agent("weatherAgent");
    /// let r = agent.generate("Weather in London").await?;
    /// let r = agent
    ///     .generate(
    ///         GenerateRequest::new(vec![Message::user("hi")])
    ///             .memory("thread-1", "user-1")
    ///             .request_context(json!({"tenant": "acme"}))
    ///             .max_steps(2),
    ///     )
    ///     .await?;
    /// println!("{} ({:?})", r.text, r.finish_reason);
    /// # Ok(()) }
    /// ```
    pub async fn generate(
        &self,
        request: impl Into<GenerateRequest>,
    ) -> Result<GenerateResponse, ClientError> {
        let body = serde_json::to_value(request.into()).expect("a request serializes");
        self.client.post(&self.path("/generate"), &body).await
    }

    /// `POST /api/agents/{id}/stream`: the typed chunks of the SSE answer. The request (and
    /// its retries) completes when the response head arrives; the chunks follow.
    ///
    /// ```no_run
    /// # async fn run(client: mastra_client::MastraClient) -> Result<(), mastra_client::ClientError> {
    /// let text = client.agent("weatherAgent").stream("hello").await?.text().await?;
    /// # Ok(()) }
    /// ```
    pub async fn stream(
        &self,
        request: impl Into<GenerateRequest>,
    ) -> Result<AgentStream, ClientError> {
        let body = serde_json::to_value(request.into()).expect("a request serializes");
        self.client.stream_call(&self.path("/stream"), &body).await
    }

    /// `GET /api/agents/{id}/tools/{toolId}` (the tool's id, or the agent's key for it).
    pub async fn tool_details(&self, tool_id: &str) -> Result<ToolDetails, ClientError> {
        self.client
            .get(&self.path(&format!("/tools/{}", segment(tool_id))))
            .await
    }

    /// `POST /api/agents/{id}/tools/{toolId}/execute` with `{data}`: the tool's raw result.
    pub async fn execute_tool(&self, tool_id: &str, data: Value) -> Result<Value, ClientError> {
        let path = self.path(&format!("/tools/{}/execute", segment(tool_id)));
        self.client.post(&path, &json!({ "data": data })).await
    }
}

/// One tool: details and execute. Made by [`MastraClient::tool`].
#[derive(Debug, Clone)]
pub struct Tool {
    client: MastraClient,
    path: String,
}

impl Tool {
    /// `GET /api/tools/{id}`.
    pub async fn details(&self) -> Result<ToolDetails, ClientError> {
        self.client.get(&self.path).await
    }

    /// `POST /api/tools/{id}/execute` with `{data}`: the tool's raw result. Input that fails
    /// the tool's schema is answered 200 `{"error": true, "message": ...}` (as Mastra does)
    /// and returned as such.
    ///
    /// ```no_run
    /// # async fn run(client: mastra_client::MastraClient) -> Result<(), mastra_client::ClientError> {
    /// let weather = client
    ///     .tool("get-weather")
    ///     .execute(serde_json::json!({"location": "Paris"}))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn execute(&self, data: Value) -> Result<Value, ClientError> {
        self.execute_with_context(data, None).await
    }

    /// Like [`execute`](Self::execute), with a `requestContext` object.
    pub async fn execute_with_context(
        &self,
        data: Value,
        request_context: Option<Value>,
    ) -> Result<Value, ClientError> {
        let mut body = json!({ "data": data });
        if let Some(ctx) = request_context {
            body["requestContext"] = ctx;
        }
        self.client
            .post(&format!("{}/execute", self.path), &body)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_credentials() {
        let c = MastraClient::builder("http://localhost:4111/")
            .bearer_token("secret-token-value")
            .header("X-Api-Key", "key-value")
            .header("X-Tenant", "acme")
            .build()
            .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("secret-token-value"), "{shown}");
        assert!(!shown.contains("key-value"), "{shown}");
        assert!(
            shown.contains("<redacted>") && shown.contains("acme"),
            "{shown}"
        );
        assert_eq!(c.base_url(), "http://localhost:4111");
        let b = MastraClient::builder("http://x").bearer_token("secret-token-value");
        assert!(!format!("{b:?}").contains("secret-token-value"));
    }

    #[test]
    fn invalid_configuration_is_an_error() {
        assert!(matches!(
            MastraClient::new("not a url"),
            Err(ClientError::Config(_))
        ));
        assert!(matches!(
            MastraClient::new("ftp://x"),
            Err(ClientError::Config(_))
        ));
        assert!(matches!(
            MastraClient::builder("http://x")
                .header("bad header", "v")
                .build(),
            Err(ClientError::Config(_))
        ));
        assert!(matches!(
            MastraClient::builder("http://x")
                .bearer_token("a\nb")
                .build(),
            Err(ClientError::Config(_))
        ));
        assert!(matches!(
            MastraClient::builder("http://x")
                .api_prefix("/../x")
                .build(),
            Err(ClientError::Config(_))
        ));
    }

    #[test]
    fn prefix_and_segments() {
        let c = MastraClient::builder("http://x")
            .api_prefix("custom/")
            .build()
            .unwrap();
        assert_eq!(c.inner.api_prefix, "/custom");
        assert_eq!(segment("weatherAgent"), "weatherAgent");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
    }
}
