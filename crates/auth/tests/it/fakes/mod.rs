//! Local fakes of identity-provider endpoints, started on loopback by the tests that use them.
//!
//! Used as `crate::fakes` by the test modules. Each fake lives in its own file; add siblings here.

pub mod clerk;
pub mod firestore;
pub mod google;
pub mod jwks;
pub mod supabase;
pub mod workos;
