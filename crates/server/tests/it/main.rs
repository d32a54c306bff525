//! The black-box tests of `mastra-server`, in one test binary (each linking the whole stack
//! costs build time and disk): one module per area, helpers shared through [`support`].

mod support;

mod agents_api;
mod app_e2e;
mod config;
mod embed;
mod fga;
mod http_plumbing;
mod memory_api;
mod ops_traps;
mod proptest_config;
mod providers_config;
mod rbac;
mod request_attacks;
mod request_normalization;
mod signin_oidc;
mod signin_workos;
mod ui;
