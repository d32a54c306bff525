//! Mastra-compatible agent server.
//!
//! `mastra serve` runs it from a `mastra.toml` ([`config::Config`]); [`Server::bind`] does the
//! same in code.
//!
//! # Embedding the server in your Rust app
//!
//! [`ServerBuilder`] adds routes and middleware of your own (Mastra's `server.apiRoutes` and
//! `server.middleware`) behind the same auth pipeline as the built-in routes (one instance, one
//! verified-token cache), and the same CORS, timeout, body limit, request normalization and
//! request logs. An [`ApiRoute`] requires a verified user unless it says `requires_auth(false)`;
//! its handlers read the user with [`mastra_auth::AuthUser`]; it appears in the OpenAPI document
//! with its summary, description and `security`. Paths follow the rules of `[[api_routes]]`
//! (outside the API prefix, no collisions), checked by [`ServerBuilder::build`] with a
//! [`BuildError`] instead of a panic.
//!
//! ```no_run
//! use axum::extract::{Path, Request};
//! use axum::middleware::{self, Next};
//! use mastra_auth::AuthUser;
//! use mastra_server::{ApiRoute, ServerBuilder, config::Config};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = Config::from_toml_str("[auth]\nprovider = \"jwt\"\n", "app.toml")?;
//! config.fill_from_env(|name| std::env::var(name).ok()); // MASTRA_JWT_SECRET
//!
//! let server = ServerBuilder::new(config)
//!     .route(ApiRoute::get(
//!         "/billing/{id}",
//!         |AuthUser(user): AuthUser, Path(id): Path<String>| async move {
//!             format!("invoice {id} of {}", user.id)
//!         },
//!     ))
//!     .route(ApiRoute::get("/status", || async { "ok" }).requires_auth(false))
//!     // runs after auth, on every route
//!     .layer(middleware::from_fn(|req: Request, next: Next| async move {
//!         let mut res = next.run(req).await;
//!         res.headers_mut().insert("x-served-by", http::HeaderValue::from_static("billing"));
//!         res
//!     }))
//!     .bind()
//!     .await?;
//! server.run().await?;
//! # Ok(())
//! # }
//! ```
//!
//! [`ServerBuilder::into_router`] gives the [`axum::Router`] instead, to serve or mount yourself.
//! A runnable version: `crates/server/examples/embed.rs`.

pub mod api;
pub mod api_route;
pub mod app;
pub mod auth_provider;
pub mod build_error;
pub mod builder;
pub mod config;
pub mod http;
pub mod route_permissions;
pub mod signin;
pub mod ui;

pub use api_route::ApiRoute;
pub use app::Server;
pub use build_error::BuildError;
pub use builder::{App, ServerBuilder};
