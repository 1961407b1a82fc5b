//! wspeer-bench: measures wspeer against other WebSocket servers in the same run,
//! and writes down what it measured.
//!
//! The harness compares five echo servers, each a child process pinned to one
//! CPU ([`servers`]): wspeer's async core, wspeer's poll facade driven by a game
//! loop, tokio-tungstenite and fastwebsockets as their own examples write them,
//! and a raw TCP echo as the ceiling. One single-threaded load generator pinned
//! to the other CPU drives them ([`load`]) and checks every echo. It also
//! measures idle memory per connection ([`memory`]), handshakes per second
//! ([`handshakes`]), the latency a 60 Hz game loop sees through the facade
//! ([`gameloop`]) and the cost of an idle `poll()` ([`idle_poll`]), and it
//! soaks the chat server: clients dropping and resuming for minutes, every line
//! checked delivered exactly once ([`chat_soak`]); and it holds 100,000
//! connections to one server while measuring a fresh client's round trips
//! and, for the chat, lines through rooms at that scale ([`hold`]).
//!
//! It makes no timing assertion and is not a test suite: it reports figures and
//! their ratios to a baseline measured in the same run ([`report`]), because
//! absolute figures drift between runs on shared machines. It is not published.
//!
//! ```text
//! cargo run --release -p wspeer-bench -- all
//! cargo run --release -p wspeer-bench -- load --server wspeer-async --connections 100 --size 20
//! cargo run --release -p wspeer-bench -- hold --server chat --connections 100000 --rooms 1000
//! cargo bench -p wspeer-bench --bench idle_poll
//! ```

pub mod chat_fanout;
pub mod chat_soak;
pub mod cli;
pub mod commands;
pub mod deflate_echo;
pub mod frame;
pub mod gameloop;
pub mod handshakes;
pub mod hold;
pub mod idle_poll;
pub mod load;
pub mod memory;
pub mod process;
pub mod redis_server;
pub mod report;
pub mod servers;
pub mod slow_handshakes;
pub mod suite;
