//! The TLS handshake on either side, run inside the connection task under its
//! handshake timeout, with failures turned into errors a user can act on.

use std::{io, sync::Arc};

use rustls::{CertificateError, ClientConfig, Error as RustlsError, ServerConfig};
use rustls_pki_types::ServerName;
use tokio::{
    io::{AsyncRead, AsyncWrite, AsyncWriteExt},
    net::TcpStream,
};
use tokio_rustls::{TlsAcceptor, TlsConnector, client, server};

use crate::{
    error::{ConnectError, Side, TlsConfigError, TlsError},
    stream::MaybeTlsStream,
    tls::TlsOptions,
};

/// The first byte of every TLS connection: a handshake record.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// Client side: TLS over `tcp`, checking the certificate against `host` (or the
/// options' override).
pub(crate) async fn connect(
    tcp: TcpStream,
    host: &str,
    options: &TlsOptions,
) -> Result<MaybeTlsStream, ConnectError> {
    let (config, name_override) = options.client_config().ok_or(TlsConfigError::WrongSide(
        "server TLS options were given to a client",
    ))?;
    let stream = connect_over(tcp, host, config, name_override).await?;
    Ok(MaybeTlsStream::Client(Box::new(stream)))
}

/// Client side: TLS over any stream (a proxy's tunnel, say).
pub(crate) async fn connect_over<S>(
    stream: S,
    host: &str,
    config: &Arc<ClientConfig>,
    name_override: Option<&str>,
) -> Result<client::TlsStream<S>, ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let name = name_override.unwrap_or(host).to_owned();
    let server_name = ServerName::try_from(name.clone())
        .map_err(|e| TlsError::Other(format!("{name:?} is not a valid server name: {e}")))?;
    TlsConnector::from(Arc::clone(config))
        .connect(server_name, stream)
        .await
        .map_err(|e| client_error(e, &name))
}

/// Server side: TLS over any stream, with no plain-HTTP check.
pub(crate) async fn accept_over<S>(
    stream: S,
    config: &Arc<ServerConfig>,
) -> Result<server::TlsStream<S>, ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    TlsAcceptor::from(Arc::clone(config))
        .accept(stream)
        .await
        .map_err(server_error)
}

/// Server side: TLS over `tcp`. A client that speaks plain HTTP to this port is
/// told so in plain HTTP before it is dropped.
pub(crate) async fn accept(
    tcp: TcpStream,
    config: &Arc<ServerConfig>,
) -> Result<MaybeTlsStream, ConnectError> {
    let mut first = [0u8; 1];
    let n = tcp.peek(&mut first).await?;
    if n == 0 {
        return Err(ConnectError::ClosedDuringHandshake(Side::Client));
    }
    if first[0] != TLS_HANDSHAKE_RECORD {
        let mut tcp = tcp;
        let body = "this port speaks TLS: connect with wss://\n";
        let response = format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = tcp.write_all(response.as_bytes()).await;
        let _ = tcp.shutdown().await;
        return Err(TlsError::NotTls("the client sent plain data to a TLS port".into()).into());
    }
    let stream = TlsAcceptor::from(Arc::clone(config))
        .accept(tcp)
        .await
        .map_err(server_error)?;
    Ok(MaybeTlsStream::Server(Box::new(stream)))
}

/// On a plain port: if the client opened with a TLS handshake instead of HTTP,
/// reads what it sent and closes politely (a reset could hide the close from it),
/// and says so.
pub(crate) async fn refuse_tls(tcp: &mut TcpStream) -> Result<(), ConnectError> {
    let mut first = [0u8; 1];
    let n = tcp.peek(&mut first).await?;
    if n == 0 || first[0] != TLS_HANDSHAKE_RECORD {
        return Ok(());
    }
    {
        // Scoped so that the buffer is not kept across the await below.
        let mut hello = [0u8; 4096];
        let _ = tcp.try_read(&mut hello);
    }
    let _ = tcp.shutdown().await;
    Err(TlsError::NotTls("the client started TLS on a plain ws:// port".into()).into())
}

fn rustls_error(error: &io::Error) -> Option<&RustlsError> {
    error.get_ref()?.downcast_ref::<RustlsError>()
}

fn client_error(error: io::Error, name: &str) -> ConnectError {
    let tls = match rustls_error(&error) {
        Some(RustlsError::InvalidCertificate(cert)) => match cert {
            CertificateError::UnknownIssuer => TlsError::UnknownIssuer,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsError::NameMismatch(name.to_owned())
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                TlsError::Expired
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                TlsError::NotValidYet
            }
            other => TlsError::Other(format!("invalid certificate: {other}")),
        },
        Some(
            RustlsError::InvalidMessage(_)
            | RustlsError::InappropriateMessage { .. }
            | RustlsError::InappropriateHandshakeMessage { .. },
        ) => TlsError::NotTls("the server's answer is not TLS; is it a plain ws:// server?".into()),
        Some(other) => TlsError::Other(other.to_string()),
        None if matches!(
            error.kind(),
            io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset
        ) =>
        {
            TlsError::NotTls(
            "the server closed the connection during the TLS handshake; is it a plain ws:// server?"
                .into(),
            )
        }
        None => return ConnectError::Io(Arc::new(error)),
    };
    tls.into()
}

fn server_error(error: io::Error) -> ConnectError {
    let tls = match rustls_error(&error) {
        Some(RustlsError::AlertReceived(alert)) => TlsError::Other(format!(
            "the client refused the handshake with alert {alert:?}"
        )),
        Some(other) => TlsError::Other(other.to_string()),
        None => return ConnectError::Io(Arc::new(error)),
    };
    tls.into()
}
