//! The `wspeer-bench` command: reads the subcommand and its flags, and hands them
//! to the library (`wspeer_bench::commands`).
//!
//! ```text
//! cargo run --release -p wspeer-bench -- all [--duration 5] [--warmup 1] [--idle 5000] [--servers a,b]
//! cargo run --release -p wspeer-bench -- server <kind> <addr> [--cpu N]
//! cargo run --release -p wspeer-bench -- load --server <kind> | --connect <addr> [--raw]
//!     [--connections 100] [--size 20] [--in-flight 1] [--duration 5] [--warmup 1] [--wrap "valgrind --tool=callgrind"]
//! cargo run --release -p wspeer-bench -- idle-memory [--connections 5000] [--servers a,b]
//! cargo run --release -p wspeer-bench -- handshakes [--concurrency 16] [--duration 3] [--servers a,b]
//! cargo run --release -p wspeer-bench -- gameloop [--clients 32] [--duration 5]
//! cargo run --release -p wspeer-bench -- idle-poll [--polls 2000000]
//! cargo run --release -p wspeer-bench -- chat-fanout [--clients 10,50,100] [--rate 10] [--duration 5]
//! cargo run --release -p wspeer-bench -- chat-soak [--clients 1000] [--rooms 20] [--duration-secs 180]
//!     [--line-rate 0.5] [--disconnect-rate 2] [--away-max 3] [--history 1000] [--servers 1] [--redis]
//! cargo run --release -p wspeer-bench -- slow-handshakes --server <kind> | --connect <addr> [--pid PID]
//!     [--attackers 5000] [--sources 1] [--duration 10] [--protocol demo-chat --path /test/ --health /healthz]
//! cargo run --release -p wspeer-bench -- hold --server wspeer-async|chat [--connections 100000] [--rooms 1000]
//!     [--rate 200] [--duration 30] [--sources 8] [--per-source 64] [--probes 2000]
//! cargo run --release -p wspeer-bench -- deflate [--connections 10] [--duration 3] [--rounds 3] [--idle 5000]
//! ```
//!
//! Servers: wspeer-async, wspeer-poll, tungstenite, fastwebsockets, raw-tcp.

use std::process::ExitCode;

use wspeer_bench::{cli::Flags, commands, servers::ServerKind};

const USAGE: &str = "usage: wspeer-bench <all | server | load | idle-memory | handshakes | gameloop | idle-poll | chat-fanout | chat-soak | slow-handshakes | hold | deflate> [flags]
  all          every workload against every server; prints a markdown report
  server       run one echo server: server <kind> <addr> [--cpu N]; prints its port
  load         one echo workload: --server <kind> or --connect <addr> [--raw]
  idle-memory  server RSS per idle connection
  handshakes   connect-handshake-close cycles per second
  gameloop     latency of 60 Hz facade clients against async-core clients
  idle-poll    nanoseconds per idle WebSocketPeer::poll()
  chat-fanout  deliveries per second and latency of N chat clients in one room
  chat-soak    chat clients in rooms dropping and resuming for minutes; every line checked exactly once
  slow-handshakes  fresh clients' handshake times during a slow-handshake attack
  hold         one server (wspeer-async or chat) holds 100,000 connections: time to open, RSS per connection, a fresh client's latency, chat lines at that scale
  deflate      echo with permessage-deflate (off, no takeover, takeover): CPU, wire bytes, idle memory";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let result = Flags::parse(args).and_then(|flags| match command.as_str() {
        "all" => commands::all(&flags),
        "server" => commands::server(&flags),
        "load" => commands::load(&flags),
        "idle-memory" => commands::idle_memory(&flags),
        "handshakes" => commands::handshakes(&flags),
        "gameloop" => commands::gameloop(&flags),
        "idle-poll" => commands::idle_poll(&flags),
        "chat-fanout" => commands::chat_fanout(&flags),
        "chat-soak" => commands::chat_soak(&flags),
        "slow-handshakes" => commands::slow_handshakes(&flags),
        "hold" => commands::hold(&flags),
        "deflate" => commands::deflate(&flags),
        _ => {
            eprintln!("{USAGE}");
            let names: Vec<&str> = ServerKind::ALL.iter().map(|kind| kind.name()).collect();
            eprintln!("servers: {}", names.join(", "));
            Ok(false)
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
