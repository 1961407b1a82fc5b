//! Hostile compressed data (permessage-deflate): a decompression bomb, RSV1
//! where it does not belong, a corrupt stream, and a client that keeps its
//! context after agreeing not to. Each gets its close code after what came
//! before was delivered, costs no more than the limit, and the same server
//! keeps serving a normal client.

use flate2::{Compress, Compression, FlushCompress};
use tokio::{io::AsyncWriteExt, net::TcpStream};
use wspeer_core::{CloseStatus, Config, DeflateConfig, Message, WebSocket};
use wspeer_tests::{
    frames::{BINARY, CLOSE, CONTINUATION, PING, TEXT, client_frame, read_frame},
    raw_http::{read_head, upgrade_request},
    server::TestServer,
    within,
};

const LIMIT: usize = 64 * 1024;

fn config() -> Config {
    Config::default()
        .inbound_buffer_size(LIMIT)
        .permessage_deflate(DeflateConfig::default())
}

/// A raw client that offered permessage-deflate (`offer`, or nothing), and
/// the server's side of it; checks what the server answered.
async fn raw_client(
    server: &mut TestServer,
    offer: Option<&str>,
    answer: Option<&str>,
) -> (TcpStream, WebSocket) {
    let addr = server.addr();
    let mut raw = TcpStream::connect(addr).await.expect("connect");
    let extra: Vec<(&str, &str)> = offer
        .map(|o| ("Sec-WebSocket-Extensions", o))
        .into_iter()
        .collect();
    let request = upgrade_request(&addr.to_string(), "/", &extra);
    raw.write_all(request.as_bytes()).await.expect("send");
    let head = read_head(&mut raw).await;
    assert_eq!(head.first_line(), "HTTP/1.1 101 Switching Protocols");
    let answered: Vec<&str> = head.header("sec-websocket-extensions");
    assert_eq!(answered, answer.into_iter().collect::<Vec<_>>());
    let ws = server.accept().await;
    (raw, ws)
}

/// Raw deflate of each message with one compressor, as a peer with context
/// takeover sends them (sync flush, the 4-byte tail removed).
fn deflate_messages(messages: &[&[u8]], keep_context: bool) -> Vec<Vec<u8>> {
    let mut compressor = Compress::new(Compression::new(6), false);
    messages
        .iter()
        .map(|message| {
            if !keep_context {
                compressor.reset();
            }
            let mut out = Vec::with_capacity(message.len() + 64);
            let start = compressor.total_in();
            loop {
                let consumed = (compressor.total_in() - start) as usize;
                let input = &message[consumed..];
                let before = compressor.total_in();
                compressor
                    .compress_vec(input, &mut out, FlushCompress::Sync)
                    .expect("deflate");
                if compressor.total_in() == before && out.len() < out.capacity() {
                    break;
                }
                out.reserve(4096);
            }
            assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
            out.truncate(out.len() - 4);
            out
        })
        .collect()
}

/// One message compressed on its own.
fn deflate(message: &[u8]) -> Vec<u8> {
    deflate_messages(&[message], false).remove(0)
}

/// A frame with RSV1 set.
fn compressed_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = client_frame(fin, opcode, payload);
    frame[0] |= 0x40;
    frame
}

/// Reads frames until the close frame; returns its code.
async fn close_code(raw: &mut TcpStream) -> u16 {
    loop {
        let frame = within("the server's close frame", read_frame(raw))
            .await
            .expect("read a frame")
            .expect("a close frame before EOF");
        if frame.opcode == CLOSE {
            return frame.close_code().expect("a code");
        }
    }
}

/// `bytes` after a valid compressed message: the server delivers that
/// message, then closes with `code` and `reason`, and serves others.
async fn closes_with(
    offer: Option<&str>,
    answer: Option<&str>,
    bytes: &[u8],
    code: u16,
    reason: &str,
) {
    let mut server = TestServer::start(config()).await;
    let (mut raw, mut ws) = raw_client(&mut server, offer, answer).await;
    let before = match offer {
        Some(_) => compressed_frame(true, TEXT, &deflate(b"before")),
        None => client_frame(true, TEXT, b"before"),
    };
    raw.write_all(&before).await.expect("send");
    raw.write_all(bytes).await.expect("send the violation");
    assert_eq!(
        within("the message before the violation", ws.recv()).await,
        Some(Message::text("before"))
    );
    // Coming back for more tells the connection the application has seen
    // everything before the violation: the close goes out now.
    let (end, code_sent) = tokio::join!(
        within("the end of messages", ws.recv()),
        close_code(&mut raw)
    );
    assert_eq!((end, code_sent), (None, code));
    let closed = within("the server to close", ws.closed()).await;
    assert_eq!(
        closed,
        CloseStatus {
            code: i32::from(code),
            reason: reason.to_owned()
        }
    );
    server.assert_serves().await;
}

const OFFER: Option<&str> = Some("permessage-deflate; client_no_context_takeover");
const ANSWER: Option<&str> =
    Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover");

/// 4 MiB of zeros in about 4 KiB: closed with 1009 once the 64 KiB limit is
/// passed, without inflating the rest (the decoder's unit tests measure that
/// what is inflated stops at the limit).
#[tokio::test]
async fn a_decompression_bomb_is_1009() {
    let bomb = deflate(&vec![0u8; 4 << 20]);
    assert!(bomb.len() < 8 * 1024, "{} bytes", bomb.len());
    closes_with(
        OFFER,
        ANSWER,
        &compressed_frame(true, BINARY, &bomb),
        1009,
        "Message too big",
    )
    .await;
}

#[tokio::test]
async fn rsv1_without_compression_agreed_is_1002() {
    closes_with(
        None,
        None,
        &compressed_frame(true, TEXT, &deflate(b"sneaky")),
        1002,
        "Protocol error",
    )
    .await;
}

#[tokio::test]
async fn rsv1_on_a_control_frame_is_1002() {
    closes_with(
        OFFER,
        ANSWER,
        &compressed_frame(true, PING, b""),
        1002,
        "Protocol error",
    )
    .await;
}

#[tokio::test]
async fn rsv1_on_a_continuation_is_1002() {
    let compressed = deflate(b"two halves");
    let (first, second) = compressed.split_at(compressed.len() / 2);
    let mut bytes = compressed_frame(false, TEXT, first);
    bytes.extend(compressed_frame(true, CONTINUATION, second));
    closes_with(OFFER, ANSWER, &bytes, 1002, "Protocol error").await;
}

/// Block type 3 does not exist (RFC 1951): 1007, as for any payload that is
/// not what its frame says it is.
#[tokio::test]
async fn a_corrupt_stream_is_1007() {
    closes_with(
        OFFER,
        ANSWER,
        &compressed_frame(true, BINARY, &[0xff, 0xff, 0xff, 0xff]),
        1007,
        "Invalid compressed data",
    )
    .await;
}

/// The client agreed to `client_no_context_takeover` but compresses its
/// second message against the first: the server's fresh decompressor finds
/// a reference to nothing (1007).
#[tokio::test]
async fn a_client_keeping_context_it_gave_up_is_1007() {
    let line: &[u8] = b"the very same line, twice, so that the second refers back";
    let kept = deflate_messages(&[line, line], true);
    assert_ne!(kept[1], deflate(line), "the second message refers back");
    closes_with(
        OFFER,
        ANSWER,
        &compressed_frame(true, TEXT, &kept[1]),
        1007,
        "Invalid compressed data",
    )
    .await;
}
