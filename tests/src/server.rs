//! A wspeer [`Listener`] on `127.0.0.1:0` whose accept loop runs in a task, so
//! that handshakes progress while the test does something else.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use tokio::{sync::mpsc, task::JoinHandle};
use wspeer_core::{Config, Listener, Message, UNCLEAN_CLOSE_CODE, WebSocket, connect_with};

use crate::within;

/// A running listener. Dropping it stops accepting; connections already handed
/// out keep running.
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
    accepted: mpsc::UnboundedReceiver<WebSocket>,
    task: JoinHandle<()>,
}

impl TestServer {
    /// Binds a listener with `config` on a free port and starts accepting.
    pub async fn start(config: Config) -> Self {
        let mut listener = Listener::bind("127.0.0.1:0", config)
            .await
            .expect("bind a listener on 127.0.0.1:0");
        let addr = listener.local_addr().expect("listener address");
        let (tx, accepted) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                let ws = listener.accept().await;
                if tx.send(ws).is_err() {
                    break;
                }
            }
        });
        Self {
            addr,
            accepted,
            task,
        }
    }

    /// The address the listener is bound to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// The next connection whose handshake succeeded.
    pub async fn accept(&mut self) -> WebSocket {
        within("the listener to accept a connection", self.accepted.recv())
            .await
            .expect("the accept loop is running")
    }

    /// A connection whose handshake succeeded and that was not taken yet, if any:
    /// lets a test check that no hostile client was ever handed to the application.
    pub fn try_accept(&mut self) -> Option<WebSocket> {
        self.accepted.try_recv().ok()
    }

    /// Checks the server still serves: a normal wspeer client connects, a message
    /// goes each way, and both sides close cleanly with 1000. Call it when no other
    /// client is about to complete a handshake, so that the next accepted
    /// connection is this client's.
    pub async fn assert_serves(&mut self) {
        let mut client = within(
            "a normal client to connect",
            connect_with(&self.url("/normal"), Config::default()),
        )
        .await
        .expect("a normal client connects");
        let mut ws = self.accept().await;
        assert_eq!(
            ws.peer_addr(),
            client.local_addr(),
            "the next accepted connection is not the normal client's"
        );
        let hello = Message::text("hello from a normal client");
        client.send(hello.clone()).await.expect("client send");
        assert_eq!(
            within("the normal client's message", ws.recv()).await,
            Some(hello)
        );
        let reply = Message::binary(vec![1u8, 2, 3]);
        ws.send(reply.clone()).await.expect("server send");
        assert_eq!(
            within("the server's reply", client.recv()).await,
            Some(reply)
        );
        client.close(1000, "bye").expect("close");
        assert_eq!(
            within("the client to close", client.closed()).await.code,
            1000
        );
        assert_eq!(within("the server to close", ws.closed()).await.code, 1000);
    }
}

/// A connected pair: a wspeer client with `client_config` and the server's side
/// of the same connection, accepted by a listener with `server_config`.
/// Returns `(server_side, client)`; the listener keeps running until both drop.
pub async fn connected(server_config: Config, client_config: Config) -> (WebSocket, WebSocket) {
    let mut server = TestServer::start(server_config).await;
    let client = within(
        "the client to connect",
        connect_with(&server.url("/"), client_config),
    )
    .await
    .expect("the client connects");
    let ws = server.accept().await;
    (ws, client)
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a listener that echoes every message back on every connection, and
/// returns its address.
pub async fn spawn_echo_server(config: Config) -> SocketAddr {
    let mut server = TestServer::start(config).await;
    let addr = server.addr();
    tokio::spawn(async move {
        loop {
            let ws = server.accepted.recv().await;
            let Some(mut ws) = ws else { break };
            tokio::spawn(async move {
                while let Some(message) = ws.recv().await {
                    if ws.send(message).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// What an [`EchoServer`] has seen, counted as it happens.
#[derive(Debug, Default)]
pub struct EchoCounters {
    /// Connections whose handshake succeeded.
    pub opened: AtomicUsize,
    /// Connections that ended and whose handles the server has dropped.
    pub ended: AtomicUsize,
    /// Of those, the ones that ended without a closing handshake (code -1).
    pub ended_unclean: AtomicUsize,
}

impl EchoCounters {
    /// (opened, ended, ended without a closing handshake).
    pub fn get(&self) -> (usize, usize, usize) {
        (
            self.opened.load(Ordering::SeqCst),
            self.ended.load(Ordering::SeqCst),
            self.ended_unclean.load(Ordering::SeqCst),
        )
    }
}

/// A listener that echoes every message on every connection in a task of its
/// own, and drops each connection's handle as soon as it ends (`recv` gives
/// `None`), as a well-behaved server application does. It counts what it sees.
/// Dropping it stops accepting; connections already open keep being served.
#[derive(Debug)]
pub struct EchoServer {
    addr: SocketAddr,
    counters: Arc<EchoCounters>,
    task: JoinHandle<()>,
}

impl EchoServer {
    /// Binds a listener with `config` on a free port and starts serving.
    pub async fn start(config: Config) -> Self {
        let mut listener = Listener::bind("127.0.0.1:0", config)
            .await
            .expect("bind a listener on 127.0.0.1:0");
        let addr = listener.local_addr().expect("listener address");
        let counters = Arc::new(EchoCounters::default());
        let task = tokio::spawn({
            let counters = counters.clone();
            async move {
                loop {
                    let mut ws = listener.accept().await;
                    counters.opened.fetch_add(1, Ordering::SeqCst);
                    let counters = counters.clone();
                    tokio::spawn(async move {
                        while let Some(message) = ws.recv().await {
                            if ws.send(message).await.is_err() {
                                break;
                            }
                        }
                        let clean = ws.closed().await.code != UNCLEAN_CLOSE_CODE;
                        drop(ws);
                        if !clean {
                            counters.ended_unclean.fetch_add(1, Ordering::SeqCst);
                        }
                        counters.ended.fetch_add(1, Ordering::SeqCst);
                    });
                }
            }
        });
        Self {
            addr,
            counters,
            task,
        }
    }

    /// The address the listener is bound to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// The counters, updated as connections open and end.
    pub fn counters(&self) -> &EchoCounters {
        &self.counters
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Sends `message` on `client`, connected to an echo server, and checks the same
/// message comes back within [`WAIT`](crate::WAIT).
pub async fn assert_echo(client: &mut WebSocket, message: Message) {
    client
        .send(message.clone())
        .await
        .expect("send to the echo server");
    assert_eq!(
        within("the echo", client.recv()).await,
        Some(message),
        "the echo server sent something else back"
    );
}
