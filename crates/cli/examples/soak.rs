//! Load and soak test of the `mastra` binary on loopback (results in SECURITY.md).
//!
//! Spawns `mastra serve` with a composite of the `jwt`, `api_keys` and `jwks` providers (the JWKS
//! from a small fake started here) and rules that deny some requests, then runs N concurrent
//! workers for a fixed time. Each worker sends a mixed stream — valid, expired, forged, garbage
//! and missing tokens, API keys good and bad, JWKS tokens good, forged, expired and of unknown
//! `kid`, query and conflicting credentials, unknown routes, admin-only posts, and an endless
//! stream of never-seen tokens that churns the verified-token cache — where every request's
//! expected status is known. It counts wrong decisions and 5xx answers, and samples the server's
//! RSS (`/proc/<pid>/status` `VmRSS`).
//!
//! With `--outage`, the JWKS endpoint answers 503 during the middle third of the run: cached
//! keys must keep serving, and only tokens of an unknown `kid` (which force a refresh) may get
//! the deliberate 503.
//!
//! ```text
//! cargo build --release -p mastra-cli --bin mastra --example soak
//! target/release/examples/soak --bin target/release/mastra --duration 300 --workers 64 --outage
//! ```
//! Exits non-zero on any wrong decision, unexpected 5xx, transport error, panic in the server's
//! output, or RSS growth past `--max-rss-growth-mb` (default 64). The short variant runs in CI as
//! `crates/cli/tests/it/soak_short.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const JWT_SECRET: &str = "soak-secret-0123456789abcdef0123456789abcdef";
const API_KEY: &str = "soak-api-key-0123456789abcdef0123456789";
const ISSUER: &str = "https://issuer.soak.test";
const AUDIENCE: &str = "https://api.soak.test";

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `mastra` binary.
    pub bin: PathBuf,
    /// How long to send requests.
    pub duration: Duration,
    /// Concurrent workers (each one request at a time).
    pub workers: usize,
    /// Time before the first RSS sample that counts as the baseline.
    pub warmup: Duration,
    /// JWKS endpoint down (503) during the middle third.
    pub outage: bool,
    /// Largest accepted RSS growth over the baseline (peak and end).
    pub max_rss_growth: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bin: default_bin(),
            duration: Duration::from_secs(300),
            workers: 64,
            warmup: Duration::from_secs(5),
            outage: false,
            max_rss_growth: 64 * 1024 * 1024,
        }
    }
}

fn default_bin() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    let release = root.join("release/mastra");
    if release.exists() {
        release
    } else {
        root.join("debug/mastra")
    }
}

/// What happened.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Requests answered.
    pub requests: u64,
    /// Requests per second over the run.
    pub rps: f64,
    /// Answers other than the expected one.
    pub wrong: u64,
    /// A few of them, for the message.
    pub wrong_samples: Vec<String>,
    /// 5xx answers that were not the deliberate 503 of the outage.
    pub unexpected_5xx: u64,
    /// Deliberate 503s (unknown `kid` during the JWKS outage).
    pub deliberate_503: u64,
    /// Requests that failed in transport (connection refused, reset, timeout).
    pub transport_errors: u64,
    /// Per request kind: (count, wrong).
    pub by_kind: BTreeMap<&'static str, (u64, u64)>,
    /// Status counts.
    pub by_status: BTreeMap<u16, u64>,
    /// RSS after the warm-up, bytes.
    pub rss_start: u64,
    /// Highest RSS seen after the warm-up.
    pub rss_peak: u64,
    /// RSS at the end.
    pub rss_end: u64,
    /// RSS samples (seconds since start, bytes).
    pub rss_samples: Vec<(f64, u64)>,
    /// Latency percentiles, microseconds: p50, p99, max.
    pub latency_us: (u64, u64, u64),
    /// JWKS documents fetched by the server.
    pub jwks_fetches: usize,
    /// Lines of the server's output containing "panicked".
    pub panics: Vec<String>,
}

impl Report {
    /// Human-readable summary.
    pub fn summary(&self) -> String {
        let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
        let mut s = format!(
            "requests {} ({:.0}/s), wrong decisions {}, unexpected 5xx {}, deliberate 503 {}, transport errors {}\n\
             RSS start {:.1} MiB, peak {:.1} MiB, end {:.1} MiB (growth {:+.1} MiB)\n\
             latency p50 {} us, p99 {} us, max {} us; JWKS fetches {}\n",
            self.requests,
            self.rps,
            self.wrong,
            self.unexpected_5xx,
            self.deliberate_503,
            self.transport_errors,
            mb(self.rss_start),
            mb(self.rss_peak),
            mb(self.rss_end),
            mb(self.rss_end) - mb(self.rss_start),
            self.latency_us.0,
            self.latency_us.1,
            self.latency_us.2,
            self.jwks_fetches,
        );
        s.push_str("statuses:");
        for (k, v) in &self.by_status {
            s.push_str(&format!(" {k}={v}"));
        }
        s.push_str("\nkinds:");
        for (k, (n, w)) in &self.by_kind {
            s.push_str(&format!(" {k}={n}"));
            if *w > 0 {
                s.push_str(&format!("(WRONG {w})"));
            }
        }
        s.push('\n');
        for w in &self.wrong_samples {
            s.push_str(&format!("  wrong: {w}\n"));
        }
        for p in &self.panics {
            s.push_str(&format!("  server: {p}\n"));
        }
        s
    }

    /// Every check of the run; `Err` lists what failed.
    pub fn check(&self, opts: &Options) -> Result<(), String> {
        let mut failed = Vec::new();
        if self.requests == 0 {
            failed.push("no requests answered".to_string());
        }
        if self.wrong > 0 {
            failed.push(format!("{} wrong decisions", self.wrong));
        }
        if self.unexpected_5xx > 0 {
            failed.push(format!("{} unexpected 5xx", self.unexpected_5xx));
        }
        if self.transport_errors > 0 {
            failed.push(format!("{} transport errors", self.transport_errors));
        }
        if !self.panics.is_empty() {
            failed.push("the server panicked".into());
        }
        let growth = self.rss_peak.saturating_sub(self.rss_start);
        if growth > opts.max_rss_growth {
            failed.push(format!(
                "RSS grew {} KiB over the baseline (bound {} KiB)",
                growth / 1024,
                opts.max_rss_growth / 1024
            ));
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed.join("; "))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../auth/tests/fixtures/{name}"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn hs(secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

fn rs(key: &EncodingKey, kid: &str, claims: &Value) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some(kid.into());
    jsonwebtoken::encode(&h, claims, key).expect("sign")
}

/// Pre-minted token pools (signing RSA per request would measure the load generator).
struct Tokens {
    jwt_users: Vec<String>,
    jwt_admins: Vec<String>,
    jwt_expired: Vec<String>,
    jwt_forged: Vec<String>,
    jwks_valid: Vec<String>,
    jwks_forged: Vec<String>,
    jwks_expired: Vec<String>,
    jwks_unknown_kid: Vec<String>,
    jwks_wrong_aud: Vec<String>,
}

fn mint(run_for: Duration) -> Tokens {
    let t = now();
    let exp = t + run_for.as_secs() as i64 + 3600;
    let k1 = EncodingKey::from_rsa_pem(fixture("rsa2048.key").as_bytes()).expect("k1");
    let other = EncodingKey::from_rsa_pem(fixture("rsa2048-b.key").as_bytes()).expect("k2");
    let jwt = |role: &str, i: usize, exp: i64| json!({"sub": format!("{role}-{i}"), "role": role, "exp": exp, "jti": i});
    let jwks = |i: usize, exp: i64, aud: &str| json!({"sub": format!("idp-{i}"), "iss": ISSUER, "aud": aud, "exp": exp, "iat": t, "jti": i});
    Tokens {
        jwt_users: (0..2000)
            .map(|i| hs(JWT_SECRET, &jwt("user", i, exp)))
            .collect(),
        jwt_admins: (0..200)
            .map(|i| hs(JWT_SECRET, &jwt("admin", i, exp)))
            .collect(),
        jwt_expired: (0..200)
            .map(|i| hs(JWT_SECRET, &jwt("user", i, t - 3600)))
            .collect(),
        jwt_forged: (0..200)
            .map(|i| {
                hs(
                    "not-the-soak-secret-not-the-soak-secret!!",
                    &jwt("admin", i, exp),
                )
            })
            .collect(),
        jwks_valid: (0..500)
            .map(|i| rs(&k1, "k1", &jwks(i, exp, AUDIENCE)))
            .collect(),
        jwks_forged: (0..100)
            .map(|i| rs(&other, "k1", &jwks(i, exp, AUDIENCE)))
            .collect(),
        jwks_expired: (0..100)
            .map(|i| rs(&k1, "k1", &jwks(i, t - 3600, AUDIENCE)))
            .collect(),
        jwks_unknown_kid: (0..100)
            .map(|i| rs(&other, "k-unknown", &jwks(i, exp, AUDIENCE)))
            .collect(),
        jwks_wrong_aud: (0..100)
            .map(|i| rs(&k1, "k1", &jwks(i, exp, "https://other.example")))
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// JWKS fake

struct Jwks {
    url: String,
    down: Arc<AtomicBool>,
    fetches: Arc<AtomicUsize>,
}

async fn jwks_fake() -> Jwks {
    let key = EncodingKey::from_rsa_pem(fixture("rsa2048.key").as_bytes()).expect("k1");
    let mut jwk = serde_json::to_value(
        jsonwebtoken::jwk::Jwk::from_encoding_key(&key, Algorithm::RS256).expect("jwk"),
    )
    .expect("jwk json");
    jwk["kid"] = json!("k1");
    jwk["use"] = json!("sig");
    let doc = json!({ "keys": [jwk] }).to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/jwks", listener.local_addr().expect("addr"));
    let down = Arc::new(AtomicBool::new(false));
    let fetches = Arc::new(AtomicUsize::new(0));
    let (d, f) = (down.clone(), fetches.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                continue;
            };
            let (doc, d, f) = (doc.clone(), d.clone(), f.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 2048];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                f.fetch_add(1, Ordering::SeqCst);
                let reply = if d.load(Ordering::SeqCst) {
                    "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\nconnection: close\r\n\r\ndown".to_string()
                } else {
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{doc}",
                        doc.len()
                    )
                };
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    Jwks { url, down, fetches }
}

// ---------------------------------------------------------------------------------------------
// The server

struct Server {
    child: Child,
    base: String,
    output: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(jwks_url: &str) -> String {
    format!(
        r#"
[server]
request_logs = false
[auth]
provider = "composite"
[auth.composite]
providers = ["jwt", "api_keys", "jwks"]
[auth.jwt]
secret = "{JWT_SECRET}"
[[auth.api_keys.keys]]
key = "{API_KEY}"
user = "service"
claims = {{ role = "service" }}
[auth.jwks]
jwks_uri = "{jwks_url}"
issuer = "{ISSUER}"
audience = "{AUDIENCE}"
allow_insecure_http = true

# Admins may run agents; everyone may read; anything else is denied.
[[auth.rules]]
path = "/api/agents/*"
methods = ["POST"]
condition = "claims.role == 'admin'"
allow = true
[[auth.rules]]
methods = ["GET"]
allow = true
"#
    )
}

fn spawn_server(bin: &Path, dir: &Path, jwks_url: &str) -> Server {
    use std::io::{BufRead, BufReader};
    let cfg = dir.join("soak.toml");
    std::fs::write(&cfg, config(jwks_url)).expect("write config");
    // Absolute: a relative program path would be resolved against `current_dir`.
    let bin = std::fs::canonicalize(bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    let mut child = Command::new(&bin)
        .args(["serve", "--port", "0", "--host", "127.0.0.1", "--config"])
        .arg(&cfg)
        .current_dir(dir)
        .env_clear()
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {}: {e}", bin.display()));
    let output: Arc<Mutex<Vec<String>>> = Default::default();
    for stream in [
        Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().expect("stderr")),
    ] {
        let sink = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let mut v = sink.lock().unwrap_or_else(|p| p.into_inner());
                // Keep the start and anything alarming; drop the rest (bounded memory).
                if v.len() < 200 || line.contains("panicked") {
                    v.push(line);
                }
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let base = loop {
        let found = output
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find_map(|l| {
                l.contains("listening on")
                    .then(|| {
                        l.split_whitespace()
                            .find(|w| w.starts_with("http://"))
                            .map(str::to_owned)
                    })
                    .flatten()
            });
        if let Some(b) = found {
            break b;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "server exited ({status}): {:?}",
                output.lock().unwrap_or_else(|p| p.into_inner())
            );
        }
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    };
    Server {
        child,
        base,
        output,
    }
}

fn rss_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

// ---------------------------------------------------------------------------------------------
// The load

/// One request to send: kind, method, path, Authorization, query token, expected statuses.
struct Planned {
    kind: &'static str,
    post: bool,
    path: &'static str,
    auth: Option<String>,
    query: Option<String>,
    expect: &'static [u16],
}

fn plan(step: u64, tokens: &Tokens, outage_now: bool, fresh_seq: &AtomicU64) -> Planned {
    let pick = |v: &Vec<String>| v[(step as usize / 23) % v.len()].clone();
    let bearer = |t: String| Some(format!("Bearer {t}"));
    let p = |kind, post, path, auth, expect| Planned {
        kind,
        post,
        path,
        auth,
        query: None,
        expect,
    };
    match step % 22 {
        0..=2 => p(
            "jwt user GET",
            false,
            "/api/agents",
            bearer(pick(&tokens.jwt_users)),
            &[200],
        ),
        3 => p(
            "jwt user POST (denied by rules)",
            true,
            "/api/agents/weatherAgent/generate",
            bearer(pick(&tokens.jwt_users)),
            &[403],
        ),
        4 => p(
            "jwt admin POST",
            true,
            "/api/agents/weatherAgent/generate",
            bearer(pick(&tokens.jwt_admins)),
            &[200],
        ),
        5 => p(
            "jwt expired",
            false,
            "/api/agents",
            bearer(pick(&tokens.jwt_expired)),
            &[401],
        ),
        6 => p(
            "jwt forged",
            true,
            "/api/agents/weatherAgent/generate",
            bearer(pick(&tokens.jwt_forged)),
            &[401],
        ),
        7 => p("no token", false, "/api/agents", None, &[401]),
        8 => p(
            "garbage token",
            false,
            "/api/agents",
            Some("Bearer not.a.jwt".into()),
            &[401],
        ),
        9 => p(
            "api key",
            false,
            "/api/tools",
            bearer(API_KEY.into()),
            &[200],
        ),
        10 => p(
            "wrong api key",
            false,
            "/api/tools",
            bearer(format!("{API_KEY}x")),
            &[401],
        ),
        11 | 12 => p(
            "jwks valid",
            false,
            "/api/agents/weatherAgent",
            bearer(pick(&tokens.jwks_valid)),
            &[200],
        ),
        13 => p(
            "jwks forged",
            false,
            "/api/agents",
            bearer(pick(&tokens.jwks_forged)),
            &[401],
        ),
        14 => p(
            "jwks expired",
            false,
            "/api/agents",
            bearer(pick(&tokens.jwks_expired)),
            &[401],
        ),
        15 => p(
            "jwks unknown kid",
            false,
            "/api/agents",
            bearer(pick(&tokens.jwks_unknown_kid)),
            if outage_now { &[401, 503] } else { &[401] },
        ),
        16 => p(
            "jwks wrong audience",
            false,
            "/api/agents",
            bearer(pick(&tokens.jwks_wrong_aud)),
            &[401],
        ),
        17 => Planned {
            kind: "apiKey query",
            post: false,
            path: "/api/agents",
            auth: None,
            query: Some(pick(&tokens.jwt_users)),
            expect: &[200],
        },
        18 => Planned {
            kind: "header and query differ",
            post: false,
            path: "/api/agents",
            auth: bearer(pick(&tokens.jwt_users)),
            query: Some(pick(&tokens.jwt_admins)),
            expect: &[400],
        },
        19 => p(
            "unknown route with token",
            false,
            "/api/no/such/route",
            bearer(pick(&tokens.jwt_users)),
            &[404],
        ),
        20 => p("health", false, "/health", None, &[200]),
        _ => {
            // Never-seen tokens: every one is a cache miss and a new cache entry.
            let n = fresh_seq.fetch_add(1, Ordering::Relaxed);
            let t = hs(
                JWT_SECRET,
                &json!({"sub": format!("fresh-{n}"), "role": "user", "exp": now() + 3600, "jti": n}),
            );
            p("jwt never seen", false, "/api/agents", bearer(t), &[200])
        }
    }
}

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    wrong: AtomicU64,
    unexpected_5xx: AtomicU64,
    deliberate_503: AtomicU64,
    transport: AtomicU64,
    samples: Mutex<Vec<String>>,
    by_kind: Mutex<BTreeMap<&'static str, (u64, u64)>>,
    by_status: Mutex<BTreeMap<u16, u64>>,
    /// Latency histogram: bucket i counts latencies in [2^i, 2^(i+1)) microseconds.
    latency: [AtomicU64; 32],
    max_latency: AtomicU64,
}

fn percentile(h: &[AtomicU64; 32], q: f64) -> u64 {
    let counts: Vec<u64> = h.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    let total: u64 = counts.iter().sum();
    let target = (total as f64 * q).ceil() as u64;
    let mut seen = 0;
    for (i, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= target && *c > 0 {
            return 1u64 << (i + 1);
        }
    }
    0
}

/// Runs the whole thing.
pub async fn run(opts: &Options) -> Report {
    let dir = tempfile::tempdir().expect("tempdir");
    let jwks = jwks_fake().await;
    let tokens = Arc::new(mint(opts.duration));
    let server = spawn_server(&opts.bin, dir.path(), &jwks.url);
    let pid = server.child.id();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(opts.workers)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let deadline = started + opts.duration;
    let outage = Arc::new(AtomicBool::new(false));
    let fresh = Arc::new(AtomicU64::new(0));

    // RSS sampler.
    let samples: Arc<Mutex<Vec<(f64, u64)>>> = Default::default();
    let sampler = {
        let samples = samples.clone();
        tokio::spawn(async move {
            while Instant::now() < deadline {
                samples
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((started.elapsed().as_secs_f64(), rss_of(pid)));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    // The outage in the middle third.
    let outage_task = if opts.outage {
        let (outage, down, third) = (outage.clone(), jwks.down.clone(), opts.duration / 3);
        Some(tokio::spawn(async move {
            tokio::time::sleep(third).await;
            outage.store(true, Ordering::SeqCst);
            down.store(true, Ordering::SeqCst);
            tokio::time::sleep(third).await;
            down.store(false, Ordering::SeqCst);
            // Unknown kids stay 503 until the next successful fetch (forced refreshes are
            // rate-limited to one per 30 s); the expectation stays relaxed to the end.
        }))
    } else {
        None
    };

    let mut workers = Vec::new();
    for w in 0..opts.workers {
        let (client, tally, tokens, outage, fresh, base) = (
            client.clone(),
            tally.clone(),
            tokens.clone(),
            outage.clone(),
            fresh.clone(),
            server.base.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut step = w as u64 * 7919;
            while Instant::now() < deadline {
                step += 1;
                let planned = plan(step, &tokens, outage.load(Ordering::SeqCst), &fresh);
                let mut url = format!("{base}{}", planned.path);
                if let Some(q) = &planned.query {
                    url = format!("{url}?apiKey={q}");
                }
                let mut req = if planned.post {
                    client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(r#"{"messages":"hello"}"#)
                } else {
                    client.get(&url)
                };
                if let Some(a) = &planned.auth {
                    req = req.header("authorization", a);
                }
                let sent = Instant::now();
                let result = req.send().await;
                let status = match result {
                    Ok(res) => {
                        let s = res.status().as_u16();
                        let _ = res.bytes().await;
                        s
                    }
                    Err(e) => {
                        tally.transport.fetch_add(1, Ordering::Relaxed);
                        let mut s = tally.samples.lock().unwrap_or_else(|p| p.into_inner());
                        if s.len() < 20 {
                            s.push(format!("{}: transport error {e}", planned.kind));
                        }
                        continue;
                    }
                };
                let us = sent.elapsed().as_micros() as u64;
                let bucket = (63 - us.max(1).leading_zeros()) as usize;
                tally.latency[bucket.min(31)].fetch_add(1, Ordering::Relaxed);
                tally.max_latency.fetch_max(us, Ordering::Relaxed);
                tally.requests.fetch_add(1, Ordering::Relaxed);
                *tally
                    .by_status
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(status)
                    .or_default() += 1;
                let ok = planned.expect.contains(&status);
                {
                    let mut k = tally.by_kind.lock().unwrap_or_else(|p| p.into_inner());
                    let e = k.entry(planned.kind).or_default();
                    e.0 += 1;
                    if !ok {
                        e.1 += 1;
                    }
                }
                if status == 503 && ok {
                    tally.deliberate_503.fetch_add(1, Ordering::Relaxed);
                } else if status >= 500 {
                    tally.unexpected_5xx.fetch_add(1, Ordering::Relaxed);
                }
                if !ok {
                    tally.wrong.fetch_add(1, Ordering::Relaxed);
                    let mut s = tally.samples.lock().unwrap_or_else(|p| p.into_inner());
                    if s.len() < 20 {
                        s.push(format!(
                            "{}: got {status}, expected {:?}",
                            planned.kind, planned.expect
                        ));
                    }
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let elapsed = started.elapsed();
    let _ = sampler.await;
    if let Some(t) = outage_task {
        t.abort();
    }
    let rss_end = rss_of(pid);
    let all = samples.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let after_warmup: Vec<u64> = all
        .iter()
        .filter(|(t, _)| *t >= opts.warmup.as_secs_f64())
        .map(|(_, r)| *r)
        .collect();
    let rss_start = after_warmup.first().copied().unwrap_or(rss_end);
    let rss_peak = after_warmup.iter().copied().max().unwrap_or(rss_end);
    let panics = server
        .output
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|l| l.contains("panicked"))
        .cloned()
        .collect();
    drop(server);
    let requests = tally.requests.load(Ordering::Relaxed);
    Report {
        requests,
        rps: requests as f64 / elapsed.as_secs_f64(),
        wrong: tally.wrong.load(Ordering::Relaxed),
        wrong_samples: tally
            .samples
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone(),
        unexpected_5xx: tally.unexpected_5xx.load(Ordering::Relaxed),
        deliberate_503: tally.deliberate_503.load(Ordering::Relaxed),
        transport_errors: tally.transport.load(Ordering::Relaxed),
        by_kind: tally
            .by_kind
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone(),
        by_status: tally
            .by_status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone(),
        rss_start,
        rss_peak: rss_peak.max(rss_end),
        rss_end,
        rss_samples: all,
        latency_us: (
            percentile(&tally.latency, 0.50),
            percentile(&tally.latency, 0.99),
            tally.max_latency.load(Ordering::Relaxed),
        ),
        jwks_fetches: jwks.fetches.load(Ordering::SeqCst),
        panics,
    }
}

fn parse_args() -> Options {
    let mut o = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--bin" => o.bin = PathBuf::from(value()),
            "--duration" => o.duration = Duration::from_secs(value().parse().expect("seconds")),
            "--workers" => o.workers = value().parse().expect("a number"),
            "--warmup" => o.warmup = Duration::from_secs(value().parse().expect("seconds")),
            "--max-rss-growth-mb" => {
                o.max_rss_growth = value().parse::<u64>().expect("MiB") * 1024 * 1024
            }
            "--outage" => o.outage = true,
            "--help" | "-h" => {
                println!(
                    "soak [--bin PATH] [--duration SECS] [--workers N] [--warmup SECS] [--max-rss-growth-mb MIB] [--outage]"
                );
                std::process::exit(0);
            }
            other => panic!("unknown argument {other}"),
        }
    }
    o
}

#[allow(dead_code)] // not called when this file is a module of the short test
fn main() {
    let opts = parse_args();
    eprintln!(
        "soak: {} for {:?} with {} workers{}",
        opts.bin.display(),
        opts.duration,
        opts.workers,
        if opts.outage {
            ", JWKS outage in the middle third"
        } else {
            ""
        }
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let report = rt.block_on(run(&opts));
    print!("{}", report.summary());
    println!("rss samples (s, MiB):");
    let step = (report.rss_samples.len() / 20).max(1);
    for (t, r) in report.rss_samples.iter().step_by(step) {
        println!("  {t:7.1} {:7.1}", *r as f64 / (1024.0 * 1024.0));
    }
    match report.check(&opts) {
        Ok(()) => println!("PASS"),
        Err(e) => {
            println!("FAIL: {e}");
            std::process::exit(1);
        }
    }
}
