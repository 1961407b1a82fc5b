//! What the chat tests share: in-process chat servers on port 0 (alone, or
//! clustered on a `redis-server` of the test's own), and client helpers.

#![allow(dead_code, unreachable_pub)] // each test crate uses a part
#![allow(clippy::unwrap_used)] // test code

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    process::{Child, Command},
    sync::oneshot,
    task::JoinHandle,
    time::{sleep, timeout},
};
use wspeer_chat::{Backend, ChatConfig, Server};
use wspeer_core::{Config, Message, WebSocket};

pub use wspeer_testkit::wait::{WAIT, eventually, eventually_async};

pub fn redis_server(test: &str) -> Option<PathBuf> {
    wspeer_testkit::interop::find_program(test, "redis-server", "apt-get install redis-server")
}

/// A `redis-server` of this test's own, without persistence.
pub struct Redis {
    program: PathBuf,
    pub port: u16,
    child: Option<Child>,
}

impl Redis {
    pub async fn start(program: &Path) -> Self {
        // redis-server takes no port 0: take a free port from the kernel.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = Self {
            program: program.to_owned(),
            port,
            child: None,
        };
        redis.restart().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub async fn restart(&mut self) {
        let port = self.port.to_string();
        let child = Command::new(&self.program)
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let port = self.port;
        eventually_async(
            "redis-server to listen",
            async || match TcpStream::connect(("127.0.0.1", port)).await {
                Ok(_) => Ok(()),
                Err(e) => Err(e.to_string()),
            },
        )
        .await;
    }

    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.unwrap();
        }
    }
}

/// One chat server of the cluster.
pub struct Node {
    pub port: u16,
    pub server: Arc<Server>,
    stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<std::io::Result<()>>,
}

impl Node {
    pub async fn start(redis: &Redis, history: usize) -> Self {
        let mut config = ChatConfig::default();
        config.backend = Backend::redis(&redis.url()).unwrap();
        config.history = history;
        config.rate_per_second = 1000.0;
        config.rate_burst = 1000.0;
        let node = Self::start_with(config).await;
        node.wait_redis(true).await;
        node
    }

    /// A server with `config`, on a port of its own.
    pub async fn start_with(config: ChatConfig) -> Self {
        Self::start_on(config, 0).await
    }

    /// A server with `config` on `port` (0: any free one); a restarted server
    /// takes its old port again.
    pub async fn start_on(config: ChatConfig, port: u16) -> Self {
        let listener = wspeer_core::bind_tcp(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = Arc::new(Server::new(config));
        let (stop, stopped) = oneshot::channel::<()>();
        let running = server.clone();
        let task = tokio::spawn(async move {
            running
                .run(listener, async {
                    let _ = stopped.await;
                })
                .await
        });
        Self {
            port,
            server,
            stop: Some(stop),
            task,
        }
    }

    /// The URL demo clients use.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/test/", self.port)
    }

    /// Asks the server to shut down (its `run` then returns).
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub async fn wait_redis(&self, connected: bool) {
        eventually(
            &format!("redis_connected to become {connected}"),
            || match self.server.redis_connected() {
                seen if seen == Some(connected) => Ok(()),
                seen => Err(format!("{seen:?}")),
            },
        )
        .await;
    }

    pub async fn client(&self) -> WebSocket {
        let config = Config::default().supported_protocols(["demo-chat"]);
        timeout(WAIT, wspeer_core::connect_with(&self.url(), config))
            .await
            .unwrap()
            .unwrap()
    }

    pub async fn healthz(&self) -> String {
        self.http_get("/healthz").await
    }

    /// The whole HTTP response to `GET path`.
    pub async fn http_get(&self, path: &str) -> String {
        http_get(self.port, path).await
    }

    pub async fn shutdown(mut self) {
        self.stop();
        let _ = timeout(WAIT, self.task).await;
    }
}

pub async fn next_text(ws: &mut WebSocket) -> String {
    let message = timeout(WAIT, ws.recv())
        .await
        .expect("a message in time")
        .expect("open");
    message.as_text().expect("text").to_owned()
}

pub async fn send(ws: &WebSocket, text: &str) {
    ws.send(Message::text(text)).await.unwrap();
}

/// Reads lines until one satisfies `wanted`; returns it.
pub async fn wait_for(ws: &mut WebSocket, wanted: impl Fn(&str) -> bool) -> String {
    loop {
        let line = next_text(ws).await;
        if wanted(&line) {
            return line;
        }
    }
}

/// The names `/who` lists for `ws`'s room.
pub async fn who(ws: &mut WebSocket) -> Vec<String> {
    send(ws, "/who").await;
    let line = wait_for(ws, |l| l.starts_with("In ")).await;
    let (_, names) = line.split_once(": ").unwrap_or((&line, ""));
    names.split_whitespace().map(str::to_owned).collect()
}

/// Asks `/who` until `done` holds of the names (bounded).
pub async fn who_until(ws: &mut WebSocket, done: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let names = who(ws).await;
        if done(&names) {
            return names;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/who never settled: {names:?}"
        );
        // Each answer was awaited; the pause only spaces out the questions.
        sleep(Duration::from_millis(250)).await;
    }
}

/// The text after `Says: `, for chat lines.
pub fn said(line: &str) -> Option<&str> {
    line.split_once("] Says: ").map(|(_, text)| text)
}

/// The whole HTTP response to `GET path` from 127.0.0.1:`port` (a chat server
/// or a proxy in front of it: `Connection: close` makes either end it).
pub async fn http_get(port: u16, path: &str) -> String {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut response = String::new();
    timeout(WAIT, tcp.read_to_string(&mut response))
        .await
        .unwrap()
        .unwrap();
    response
}

/// A client that asked for JSON frames with ids: `query` is the URL's query
/// (such as `ids=1` or `room=games&after=41`).
pub async fn ids_client(port: u16, query: &str) -> WebSocket {
    let url = format!("ws://127.0.0.1:{port}/?{query}");
    let config = Config::default().supported_protocols(["demo-chat"]);
    timeout(WAIT, wspeer_core::connect_with(&url, config))
        .await
        .unwrap()
        .unwrap()
}

/// The next frame of an ids client, as JSON.
pub async fn next_frame(ws: &mut WebSocket) -> serde_json::Value {
    let text = next_text(ws).await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Reads frames until one satisfies `wanted`; returns it.
pub async fn wait_frame(
    ws: &mut WebSocket,
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    loop {
        let frame = next_frame(ws).await;
        if wanted(&frame) {
            return frame;
        }
    }
}

/// The whole response to a raw request (`Connection: close` ends it).
pub async fn raw_request(port: u16, request: &[u8]) -> String {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.write_all(request).await.unwrap();
    let mut response = Vec::new();
    timeout(WAIT, tcp.read_to_end(&mut response))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

/// The response to an upgrade request for `target` with `extra` header lines.
pub async fn upgrade_response(port: u16, target: &str, extra: &str) -> String {
    let mut tcp = send_upgrade(port, target, "x", extra).await;
    read_head(&mut tcp).await
}

/// Connects and sends a `demo-chat` upgrade request for `target` to `host`,
/// with `extra` header lines (each ending in CRLF).
pub async fn send_upgrade(port: u16, target: &str, host: &str, extra: &str) -> TcpStream {
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: demo-chat\r\n{extra}\r\n"
    );
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    tcp
}

/// Reads a response head, up to its blank line (or the end of the stream),
/// leaving the body unread.
pub async fn read_head(tcp: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    timeout(WAIT, async {
        while !head.ends_with(b"\r\n\r\n") {
            if tcp.read(&mut byte).await.unwrap() == 0 {
                break;
            }
            head.push(byte[0]);
        }
    })
    .await
    .unwrap();
    String::from_utf8_lossy(&head).into_owned()
}
