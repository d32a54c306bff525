//! Authentication providers, one file each.

pub mod api_keys;
pub mod composite;
pub mod jwt;

pub use jwt::{JwtProvider, JwtProviderConfig};
pub mod clerk;
pub mod workos;
pub mod firebase;
pub mod supabase;
