//! The Godot 4 state machines on a virtual network: byte-exact messages from
//! Godot 4's `websocket_multiplayer_peer.cpp` and `scene_multiplayer.cpp` (id packet, `ADD_PEER`/`DEL_PEER`, relay with the source
//! replacing the target), Godot's target rules, and what a misbehaving client
//! gets.

use crate::support::net::{Dir, Net, cat, le, network};
use wspeer_multiplayer::{Event, Godot4Payload, IdGenerator, OpenError, Protocol, PutPacketError};

const A: i32 = 100;
const B: i32 = 200;
const C: i32 = 300;

/// Three clients joined, in order, with ids 100, 200, 300.
fn three() -> Net {
    let mut net = network(Protocol::Godot4, &[A as u32, B as u32, C as u32]);
    for _ in 0..3 {
        net.connect();
    }
    net
}

fn wire(net: &Net) -> Vec<(Dir, Vec<u8>)> {
    net.wire.iter().map(|(d, b)| (*d, b.to_vec())).collect()
}

#[test]
fn joining_sends_the_id_first_then_add_peer_both_ways() {
    let mut net = network(Protocol::Godot4, &[A as u32, B as u32]);
    net.connect();
    assert_eq!(wire(&net), [(Dir::ToClient(A), le(A).to_vec())]);
    assert_eq!(net.server_events, [Event::PeerConnected(A)]);
    assert_eq!(
        net.node(0).events,
        [Event::ConnectedToServer, Event::PeerConnected(1)]
    );
    assert_eq!(net.node(0).client.unique_id(), A);

    net.clear_logs();
    net.connect();
    assert_eq!(
        wire(&net),
        [
            (Dir::ToClient(B), le(B).to_vec()),
            (Dir::ToClient(A), cat(&[&[7, 1], &le(B)])),
            (Dir::ToClient(B), cat(&[&[7, 1], &le(A)])),
        ]
    );
    assert_eq!(net.node(0).events, [Event::PeerConnected(B)]);
    assert_eq!(
        net.node(1).events,
        [
            Event::ConnectedToServer,
            Event::PeerConnected(1),
            Event::PeerConnected(A)
        ]
    );
    assert_eq!(net.node(1).client.peer_ids().collect::<Vec<_>>(), [1, A]);
}

#[test]
fn a_relay_carries_the_source_in_place_of_the_target() {
    let mut net = three();
    net.clear_logs();
    net.node(0).client.put_packet(B, b"x").unwrap();
    net.run();
    assert_eq!(
        wire(&net),
        [
            (Dir::ToServer(A), cat(&[&[7, 3], &le(B), &[3], b"x"])),
            (Dir::ToClient(B), cat(&[&[7, 3], &le(A), &[3], b"x"])),
        ]
    );
    assert_eq!(net.deliveries(), [(Some(1), A, "x".into())]);
}

/// What each target reaches when client A sends, as Godot's SceneMultiplayer
/// relays it: (receiver index or None for the server, from, text).
#[test]
fn client_targets_follow_godots_relay_rules() {
    let cases: [(i32, &[Option<usize>]); 6] = [
        (1, &[None]),
        (B, &[Some(1)]),
        (0, &[None, Some(1), Some(2)]),
        (-B, &[None, Some(2)]),
        // -1 is everyone but the server.
        (-1, &[Some(1), Some(2)]),
        // To itself: Godot relays it back.
        (A, &[Some(0)]),
    ];
    for (target, reached) in cases {
        let mut net = three();
        net.clear_logs();
        net.node(0).client.put_packet(target, b"hi").unwrap();
        net.run();
        let got: Vec<_> = net
            .deliveries()
            .into_iter()
            .map(|(r, from, text)| {
                assert_eq!((from, text.as_str()), (A, "hi"));
                r
            })
            .collect();
        assert_eq!(got, reached, "target {target}");
    }
}

#[test]
fn server_targets() {
    let cases: [(i32, &[usize]); 3] = [(B, &[1]), (0, &[0, 1, 2]), (-C, &[0, 1])];
    for (target, reached) in cases {
        let mut net = three();
        net.clear_logs();
        net.server.put_packet(target, b"s").unwrap();
        net.run();
        let got: Vec<_> = net
            .deliveries()
            .into_iter()
            .map(|(r, from, _)| {
                assert_eq!(from, 1);
                r.unwrap()
            })
            .collect();
        assert_eq!(got, reached, "target {target}");
        // Direct, as send_bytes: [3][data].
        assert!(net.wire.iter().all(|(_, b)| b[..] == [3, b's']));
    }
    let mut net = three();
    assert_eq!(
        net.server.put_packet(1, b"s"),
        Err(PutPacketError::InvalidTarget(1))
    );
    assert_eq!(
        net.server.put_packet(999, b"s"),
        Err(PutPacketError::UnknownPeer(999))
    );
    assert_eq!(
        net.server.put_packet(0, b""),
        Err(PutPacketError::EmptyPacket)
    );
}

#[test]
fn leaving_sends_del_peer_to_the_others() {
    let mut net = three();
    net.clear_logs();
    net.cut(1);
    assert_eq!(
        wire(&net),
        [
            (Dir::ToClient(A), cat(&[&[7, 2], &le(B)])),
            (Dir::ToClient(C), cat(&[&[7, 2], &le(B)])),
        ]
    );
    assert_eq!(net.server_events, [Event::PeerDisconnected(B)]);
    assert_eq!(net.node(0).events, [Event::PeerDisconnected(B)]);
    assert_eq!(net.node(2).events, [Event::PeerDisconnected(B)]);
    assert_eq!(
        net.node(1).events,
        [Event::PeerDisconnected(1), Event::ServerDisconnected]
    );
    // A relay to the peer that left is dropped.
    net.clear_logs();
    net.node(0).client.put_packet(B, b"late").unwrap();
    net.run();
    assert_eq!(net.wire.len(), 1);
    assert!(net.deliveries().is_empty());
}

#[test]
fn a_forced_disconnect_is_silent_here_but_the_others_are_told() {
    let mut net = three();
    net.clear_logs();
    net.server.disconnect_peer(B, true).unwrap();
    net.run();
    assert!(net.server_events.is_empty());
    assert!(!net.server.has_peer(B));
    assert_eq!(net.node(0).events, [Event::PeerDisconnected(B)]);
    assert_eq!(net.node(2).events, [Event::PeerDisconnected(B)]);
    // B's connection was closed under it.
    assert_eq!(
        net.node(1).events,
        [Event::PeerDisconnected(1), Event::ServerDisconnected]
    );

    // Without force, the peer leaves when its close is seen.
    net.clear_logs();
    net.server.disconnect_peer(C, false).unwrap();
    net.run();
    assert_eq!(net.server_events, [Event::PeerDisconnected(C)]);
    assert!(net.server.disconnect_peer(C, false).is_err());
}

#[test]
fn ids_are_unique_even_when_the_source_repeats_itself() {
    // The second connection draws 100 (in use), 1 and 0 (reserved), then 200.
    let mut net = network(Protocol::Godot4, &[A as u32, A as u32, 1, 0, B as u32]);
    net.connect();
    net.connect();
    assert_eq!(net.server.peer_ids().collect::<Vec<_>>(), [A, B]);
    // Once 100 leaves, it may be handed out again.
    let mut net = network(Protocol::Godot4, &[A as u32, A as u32]);
    net.connect();
    net.cut(0);
    net.connect();
    assert_eq!(net.node(1).client.unique_id(), A);
}

#[test]
fn refusing_new_connections() {
    let mut net = three();
    net.server.set_refuse_new_connections(true);
    assert_eq!(net.server.handle_open(), Err(OpenError::Refused));
    net.server.set_refuse_new_connections(false);
    net.server.set_id_generator(IdGenerator::from_fn(|| 400));
    assert_eq!(net.server.handle_open(), Ok(400));
}

#[test]
fn without_relay_clients_do_not_see_each_other() {
    let mut net = network(Protocol::Godot4, &[A as u32, B as u32]);
    net.server.set_server_relay(false);
    net.connect();
    net.connect();
    // Only the ids went out.
    assert_eq!(net.wire.len(), 2);
    assert_eq!(
        net.node(1).events,
        [Event::ConnectedToServer, Event::PeerConnected(1)]
    );
    // A relay request (from a client that still has relay on) is dropped.
    net.clear_logs();
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
    let mut net = three();
    for message in bad {
        net.clear_logs();
        net.server
            .handle_message(A, wspeer_multiplayer::Bytes::copy_from_slice(message));
        net.run();
        assert!(net.wire.is_empty(), "{message:?} made the server send");
        assert!(net.deliveries().is_empty(), "{message:?} was delivered");
        assert!(net.server_events.is_empty());
    }
    // Messages from an id that is not connected are ignored.
    net.server
        .handle_message(999, wspeer_multiplayer::Bytes::from_static(&[3, 1]));
    net.run();
    assert!(net.deliveries().is_empty());
    // Still serving.
    net.node(1).client.put_packet(0, b"ok").unwrap();
    net.run();
    assert_eq!(net.deliveries().len(), 3);
}

#[test]
fn extreme_targets_do_not_overflow() {
    let mut net = three();
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
