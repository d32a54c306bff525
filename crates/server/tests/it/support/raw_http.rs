//! HTTP/1.1 written byte for byte on a TCP socket: a client library would normalize the very
//! request-targets (`/api/./agents`, `%2e%2e`) and headers the attack tests send.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A response read until the server closed the connection.
#[derive(Debug)]
pub struct Raw {
    /// Status code (0 when none could be read).
    pub status: u16,
    /// Status line and headers.
    pub head: String,
    /// Everything after the blank line.
    pub body: String,
}

impl Raw {
    /// The first header named `name` (case-insensitive).
    #[allow(dead_code)]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Sends `request` verbatim and reads the answer until the server closes (10 s at most).
pub async fn send(addr: SocketAddr, request: impl AsRef<[u8]>) -> Raw {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    // A server that refuses early may close before the whole request is written.
    let _ = s.write_all(request.as_ref()).await;
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "server did not answer within 10 s");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Raw {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}
