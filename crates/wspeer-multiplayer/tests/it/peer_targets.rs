//! `MultiplayerPeer` on real sockets, wspeer server and wspeer clients, on both
//! protocols: ids, peers joining and leaving, and every target reaching exactly
//! the peers Godot's server would reach, with the right `packet_peer()`.

use crate::support::game::{Game, Receiver};
use wspeer_multiplayer::{ConnectionStatus, Event, Protocol, PutPacketError};

fn three(protocol: Protocol) -> Game {
    let mut game = Game::new(protocol);
    for _ in 0..3 {
        game.join();
    }
    game
}

#[test]
fn ids_and_announcements() {
    for protocol in [Protocol::Godot4, Protocol::Godot3] {
        let game = three(protocol);
        let ids: Vec<i32> = (0..3).map(|i| game.id(i)).collect();
        assert!(ids.iter().all(|&id| id >= 2), "{ids:?}");
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 3);
        assert_eq!(game.server.unique_id(), 1);
        assert!(game.server.is_server());
        assert_eq!(game.server.peer_ids(), unique);
        assert_eq!(
            game.server_events,
            ids.iter()
                .map(|&id| Event::PeerConnected(id))
                .collect::<Vec<_>>()
        );
        // The last one learnt of the server and both others.
        let mut seen = game.clients[2].peer_ids();
        seen.sort();
        let mut expected = vec![1, ids[0], ids[1]];
        expected.sort();
        assert_eq!(seen, expected);
        assert_eq!(
            game.clients[2].connection_status(),
            ConnectionStatus::Connected
        );
    }
}

/// (sender, target as a function of the ids, receivers).
type Case = (Receiver, fn(&[i32]) -> i32, Vec<Receiver>);

fn cases(protocol: Protocol) -> Vec<Case> {
    let minus_one_reaches_server = protocol == Protocol::Godot3;
    let mut cases: Vec<Case> = vec![
        (Some(0), |_| 1, vec![None]),
        (Some(0), |ids| ids[1], vec![Some(1)]),
        (Some(0), |_| 0, vec![None, Some(1), Some(2)]),
        (Some(0), |ids| -ids[1], vec![None, Some(2)]),
        (None, |ids| ids[2], vec![Some(2)]),
        (None, |_| 0, vec![Some(0), Some(1), Some(2)]),
        (None, |ids| -ids[0], vec![Some(1), Some(2)]),
    ];
    // Everyone but the server: Godot 3's server keeps it anyway.
    cases.push(if minus_one_reaches_server {
        (Some(1), |_| -1, vec![None, Some(0), Some(2)])
    } else {
        (Some(1), |_| -1, vec![Some(0), Some(2)])
    });
    cases
}

#[test]
fn every_target_reaches_what_godots_server_reaches() {
    for protocol in [Protocol::Godot4, Protocol::Godot3] {
        let mut game = three(protocol);
        let ids: Vec<i32> = (0..3).map(|i| game.id(i)).collect();
        for (n, (sender, target, receivers)) in cases(protocol).into_iter().enumerate() {
            let target = target(&ids);
            let text = format!("case {n}");
            let got = game.deliver(sender, target, &text);
            let from = sender.map_or(1, |i| ids[i]);
            let expected: Vec<(Receiver, i32)> = receivers.into_iter().map(|r| (r, from)).collect();
            assert_eq!(got, expected, "{protocol:?}: {sender:?} to {target}");
        }
    }
}

#[test]
fn leaving_is_seen_by_everyone() {
    for protocol in [Protocol::Godot4, Protocol::Godot3] {
        let mut game = three(protocol);
        let b = game.id(1);
        game.clients[1].close();
        game.until("B's departure", |g| {
            g.server_events.contains(&Event::PeerDisconnected(b))
                && g.client_events[0].contains(&Event::PeerDisconnected(b))
                && g.client_events[2].contains(&Event::PeerDisconnected(b))
        });
        assert!(!game.server.peer_ids().contains(&b));
        // A relay to the peer that left is dropped, silently for the sender.
        assert_eq!(game.deliver(Some(0), b, "late"), []);
        game.server.set_target_peer(b);
        assert_eq!(
            game.server.put_packet(b"late"),
            Err(PutPacketError::UnknownPeer(b))
        );

        // The server kicks A: A loses its server, C sees A go.
        let a = game.id(0);
        game.server.disconnect_peer(a, false).unwrap();
        game.until("A's departure", |g| {
            g.client_events[0].contains(&Event::ServerDisconnected)
                && g.server_events.contains(&Event::PeerDisconnected(a))
                && g.client_events[2].contains(&Event::PeerDisconnected(a))
        });
        let tail: Vec<Event> = game.client_events[0]
            .iter()
            .rev()
            .take(2)
            .rev()
            .copied()
            .collect();
        assert_eq!(
            tail,
            [Event::PeerDisconnected(1), Event::ServerDisconnected]
        );
        assert_eq!(
            game.clients[0].connection_status(),
            ConnectionStatus::Disconnected
        );
    }
}

#[test]
fn a_client_can_rejoin_after_close() {
    for protocol in [Protocol::Godot4, Protocol::Godot3] {
        let mut game = three(protocol);
        let url = game.url();
        let old = game.id(0);
        game.clients[0].close();
        assert_eq!(game.clients[0].unique_id(), 0);
        game.clients[0].create_client(&url, None).unwrap();
        game.until("the rejoin", |g| {
            g.clients[0].connection_status() == ConnectionStatus::Connected
                && g.server.peer_ids().len() == 3
                && !g.server.peer_ids().contains(&old)
        });
        assert!(game.clients[0].create_client(&url, None).is_err());
    }
}

#[test]
fn the_server_can_close_and_serve_again() {
    let mut game = three(Protocol::Godot4);
    game.server.close();
    assert_eq!(
        game.server.connection_status(),
        ConnectionStatus::Disconnected
    );
    game.until("every client to lose the server", |g| {
        g.client_events
            .iter()
            .all(|e| e.contains(&Event::ServerDisconnected))
    });
    game.server.create_server(0, "127.0.0.1", None).unwrap();
    game.clients.clear();
    game.client_events.clear();
    game.join();
}
