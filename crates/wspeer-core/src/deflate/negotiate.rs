//! RFC 7692 §7: the offers a server reads and the one it accepts, the offer a
//! client makes and its check of the server's answer.

use super::{
    header_syntax::{Extension, parse_list},
    params::DeflateParams,
    settings::DeflateConfig,
};
use crate::error::ExtensionError;

/// The extension's name in the header.
pub(crate) const NAME: &str = "permessage-deflate";

/// `client_max_window_bits` in an offer: absent, bare (the client accepts a
/// limit), or a limit the client sets itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientBits {
    Absent,
    Bare,
    Limit(u8),
}

/// A well-formed permessage-deflate offer (RFC 7692 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Offer {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: ClientBits,
}

/// What a server agreed to, and the header value that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Agreement {
    pub(crate) params: DeflateParams,
    /// The value of the response's `Sec-WebSocket-Extensions`.
    pub(crate) response: String,
}

/// Server: the first valid permessage-deflate offer among every value of the
/// request's `Sec-WebSocket-Extensions`, answered according to `config`; `None`
/// when there is none (the connection goes uncompressed). An offer with an
/// unknown, duplicate or ill-valued parameter is declined (§7), and the next
/// one considered; every valid offer can be honoured.
pub(crate) fn server_accept<'a>(
    values: impl IntoIterator<Item = &'a str>,
    config: &DeflateConfig,
) -> Option<Agreement> {
    parse_list(values)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|ext| ext.name.eq_ignore_ascii_case(NAME))
        .find_map(|ext| parse_offer(&ext))
        .map(|offer| answer(offer, config))
}

fn parse_offer(ext: &Extension) -> Option<Offer> {
    let mut offer = Offer {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: None,
        client_max_window_bits: ClientBits::Absent,
    };
    let mut seen = Seen::default();
    for (name, value) in &ext.params {
        seen.first(name).ok()?;
        match (name.as_str(), value.as_deref()) {
            ("server_no_context_takeover", None) => offer.server_no_context_takeover = true,
            ("client_no_context_takeover", None) => offer.client_no_context_takeover = true,
            ("server_max_window_bits", Some(v)) => offer.server_max_window_bits = Some(bits(v)?),
            ("client_max_window_bits", None) => offer.client_max_window_bits = ClientBits::Bare,
            ("client_max_window_bits", Some(v)) => {
                offer.client_max_window_bits = ClientBits::Limit(bits(v)?);
            }
            _ => return None,
        }
    }
    Some(offer)
}

/// The server's answer to `offer`. Context takeover is refused in each
/// direction `config` does not allow it (a server may always add
/// `client_no_context_takeover`, §7.1.1.2); window limits are the smaller of
/// the offer's and ours.
fn answer(offer: Offer, config: &DeflateConfig) -> Agreement {
    let server_no_context_takeover =
        offer.server_no_context_takeover || !config.send_context_takeover;
    let client_no_context_takeover =
        offer.client_no_context_takeover || !config.receive_context_takeover;
    let server_max_window_bits = offer
        .server_max_window_bits
        .unwrap_or(15)
        .min(config.send_window_bits);
    // A limit on the client only saves memory when we keep its context.
    let ours = if client_no_context_takeover {
        15
    } else {
        config.receive_window_bits
    };
    let client_max_window_bits = match offer.client_max_window_bits {
        ClientBits::Absent => None,
        ClientBits::Bare => (ours < 15).then_some(ours),
        ClientBits::Limit(limit) => Some(limit.min(ours)),
    };
    let mut response = String::from(NAME);
    if server_no_context_takeover {
        response.push_str("; server_no_context_takeover");
    }
    if client_no_context_takeover {
        response.push_str("; client_no_context_takeover");
    }
    if offer.server_max_window_bits.is_some() || server_max_window_bits < 15 {
        response.push_str(&format!(
            "; server_max_window_bits={server_max_window_bits}"
        ));
    }
    if let Some(bits) = client_max_window_bits {
        response.push_str(&format!("; client_max_window_bits={bits}"));
    }
    Agreement {
        params: DeflateParams {
            server_no_context_takeover,
            client_no_context_takeover,
            server_max_window_bits,
            client_max_window_bits: client_max_window_bits.unwrap_or(15),
        },
        response,
    }
}

/// Client: the value of the request's `Sec-WebSocket-Extensions`. We always
/// offer a bare or valued `client_max_window_bits`, so that a server that
/// wants a smaller window from us can say so rather than decline.
pub(crate) fn client_offer(config: &DeflateConfig) -> String {
    let mut offer = String::from(NAME);
    if !config.send_context_takeover {
        offer.push_str("; client_no_context_takeover");
    }
    if !config.receive_context_takeover {
        offer.push_str("; server_no_context_takeover");
    }
    if config.receive_window_bits < 15 && config.receive_context_takeover {
        offer.push_str(&format!(
            "; server_max_window_bits={}",
            config.receive_window_bits
        ));
    }
    match config.send_window_bits {
        15 => offer.push_str("; client_max_window_bits"),
        bits => offer.push_str(&format!("; client_max_window_bits={bits}")),
    }
    offer
}

/// Client: checks the server's answer to [`client_offer`] (every value of the
/// response's `Sec-WebSocket-Extensions`) and returns what was agreed.
pub(crate) fn client_check<'a>(
    values: impl IntoIterator<Item = &'a str>,
    config: &DeflateConfig,
) -> Result<DeflateParams, ExtensionError> {
    let mut accepted = parse_list(values).into_iter();
    let ext = match (accepted.next(), accepted.next()) {
        (None, _) => return Err(ExtensionError::Malformed),
        (Some(Err(_)), _) => return Err(ExtensionError::Malformed),
        (Some(Ok(ext)), None) if ext.name.eq_ignore_ascii_case(NAME) => ext,
        (Some(Ok(ext)), None) => return Err(ExtensionError::NotOffered(ext.name)),
        (Some(_), Some(_)) => return Err(ExtensionError::MoreThanOne),
    };
    let asked_server_no_context_takeover = !config.receive_context_takeover;
    let asked_server_bits = (config.receive_window_bits < 15 && config.receive_context_takeover)
        .then_some(config.receive_window_bits);
    let mut params = DeflateParams {
        client_max_window_bits: config.send_window_bits,
        ..DeflateParams::default()
    };
    let mut server_bits = None;
    let mut seen = Seen::default();
    for (name, value) in &ext.params {
        seen.first(name)?;
        let invalid = || ExtensionError::InvalidValue {
            name: name.clone(),
            value: value.clone(),
        };
        match (name.as_str(), value.as_deref()) {
            ("server_no_context_takeover", None) => params.server_no_context_takeover = true,
            ("client_no_context_takeover", None) => params.client_no_context_takeover = true,
            ("server_max_window_bits", Some(v)) => server_bits = Some(bits(v).ok_or_else(invalid)?),
            ("client_max_window_bits", Some(v)) => {
                let bits = bits(v).ok_or_else(invalid)?;
                if bits > config.send_window_bits {
                    return Err(ExtensionError::NotAllowed {
                        name: name.clone(),
                        value: v.to_owned(),
                    });
                }
                params.client_max_window_bits = bits;
            }
            (
                "server_no_context_takeover"
                | "client_no_context_takeover"
                | "server_max_window_bits"
                | "client_max_window_bits",
                _,
            ) => return Err(invalid()),
            _ => return Err(ExtensionError::UnknownParameter(name.clone())),
        }
    }
    if asked_server_no_context_takeover && !params.server_no_context_takeover {
        return Err(ExtensionError::Missing("server_no_context_takeover"));
    }
    match (asked_server_bits, server_bits) {
        (Some(_), None) => return Err(ExtensionError::Missing("server_max_window_bits")),
        (Some(asked), Some(got)) if got > asked => {
            return Err(ExtensionError::NotAllowed {
                name: "server_max_window_bits".into(),
                value: got.to_string(),
            });
        }
        _ => {}
    }
    params.server_max_window_bits = server_bits.unwrap_or(15);
    Ok(params)
}

/// The parameter names met so far in one element (there are only four).
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    fn first(&mut self, name: &str) -> Result<(), ExtensionError> {
        if self.0.iter().any(|n| n == name) {
            return Err(ExtensionError::DuplicateParameter(name.to_owned()));
        }
        self.0.push(name.to_owned());
        Ok(())
    }
}

/// A window-bits value: `8` to `15`, in plain decimal (no sign, no leading
/// zero, as RFC 7692 §7.1.2.1's `1*DIGIT` in that range is usually read).
fn bits(value: &str) -> Option<u8> {
    let valid = matches!(value.as_bytes(), [b'8'..=b'9'] | [b'1', b'0'..=b'5']);
    valid.then(|| value.parse().ok()).flatten()
}
