//! Reading an HTTP head (request or response) off a socket, with a size limit:
//! the first step of both sides of the opening handshake.

use std::{future::poll_fn, pin::Pin, task::Poll};

use bytes::BytesMut;
use tokio::io::{AsyncRead, ReadBuf};

use crate::codec::scratch;

/// Why no request or response head could be read.
pub(crate) enum HeadError {
    /// Over the size limit.
    TooLarge,
    /// The peer closed the connection first.
    Eof,
    /// The socket failed.
    Io(std::io::Error),
    /// What arrived so far can never become a valid head.
    Malformed,
}

/// Reads until the blank line that ends the head; returns its length. Bytes
/// after it (early WebSocket frames) stay in `buf`. `plausible` is asked after
/// each read whether the partial head could still be valid, so that garbage is
/// refused at once rather than after the handshake timeout.
pub(crate) async fn read_head<S>(
    stream: &mut S,
    buf: &mut BytesMut,
    limit: usize,
    plausible: impl Fn(&[u8]) -> bool,
) -> Result<usize, HeadError>
where
    S: AsyncRead + Unpin,
{
    let mut scanned = 0;
    loop {
        if !plausible(buf) {
            return Err(HeadError::Malformed);
        }
        if let Some(pos) = find_blank_line(&buf[scanned..]) {
            let end = scanned + pos + 4;
            return if end > limit {
                Err(HeadError::TooLarge)
            } else {
                Ok(end)
            };
        }
        if buf.len() >= limit {
            return Err(HeadError::TooLarge);
        }
        // Resume the search three bytes back: the terminator may straddle reads.
        scanned = buf.len().saturating_sub(3);
        let n = read_some(stream, buf, limit + 4 - buf.len())
            .await
            .map_err(HeadError::Io)?;
        if n == 0 {
            return Err(HeadError::Eof);
        }
    }
}

/// Reads up to `want` bytes onto the end of `buf` through the thread's shared
/// read buffer, so that a connection waiting for its peer holds only what it
/// has received: a client that trickles its request costs its own bytes, not
/// a read buffer.
async fn read_some<S>(stream: &mut S, buf: &mut BytesMut, want: usize) -> std::io::Result<usize>
where
    S: AsyncRead + Unpin,
{
    poll_fn(|cx| {
        scratch::with_read_buffer(want, |chunk| {
            let mut chunk = ReadBuf::new(chunk);
            match Pin::new(&mut *stream).poll_read(cx, &mut chunk) {
                Poll::Ready(Ok(())) => {
                    buf.extend_from_slice(chunk.filled());
                    Poll::Ready(Ok(chunk.filled().len()))
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        })
    })
    .await
}

fn find_blank_line(data: &[u8]) -> Option<usize> {
    data.windows(4).position(|w| w == b"\r\n\r\n")
}

/// Whether `partial` could still be the start of an HTTP request.
pub(crate) fn plausible_request(partial: &[u8]) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    !matches!(
        httparse::Request::new(&mut headers).parse(partial),
        Err(e) if e != httparse::Error::TooManyHeaders
    )
}

/// Whether `partial` could still be the start of an HTTP response.
pub(crate) fn plausible_response(partial: &[u8]) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    !matches!(
        httparse::Response::new(&mut headers).parse(partial),
        Err(e) if e != httparse::Error::TooManyHeaders
    )
}
