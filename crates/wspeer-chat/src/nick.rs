//! Which nicknames a client may take: names that cannot pass for the server,
//! for an id, or for another member.
//!
//! The rule (documented in `docs/chat.md`):
//! - 1 to 32 characters, each a letter or digit allowed in identifiers by
//!   Unicode's General Security Profile (UTS #39), or `-`, `_`, `.`; so no
//!   space, control, format or symbol character;
//! - at most "highly restrictive" script mixing (UTS #39): one script, or
//!   Latin with the Han/Japanese/Korean combinations; `раypal` with a Cyrillic
//!   `р` and `а` is refused;
//! - not made only of characters that look like digits (`l0O1` could pass for
//!   an id, which is how the demo names clients);
//! - not confusable with a reserved name ([`RESERVED`]) or with a name in use:
//!   two names are confusable when their UTS #39 skeletons are equal, case
//!   aside ([`Keys`]), so `AIice` (capital i), `alice` and `ALICE` all clash
//!   with `Alice`.

use std::collections::HashMap;

use unicode_security::{
    GeneralSecurityProfile, RestrictionLevel, RestrictionLevelDetection, skeleton,
};

/// Longest nickname, in characters.
pub const MAX_CHARS: usize = 32;

/// Names the server speaks as or that claim authority; no client takes them or
/// anything confusable with them.
pub const RESERVED: &[&str] = &[
    "Server",
    "System",
    "Admin",
    "Administrator",
    "Moderator",
    "Mod",
    "Root",
    "wspeer",
    "wspeer-chat",
];

/// What a name is compared by: its UTS #39 skeleton with case folded before
/// and after (`ALICE` is `Alice` only when folded first, `AIice` only when
/// folded after: `I` and `l` look alike only in mixed case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys([String; 2]);

impl Keys {
    /// The keys of `name`.
    pub fn of(name: &str) -> Self {
        let folded_first: String = skeleton(&name.to_lowercase()).collect();
        let once: String = skeleton(name).collect();
        let folded_after: String = skeleton(&once.to_lowercase()).collect();
        Self([folded_first, folded_after])
    }

    /// Whether the two names could be taken for one another.
    pub fn clash(&self, other: &Self) -> bool {
        self.0[0] == other.0[0] || self.0[1] == other.0[1]
    }
}

/// The names in use, found by their [`Keys`]: a clash is two lookups, not a
/// skeleton computed for every member (which would let a stream of `/nick`
/// commands cost the server work in proportion to its members).
#[derive(Debug)]
pub struct NameIndex<T> {
    by_key: HashMap<(usize, String), (T, String)>,
}

impl<T> Default for NameIndex<T> {
    fn default() -> Self {
        Self {
            by_key: HashMap::new(),
        }
    }
}

impl<T: Clone + PartialEq> NameIndex<T> {
    /// Records that `owner` goes by `name`.
    pub fn insert(&mut self, owner: T, name: &str) {
        let Keys(keys) = Keys::of(name);
        for (kind, key) in keys.into_iter().enumerate() {
            self.by_key
                .insert((kind, key), (owner.clone(), name.to_owned()));
        }
    }

    /// Forgets `name` (as `owner`'s).
    pub fn remove(&mut self, owner: &T, name: &str) {
        let Keys(keys) = Keys::of(name);
        for (kind, key) in keys.into_iter().enumerate() {
            let entry = (kind, key);
            if self.by_key.get(&entry).is_some_and(|(o, _)| o == owner) {
                self.by_key.remove(&entry);
            }
        }
    }

    /// The name in use, by someone other than `except`, that `keys` clash with.
    pub fn clash(&self, keys: &Keys, except: Option<&T>) -> Option<&str> {
        keys.0.iter().enumerate().find_map(|(kind, key)| {
            self.by_key
                .get(&(kind, key.clone()))
                .filter(|(owner, _)| Some(owner) != except)
                .map(|(_, name)| name.as_str())
        })
    }

    /// Forgets every name.
    pub fn clear(&mut self) {
        self.by_key.clear();
    }
}

/// Whether names `a` and `b` could be taken for one another.
pub fn confusable(a: &str, b: &str) -> bool {
    Keys::of(a).clash(&Keys::of(b))
}

/// Whether `name` may be taken, apart from whether it is in use; `Err` says why.
pub fn check(name: &str) -> Result<(), String> {
    let count = name.chars().count();
    if count == 0 || count > MAX_CHARS {
        return Err(format!(
            "Invalid nickname: 1-{MAX_CHARS} letters, digits, '-', '_' or '.'"
        ));
    }
    if !name
        .chars()
        .all(|c| "-_.".contains(c) || (c.is_alphanumeric() && c.identifier_allowed()))
    {
        return Err(format!(
            "Invalid nickname {:?}: only letters, digits, '-', '_' or '.'",
            crate::clean::clean_line(name)
        ));
    }
    if !name.check_restriction_level(RestrictionLevel::HighlyRestrictive) {
        return Err(format!("Invalid nickname {name:?}: it mixes scripts"));
    }
    if name.chars().all(looks_like_a_digit) {
        return Err(format!(
            "Invalid nickname {name:?}: it could be mistaken for an id"
        ));
    }
    let keys = Keys::of(name);
    if let Some(reserved) = RESERVED.iter().find(|r| keys.clash(&Keys::of(r))) {
        return Err(format!(
            "Nickname {name} is reserved (it looks like {reserved})"
        ));
    }
    Ok(())
}

fn looks_like_a_digit(c: char) -> bool {
    let mut buf = [0u8; 4];
    let own = Keys::of(c.encode_utf8(&mut buf));
    c.is_ascii_digit() || ('0'..='9').any(|d| Keys::of(d.encode_utf8(&mut buf)).clash(&own))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass() {
        for name in [
            "Alice",
            "bob_2",
            "dr.who",
            "Zoë",
            "李小龍",
            "Мария",
            "ひなた",
            "a-b",
        ] {
            assert_eq!(check(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn controls_spaces_and_symbols_are_refused() {
        for name in [
            "",
            "a b",
            "a\nb",
            "a\u{202E}b",
            "a\u{200B}b",
            "a:b",
            "[x]",
            "💀",
        ] {
            assert!(check(name).is_err(), "{name:?}");
        }
        assert!(check(&"x".repeat(33)).is_err());
        assert!(check(&"é".repeat(32)).is_ok());
    }

    #[test]
    fn reserved_names_and_their_look_alikes_are_refused() {
        for name in [
            "Server",
            "server",
            "SERVER",
            "Ѕerver",
            "Serνer",
            "Admin",
            "wspeer-chat",
        ] {
            assert!(check(name).is_err(), "{name}");
        }
    }

    #[test]
    fn mixed_scripts_and_id_look_alikes_are_refused() {
        // Cyrillic р and а among Latin letters.
        assert!(check("\u{440}\u{430}ypal").is_err());
        for name in ["123", "l0O1", "1O0", "0"] {
            assert!(check(name).is_err(), "{name}");
        }
        assert!(check("l33t").is_ok());
    }

    #[test]
    fn the_index_finds_confusables_of_names_in_use() {
        let mut index = NameIndex::default();
        index.insert(1, "Alice");
        index.insert(2, "bob");
        for look_alike in ["alice", "ALICE", "AIice"] {
            assert_eq!(index.clash(&Keys::of(look_alike), None), Some("Alice"));
        }
        assert_eq!(
            index.clash(&Keys::of("Alice"), Some(&1)),
            None,
            "one's own name"
        );
        assert_eq!(index.clash(&Keys::of("carol"), None), None);
        index.remove(&1, "Alice");
        assert_eq!(index.clash(&Keys::of("alice"), None), None);
        assert_eq!(index.clash(&Keys::of("BOB"), None), Some("bob"));
    }

    #[test]
    fn confusable_names_clash() {
        for look_alike in ["alice", "AIice", "ALICE", "A\u{13DE}ice", "Al\u{456}ce"] {
            assert!(confusable("Alice", look_alike), "{look_alike}");
        }
        assert!(confusable("rn", "m"));
        assert!(!confusable("Alice", "Alicia"));
        assert!(!confusable("Bob", "Rob"));
    }
}
