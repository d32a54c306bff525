//! Shutdown of `mastra serve` through the real binary: an open streaming response (a proxy route
//! to an upstream that never finishes its body) holds the drain for at most
//! `server.shutdown_timeout`; a second SIGINT during the drain ends the process at once (exit
//! 130); no new connections are accepted while draining. Also the startup refusal of
//! `[server.cors] credentials = true` with the default origin `*`, by `serve` and `config check`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::BIN;

/// An upstream that answers every request with a chunked head and one chunk, then holds the
/// connection open without ever ending the body.
fn endless_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind upstream");
    let addr = listener.local_addr().expect("upstream addr");
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match conn.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                      transfer-encoding: chunked\r\n\r\n6\r\nhello\n\r\n",
                );
                let _ = conn.flush();
                // the body never ends; the connection lives as long as the test process
                std::thread::sleep(Duration::from_secs(300));
                drop(conn);
            });
        }
    });
    addr
}

/// The server process; killed if a test fails before it exits.
struct Running {
    child: Child,
    stderr: Arc<Mutex<Vec<String>>>,
    addr: SocketAddr,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    fn logs(&self) -> String {
        self.stderr.lock().expect("lock").join("\n")
    }

    /// Waits up to `limit` for the process to exit.
    fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Waits up to `limit` for a log line containing `text`.
    fn wait_log(&self, text: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.logs().contains(text) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }
}

fn write_config(dir: &Path, shutdown_timeout: &str, upstream: SocketAddr) -> String {
    let path = dir.join("mastra.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[server]
host = "127.0.0.1"
shutdown_timeout = "{shutdown_timeout}"

[auth]
provider = "none"

[[api_routes]]
method = "GET"
path = "/slow"
requires_auth = false
proxy = "http://{upstream}"
"#
        ),
    )
    .expect("write config");
    path.to_str().expect("utf-8 path").to_owned()
}

fn serve(dir: &Path, config: &str) -> Running {
    let mut child = Command::new(BIN)
        .args(["serve", "--config", config, "--port", "0"])
        .current_dir(dir)
        .env_clear()
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mastra");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let logs: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = logs.clone();
    std::thread::spawn(move || {
        // Keep draining stderr so the server never blocks on a full pipe.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().expect("lock").push(line);
        }
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Keep reading after the address is found: a closed pipe would fail the server's
        // later prints.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut running = Running {
        child,
        stderr: logs,
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100))
            && let Some(url) = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("http://"))
        {
            running.addr = url.parse().expect("printed address");
            return running;
        }
    }
    panic!("server did not start:\n{}", running.logs());
}

/// Opens `GET /slow` and reads until the first chunk arrives: a response in flight.
fn open_stream(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(b"GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .expect("write request");
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("hello") {
        let n = s.read(&mut buf).expect("stream data");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(
        String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&seen)
    );
    s
}

fn sigint(pid: &str) {
    let status = Command::new("kill")
        .args(["-INT", pid])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -INT {pid}");
}

#[test]
fn open_stream_holds_shutdown_only_for_shutdown_timeout() {
    let upstream = endless_upstream();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), "1s", upstream);
    let mut server = serve(dir.path(), &config);
    let mut stream = open_stream(server.addr);

    let started = Instant::now();
    sigint(&server.pid());
    let status = server.wait_exit(Duration::from_secs(15));
    let elapsed = started.elapsed();
    let logs = server.logs();
    let status = status.unwrap_or_else(|| panic!("still running 15 s after SIGINT:\n{logs}"));
    assert!(
        elapsed >= Duration::from_millis(900),
        "exited after {elapsed:?}: the open request was not given its drain time\n{logs}"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "exited after {elapsed:?}, expected about 1 s\n{logs}"
    );
    assert_eq!(status.code(), Some(0), "{logs}");
    assert!(
        logs.contains("requests still open after server.shutdown_timeout"),
        "{logs}"
    );
    // the client sees its connection end
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
}

#[test]
fn second_sigint_during_the_drain_exits_at_once() {
    let upstream = endless_upstream();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), "60s", upstream);
    let mut server = serve(dir.path(), &config);
    let _stream = open_stream(server.addr);

    sigint(&server.pid());
    assert!(
        server.wait_log("shutting down", Duration::from_secs(10)),
        "first SIGINT not seen:\n{}",
        server.logs()
    );
    // draining: the listener is closed, new connections are refused
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if TcpStream::connect(server.addr).is_err() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still accepting connections while draining:\n{}",
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        server.child.try_wait().expect("try_wait").is_none(),
        "exited before the drain cap without a second signal:\n{}",
        server.logs()
    );

    let started = Instant::now();
    sigint(&server.pid());
    let status = server.wait_exit(Duration::from_secs(15));
    let elapsed = started.elapsed();
    let logs = server.logs();
    let status = status.unwrap_or_else(|| panic!("second SIGINT ignored:\n{logs}"));
    assert!(
        elapsed < Duration::from_secs(3),
        "exited {elapsed:?} after the second SIGINT\n{logs}"
    );
    assert_eq!(status.code(), Some(130), "{logs}");
    assert!(logs.contains("second stop signal"), "{logs}");
}

#[test]
fn credentials_with_the_default_origin_are_refused_by_serve_and_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("mastra.toml");
    std::fs::write(
        &config,
        "[server]\nhost = \"127.0.0.1\"\n[server.cors]\ncredentials = true\n[auth]\nprovider = \"none\"\n",
    )
    .expect("write config");
    let config = config.to_str().expect("utf-8 path");

    let out = Command::new(BIN)
        .args(["config", "check", "--config", config])
        .current_dir(dir.path())
        .env_clear()
        .output()
        .expect("config check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("INVALID"), "{stdout}");
    assert!(stdout.contains("server.cors.credentials"), "{stdout}");
    assert!(
        stdout.contains("list the allowed origins explicitly"),
        "{stdout}"
    );

    let mut child = Command::new(BIN)
        .args(["serve", "--config", config, "--port", "0"])
        .current_dir(dir.path())
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve started with credentials and origin \"*\"");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("serve output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("listening on"), "{stdout}");
    assert!(stderr.contains("server.cors.credentials"), "{stderr}");
}
