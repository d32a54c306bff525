//! `mastra token sign` and `mastra token verify`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mastra_auth::jwt;
use mastra_server::config::{AuthProviderKind, Secret};
use serde_json::{Map, Value};

use crate::serve::{DEV_SECRET_PATH, DevSecret, DevSecretMode};

/// Token subcommands.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Print a signed JWT (HS256 with --secret, or RS/PS/ES/EdDSA with --key).
    Sign(SignArgs),
    /// Verify a token against a config (or a secret) and explain the decision.
    Verify(VerifyArgs),
    /// Print the SHA-256 to put in `[[auth.api_keys.keys]] sha256 = ...` for an API key.
    HashKey {
        /// The API key (or `-` to read it from standard input, keeping it out of shell history).
        key: String,
    },
}

/// `token sign`.
#[derive(Args, Debug)]
pub struct SignArgs {
    /// HMAC secret (or MASTRA_JWT_SECRET); without it or --key, the jwt secret of ./mastra.toml,
    /// else the development secret that `mastra serve` created in .mastra/.
    #[arg(long, env = "MASTRA_JWT_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// PEM private key file, for RS*/PS*/ES*/EdDSA.
    #[arg(long, conflicts_with = "secret")]
    key: Option<PathBuf>,
    /// Algorithm (default HS256 with --secret; required with --key).
    #[arg(long)]
    alg: Option<String>,
    /// `sub` claim.
    #[arg(long, default_value = "dev-user")]
    sub: String,
    /// Lifetime, e.g. 1h, 30m, 7d; `none` for no `exp`.
    #[arg(long, default_value = "1h")]
    exp: String,
    /// Issuer (`iss`).
    #[arg(long)]
    iss: Option<String>,
    /// Audience (`aud`), repeatable.
    #[arg(long)]
    aud: Vec<String>,
    /// Key id header (`kid`).
    #[arg(long)]
    kid: Option<String>,
    /// Extra claim `key=value`; the value is parsed as JSON when it is JSON, else kept a string.
    #[arg(long = "claim", value_name = "KEY=VALUE")]
    claims: Vec<String>,
}

/// `token verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The token (or `-` to read it from standard input).
    token: String,
    /// Config file whose `[auth]` settings verify the token (default ./mastra.toml, else the dev
    /// secret under .mastra/).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Verify with this HMAC secret instead of a config.
    #[arg(long, env = "MASTRA_JWT_SECRET", hide_env_values = true)]
    secret: Option<String>,
}

/// Runs a token subcommand.
pub fn run(cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TokenCommand::Sign(a) => {
            println!("{}", sign(&a)?);
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Verify(a) => verify(a),
        TokenCommand::HashKey { key } => {
            let key = if key == "-" {
                let mut s = String::new();
                std::io::stdin().read_line(&mut s)?;
                s.trim_end_matches(['\r', '\n']).to_owned()
            } else {
                key
            };
            println!("{}", mastra_auth::providers::api_keys::hash_key(&key));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_claim(kv: &str) -> anyhow::Result<(String, Value)> {
    let (k, v) = kv
        .split_once('=')
        .with_context(|| format!("--claim {kv:?}: expected KEY=VALUE"))?;
    if k.is_empty() {
        bail!("--claim {kv:?}: the key is empty");
    }
    let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned()));
    Ok((k.to_owned(), value))
}

/// Builds and signs the token described by the arguments.
pub fn sign(a: &SignArgs) -> anyhow::Result<String> {
    let now = jwt::now_secs();
    let mut claims = Map::new();
    claims.insert("sub".into(), a.sub.clone().into());
    claims.insert("iat".into(), now.into());
    if a.exp != "none" {
        let d: Duration = humantime::parse_duration(&a.exp).with_context(|| {
            format!(
                "--exp {:?}: use a duration like 30m, 1h, 7d, or none",
                a.exp
            )
        })?;
        claims.insert("exp".into(), (now + d.as_secs()).into());
    }
    if let Some(iss) = &a.iss {
        claims.insert("iss".into(), iss.clone().into());
    }
    match a.aud.as_slice() {
        [] => {}
        [one] => {
            claims.insert("aud".into(), one.clone().into());
        }
        many => {
            claims.insert("aud".into(), many.to_vec().into());
        }
    }
    for kv in &a.claims {
        let (k, v) = parse_claim(kv)?;
        claims.insert(k, v);
    }
    // Kept alive while `secret` borrows it.
    let resolved;
    let secret = match (&a.secret, &a.key) {
        (Some(_), Some(_)) => bail!("give either --secret or --key, not both"),
        (Some(s), None) => Some(s.as_str()),
        (None, Some(_)) => None,
        (None, None) => {
            resolved = configured_secret()?;
            Some(resolved.expose())
        }
    };
    let (alg, key) = match (secret, &a.key) {
        (Some(secret), _) => {
            if secret.len() < mastra_auth::providers::jwt::MIN_SECRET_BYTES {
                eprintln!(
                    "warning: the secret is {} bytes; servers refuse secrets under {} bytes",
                    secret.len(),
                    mastra_auth::providers::jwt::MIN_SECRET_BYTES
                );
            }
            let alg = alg_arg(a.alg.as_deref().unwrap_or("HS256"))?;
            if !matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
                bail!("--alg {alg:?} needs --key, not --secret");
            }
            (alg, EncodingKey::from_secret(secret.as_bytes()))
        }
        (None, Some(path)) => {
            let pem = std::fs::read(path)
                .with_context(|| format!("cannot read --key {}", path.display()))?;
            let alg = alg_arg(a.alg.as_deref().context(
                "--alg is required with --key (RS256, PS256, ES256, ES384, EdDSA, ...)",
            )?)?;
            let key = match alg {
                Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512 => EncodingKey::from_rsa_pem(&pem),
                Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(&pem),
                Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem),
                _ => bail!("--alg {alg:?} needs --secret, not --key"),
            }
            .with_context(|| {
                format!(
                    "--key {}: not a PEM private key for {alg:?}",
                    path.display()
                )
            })?;
            (alg, key)
        }
        (None, None) => bail!("give --secret (or set MASTRA_JWT_SECRET) or --key"),
    };
    let mut header = Header::new(alg);
    header.kid = a.kid.clone();
    jsonwebtoken::encode(&header, &Value::Object(claims), &key).context("signing failed")
}

/// The HMAC secret `token verify` checks against when given no `--secret`: the jwt secret of
/// ./mastra.toml or the environment, else the development secret `mastra serve` created here.
fn configured_secret() -> anyhow::Result<Secret> {
    let mut settings = crate::serve::load_settings(None, None, DevSecretMode::ReadOnly)?;
    if matches!(settings.dev_secret, DevSecret::Missing) {
        bail!(
            "no secret to sign with: pass --secret SECRET or --key PEM, or set MASTRA_JWT_SECRET; \
             without these the development secret {DEV_SECRET_PATH} is used, which `mastra serve` \
             creates in the directory it runs in (there is none in this directory)"
        );
    }
    let described = settings.describe();
    if settings.config.auth.provider != AuthProviderKind::Jwt {
        bail!(
            "no secret to sign with: pass --secret SECRET or --key PEM ({described} has no jwt secret)"
        );
    }
    let secret = settings
        .config
        .auth
        .jwt
        .as_mut()
        .and_then(|j| j.secret.take())
        .with_context(|| {
            format!(
                "no secret to sign with: pass --key PEM with --alg ({described} verifies with a public key, which cannot sign)"
            )
        })?;
    // On stderr, so that `TOKEN=$(mastra token sign)` captures the token alone.
    eprintln!("signing with the secret of {described}");
    Ok(secret)
}

fn alg_arg(name: &str) -> anyhow::Result<Algorithm> {
    jwt::alg_from_name(name).with_context(|| {
        format!("--alg {name:?}: use one of HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA")
    })
}

fn verify(a: VerifyArgs) -> anyhow::Result<ExitCode> {
    let token = if a.token == "-" {
        let mut s = String::new();
        std::io::stdin().read_line(&mut s)?;
        s.trim().to_owned()
    } else {
        a.token.trim().to_owned()
    };
    let token = token
        .strip_prefix("Bearer ")
        .or_else(|| token.strip_prefix("bearer "))
        .unwrap_or(&token)
        .to_owned();

    let settings = crate::serve::load_settings(a.config, a.secret, DevSecretMode::ReadOnly)?;
    if matches!(settings.dev_secret, DevSecret::Missing) {
        bail!("{}", crate::serve::no_secret_help());
    }

    // Show what the token says before judging it (never the signature). A credential that is
    // not a JWT (an API key) still goes to the provider, which alone knows whether it takes it.
    match jwt::parse(&token, usize::MAX) {
        Ok(parsed) => {
            println!(
                "header:  alg={:?} kid={} typ={}",
                parsed.header.alg,
                parsed.header.kid.as_deref().unwrap_or("-"),
                parsed.header.typ.as_deref().unwrap_or("-")
            );
            println!("claims:  {}", Value::Object(parsed.claims.clone()));
        }
        Err(_) => println!("token:   not a JWT"),
    }

    println!("checked against: {}", settings.describe());
    let auth = mastra_server::app::build_auth(&settings.config)
        .map_err(anyhow::Error::msg)?
        .context("auth.provider is \"none\": every token is ignored")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let parts = http::Request::builder()
        .uri("/api/agents")
        .body(())
        .map(|r| r.into_parts().0)
        .context("building a probe request")?;
    let result = rt.block_on(auth.provider().authenticate(&token, &parts).resolve());
    match result {
        Ok(Some(user)) => {
            println!("ACCEPT  user id={:?} provider={}", user.id, user.provider);
            // The claims as the provider resolved them, which rules and handlers see: for an
            // API key they come from the config, not from the credential.
            println!("        claims: {}", Value::Object((*user.claims).clone()));
            if let Some(exp) = user.claim("exp").and_then(Value::as_f64) {
                let left = exp - jwt::now_secs() as f64;
                println!("        expires in {}s", left.round());
            } else {
                println!("        no exp: valid until the key changes");
            }
            if let Some(rbac) = &auth.policy().rbac {
                let grants = rbac.grants(&user);
                println!("        roles: {}", list_or_none(&grants.roles));
                println!("        permissions: {}", list_or_none(&grants.permissions));
            }
            Ok(ExitCode::SUCCESS)
        }
        Ok(None) => {
            println!("REJECT  the provider returned no user");
            Ok(ExitCode::from(1))
        }
        Err(mastra_auth::AuthError::InvalidToken(reason)) => {
            println!("REJECT  {reason}");
            Ok(ExitCode::from(1))
        }
        Err(other) => {
            println!("ERROR   {other}");
            Ok(ExitCode::from(2))
        }
    }
}

/// `a, b, c`, or `(none)`.
fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(", ")
    }
}
