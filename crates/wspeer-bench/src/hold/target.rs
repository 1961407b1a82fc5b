//! The server a hold run holds connections to: the async-core echo server
//! (a child of the bench binary) or a real `wspeer-chat` process, with what
//! a client needs to know to join it.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use crate::{chat_soak::ChatProcess, process::ServerProcess, servers::ServerKind};

/// Which server to hold connections to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Server {
    /// `ServerKind::WspeerAsync`, run by the bench binary.
    Echo,
    /// The `wspeer-chat` binary at this path.
    Chat(PathBuf),
}

/// A running server.
#[derive(Debug)]
pub(crate) enum Running {
    Echo(ServerProcess),
    Chat(ChatProcess),
}

/// The rate a chat client may send at, per second: high enough that the
/// probe's back-to-back lines are not closed as a flood.
const CHAT_RATE: &str = "1000000";

impl Server {
    /// The command-line options the chat runs with for `connections` held
    /// ones (and the probes), so that the report can list them.
    pub(crate) fn chat_args(connections: usize) -> Vec<String> {
        [
            "--max-connections".to_owned(),
            (connections + 100).to_string(),
            "--rate".to_owned(),
            CHAT_RATE.to_owned(),
            "--history".to_owned(),
            "0".to_owned(),
        ]
        .into()
    }

    /// Starts it; the echo server from `exe` (the bench binary), unpinned.
    pub(crate) fn start(&self, exe: &Path, connections: usize) -> anyhow::Result<Running> {
        Ok(match self {
            Server::Echo => Running::Echo(ServerProcess::spawn(
                exe,
                ServerKind::WspeerAsync,
                None,
                &[],
            )?),
            Server::Chat(bin) => {
                let server = ChatProcess::start(bin, &Self::chat_args(connections))?;
                server.wait_healthy(std::time::Duration::from_secs(10))?;
                Running::Chat(server)
            }
        })
    }

    /// Its name in the report.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Server::Echo => "wspeer async-core echo",
            Server::Chat(_) => "wspeer-chat",
        }
    }
}

impl Running {
    pub(crate) fn addr(&self) -> SocketAddr {
        match self {
            Running::Echo(server) => server.addr,
            Running::Chat(server) => server.addr,
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        match self {
            Running::Echo(server) => server.pid(),
            Running::Chat(server) => server.pid(),
        }
    }

    /// The request path of a connection in `room` (the chat takes it from
    /// the query), and the subprotocol to offer.
    pub(crate) fn join(&self, room: &str) -> (String, Option<&'static str>) {
        match self {
            Running::Echo(_) => ("/bench".to_owned(), None),
            Running::Chat(_) => (
                format!("/?room={room}"),
                Some(wspeer_chat::config::PROTOCOL),
            ),
        }
    }

    /// A chat metric from `/metrics` (`None` for the echo server, or if
    /// it cannot be read).
    pub(crate) fn metric(&self, name: &str) -> Option<u64> {
        match self {
            Running::Echo(_) => None,
            Running::Chat(server) => server.metric(name).ok(),
        }
    }

    /// Warnings the chat logged (it logs every client it closed).
    pub(crate) fn warnings(&self) -> u64 {
        match self {
            Running::Echo(_) => 0,
            Running::Chat(server) => server.warnings(),
        }
    }
}
