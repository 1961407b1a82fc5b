//! The end of a connection: how it ended is recorded for the application,
//! and the socket is closed politely.

use std::{future::poll_fn, task::Poll, time::Duration};

use tokio::{io::AsyncWriteExt, time::timeout};

use super::Driver;
use crate::{connection::End, state::CloseStatus, transport::Transport};

impl<S: Transport> Driver<S> {
    /// Records how the connection ended and closes the socket politely.
    pub(super) async fn finish(&mut self, end: End) {
        let close_timeout = self.shared.config.close_timeout;
        match end {
            End::Clean(status) => {
                self.shared.set_closed(Some(status));
                self.shutdown(close_timeout).await;
            }
            End::Abrupt(status) => self.shared.set_closed(Some(status)),
            End::Aborted => self.shared.set_closed(None),
            End::Fail(code, reason) => {
                // As Godot 4.4 does: the state is CLOSED with the code we sent, at
                // once; the close frame then goes out on a best-effort basis.
                self.shared.set_closed(Some(CloseStatus {
                    code: i32::from(code),
                    reason: reason.to_owned(),
                }));
                self.conn.send_failure();
                let send = poll_fn(|cx| match self.write(cx, usize::MAX) {
                    Ok(_) if !self.conn.all_out() => Poll::Pending,
                    _ => Poll::Ready(()),
                });
                let _ = timeout(close_timeout, send).await;
                self.shutdown(close_timeout).await;
            }
        }
    }

    /// Sends FIN and drains what the peer still sends until it closes too, so the
    /// kernel does not answer unread data with a reset that could destroy our
    /// last frames before the peer reads them.
    async fn shutdown(&mut self, limit: Duration) {
        let drain = async {
            let stream = &mut self.stream;
            let _ = stream.shutdown().await;
            let mut sink = vec![0u8; 1024];
            loop {
                match tokio::io::AsyncReadExt::read(stream, &mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        };
        let _ = timeout(limit, drain).await;
    }
}
