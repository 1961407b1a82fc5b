//! The state-machine scenarios that are the same on Godot 3 and Godot 4,
//! written once over [`Wire`]: each protocol's file implements it with its
//! bytes and its quirks, and runs every scenario under its own name.

use wspeer_multiplayer::{Bytes, Event, IdGenerator, OpenError, Protocol, PutPacketError};

use crate::support::net::{Dir, Net, network};

pub(crate) const A: i32 = 100;
pub(crate) const B: i32 = 200;
pub(crate) const C: i32 = 300;

/// What a protocol puts on the wire, and where it differs from the other.
pub(crate) trait Wire {
    const PROTOCOL: Protocol;

    /// What a new client gets first, before any peer is announced to it.
    fn welcome(id: i32) -> Vec<Vec<u8>>;
    /// The server telling a client that peer `id` joined.
    fn add_peer(id: i32) -> Vec<u8>;
    /// The server telling a client that peer `id` left.
    fn del_peer(id: i32) -> Vec<u8>;
    /// A client's events once it is in, in this protocol's order.
    fn connected() -> [Event; 2];
    /// What client `from` sends to the server for `put_packet(to, data)`.
    fn from_client(from: i32, to: i32, data: &[u8]) -> Vec<u8>;
    /// What the server sends on to a client for that packet.
    fn relayed(from: i32, to: i32, data: &[u8]) -> Vec<u8>;
    /// What the server sends for its own `put_packet(to, data)`.
    fn from_server(to: i32, data: &[u8]) -> Vec<u8>;
    /// Messages a client may not send.
    fn forbidden() -> Vec<Vec<u8>>;
    /// Where client A's packet to -1 and to A itself lands (receiver index,
    /// `None` for the server): the targets on which the protocols differ.
    fn own_targets() -> [(i32, Vec<Option<usize>>); 2];
}

/// Three clients joined, in order, with ids A, B and C.
pub(crate) fn three<W: Wire>() -> Net {
    let mut net = network(W::PROTOCOL, &[A as u32, B as u32, C as u32]);
    for _ in 0..3 {
        net.connect();
    }
    net
}

/// The wire log as owned byte vectors, for comparisons.
pub(crate) fn wire(net: &Net) -> Vec<(Dir, Vec<u8>)> {
    net.wire.iter().map(|(d, b)| (*d, b.to_vec())).collect()
}

/// Each new client gets its welcome, then the server announces it to every
/// client before it, in ascending order, and each of them to it.
pub(crate) fn joining<W: Wire>() {
    let mut net = three::<W>();
    let to = |id: i32, message: Vec<u8>| (Dir::ToClient(id), message);
    let mut expected = Vec::new();
    for (new, earlier) in [(A, &[][..]), (B, &[A][..]), (C, &[A, B][..])] {
        expected.extend(W::welcome(new).into_iter().map(|m| to(new, m)));
        for &peer in earlier {
            expected.push(to(peer, W::add_peer(new)));
            expected.push(to(new, W::add_peer(peer)));
        }
    }
    assert_eq!(wire(&net), expected);
    assert_eq!(
        net.server_events,
        [
            Event::PeerConnected(A),
            Event::PeerConnected(B),
            Event::PeerConnected(C)
        ]
    );
    let [first, second] = W::connected();
    assert_eq!(
        net.node(0).events,
        [
            first,
            second,
            Event::PeerConnected(B),
            Event::PeerConnected(C)
        ]
    );
    assert_eq!(
        net.node(1).events,
        [
            first,
            second,
            Event::PeerConnected(A),
            Event::PeerConnected(C)
        ]
    );
    assert_eq!(
        net.node(2).events,
        [
            first,
            second,
            Event::PeerConnected(A),
            Event::PeerConnected(B)
        ]
    );
    for (index, id) in [A, B, C].into_iter().enumerate() {
        assert_eq!(net.node(index).client.unique_id(), id);
    }
    assert_eq!(net.node(1).client.peer_ids().collect::<Vec<_>>(), [1, A, C]);
}

/// A packet from one client to another, through the server.
pub(crate) fn a_relay_to_one_client<W: Wire>() {
    let mut net = three::<W>();
    net.clear_logs();
    net.node(0).client.put_packet(B, b"x").unwrap();
    net.run();
    assert_eq!(
        wire(&net),
        [
            (Dir::ToServer(A), W::from_client(A, B, b"x")),
            (Dir::ToClient(B), W::relayed(A, B, b"x")),
        ]
    );
    assert_eq!(net.deliveries(), [(Some(1), A, "x".into())]);
}

/// Where each target of client A's packet lands, and that every copy the
/// server sends on is the relayed message, byte for byte.
pub(crate) fn client_targets<W: Wire>() {
    let shared: [(i32, Vec<Option<usize>>); 4] = [
        (1, vec![None]),
        (B, vec![Some(1)]),
        (0, vec![None, Some(1), Some(2)]),
        (-B, vec![None, Some(2)]),
    ];
    for (target, reached) in shared.into_iter().chain(W::own_targets()) {
        let mut net = three::<W>();
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
        let (first, copies) = net.wire.split_first().expect("the client sent");
        assert_eq!(first.0, Dir::ToServer(A));
        for (dir, bytes) in copies {
            assert!(matches!(dir, Dir::ToClient(_)));
            assert_eq!(bytes[..], W::relayed(A, target, b"hi")[..]);
        }
    }
}

/// Where each target of the server's own packet lands, and the targets it
/// refuses.
pub(crate) fn server_targets<W: Wire>() {
    let cases: [(i32, &[usize]); 3] = [(B, &[1]), (0, &[0, 1, 2]), (-C, &[0, 1])];
    for (target, reached) in cases {
        let mut net = three::<W>();
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
                .all(|(_, b)| b[..] == W::from_server(target, b"s")[..])
        );
    }
    let mut net = three::<W>();
    assert_eq!(
        net.server.put_packet(1, b"s"),
        Err(PutPacketError::InvalidTarget(1))
    );
    for unknown in [4, 999] {
        assert_eq!(
            net.server.put_packet(unknown, b"s"),
            Err(PutPacketError::UnknownPeer(unknown))
        );
    }
}

/// A client whose connection drops is announced gone to the others, and a
/// packet for it goes nowhere.
pub(crate) fn leaving<W: Wire>() {
    let mut net = three::<W>();
    net.clear_logs();
    net.cut(1);
    assert_eq!(
        wire(&net),
        [
            (Dir::ToClient(A), W::del_peer(B)),
            (Dir::ToClient(C), W::del_peer(B)),
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

/// A forced disconnect has no event on the server, but the others are told.
pub(crate) fn a_forced_disconnect_is_silent_here_but_the_others_are_told<W: Wire>() {
    let mut net = three::<W>();
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

/// Each forbidden message is dropped and nothing else happens; messages from
/// an id that is not connected are ignored; the server goes on serving.
pub(crate) fn a_misbehaving_client_is_dropped_packet_by_packet<W: Wire>() {
    let mut net = three::<W>();
    for message in W::forbidden() {
        net.clear_logs();
        net.server
            .handle_message(A, Bytes::copy_from_slice(&message));
        net.run();
        assert!(net.wire.is_empty(), "{message:?} made the server send");
        assert!(net.deliveries().is_empty(), "{message:?} was delivered");
        assert!(net.server_events.is_empty());
    }
    net.server
        .handle_message(999, W::from_client(999, 1, b"x").into());
    net.run();
    assert!(net.deliveries().is_empty());
    // Still serving.
    net.node(1).client.put_packet(0, b"ok").unwrap();
    net.run();
    assert_eq!(net.deliveries().len(), 3);
}

/// Two clients joined a server with relay off: each got only its welcome, and
/// knows only the server. Returned for the protocol's own rules on sending.
pub(crate) fn without_relay<W: Wire>() -> Net {
    let mut net = network(W::PROTOCOL, &[A as u32, B as u32]);
    net.server.set_server_relay(false);
    net.connect();
    net.connect();
    let welcomes: Vec<_> = [A, B]
        .into_iter()
        .flat_map(|id| {
            W::welcome(id)
                .into_iter()
                .map(move |m| (Dir::ToClient(id), m))
        })
        .collect();
    assert_eq!(wire(&net), welcomes);
    assert_eq!(net.node(1).events, W::connected());
    net.clear_logs();
    net
}

/// Ids stay unique when the source repeats itself, and come back once free.
pub(crate) fn ids_are_unique_even_when_the_source_repeats_itself<W: Wire>() {
    // The second connection draws 100 (in use), 1 and 0 (reserved), then 200.
    let mut net = network(W::PROTOCOL, &[A as u32, A as u32, 1, 0, B as u32]);
    net.connect();
    net.connect();
    assert_eq!(net.server.peer_ids().collect::<Vec<_>>(), [A, B]);
    // Once 100 leaves, it may be handed out again.
    let mut net = network(W::PROTOCOL, &[A as u32, A as u32]);
    net.connect();
    net.cut(0);
    net.connect();
    assert_eq!(net.node(1).client.unique_id(), A);
}

/// A refusing server opens nothing; once it stops refusing, it admits again.
pub(crate) fn refusing_new_connections<W: Wire>() {
    let mut net = three::<W>();
    net.server.set_refuse_new_connections(true);
    assert_eq!(net.server.handle_open(), Err(OpenError::Refused));
    net.server.set_refuse_new_connections(false);
    net.server.set_id_generator(IdGenerator::from_fn(|| 400));
    assert_eq!(net.server.handle_open(), Ok(400));
}
