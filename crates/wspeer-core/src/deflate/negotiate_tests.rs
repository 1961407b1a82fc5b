//! Negotiation, table-driven: RFC 7692's examples, malformed and duplicate
//! parameters, every window size, both roles.

use super::{
    negotiate::{client_check, client_offer, server_accept},
    params::DeflateParams,
    settings::DeflateConfig,
};
use crate::error::ExtensionError;

fn params(snct: bool, cnct: bool, sbits: u8, cbits: u8) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: snct,
        client_no_context_takeover: cnct,
        server_max_window_bits: sbits,
        client_max_window_bits: cbits,
    }
}

/// A server that allows context takeover both ways with 15-bit windows, so
/// that the answer shows what the offer asked for.
fn permissive() -> DeflateConfig {
    DeflateConfig::default()
        .send_context_takeover(true)
        .receive_context_takeover(true)
}

#[test]
fn the_server_answers_each_valid_offer() {
    // (offer headers, server settings, expected response, expected params)
    let cases: &[(&[&str], DeflateConfig, &str, DeflateParams)] = &[
        // RFC 7692 §7.1.1 and §7.1.2 examples.
        (
            &["permessage-deflate"],
            permissive(),
            "permessage-deflate",
            params(false, false, 15, 15),
        ),
        (
            &["permessage-deflate; client_max_window_bits"],
            permissive(),
            "permessage-deflate",
            params(false, false, 15, 15),
        ),
        (
            &["permessage-deflate; server_no_context_takeover"],
            permissive(),
            "permessage-deflate; server_no_context_takeover",
            params(true, false, 15, 15),
        ),
        (
            &["permessage-deflate; server_max_window_bits=10"],
            permissive(),
            "permessage-deflate; server_max_window_bits=10",
            params(false, false, 10, 15),
        ),
        // §7.1.2.2: the server limits a client that allowed it.
        (
            &["permessage-deflate; client_max_window_bits"],
            permissive().receive_window_bits(10),
            "permessage-deflate; client_max_window_bits=10",
            params(false, false, 15, 10),
        ),
        (
            &["permessage-deflate; client_max_window_bits=12"],
            permissive().receive_window_bits(10),
            "permessage-deflate; client_max_window_bits=10",
            params(false, false, 15, 10),
        ),
        (
            &["permessage-deflate; client_max_window_bits=9"],
            permissive(),
            "permessage-deflate; client_max_window_bits=9",
            params(false, false, 15, 9),
        ),
        // §7.1.1.2: a server may ask for client_no_context_takeover unasked.
        (
            &["permessage-deflate"],
            DeflateConfig::default(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            params(true, true, 15, 15),
        ),
        // Our own window limit is announced.
        (
            &["permessage-deflate"],
            permissive().send_window_bits(12),
            "permessage-deflate; server_max_window_bits=12",
            params(false, false, 12, 15),
        ),
        // 8 bits is accepted: we then send uncompressed (zlib has no raw 8).
        (
            &["permessage-deflate; server_max_window_bits=8"],
            permissive(),
            "permessage-deflate; server_max_window_bits=8",
            params(false, false, 8, 15),
        ),
        // RFC 7692 §5.2's example: the first offer is declined as malformed
        // for us (an unknown parameter), the second taken.
        (
            &["permessage-deflate; foo=1, permessage-deflate"],
            permissive(),
            "permessage-deflate",
            params(false, false, 15, 15),
        ),
        // Offers across headers, other extensions skipped, quoted values.
        (
            &[
                "x-webkit-deflate-frame",
                "permessage-deflate; server_max_window_bits=\"11\"; client_max_window_bits",
            ],
            permissive(),
            "permessage-deflate; server_max_window_bits=11",
            params(false, false, 11, 15),
        ),
        // Chromium's offer against the defaults.
        (
            &["permessage-deflate; client_max_window_bits"],
            DeflateConfig::default(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            params(true, true, 15, 15),
        ),
    ];
    for (offer, config, response, expected) in cases {
        let agreement = server_accept(offer.iter().copied(), config)
            .unwrap_or_else(|| panic!("{offer:?} declined"));
        assert_eq!(agreement.response, *response, "{offer:?}");
        assert_eq!(agreement.params, *expected, "{offer:?}");
    }
}

#[test]
fn every_window_size_is_read() {
    for bits in 8..=15u8 {
        let offer = format!(
            "permessage-deflate; server_max_window_bits={bits}; client_max_window_bits={bits}"
        );
        let agreement = server_accept([offer.as_str()], &permissive()).expect("accepted");
        assert_eq!(agreement.params, params(false, false, bits, bits));
    }
}

#[test]
fn invalid_offers_are_declined_not_refused() {
    for offer in [
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_max_window_bits=+9",
        "permessage-deflate; server_max_window_bits=a",
        "permessage-deflate; client_max_window_bits=0",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=\"x\"",
        "permessage-deflate; unknown",
        "permessage-deflate; server_max_window_bits=\"1 0\"",
        "permessage-deflate;",
        "permessage-deflate; server_max_window_bits=\"10",
        "deflate-frame",
    ] {
        assert_eq!(server_accept([offer], &permissive()), None, "{offer:?}");
        // The next valid offer is taken (in the next header: an unclosed
        // quote takes the rest of its own).
        let next = [offer, "permessage-deflate"];
        assert!(server_accept(next, &permissive()).is_some(), "{offer:?}");
    }
    assert_eq!(server_accept([], &permissive()), None);
}

#[test]
fn the_clients_offer_says_what_it_allows() {
    let cases = [
        (
            DeflateConfig::default(),
            "permessage-deflate; client_no_context_takeover; server_no_context_takeover; client_max_window_bits",
        ),
        (permissive(), "permessage-deflate; client_max_window_bits"),
        (
            permissive().send_window_bits(10).receive_window_bits(11),
            "permessage-deflate; server_max_window_bits=11; client_max_window_bits=10",
        ),
    ];
    for (config, offer) in cases {
        assert_eq!(client_offer(&config), offer);
        // What we offer, our own server accepts.
        assert!(server_accept([offer], &config).is_some());
    }
}

#[test]
fn the_client_checks_the_answer() {
    let ok: &[(&str, DeflateConfig, DeflateParams)] = &[
        (
            "permessage-deflate",
            permissive(),
            params(false, false, 15, 15),
        ),
        (
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            DeflateConfig::default(),
            params(true, true, 15, 15),
        ),
        (
            "permessage-deflate; client_max_window_bits=9; server_max_window_bits=8",
            permissive(),
            params(false, false, 8, 9),
        ),
        (
            "permessage-deflate; server_max_window_bits=10",
            permissive().receive_window_bits(11),
            params(false, false, 10, 15),
        ),
        (
            "Permessage-Deflate ; client_no_context_takeover",
            permissive().send_window_bits(12),
            params(false, true, 15, 12),
        ),
    ];
    for (answer, config, expected) in ok {
        assert_eq!(
            client_check([*answer], config).as_ref(),
            Ok(expected),
            "{answer:?}"
        );
    }
    use ExtensionError::*;
    let invalid = |name: &str, value: Option<&str>| InvalidValue {
        name: name.into(),
        value: value.map(Into::into),
    };
    let bad: &[(&[&str], DeflateConfig, ExtensionError)] = &[
        (&["x-foo"], permissive(), NotOffered("x-foo".into())),
        (
            &["permessage-deflate, permessage-deflate"],
            permissive(),
            MoreThanOne,
        ),
        (
            &["permessage-deflate", "permessage-deflate"],
            permissive(),
            MoreThanOne,
        ),
        (
            &["permessage-deflate; x=1"],
            permissive(),
            UnknownParameter("x".into()),
        ),
        (
            &["permessage-deflate; server_no_context_takeover; server_no_context_takeover"],
            permissive(),
            DuplicateParameter("server_no_context_takeover".into()),
        ),
        (
            &["permessage-deflate; client_max_window_bits"],
            permissive(),
            invalid("client_max_window_bits", None),
        ),
        (
            &["permessage-deflate; server_max_window_bits=16"],
            permissive(),
            invalid("server_max_window_bits", Some("16")),
        ),
        (
            &["permessage-deflate; client_no_context_takeover=1"],
            permissive(),
            invalid("client_no_context_takeover", Some("1")),
        ),
        (
            &["permessage-deflate"],
            DeflateConfig::default(),
            Missing("server_no_context_takeover"),
        ),
        (
            &["permessage-deflate"],
            permissive().receive_window_bits(10),
            Missing("server_max_window_bits"),
        ),
        (
            &["permessage-deflate; server_max_window_bits=11"],
            permissive().receive_window_bits(10),
            NotAllowed {
                name: "server_max_window_bits".into(),
                value: "11".into(),
            },
        ),
        (
            &["permessage-deflate; client_max_window_bits=13"],
            permissive().send_window_bits(12),
            NotAllowed {
                name: "client_max_window_bits".into(),
                value: "13".into(),
            },
        ),
        (&["permessage-deflate; a=\""], permissive(), Malformed),
        (&[""], permissive(), Malformed),
    ];
    for (answer, config, expected) in bad {
        assert_eq!(
            client_check(answer.iter().copied(), config).as_ref(),
            Err(expected),
            "{answer:?}"
        );
    }
}
