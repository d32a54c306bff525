//! `mastra serve`, and the settings loading shared with `token` and `config check`.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use mastra_server::config::{AuthProviderKind, Config, JwtConfig, Secret};
use rand::RngCore;

/// Where the generated development secret lives (relative to the working directory).
pub const DEV_SECRET_PATH: &str = ".mastra/dev-secret";

/// Where the generated development session secret lives (browser sign-in without
/// `MASTRA_SESSION_SECRET` or `[auth.session] secrets`).
pub const DEV_SESSION_SECRET_PATH: &str = ".mastra/session-secret";

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

/// Whether [`load_settings`] may write the development secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevSecretMode {
    /// Read [`DEV_SECRET_PATH`], generating it when absent: only `serve` does this, so that
    /// inspecting commands never leave a secret behind in whatever directory they ran in.
    Create,
    /// Read [`DEV_SECRET_PATH`] when it exists; never write it.
    ReadOnly,
}

/// The development secret's part in a loaded configuration.
pub enum DevSecret {
    /// The config file or the environment gives the jwt provider its key (or another
    /// provider is configured).
    Unused,
    /// The jwt provider's key is the development secret read from [`DEV_SECRET_PATH`].
    Loaded(Secret),
    /// The development secret would be the key, but it does not exist yet and the command
    /// loading the settings does not create it; the jwt provider has no key.
    Missing,
}

/// A loaded configuration and where its key came from.
pub struct Settings {
    /// The effective configuration.
    pub config: Config,
    /// The config file, if any.
    pub path: Option<PathBuf>,
    /// Whether the jwt secret is the development secret.
    pub dev_secret: DevSecret,
    /// Whether browser sign-in seals sessions with the development session secret.
    pub dev_session_secret: bool,
}

impl Settings {
    /// One line saying what the settings are made of.
    pub fn describe(&self) -> String {
        let mut s = match &self.path {
            Some(p) => format!("{} (provider {})", p.display(), self.config.auth.provider),
            None => format!("built-in defaults (provider {})", self.config.auth.provider),
        };
        match self.dev_secret {
            DevSecret::Unused => {}
            DevSecret::Loaded(_) => {
                let _ = write!(s, ", development secret from {DEV_SECRET_PATH}");
            }
            DevSecret::Missing => {
                let _ = write!(
                    s,
                    ", development secret not created yet (`mastra serve` creates {DEV_SECRET_PATH})"
                );
            }
        }
        if self.dev_session_secret {
            let _ = write!(
                s,
                ", development session secret from {DEV_SESSION_SECRET_PATH}"
            );
        }
        s
    }
}

/// What to tell someone who asked to sign or verify with no key configured anywhere.
pub fn no_secret_help() -> String {
    format!(
        "no JWT secret is configured: pass --secret SECRET, set MASTRA_JWT_SECRET (or JWT_AUTH_SECRET), \
         or give --config FILE with an [auth.jwt] secret; without any of these the development \
         secret {DEV_SECRET_PATH} is used, which `mastra serve` creates in the directory it runs in \
         (there is none in this directory)"
    )
}

/// Loads the config (file or defaults), fills provider settings from the environment, and
/// falls back to the development secret when the jwt provider has no key at all (creating it
/// only in [`DevSecretMode::Create`]).
pub fn load_settings(
    flag: Option<PathBuf>,
    secret: Option<String>,
    mode: DevSecretMode,
) -> anyhow::Result<Settings> {
    let path = crate::config_path(flag);
    let mut config = match &path {
        Some(p) => Config::load(p).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => Config::default(),
    };
    config.fill_from_env(|k| std::env::var(k).ok());
    let mut dev_secret = DevSecret::Unused;
    if config.auth.provider == AuthProviderKind::Jwt {
        let jwt = config.auth.jwt.get_or_insert_with(JwtConfig::default);
        if let Some(s) = secret {
            jwt.secret = Some(Secret::new(s));
        }
        if jwt.secret.is_none() && jwt.public_key.is_none() {
            if let Some(p) = &path {
                anyhow::bail!(
                    "the jwt provider has no key: set auth.jwt.secret or auth.jwt.public_key in {}, or MASTRA_JWT_SECRET",
                    p.display()
                );
            }
            let path = Path::new(DEV_SECRET_PATH);
            let found = match mode {
                DevSecretMode::Create => Some(dev_secret_load_or_create(path)?),
                DevSecretMode::ReadOnly => dev_secret_read(path)?,
            };
            dev_secret = match found {
                Some(s) => {
                    jwt.secret = Some(Secret::new(s.clone()));
                    DevSecret::Loaded(Secret::new(s))
                }
                None => DevSecret::Missing,
            };
        }
    }
    // Browser sign-in without a session secret: `serve` seals sessions with a development
    // secret kept under .mastra/ (restarts keep sessions); inspecting commands never write it.
    let mut dev_session_secret = false;
    if mode == DevSecretMode::Create
        && matches!(
            mastra_server::signin::status(&config, |k| std::env::var(k).ok()),
            mastra_server::signin::SignInStatus::NeedsSessionSecret(_)
        )
    {
        let secret = dev_secret_load_or_create(Path::new(DEV_SESSION_SECRET_PATH))?;
        config
            .auth
            .session
            .get_or_insert_with(Default::default)
            .secrets = vec![Secret::new(secret)];
        dev_session_secret = true;
    }
    Ok(Settings {
        config,
        path,
        dev_secret,
        dev_session_secret,
    })
}

/// Reads the development secret if it exists, without ever creating it.
fn dev_secret_read(path: &Path) -> anyhow::Result<Option<String>> {
    let s = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let s = s.trim().to_owned();
    if s.len() < mastra_auth::providers::jwt::MIN_SECRET_BYTES {
        anyhow::bail!(
            "{} holds no usable secret (under {} bytes): `mastra serve` replaces it with a new one",
            path.display(),
            mastra_auth::providers::jwt::MIN_SECRET_BYTES
        );
    }
    Ok(Some(s))
}

/// 32 random bytes, hex: a secret of the size the jwt provider requires.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads the development secret, creating it (32 random bytes, hex, mode 0600) if absent.
pub fn dev_secret_load_or_create(path: &Path) -> anyhow::Result<String> {
    if let Ok(s) = std::fs::read_to_string(path) {
        let s = s.trim().to_owned();
        if s.len() >= mastra_auth::providers::jwt::MIN_SECRET_BYTES {
            return Ok(s);
        }
    }
    let secret = random_secret();
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
    let mut settings = load_settings(args.config, None, DevSecretMode::Create)?;
    if let Some(h) = args.host {
        settings.config.server.host = h;
    }
    if let Some(p) = args.port {
        settings.config.server.port = p;
    }
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async move {
        // Create or migrate the memory database before listening: an unusable one stops the
        // server now, with its reason, rather than failing its first memory request.
        let memory = mastra_server::api::memory::prepare(&settings.config)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let server = mastra_server::app::Server::bind(&settings.config)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        // The providers hold what they need; drop (and so wipe) the config's copies of the
        // secrets now rather than at exit.
        let described = settings.describe();
        drop(std::mem::take(&mut settings.config.auth));
        let addr = server.local_addr()?;
        let scheme = if server.is_tls() { "https" } else { "http" };
        let base = base_url(scheme, addr, &settings.config.server.host);
        println!("mastra server listening on {base} ({described})");
        println!("  address: {}", bound_address(addr));
        println!("  health:  {base}/health");
        println!(
            "  agents:  {base}{}/agents",
            settings.config.server.api_prefix
        );
        if let Some((backend, version)) = memory {
            println!(
                "  memory:  {backend} at {} (schema version {version})",
                mastra_memory_url(&settings.config.storage.url)
            );
        }
        if settings.config.ui.enabled {
            println!("  page:    {base}{}", mastra_server::ui::INDEX_PATH);
        }
        if let DevSecret::Loaded(secret) = &settings.dev_secret {
            if addr.ip().is_unspecified() {
                eprintln!(
                    "warning: the development secret ({DEV_SECRET_PATH}) is in use while listening on all interfaces: \
                     any machine that can reach port {} talks to a server keyed for local development; \
                     set MASTRA_JWT_SECRET (or auth.jwt.secret in a config), or bind --host 127.0.0.1",
                    addr.port()
                );
            }
            print_dev_token(&base, &settings.config.server.api_prefix, secret.expose())?;
        }
        server.run().await.context("server stopped with an error")
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The storage URL as printed: without its password.
fn mastra_memory_url(url: &str) -> String {
    mastra_server::api::memory::redact_url(url)
}

/// The address the listener is bound to, naming the wildcard addresses for what they mean.
fn bound_address(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("{addr} (all interfaces)")
    } else {
        addr.to_string()
    }
}

/// The URL to reach the server at: a configured host name is kept (a TLS certificate is issued
/// for the name, not the address), a wildcard address is reached through `localhost`, and any
/// other address is shown as bound.
fn base_url(scheme: &str, addr: SocketAddr, configured_host: &str) -> String {
    if addr.ip().is_unspecified() {
        format!("{scheme}://localhost:{}", addr.port())
    } else if configured_host.parse::<std::net::IpAddr>().is_ok() {
        format!("{scheme}://{addr}")
    } else {
        format!("{scheme}://{configured_host}:{}", addr.port())
    }
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
    // `token sign` reads the same file, so the secret never has to appear on a command line
    // (where shell history and the process list would keep it).
    println!(
        "A token valid for 24 hours (mint more from this directory with `mastra token sign --sub dev-user`):"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_addresses_are_all_interfaces_and_reached_through_localhost() {
        for bound in ["0.0.0.0:4111", "[::]:4111"] {
            let addr: SocketAddr = bound.parse().unwrap();
            assert_eq!(bound_address(addr), format!("{bound} (all interfaces)"));
            assert_eq!(base_url("http", addr, "::"), "http://localhost:4111");
        }
        let v6: SocketAddr = "[::1]:4111".parse().unwrap();
        assert_eq!(bound_address(v6), "[::1]:4111");
        assert_eq!(base_url("http", v6, "::1"), "http://[::1]:4111");
        // A host name stays in the URL, where a TLS certificate expects it.
        let v4: SocketAddr = "127.0.0.1:8443".parse().unwrap();
        assert_eq!(
            base_url("https", v4, "api.example.com"),
            "https://api.example.com:8443"
        );
    }
}
