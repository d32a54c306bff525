//! HTTPS: load the `[server.tls]` PEM files into a rustls config (aws-lc-rs provider, chosen
//! explicitly so it works whatever other rustls providers the build enables) and serve with
//! axum-server, with graceful shutdown.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsConfig;

/// Why the TLS files could not be used; each variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read TLS {what} file {}: {source}", path.display())]
    Read {
        /// `certificate` or `private key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The certificate file holds no usable PEM certificate.
    #[error("TLS certificate file {}: {reason} (expected PEM `-----BEGIN CERTIFICATE-----` blocks)", path.display())]
    Cert {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The key file holds no usable PEM private key.
    #[error("TLS private key file {}: {reason} (expected a PEM PKCS#8, PKCS#1 or SEC1 private key)", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// rustls refused the pair (for example, the key does not match the certificate).
    #[error("TLS certificate {} and key {} cannot be used together: {reason}", cert.display(), key.display())]
    Pair {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// rustls's reason.
        reason: String,
    },
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })
}

/// Builds a rustls server config (ALPN h2 and http/1.1) from the PEM files of `tls`.
pub fn server_config(tls: &TlsConfig) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let cert_pem = read("certificate", &tls.cert)?;
    let key_pem = read("private key", &tls.key)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Cert {
            path: tls.cert.clone(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Cert {
            path: tls.cert.clone(),
            reason: "no certificate found".to_string(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsError::Key {
        path: tls.key.clone(),
        reason: match e {
            rustls::pki_types::pem::Error::NoItemsFound => "no private key found".to_string(),
            other => other.to_string(),
        },
    })?;
    let pair_error = |e: rustls::Error| TlsError::Pair {
        cert: tls.cert.clone(),
        key: tls.key.clone(),
        reason: e.to_string(),
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(pair_error)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(pair_error)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The axum-server form of [`server_config`].
pub fn rustls_config(tls: &TlsConfig) -> Result<RustlsConfig, TlsError> {
    server_config(tls).map(RustlsConfig::from_config)
}

/// Serves `app` over HTTPS on an already bound `listener` until `shutdown` resolves, then
/// stops accepting and lets open requests finish for up to `grace` (None: wait for all).
/// Handlers can extract `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: std::net::TcpListener,
    app: Router,
    config: RustlsConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Option<Duration>,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let handle: Handle<SocketAddr> = Handle::new();
    let waiter = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        waiter.graceful_shutdown(grace);
    });
    axum_server::from_tcp_rustls(listener, config)?
        .handle(handle)
        .serve(app.into_make_service_with_connect_info::<SocketAddr>())
        .await
}
