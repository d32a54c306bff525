//! The integration tests of `mastra-auth`, in one test binary (each linking the whole stack —
//! aws-lc, tokio, axum, CEL — costs build time and disk): one module per area, with the shared
//! helpers in [`common_keys`] (fixture keys, token minting) and [`fakes`] (local IdP servers).
//!
//! Fixtures stay in `tests/fixtures/` and public vectors in `tests/vectors/`, read through
//! `CARGO_MANIFEST_DIR`.

mod common_keys;
mod fakes;

mod attack_corpus;
mod fault_injection;
mod idp_http;
mod jwt_provider;
mod keyset;
mod oidc_provider_e2e;
mod pipeline_http;
mod prepared_keys;
mod proptest_keyset;
mod proptest_normalize;
mod proptest_pattern;
mod proptest_token;
mod provider_clerk;
mod provider_composite;
mod provider_firebase;
mod provider_supabase;
mod provider_workos;
mod providers_jwks_oidc_auth0;
mod rules_cel;
