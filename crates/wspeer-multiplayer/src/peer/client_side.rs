//! The client half of [`MultiplayerPeer`](crate::MultiplayerPeer): one
//! `WebSocketPeer` to the server and the state machine reading it.

use std::{collections::VecDeque, time::Instant};

use wspeer::{Message, ReadyState, TlsOptions, WebSocketPeer};

use crate::{
    config::MultiplayerConfig,
    error::CreateError,
    event::{Event, Packet},
    proto::Client,
    protocol::Protocol,
};

/// A client connection, polled from the game loop.
#[derive(Debug)]
pub(super) struct ClientSide {
    pub(super) ws: WebSocketPeer,
    pub(super) machine: Client,
}

impl ClientSide {
    /// Starts connecting to `url`.
    pub(super) fn start(
        protocol: Protocol,
        config: &MultiplayerConfig,
        url: &str,
        tls: Option<TlsOptions>,
    ) -> Result<Self, CreateError> {
        let now = Instant::now();
        let mut ws = WebSocketPeer::new();
        ws.set_config(config.connection());
        ws.set_handshake_headers(config.header_lines());
        match tls {
            Some(tls) => ws.connect_to_url_with_tls(url, tls)?,
            None => ws.connect_to_url(url)?,
        }
        let mut machine = Client::new(protocol, now);
        machine.set_handshake_timeout(now, config.handshake_timeout);
        machine.set_server_relay(config.server_relay);
        machine.set_godot4_payload(config.godot4_payload);
        Ok(Self { ws, machine })
    }

    /// One frame of work: messages, the connection's end, the timeout.
    pub(super) fn poll(&mut self) {
        let now = Instant::now();
        self.ws.poll();
        while let Ok(message) = self.ws.get_packet() {
            self.machine.handle_message(message, now);
        }
        if matches!(
            self.ws.ready_state(),
            ReadyState::Closing | ReadyState::Closed
        ) {
            self.machine.handle_closed(now);
        }
        self.machine.handle_timeout(now);
        let _ = self.flush();
    }

    /// Sends what the state machine queued; closes the connection if it asked.
    pub(super) fn flush(&mut self) -> Result<(), wspeer::SendError> {
        let mut result = Ok(());
        while let Some(transmit) = self.machine.poll_transmit() {
            result = self.ws.send_message(Message::binary(transmit.data));
        }
        while self.machine.poll_close().is_some() {
            self.ws.close_normal();
        }
        result
    }

    /// Moves the state machine's events and packets to the application.
    pub(super) fn drain(&mut self, events: &mut Vec<Event>, packets: &mut VecDeque<Packet>) {
        events.extend(std::iter::from_fn(|| self.machine.poll_event()));
        packets.extend(std::iter::from_fn(|| self.machine.poll_packet()));
    }
}
