//! `wspeer-chat`: the chat server binary. Parses arguments, sets up logging,
//! reads console lines as `Server says:` messages, and stops on Ctrl-C or
//! SIGTERM after closing every client with 1001.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Parser;
use tokio::io::{AsyncBufReadExt, BufReader};
use tracing::{error, info};
use wspeer_chat::{Backend, ChatConfig, Server};
use wspeer_core::TlsOptions;

/// A chat server for Godot's websocket_chat demo and for browsers (a web page is
/// served on the same port). Lines typed on standard input go to every client as
/// "Server says: <text>".
#[derive(Debug, Parser)]
#[command(name = "wspeer-chat", version)]
struct Args {
    /// Port to listen on (Godot's demo uses 8000).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Address to bind ("::" listens on IPv6 and, on most systems, IPv4 too).
    #[arg(long, default_value = "0.0.0.0")]
    bind: String,
    /// PEM certificate chain: serve wss:// (needs --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Most clients at once; more get HTTP 503.
    #[arg(long, default_value_t = 10_000)]
    max_connections: usize,
    /// Largest message in bytes; bigger closes the sender with 1009.
    #[arg(long, default_value_t = 4096)]
    max_message_size: usize,
    /// Lines each room keeps (at most 10000): replayed to whoever joins it, and
    /// to a client resuming after a reconnect (0: none, as the demo).
    #[arg(long, default_value_t = 0)]
    history: usize,
    /// Messages per second a client may send; more closes it with 1008.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Join a cluster of chat servers sharing this Redis (redis://HOST:PORT):
    /// rooms, ids, `/who` and history span every server. Default: alone, in memory.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// Another site whose pages may connect (scheme://host[:port]; repeatable).
    /// Browsers on any other site get HTTP 403; the chat's own page, and
    /// clients that send no Origin (Godot, programs), always may.
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    allowed_origins: Vec<String>,
    /// Most unfinished handshakes at once; past it the one that has waited
    /// longest is dropped, so slow clients cannot lock others out.
    #[arg(long, default_value_t = wspeer_core::Config::default().max_pending_handshakes)]
    max_pending_handshakes: usize,
    /// Most unfinished handshakes from one address (an IPv6 /64 counts as one).
    #[arg(long, default_value_t = wspeer_core::Config::default().max_pending_handshakes_per_ip)]
    max_pending_handshakes_per_ip: usize,
    /// HMAC secret (a file of at least 32 bytes) for signed tokens (JWT, HS256):
    /// clients may connect with ?token=…, whose `sub` becomes their name and
    /// `"moderator": true` lets them /kick and /mute; a bad token gets HTTP 401;
    /// /nick is off. Default: open, names by /nick.
    #[arg(long, value_name = "FILE")]
    auth_secret: Option<PathBuf>,
    /// Bearer token (a file, at least 16 printable characters) of the HTTP API:
    /// POST /rooms/{room}/messages, GET /rooms, GET /rooms/{room}, kick and
    /// mute. Default: the API is off.
    #[arg(long, value_name = "FILE")]
    api_token: Option<PathBuf>,
    /// Do not compress messages (permessage-deflate), even with clients that
    /// offer it. Default: compressed with browsers, without context takeover.
    #[arg(long)]
    no_compression: bool,
    /// Log filter, as RUST_LOG (for example "info" or "wspeer_chat=debug").
    #[arg(long, default_value = "info")]
    log: String,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&args.log)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    // Memory freed after a wave of connections goes back to the system.
    wspeer_core::trim_memory_periodically();
    if let Err(message) = serve(args).await {
        error!("{message}");
        std::process::exit(1);
    }
}

async fn serve(args: Args) -> Result<(), String> {
    let mut config = ChatConfig::default();
    config.max_connections = args.max_connections;
    config.max_message_size = args.max_message_size;
    if args.history > wspeer_chat::history::MAX_HISTORY {
        return Err(format!(
            "--history {} is over {}",
            args.history,
            wspeer_chat::history::MAX_HISTORY
        ));
    }
    config.history = args.history;
    config.rate_per_second = args.rate;
    config.rate_burst = (args.rate * 2.0).max(1.0);
    config.allowed_origins = args.allowed_origins;
    config.max_pending_handshakes = args.max_pending_handshakes;
    config.max_pending_handshakes_per_ip = args.max_pending_handshakes_per_ip;
    if args.no_compression {
        config.compression = None;
    }
    if let Some(path) = &args.auth_secret {
        config.auth = Some(wspeer_chat::auth::Auth::from_file(path)?);
    }
    if let Some(path) = &args.api_token {
        config.api_token = Some(wspeer_chat::api::ApiToken::from_file(path)?);
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(TlsOptions::server_from_files(key, cert).map_err(|e| e.to_string())?);
    }
    if let Some(url) = &args.redis {
        config.backend = Backend::redis(url)?;
    }
    let ip = args
        .bind
        .parse()
        .map_err(|_| format!("--bind {:?} is not an IP address", args.bind))?;
    let addr = SocketAddr::new(ip, args.port);
    let listener = wspeer_core::bind_tcp(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let scheme = if config.tls.is_some() { "wss" } else { "ws" };
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    info!("chat on {scheme}://{bound}/ (web page on the same port)");
    let server = Server::new(config);

    let hub = server.hub().clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if !line.trim().is_empty() {
                info!("Sending message: {line}");
                hub.server_says(&line);
            }
        }
    });

    let shutdown = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("a SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        info!("signal received: closing every client with 1001");
    };
    server
        .run(listener, shutdown)
        .await
        .map_err(|e| e.to_string())?;
    // The console reader may still wait on stdin; leave without it.
    tokio::time::sleep(Duration::from_millis(10)).await;
    std::process::exit(0);
}
