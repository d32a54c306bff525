//! Rust client for the Mastra HTTP API: this project's `mastra serve`, or a Mastra server.
//!
//! It mirrors `@mastra/client-js`: [`MastraClient::new`] or [`MastraClient::builder`] with
//! default headers and a bearer token, `agents()`, `agent(id).details()`, `.generate(..)`,
//! `.stream(..)` (a [`futures::Stream`] of typed [`StreamChunk`]s decoded from the SSE
//! frames), `tools()` and `tool(id).execute(..)`. Connection failures and 5xx answers are
//! retried with exponential backoff (3 retries, 100 ms doubling, capped at 1 s, like the JS
//! client); 4xx answers never are. Errors keep the HTTP status and the server's `error`
//! message ([`ClientError::Http`]). Nothing is logged, and `Debug` never shows the
//! `Authorization` header.
//!
//! ```no_run
//! use mastra_client::MastraClient;
//!
//! # async fn run() -> Result<(), mastra_client::ClientError> {
//! let client = MastraClient::builder("http://localhost:4111")
//!     .bearer_token(&std::env::var("MASTRA_JWT_TOKEN").unwrap_or_default())
//!     .build()?;
//! let response = client.agent("weatherAgent").generate("Weather in London").await?;
//! println!("{}", response.text);
//!
//! match client.agent("nope").details().await {
//!     Err(e) if e.is_not_found() => println!("{}", e.server_message().unwrap_or_default()),
//!     other => println!("{other:?}"),
//! }
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod client;
mod error;
mod stream;
mod types;

pub use client::{
    Agent, DEFAULT_BACKOFF, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BACKOFF, DEFAULT_RETRIES,
    MastraClient, MastraClientBuilder, Tool,
};
pub use error::ClientError;
pub use stream::{AgentStream, ChunkKind, StreamChunk};
pub use types::{
    AgentDetails, Chunk, GenerateRequest, GenerateResponse, Message, Messages, ToolDetails, Usage,
};
