//! Local fakes of identity-provider endpoints, started on loopback by the tests that use them.
//!
//! Include with `mod fakes;` from a test file. Each fake lives in its own file; add siblings here.
#![allow(dead_code)]

pub mod clerk;
pub mod firestore;
pub mod google;
pub mod jwks;
pub mod supabase;
pub mod workos;
