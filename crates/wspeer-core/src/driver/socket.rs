//! Moving bytes to the socket: the staged batch and the backlog, written
//! with `write` or `writev`, each reporting how much the socket took.

use std::{
    io::{self, IoSlice},
    pin::Pin,
    task::{Context, Poll, ready},
};

use tokio::io::AsyncWrite;

use crate::{
    codec::writer::{MAX_SLICES, Staging},
    connection::Connection,
};

/// Writes the staged batch until it is out or the socket blocks; returns how
/// many bytes the socket took.
pub(super) fn write_staged<S: AsyncWrite + Unpin>(
    stream: &mut S,
    cx: &mut Context<'_>,
    staging: &Staging,
) -> io::Result<usize> {
    let mut done = 0;
    loop {
        let poll = match staging.contiguous() {
            Some(bytes) if done == bytes.len() => return Ok(done),
            Some(bytes) => Pin::new(&mut *stream).poll_write(cx, &bytes[done..]),
            None => {
                let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                let count = staging.slices(done, &mut slices);
                if count == 0 {
                    return Ok(done);
                }
                Pin::new(&mut *stream).poll_write_vectored(cx, &slices[..count])
            }
        };
        match poll {
            Poll::Ready(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
            Poll::Ready(Ok(n)) => done += n,
            Poll::Ready(Err(error)) => return Err(error),
            Poll::Pending => return Ok(done),
        }
    }
}

/// Writes what the socket did not take last time, until it is out or the
/// socket blocks.
pub(super) fn write_backlog<S: AsyncWrite + Unpin>(
    stream: &mut S,
    conn: &mut Connection,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    while !conn.backlog().is_empty() {
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let count = conn.backlog().slices(&mut slices);
        let written = ready!(Pin::new(&mut *stream).poll_write_vectored(cx, &slices[..count]))?;
        if written == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        conn.backlog_written(written);
    }
    Poll::Ready(Ok(()))
}
