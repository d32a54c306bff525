//! Mastra-compatible agent server.

pub mod api;
pub mod app;
pub mod auth_provider;
pub mod build_error;
pub mod config;
pub mod http;
