//! Connections over a byte stream that wspeer did not open: an HTTP server's
//! upgraded connection, a proxy's tunnel, an in-memory pipe. The same task,
//! queues, limits, heartbeat and closing handshake as over its own TCP; only
//! the socket options (`TCP_NODELAY`) are not ours to set.

use std::sync::Arc;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::{Instrument, debug_span};

use crate::{
    client_handshake,
    codec::{Role, Upgraded},
    config::Config,
    deflate::DeflateParams,
    error::{ConnectError, Side, TlsConfigError},
    handle::WebSocket,
    http_service::Admission,
    server_handshake,
    shared::Shared,
    state::ConnectionInfo,
    stream::MaybeTlsStream,
    task::{ConnectionTask, Handshake, connection, server_tls},
    tls::TlsOptions,
    tls_handshake,
    ws_url::{Scheme, WsUrl},
};

/// A server connection over `stream`, still in its handshake (TLS first if
/// `config` has server TLS options), and the task that will run it.
pub fn server_on<S>(
    stream: S,
    config: impl Into<Arc<Config>>,
) -> Result<(WebSocket, ConnectionTask), ConnectError>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let config = config.into();
    config.validate()?;
    let tls = server_tls(&config)?;
    let handshake_config = config.clone();
    let handshake: Handshake = Box::pin(async move {
        let (stream, scheme) = match &tls {
            Some(tls) => {
                let tls = Box::pin(tls_handshake::accept_over(stream, tls)).await?;
                (MaybeTlsStream::Other(Box::new(tls)), "wss")
            }
            None => (MaybeTlsStream::Other(Box::new(stream)), "ws"),
        };
        let (ws, mut accepted) =
            server_handshake::accept(stream, &handshake_config, scheme).await?;
        let info = ConnectionInfo {
            requested_url: accepted.requested_url,
            selected_protocol: accepted.selected_protocol,
            admitted: accepted.admission.take_note(),
            compression: ws.compression,
            ..ConnectionInfo::default()
        };
        Ok((ws, info, accepted.admission))
    });
    Ok(start(config, String::new(), handshake, "ws_server_on"))
}

/// A client connection to `url` over `stream` (which already reaches the
/// server, through a proxy for instance), still in its handshake, and the task
/// that will run it. For a `wss://` URL, TLS runs over `stream` first, with
/// `config.tls` (default: the system's trust store) and the URL's host.
pub fn client_on<S>(
    stream: S,
    url: &str,
    config: impl Into<Arc<Config>>,
) -> Result<(WebSocket, ConnectionTask), ConnectError>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let config = config.into();
    config.validate()?;
    let url = WsUrl::parse(url)?;
    let tls = match url.scheme() {
        Scheme::Ws => None,
        Scheme::Wss => Some(match &config.tls {
            Some(options) => options.clone(),
            None => TlsOptions::default_client()?,
        }),
    };
    if tls.as_ref().is_some_and(TlsOptions::is_server) {
        return Err(TlsConfigError::WrongSide("server TLS options were given to a client").into());
    }
    let handshake_config = config.clone();
    let requested = url.as_str().to_owned();
    let handshake: Handshake = Box::pin(async move {
        let stream = match &tls {
            Some(options) => {
                let (client_config, name) = options.client_config().ok_or(
                    TlsConfigError::WrongSide("server TLS options were given to a client"),
                )?;
                let tls = Box::pin(tls_handshake::connect_over(
                    stream,
                    url.host(),
                    client_config,
                    name,
                ))
                .await?;
                MaybeTlsStream::Other(Box::new(tls))
            }
            None => MaybeTlsStream::Other(Box::new(stream)),
        };
        let (ws, agreed) = client_handshake::handshake(stream, &url, &handshake_config).await?;
        let info = ConnectionInfo {
            requested_url: url.as_str().to_owned(),
            selected_protocol: agreed.selected_protocol,
            compression: ws.compression,
            ..ConnectionInfo::default()
        };
        Ok((ws, info, Admission::default()))
    });
    Ok(start(config, requested, handshake, "ws_client_on"))
}

/// What the two ends of a connection upgraded by someone else agreed on: the
/// subprotocol (empty for none) and permessage-deflate, as
/// [`check_upgrade`](crate::check_upgrade) chose them. A `&str` or `String`
/// converts into one with that subprotocol and no compression.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Negotiated {
    /// The subprotocol named in `Sec-WebSocket-Protocol`; empty for none.
    pub protocol: String,
    /// The permessage-deflate parameters answered in
    /// `Sec-WebSocket-Extensions`, if any.
    pub compression: Option<DeflateParams>,
}

impl Negotiated {
    /// A connection with `protocol` (empty for none) and no compression.
    pub fn protocol(protocol: impl Into<String>) -> Self {
        Self {
            protocol: protocol.into(),
            compression: None,
        }
    }

    /// Sets [`Negotiated::compression`].
    #[must_use]
    pub fn compression(mut self, compression: Option<DeflateParams>) -> Self {
        self.compression = compression;
        self
    }
}

impl From<&str> for Negotiated {
    fn from(protocol: &str) -> Self {
        Self::protocol(protocol)
    }
}

impl From<String> for Negotiated {
    fn from(protocol: String) -> Self {
        Self::protocol(protocol)
    }
}

/// A connection over a `stream` whose opening handshake someone else has
/// done (an HTTP server's upgrade): `side` is ours, `negotiated` what the
/// handshake agreed. It is open as soon as its task runs. With compression
/// agreed, messages are compressed as [`Config::permessage_deflate`] says
/// (its defaults when unset).
pub fn upgraded<S>(
    stream: S,
    side: Side,
    negotiated: impl Into<Negotiated>,
    config: impl Into<Arc<Config>>,
) -> Result<(WebSocket, ConnectionTask), ConnectError>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let config = config.into();
    config.validate()?;
    let role = match side {
        Side::Client => Role::Client,
        Side::Server => Role::Server,
    };
    let Negotiated {
        protocol,
        compression,
    } = negotiated.into();
    let info = ConnectionInfo {
        selected_protocol: protocol,
        compression,
        ..ConnectionInfo::default()
    };
    let handshake: Handshake = Box::pin(async move {
        let ws = Upgraded {
            stream: MaybeTlsStream::Other(Box::new(stream)),
            early: Bytes::new(),
            role,
            compression,
        };
        Ok((ws, info, Admission::default()))
    });
    Ok(start(config, String::new(), handshake, "ws_upgraded"))
}

fn start(
    config: Arc<Config>,
    requested_url: String,
    handshake: Handshake,
    name: &'static str,
) -> (WebSocket, ConnectionTask) {
    let shared = Shared::new(config, requested_url);
    let socket = WebSocket::new(shared.clone());
    let span = debug_span!("ws", kind = name);
    let task = connection(shared, handshake);
    (
        socket,
        ConnectionTask {
            inner: Box::pin(task.instrument(span)),
        },
    )
}
