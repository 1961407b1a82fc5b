//! Godot's Variant encoding against real Godot 3.2.3 (`godot3-server`): a
//! GDScript sends `put_var` of a table covering every Godot 3 type; wspeer
//! decodes it to the expected value and its own encoding of that value is
//! byte-identical to Godot's; then wspeer sends the value back and Godot
//! checks it decodes equal and matches its own `var2bytes`. Skipped with a loud
//! message when Godot is missing; a failure when `WSPEER_REQUIRE_INTEROP=1`.

#![allow(clippy::unwrap_used)] // test code

use std::path::PathBuf;

use wspeer::{
    TcpServer, WebSocketPeer,
    variant::{Encoding, NodePath, Variant, encode},
};
use wspeer_testkit::godot::{Godot, godot};

fn s(text: &str) -> Variant {
    Variant::from(text)
}

/// The value `variant_client.gd`'s `table()` builds, in its insertion order.
fn table() -> Variant {
    let basis = [1.0, 4.0, 7.0, 2.0, 5.0, 8.0, 3.0, 6.0, 9.0];
    let mut xform = [0.0; 12];
    xform[..9].copy_from_slice(&basis);
    xform[9..].copy_from_slice(&[10.0, 11.0, 12.0]);
    let entries = vec![
        (s("nil"), Variant::Nil),
        (s("t"), Variant::Bool(true)),
        (s("f"), Variant::Bool(false)),
        (s("int"), Variant::Int(42)),
        (s("neg"), Variant::Int(-7)),
        (s("i32_edge"), Variant::Int(2_147_483_648)),
        (s("i64_max"), Variant::Int(i64::MAX)),
        (s("i64_min"), Variant::Int(i64::MIN)),
        (s("real"), Variant::Float(1.5)),
        (s("real64"), Variant::Float(0.1)),
        (s("inf"), Variant::Float(f64::INFINITY)),
        (s("ninf"), Variant::Float(f64::NEG_INFINITY)),
        (s("nan"), Variant::Float(f64::NAN)),
        (s("empty"), s("")),
        (s("utf8"), s("héllo 日本 🎮")),
        (s("v2"), Variant::Vector2([1.0, -2.0])),
        (s("rect"), Variant::Rect2([1.0, 2.0, 3.0, 4.0])),
        (s("v3"), Variant::Vector3([1.0, 2.0, 3.0])),
        (
            s("t2d"),
            Variant::Transform2D([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        ),
        (s("plane"), Variant::Plane([1.0, 2.0, 3.0, 4.0])),
        (s("quat"), Variant::Quaternion([0.5, 0.25, 0.125, 1.0])),
        (s("aabb"), Variant::Aabb([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])),
        (s("basis"), Variant::Basis(basis)),
        (s("xform"), Variant::Transform3D(xform)),
        (s("color"), Variant::Color([0.5, 0.25, 1.0, 0.75])),
        (
            s("path"),
            Variant::NodePath(NodePath::parse("/root/Main:abcd")),
        ),
        (s("rid"), Variant::Rid(0)),
        (Variant::Int(7), s("int key")),
        (
            s("nested"),
            Variant::Array(vec![
                Variant::Int(1),
                Variant::Array(vec![
                    Variant::Int(2),
                    Variant::Dictionary(vec![(s("x"), s("y"))]),
                ]),
                Variant::Array(vec![]),
            ]),
        ),
        (
            s("bytes"),
            Variant::PackedByteArray((0..10_000).map(|i| (i % 256) as u8).collect()),
        ),
        (
            s("ints"),
            Variant::PackedInt32Array(vec![0, -1, i32::MAX, i32::MIN]),
        ),
        (
            s("big_ints"),
            Variant::PackedInt32Array((0..5000).map(|i| i * 3 - 7000).collect()),
        ),
        (
            s("reals"),
            Variant::PackedFloat32Array(vec![1.5, -0.0, f32::INFINITY]),
        ),
        (
            s("strings"),
            Variant::PackedStringArray(vec!["".into(), "a".into(), "héllo".into()]),
        ),
        (
            s("v2s"),
            Variant::PackedVector2Array(vec![[1.0, 2.0], [-3.0, 4.0]]),
        ),
        (s("v3s"), Variant::PackedVector3Array(vec![[1.0, 2.0, 3.0]])),
        (
            s("colors"),
            Variant::PackedColorArray(vec![[1.0, 0.0, 0.0, 1.0]]),
        ),
    ];
    Variant::Dictionary(entries)
}

fn padded_path() -> Variant {
    Variant::NodePath(NodePath::parse("/root/a:b"))
}

#[test]
fn godot3_put_var_and_wspeer_put_var_agree() {
    let Some(godot) = godot("godot3_put_var_and_wspeer_put_var_agree") else {
        return;
    };
    let mut tcp = TcpServer::new();
    tcp.listen(0, "127.0.0.1").unwrap();
    let url = format!("ws://127.0.0.1:{}/", tcp.local_port());
    let project = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/godot");
    let client = Godot::start(
        &godot,
        &project,
        "variant_client.gd",
        &[("WSPEER_URL", url)],
    );
    let mut peer: Option<WebSocketPeer> = None;
    let mut received: Vec<Vec<u8>> = Vec::new();
    let lines = client.finish(|| {
        if let Some(stream) = tcp.take_connection() {
            let mut accepted = WebSocketPeer::new();
            accepted.accept_stream(stream).unwrap();
            peer = Some(accepted);
        }
        let Some(peer) = &mut peer else { return };
        peer.poll();
        while let Ok(packet) = peer.get_packet() {
            received.push(packet.to_vec());
            if received.len() == 2 {
                peer.put_var(&table(), Encoding::Godot3).unwrap();
                peer.put_var(&padded_path(), Encoding::Godot3).unwrap();
            }
        }
    });
    assert_eq!(received.len(), 2, "Godot printed {lines:?}");

    let decoded = wspeer::variant::decode(&received[0], Encoding::Godot3).unwrap();
    // Debug text, so that the NaN entry compares too.
    assert_eq!(format!("{decoded:?}"), format!("{:?}", table()));
    let ours = encode(&table(), Encoding::Godot3).unwrap();
    assert!(
        ours == received[0],
        "wspeer's bytes differ from Godot's ({} vs {} bytes)",
        ours.len(),
        received[0].len()
    );
    assert_eq!(
        wspeer::variant::decode(&received[1], Encoding::Godot3).unwrap(),
        padded_path()
    );

    let keys = table().as_dictionary().unwrap().len();
    let wanted = [
        "connect 0",
        "put_var 0",
        "put_var 0",
        &format!("bytes_identical True {} {}", ours.len(), ours.len()),
        &format!("keys {keys} {keys} mismatches 0"),
        "path_equal True",
        "closed",
    ];
    let seen: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|l| !l.starts_with("Godot Engine"))
        .collect();
    assert_eq!(seen, wanted, "Godot printed {lines:?}");
}
