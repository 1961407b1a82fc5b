//! The echo servers compared, one file each. Every server binds the address it is
//! given, reports its port through `on_bound`, then echoes every data message
//! (raw TCP: every byte) until the process is killed.

pub mod fastws;
pub mod raw_tcp;
pub mod tungstenite;
pub mod wspeer_async;
pub mod wspeer_poll;

use std::fmt;

/// Called once with the port a server listens on.
pub type OnBound<'a> = &'a mut dyn FnMut(u16);

/// Which echo server to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerKind {
    /// wspeer's async core (`Listener`, `recv`/`send`) on a current-thread runtime.
    WspeerAsync,
    /// The async core with `WebSocket::serve`: the echo runs inside each
    /// connection's task.
    WspeerHandler,
    /// wspeer's poll facade: `TcpServer` and `WebSocketPeer`s polled in a loop,
    /// the I/O on the facade's background thread.
    WspeerPoll,
    /// The same loop with `runtime::use_this_thread`: the I/O runs inside
    /// `poll()` on the loop's own thread.
    WspeerPollThisThread,
    /// tokio-tungstenite as its own echo example writes it (default config,
    /// `#[tokio::main]` multi-thread runtime).
    Tungstenite,
    /// fastwebsockets as its own echo example writes it (hyper upgrade,
    /// `FragmentCollector`, current-thread runtime).
    Fastwebsockets,
    /// A plain TCP echo, no WebSocket: the ceiling.
    RawTcp,
    /// `examples/echo_async` itself, the program users start from: the
    /// release build of the example binary, run as it is (`#[tokio::main]`,
    /// a log line per connection).
    EchoAsyncExample,
}

impl ServerKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [ServerKind; 8] = [
        ServerKind::Fastwebsockets,
        ServerKind::WspeerAsync,
        ServerKind::EchoAsyncExample,
        ServerKind::WspeerHandler,
        ServerKind::WspeerPoll,
        ServerKind::WspeerPollThisThread,
        ServerKind::Tungstenite,
        ServerKind::RawTcp,
    ];

    /// The WebSocket servers (every kind but the raw TCP echo).
    pub const WEBSOCKET: [ServerKind; 7] = [
        ServerKind::Fastwebsockets,
        ServerKind::WspeerAsync,
        ServerKind::EchoAsyncExample,
        ServerKind::WspeerHandler,
        ServerKind::WspeerPoll,
        ServerKind::WspeerPollThisThread,
        ServerKind::Tungstenite,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::WspeerAsync => "wspeer-async",
            ServerKind::WspeerHandler => "wspeer-handler",
            ServerKind::WspeerPoll => "wspeer-poll",
            ServerKind::WspeerPollThisThread => "wspeer-poll-this-thread",
            ServerKind::Tungstenite => "tungstenite",
            ServerKind::Fastwebsockets => "fastwebsockets",
            ServerKind::RawTcp => "raw-tcp",
            ServerKind::EchoAsyncExample => "echo-async-example",
        }
    }

    /// The kind named `name` on the command line.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether clients must do a WebSocket handshake (false for raw TCP, which
    /// sends our masked frames back as they came).
    pub fn is_websocket(self) -> bool {
        self != ServerKind::RawTcp
    }

    /// A longer label for reports.
    pub fn label(self) -> &'static str {
        match self {
            ServerKind::WspeerAsync => "wspeer async core",
            ServerKind::WspeerHandler => "wspeer async core, serve",
            ServerKind::WspeerPoll => "wspeer poll facade",
            ServerKind::WspeerPollThisThread => "wspeer poll facade, this thread",
            ServerKind::Tungstenite => "tokio-tungstenite (default)",
            ServerKind::Fastwebsockets => "fastwebsockets",
            ServerKind::RawTcp => "raw TCP echo (ceiling)",
            ServerKind::EchoAsyncExample => "examples/echo_async as written",
        }
    }

    /// Runs this server on `addr` until the process ends.
    pub fn run(self, addr: &str, on_bound: OnBound<'_>) -> anyhow::Result<()> {
        match self {
            ServerKind::WspeerAsync => wspeer_async::run(addr, on_bound),
            ServerKind::WspeerHandler => wspeer_async::run_handler(addr, on_bound),
            ServerKind::WspeerPoll => wspeer_poll::run(addr, on_bound),
            ServerKind::WspeerPollThisThread => wspeer_poll::run_this_thread(addr, on_bound),
            ServerKind::Tungstenite => tungstenite::run(addr, on_bound),
            ServerKind::Fastwebsockets => fastws::run(addr, on_bound),
            ServerKind::RawTcp => raw_tcp::run(addr, on_bound),
            ServerKind::EchoAsyncExample => {
                anyhow::bail!("{self} is the example's own binary, not a `server` kind")
            }
        }
    }

    /// The example binary this kind runs, if it is one.
    pub fn example(self) -> Option<&'static str> {
        (self == ServerKind::EchoAsyncExample).then_some("echo_async")
    }
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
