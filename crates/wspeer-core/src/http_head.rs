//! Reading an HTTP head (request or response) off a socket, with a size limit:
//! the first step of both sides of the opening handshake.

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt};

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
        let want = (limit + 4 - buf.len()).min(4096);
        buf.reserve(want);
        let mut chunk = buf.split_off(buf.len());
        chunk.resize(want, 0);
        let n = stream.read(&mut chunk).await.map_err(HeadError::Io)?;
        chunk.truncate(n);
        buf.unsplit(chunk);
        if n == 0 {
            return Err(HeadError::Eof);
        }
    }
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
