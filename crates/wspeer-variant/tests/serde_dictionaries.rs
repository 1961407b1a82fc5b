//! serde: derived structs travel as Godot Dictionaries with String keys.

use serde::{Deserialize, Serialize};
use wspeer_variant::{Encoding, Variant, decode, encode, from_variant, to_variant};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Kind {
    Walk,
    Jump { height: f32 },
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Player {
    name: String,
    hp: i32,
    pos: (f32, f32),
    tags: Vec<String>,
    guild: Option<String>,
    kind: Kind,
    last: Kind,
}

fn player() -> Player {
    Player {
        name: "Zoé".into(),
        hp: -3,
        pos: (1.5, 2.0),
        tags: vec!["a".into()],
        guild: None,
        kind: Kind::Walk,
        last: Kind::Jump { height: 0.5 },
    }
}

#[test]
fn a_struct_is_a_dictionary_with_string_keys() {
    let v = to_variant(&player()).unwrap();
    assert_eq!(v.get("name"), Some(&Variant::from("Zoé")));
    assert_eq!(v.get("hp"), Some(&Variant::Int(-3)));
    assert_eq!(v.get("guild"), Some(&Variant::Nil));
    assert_eq!(v.get("kind"), Some(&Variant::from("Walk")));
    assert_eq!(
        v.get("last"),
        Some(&Variant::Dictionary(vec![(
            Variant::from("Jump"),
            Variant::Dictionary(vec![(Variant::from("height"), Variant::Float(0.5))])
        )]))
    );
    let keys: Vec<&str> = v
        .as_dictionary()
        .unwrap()
        .iter()
        .filter_map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(keys, ["name", "hp", "pos", "tags", "guild", "kind", "last"]);
}

#[test]
fn structs_travel_both_ways_in_both_generations() {
    for enc in [Encoding::Godot3, Encoding::Godot4] {
        let bytes = encode(&to_variant(&player()).unwrap(), enc).unwrap();
        let back: Player = from_variant(decode(&bytes, enc).unwrap()).unwrap();
        assert_eq!(back, player());
    }
}

#[test]
fn godot_values_fill_rust_types() {
    // A Vector2 fills a pair, a PackedStringArray a Vec<String>, an int a float.
    let v = Variant::Dictionary(vec![
        (Variant::from("name"), Variant::from("x")),
        (Variant::from("hp"), Variant::Int(1)),
        (Variant::from("pos"), Variant::Vector2([3.0, 4.0])),
        (
            Variant::from("tags"),
            Variant::PackedStringArray(vec!["t".into()]),
        ),
        (Variant::from("guild"), Variant::from("g")),
        (Variant::from("kind"), Variant::from("Walk")),
        (
            Variant::from("last"),
            Variant::Dictionary(vec![(
                Variant::from("Jump"),
                Variant::Dictionary(vec![(Variant::from("height"), Variant::Int(2))]),
            )]),
        ),
    ]);
    let p: Player = from_variant(v).unwrap();
    assert_eq!(p.pos, (3.0, 4.0));
    assert_eq!(p.guild.as_deref(), Some("g"));
    assert_eq!(p.last, Kind::Jump { height: 2.0 });
    let err = from_variant::<Player>(Variant::Int(1)).unwrap_err();
    assert!(err.to_string().contains("struct Player"), "{err}");
}
