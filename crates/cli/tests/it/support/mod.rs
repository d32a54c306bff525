//! Helpers shared by the black-box tests of the `mastra` binary.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `mastra` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_mastra");

/// A child `mastra` process, killed (and reaped) when dropped, so a failing test leaves none.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `mastra ARGS` in `dir` with a cleared environment plus `env` (no provider variables leak
/// in from the host); returns (exit code, stdout, stderr). Kills it (and fails) if it does not
/// exit within 30 s: `serve` with a config it accepts would run forever.
pub fn mastra_exits(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "mastra {args:?} did not exit (it started?): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts `mastra serve --config mastra.toml --port 0 --host 127.0.0.1` in `dir` and waits until
/// it printed its `memory:` line (its database is ready then). Answers the process, its base URL
/// and that line. Its output keeps being read, so it never blocks on a full pipe.
pub fn serve_config(dir: &Path) -> (Running, String, String) {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--config",
            "mastra.toml",
            "--port",
            "0",
            "--host",
            "127.0.0.1",
        ])
        .current_dir(dir)
        .env_remove("MASTRA_JWT_SECRET")
        .env_remove("JWT_AUTH_SECRET")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // Keep reading after the receiver is gone.
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut base = None;
    while Instant::now() < deadline {
        let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        if base.is_none() {
            base = line
                .split_whitespace()
                .find(|w| w.starts_with("http://"))
                .map(str::to_owned);
        }
        if line.trim_start().starts_with("memory:") {
            let base = base.expect("serve printed its URL before its memory line");
            return (running, base, line);
        }
    }
    panic!("mastra serve in {} printed no memory line", dir.display());
}

/// An HS256 token for `sub` made by `mastra token sign --secret SECRET`.
pub fn sign_token(secret: &str, sub: &str) -> String {
    let out = Command::new(BIN)
        .args(["token", "sign", "--secret", secret, "--sub", sub])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("eyJ"))
        .expect("token sign printed a token")
        .to_owned()
}

/// The Postgres server `scripts/test.sh` starts (`MASTRA_TEST_POSTGRES_URL`); a failure, never a
/// skip, without it.
pub fn postgres_url() -> String {
    std::env::var("MASTRA_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "MASTRA_TEST_POSTGRES_URL is not set: this test needs a Postgres server; run `bash scripts/test.sh` (it starts one with scripts/postgres.sh)"
        )
    })
}
