//! permessage-deflate under arbitrary input: the negotiation both ways, and
//! the decoder of compressed messages.

/// Runs `data` as `Sec-WebSocket-Extensions` values (one per line) through
/// both sides of the negotiation. Must not panic; whatever a server answers
/// must be valid by its own grammar, and a server answering our own client's
/// offer must give an answer that client accepts.
pub fn deflate_negotiation(data: &[u8]) {
    use crate::deflate::{DeflateConfig, negotiate};
    let text = String::from_utf8_lossy(data);
    let values: Vec<&str> = text.split('\n').collect();
    let configs = [
        DeflateConfig::default(),
        DeflateConfig::default()
            .send_context_takeover(true)
            .receive_context_takeover(true)
            .send_window_bits(10)
            .receive_window_bits(12),
    ];
    for config in &configs {
        if let Some(agreement) = negotiate::server_accept(values.iter().copied(), config) {
            let reparsed = negotiate::server_accept([agreement.response.as_str()], config);
            assert!(
                reparsed.is_some(),
                "{:?} does not parse",
                agreement.response
            );
        }
        let _ = negotiate::client_check(values.iter().copied(), config);
        for server in &configs {
            let offer = negotiate::client_offer(config);
            let agreement = negotiate::server_accept([offer.as_str()], server).expect("our offer");
            let checked = negotiate::client_check([agreement.response.as_str()], config);
            assert_eq!(checked, Ok(agreement.params));
        }
    }
}

/// Runs `data` through a server's decoder with permessage-deflate on: its
/// first byte picks context takeover and window bits and how the rest is
/// split into reads, the rest is frames. Must not panic, and no message may
/// exceed the limit. Then `data` is compressed and must decode back whole.
pub fn deflate_decode(data: &[u8]) {
    use crate::{
        codec::{
            Role,
            decoder::{Decoder, Event},
        },
        deflate::{DeflateConfig, DeflateParams, MessageDeflater},
        error::Side,
    };
    const LIMIT: usize = 4096;
    let Some((&pick, frames)) = data.split_first() else {
        return;
    };
    let params = DeflateParams {
        server_no_context_takeover: pick & 1 != 0,
        client_no_context_takeover: pick & 2 != 0,
        server_max_window_bits: 8 + (pick >> 2 & 7),
        client_max_window_bits: 8 + (pick >> 5 & 7),
    };
    let step = usize::from(pick % 13) + 1;
    let mut decoder = Decoder::with_compression(Role::Server, LIMIT, Some(&params));
    'reads: for piece in frames.chunks(step) {
        let mut input = piece;
        loop {
            match decoder.decode(&mut input) {
                Ok(Some(Event::Message(message))) => assert!(message.len() <= LIMIT),
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => break 'reads,
            }
        }
    }
    // Our own output, as one masked frame, decodes to what went in.
    let payload = &frames[..frames.len().min(LIMIT)];
    let mut deflater = MessageDeflater::new(Side::Client, &params, &DeflateConfig::default());
    let mut compressed = Vec::new();
    deflater.compress(payload, &mut compressed);
    let mut frame = vec![0xC2, 0x80 | 127];
    frame.extend_from_slice(&(compressed.len() as u64).to_be_bytes());
    frame.extend_from_slice(&[0; 4]);
    frame.extend_from_slice(&compressed);
    let mut decoder = Decoder::with_compression(Role::Server, LIMIT, Some(&params));
    let mut input = &frame[..];
    match decoder.decode(&mut input) {
        Ok(Some(Event::Message(message))) => assert_eq!(message.into_payload(), payload),
        other => panic!("our own compressed message decoded as {other:?}"),
    }
}
