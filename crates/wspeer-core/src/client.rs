//! The client side: resolve, connect TCP, TLS if `wss://`, then the opening
//! handshake.

use std::{io, sync::Arc};

use tokio::net::TcpStream;

use crate::{
    client_handshake,
    codec::Upgraded,
    config::Config,
    error::ConnectError,
    state::ConnectionInfo,
    stream::MaybeTlsStream,
    tls::TlsOptions,
    tls_handshake,
    ws_url::{Scheme, WsUrl},
};

/// Connects to `url` and completes the WebSocket handshake.
pub(crate) async fn handshake(
    url: &WsUrl,
    config: &Config,
) -> Result<(Upgraded<MaybeTlsStream>, ConnectionInfo), ConnectError> {
    let tcp = connect_tcp(url.host(), url.port()).await?;
    tcp.set_nodelay(config.no_delay)?;
    let peer_addr = tcp.peer_addr().ok();
    let local_addr = tcp.local_addr().ok();
    let stream = match url.scheme() {
        Scheme::Ws => MaybeTlsStream::Plain(tcp),
        Scheme::Wss => {
            let options = match &config.tls {
                Some(options) => options.clone(),
                None => TlsOptions::default_client()?,
            };
            tls_handshake::connect(tcp, url.host(), &options).await?
        }
    };

    let (ws, agreed) = client_handshake::handshake(stream, url, config).await?;
    let info = ConnectionInfo {
        peer_addr,
        local_addr,
        requested_url: url.as_str().to_owned(),
        selected_protocol: agreed.selected_protocol,
        admitted: None,
        compression: ws.compression,
    };
    Ok((ws, info))
}

/// Tries every address of `host` in turn; the last failure is reported.
async fn connect_tcp(host: &str, port: u16) -> Result<TcpStream, ConnectError> {
    let addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| ConnectError::Resolve {
            host: host.to_owned(),
            source: Arc::new(e),
        })?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some((addr, e)),
        }
    }
    Err(match last {
        Some((addr, e)) => ConnectError::Refused {
            addr,
            source: Arc::new(e),
        },
        None => ConnectError::Resolve {
            host: host.to_owned(),
            source: Arc::new(io::Error::new(io::ErrorKind::NotFound, "no address found")),
        },
    })
}
