//! Authentication and authorization for Mastra-compatible agent servers.
//!
//! [`Auth`] runs the pipeline in front of any axum/tower service ([`Auth::layer`]): it finds the
//! credential in a request, asks an [`AuthProvider`] for the [`User`], decides with the path
//! policy ([`policy`], [`pattern`]) and the ordered [`rules`] whether the user may proceed, and
//! hands the user to handlers ([`AuthUser`]). Providers, authorizers and the pipeline answer a
//! [`Verdict`]: ready when decided by computation alone, pending when it needs I/O, so a request
//! that needs none runs without allocating a future. [`NormalizeLayer`], in front of the router,
//! gives routing and authorization one view of the path ([`normalize`]).
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use mastra_auth::providers::{JwtProvider, JwtProviderConfig};
//! use mastra_auth::{Auth, AuthUser, pattern::RoutePattern};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = std::env::var("MASTRA_JWT_SECRET")?;
//! let provider = JwtProvider::new(JwtProviderConfig::with_secret(secret))?;
//! // Protected `/api/*`, public `/api` and `/health`, `?apiKey=` accepted: Mastra's defaults.
//! // `Auth::builder` starts from neutral ones instead (everything protected, no query token).
//! let auth = Auth::mastra_defaults(Arc::new(provider))
//!     .public(RoutePattern::with_methods("/api/status", &["GET"])?)
//!     .build();
//! let app = axum::Router::new()
//!     .route("/api/hello", axum::routing::get(|AuthUser(user): AuthUser| async move { user.id }))
//!     .layer(auth.layer());
//! // In front of the router, so it routes the normalized path auth decides on (without it, the
//! // auth layer refuses non-canonical spellings such as `/api/%68ello` with 400).
//! let app = tower::Layer::layer(&mastra_auth::NormalizeLayer, app);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4111").await?;
//! axum::serve(listener, axum::ServiceExt::<axum::extract::Request>::into_make_service(app)).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Cargo features: `remote` (default: the identity-provider integrations in [`providers`] that
//! fetch keys or users over HTTPS, with their HTTP client), `cel` (default: CEL conditions in
//! rules), `serde` (the provider config types deserialize from config tables, with the helpers
//! of `config_serde`). With `default-features = false` the `jwt`, `api_keys` and `composite`
//! providers and rules without CEL remain, and no HTTP client or CEL interpreter is compiled.

// The facade: the pipeline's parts are private and re-exported below; the modules that stay
// public are namespaces of their own (providers and their configs, JWT verification, patterns,
// rules, key sets).
mod cache;
#[cfg(feature = "serde")]
pub mod config_serde;
mod error;
mod extract;
#[cfg(feature = "remote")]
pub mod fga;
#[cfg(feature = "remote")]
pub mod google_oauth;
#[cfg(feature = "remote")]
pub mod idp_http;
pub mod jwt;
#[cfg(feature = "remote")]
pub mod keyset;
mod layer;
pub mod normalize;
pub mod pattern;
pub mod permission;
pub mod policy;
mod provider;
pub mod providers;
pub mod rbac;
pub mod rules;
mod secret;
mod setting;
mod token;
mod user;
mod verdict;
mod weak_keys;

pub use error::AuthError;
pub use extract::AuthUser;
pub use layer::{Auth, AuthBuilder, AuthFuture, AuthLayer, AuthService, is_preflight};
pub use normalize::NormalizeLayer;
pub use policy::{Authorizer, AuthzRequest};
pub use provider::AuthProvider;
pub use secret::Secret;
pub use token::{SessionToken, TokenExtractor, TokenSource};
pub use user::User;
pub use verdict::{Resolve, Verdict};
