//! The turn-based "roll" game of Godot's `networking/websocket_multiplayer`
//! demo on `wspeer-multiplayer`: a host and clients with player names, turns
//! passed around the table, and every roll logged to everyone ("Alice: rolls
//! 42"). Godot's demo uses RPCs; this one sends small text messages with
//! `put_packet`, the same way round.
//!
//! Headless, a host and bots in one process (as the demo's `combo` scene runs a
//! host and three clients in one window), for one round:
//!
//! ```text
//! cargo run -p wspeer-examples --example multiplayer_demo
//! cargo run -p wspeer-examples --example multiplayer_demo -- local --bots 3 --rounds 2 --godot3
//! ```
//!
//! Or as separate programs (port 8080, the demo's `DEF_PORT`):
//!
//! ```text
//! cargo run -p wspeer-examples --example multiplayer_demo -- host --players 2 --name Alice
//! cargo run -p wspeer-examples --example multiplayer_demo -- join ws://localhost:8080 --name Bob
//! ```
#![allow(clippy::print_stdout)]

use std::{
    hash::{BuildHasher, RandomState},
    thread,
    time::{Duration, Instant},
};

use wspeer_multiplayer::{Event, MultiplayerConfig, MultiplayerPeer, Protocol};

/// The demo's default port.
const DEF_PORT: u16 = 8080;
/// The actions a player may take (`game.gd`).
const ACTIONS: [&str; 2] = ["roll", "pass"];
/// One frame of the loop.
const FRAME: Duration = Duration::from_millis(2);
/// The most a headless game may take before it gives up.
const GAME_DEADLINE: Duration = Duration::from_secs(30);

/// A player at the table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Player {
    id: i32,
    name: String,
}

/// The table every peer keeps: players in turn order, whose turn it is, and the
/// log (`game.gd`).
#[derive(Debug, Default)]
struct Game {
    players: Vec<Player>,
    turn: usize,
    log: Vec<String>,
}

impl Game {
    fn add_player(&mut self, id: i32, name: &str) {
        if self.players.iter().any(|p| p.id == id) {
            return;
        }
        self.players.push(Player {
            id,
            name: name.to_owned(),
        });
    }

    fn set_name(&mut self, id: i32, name: &str) {
        if let Some(p) = self.players.iter_mut().find(|p| p.id == id) {
            p.name = name.to_owned();
        }
    }

    /// Removes a player; a turn after theirs moves back by one (`del_player`).
    fn del_player(&mut self, id: i32) {
        let Some(pos) = self.players.iter().position(|p| p.id == id) else {
            return;
        };
        self.players.remove(pos);
        if self.turn > pos {
            self.turn -= 1;
        }
        if self.turn >= self.players.len() {
            self.turn = 0;
        }
    }

    fn current(&self) -> Option<&Player> {
        self.players.get(self.turn)
    }

    fn name_of(&self, id: i32) -> String {
        match self.players.iter().find(|p| p.id == id) {
            Some(p) if !p.name.is_empty() => p.name.clone(),
            _ => "... connecting ...".to_owned(),
        }
    }
}

/// The demo's messages: what `game.gd` does with RPCs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Msg {
    /// Client → host: `set_player_name(name)`.
    SetName(String),
    /// Client → host: `request_action(action)`.
    Action(String),
    /// Host → clients: `add_player(id, name)`.
    Add(i32, String),
    /// Host → clients: `update_player_name(id, name)`.
    Name(i32, String),
    /// Host → clients: `del_player(id)`.
    Del(i32),
    /// Host → clients: `set_turn(turn)`.
    Turn(usize),
    /// Host → clients: `_log(text)`.
    Log(String),
}

impl Msg {
    fn encode(&self) -> String {
        match self {
            Msg::SetName(name) => format!("set_name {name}"),
            Msg::Action(action) => format!("action {action}"),
            Msg::Add(id, name) => format!("add {id} {name}"),
            Msg::Name(id, name) => format!("name {id} {name}"),
            Msg::Del(id) => format!("del {id}"),
            Msg::Turn(turn) => format!("turn {turn}"),
            Msg::Log(text) => format!("log {text}"),
        }
    }

    /// Reads a message; `None` for anything malformed (it comes from the
    /// network).
    fn decode(bytes: &[u8]) -> Option<Msg> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (kind, rest) = text.split_once(' ').unwrap_or((text, ""));
        let id_and = |rest: &str| -> Option<(i32, String)> {
            let (id, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            Some((id.parse().ok()?, tail.to_owned()))
        };
        Some(match kind {
            "set_name" => Msg::SetName(rest.to_owned()),
            "action" => Msg::Action(rest.to_owned()),
            "add" => id_and(rest).map(|(id, name)| Msg::Add(id, name))?,
            "name" => id_and(rest).map(|(id, name)| Msg::Name(id, name))?,
            "del" => Msg::Del(rest.parse().ok()?),
            "turn" => Msg::Turn(rest.parse().ok()?),
            "log" => Msg::Log(rest.to_owned()),
            _ => return None,
        })
    }
}

/// Sends `msg` to `target` (an id, 0 for all, `-id` for all but `id`).
fn send(peer: &mut MultiplayerPeer, target: i32, msg: &Msg) {
    peer.set_target_peer(target);
    if let Err(error) = peer.put_packet(msg.encode().as_bytes()) {
        eprintln!("cannot send {msg:?} to {target}: {error}");
    }
}

/// The host: the server, and the authority on the game.
struct Host {
    peer: MultiplayerPeer,
    game: Game,
    /// Players to wait for before the first roll, host included.
    players_wanted: usize,
    /// Rolls (or passes) before the game ends.
    actions_left: usize,
    started: bool,
    over: bool,
    dice: RandomState,
    rolled: u64,
    verbose: bool,
}

impl Host {
    fn new(protocol: Protocol, port: u16, bind: &str, name: &str) -> Result<Self, String> {
        let config = MultiplayerConfig::default().supported_protocols(["ludus"]);
        let mut peer = MultiplayerPeer::with_config(protocol, config);
        peer.create_server(port, bind, None)
            .map_err(|e| format!("Error listening on port {port}: {e}"))?;
        let mut game = Game::default();
        game.add_player(1, name);
        Ok(Self {
            peer,
            game,
            players_wanted: 1,
            actions_left: 0,
            started: false,
            over: false,
            dice: RandomState::new(),
            rolled: 0,
            verbose: true,
        })
    }

    /// Plays `rounds` rounds once `players` (host included) are at the table.
    fn play(&mut self, players: usize, rounds: usize) {
        self.players_wanted = players;
        self.actions_left = players * rounds;
    }

    /// One frame: the network, then the host's own turn.
    fn frame(&mut self) {
        let events: Vec<Event> = self.peer.poll().collect();
        for event in events {
            match event {
                Event::PeerConnected(id) => self.on_peer_add(id),
                Event::PeerDisconnected(id) => self.on_peer_del(id),
                _ => {}
            }
        }
        while let Ok(packet) = self.peer.get_packet_with_peer() {
            match Msg::decode(&packet.data) {
                Some(msg) => self.on_message(packet.from, msg),
                None => eprintln!("ignored a malformed message from {}", packet.from),
            }
        }
        if !self.started
            && self.game.players.len() >= self.players_wanted
            && self.game.players.iter().all(|p| !p.name.is_empty())
        {
            self.started = true;
            self.say(format!(
                "Game starts with {} players",
                self.game.players.len()
            ));
        }
        // Pressing "Do Action!" on the host: only in its own slot.
        if self.started && !self.over && self.game.turn == 0 {
            self.do_action("roll");
            self.next_turn();
        }
    }

    /// A client joined: it learns the table, the players at the table learn
    /// it, it learns whose turn it is. (Not a broadcast, as in `game.gd`: a
    /// client that joined in the same poll is not at the table yet and will get
    /// the whole table, this one included, when its own turn to join comes.)
    fn on_peer_add(&mut self, id: i32) {
        for p in self.game.players.clone() {
            send(&mut self.peer, id, &Msg::Add(p.id, p.name));
            if p.id != 1 {
                send(&mut self.peer, p.id, &Msg::Add(id, String::new()));
            }
        }
        self.game.add_player(id, "");
        send(&mut self.peer, id, &Msg::Add(id, String::new()));
        send(&mut self.peer, id, &Msg::Turn(self.game.turn));
    }

    fn on_peer_del(&mut self, id: i32) {
        if self.verbose {
            println!("Disconnected {id} ({})", self.game.name_of(id));
        }
        self.game.del_player(id);
        send(&mut self.peer, 0, &Msg::Del(id));
        send(&mut self.peer, 0, &Msg::Turn(self.game.turn));
    }

    fn on_message(&mut self, from: i32, msg: Msg) {
        match msg {
            Msg::SetName(name) => {
                self.game.set_name(from, &name);
                send(&mut self.peer, 0, &Msg::Name(from, name));
            }
            Msg::Action(action) => {
                if self.game.current().map(|p| p.id) != Some(from) || !self.started || self.over {
                    self.say(format!("Someone is trying to cheat! {from}"));
                } else if !ACTIONS.contains(&action.as_str()) {
                    self.say(format!("Invalid action: {action}"));
                } else {
                    self.do_action(&action);
                    self.next_turn();
                }
            }
            other => eprintln!("ignored {other:?} from client {from}"),
        }
    }

    /// `do_action`: "<name>: <action>s <0..99>", logged to everyone.
    fn do_action(&mut self, action: &str) {
        let name = self
            .game
            .current()
            .map_or_else(String::new, |p| p.name.clone());
        self.rolled += 1;
        let value = self.dice.hash_one(self.rolled) % 100;
        self.say(format!("{name}: {action}s {value}"));
        self.actions_left = self.actions_left.saturating_sub(1);
        if self.actions_left == 0 {
            self.over = true;
            self.say("Game over".to_owned());
        }
    }

    fn next_turn(&mut self) {
        if self.over || self.game.players.is_empty() {
            return;
        }
        self.game.turn = (self.game.turn + 1) % self.game.players.len();
        send(&mut self.peer, 0, &Msg::Turn(self.game.turn));
    }

    /// `_log.rpc(text)`: to every client; the host keeps its own copy.
    fn say(&mut self, text: String) {
        if self.verbose {
            println!("{text}");
        }
        send(&mut self.peer, 0, &Msg::Log(text.clone()));
        self.game.log.push(text);
    }

    /// The game is over and every client has left.
    fn finished(&self) -> bool {
        self.over && self.peer.peer_ids().is_empty()
    }
}

/// A client that plays by itself: names itself, rolls on its turn, leaves
/// when the game is over.
struct Bot {
    peer: MultiplayerPeer,
    name: String,
    game: Game,
    done: bool,
    verbose: bool,
}

impl Bot {
    fn new(protocol: Protocol, url: &str, name: &str) -> Result<Self, String> {
        let config = MultiplayerConfig::default().supported_protocols(["ludus"]);
        let mut peer = MultiplayerPeer::with_config(protocol, config);
        peer.create_client(url, None)
            .map_err(|e| format!("Error connecting to {url}: {e}"))?;
        Ok(Self {
            peer,
            name: name.to_owned(),
            game: Game::default(),
            done: false,
            verbose: true,
        })
    }

    fn frame(&mut self) {
        let events: Vec<Event> = self.peer.poll().collect();
        for event in events {
            match event {
                Event::ConnectedToServer => {
                    send(&mut self.peer, 1, &Msg::SetName(self.name.clone()));
                }
                Event::ConnectionFailed | Event::ServerDisconnected => {
                    if !self.done {
                        println!("{}: connection closed", self.name);
                    }
                    self.done = true;
                }
                _ => {}
            }
        }
        while let Ok(packet) = self.peer.get_packet_with_peer() {
            // Only the host speaks for the game.
            if packet.from != 1 {
                continue;
            }
            if let Some(msg) = Msg::decode(&packet.data) {
                self.on_message(msg);
            }
        }
    }

    fn on_message(&mut self, msg: Msg) {
        match msg {
            Msg::Add(id, name) => self.game.add_player(id, &name),
            Msg::Name(id, name) => self.game.set_name(id, &name),
            Msg::Del(id) => self.game.del_player(id),
            Msg::Turn(turn) => {
                self.game.turn = turn;
                let mine = self.game.current().map(|p| p.id) == Some(self.peer.unique_id());
                if mine && !self.done {
                    send(&mut self.peer, 1, &Msg::Action("roll".to_owned()));
                }
            }
            Msg::Log(text) => {
                if self.verbose {
                    println!("[{}] {text}", self.name);
                }
                let over = text == "Game over";
                self.game.log.push(text);
                if over {
                    self.done = true;
                    self.peer.close();
                }
            }
            Msg::SetName(_) | Msg::Action(_) => {}
        }
    }
}

/// What a headless game ended with.
#[derive(Debug)]
struct Summary {
    host_log: Vec<String>,
    /// Each bot's name, the name the host knew it by at the end of its log, and
    /// its log.
    bots: Vec<(String, Vec<String>)>,
}

/// A host and `bots` bots in one loop, for `rounds` rounds.
fn run_local(
    protocol: Protocol,
    bots: usize,
    rounds: usize,
    verbose: bool,
) -> Result<Summary, String> {
    const NAMES: [&str; 8] = [
        "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi",
    ];
    let name = |i: usize| {
        NAMES
            .get(i)
            .map_or_else(|| format!("Player{i}"), |n| (*n).to_owned())
    };
    let mut host = Host::new(protocol, 0, "127.0.0.1", &name(0))?;
    host.verbose = verbose;
    host.play(bots + 1, rounds);
    let url = format!("ws://127.0.0.1:{}", host.peer.local_port());
    let mut players = Vec::new();
    for i in 1..=bots {
        let mut bot = Bot::new(protocol, &url, &name(i))?;
        bot.verbose = false;
        players.push(bot);
    }
    let deadline = Instant::now() + GAME_DEADLINE;
    while !(host.finished() && players.iter().all(|b| b.done)) {
        if Instant::now() > deadline {
            return Err(format!(
                "the game did not finish; host log: {:?}",
                host.game.log
            ));
        }
        host.frame();
        for bot in &mut players {
            bot.frame();
        }
        thread::sleep(FRAME);
    }
    Ok(Summary {
        host_log: host.game.log,
        bots: players.into_iter().map(|b| (b.name, b.game.log)).collect(),
    })
}

/// Command-line options.
struct Options {
    mode: String,
    url: String,
    port: u16,
    name: Option<String>,
    bots: usize,
    players: usize,
    rounds: usize,
    protocol: Protocol,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        mode: "local".to_owned(),
        url: format!("ws://localhost:{DEF_PORT}"),
        port: DEF_PORT,
        name: None,
        bots: 3,
        players: 2,
        rounds: 1,
        protocol: Protocol::Godot4,
    };
    let mut args = std::env::args().skip(1);
    let number = |v: Option<String>, what: &str| -> Result<usize, String> {
        v.and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{what} needs a number"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "local" | "host" => options.mode = arg,
            "join" => {
                options.mode = arg;
                if let Some(url) = args.next() {
                    options.url = url;
                }
            }
            "--port" => options.port = number(args.next(), "--port")? as u16,
            "--name" => options.name = args.next(),
            "--bots" => options.bots = number(args.next(), "--bots")?,
            "--players" => options.players = number(args.next(), "--players")?,
            "--rounds" => options.rounds = number(args.next(), "--rounds")?,
            "--godot3" => options.protocol = Protocol::Godot3,
            "--godot4" => options.protocol = Protocol::Godot4,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

fn main() {
    let options = match parse_args() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(2);
        }
    };
    let result = match options.mode.as_str() {
        "host" => host_game(&options),
        "join" => join_game(&options),
        _ => run_local(options.protocol, options.bots, options.rounds, true).map(|summary| {
            for (name, log) in &summary.bots {
                println!(
                    "{name} saw {} of the host's {} log lines",
                    log.len(),
                    summary.host_log.len()
                );
            }
        }),
    };
    if let Err(error) = result {
        eprintln!("{error}");
        std::process::exit(1);
    }
}

fn host_game(options: &Options) -> Result<(), String> {
    let name = options.name.clone().unwrap_or_else(|| "Alice".to_owned());
    let mut host = Host::new(options.protocol, options.port, "*", &name)?;
    host.play(options.players, options.rounds);
    println!(
        "Hosting on port {}; waiting for {} players",
        host.peer.local_port(),
        options.players
    );
    while !host.finished() {
        host.frame();
        thread::sleep(FRAME);
    }
    Ok(())
}

fn join_game(options: &Options) -> Result<(), String> {
    let name = options.name.clone().unwrap_or_else(|| "Bob".to_owned());
    let mut bot = Bot::new(options.protocol, &options.url, &name)?;
    while !bot.done {
        bot.frame();
        thread::sleep(FRAME);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rolls of a whole game: every player in turn order, `rounds` times.
    fn check(summary: &Summary, order: &[&str], rounds: usize) {
        let rolls: Vec<&String> = summary
            .host_log
            .iter()
            .filter(|l| l.contains(": rolls "))
            .collect();
        assert_eq!(rolls.len(), order.len() * rounds, "{:?}", summary.host_log);
        for (i, line) in rolls.iter().enumerate() {
            let (name, value) = line.split_once(": rolls ").unwrap();
            assert_eq!(name, order[i % order.len()]);
            assert!(value.parse::<u8>().unwrap() < 100);
        }
        assert_eq!(
            summary.host_log.last().map(String::as_str),
            Some("Game over")
        );
        // Every client saw every line of the host's log, in order, from the
        // moment it joined (all joined before the first roll).
        let from_start = summary
            .host_log
            .iter()
            .position(|l| l.starts_with("Game starts"))
            .unwrap();
        for (name, log) in &summary.bots {
            assert!(
                log.ends_with(&summary.host_log[from_start..]),
                "{name} saw {log:?}"
            );
        }
    }

    #[test]
    fn a_whole_round_on_godot4() {
        let summary = run_local(Protocol::Godot4, 3, 1, false).unwrap();
        check(&summary, &["Alice", "Bob", "Carol", "Dave"], 1);
    }

    #[test]
    fn two_rounds_on_godot3() {
        let summary = run_local(Protocol::Godot3, 2, 2, false).unwrap();
        check(&summary, &["Alice", "Bob", "Carol"], 2);
    }

    #[test]
    fn messages_round_trip_and_garbage_is_refused() {
        for msg in [
            Msg::SetName("Ann Lee".into()),
            Msg::Action("roll".into()),
            Msg::Add(7, String::new()),
            Msg::Add(-7, "Bo b".into()),
            Msg::Name(9, "Cy".into()),
            Msg::Del(3),
            Msg::Turn(2),
            Msg::Log("Alice: rolls 42".into()),
        ] {
            assert_eq!(Msg::decode(msg.encode().as_bytes()), Some(msg));
        }
        for garbage in [&b""[..], b"turn x", b"add", b"del", b"\xff", b"what 1"] {
            assert_eq!(Msg::decode(garbage), None);
        }
    }

    #[test]
    fn leaving_moves_the_turn_back() {
        let mut game = Game::default();
        for (id, name) in [(1, "A"), (2, "B"), (3, "C")] {
            game.add_player(id, name);
        }
        game.turn = 2;
        game.del_player(2);
        assert_eq!(game.current().map(|p| p.id), Some(3));
        game.del_player(3);
        assert_eq!(game.turn, 0);
        assert_eq!(game.name_of(5), "... connecting ...");
    }
}
