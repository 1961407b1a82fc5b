//! The chat commands: `/nick NAME`, `/join ROOM`, `/who`, and for moderators
//! `/kick NAME`, `/mute NAME MINUTES`. Anything else is a
//! message, so a demo client that never types a command sees the demo's protocol.

/// A command a client typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// `/nick NAME`: be shown as `[NAME]` instead of `[id]`.
    Nick(&'a str),
    /// `/join ROOM`: move to another room.
    Join(&'a str),
    /// `/who`: list the room's members.
    Who,
    /// `/kick NAME` (moderators): close NAME's connections.
    Kick(&'a str),
    /// `/mute NAME MINUTES` (moderators): NAME's lines are refused meanwhile.
    Mute(&'a str, &'a str),
    /// `/help`, or a command that does not exist.
    Help,
}

/// The help text sent for `/help` and unknown commands.
pub const HELP: &str = "Commands: /nick NAME, /join ROOM, /who";

/// The command in `text`, or `None` for an ordinary message.
pub fn parse(text: &str) -> Option<Command<'_>> {
    let rest = text.strip_prefix('/')?;
    let (name, argument) = match rest.split_once(char::is_whitespace) {
        Some((name, argument)) => (name, argument.trim()),
        None => (rest, ""),
    };
    Some(match name {
        "nick" => Command::Nick(argument),
        "join" => Command::Join(argument),
        "who" => Command::Who,
        "kick" => Command::Kick(argument),
        "mute" => {
            let (who, minutes) = argument
                .split_once(char::is_whitespace)
                .unwrap_or((argument, ""));
            Command::Mute(who, minutes.trim())
        }
        _ => Command::Help,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_messages() {
        assert_eq!(parse("/nick  Alice "), Some(Command::Nick("Alice")));
        assert_eq!(parse("/join games"), Some(Command::Join("games")));
        assert_eq!(parse("/who"), Some(Command::Who));
        assert_eq!(parse("/kick bob"), Some(Command::Kick("bob")));
        assert_eq!(parse("/mute bob  5"), Some(Command::Mute("bob", "5")));
        assert_eq!(parse("/dance"), Some(Command::Help));
        assert_eq!(parse("hello /nick x"), None);
        assert_eq!(parse(""), None);
    }
}
