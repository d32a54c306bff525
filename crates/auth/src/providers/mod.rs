//! Authentication providers, one file each.

pub mod api_keys;
pub mod auth0;
pub mod clerk;
pub mod composite;
pub mod firebase;
pub mod jwks;
pub mod jwt;
pub mod oidc;
pub mod supabase;
pub mod workos;

pub use auth0::{Auth0Config, Auth0Provider};
pub use clerk::{ClerkConfig, ClerkProvider};
pub use firebase::{FirebaseConfig, FirebaseProvider};
pub use jwks::{JwksConfig, JwksProvider};
pub use jwt::{JwtProvider, JwtProviderConfig};
pub use oidc::{OidcConfig, OidcProvider};
pub use supabase::{SupabaseConfig, SupabaseProvider};
pub use workos::{WorkosConfig, WorkosProvider};
