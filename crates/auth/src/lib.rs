//! Authentication and authorization for Mastra-compatible agent servers.
//!
//! The pieces, one module each: [`token`] finds the credential in a request, [`jwt`] verifies
//! JSON Web Tokens strictly, [`providers`] turn credentials into a [`User`], [`pattern`] and
//! [`rules`] decide which paths are public and who may do what, and [`layer`] puts it all in
//! front of any axum/tower service in the order of the request pipeline.

pub mod pattern;
pub mod rules;
pub mod user;

pub use user::User;
