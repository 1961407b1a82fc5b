//! `wss://` through the facade: a `TcpServer` serving TLS with `StreamPeerTls`,
//! a `WebSocketPeer` client with `TlsOptions`.

#![allow(clippy::unwrap_used)] // test helpers, not network code

use crate::support::{poll_until, wait_packets};
use wspeer::{
    ConnectError, PeerError, ReadyState, StreamPeerTls, TcpServer, TlsError, TlsOptions,
    WebSocketPeer,
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
