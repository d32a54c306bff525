//! `mastra config check`: parse, validate, build, and lint a configuration.

use std::path::PathBuf;
use std::process::ExitCode;

use mastra_server::config::{AuthProviderKind, Config, Secret};
use mastra_server::signin::{SignIn, SignInStatus};

use crate::serve::{DevSecret, DevSecretMode};

/// Runs the check; exit 0 when usable (warnings allowed), 1 when not.
pub fn run(flag: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let mut settings = match crate::serve::load_settings(flag, None, DevSecretMode::ReadOnly) {
        Ok(s) => s,
        Err(e) => {
            println!("INVALID  {e:#}");
            return Ok(ExitCode::from(1));
        }
    };
    // A check never writes the development secret; `serve` generates one when it starts, so
    // any well-formed secret, held in memory only, stands in for it while the rest is built.
    if matches!(settings.dev_secret, DevSecret::Missing)
        && let Some(jwt) = settings.config.auth.jwt.as_mut()
    {
        jwt.secret = Some(Secret::new(crate::serve::random_secret()));
    }
    let cfg = &settings.config;
    let auth = match mastra_server::app::build_auth(cfg) {
        Ok(a) => a,
        Err(e) => {
            println!("INVALID  {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let mut warnings = Vec::new();
    let sign_in_line = match sign_in(cfg, auth.as_ref(), &mut warnings) {
        Ok(line) => line,
        Err(e) => {
            println!("INVALID  {e}");
            return Ok(ExitCode::from(1));
        }
    };
    if let Err(e) = mastra_server::app::build_registry(cfg) {
        println!("INVALID  {e}");
        return Ok(ExitCode::from(1));
    }
    if let Some(auth) = &auth
        && let Some(rules) = &auth.policy().rules
    {
        for (shadowed, by) in mastra_auth::rules::shadowed(rules) {
            warnings.push(format!(
                    "auth.rules[{shadowed}] can never match: auth.rules[{by}] matches every request it would"
                ));
        }
        // A condition that fails to evaluate makes a deny rule apply: one that reads a claim
        // unguarded denies users without that claim on the requests it reaches the read for.
        for (index, claims) in mastra_auth::rules::deny_rules_on_missing_claims(rules) {
            for claim in claims {
                warnings.push(format!(
                    "auth.rules[{index}] (allow = false) can deny every user who lacks the claim `{claim}`: its condition reads the claim without a has() guard, and a deny rule whose condition fails to evaluate applies"
                ));
            }
        }
    }
    if let Some(rbac) = auth.as_ref().and_then(|a| a.policy().rbac.as_ref()) {
        warnings.extend(rbac_lints(
            rbac,
            &mastra_server::route_permissions::route_permissions(cfg),
        ));
    }
    match cfg.auth.provider {
        AuthProviderKind::None => warnings
            .push("auth.provider = \"none\": every route is reachable without credentials".into()),
        AuthProviderKind::Jwt => {
            if let Some(j) = &cfg.auth.jwt {
                if j.public_key.is_some() && j.audience.is_empty() {
                    warnings.push(
                        "auth.jwt.audience is not set: tokens the key's issuer minted for other services are accepted too".into(),
                    );
                }
                if j.public_key.is_some() && j.issuer.is_none() {
                    warnings.push("auth.jwt.issuer is not set: the issuer is not checked".into());
                }
            }
        }
        _ => {}
    }
    if cfg.server.tls.is_none()
        && !matches!(cfg.server.host.as_str(), "localhost" | "127.0.0.1" | "::1")
    {
        warnings.push(format!(
            "server.host = {:?} without server.tls: bearer tokens cross the network in clear text unless a TLS proxy fronts the server",
            cfg.server.host
        ));
    }
    let page_line = page(cfg, &mut warnings);
    println!("OK  {}", settings.describe());
    if let Some(line) = sign_in_line {
        println!("{line}");
    }
    if let Some(line) = page_line {
        println!("{line}");
    }
    for w in &warnings {
        println!("warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Mapped permissions no route needs (a typo, a resource the server does not serve) and roles
/// that grant nothing any route needs.
fn rbac_lints(
    rbac: &mastra_auth::rbac::Rbac,
    routes: &[mastra_server::route_permissions::RoutePermission],
) -> Vec<String> {
    let used = |granted: &str| {
        routes
            .iter()
            .any(|r| mastra_auth::permission::covers(granted, &r.permission))
    };
    let mut needed: Vec<&str> = routes.iter().map(|r| r.permission.as_str()).collect();
    needed.sort_unstable();
    needed.dedup();
    let mut warnings = Vec::new();
    for (role, permissions) in rbac.mapping() {
        let unused: Vec<&str> = permissions
            .iter()
            .map(String::as_str)
            .filter(|p| !used(p))
            .collect();
        if unused.len() == permissions.len() {
            warnings.push(format!(
                "auth.rbac.roles.{role} grants nothing any route needs: its users are refused everywhere RBAC applies (the routes need {})",
                needed.join(", ")
            ));
        } else {
            for p in unused {
                warnings.push(format!(
                    "auth.rbac.roles.{role}: no route needs `{p}` (the routes need {})",
                    needed.join(", ")
                ));
            }
        }
    }
    warnings
}

/// Explains the built-in page: `None` when it is off, else where it is, with a warning when
/// people could not use it (the API needs credentials the page cannot obtain).
fn page(cfg: &Config, warnings: &mut Vec<String>) -> Option<String> {
    if !cfg.ui.enabled {
        return None;
    }
    let signs_in = matches!(
        mastra_server::signin::status(cfg, |k| std::env::var(k).ok()),
        SignInStatus::On(_) | SignInStatus::NeedsSessionSecret(_)
    );
    if cfg.auth.provider != AuthProviderKind::None && !signs_in {
        warnings.push(format!(
            "ui.enabled: the page at {} cannot sign anyone in: the API needs credentials and browser sign-in is off; turn sign-in on (provider oidc, auth0 or workos with [auth.sso]) or use auth.provider = \"none\" on a private network",
            mastra_server::ui::INDEX_PATH
        ));
    }
    Some(format!("page: on at {}", mastra_server::ui::INDEX_PATH))
}

/// Explains browser sign-in: `None` when the provider has none to offer, a line saying whether
/// it is on (and what would turn it on), warnings, or an error naming what is missing.
fn sign_in(
    cfg: &Config,
    auth: Option<&mastra_auth::Auth>,
    warnings: &mut Vec<String>,
) -> Result<Option<String>, String> {
    let how = match cfg.auth.provider {
        AuthProviderKind::Workos => {
            "set auth.workos.redirect_uri (WORKOS_REDIRECT_URI) or add [auth.sso]"
        }
        AuthProviderKind::Auth0 => {
            "set AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET, or add [auth.sso] client_id and client_secret"
        }
        AuthProviderKind::Oidc => "add [auth.sso] client_id (or set OIDC_CLIENT_ID)",
        _ => return Ok(None),
    };
    let env = |k: &str| std::env::var(k).ok();
    let kind = match mastra_server::signin::status(cfg, env) {
        SignInStatus::Off => {
            return Ok(Some(format!("browser sign-in: off (to turn it on, {how})")));
        }
        SignInStatus::Incomplete(missing) => {
            return Err(format!(
                "auth.sso: browser sign-in needs {}",
                missing.join(" and ")
            ));
        }
        SignInStatus::NeedsSessionSecret(kind) => {
            warnings.push(format!(
                "browser sign-in has no session secret (MASTRA_SESSION_SECRET or [auth.session] secrets): `mastra serve` generates a development one in {}; set one in production, the same on every replica",
                crate::serve::DEV_SESSION_SECRET_PATH
            ));
            kind
        }
        SignInStatus::On(kind) => kind,
    };
    // Build it as `serve` would (a stand-in secret when `serve` would generate one).
    let mut cfg = cfg.clone();
    let session = cfg.auth.session.get_or_insert_with(Default::default);
    if session.secrets.is_empty()
        && std::env::var(mastra_server::config::SESSION_SECRET_ENV).is_err()
    {
        session.secrets = vec![Secret::new(crate::serve::random_secret())];
    }
    if let Some(auth) = auth {
        SignIn::build(&cfg, auth.provider().clone(), env).map_err(|e| e.to_string())?;
    }
    Ok(Some(format!(
        "browser sign-in: on ({kind}) at {}/auth/sso/login",
        cfg.server.api_prefix
    )))
}
