//! `variant_echo` answers a `put_var` with the same value, in the encoding it
//! was started with: driven by a wspeer client, once per generation, with a
//! value whose bytes differ between the two.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
};

use wspeer::{
    ReadyState, WebSocketPeer,
    variant::{Encoding, Variant},
};
use wspeer_testkit::wait::poll_until;

/// An example binary, built by `cargo test` next to this test's own binary.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    dir.join("examples").join(name)
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn echo_once(flags: &[&str], encoding: Encoding, value: &Variant) -> Variant {
    let mut child = Command::new(example("variant_echo"))
        .arg("0")
        .args(flags)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start variant_echo");
    let stdout = child.stdout.take().expect("stdout");
    let _server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let listening = lines.next().expect("a line").expect("read");
    let port: u16 = listening
        .strip_prefix("Listening on port ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {listening:?}"));

    let mut client = WebSocketPeer::new();
    client
        .connect_to_url(&format!("ws://127.0.0.1:{port}"))
        .expect("connect");
    let mut sent = false;
    poll_until("an answer from variant_echo", || {
        client.poll();
        if client.ready_state() == ReadyState::Open && !sent {
            client.put_var(value, encoding).expect("put_var");
            sent = true;
        }
        client.available_packet_count() > 0
    });
    let answer = client.get_var(encoding).expect("a Variant back");
    let logged = lines.next().expect("a log line").expect("read");
    assert!(logged.starts_with("Peer 2 sent Dictionary("), "{logged}");
    answer
}

fn sample(encoding: Encoding) -> Variant {
    let mut entries = vec![
        (
            Variant::from("hello"),
            Variant::Array(vec![Variant::Int(1), Variant::Float(2.5)]),
        ),
        (Variant::from("v"), Variant::Vector2([3.0, 4.0])),
        (Variant::from("big"), Variant::Int(i64::MIN)),
    ];
    if encoding == Encoding::Godot4 {
        entries.push((Variant::from("v2i"), Variant::Vector2i([5, 6])));
    }
    Variant::Dictionary(entries)
}

#[test]
fn variant_echo_answers_in_godot3_encoding() {
    let value = sample(Encoding::Godot3);
    assert_eq!(echo_once(&[], Encoding::Godot3, &value), value);
}

#[test]
fn variant_echo_answers_in_godot4_encoding() {
    let value = sample(Encoding::Godot4);
    assert_eq!(echo_once(&["--godot4"], Encoding::Godot4, &value), value);
}
