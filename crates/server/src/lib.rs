//! Mastra-compatible agent server.

pub mod api;
pub mod config;
pub mod http;
