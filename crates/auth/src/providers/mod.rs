//! Authentication providers, one file each.

pub mod api_keys;
#[cfg(feature = "remote")]
pub mod auth0;
#[cfg(feature = "remote")]
pub mod clerk;
pub mod composite;
#[cfg(feature = "remote")]
pub mod firebase;
#[cfg(feature = "remote")]
pub mod jwks;
pub mod jwt;
#[cfg(feature = "remote")]
pub mod oidc;
#[cfg(feature = "remote")]
pub mod supabase;
#[cfg(feature = "remote")]
pub mod workos;

#[cfg(feature = "remote")]
pub use auth0::{Auth0Config, Auth0Provider};
#[cfg(feature = "remote")]
pub use clerk::{ClerkConfig, ClerkProvider};
#[cfg(feature = "remote")]
pub use firebase::{FirebaseConfig, FirebaseProvider};
#[cfg(feature = "remote")]
pub use jwks::{JwksConfig, JwksProvider};
pub use jwt::{JwtProvider, JwtProviderConfig};
#[cfg(feature = "remote")]
pub use oidc::{OidcConfig, OidcProvider};
#[cfg(feature = "remote")]
pub use supabase::{SupabaseConfig, SupabaseProvider};
#[cfg(feature = "remote")]
pub use workos::{WorkosConfig, WorkosProvider};
