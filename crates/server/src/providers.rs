//! Config sections -> auth providers: one function per provider, and the composite of them.

use std::sync::Arc;

use mastra_auth::AuthProvider;
use mastra_auth::idp_http::IdpClientConfig;
use mastra_auth::pattern::PatternList;
use mastra_auth::providers::api_keys::{ApiKey, ApiKeysProvider};
use mastra_auth::providers::clerk::{ClerkConfig, ClerkProvider};
use mastra_auth::providers::composite::CompositeProvider;
use mastra_auth::providers::workos::{WorkosConfig, WorkosProvider};
use mastra_auth::providers::{
    Auth0Config, Auth0Provider, FirebaseConfig, FirebaseProvider, JwksConfig, JwksProvider,
    JwtProvider, JwtProviderConfig, OidcConfig, OidcProvider, SupabaseConfig, SupabaseProvider,
};

use crate::app::BuildError;
use crate::config::{AuthConfig, AuthProviderKind, Config};

fn provider_err(e: impl ToString) -> BuildError {
    BuildError::Provider(e.to_string())
}

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
            let composite = CompositeProvider::new("composite", members).map_err(provider_err)?;
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
        AuthProviderKind::Jwks => jwks(auth),
        AuthProviderKind::Oidc => oidc(auth),
        AuthProviderKind::Auth0 => auth0(auth),
        AuthProviderKind::Clerk => clerk(auth),
        AuthProviderKind::Firebase => firebase(auth),
        AuthProviderKind::Supabase => supabase(auth),
        AuthProviderKind::Workos => workos(auth),
        AuthProviderKind::Composite | AuthProviderKind::None => Err(err(
            "auth.composite.providers",
            format!("\"{kind}\" cannot be a member of a composite"),
        )),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn algorithms(
    key: &str,
    names: &Option<Vec<String>>,
) -> Result<Option<Vec<mastra_auth::jwt::Algorithm>>, BuildError> {
    names
        .as_ref()
        .map(|names| {
            names
                .iter()
                .map(|a| {
                    mastra_auth::jwt::alg_from_name(a)
                        .ok_or_else(|| err(key, format!("unknown algorithm {a:?}")))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()
}

fn http(insecure: Option<bool>) -> IdpClientConfig {
    IdpClientConfig {
        allow_insecure_http: insecure.unwrap_or(false),
        ..IdpClientConfig::default()
    }
}

fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *target = v;
    }
}

fn set_opt<T>(target: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *target = value;
    }
}

fn jwks(auth: &AuthConfig) -> Result<Arc<dyn AuthProvider>, BuildError> {
    let s = auth.jwks.clone().unwrap_or_default();
    let mut c = JwksConfig::default();
    set(&mut c.name, s.name);
    set(&mut c.jwks_uri, s.jwks_uri);
    set_opt(&mut c.issuer, s.issuer);
    set_opt(&mut c.audience, s.audience);
    set(&mut c.allow_any_audience, s.allow_any_audience);
    c.algorithms = algorithms("auth.jwks.algorithms", &s.algorithms)?.or(c.algorithms);
    set(&mut c.leeway, s.leeway);
    c.http = http(s.allow_insecure_http);
    Ok(Arc::new(JwksProvider::new(c).map_err(provider_err)?))
}

fn oidc(auth: &AuthConfig) -> Result<Arc<dyn AuthProvider>, BuildError> {
    let s = auth.oidc.clone().unwrap_or_default();
    let mut c = OidcConfig::default();
    set(&mut c.name, s.name);
    set(&mut c.issuer, s.issuer);
    set_opt(&mut c.audience, s.audience);
    set_opt(&mut c.client_id, s.client_id);
    set_opt(&mut c.jwks_uri, s.jwks_uri);
    set_opt(&mut c.discovery_url, s.discovery_url);
    c.algorithms = algorithms("auth.oidc.algorithms", &s.algorithms)?.or(c.algorithms);
    set(&mut c.leeway, s.leeway);
    c.http = http(s.allow_insecure_http);
    Ok(Arc::new(OidcProvider::new(c).map_err(provider_err)?))
}

fn auth0(auth: &AuthConfig) -> Result<Arc<dyn AuthProvider>, BuildError> {
    let s = auth.auth0.clone().unwrap_or_default();
    let mut c = Auth0Config::from_env_with(env);
    set(&mut c.name, s.name);
    set(&mut c.domain, s.domain);
    set(&mut c.audience, s.audience);
    set_opt(&mut c.jwks_uri, s.jwks_uri);
    set_opt(&mut c.base_url, s.base_url);
    set(&mut c.leeway, s.leeway);
    c.http = http(s.allow_insecure_http);
    Ok(Arc::new(Auth0Provider::new(c).map_err(provider_err)?))
}

fn clerk(auth: &AuthConfig) -> Result<Arc<dyn AuthProvider>, BuildError> {
    let s = auth.clerk.clone().unwrap_or_default();
    let mut c = ClerkConfig::default();
    set(&mut c.name, s.name);
    set_opt(&mut c.jwks_uri, s.jwks_uri);
    set_opt(
        &mut c.secret_key,
        s.secret_key.map(|k| k.expose().to_owned()),
    );
    set_opt(&mut c.publishable_key, s.publishable_key);
    set_opt(&mut c.issuer, s.issuer);
    set(&mut c.authorized_parties, s.authorized_parties);
    set_opt(&mut c.organization_id, s.organization_id);
    set_opt(&mut c.organization_slug, s.organization_slug);
    set(&mut c.api_base, s.api_base);
    set(&mut c.leeway, s.leeway);
    set(&mut c.allow_insecure_http, s.allow_insecure_http);
    c.fill_from_env(env);
    Ok(Arc::new(ClerkProvider::new(c).map_err(provider_err)?))
}

fn firebase(auth: &AuthConfig) -> Result<Arc<dyn AuthProvider>, BuildError> {
    let s = auth.firebase.clone().unwrap_or_default();
    let mut c = FirebaseConfig::default();
    set(&mut c.name, s.name);
    set_opt(&mut c.project_id, s.project_id);
    set_opt(
        &mut c.service_account,
        s.service_account.map(|k| k.expose().to_owned()),
    );
    set_opt(&mut c.database_id, s.database_id);
    set_opt(&mut c.certs_url, s.certs_url);
    set_opt(&mut c.token_uri, s.token_uri);
    set_opt(&mut c.firestore_base_url, s.firestore_base_url);
    set(&mut c.leeway, s.leeway);
    set(&mut c.allow_insecure_http, s.allow_insecure_http);
    let c = c.from_env_with(env);
    Ok(Arc::new(FirebaseProvider::new(c).map_err(provider_err)?))
}

fn supabase(auth: &AuthConfig) -> Result<Arc<dyn AuthProvider>, BuildError> {
    let s = auth.supabase.clone().unwrap_or_default();
    let mut c = SupabaseConfig::default();
    set(&mut c.name, s.name);
    set_opt(&mut c.url, s.url);
    set_opt(&mut c.anon_key, s.anon_key.map(|k| k.expose().to_owned()));
    set_opt(
        &mut c.jwt_secret,
        s.jwt_secret.map(|k| k.expose().to_owned()),
    );
    set(&mut c.verify_locally_with_jwks, s.verify_locally_with_jwks);
    set_opt(&mut c.jwks_uri, s.jwks_uri);
    set(&mut c.cache_ttl, s.cache_ttl);
    set(&mut c.leeway, s.leeway);
    set(&mut c.allow_insecure_http, s.allow_insecure_http);
    let c = c.from_env_with(env);
    Ok(Arc::new(SupabaseProvider::new(c).map_err(provider_err)?))
}

fn workos(auth: &AuthConfig) -> Result<Arc<dyn AuthProvider>, BuildError> {
    let s = auth.workos.clone().unwrap_or_default();
    let mut c = WorkosConfig::from_env_with(env);
    set(&mut c.name, s.name);
    set_opt(&mut c.api_key, s.api_key.map(|k| k.expose().to_owned()));
    set_opt(&mut c.client_id, s.client_id);
    set_opt(&mut c.redirect_uri, s.redirect_uri);
    set(&mut c.api_base, s.api_base);
    set_opt(&mut c.jwks_uri, s.jwks_uri);
    set_opt(&mut c.issuer, s.issuer);
    set(&mut c.audience, s.audience);
    set(&mut c.fetch_memberships, s.fetch_memberships);
    set(&mut c.trust_jwt_claims, s.trust_jwt_claims);
    set(&mut c.jwt_claims, s.jwt_claims);
    set(&mut c.require_admin_role, s.require_admin_role);
    set(&mut c.leeway, s.leeway);
    set(&mut c.allow_insecure_http, s.allow_insecure_http);
    Ok(Arc::new(WorkosProvider::new(c).map_err(provider_err)?))
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
            _ => Err(mastra_auth::providers::api_keys::ApiKeyError::KeyOrHash(i)),
        }
        .map_err(provider_err)?;
        keys.push(key);
    }
    let name = c.name.unwrap_or_else(|| "api_keys".into());
    let provider = ApiKeysProvider::new(name, keys, PatternList::default(), PatternList::default())
        .map_err(provider_err)?;
    Ok(Arc::new(provider))
}
