//! A wspeer [`Listener`] on `127.0.0.1:0` whose accept loop runs in a task, so
//! that handshakes progress while the test does something else.

use std::net::SocketAddr;

use tokio::{sync::mpsc, task::JoinHandle};
use wspeer_core::{Config, Listener, WebSocket};

use crate::wait::within;

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
