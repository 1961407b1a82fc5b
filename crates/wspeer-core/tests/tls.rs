//! `wss://` through the async core: round trips, and every way TLS can fail,
//! each with an error that says what went wrong.

#![allow(clippy::unwrap_used)] // test helpers, not network code

use std::time::Duration;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    time::timeout,
};
use wspeer_core::{Config, ConnectError, Listener, Message, TlsConfigError, TlsError, TlsOptions};
use wspeer_testkit::wait::WAIT;
use wspeer_testkit::{TestCa, self_signed};

/// An echo server with `config`; returns its port.
async fn echo_server(config: Config) -> u16 {
    let mut listener = Listener::bind("127.0.0.1:0", config).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let mut ws = listener.accept().await;
            tokio::spawn(async move {
                while let Some(message) = ws.recv().await {
                    if ws.send(message).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

fn server_options(ca: &TestCa, names: &[&str]) -> TlsOptions {
    let cert = ca.server_cert(names);
    TlsOptions::server(cert.key_pem.as_bytes(), cert.cert_pem.as_bytes()).unwrap()
}

fn client_options(ca: &TestCa) -> TlsOptions {
    TlsOptions::client(Some(ca.cert_pem().as_bytes()), None).unwrap()
}

async fn connect(url: &str, tls: TlsOptions) -> Result<wspeer_core::WebSocket, ConnectError> {
    timeout(
        WAIT,
        wspeer_core::connect_with(url, Config::default().tls(tls)),
    )
    .await
    .expect("connect timed out")
}

#[tokio::test]
async fn wss_round_trip_with_a_private_ca() {
    let ca = TestCa::new("wspeer test CA");
    let port = echo_server(Config::default().tls(server_options(&ca, &["localhost"]))).await;
    let mut ws = connect(
        &format!("wss://localhost:{port}/secure"),
        client_options(&ca),
    )
    .await
    .unwrap();
    assert_eq!(
        ws.info().requested_url,
        format!("wss://localhost:{port}/secure")
    );
    ws.send(Message::text("over TLS")).await.unwrap();
    ws.send(Message::binary(vec![9; 35_000])).await.unwrap();
    let echo = timeout(WAIT, ws.recv()).await.unwrap().unwrap();
    assert_eq!(echo.as_text(), Some("over TLS"));
    let echo = timeout(WAIT, ws.recv()).await.unwrap().unwrap();
    assert_eq!(echo.len(), 35_000);
    ws.close(1000, "done").unwrap();
    let status = timeout(WAIT, ws.closed()).await.unwrap();
    assert_eq!((status.code, status.reason.as_str()), (1000, "done"));
}

#[tokio::test]
async fn unknown_issuer_is_named() {
    let ca = TestCa::new("server CA");
    let other = TestCa::new("another CA");
    let port = echo_server(Config::default().tls(server_options(&ca, &["localhost"]))).await;
    let err = connect(&format!("wss://localhost:{port}/"), client_options(&other))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectError::Tls(TlsError::UnknownIssuer)),
        "{err}"
    );
    assert!(err.to_string().contains("unknown issuer"), "{err}");
}

#[tokio::test]
async fn name_mismatch_is_named_and_the_override_fixes_it() {
    let ca = TestCa::new("CA");
    let port = echo_server(Config::default().tls(server_options(&ca, &["game.example"]))).await;
    let url = format!("wss://localhost:{port}/");
    let err = connect(&url, client_options(&ca)).await.unwrap_err();
    assert!(
        matches!(&err, ConnectError::Tls(TlsError::NameMismatch(name)) if name == "localhost"),
        "{err}"
    );
    let with_override =
        TlsOptions::client(Some(ca.cert_pem().as_bytes()), Some("game.example")).unwrap();
    assert_eq!(with_override.common_name_override(), Some("game.example"));
    connect(&url, with_override).await.unwrap();
}

#[tokio::test]
async fn expired_certificate_is_named() {
    let ca = TestCa::new("CA");
    let cert = ca.expired_server_cert(&["localhost"]);
    let tls = TlsOptions::server(cert.key_pem.as_bytes(), cert.cert_pem.as_bytes()).unwrap();
    let port = echo_server(Config::default().tls(tls)).await;
    let err = connect(&format!("wss://localhost:{port}/"), client_options(&ca))
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::Tls(TlsError::Expired)), "{err}");
}

#[tokio::test]
async fn client_unsafe_accepts_a_self_signed_certificate() {
    let cert = self_signed(&["localhost"]);
    let tls = TlsOptions::server(cert.key_pem.as_bytes(), cert.cert_pem.as_bytes()).unwrap();
    let port = echo_server(Config::default().tls(tls)).await;
    let url = format!("wss://127.0.0.1:{port}/");
    // A verifying client refuses it ...
    let strict = TlsOptions::client(Some(self_signed(&["x"]).cert_pem.as_bytes()), None).unwrap();
    assert!(connect(&url, strict).await.is_err());
    // ... the unsafe one takes it, name and all.
    let unsafe_client = TlsOptions::client_unsafe(None).unwrap();
    assert!(unsafe_client.is_unsafe_client());
    let mut ws = connect(&url, unsafe_client).await.unwrap();
    ws.send(Message::text("hi")).await.unwrap();
    let echo = timeout(WAIT, ws.recv()).await.unwrap().unwrap();
    assert_eq!(echo.as_text(), Some("hi"));
    // With the certificate as CA, the chain is checked but not the name (127.0.0.1).
    let pinned = TlsOptions::client_unsafe(Some(cert.cert_pem.as_bytes())).unwrap();
    connect(&url, pinned).await.unwrap();
}

#[tokio::test]
async fn plain_client_at_a_tls_port_is_told_to_use_wss() {
    let ca = TestCa::new("CA");
    let port = echo_server(Config::default().tls(server_options(&ca, &["localhost"]))).await;
    let err = connect(&format!("ws://localhost:{port}/"), client_options(&ca))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, ConnectError::Rejected { status: 400, .. }),
        "{text}"
    );
    assert!(text.contains("400") && text.contains("wss://"), "{text}");
}

#[tokio::test]
async fn tls_client_at_a_plain_port_is_told_it_is_not_tls() {
    let ca = TestCa::new("CA");
    let port = echo_server(Config::default()).await;
    let err = connect(&format!("wss://localhost:{port}/"), client_options(&ca))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectError::Tls(TlsError::NotTls(_))),
        "{err}"
    );
    assert!(err.to_string().contains("plain ws://"), "{err}");
}

#[tokio::test]
async fn a_client_that_never_speaks_tls_is_dropped_after_the_handshake_timeout() {
    let ca = TestCa::new("CA");
    let config = Config::default()
        .tls(server_options(&ca, &["localhost"]))
        .handshake_timeout(Duration::from_millis(300));
    let port = echo_server(config).await;
    let mut silent = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut buf = [0u8; 16];
    let n = timeout(WAIT, silent.read(&mut buf))
        .await
        .expect("the silent client was not dropped")
        .unwrap_or(0);
    assert_eq!(n, 0, "the server should close a silent client");
    // The server still serves others.
    connect(&format!("wss://localhost:{port}/"), client_options(&ca))
        .await
        .unwrap();
    let _ = silent.write_all(b"late").await;
}

#[test]
fn bad_keys_and_pem_are_refused_when_building_options() {
    let ca = TestCa::new("CA");
    let one = ca.server_cert(&["localhost"]);
    let two = ca.server_cert(&["localhost"]);
    assert_eq!(
        TlsOptions::server(two.key_pem.as_bytes(), one.cert_pem.as_bytes()).unwrap_err(),
        TlsConfigError::KeyMismatch
    );
    assert_eq!(
        TlsOptions::server(one.key_pem.as_bytes(), b"not pem").unwrap_err(),
        TlsConfigError::NoCertificate
    );
    assert_eq!(
        TlsOptions::server(b"", one.cert_pem.as_bytes()).unwrap_err(),
        TlsConfigError::NoPrivateKey
    );
    let broken = one.cert_pem.replace('M', "*");
    assert!(matches!(
        TlsOptions::client(Some(broken.as_bytes()), None),
        Err(TlsConfigError::InvalidPem(_) | TlsConfigError::NoCertificate)
    ));
    assert!(matches!(
        TlsOptions::server_from_files("/nonexistent/key.pem", "/nonexistent/cert.pem"),
        Err(TlsConfigError::Unreadable { .. })
    ));
}

#[tokio::test]
async fn server_options_on_a_client_are_refused() {
    let ca = TestCa::new("CA");
    let err = connect("wss://localhost:1/", server_options(&ca, &["localhost"]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectError::TlsConfig(TlsConfigError::WrongSide(_))),
        "{err}"
    );
}
