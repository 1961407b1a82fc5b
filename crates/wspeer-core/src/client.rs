//! The client side: resolve, connect TCP, and run the opening handshake.

use std::{io, sync::Arc};

use tokio::net::TcpStream;
use tokio_tungstenite::{
    WebSocketStream, client_async_with_config,
    tungstenite::{
        self,
        client::IntoClientRequest,
        error::{Error as WsError, ProtocolError},
        http::{HeaderName, HeaderValue},
    },
};

use crate::{
    config::Config,
    error::ConnectError,
    state::ConnectionInfo,
    stream::MaybeTlsStream,
    tls::TlsOptions,
    tls_handshake,
    tungstenite_config::ws_config,
    ws_url::{Scheme, WsUrl},
};

/// Connects to `url` and completes the WebSocket handshake.
pub(crate) async fn handshake(
    url: &WsUrl,
    config: &Config,
) -> Result<(WebSocketStream<MaybeTlsStream>, ConnectionInfo), ConnectError> {
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

    let mut request =
        url.request_uri()
            .into_client_request()
            .map_err(|e| ConnectError::InvalidUrl {
                url: url.as_str().to_owned(),
                reason: e.to_string(),
            })?;
    let headers = request.headers_mut();
    if !config.supported_protocols.is_empty() {
        // Joined without spaces, as Godot does.
        let value = config.supported_protocols.join(",");
        headers.insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_str(&value).map_err(|e| ConnectError::Handshake(e.to_string()))?,
        );
    }
    for (name, value) in &config.handshake_headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| ConnectError::Handshake(e.to_string()))?;
        let value =
            HeaderValue::from_str(value).map_err(|e| ConnectError::Handshake(e.to_string()))?;
        headers.append(name, value);
    }

    let (ws, response) = client_async_with_config(request, stream, Some(ws_config(config)))
        .await
        .map_err(handshake_error)?;
    let selected_protocol = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let info = ConnectionInfo {
        peer_addr,
        local_addr,
        requested_url: url.as_str().to_owned(),
        selected_protocol,
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

fn handshake_error(error: WsError) -> ConnectError {
    match error {
        WsError::Io(e) => ConnectError::Io(Arc::new(e)),
        WsError::Http(response) => ConnectError::Handshake(format!(
            "the server answered HTTP {} instead of 101{}",
            response.status(),
            response
                .body()
                .as_deref()
                .map(|b| format!(": {}", String::from_utf8_lossy(b).trim()))
                .unwrap_or_default()
        )),
        WsError::Protocol(ProtocolError::SecWebSocketSubProtocolError(e)) => {
            ConnectError::ProtocolMismatch(e.to_string())
        }
        WsError::Protocol(ProtocolError::HandshakeIncomplete) => {
            ConnectError::Handshake("the server closed the connection during the handshake".into())
        }
        other => ConnectError::Handshake(tungstenite_error_text(&other)),
    }
}

fn tungstenite_error_text(error: &tungstenite::Error) -> String {
    error.to_string()
}
