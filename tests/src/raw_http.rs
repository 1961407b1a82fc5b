//! The opening handshake done by hand on a plain `TcpStream`, for peers that must
//! misbehave after it (never answer pings, drop TCP, send odd frames) and for
//! checking the exact bytes a wspeer peer puts on the wire.

use std::net::SocketAddr;

use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::TcpStream,
};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// The sample `Sec-WebSocket-Key` of RFC 6455 §1.3.
pub const SAMPLE_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// The `Sec-WebSocket-Accept` that answers [`SAMPLE_KEY`] (RFC 6455 §1.3).
pub const SAMPLE_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// An HTTP head read off a socket, and whatever came after its blank line.
#[derive(Debug)]
pub struct Head {
    /// The head up to and including `\r\n\r\n`, as text.
    pub text: String,
    /// Bytes read after the head (a body or early frames).
    pub rest: Vec<u8>,
}

impl Head {
    /// The first line, without `\r\n`.
    pub fn first_line(&self) -> &str {
        self.text.split("\r\n").next().unwrap_or_default()
    }

    /// The values of every header called `name` (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Vec<&str> {
        self.text
            .split("\r\n")
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect()
    }
}

/// Reads until the blank line that ends an HTTP head. Panics on EOF before it.
pub async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> Head {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(pos + 4);
            let text = String::from_utf8(buf).expect("an HTTP head is ASCII");
            return Head { text, rest };
        }
        let n = stream.read(&mut chunk).await.expect("read an HTTP head");
        assert!(
            n > 0,
            "EOF before the end of the HTTP head; got so far: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// How the server ended a connection after its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// A clean end of stream (FIN).
    Eof,
    /// A reset: the kernel does this when a socket is closed with bytes it never
    /// read, such as the rest of a request head over the size limit.
    Reset,
}

/// An HTTP response read off a socket up to the end of the connection.
#[derive(Debug)]
pub struct Response {
    /// The head.
    pub head: Head,
    /// The body: exactly `Content-Length` bytes, as (lossy) text.
    pub body: String,
    /// How the connection ended after the body.
    pub ending: Ending,
}

/// Reads a response with a `Content-Length` body, then reads on until the
/// connection ends. Panics if it ends before the body is complete, or if anything
/// comes after the body.
pub async fn read_response<S: AsyncRead + Unpin>(stream: &mut S) -> Response {
    let head = read_head(stream).await;
    let length: usize = head
        .header("content-length")
        .first()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no valid Content-Length in {:?}", head.text));
    let mut body = head.rest.clone();
    let mut chunk = [0u8; 1024];
    let ending = loop {
        match stream.read(&mut chunk).await {
            Ok(0) => break Ending::Eof,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break Ending::Reset,
            Err(e) => panic!("reading the response failed: {e}"),
        }
    };
    assert_eq!(
        body.len(),
        length,
        "the body does not match Content-Length {length}: {:?}",
        String::from_utf8_lossy(&body)
    );
    let body = String::from_utf8_lossy(&body).into_owned();
    Response { head, body, ending }
}

/// Reads until EOF and returns everything as (lossy) text.
pub async fn read_to_end_text<S: AsyncRead + Unpin>(stream: &mut S) -> String {
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await.expect("read until EOF");
    String::from_utf8_lossy(&buf).into_owned()
}

/// A valid client upgrade request for `path` with [`SAMPLE_KEY`] and `extra`
/// header lines.
pub fn upgrade_request(host: &str, path: &str, extra: &[(&str, &str)]) -> String {
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {SAMPLE_KEY}\r\nSec-WebSocket-Version: 13\r\n"
    );
    for (name, value) in extra {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request
}

/// Connects to a WebSocket server at `addr` by hand and completes the handshake;
/// returns the socket, ready for frames, and the server's response head.
pub async fn raw_client_handshake(addr: SocketAddr) -> (TcpStream, Head) {
    let mut stream = TcpStream::connect(addr).await.expect("TCP connect");
    let request = upgrade_request(&addr.to_string(), "/", &[]);
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send the upgrade request");
    let head = read_head(&mut stream).await;
    assert_eq!(head.first_line(), "HTTP/1.1 101 Switching Protocols");
    assert_eq!(head.header("sec-websocket-accept"), [SAMPLE_ACCEPT]);
    assert!(head.rest.is_empty(), "no frame was expected yet");
    (stream, head)
}

/// Answers a client's upgrade request by hand with `101`, adding `extra` header
/// lines; returns the request head it read.
pub async fn raw_server_handshake<S>(stream: &mut S, extra: &[(&str, &str)]) -> Head
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let request = read_head(stream).await;
    let key = *request
        .header("sec-websocket-key")
        .first()
        .expect("the request has a Sec-WebSocket-Key");
    let mut response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        derive_accept_key(key.as_bytes())
    );
    for (name, value) in extra {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    stream
        .write_all(response.as_bytes())
        .await
        .expect("send the 101 response");
    request
}
