//! The Godot 3 state machines on a virtual network: byte-exact messages from
//! Godot 3's `websocket_multiplayer_peer.cpp` (the 9-byte header, `SYS_ID`/`SYS_ADD`/`SYS_DEL` in Godot's order),
//! the server checking `from` and relaying the original bytes, and Godot 3's
//! target rules with its quirk (-1 still reaches the server). The scenarios
//! both protocols share are in `proto_scenarios`.

use crate::{
    proto_scenarios::{self as scenario, A, B, Wire},
    support::net::{cat, le},
};
use wspeer_multiplayer::{Event, Protocol};

/// A system message as Godot's server sends it: from 1, to 0, the id.
fn sys(kind: u8, id: i32) -> Vec<u8> {
    cat(&[&[kind], &le(1), &le(0), &le(id)])
}

/// A payload message.
fn msg(from: i32, to: i32, payload: &[u8]) -> Vec<u8> {
    cat(&[&[0], &le(from), &le(to), payload])
}

struct Godot3;

impl Wire for Godot3 {
    const PROTOCOL: Protocol = Protocol::Godot3;

    fn welcome(id: i32) -> Vec<Vec<u8>> {
        vec![sys(3, id), sys(1, 1)]
    }

    fn add_peer(id: i32) -> Vec<u8> {
        sys(1, id)
    }

    fn del_peer(id: i32) -> Vec<u8> {
        sys(2, id)
    }

    /// Godot 3 order: peer_connected(1), then connection_succeeded.
    fn connected() -> [Event; 2] {
        [Event::PeerConnected(1), Event::ConnectedToServer]
    }

    fn from_client(from: i32, to: i32, data: &[u8]) -> Vec<u8> {
        msg(from, to, data)
    }

    /// The original bytes.
    fn relayed(from: i32, to: i32, data: &[u8]) -> Vec<u8> {
        msg(from, to, data)
    }

    fn from_server(to: i32, data: &[u8]) -> Vec<u8> {
        msg(1, to, data)
    }

    fn forbidden() -> Vec<Vec<u8>> {
        vec![
            vec![],
            vec![0; 8],                           // under 9 bytes
            msg(B, 1, b"x"),                      // wrong from: cheating
            msg(0, 0, b"x"),                      // from 0 (no id yet)
            cat(&[&[1], &le(A), &le(0), &le(5)]), // SYS_ADD from a client
            cat(&[&[3], &le(A), &le(0), &le(5)]), // SYS_ID from a client
            cat(&[&[9], &le(A), &le(0)]),         // unknown type
            msg(A, A, b"x"),                      // to itself
            msg(A, 999, b"x"),                    // to nobody
        ]
    }

    fn own_targets() -> [(i32, Vec<Option<usize>>); 2] {
        [
            // Godot 3's quirk: the server keeps -1 too.
            (-1, vec![None, Some(1), Some(2)]),
            // To itself: dropped.
            (A, vec![]),
        ]
    }
}

#[test]
fn joining_follows_godots_send_add_order() {
    scenario::joining::<Godot3>();
}

#[test]
fn a_system_message_byte_for_byte() {
    assert_eq!(sys(3, 1234), [3, 1, 0, 0, 0, 0, 0, 0, 0, 0xd2, 0x04, 0, 0]);
}

#[test]
fn the_server_relays_the_original_bytes() {
    scenario::a_relay_to_one_client::<Godot3>();
}

/// Where Godot 3's own server delivers what client A sends.
#[test]
fn client_targets_follow_godot3s_rules() {
    scenario::client_targets::<Godot3>();
}

#[test]
fn server_targets() {
    scenario::server_targets::<Godot3>();
}

#[test]
fn the_server_carries_empty_payloads_as_a_bare_header() {
    let mut net = scenario::three::<Godot3>();
    net.clear_logs();
    net.server.put_packet(A, b"").unwrap();
    net.run();
    assert_eq!(net.node(0).packets[0].data.len(), 0);
}

#[test]
fn leaving_sends_sys_del_to_the_others() {
    scenario::leaving::<Godot3>();
}

#[test]
fn a_forced_disconnect_is_silent_here_but_the_others_are_told() {
    scenario::a_forced_disconnect_is_silent_here_but_the_others_are_told::<Godot3>();
}

/// Messages a client may not send: each is dropped and logged, nothing else
/// happens.
#[test]
fn a_misbehaving_client_is_dropped_packet_by_packet() {
    scenario::a_misbehaving_client_is_dropped_packet_by_packet::<Godot3>();
}

#[test]
fn without_relay_only_the_server_is_announced() {
    let mut net = scenario::without_relay::<Godot3>();
    net.node(0).client.put_packet(0, b"x").unwrap();
    net.node(0).client.put_packet(B, b"y").unwrap();
    net.run();
    assert_eq!(net.deliveries(), [(None, A, "x".into())]);
}

#[test]
fn ids_are_unique_even_when_the_source_repeats_itself() {
    scenario::ids_are_unique_even_when_the_source_repeats_itself::<Godot3>();
}

#[test]
fn refusing_new_connections() {
    scenario::refusing_new_connections::<Godot3>();
}
