//! Godot's Variant encoding through the multiplayer peer, against real Godot
//! 3.2.3 (`godot3-server`): a Godot client (multiplayer API on) sends
//! `put_var` of a table covering every Godot 3 type to a wspeer server with
//! `Protocol::Godot3`; `get_var` decodes it, wspeer's own encoding of the
//! decoded value is byte-identical to Godot's, and `put_var` sends it back,
//! where Godot finds it byte-identical to its own `var2bytes`.

use crate::support::godot::start;
use wspeer_multiplayer::{Event, MultiplayerConfig, MultiplayerPeer, Protocol};
use wspeer_testkit::godot::godot;
use wspeer_variant::{Encoding, Variant, encode};

#[test]
fn godot3_put_var_through_the_multiplayer_peer() {
    let Some(godot) = godot("godot3_put_var_through_the_multiplayer_peer") else {
        return;
    };
    let config = MultiplayerConfig::default().supported_protocols(["ludus"]);
    let mut host = MultiplayerPeer::with_config(Protocol::Godot3, config);
    host.create_server(0, "127.0.0.1", None).expect("listen");
    let url = format!("ws://127.0.0.1:{}/", host.local_port());
    let client = start(&godot, "mp_variant_client.gd", &[("WSPEER_URL", url)]);
    let mut got: Vec<(i32, Variant)> = Vec::new();
    let mut events = Vec::new();
    let lines = client.finish(|| {
        events.extend(host.poll());
        while host.available_packet_count() > 0 {
            let from = host.packet_peer().expect("a packet");
            let value = host.get_var().expect("a Variant from Godot");
            host.set_target_peer(from);
            host.put_var(&value).expect("put_var");
            got.push((from, value));
        }
    });
    let Some(Event::PeerConnected(id)) = events.first().cloned() else {
        panic!("no peer joined: {events:?}; Godot printed {lines:?}");
    };
    assert_eq!(got.len(), 2, "Godot printed {lines:?}");
    assert!(got.iter().all(|(from, _)| *from == id));
    let Variant::Dictionary(entries) = &got[0].1 else {
        panic!("not a Dictionary: {:?}", got[0].1);
    };
    assert_eq!(entries.len(), 37);
    assert_eq!(String::try_from(got[1].1.clone()).unwrap(), "/root/a:b");
    // Godot's own bytes for the table, as var2bytes wrote them, are what
    // wspeer writes for the decoded value.
    let ours = encode(&got[0].1, Encoding::Godot3).unwrap();
    let seen: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|l| !l.starts_with("Godot Engine"))
        .collect();
    assert_eq!(
        seen,
        [
            "connect 0",
            "put_var 0",
            "put_var 0",
            "bytes_identical 1 True",
            "path_equal 1 True",
            "connection_failed",
        ],
        "Godot printed {lines:?} ({} bytes of ours)",
        ours.len()
    );
}
