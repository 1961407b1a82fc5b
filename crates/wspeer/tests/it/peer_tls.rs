//! `wss://` through the facade: a `TcpServer` serving TLS with `StreamPeerTls`,
//! a `WebSocketPeer` client with `TlsOptions`.

#![allow(clippy::unwrap_used)] // test helpers, not network code

use crate::support::{poll_until, wait_packets};
use wspeer::{
    AcceptedStream, ConnectError, PeerError, ReadyState, StreamPeerTls, TcpServer, TlsError,
    TlsOptions, WebSocketPeer,
};
use wspeer_testkit::{TestCa, self_signed};

/// A TLS server on 127.0.0.1, a client connecting to `wss://localhost`, and the
/// client's outcome once both sides settle.
fn tls_pair(server_tls: TlsOptions, client_tls: TlsOptions) -> (WebSocketPeer, WebSocketPeer, u16) {
    let mut tcp = TcpServer::new();
    tcp.listen(0, "127.0.0.1").unwrap();
    let port = tcp.local_port();
    let mut client = WebSocketPeer::new();
    client
        .connect_to_url_with_tls(&format!("wss://localhost:{port}/game"), client_tls)
        .unwrap();
    poll_until("a TCP connection", || tcp.is_connection_available());
    let stream = StreamPeerTls::accept_stream(tcp.take_connection().unwrap(), server_tls).unwrap();
    let mut served = WebSocketPeer::new();
    served.accept_stream(stream).unwrap();
    poll_until("both sides settled", || {
        client.poll();
        served.poll();
        client.ready_state() != ReadyState::Connecting
            && served.ready_state() != ReadyState::Connecting
    });
    (served, client, port)
}

fn server_tls(ca: &TestCa) -> TlsOptions {
    let cert = ca.server_cert(&["localhost"]);
    TlsOptions::server(cert.key_pem.as_bytes(), cert.cert_pem.as_bytes()).unwrap()
}

#[test]
fn wss_round_trip_through_the_facade() {
    let ca = TestCa::new("CA");
    let client_tls = TlsOptions::client(Some(ca.cert_pem().as_bytes()), None).unwrap();
    let (mut served, mut client, port) = tls_pair(server_tls(&ca), client_tls);
    assert_eq!(client.ready_state(), ReadyState::Open);
    assert_eq!(
        served.requested_url(),
        format!("wss://localhost:{port}/game")
    );
    client.send_text("secret").unwrap();
    wait_packets(&mut served, 1);
    assert_eq!(&served.get_packet().unwrap()[..], b"secret");
    served.put_packet(&[1, 2, 3]).unwrap();
    wait_packets(&mut client, 1);
    assert_eq!(&client.get_packet().unwrap()[..], &[1, 2, 3]);
    client.close(1000, "bye").unwrap();
    poll_until("closed", || {
        client.poll();
        served.poll();
        client.ready_state() == ReadyState::Closed && served.ready_state() == ReadyState::Closed
    });
    assert_eq!(client.close_code(), 1000);
    assert_eq!((served.close_code(), served.close_reason()), (1000, "bye"));
}

#[test]
fn an_untrusted_server_fails_with_a_named_reason() {
    let ca = TestCa::new("CA");
    let other = TestCa::new("other CA");
    let client_tls = TlsOptions::client(Some(other.cert_pem().as_bytes()), None).unwrap();
    let (_served, client, _) = tls_pair(server_tls(&ca), client_tls);
    assert_eq!(client.ready_state(), ReadyState::Closed);
    assert_eq!(client.close_code(), -1);
    assert!(matches!(
        client.connect_error(),
        Some(ConnectError::Tls(TlsError::UnknownIssuer))
    ));
}

#[test]
fn client_unsafe_accepts_self_signed() {
    let cert = self_signed(&["localhost"]);
    let server = TlsOptions::server(cert.key_pem.as_bytes(), cert.cert_pem.as_bytes()).unwrap();
    let (_served, client, _) = tls_pair(server, TlsOptions::client_unsafe(None).unwrap());
    assert_eq!(client.ready_state(), ReadyState::Open);
}

#[test]
fn wrong_side_options_are_refused_at_once() {
    let ca = TestCa::new("CA");
    let mut peer = WebSocketPeer::new();
    assert!(matches!(
        peer.connect_to_url_with_tls("wss://localhost:1/", server_tls(&ca)),
        Err(PeerError::Invalid(ConnectError::TlsConfig(_)))
    ));
    let mut tcp = TcpServer::new();
    tcp.listen(0, "127.0.0.1").unwrap();
    let _client = std::net::TcpStream::connect(("127.0.0.1", tcp.local_port())).unwrap();
    poll_until("a TCP connection", || tcp.is_connection_available());
    let client_options = TlsOptions::client(Some(ca.cert_pem().as_bytes()), None).unwrap();
    assert!(StreamPeerTls::accept_stream(tcp.take_connection().unwrap(), client_options).is_err());
}

#[test]
fn godot3s_server_serves_wss_with_its_tls_options() {
    let ca = TestCa::new("CA");
    let mut server = wspeer::godot3::WebSocketServer::new();
    server.set_tls(Some(server_tls(&ca)));
    server.set_bind_ip("127.0.0.1").unwrap();
    server.listen(0, &[]).unwrap();
    let mut client = WebSocketPeer::new();
    let client_tls = TlsOptions::client(Some(ca.cert_pem().as_bytes()), None).unwrap();
    client
        .connect_to_url_with_tls(
            &format!("wss://localhost:{}/", server.local_port()),
            client_tls,
        )
        .unwrap();
    let mut connected = None;
    poll_until("the client connected over TLS", || {
        client.poll();
        for event in server.poll() {
            if let wspeer::godot3::ServerEvent::ClientConnected { id, .. } = event {
                connected = Some(id);
            }
        }
        connected.is_some() && client.ready_state() == ReadyState::Open
    });
    client.send_text("over tls").unwrap();
    let id = connected.unwrap();
    let mut got = None;
    poll_until("the message through TLS", || {
        client.poll();
        let _ = server.poll().count();
        if let Some(peer) = server.peer(id)
            && let Ok(packet) = peer.get_packet()
        {
            got = Some(packet);
        }
        got.is_some()
    });
    assert_eq!(&got.unwrap()[..], b"over tls");
}

#[test]
fn serving_with_client_options_is_refused() {
    let ca = TestCa::new("CA");
    let mut tcp = TcpServer::new();
    tcp.listen(0, "127.0.0.1").unwrap();
    let _first = std::net::TcpStream::connect(("127.0.0.1", tcp.local_port())).unwrap();
    let _second = std::net::TcpStream::connect(("127.0.0.1", tcp.local_port())).unwrap();
    poll_until("a TCP connection", || tcp.is_connection_available());
    let client_options = TlsOptions::client(Some(ca.cert_pem().as_bytes()), None).unwrap();
    let refused = AcceptedStream::serving(tcp.take_connection().unwrap(), Some(&client_options));
    assert!(refused.is_err());
    poll_until("the second connection", || tcp.is_connection_available());
    let plain = AcceptedStream::serving(tcp.take_connection().unwrap(), None);
    assert!(matches!(plain, Ok(AcceptedStream::Tcp(_))));
}
