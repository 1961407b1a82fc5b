//! Godot 4's `WebSocketPeer`: one WebSocket connection, polled from a game loop.

use std::{net::IpAddr, sync::Arc, time::Duration};

use wspeer_core::{
    Bytes, CloseError, CloseStatus, Config, ConnectError, ConnectionInfo, Message, ReadyState,
    TlsOptions, WebSocket,
};

use crate::{
    error::{GetPacketError, PeerError, SendError},
    runtime::RuntimeRef,
    tcp_server::AcceptedStream,
};

/// Godot's `WebSocketPeer.WriteMode`: the frame type of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// A text frame; the bytes must be UTF-8.
    Text,
    /// A binary frame (Godot's default for `send`).
    #[default]
    Binary,
}

/// A live connection and the runtime it runs on.
#[derive(Debug)]
struct Connection {
    ws: WebSocket,
    runtime: RuntimeRef,
    /// The last tick of a this-thread runtime this peer saw (see `poll`).
    seen_tick: u64,
}

/// What the application sees between two polls.
#[derive(Debug)]
struct View {
    state: ReadyState,
    available: usize,
    buffered_amount: usize,
    close: CloseStatus,
    info: ConnectionInfo,
    connect_error: Option<ConnectError>,
}

impl Default for View {
    fn default() -> Self {
        Self {
            state: ReadyState::Closed,
            available: 0,
            buffered_amount: 0,
            close: CloseStatus::unclean(),
            info: ConnectionInfo::default(),
            connect_error: None,
        }
    }
}

/// Godot 4's `WebSocketPeer`, with Rust names and Godot's meaning.
///
/// Nothing here blocks or waits on the network: the connection runs on a
/// background Tokio runtime (see [`crate::runtime`]), and [`poll`](Self::poll)
/// makes what it did visible. Between two polls the ready state and the packet
/// count stay still, as in Godot.
///
/// Settings (`set_supported_protocols`, the buffer sizes, the heartbeat) apply to
/// the next `connect_to_url` or `accept_stream`, as in Godot.
#[derive(Debug, Default)]
pub struct WebSocketPeer {
    config: Config,
    handshake_headers: Vec<String>,
    connection: Option<Connection>,
    view: View,
    requested_url: String,
    was_string: bool,
    /// Godot 3's write mode: the frame type `put_packet` uses.
    write_mode: WriteMode,
    /// Whether `close` was called on this connection (Godot 3 tells a close the
    /// remote asked for from one we started).
    closed_locally: bool,
}

impl WebSocketPeer {
    /// A closed peer with Godot's default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts connecting to a `ws://` or `wss://` URL; `wss://` verifies the
    /// server against the system's trust store (Godot's `connect_to_url(url)`
    /// with no TLS options). Returns at once; the peer is
    /// [`ReadyState::Connecting`] and [`poll`](Self::poll) shows the outcome
    /// (Open, or Closed with code -1 and [`connect_error`](Self::connect_error)).
    pub fn connect_to_url(&mut self, url: &str) -> Result<(), PeerError> {
        self.connect(url, None)
    }

    /// [`connect_to_url`](Self::connect_to_url) with TLS options for `wss://`
    /// (Godot's `connect_to_url(url, tls_client_options)`): a private CA, a name
    /// override, or `TlsOptions::client_unsafe` for development. Server options
    /// are refused.
    pub fn connect_to_url_with_tls(&mut self, url: &str, tls: TlsOptions) -> Result<(), PeerError> {
        self.connect(url, Some(tls))
    }

    fn connect(&mut self, url: &str, tls: Option<TlsOptions>) -> Result<(), PeerError> {
        self.check_reusable()?;
        let runtime = RuntimeRef::get().map_err(|e| PeerError::Runtime(e.to_string()))?;
        let config = self.connection_config(tls, &runtime)?;
        let (ws, task) = wspeer_core::start_client(url, config)?;
        runtime.spawn(task);
        self.start(ws, runtime);
        self.requested_url = url.to_owned();
        Ok(())
    }

    /// Starts the server side of a connection on a stream taken from
    /// [`TcpServer`](crate::TcpServer): a [`StreamPeerTcp`](crate::StreamPeerTcp) for `ws://`, or a
    /// [`StreamPeerTls`](crate::StreamPeerTls) for `wss://`. Returns at once; the
    /// peer is [`ReadyState::Connecting`] until the client's handshakes are done.
    pub fn accept_stream(&mut self, stream: impl Into<AcceptedStream>) -> Result<(), PeerError> {
        self.check_reusable()?;
        let (stream, tls) = match stream.into() {
            AcceptedStream::Tcp(tcp) => (tcp, None),
            AcceptedStream::Tls(tls) => (tls.tcp, Some(tls.options)),
        };
        let runtime = RuntimeRef::get().map_err(|e| PeerError::Runtime(e.to_string()))?;
        let config = self.connection_config(tls, &runtime)?;
        let slot = stream.slot;
        let stream = {
            let _entered = runtime.handle().enter();
            stream
                .stream
                .set_nonblocking(true)
                .and_then(|()| tokio::net::TcpStream::from_std(stream.stream))
                .map_err(|e| PeerError::Stream(std::sync::Arc::new(e)))?
        };
        let (ws, task) = match slot {
            Some(slot) => wspeer_core::start_server_in_slot(stream, config, slot)?,
            None => wspeer_core::start_server(stream, config)?,
        };
        runtime.spawn(task);
        self.start(ws, runtime);
        self.requested_url.clear();
        Ok(())
    }

    fn check_reusable(&self) -> Result<(), PeerError> {
        match self.view.state {
            ReadyState::Connecting | ReadyState::Open => Err(PeerError::AlreadyInUse),
            ReadyState::Closing | ReadyState::Closed => Ok(()),
        }
    }

    fn connection_config(
        &self,
        tls: Option<TlsOptions>,
        runtime: &RuntimeRef,
    ) -> Result<Arc<Config>, PeerError> {
        let mut config = self.config.clone();
        config.tls = tls;
        config.activity = runtime.activity();
        // Godot-style "Name: value" lines come after any headers set through
        // `set_config`.
        for line in &self.handshake_headers {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| PeerError::InvalidHeader(line.clone()))?;
            config
                .handshake_headers
                .push((name.trim().to_owned(), value.trim().to_owned()));
        }
        config.validate().map_err(ConnectError::from)?;
        Ok(Arc::new(config))
    }

    fn start(&mut self, ws: WebSocket, runtime: RuntimeRef) {
        // Replacing a closing connection drops its handle; its task finishes the
        // closing handshake on its own.
        self.connection = Some(Connection {
            ws,
            seen_tick: runtime.ticks(),
            runtime,
        });
        self.view = View {
            state: ReadyState::Connecting,
            ..View::default()
        };
        self.was_string = false;
        self.closed_locally = false;
    }

    /// Makes the I/O done in the background visible: the ready state, the packets
    /// received, the close code. Never blocks; an idle poll allocates nothing.
    /// With [`runtime::use_this_thread`](crate::runtime::use_this_thread) it first
    /// does the I/O itself, once per pass over all the thread's peers.
    pub fn poll(&mut self) {
        if let Some(connection) = &mut self.connection {
            // With `runtime::use_this_thread`, the I/O happens here.
            connection.runtime.drive(&mut connection.seen_tick);
        }
        self.refresh();
    }

    fn refresh(&mut self) {
        let Some(connection) = &self.connection else {
            return;
        };
        let view = &mut self.view;
        let before = view.state;
        connection.ws.with_snapshot(|now| {
            view.state = now.ready_state();
            view.available = now.available();
            view.buffered_amount = now.buffered_amount();
            if now.ready_state() != before {
                // Copied only on a change, so that an idle poll allocates nothing.
                if now.ready_state() == ReadyState::Open {
                    view.info = now.info().clone();
                }
                if now.ready_state() == ReadyState::Closed {
                    view.close = now.close_status().clone();
                    view.connect_error = now.connect_error().cloned();
                }
            }
        });
    }

    /// Godot's `get_ready_state`, as of the last poll.
    pub fn ready_state(&self) -> ReadyState {
        self.view.state
    }

    /// Packets received and visible since the last poll. Unlike Godot, packets
    /// that arrived before a close stay readable after it (Godot drops them:
    /// godotengine/godot#107442).
    pub fn available_packet_count(&self) -> usize {
        self.view.available
    }

    /// Takes the oldest visible packet; [`was_string_packet`](Self::was_string_packet)
    /// then tells whether it came as text.
    pub fn get_packet(&mut self) -> Result<Bytes, GetPacketError> {
        self.get_message().map(Message::into_payload)
    }

    /// Takes the oldest visible packet as a [`Message`] (text or binary).
    pub fn get_message(&mut self) -> Result<Message, GetPacketError> {
        if self.view.available == 0 {
            return Err(GetPacketError::Unavailable);
        }
        let connection = self
            .connection
            .as_mut()
            .ok_or(GetPacketError::Unavailable)?;
        let message = connection
            .ws
            .try_recv()
            .map_err(|_| GetPacketError::Unavailable)?;
        self.view.available -= 1;
        self.was_string = message.is_text();
        Ok(message)
    }

    /// Whether the last packet taken by `get_packet` came as text.
    pub fn was_string_packet(&self) -> bool {
        self.was_string
    }

    /// Queues `data` as one message of the given frame type. Fails at once,
    /// never waits: [`SendError::Full`] when the outbound queue is full.
    pub fn send(&mut self, data: &[u8], mode: WriteMode) -> Result<(), SendError> {
        if self.view.state != ReadyState::Open {
            return Err(SendError::NotOpen);
        }
        let data = Bytes::copy_from_slice(data);
        let message = match mode {
            WriteMode::Binary => Message::binary(data),
            WriteMode::Text => {
                Message::text_from_bytes(data).map_err(|_| SendError::InvalidUtf8)?
            }
        };
        self.send_message(message)
    }

    /// Queues `text` as a text message (Godot's `send_text`).
    pub fn send_text(&mut self, text: &str) -> Result<(), SendError> {
        if self.view.state != ReadyState::Open {
            return Err(SendError::NotOpen);
        }
        self.send_message(Message::text(text))
    }

    /// Queues `data` as one message (Godot's `put_packet`): binary, as in Godot 4,
    /// unless Godot 3's [`set_write_mode`](Self::set_write_mode) chose text.
    pub fn put_packet(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send(data, self.write_mode)
    }

    /// The frame type `put_packet` uses (Godot 3's `get_write_mode`).
    pub fn write_mode(&self) -> WriteMode {
        self.write_mode
    }

    /// Sets the frame type `put_packet` uses (Godot 3's `set_write_mode`; Godot 4
    /// has none and always sends binary, the default here too).
    pub fn set_write_mode(&mut self, mode: WriteMode) {
        self.write_mode = mode;
    }

    /// Queues a message without copying its payload (a wspeer addition: one
    /// `Message` can be sent to many peers).
    pub fn send_message(&mut self, message: Message) -> Result<(), SendError> {
        if self.view.state != ReadyState::Open {
            return Err(SendError::NotOpen);
        }
        let connection = self.connection.as_ref().ok_or(SendError::NotOpen)?;
        let len = message.len();
        connection.runtime.send(&connection.ws, message)?;
        self.view.buffered_amount += len;
        Ok(())
    }

    /// Starts the closing handshake, as Godot's `close(code, reason)`; Godot's
    /// defaults are [`close_normal`](Self::close_normal). Keep polling until
    /// [`ReadyState::Closed`] for a clean close. A negative code drops the
    /// connection at once without a close frame. Codes RFC 6455 forbids on the
    /// wire and reasons over 123 bytes are refused (Godot sends the former and
    /// silently sends nothing for the latter, leaving the peer stuck in CLOSING).
    pub fn close(&mut self, code: i32, reason: &str) -> Result<(), CloseError> {
        if let Some(connection) = &self.connection {
            connection.ws.close(code, reason)?;
            let before = self.view.state;
            // A close after the remote's close frame is not ours to report.
            self.closed_locally |= matches!(before, ReadyState::Connecting | ReadyState::Open);
            // As in Godot, close() moves the state itself (to CLOSING, or to CLOSED
            // when aborting or still connecting); everything else waits for poll().
            self.view.state = match before {
                ReadyState::Open | ReadyState::Closing if code >= 0 => ReadyState::Closing,
                _ => ReadyState::Closed,
            };
            if before == ReadyState::Connecting {
                self.view.connect_error = connection.ws.connect_error();
            }
        }
        Ok(())
    }

    /// `close(1000, "")`: Godot's `close()` with its default arguments.
    pub fn close_normal(&mut self) {
        // 1000 with an empty reason is always valid.
        let _ = self.close(1000, "");
    }

    /// Whether this side started the close (by calling `close`).
    pub fn closed_locally(&self) -> bool {
        self.closed_locally
    }

    /// The close code as of the last poll: the peer's code after a clean close,
    /// -1 when the connection ended without one (Godot's `get_close_code`).
    pub fn close_code(&self) -> i32 {
        self.view.close.code
    }

    /// The close reason as of the last poll (Godot's `get_close_reason`).
    pub fn close_reason(&self) -> &str {
        &self.view.close.reason
    }

    /// Why the last connection attempt failed before opening, if it did. Godot
    /// only reports code -1; this says what happened.
    pub fn connect_error(&self) -> Option<&ConnectError> {
        self.view.connect_error.as_ref()
    }

    /// The remote IP address, once open (Godot's `get_connected_host`).
    pub fn connected_host(&self) -> Option<IpAddr> {
        self.view.info.peer_addr.map(|a| a.ip())
    }

    /// The remote port, once open; 0 before (Godot's `get_connected_port`).
    pub fn connected_port(&self) -> u16 {
        self.view.info.peer_addr.map_or(0, |a| a.port())
    }

    /// Payload bytes queued but not yet written to the socket, as of the last
    /// poll plus what was sent since; 0 unless open.
    pub fn current_outbound_buffered_amount(&self) -> usize {
        if self.view.state == ReadyState::Open {
            self.view.buffered_amount
        } else {
            0
        }
    }

    /// Client: the URL given to `connect_to_url`. Server: `ws://` + Host header +
    /// request target, once open.
    pub fn requested_url(&self) -> &str {
        if self.requested_url.is_empty() {
            &self.view.info.requested_url
        } else {
            &self.requested_url
        }
    }

    /// The negotiated subprotocol; empty when none.
    pub fn selected_protocol(&self) -> &str {
        &self.view.info.selected_protocol
    }

    /// The permessage-deflate parameters agreed, once open; `None` when
    /// compression is off (the default, as in Godot) or the other side
    /// declined it. Turn it on with [`Config::permessage_deflate`] in
    /// [`Self::set_config`].
    pub fn compression(&self) -> Option<wspeer_core::DeflateParams> {
        self.view.info.compression
    }

    /// Turns `TCP_NODELAY` on or off: on the live connection if there is one, and
    /// for the next ones. On by default, as in Godot.
    pub fn set_no_delay(&mut self, enabled: bool) {
        self.config.no_delay = enabled;
        if let Some(connection) = &self.connection {
            connection.ws.set_no_delay(enabled);
        }
    }

    /// The subprotocols offered (client) or accepted (server).
    pub fn supported_protocols(&self) -> &[String] {
        &self.config.supported_protocols
    }

    /// Sets the subprotocols; whitespace around each is stripped, as in Godot.
    pub fn set_supported_protocols<I, S>(&mut self, protocols: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config = std::mem::take(&mut self.config).supported_protocols(protocols);
    }

    /// The extra handshake headers, as `"Name: value"` lines.
    pub fn handshake_headers(&self) -> &[String] {
        &self.handshake_headers
    }

    /// Sets extra handshake headers as `"Name: value"` lines, as in Godot; they are
    /// checked when the next connection starts.
    pub fn set_handshake_headers<I, S>(&mut self, headers: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.handshake_headers = headers.into_iter().map(Into::into).collect();
    }

    /// Largest incoming message, and the inbound queue's byte budget.
    pub fn inbound_buffer_size(&self) -> usize {
        self.config.inbound_buffer_size
    }

    /// Sets [`inbound_buffer_size`](Self::inbound_buffer_size) for the next connection.
    pub fn set_inbound_buffer_size(&mut self, bytes: usize) {
        self.config.inbound_buffer_size = bytes;
    }

    /// The outbound queue's byte budget; 0 means no limit.
    pub fn outbound_buffer_size(&self) -> usize {
        self.config.outbound_buffer_size
    }

    /// Sets [`outbound_buffer_size`](Self::outbound_buffer_size) for the next connection.
    pub fn set_outbound_buffer_size(&mut self, bytes: usize) {
        self.config.outbound_buffer_size = bytes;
    }

    /// Most packets waiting in each direction.
    pub fn max_queued_packets(&self) -> usize {
        self.config.max_queued_packets
    }

    /// Sets [`max_queued_packets`](Self::max_queued_packets) for the next connection.
    pub fn set_max_queued_packets(&mut self, packets: usize) {
        self.config.max_queued_packets = packets;
    }

    /// The heartbeat interval; zero when off.
    pub fn heartbeat_interval(&self) -> Duration {
        self.config.heartbeat_interval
    }

    /// Sends a ping every `interval` and drops a peer that misses a pong; zero
    /// turns it off. Applies to the next connection.
    pub fn set_heartbeat_interval(&mut self, interval: Duration) {
        self.config.heartbeat_interval = interval;
    }

    /// Every setting of the next connection, including wspeer's own (handshake
    /// and close timeouts, read buffer size).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Replaces every setting for the next connection.
    pub fn set_config(&mut self, config: Config) {
        self.config = config;
    }
}
