//! What a connection runs over: a byte stream whose socket options can be set.

use std::io;

use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
};

/// A byte stream a connection's I/O loop runs over: TCP, TLS over it, or any
/// other stream (`MaybeTlsStream`). Socket options reach the TCP socket
/// underneath, where there is one.
pub(crate) trait Transport: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// Sets `TCP_NODELAY` on the underlying TCP socket.
    fn set_nodelay(&self, enabled: bool) -> io::Result<()>;
}

impl Transport for TcpStream {
    fn set_nodelay(&self, enabled: bool) -> io::Result<()> {
        TcpStream::set_nodelay(self, enabled)
    }
}

/// In-memory streams have no socket options; used by the fuzz target and tests.
impl Transport for tokio::io::DuplexStream {
    fn set_nodelay(&self, _enabled: bool) -> io::Result<()> {
        Ok(())
    }
}
