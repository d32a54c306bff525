//! `[auth]` -> the auth provider: one (non-composite) provider per kind, or the composite of
//! them.
//!
//! The identity-provider tables are already the auth crate's config types; building one fills
//! what the file left unset from the environment (each config's `fill_from_env`, with
//! `std::env::var`) and hands it to the provider's constructor. `[auth.jwt]` and
//! `[auth.api_keys]` are converted from the server's own tables.

use std::sync::Arc;

use mastra_auth::AuthProvider;
use mastra_auth::pattern::PatternList;
use mastra_auth::providers::api_keys::{ApiKey, ApiKeyError, ApiKeysProvider};
use mastra_auth::providers::composite::CompositeProvider;
use mastra_auth::providers::{
    Auth0Provider, ClerkProvider, FirebaseProvider, JwksProvider, JwtProvider, JwtProviderConfig,
    OidcProvider, SupabaseProvider, WorkosProvider,
};

use crate::build_error::BuildError;
use crate::config::{AuthConfig, AuthProviderKind, Config};

fn provider_err(e: impl ToString) -> BuildError {
    BuildError::Provider(e.to_string())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The provider named by `[auth] provider`, or `None` for `"none"`.
pub fn build(cfg: &Config) -> Result<Option<Arc<dyn AuthProvider>>, BuildError> {
    let auth = &cfg.auth;
    match auth.provider {
        AuthProviderKind::None => Ok(None),
        AuthProviderKind::Composite => {
            let kinds = auth
                .composite
                .as_ref()
                .map(|c| c.providers.clone())
                .unwrap_or_default();
            let members = kinds
                .into_iter()
                .map(|k| member(auth, k))
                .collect::<Result<Vec<_>, _>>()?;
            let composite = CompositeProvider::new("composite", members).map_err(provider_err)?;
            Ok(Some(Arc::new(composite)))
        }
        kind => member(auth, kind).map(Some),
    }
}

/// A provider's table (its defaults when absent), completed from the environment.
macro_rules! section {
    ($table:expr) => {{
        let mut config = $table.clone().unwrap_or_default();
        config.fill_from_env(env);
        config
    }};
}

/// One (non-composite) provider from its `[auth.<name>]` table.
fn member(auth: &AuthConfig, kind: AuthProviderKind) -> Result<Arc<dyn AuthProvider>, BuildError> {
    fn boxed<P: AuthProvider + 'static, E: ToString>(
        built: Result<P, E>,
    ) -> Result<Arc<dyn AuthProvider>, BuildError> {
        Ok(Arc::new(built.map_err(provider_err)?))
    }
    match kind {
        AuthProviderKind::Jwt => jwt(auth),
        AuthProviderKind::ApiKeys => api_keys(auth),
        AuthProviderKind::Jwks => boxed(JwksProvider::new(section!(auth.jwks))),
        AuthProviderKind::Oidc => boxed(OidcProvider::new(section!(auth.oidc))),
        AuthProviderKind::Auth0 => boxed(Auth0Provider::new(section!(auth.auth0))),
        AuthProviderKind::Clerk => boxed(ClerkProvider::new(section!(auth.clerk))),
        AuthProviderKind::Firebase => boxed(FirebaseProvider::new(section!(auth.firebase))),
        AuthProviderKind::Supabase => boxed(SupabaseProvider::new(section!(auth.supabase))),
        AuthProviderKind::Workos => boxed(WorkosProvider::new(section!(auth.workos))),
        AuthProviderKind::Composite | AuthProviderKind::None => Err(BuildError::Auth {
            key: "auth.composite.providers".into(),
            message: format!("\"{kind}\" cannot be a member of a composite"),
        }),
    }
}

fn jwt(auth: &AuthConfig) -> Result<Arc<dyn AuthProvider>, BuildError> {
    let j = auth.jwt.clone().unwrap_or_default();
    let algorithms = if j.algorithms.is_empty() {
        None
    } else {
        Some(
            j.algorithms
                .iter()
                .map(|a| {
                    mastra_auth::config_serde::parse_algorithm(a).map_err(|message| {
                        BuildError::Auth {
                            key: "auth.jwt.algorithms".into(),
                            message,
                        }
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        )
    };
    let provider = JwtProvider::new(JwtProviderConfig {
        secret: j.secret.as_ref().map(|s| s.expose().to_owned()),
        public_key_pem: j.public_key.clone(),
        algorithms,
        claims: mastra_auth::jwt::ClaimsPolicy {
            issuers: j.issuer.iter().cloned().collect(),
            audiences: j.audience.clone(),
            require_exp: j.require_exp,
            leeway: j.leeway,
        },
        max_token_bytes: j.max_token_bytes,
        cache_capacity: j.cache_capacity,
        ..JwtProviderConfig::default()
    })
    .map_err(provider_err)?;
    Ok(Arc::new(provider))
}

fn api_keys(auth: &AuthConfig) -> Result<Arc<dyn AuthProvider>, BuildError> {
    let c = auth.api_keys.clone().unwrap_or_default();
    let mut keys = Vec::with_capacity(c.keys.len());
    for (i, k) in c.keys.iter().enumerate() {
        let key = match (&k.sha256, &k.key) {
            (Some(hash), None) => ApiKey::from_hash(i, hash, k.user.clone(), k.claims.clone()),
            (None, Some(plain)) => {
                ApiKey::from_plaintext(i, plain.expose(), k.user.clone(), k.claims.clone())
            }
            _ => Err(ApiKeyError::KeyOrHash(i)),
        }
        .map_err(provider_err)?;
        keys.push(key);
    }
    let name = c.name.unwrap_or_else(|| "api_keys".into());
    let provider = ApiKeysProvider::new(name, keys, PatternList::default(), PatternList::default())
        .map_err(provider_err)?;
    Ok(Arc::new(provider))
}
