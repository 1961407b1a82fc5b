//! Helpers shared by the facade's tests: a server and its clients polled from
//! one loop, with the shared bounded waits.
#![allow(dead_code, unreachable_pub, missing_docs)]

use wspeer::{ReadyState, TcpServer, WebSocketPeer};
pub use wspeer_testkit::wait::poll_until;

/// A listening server on 127.0.0.1 and its URL.
pub fn server() -> (TcpServer, String) {
    let mut server = TcpServer::new();
    server.listen(0, "127.0.0.1").expect("listen");
    let url = format!("ws://127.0.0.1:{}/", server.local_port());
    (server, url)
}

/// Accepts one connection from `server` into `peer`.
pub fn accept(server: &mut TcpServer, peer: &mut WebSocketPeer) {
    poll_until("a TCP connection", || server.is_connection_available());
    let stream = server.take_connection().expect("a connection");
    peer.accept_stream(stream).expect("accept_stream");
}

/// A connected pair: (server side, client side), both open.
pub fn pair_with(
    server_peer: WebSocketPeer,
    client: WebSocketPeer,
) -> (WebSocketPeer, WebSocketPeer) {
    let (mut server, url) = server();
    let (mut server_peer, mut client) = (server_peer, client);
    client.connect_to_url(&url).expect("connect_to_url");
    accept(&mut server, &mut server_peer);
    poll_until("both sides open", || {
        server_peer.poll();
        client.poll();
        server_peer.ready_state() == ReadyState::Open && client.ready_state() == ReadyState::Open
    });
    (server_peer, client)
}

/// A connected pair with default settings.
pub fn pair() -> (WebSocketPeer, WebSocketPeer) {
    pair_with(WebSocketPeer::new(), WebSocketPeer::new())
}

/// Polls `peer` until it has at least `count` packets visible.
pub fn wait_packets(peer: &mut WebSocketPeer, count: usize) {
    poll_until("packets", || {
        peer.poll();
        peer.available_packet_count() >= count
    });
}

/// Polls both until `peer` is closed.
pub fn wait_closed(peer: &mut WebSocketPeer, other: &mut WebSocketPeer) {
    poll_until("closed", || {
        peer.poll();
        other.poll();
        peer.ready_state() == ReadyState::Closed
    });
}
