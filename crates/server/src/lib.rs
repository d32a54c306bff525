//! Mastra-compatible agent server.

pub mod api;
pub mod app;
pub mod config;
pub mod http;
pub mod providers;
