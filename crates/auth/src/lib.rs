//! Authentication and authorization for Mastra-compatible agent servers.
//!
//! The pieces, one module each: [`token`] finds the credential in a request, [`jwt`] verifies
//! JSON Web Tokens strictly, [`providers`] turn credentials into a [`User`], [`pattern`] and
//! [`rules`] decide which paths are public and who may do what, [`policy`] combines them, and
//! [`layer`] runs the whole pipeline in front of any axum/tower service. Providers, authorizers
//! and the pipeline answer a [`Verdict`]: ready when decided by computation alone, pending when
//! it needs I/O, so a request that needs none runs without allocating a future. With the `serde`
//! feature the provider config types deserialize from config tables (`config_serde`).

pub mod cache;
#[cfg(feature = "serde")]
pub mod config_serde;
pub mod error;
pub mod extract;
#[cfg(feature = "remote")]
pub mod google_oauth;
#[cfg(feature = "remote")]
pub mod idp_http;
pub mod jwt;
#[cfg(feature = "remote")]
pub mod keyset;
pub mod layer;
pub mod normalize;
pub mod pattern;
pub mod policy;
pub mod provider;
pub mod providers;
pub mod rules;
pub mod token;
pub mod user;
pub mod verdict;
mod weak_keys;

pub use error::AuthError;
pub use extract::AuthUser;
pub use layer::{Auth, AuthLayer};
pub use normalize::NormalizeLayer;
pub use policy::{Authorizer, AuthzRequest};
pub use provider::AuthProvider;
pub use user::User;
pub use verdict::Verdict;
