//! The certified OpenID provider (`oidc-provider` from npm, `tests/oidc-provider/`), started on
//! 127.0.0.1 with browser sign-in clients whose redirect URIs the test passes in.
//!
//! Needs Node (20+) and the harness installed: `npm ci --prefix tests/oidc-provider`. Without
//! them the test FAILS with that instruction; it never passes silently.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

const INSTALL: &str = "run: npm ci --prefix tests/oidc-provider";

/// The running OpenID provider; killed when dropped.
pub struct Op {
    _child: Child,
    /// Its issuer, `http://127.0.0.1:<port>`.
    pub issuer: String,
    /// The resource indicator its access tokens are for (their `aud`).
    pub resource: String,
    /// Client id -> secret.
    pub clients: Value,
}

impl Op {
    /// The secret of client `id`.
    pub fn secret(&self, id: &str) -> String {
        self.clients[id].as_str().expect("client secret").to_owned()
    }
}

/// Starts the provider with browser clients allowed to redirect to `redirect_uris`.
pub async fn start(redirect_uris: &[String]) -> Op {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc-provider");
    assert!(
        dir.join("node_modules/oidc-provider/package.json")
            .is_file(),
        "the oidc-provider harness is not installed in {}; {INSTALL}",
        dir.display()
    );
    let mut child = Command::new("node")
        .arg("server.js")
        .current_dir(&dir)
        .env("REDIRECT_URIS", redirect_uris.join(","))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `node` ({e}); install Node 20+ and {INSTALL}"));
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = match tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await {
        Ok(Ok(Some(line))) => line,
        other => {
            let mut err = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ =
                    tokio::time::timeout(Duration::from_secs(2), stderr.read_to_string(&mut err))
                        .await;
            }
            panic!("oidc-provider did not start ({other:?}); stderr:\n{err}\n({INSTALL})");
        }
    };
    // Keep draining both pipes so the child never blocks on a full one.
    if let Some(mut stderr) = child.stderr.take() {
        tokio::spawn(async move {
            let mut sink = Vec::new();
            let _ = stderr.read_to_end(&mut sink).await;
        });
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let ready: Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("unexpected first line from the harness {line:?}: {e}"));
    Op {
        _child: child,
        issuer: ready["issuer"].as_str().expect("issuer").to_owned(),
        resource: ready["resource"].as_str().expect("resource").to_owned(),
        clients: ready["clients"].clone(),
    }
}
