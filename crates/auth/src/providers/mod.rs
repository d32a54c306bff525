//! Authentication providers, one file each.

pub mod jwt;

pub use jwt::{JwtProvider, JwtProviderConfig};
