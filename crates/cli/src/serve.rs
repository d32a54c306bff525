//! `mastra serve`, and the settings loading shared with `token verify` and `config check`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use mastra_server::config::{AuthProviderKind, Config, JwtConfig, Secret};
use rand::RngCore;

/// Where the generated development secret lives (relative to the working directory).
pub const DEV_SECRET_PATH: &str = ".mastra/dev-secret";

/// `serve` arguments; flags override the config file.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Config file (default: ./mastra.toml if present, else built-in defaults).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Host to bind (default from config, else localhost).
    #[arg(long)]
    host: Option<String>,
    /// Port to bind (default from config, else 4111; 0 picks a free port).
    #[arg(long, short)]
    port: Option<u16>,
}

/// A loaded configuration and where its key came from.
pub struct Settings {
    /// The effective configuration.
    pub config: Config,
    /// The config file, if any.
    pub path: Option<PathBuf>,
    /// Set when the jwt secret is the generated development secret.
    pub dev_secret: Option<String>,
}

impl Settings {
    /// One line saying what the settings are made of.
    pub fn describe(&self) -> String {
        let mut s = match &self.path {
            Some(p) => format!("{} (provider {})", p.display(), self.config.auth.provider),
            None => format!("built-in defaults (provider {})", self.config.auth.provider),
        };
        if self.dev_secret.is_some() {
            let _ = write!(s, ", development secret from {DEV_SECRET_PATH}");
        }
        s
    }
}

/// Loads the config (file or defaults), fills provider settings from the environment, and
/// falls back to the development secret when the jwt provider has no key at all.
pub fn load_settings(flag: Option<PathBuf>, secret: Option<String>) -> anyhow::Result<Settings> {
    let path = crate::config_path(flag);
    let mut config = match &path {
        Some(p) => Config::load(p).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => Config::default(),
    };
    config.fill_from_env(|k| std::env::var(k).ok());
    let mut dev_secret = None;
    if config.auth.provider == AuthProviderKind::Jwt {
        let jwt = config.auth.jwt.get_or_insert_with(JwtConfig::default);
        if let Some(s) = secret {
            jwt.secret = Some(Secret::new(s));
        }
        if jwt.secret.is_none() && jwt.public_key.is_none() {
            if path.is_some() {
                anyhow::bail!(
                    "the jwt provider has no key: set auth.jwt.secret or auth.jwt.public_key in {}, or MASTRA_JWT_SECRET",
                    path.as_deref()
                        .map(Path::display)
                        .map(|d| d.to_string())
                        .unwrap_or_default()
                );
            }
            let s = dev_secret_load_or_create(Path::new(DEV_SECRET_PATH))?;
            jwt.secret = Some(Secret::new(s.clone()));
            dev_secret = Some(s);
        }
    }
    Ok(Settings {
        config,
        path,
        dev_secret,
    })
}

/// Reads the development secret, creating it (32 random bytes, hex, mode 0600) if absent.
pub fn dev_secret_load_or_create(path: &Path) -> anyhow::Result<String> {
    if let Ok(s) = std::fs::read_to_string(path) {
        let s = s.trim().to_owned();
        if s.len() >= mastra_auth::providers::jwt::MIN_SECRET_BYTES {
            return Ok(s);
        }
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    write_private(path, &secret).with_context(|| format!("writing {}", path.display()))?;
    Ok(secret)
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// Runs the server until SIGINT/SIGTERM.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let mut settings = load_settings(args.config, None)?;
    if let Some(h) = args.host {
        settings.config.server.host = h;
    }
    if let Some(p) = args.port {
        settings.config.server.port = p;
    }
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async move {
        let server = mastra_server::app::Server::bind(&settings.config)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        // The providers hold what they need; drop (and so wipe) the config's copies of the
        // secrets now rather than at exit.
        let described = settings.describe();
        drop(std::mem::take(&mut settings.config.auth));
        let addr = server.local_addr()?;
        let scheme = if server.is_tls() { "https" } else { "http" };
        let host = match settings.config.server.host.as_str() {
            "0.0.0.0" | "::" => "localhost".to_owned(),
            h => h.to_owned(),
        };
        let base = format!("{scheme}://{host}:{}", addr.port());
        println!("mastra server listening on {base} ({described})");
        println!("  health:  {base}/health");
        println!(
            "  agents:  {base}{}/agents",
            settings.config.server.api_prefix
        );
        if let Some(secret) = &settings.dev_secret {
            print_dev_token(&base, &settings.config.server.api_prefix, secret)?;
        }
        server.run().await.context("server stopped with an error")
    })?;
    Ok(ExitCode::SUCCESS)
}

fn print_dev_token(base: &str, prefix: &str, secret: &str) -> anyhow::Result<()> {
    let now = mastra_auth::jwt::now_secs();
    let claims = serde_json::json!({"sub": "dev-user", "name": "Development User", "iat": now, "exp": now + 24 * 3600});
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )?;
    println!();
    println!("Development auth: JWT (HS256) with the secret in {DEV_SECRET_PATH}.");
    println!(
        "A token valid for 24 hours (mint more with `mastra token sign --secret $(cat {DEV_SECRET_PATH})`):"
    );
    println!();
    println!("  {token}");
    println!();
    println!("Try it:");
    println!();
    println!(
        "  curl -X POST {base}{prefix}/agents/weatherAgent/generate \\\n    -H \"Content-Type: application/json\" \\\n    -H \"Authorization: Bearer {token}\" \\\n    -d '{{\"messages\": \"What is the weather in London?\"}}'"
    );
    println!();
    Ok(())
}
