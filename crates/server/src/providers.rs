//! Config sections -> auth providers: one function per provider, and the composite of them.

use std::sync::Arc;

use mastra_auth::AuthProvider;
use mastra_auth::pattern::PatternList;
use mastra_auth::providers::api_keys::{ApiKey, ApiKeysProvider};
use mastra_auth::providers::composite::CompositeProvider;
use mastra_auth::providers::{JwtProvider, JwtProviderConfig};

use crate::app::BuildError;
use crate::config::{AuthConfig, AuthProviderKind, Config};

fn err(key: impl Into<String>, message: impl ToString) -> BuildError {
    BuildError::Auth {
        key: key.into(),
        message: message.to_string(),
    }
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
            let composite = CompositeProvider::new("composite", members)
                .map_err(|e| err("auth.composite", e))?;
            Ok(Some(Arc::new(composite)))
        }
        kind => member(auth, kind).map(Some),
    }
}

/// One (non-composite) provider from its `[auth.<name>]` section.
fn member(auth: &AuthConfig, kind: AuthProviderKind) -> Result<Arc<dyn AuthProvider>, BuildError> {
    match kind {
        AuthProviderKind::Jwt => jwt(auth),
        AuthProviderKind::ApiKeys => api_keys(auth),
        AuthProviderKind::Composite | AuthProviderKind::None => Err(err(
            "auth.composite.providers",
            format!("\"{kind}\" cannot be a member of a composite"),
        )),
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
                    mastra_auth::jwt::alg_from_name(a).ok_or_else(|| {
                        err("auth.jwt.algorithms", format!("unknown algorithm {a:?}"))
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
    .map_err(|e| err("auth.jwt", e))?;
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
            _ => Err(mastra_auth::providers::api_keys::ApiKeyError::KeyOrHash(i)),
        }
        .map_err(|e| err("auth.api_keys", e))?;
        keys.push(key);
    }
    let name = c.name.unwrap_or_else(|| "api_keys".into());
    let provider = ApiKeysProvider::new(name, keys, PatternList::default(), PatternList::default())
        .map_err(|e| err("auth.api_keys", e))?;
    Ok(Arc::new(provider))
}
