//! The Godot 3 state machines on a virtual network: byte-exact messages from
//! Godot 3's `websocket_multiplayer_peer.cpp` (the 9-byte header, `SYS_ID`/`SYS_ADD`/`SYS_DEL` in Godot's order),
//! the server checking `from` and relaying the original bytes, and Godot 3's
//! target rules with its quirk (-1 still reaches the server).

use crate::support::net::{Dir, Net, cat, le, network};
use wspeer_multiplayer::{Bytes, Event, Protocol, PutPacketError};

const A: i32 = 100;
const B: i32 = 200;
const C: i32 = 300;

fn three() -> Net {
    let mut net = network(Protocol::Godot3, &[A as u32, B as u32, C as u32]);
    for _ in 0..3 {
        net.connect();
    }
    net
}

fn wire(net: &Net) -> Vec<(Dir, Vec<u8>)> {
    net.wire.iter().map(|(d, b)| (*d, b.to_vec())).collect()
}

/// A system message as Godot's server sends it: from 1, to 0, the id.
fn sys(kind: u8, id: i32) -> Vec<u8> {
    cat(&[&[kind], &le(1), &le(0), &le(id)])
}

/// A payload message.
fn msg(from: i32, to: i32, payload: &[u8]) -> Vec<u8> {
    cat(&[&[0], &le(from), &le(to), payload])
}

#[test]
fn joining_follows_godots_send_add_order() {
    let mut net = three();
    assert_eq!(
        wire(&net),
        [
            (Dir::ToClient(A), sys(3, A)),
            (Dir::ToClient(A), sys(1, 1)),
            (Dir::ToClient(B), sys(3, B)),
            (Dir::ToClient(B), sys(1, 1)),
            (Dir::ToClient(A), sys(1, B)),
            (Dir::ToClient(B), sys(1, A)),
            (Dir::ToClient(C), sys(3, C)),
            (Dir::ToClient(C), sys(1, 1)),
            (Dir::ToClient(A), sys(1, C)),
            (Dir::ToClient(C), sys(1, A)),
            (Dir::ToClient(B), sys(1, C)),
            (Dir::ToClient(C), sys(1, B)),
        ]
    );
    assert_eq!(sys(3, 1234), [3, 1, 0, 0, 0, 0, 0, 0, 0, 0xd2, 0x04, 0, 0]);
    assert_eq!(
        net.server_events,
        [
            Event::PeerConnected(A),
            Event::PeerConnected(B),
            Event::PeerConnected(C)
        ]
    );
    // Godot 3 order: peer_connected(1), then connection_succeeded.
    assert_eq!(
        net.node(2).events,
        [
            Event::PeerConnected(1),
            Event::ConnectedToServer,
            Event::PeerConnected(A),
            Event::PeerConnected(B)
        ]
    );
    assert_eq!(
        net.node(0).events,
        [
            Event::PeerConnected(1),
            Event::ConnectedToServer,
            Event::PeerConnected(B),
            Event::PeerConnected(C)
        ]
    );
    assert_eq!(net.node(2).client.unique_id(), C);
}

#[test]
fn the_server_relays_the_original_bytes() {
    let mut net = three();
    net.clear_logs();
    net.node(0).client.put_packet(B, b"x").unwrap();
    net.run();
    assert_eq!(
        wire(&net),
        [
            (Dir::ToServer(A), msg(A, B, b"x")),
            (Dir::ToClient(B), msg(A, B, b"x")),
        ]
    );
    assert_eq!(net.deliveries(), [(Some(1), A, "x".into())]);
}

/// Where Godot 3's own server delivers what client A sends:
/// (receiver index or None for the server).
#[test]
fn client_targets_follow_godot3s_rules() {
    let cases: [(i32, &[Option<usize>]); 6] = [
        (1, &[None]),
        (B, &[Some(1)]),
        (0, &[None, Some(1), Some(2)]),
        (-B, &[None, Some(2)]),
        // Godot 3's quirk: the server keeps -1 too.
        (-1, &[None, Some(1), Some(2)]),
        // To itself: dropped.
        (A, &[]),
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
        // Every relayed copy is the client's message, byte for byte.
        for (dir, bytes) in wire(&net).iter().skip(1) {
            assert!(matches!(dir, Dir::ToClient(_)));
            assert_eq!(bytes, &msg(A, target, b"hi"));
        }
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
        assert!(
            net.wire
                .iter()
                .all(|(_, b)| b[..] == msg(1, target, b"s")[..])
        );
    }
    let mut net = three();
    assert_eq!(
        net.server.put_packet(1, b"s"),
        Err(PutPacketError::InvalidTarget(1))
    );
    assert_eq!(
        net.server.put_packet(4, b"s"),
        Err(PutPacketError::UnknownPeer(4))
    );
    // Godot 3 carries empty payloads: a bare header.
    net.clear_logs();
    net.server.put_packet(A, b"").unwrap();
    net.run();
    assert_eq!(net.node(0).packets[0].data.len(), 0);
}

#[test]
fn leaving_sends_sys_del_to_the_others() {
    let mut net = three();
    net.clear_logs();
    net.cut(1);
    assert_eq!(
        wire(&net),
        [(Dir::ToClient(A), sys(2, B)), (Dir::ToClient(C), sys(2, B)),]
    );
    assert_eq!(net.server_events, [Event::PeerDisconnected(B)]);
    assert_eq!(net.node(0).events, [Event::PeerDisconnected(B)]);
    assert_eq!(
        net.node(1).events,
        [Event::PeerDisconnected(1), Event::ServerDisconnected]
    );
}

/// Messages a client may not send: each is dropped and logged, nothing else
/// happens.
#[test]
fn a_misbehaving_client_is_dropped_packet_by_packet() {
    let bad: Vec<Vec<u8>> = vec![
        vec![],
        vec![0; 8],                           // under 9 bytes
        msg(B, 1, b"x"),                      // wrong from: cheating
        msg(0, 0, b"x"),                      // from 0 (no id yet)
        cat(&[&[1], &le(A), &le(0), &le(5)]), // SYS_ADD from a client
        cat(&[&[3], &le(A), &le(0), &le(5)]), // SYS_ID from a client
        cat(&[&[9], &le(A), &le(0)]),         // unknown type
        msg(A, A, b"x"),                      // to itself
        msg(A, 999, b"x"),                    // to nobody
    ];
    let mut net = three();
    for message in &bad {
        net.clear_logs();
        net.server
            .handle_message(A, Bytes::copy_from_slice(message));
        net.run();
        assert!(net.wire.is_empty(), "{message:?} made the server send");
        assert!(net.deliveries().is_empty(), "{message:?} was delivered");
    }
    net.node(1).client.put_packet(0, b"ok").unwrap();
    net.run();
    assert_eq!(net.deliveries().len(), 3);
}

#[test]
fn without_relay_only_the_server_is_announced() {
    let mut net = network(Protocol::Godot3, &[A as u32, B as u32]);
    net.server.set_server_relay(false);
    net.connect();
    net.connect();
    assert_eq!(net.wire.len(), 4);
    net.clear_logs();
    net.node(0).client.put_packet(0, b"x").unwrap();
    net.node(0).client.put_packet(B, b"y").unwrap();
    net.run();
    assert_eq!(net.deliveries(), [(None, A, "x".into())]);
}
