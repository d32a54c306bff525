//! End to end against a real, certified OpenID provider: `oidc-provider` from npm
//! (`tests/oidc-provider/`, pinned, lockfile committed), started on 127.0.0.1 by this test.
//!
//! Needs Node (20+) and the harness installed: `npm ci --prefix tests/oidc-provider`.
//! Without them the test FAILS with that instruction; it never passes silently.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mastra_auth::idp_http::IdpClientConfig;
use mastra_auth::jwt::Rejection;
use mastra_auth::providers::{OidcConfig, OidcProvider};
use mastra_auth::{AuthError, AuthProvider};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

const INSTALL: &str = "run: npm ci --prefix tests/oidc-provider";

fn harness_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc-provider");
    dir.canonicalize().unwrap_or(dir)
}

/// The running OpenID provider; killed when dropped.
struct Op {
    _child: Child,
    issuer: String,
    resource: String,
    clients: Value,
}

async fn start_op() -> Op {
    let dir = harness_dir();
    assert!(
        dir.join("node_modules/oidc-provider/package.json")
            .is_file(),
        "the oidc-provider harness is not installed in {}; {INSTALL}",
        dir.display()
    );
    let mut child = Command::new("node")
        .arg("server.js")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `node` ({e}); install Node 20+ and {INSTALL}"));
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
    let line = match first {
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
    // Keep draining stderr so the child never blocks on a full pipe.
    if let Some(mut stderr) = child.stderr.take() {
        tokio::spawn(async move {
            let mut sink = Vec::new();
            let _ = stderr.read_to_end(&mut sink).await;
        });
    }
    let ready: Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("unexpected first line from the harness {line:?}: {e}"));
    Op {
        _child: child,
        issuer: ready["issuer"].as_str().expect("issuer").to_owned(),
        resource: ready["resource"].as_str().expect("resource").to_owned(),
        clients: ready["clients"].clone(),
    }
}

impl Op {
    /// A JWT access token from the real token endpoint (client credentials + resource indicator).
    async fn token(&self, client_id: &str) -> String {
        let secret = self.clients[client_id].as_str().expect("client secret");
        let res = reqwest::Client::new()
            .post(format!("{}/token", self.issuer))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("resource", self.resource.as_str()),
                ("scope", "api:read"),
            ])
            .send()
            .await
            .expect("token endpoint");
        let status = res.status();
        let body: Value = res.json().await.expect("token response JSON");
        assert!(status.is_success(), "token endpoint said {status}: {body}");
        let token = body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned();
        assert_eq!(token.split('.').count(), 3, "a JWT access token: {body}");
        token
    }

    fn provider(&self, issuer: &str) -> OidcProvider {
        OidcProvider::new(OidcConfig {
            http: IdpClientConfig {
                allow_insecure_http: true,
                ..Default::default()
            },
            leeway: Duration::ZERO,
            ..OidcConfig::new(issuer, self.resource.clone())
        })
        .expect("oidc provider")
    }
}

fn parts() -> http::request::Parts {
    http::Request::builder()
        .uri("/api/agents")
        .body(())
        .expect("request")
        .into_parts()
        .0
}

fn rejection(e: AuthError) -> Rejection {
    match e {
        AuthError::InvalidToken(r) => r,
        other => panic!("expected 401, got {other:?}"),
    }
}

/// Re-encodes the payload after `edit`, keeping the original header and signature.
fn altered(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
    edit(&mut payload);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).expect("json"));
    format!("{}.{payload}.{}", parts[0], parts[2])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_provider_tokens_are_accepted_and_refused_once_altered_or_expired() {
    let op = start_op().await;
    let provider = op.provider(&op.issuer);
    let discovered = provider.discover().await.expect("discovery");
    assert_eq!(discovered, format!("{}/jwks", op.issuer));

    // Accepted: RS256 access token, iss = the issuer, aud = the resource indicator.
    let token = op.token("e2e-client").await;
    let user = provider
        .authenticate(&token, &parts())
        .await
        .expect("real token accepted")
        .expect("a user");
    assert_eq!(user.id, "e2e-client");
    assert_eq!(user.claims["iss"], op.issuer.as_str());
    assert_eq!(user.claims["aud"], op.resource.as_str());
    assert!(provider.authorize(&user, &parts()).await.unwrap());
    assert_eq!(provider.issuers(), vec![op.issuer.clone()]);

    // Altered: another subject, a later expiry, a flipped signature byte.
    let other_sub = altered(&token, |p| p["sub"] = "admin".into());
    assert_eq!(
        rejection(provider.verify(&other_sub).await.unwrap_err()),
        Rejection::BadSignature
    );
    let longer = altered(&token, |p| {
        let exp = p["exp"].as_i64().expect("exp");
        p["exp"] = (exp + 86_400).into();
    });
    assert_eq!(
        rejection(provider.verify(&longer).await.unwrap_err()),
        Rejection::BadSignature
    );
    let mut sig_flipped = token.clone();
    let last = sig_flipped.pop().expect("non-empty");
    sig_flipped.push(if last == 'A' { 'Q' } else { 'A' });
    assert!(matches!(
        provider.verify(&sig_flipped).await.unwrap_err(),
        AuthError::InvalidToken(_)
    ));

    // Expired: a token from the 5-second client, after its lifetime (leeway 0).
    let short = op.token("e2e-short").await;
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(short.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 5, "{claims}");
    tokio::time::sleep(Duration::from_millis(6_200)).await;
    assert!(matches!(
        rejection(provider.verify(&short).await.unwrap_err()),
        Rejection::Expired { .. }
    ));
    // The long-lived token is still fine (and came from the verified-token cache).
    provider.verify(&token).await.expect("still valid");
    let stats = provider.key_set_stats().expect("discovered");
    assert_eq!(stats.fetches, 1, "{stats:?}");
}

#[tokio::test]
async fn oidc_provider_issuer_must_match_discovery_exactly() {
    let op = start_op().await;
    // The real OP announces `http://127.0.0.1:<port>`; a trailing slash is a different issuer.
    let provider = op.provider(&format!("{}/", op.issuer));
    let token = op.token("e2e-client").await;
    let e = provider.verify(&token).await.unwrap_err();
    assert_eq!(e.status(), 503, "{e:?}");
    let AuthError::Unavailable { reason, .. } = &e else {
        unreachable!()
    };
    assert!(reason.contains("issuer"), "{reason}");
}
