//! The Godot 4 state machines on a virtual network: byte-exact messages from
//! Godot 4's `websocket_multiplayer_peer.cpp` and `scene_multiplayer.cpp` (id packet, `ADD_PEER`/`DEL_PEER`, relay with the source
//! replacing the target), Godot's target rules, and what a misbehaving client
//! gets. The scenarios both protocols share are in `proto_scenarios`.

use crate::{
    proto_scenarios::{self as scenario, A, B, Wire, wire},
    support::net::{Dir, cat, le, network},
};
use wspeer_multiplayer::{Event, Godot4Payload, Protocol, PutPacketError};

/// `[7][3][peer][3][data]`: raw bytes in a relay.
fn relay(peer: i32, data: &[u8]) -> Vec<u8> {
    cat(&[&[7, 3], &le(peer), &[3], data])
}

struct Godot4;

impl Wire for Godot4 {
    const PROTOCOL: Protocol = Protocol::Godot4;

    /// The id packet.
    fn welcome(id: i32) -> Vec<Vec<u8>> {
        vec![le(id).to_vec()]
    }

    fn add_peer(id: i32) -> Vec<u8> {
        cat(&[&[7, 1], &le(id)])
    }

    fn del_peer(id: i32) -> Vec<u8> {
        cat(&[&[7, 2], &le(id)])
    }

    fn connected() -> [Event; 2] {
        [Event::ConnectedToServer, Event::PeerConnected(1)]
    }

    /// Direct to the server as send_bytes, in a relay for anyone else.
    fn from_client(_from: i32, to: i32, data: &[u8]) -> Vec<u8> {
        match to {
            1 => cat(&[&[3], data]),
            to => relay(to, data),
        }
    }

    /// The source replaces the target.
    fn relayed(from: i32, _to: i32, data: &[u8]) -> Vec<u8> {
        relay(from, data)
    }

    /// Direct, as send_bytes: `[3][data]`.
    fn from_server(_to: i32, data: &[u8]) -> Vec<u8> {
        cat(&[&[3], data])
    }

    fn forbidden() -> Vec<Vec<u8>> {
        let bad: &[&[u8]] = &[
            &[],                                   // empty
            &[7],                                  // SYS under 6 bytes
            &[7, 1, 5, 0, 0, 0],                   // ADD_PEER from a client
            &[7, 2, 5, 0, 0, 0],                   // DEL_PEER from a client
            &[7, 9, 5, 0, 0, 0],                   // unknown SYS command
            &[7, 3, 0, 0, 0, 0],                   // relay with nothing inside
            &[7, 3, 0xe7, 3, 0, 0, 3, 1],          // relay to 999, not connected
            &[7, 3, 1, 0, 0, 0, 3, 1],             // relay to the server
            &[7, 3, 0, 0, 0, 0, 7, 1, 5, 0, 0, 0], // nested SYS
            &[0, 1, 2, 3],                         // an RPC: not send_bytes
            &[3],                                  // send_bytes with no bytes
            &[7, 0, 1, 2],                         // auth: ignored
        ];
        bad.iter().map(|m| m.to_vec()).collect()
    }

    fn own_targets() -> [(i32, Vec<Option<usize>>); 2] {
        [
            // -1 is everyone but the server.
            (-1, vec![Some(1), Some(2)]),
            // To itself: Godot relays it back.
            (A, vec![Some(0)]),
        ]
    }
}

#[test]
fn joining_sends_the_id_first_then_add_peer_both_ways() {
    scenario::joining::<Godot4>();
}

#[test]
fn a_relay_carries_the_source_in_place_of_the_target() {
    scenario::a_relay_to_one_client::<Godot4>();
}

/// What each target reaches when client A sends, as Godot's SceneMultiplayer
/// relays it.
#[test]
fn client_targets_follow_godots_relay_rules() {
    scenario::client_targets::<Godot4>();
}

#[test]
fn server_targets() {
    scenario::server_targets::<Godot4>();
}

#[test]
fn the_server_refuses_an_empty_packet() {
    let mut net = scenario::three::<Godot4>();
    assert_eq!(
        net.server.put_packet(0, b""),
        Err(PutPacketError::EmptyPacket)
    );
}

#[test]
fn leaving_sends_del_peer_to_the_others() {
    scenario::leaving::<Godot4>();
}

#[test]
fn a_forced_disconnect_is_silent_here_but_the_others_are_told() {
    scenario::a_forced_disconnect_is_silent_here_but_the_others_are_told::<Godot4>();
}

#[test]
fn ids_are_unique_even_when_the_source_repeats_itself() {
    scenario::ids_are_unique_even_when_the_source_repeats_itself::<Godot4>();
}

#[test]
fn refusing_new_connections() {
    scenario::refusing_new_connections::<Godot4>();
}

#[test]
fn without_relay_clients_do_not_see_each_other() {
    let mut net = scenario::without_relay::<Godot4>();
    // A relay request (from a client that still has relay on) is dropped.
    net.node(0).client.put_packet(0, b"x").unwrap();
    net.run();
    assert!(net.deliveries().is_empty());
    // A client with relay off sends 0 straight to the server.
    net.node(0).client.set_server_relay(false);
    net.node(0).client.put_packet(0, b"y").unwrap();
    assert_eq!(
        net.node(0).client.put_packet(B, b"y"),
        Err(PutPacketError::UnknownPeer(B))
    );
    net.run();
    assert_eq!(net.deliveries(), [(None, A, "y".into())]);
}

/// Messages a client may not send: each is dropped, nothing else happens, and
/// the server goes on serving.
#[test]
fn a_misbehaving_client_is_dropped_packet_by_packet() {
    scenario::a_misbehaving_client_is_dropped_packet_by_packet::<Godot4>();
}

#[test]
fn extreme_targets_do_not_overflow() {
    let mut net = scenario::three::<Godot4>();
    net.clear_logs();
    // -i32::MIN does not exist: a broadcast that excludes nobody but the sender.
    net.node(0).client.put_packet(i32::MIN, b"m").unwrap();
    net.run();
    let reached: Vec<_> = net.deliveries().into_iter().map(|(r, _, _)| r).collect();
    assert_eq!(reached, [None, Some(1), Some(2)]);
    net.server.put_packet(i32::MIN, b"n").unwrap();
    assert_eq!(
        net.server.put_packet(i32::MAX, b"n"),
        Err(PutPacketError::UnknownPeer(i32::MAX))
    );
}

#[test]
fn raw_payloads_carry_whole_scene_packets() {
    let mut net = network(Protocol::Godot4, &[A as u32, B as u32]);
    net.server.set_godot4_payload(Godot4Payload::Raw);
    net.connect();
    net.connect();
    for node in &mut net.nodes {
        node.client.set_godot4_payload(Godot4Payload::Raw);
    }
    net.clear_logs();
    // An "RPC" (command 0) relayed to B and sent to the server.
    net.node(0).client.put_packet(B, &[0, 9]).unwrap();
    net.node(0).client.put_packet(1, &[0, 8]).unwrap();
    net.run();
    assert_eq!(
        wire(&net),
        [
            (Dir::ToServer(A), cat(&[&[7, 3], &le(B), &[0, 9]])),
            (Dir::ToServer(A), vec![0, 8]),
            (Dir::ToClient(B), cat(&[&[7, 3], &le(A), &[0, 9]])),
        ]
    );
    assert_eq!(net.node(1).packets[0].data[..], [0, 9]);
    assert_eq!(net.server_packets[0].data[..], [0, 8]);
}
