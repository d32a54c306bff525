//! Browser sign-in flows for a Mastra-compatible agent server.
//!
//! A [`Flow`] is one identity provider's authorization-code flow: the URL the browser is sent
//! to ([`Flow::authorize_url`]), the code exchange on the callback ([`Flow::exchange_code`]),
//! token refresh ([`Flow::refresh`]) and the provider's logout URL ([`Flow::logout_url`]).
//!
//! - [`OidcFlow`]: any OpenID provider, by discovery (Auth0 included, with its `audience`
//!   parameter and `/v2/logout` fallback): authorization code with PKCE S256, `state` and
//!   `nonce`; the ID token is verified by mastra-auth's OIDC provider (the same key-set engine
//!   that verifies bearer tokens) and its `nonce` compared with the one sent.
//! - [`WorkosFlow`]: WorkOS AuthKit (`user_management/authorize`, `user_management/authenticate`
//!   with the `authorization_code` and `refresh_token` grants, `sessions/logout`).
//!
//! Every call goes through mastra-auth's identity-provider HTTP client (HTTPS only, plain HTTP to
//! loopback only when allowed, timeouts, size cap, no redirects). Base URLs are settings, so a
//! local fake speaking the provider's wire format runs the same code.
//!
//! The [`LoginRequest`] (state, nonce, PKCE verifier) is made by [`LoginRequest::new`] from the
//! system's random number generator; the caller keeps it (sealed in a short-lived cookie) until
//! the callback and compares `state` itself.

mod error;
mod flow;
mod oidc;
mod pkce;
mod tokens;
mod workos;

pub use error::SsoError;
pub use flow::Flow;
pub use oidc::{OidcFlow, OidcFlowConfig};
pub use pkce::{LoginRequest, code_challenge, random_token};
pub use tokens::{Profile, TokenSet};
pub use workos::{WorkosFlow, WorkosFlowConfig};
