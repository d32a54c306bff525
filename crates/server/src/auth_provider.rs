//! `[auth]` -> the auth provider: one (non-composite) provider per kind, or the composite of
//! them.
//!
//! The identity-provider tables are already the auth crate's config types; building one fills
//! what the file left unset from the environment (each config's `fill_from_env`, with
//! `std::env::var`) and hands it to the provider's constructor. `[auth.jwt]` and
//! `[auth.api_keys]` are converted from the server's own tables.

use std::sync::Arc;

use mastra_auth::AuthProvider;
use mastra_auth::fga::{Fga, FgaChecker, FgaSettings, LocalChecker, WorkosChecker};
use mastra_auth::pattern::PatternList;
use mastra_auth::providers::api_keys::{ApiKey, ApiKeyError, ApiKeysProvider};
use mastra_auth::providers::composite::CompositeProvider;
use mastra_auth::providers::jwt::JwtConfigError;
use mastra_auth::providers::{
    Auth0Provider, ClerkProvider, FirebaseProvider, JwksProvider, JwtProvider, JwtProviderConfig,
    OidcProvider, SupabaseProvider, WorkosProvider,
};
use mastra_auth::rbac::Rbac;

use crate::build_error::BuildError;
use crate::config::{AuthConfig, AuthProviderKind, Config, FgaProviderKind};

/// `[auth.rbac]`, with the claims the provider puts roles and permissions in where the table
/// names none (each list on its own): Clerk's `org_role` (`o.rol` in v2 session tokens), WorkOS's `role` and
/// `permissions`, Auth0's `permissions`, and `roles` for the others.
pub(crate) fn rbac(cfg: &Config) -> Result<Option<Rbac>, BuildError> {
    let Some(table) = &cfg.auth.rbac else {
        return Ok(None);
    };
    let mut table = table.clone();
    let (roles, permissions): (&[&str], &[&str]) = match cfg.auth.provider {
        AuthProviderKind::Clerk => (&["org_role", "o.rol"], &[]),
        AuthProviderKind::Workos => (&["role"], &["permissions"]),
        AuthProviderKind::Auth0 => (&["roles"], &["permissions"]),
        _ => (&["roles"], &[]),
    };
    let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
    if table.roles_claim.is_empty() {
        table.roles_claim = owned(roles);
    }
    if table.permissions_claim.is_empty() {
        table.permissions_claim = owned(permissions);
    }
    Rbac::new(table)
        .map(Some)
        .map_err(|e| provider_err("rbac")(&e))
}

/// `[auth.fga]`: the checker it names, behind the answer cache.
pub(crate) fn fga(cfg: &Config) -> Result<Option<Arc<Fga>>, BuildError> {
    let Some(table) = &cfg.auth.fga else {
        return Ok(None);
    };
    let checker: Arc<dyn FgaChecker> = match table.provider {
        FgaProviderKind::Local => {
            Arc::new(LocalChecker::new(table.tuples.clone()).map_err(|e| provider_err("fga")(&e))?)
        }
        FgaProviderKind::Workos => {
            let mut workos = table.workos.clone().unwrap_or_default();
            workos.fill_from_env(env);
            Arc::new(WorkosChecker::new(workos).map_err(|e| provider_err("fga.workos")(&e))?)
        }
    };
    let settings = FgaSettings {
        cache_ttl: table.cache_ttl,
        cache_capacity: table.cache_capacity,
        concurrency: table.concurrency,
        ..FgaSettings::default()
    };
    Ok(Some(Arc::new(Fga::new(checker, settings))))
}

/// A provider's refusal of its `[auth.<table>]` settings. The auth crate's config errors begin
/// with the name of the field at fault, so the table's path in front makes it the config key.
fn provider_err(table: &'static str) -> impl Fn(&dyn std::fmt::Display) -> BuildError {
    move |e| BuildError::Provider(format!("auth.{table}.{e}"))
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
            let composite = CompositeProvider::new("composite", members)
                .map_err(|e| provider_err("composite")(&e))?;
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
    fn boxed<P: AuthProvider + 'static, E: std::fmt::Display>(
        table: &'static str,
        built: Result<P, E>,
    ) -> Result<Arc<dyn AuthProvider>, BuildError> {
        Ok(Arc::new(built.map_err(|e| provider_err(table)(&e))?))
    }
    match kind {
        AuthProviderKind::Jwt => jwt(auth),
        AuthProviderKind::ApiKeys => api_keys(auth),
        AuthProviderKind::Jwks => boxed("jwks", JwksProvider::new(section!(auth.jwks))),
        AuthProviderKind::Oidc => boxed("oidc", OidcProvider::new(section!(auth.oidc))),
        AuthProviderKind::Auth0 => boxed("auth0", Auth0Provider::new(section!(auth.auth0))),
        AuthProviderKind::Clerk => boxed("clerk", ClerkProvider::new(section!(auth.clerk))),
        AuthProviderKind::Firebase => {
            boxed("firebase", FirebaseProvider::new(section!(auth.firebase)))
        }
        AuthProviderKind::Supabase => {
            boxed("supabase", SupabaseProvider::new(section!(auth.supabase)))
        }
        AuthProviderKind::Workos => boxed("workos", WorkosProvider::new(section!(auth.workos))),
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
        secret: j.secret.clone(),
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
    .map_err(jwt_err)?;
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
        .map_err(|e| api_key_err(&e))?;
        keys.push(key);
    }
    let name = c.name.unwrap_or_else(|| "api_keys".into());
    let provider = ApiKeysProvider::new(name, keys, PatternList::default(), PatternList::default())
        .map_err(|e| api_key_err(&e))?;
    Ok(Arc::new(provider))
}

/// The jwt provider's refusal in `[auth.jwt]`'s terms, whose key is `public_key` where the
/// library's field is `public_key_pem`.
fn jwt_err(e: JwtConfigError) -> BuildError {
    let message = match e {
        JwtConfigError::NoKey => {
            "auth.jwt needs a key: set auth.jwt.secret (or MASTRA_JWT_SECRET / \
                                  JWT_AUTH_SECRET) or auth.jwt.public_key"
                .to_owned()
        }
        other => {
            let text = other.to_string();
            match text.strip_prefix("public_key_pem") {
                Some(rest) => format!("auth.jwt.public_key{rest}"),
                None => format!("auth.jwt.{text}"),
            }
        }
    };
    BuildError::Provider(message)
}

/// An `[auth.api_keys]` refusal, with the CLI command that prints a key's hash where that helps.
fn api_key_err(e: &ApiKeyError) -> BuildError {
    let hint = match e {
        ApiKeyError::BadHash(_) => " (`mastra token hash-key KEY` prints it)",
        _ => "",
    };
    BuildError::Provider(format!("auth.api_keys.{e}{hint}"))
}

#[cfg(test)]
mod tests {
    use super::build;
    use crate::config::Config;

    fn refusal(toml: &str) -> String {
        let cfg = Config::from_toml_str(toml, "t.toml").expect("parses");
        match build(&cfg) {
            Ok(_) => panic!("built a provider from {toml}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn library_refusals_are_rendered_with_the_table_path_in_front() {
        let err = refusal("[auth]\nprovider = \"clerk\"\n[auth.clerk]\nsecret_key = \"sk\"\n");
        assert!(
            err.starts_with("auth.clerk.publishable_key (or CLERK_PUBLISHABLE_KEY) is required"),
            "{err}"
        );
        let err = refusal(
            "[auth]\nprovider = \"supabase\"\n[auth.supabase]\nurl = \"https://p.supabase.co\"\n\
             anon_key = \"anon\"\njwt_secret = \"short\"\n",
        );
        assert!(
            err.starts_with("auth.supabase.jwt_secret (SUPABASE_JWT_SECRET) is 5 bytes"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_api_key_hash_names_the_entry_and_the_command_that_prints_one() {
        let err = refusal(
            "[auth]\nprovider = \"api_keys\"\n[[auth.api_keys.keys]]\nsha256 = \"00\"\nuser = \"u\"\n",
        );
        assert_eq!(
            err,
            "auth.api_keys.keys[0].sha256 must be 64 hex digits (the SHA-256 of the key) \
             (`mastra token hash-key KEY` prints it)"
        );
    }
}
