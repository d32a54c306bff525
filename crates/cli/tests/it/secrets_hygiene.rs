//! Secrets hygiene (results in SECURITY.md): tokens, secrets, API keys and cookies never appear
//! in the logs at any level (the binary runs with `RUST_LOG=trace` and its output is searched), in
//! error bodies or response headers, in panic messages, or in the output of `config check` and
//! `token verify`; and `Debug` of every config type and provider redacts them.
//!
//! The server runs a composite of the `jwt`, `api_keys` and `supabase` providers, the last
//! against a small GoTrue/PostgREST fake in this file, so outgoing identity-provider calls (which
//! carry the user's token and the anon key) run at trace level too.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{BIN, Running};

// Every secret is a distinctive string, so a hit in the output can only be a leak.
const JWT_SECRET: &str = "jwt-secret-QmFzZTY0U2VjcmV0VmFsdWUxMjM0NTY3ODkw";
const API_KEY: &str = "apikey-live-7f3c9a1e5b2d4c6e8a0b1c2d3e4f5a6b";
const WRONG_API_KEY: &str = "apikey-guess-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d";
const ANON_KEY: &str = "anon-key-eyJhbGciOiJIUzI1NiJ9.c3VwYWJhc2UtYW5vbg.sig";
const SUPABASE_SECRET: &str = "supabase-signing-secret-not-configured-here-0123";
const COOKIE_VALUE: &str = "cookie-value-5e6f7a8b9c0d1e2f3a4b5c6d";
const CLERK_COOKIE: &str = "clerk-session-cookie-1a2b3c4d5e6f7a8b9c0d";
const PROXY_CREDENTIAL: &str = "cHJveHktdXNlcjpwcm94eS1wYXNzd29yZA==";
const USER_ID: &str = "6f1b2c3d-0000-4000-8000-00000000a11c";

fn hs256(secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The signature-bearing tail of a token: the header segment alone is shared by many tokens.
fn tail(token: &str) -> &str {
    &token[token.len() - 24..]
}

// ---------------------------------------------------------------------------------------------
// A GoTrue + PostgREST fake (raw HTTP, one request per connection)

/// Whether `token` is an HS256 token signed with [`SUPABASE_SECRET`] (what GoTrue checks).
fn supabase_valid(token: &str) -> bool {
    let mut v = jsonwebtoken::Validation::new(Algorithm::HS256);
    v.validate_aud = false;
    jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(SUPABASE_SECRET.as_bytes()),
        &v,
    )
    .is_ok()
}

/// Answers `GET /auth/v1/user` (200 with the user when the bearer verifies and `apikey` is the
/// anon key, else a 401 that echoes the token the way some servers echo input) and
/// `GET /rest/v1/users` (`[{"isAdmin": true}]`).
/// Also returns the bearer tokens it received.
async fn gotrue_fake() -> (String, Lines) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Lines = Default::default();
    let seen_by_server = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                continue;
            };
            let seen = seen_by_server.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).into_owned();
                let header = |name: &str| {
                    head.lines().find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.trim()
                            .eq_ignore_ascii_case(name)
                            .then(|| v.trim().to_owned())
                    })
                };
                let bearer = header("authorization")
                    .and_then(|v| v.strip_prefix("Bearer ").map(str::to_owned))
                    .unwrap_or_default();
                seen.lock().unwrap().push(bearer.clone());
                let apikey_ok = header("apikey").as_deref() == Some(ANON_KEY);
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (status, body) = if !apikey_ok {
                    ("401 Unauthorized", json!({"message": "Invalid API key"}))
                } else if path.starts_with("/auth/v1/user") && supabase_valid(&bearer) {
                    (
                        "200 OK",
                        json!({"id": USER_ID, "aud": "authenticated", "role": "authenticated", "email": "a@example.com"}),
                    )
                } else if path.starts_with("/auth/v1/user") {
                    (
                        "401 Unauthorized",
                        json!({"code": 401, "error_code": "bad_jwt", "msg": format!("invalid JWT: {bearer}")}),
                    )
                } else if path.starts_with("/rest/v1/users") && supabase_valid(&bearer) {
                    ("200 OK", json!([{"isAdmin": true}]))
                } else {
                    (
                        "401 Unauthorized",
                        json!({"code": "PGRST301", "message": format!("bad bearer {bearer}")}),
                    )
                };
                let body = body.to_string();
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}

// ---------------------------------------------------------------------------------------------
// The binary

type Lines = Arc<Mutex<Vec<String>>>;

fn drain(r: impl std::io::Read + Send + 'static, sink: Lines) {
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
}

/// `mastra serve --config cfg` at `RUST_LOG=trace`; returns the process, its base URL and its
/// captured stdout + stderr.
fn serve(dir: &Path, cfg: &str, env: &[(&str, &str)]) -> (Running, String, Lines) {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--config",
            cfg,
            "--port",
            "0",
            "--host",
            "127.0.0.1",
        ])
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out: Lines = Default::default();
    drain(child.stdout.take().unwrap(), out.clone());
    drain(child.stderr.take().unwrap(), out.clone());
    let running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    let base = loop {
        let found = out.lock().unwrap().iter().find_map(|l| {
            l.contains("listening on").then(|| {
                l.split_whitespace()
                    .find(|w| w.starts_with("http://"))
                    .map(str::to_owned)
            })?
        });
        if let Some(b) = found {
            break b;
        }
        assert!(
            Instant::now() < deadline,
            "server did not start: {:?}",
            out.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    (running, base, out)
}

fn mastra(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn config(gotrue: &str) -> String {
    format!(
        r#"
[server]
request_logs = true
[auth]
provider = "composite"
[auth.composite]
providers = ["jwt", "api_keys", "supabase"]
[auth.jwt]
secret = "{JWT_SECRET}"
[auth.api_keys]
[[auth.api_keys.keys]]
key = "${{SERVICE_KEY}}"
user = "service"
[auth.supabase]
url = "{gotrue}"
allow_insecure_http = true
"#
    )
}

fn env() -> Vec<(&'static str, &'static str)> {
    vec![("SERVICE_KEY", API_KEY), ("SUPABASE_ANON_KEY", ANON_KEY)]
}

/// (what, Authorization, query, Cookie, expected status).
type Case = (
    &'static str,
    Option<String>,
    Option<String>,
    Option<String>,
    u16,
);

#[tokio::test]
async fn secrets_never_reach_logs_bodies_or_panics() {
    let t = now();
    let good = hs256(JWT_SECRET, &json!({"sub": "u1", "exp": t + 600}));
    let forged = hs256(
        "not-the-secret-not-the-secret-not-the-secret!",
        &json!({"sub": "admin", "exp": t + 600}),
    );
    let expired = hs256(JWT_SECRET, &json!({"sub": "u1", "exp": t - 3600}));
    let (gotrue, gotrue_saw) = gotrue_fake().await;
    let sb_claims = json!({
        "sub": USER_ID, "iss": format!("{gotrue}/auth/v1"), "aud": "authenticated",
        "exp": t + 600, "role": "authenticated"
    });
    let sb_good = hs256(SUPABASE_SECRET, &sb_claims);
    let sb_bad = hs256("another-supabase-secret-entirely-0123456789", &sb_claims);

    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mastra.toml");
    std::fs::write(&cfg, config(&gotrue)).unwrap();
    let (server, base, out) = serve(dir.path(), cfg.to_str().unwrap(), &env());

    let url = format!("{base}/api/agents");
    let b = |t: &str| format!("Bearer {t}");
    let cases: Vec<Case> = vec![
        ("jwt valid", Some(b(&good)), None, None, 200),
        ("jwt forged", Some(b(&forged)), None, None, 401),
        ("jwt expired", Some(b(&expired)), None, None, 401),
        ("jwt bare", Some(good.clone()), None, None, 200),
        ("api key", Some(b(API_KEY)), None, None, 200),
        ("api key bare", Some(API_KEY.into()), None, None, 200),
        ("wrong api key", Some(b(WRONG_API_KEY)), None, None, 401),
        (
            "apiKey query",
            None,
            Some(format!("apiKey={API_KEY}")),
            None,
            200,
        ),
        (
            "apiKey query jwt",
            None,
            Some(format!("apiKey={good}")),
            None,
            200,
        ),
        (
            "apiKey query wrong",
            None,
            Some(format!("apiKey={WRONG_API_KEY}")),
            None,
            401,
        ),
        (
            "apiKey query twice",
            None,
            Some(format!("apiKey={API_KEY}&apiKey={WRONG_API_KEY}")),
            None,
            400,
        ),
        (
            "apiKey encoded name",
            None,
            Some(format!("api%4Bey={WRONG_API_KEY}&x=1")),
            None,
            401,
        ),
        (
            "header and query differ",
            Some(b(&good)),
            Some(format!("apiKey={WRONG_API_KEY}")),
            None,
            400,
        ),
        ("supabase bearer", Some(b(&sb_good)), None, None, 200),
        ("supabase forged", Some(b(&sb_bad)), None, None, 401),
        (
            "supabase cookie",
            None,
            None,
            Some(format!("sb-access-token={sb_good}; session={COOKIE_VALUE}")),
            200,
        ),
        (
            "supabase forged cookie",
            None,
            None,
            Some(format!("sb-access-token={sb_bad}")),
            401,
        ),
        (
            "other cookies",
            None,
            None,
            Some(format!("session={COOKIE_VALUE}; __session={CLERK_COOKIE}")),
            401,
        ),
    ];
    let client = reqwest::Client::new();
    let mut answers = Vec::new();
    for (what, auth, query, cookie, expected) in &cases {
        for path in [url.clone(), format!("{base}/api/no/such/route")] {
            let mut u = path.clone();
            if let Some(q) = query {
                u = format!("{u}?{q}");
            }
            let mut req = client
                .get(&u)
                .header("proxy-authorization", format!("Basic {PROXY_CREDENTIAL}"));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            if path == url {
                assert_eq!(status, *expected, "{what}");
            }
            let headers = format!("{:?}", res.headers());
            let body = res.text().await.unwrap();
            answers.push(format!("{what}: {status} {headers} {body}"));
        }
    }
    // Bodies that fail to parse, and a POST whose JSON carries a secret-looking value.
    let res = client
        .post(format!("{base}/api/agents/weatherAgent/generate"))
        .bearer_auth(&good)
        .header("content-type", "application/json")
        .body(format!("{{\"messages\": \"{API_KEY}\", "))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    answers.push(res.text().await.unwrap());
    std::thread::sleep(Duration::from_millis(300));
    drop(server);
    std::thread::sleep(Duration::from_millis(100));
    let log = out.lock().unwrap().join("\n");
    if let Ok(p) = std::env::var("SECRETS_HYGIENE_DUMP") {
        std::fs::write(p, &log).unwrap();
    }

    // The logs are really at trace level and do log these requests.
    assert!(log.contains("TRACE"), "RUST_LOG=trace had no effect");
    assert!(log.contains("/api/agents"), "request logs are on");
    assert!(log.contains("token refused"), "refusals are logged");
    assert!(
        log.contains("apiKey=[redacted]"),
        "the apiKey query is logged redacted"
    );
    assert!(!log.contains("panicked"), "a panic: {log}");
    let secrets: Vec<(&str, String)> = vec![
        ("jwt secret", JWT_SECRET.into()),
        ("valid jwt", tail(&good).into()),
        ("forged jwt", tail(&forged).into()),
        ("expired jwt", tail(&expired).into()),
        ("api key", API_KEY.into()),
        ("wrong api key", WRONG_API_KEY.into()),
        ("anon key", ANON_KEY.into()),
        ("supabase token", tail(&sb_good).into()),
        ("forged supabase token", tail(&sb_bad).into()),
        ("cookie", COOKIE_VALUE.into()),
        ("clerk cookie", CLERK_COOKIE.into()),
        ("proxy credential", PROXY_CREDENTIAL.into()),
    ];
    // Credentials meant for the other members never travel to Supabase: only tokens of the
    // project's issuer are sent to GoTrue / PostgREST.
    for bearer in gotrue_saw.lock().unwrap().iter() {
        assert!(
            *bearer == sb_good || *bearer == sb_bad,
            "a credential that is not a Supabase token was sent to Supabase: {bearer}"
        );
    }
    assert!(!gotrue_saw.lock().unwrap().is_empty());
    for (what, secret) in &secrets {
        if let Some(line) = log.lines().find(|l| l.contains(secret.as_str())) {
            panic!("{what} leaked into the logs: {line}");
        }
        for a in &answers {
            assert!(
                !a.contains(secret.as_str()),
                "{what} leaked into a response: {a}"
            );
        }
    }
}

#[test]
fn config_check_and_token_verify_print_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mastra.toml");
    std::fs::write(&cfg, config("http://127.0.0.1:9")).unwrap();
    let cfg = cfg.to_str().unwrap();
    let (code, out) = mastra(dir.path(), &["config", "check", "--config", cfg], &env());
    assert_eq!(code, 0, "{out}");
    let good = hs256(JWT_SECRET, &json!({"sub": "u1", "exp": now() + 600}));
    let forged = hs256(
        "not-the-secret-not-the-secret-not-the-secret!",
        &json!({"sub": "u1", "exp": now() + 600}),
    );
    let mut outputs = vec![out];
    for token in [&good, &forged] {
        let (_, out) = mastra(
            dir.path(),
            &["token", "verify", token, "--config", cfg],
            &env(),
        );
        outputs.push(out);
        let (_, out) = mastra(
            dir.path(),
            &["token", "verify", token, "--secret", JWT_SECRET],
            &[],
        );
        outputs.push(out);
    }
    // The api key verified through the config, and refusals that name the secret's setting.
    let (_, out) = mastra(
        dir.path(),
        &["token", "verify", API_KEY, "--config", cfg],
        &env(),
    );
    outputs.push(out);
    let (code, out) = mastra(
        dir.path(),
        &["token", "sign", "--secret", "short-secret-x"],
        &[],
    );
    // Signing with a short secret works (with a warning); the secret is not echoed.
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning"), "{out}");
    assert!(!out.contains("short-secret-x"), "{out}");
    let (code, out) = mastra(dir.path(), &["token", "hash-key", API_KEY], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains(API_KEY), "hash-key echoed the key: {out}");
    for out in &outputs {
        for secret in [JWT_SECRET, API_KEY, ANON_KEY] {
            assert!(!out.contains(secret), "secret printed: {out}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Debug of config types and providers

/// The fixture private key of the service account, and a stretch of its base64 body that any
/// print of the key would contain.
fn service_account_key() -> (String, String) {
    let pem = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../auth/tests/fixtures/service-account.key"),
    )
    .unwrap();
    let body_line = pem
        .lines()
        .find(|l| l.len() > 40 && !l.starts_with("-----"))
        .unwrap()[..40]
        .to_owned();
    (pem, body_line)
}

fn assert_redacted(what: &str, shown: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!s.is_empty());
        assert!(
            !shown.contains(s),
            "Debug of {what} shows a secret ({s}): {shown}"
        );
    }
}

#[test]
fn debug_of_every_config_type_and_provider_redacts_secrets() {
    use mastra_auth::AuthProvider;
    use mastra_auth::google_oauth::ServiceAccount;
    use mastra_auth::pattern::PatternList;
    use mastra_auth::providers::api_keys::{ApiKey, ApiKeysProvider};
    use mastra_auth::providers::clerk::{ClerkConfig, ClerkProvider};
    use mastra_auth::providers::composite::CompositeProvider;
    use mastra_auth::providers::workos::{WorkosConfig, WorkosProvider};
    use mastra_auth::providers::{
        Auth0Config, FirebaseConfig, FirebaseProvider, JwksConfig, JwtProvider, JwtProviderConfig,
        OidcConfig, SupabaseConfig, SupabaseProvider,
    };

    const CLERK_SECRET: &str = "sk_live_clerk_secret_0a1b2c3d4e5f6a7b8c9d";
    const WORKOS_KEY: &str = "sk_live_workos_key_9f8e7d6c5b4a39281706";
    const SUPA_ANON: &str = "supabase-anon-key-1f2e3d4c5b6a79880123";
    const SUPA_SECRET: &str = "supabase-jwt-secret-aa11bb22cc33dd44ee55ff66";
    let (pem, pem_piece) = service_account_key();
    let sa_json = json!({
        "type": "service_account", "project_id": "demo-hygiene",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": pem, "client_email": "sa@demo-hygiene.iam.gserviceaccount.com",
    })
    .to_string();
    let all = [
        JWT_SECRET,
        API_KEY,
        CLERK_SECRET,
        WORKOS_KEY,
        SUPA_ANON,
        SUPA_SECRET,
        pem_piece.as_str(),
    ];

    // Provider configs.
    let jwt_cfg = JwtProviderConfig::with_secret(JWT_SECRET);
    let clerk_cfg = ClerkConfig {
        publishable_key: Some("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k".into()),
        secret_key: Some(CLERK_SECRET.into()),
        organization_id: Some("org_1".into()),
        ..ClerkConfig::default()
    };
    let workos_cfg = WorkosConfig {
        api_key: Some(WORKOS_KEY.into()),
        client_id: Some("client_01".into()),
        ..WorkosConfig::default()
    };
    let supa_cfg = SupabaseConfig {
        jwt_secret: Some(SUPA_SECRET.into()),
        ..SupabaseConfig::new("https://p.supabase.co", SUPA_ANON)
    };
    let firebase_cfg = FirebaseConfig {
        service_account: Some(sa_json.clone().into()),
        ..FirebaseConfig::default()
    };
    let printed = [
        ("JwtProviderConfig", format!("{jwt_cfg:?} {jwt_cfg:#?}")),
        ("ClerkConfig", format!("{clerk_cfg:?} {clerk_cfg:#?}")),
        ("WorkosConfig", format!("{workos_cfg:?} {workos_cfg:#?}")),
        ("SupabaseConfig", format!("{supa_cfg:?} {supa_cfg:#?}")),
        (
            "FirebaseConfig",
            format!("{firebase_cfg:?} {firebase_cfg:#?}"),
        ),
        ("JwksConfig", format!("{:?}", JwksConfig::default())),
        ("OidcConfig", format!("{:?}", OidcConfig::default())),
        ("Auth0Config", format!("{:?}", Auth0Config::default())),
        (
            "ServiceAccount",
            format!("{:?}", ServiceAccount::from_json(&sa_json).unwrap()),
        ),
    ];
    for (what, text) in &printed {
        assert_redacted(what, text, &all);
    }

    // Providers built from them (Debug of each concrete type, then used in a composite).
    fn shown<T: std::fmt::Debug + AuthProvider + 'static>(
        what: &str,
        p: T,
        all: &[&str],
    ) -> Arc<dyn AuthProvider> {
        assert_redacted(what, &format!("{p:?} {p:#?}"), all);
        Arc::new(p)
    }
    let key = ApiKey::from_plaintext(0, API_KEY, "svc".into(), Default::default()).unwrap();
    assert_redacted("ApiKey", &format!("{key:?} {key:#?}"), &all);
    let members = vec![
        shown("JwtProvider", JwtProvider::new(jwt_cfg).unwrap(), &all),
        shown(
            "ClerkProvider",
            ClerkProvider::new(clerk_cfg).unwrap(),
            &all,
        ),
        shown(
            "WorkosProvider",
            WorkosProvider::new(workos_cfg).unwrap(),
            &all,
        ),
        shown(
            "SupabaseProvider",
            SupabaseProvider::new(supa_cfg).unwrap(),
            &all,
        ),
        shown(
            "FirebaseProvider",
            FirebaseProvider::new(firebase_cfg).unwrap(),
            &all,
        ),
        shown(
            "ApiKeysProvider",
            ApiKeysProvider::new(
                "api_keys",
                vec![key],
                PatternList::default(),
                PatternList::default(),
            )
            .unwrap(),
            &all,
        ),
    ];
    let composite = shown(
        "CompositeProvider",
        CompositeProvider::new("composite", members).unwrap(),
        &all,
    );
    let auth = mastra_auth::Auth::mastra_defaults(composite).build();
    assert_redacted("Auth", &format!("{auth:?} {auth:#?}"), &all);

    // The server's Config, with every secret-bearing setting filled.
    let toml = format!(
        r#"
[auth]
provider = "composite"
[auth.composite]
providers = ["jwt", "api_keys", "clerk", "workos", "supabase", "firebase"]
[auth.jwt]
secret = "{JWT_SECRET}"
[[auth.api_keys.keys]]
key = "{API_KEY}"
user = "svc"
[auth.clerk]
publishable_key = "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k"
secret_key = "{CLERK_SECRET}"
[auth.workos]
client_id = "client_01"
api_key = "{WORKOS_KEY}"
[auth.supabase]
url = "https://p.supabase.co"
anon_key = "{SUPA_ANON}"
jwt_secret = "{SUPA_SECRET}"
[auth.firebase]
service_account = '''{sa_json}'''
[[api_routes]]
method = "GET"
path = "/up/{{id}}"
proxy = "https://user:proxy-password-77aa88bb@upstream.example"
"#
    );
    let cfg = mastra_server::config::Config::from_toml_str(&toml, "hygiene.toml").unwrap();
    let text = format!("{cfg:?} {cfg:#?} {:?}", cfg.auth);
    assert_redacted(
        "server Config",
        &text,
        &[&all[..], &["proxy-password-77aa88bb"]].concat(),
    );
    // And the auth pipeline the server builds from it.
    let auth = mastra_server::app::build_auth(&cfg).unwrap().unwrap();
    assert_redacted("server Auth", &format!("{auth:?}"), &all);
}
