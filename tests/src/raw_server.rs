//! A wspeer client of a raw server: the server side completes the handshake
//! and then is a bare TCP stream, so a test decides every byte it sends or
//! whether it reads at all.

use tokio::net::{TcpListener, TcpStream};
use wspeer_core::{Config, WebSocket, connect_with};

use crate::{raw_http::raw_server_handshake, within};

/// A wspeer client with `config`, connected to a raw server that answered the
/// upgrade with a plain 101; returns the client and the server's socket. The
/// socket must be kept as long as the connection should stay open.
pub async fn client_of_raw_server(config: Config) -> (WebSocket, TcpStream) {
    let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}/", tcp.local_addr().expect("address"));
    let peer = tokio::spawn(async move {
        let (mut stream, _) = tcp.accept().await.expect("accept");
        raw_server_handshake(&mut stream, &[]).await;
        stream
    });
    let client = within("the client to connect", connect_with(&url, config))
        .await
        .expect("connect");
    let stream = within("the raw server's handshake", peer)
        .await
        .expect("raw server task");
    (client, stream)
}
