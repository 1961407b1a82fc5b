//! The byte stream under a connection: plain TCP, or TLS over TCP on either side.

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};
use tokio_rustls::{client, server};

use crate::transport::Transport;

/// TCP or TLS, or any other byte stream. The TLS variants are boxed: their
/// state is kilobytes, and a plain connection should not pay for it; any
/// other stream (an HTTP server's upgraded connection, an in-memory pipe, TLS
/// over a proxy tunnel) goes behind a pointer, so that TCP keeps its direct
/// calls.
pub(crate) enum MaybeTlsStream {
    Plain(TcpStream),
    Client(Box<client::TlsStream<TcpStream>>),
    Server(Box<server::TlsStream<TcpStream>>),
    Other(Box<dyn AnyStream>),
}

/// What a connection can run over.
pub(crate) trait AnyStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<S: AsyncRead + AsyncWrite + Send + Unpin + 'static> AnyStream for S {}

impl std::fmt::Debug for MaybeTlsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MaybeTlsStream::Plain(_) => "Plain",
            MaybeTlsStream::Client(_) => "Client TLS",
            MaybeTlsStream::Server(_) => "Server TLS",
            MaybeTlsStream::Other(_) => "Other",
        })
    }
}

impl MaybeTlsStream {
    fn tcp(&self) -> Option<&TcpStream> {
        match self {
            MaybeTlsStream::Plain(tcp) => Some(tcp),
            MaybeTlsStream::Client(tls) => Some(tls.get_ref().0),
            MaybeTlsStream::Server(tls) => Some(tls.get_ref().0),
            MaybeTlsStream::Other(_) => None,
        }
    }
}

impl Transport for MaybeTlsStream {
    /// A stream that is not our own TCP has no socket options to set.
    fn set_nodelay(&self, enabled: bool) -> io::Result<()> {
        self.tcp().map_or(Ok(()), |tcp| tcp.set_nodelay(enabled))
    }
}

impl AsyncRead for MaybeTlsStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            MaybeTlsStream::Client(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            MaybeTlsStream::Server(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            MaybeTlsStream::Other(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for MaybeTlsStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            MaybeTlsStream::Client(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            MaybeTlsStream::Server(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            MaybeTlsStream::Other(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            MaybeTlsStream::Client(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
            MaybeTlsStream::Server(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
            MaybeTlsStream::Other(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            MaybeTlsStream::Plain(s) => s.is_write_vectored(),
            MaybeTlsStream::Client(s) => s.is_write_vectored(),
            MaybeTlsStream::Server(s) => s.is_write_vectored(),
            MaybeTlsStream::Other(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(s) => Pin::new(s).poll_flush(cx),
            MaybeTlsStream::Client(s) => Pin::new(s.as_mut()).poll_flush(cx),
            MaybeTlsStream::Server(s) => Pin::new(s.as_mut()).poll_flush(cx),
            MaybeTlsStream::Other(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            MaybeTlsStream::Client(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            MaybeTlsStream::Server(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            MaybeTlsStream::Other(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
