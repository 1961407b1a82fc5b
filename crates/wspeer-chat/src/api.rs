//! The HTTP API on the chat port, for the application around the chat: post a
//! line into a room (as the server or as a named bot), list rooms and their
//! members, kick and mute. JSON in and out; every request carries
//! `Authorization: Bearer TOKEN`, the token given with `--api-token FILE`.
//!
//! | request | body | answer |
//! | --- | --- | --- |
//! | `GET /rooms` | | `{"rooms":[{"name","count"}]}` |
//! | `GET /rooms/{room}` | | `{"name","count","members":[…]}` |
//! | `POST /rooms/{room}/messages` | `{"text", "as"?}` | 202 `{"room","text"}` |
//! | `POST /rooms/{room}/kick` | `{"name"}` | `{"result"}` |
//! | `POST /rooms/{room}/mute` | `{"name","minutes"}` | `{"result"}` |
//!
//! Errors are `{"error": why}` with 400 (bad JSON, name or room), 401 (no or
//! wrong token), 404 (no such room or member, or the API is off), 405, 411
//! and 413 (the body: chunked, or over [`MAX_BODY`]).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use wspeer_core::{HttpRequest, HttpResponse};

use crate::{clean::clean_line, config::DEFAULT_ROOM, http::ChatHttp, joining::check_room};

/// Largest request body the API reads.
pub const MAX_BODY: usize = 16 * 1024;

/// The name moderation through the API is done in.
const API_MODERATOR: &str = "Server";

/// The API's bearer token.
#[derive(Clone)]
pub struct ApiToken(Vec<u8>);

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(..)")
    }
}

impl ApiToken {
    /// `token` (at least 16 bytes: a guessable token guards nothing).
    pub fn new(token: &[u8]) -> Result<Self, String> {
        if token.len() < 16 || token.iter().any(|b| !b.is_ascii_graphic()) {
            return Err("the API token must be at least 16 printable ASCII characters".into());
        }
        Ok(Self(token.to_vec()))
    }

    /// The token in `path`, a trailing newline aside.
    pub fn from_file(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read(path)
            .map_err(|e| format!("cannot read the API token {}: {e}", path.display()))?;
        Self::new(text.trim_ascii())
    }

    /// Whether `request` carries this token (compared in constant time).
    fn admits(&self, request: &HttpRequest) -> bool {
        let given = request
            .header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("")
            .trim();
        bool::from(given.as_bytes().ct_eq(&self.0))
    }
}

fn reply(status: u16, body: Value) -> HttpResponse {
    HttpResponse::new(status, "application/json", body.to_string())
}

fn error(status: u16, why: impl Into<String>) -> HttpResponse {
    reply(status, json!({ "error": why.into() }))
}

fn only(method: &str) -> HttpResponse {
    error(405, format!("only {method} here")).header("Allow", method)
}

/// The JSON body of `request` as `T`, or a 400 saying why not.
fn body<T: for<'de> Deserialize<'de>>(request: &HttpRequest) -> Result<T, HttpResponse> {
    serde_json::from_slice(&request.body).map_err(|e| error(400, format!("invalid JSON body: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Post {
    text: String,
    #[serde(rename = "as")]
    bot: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Target {
    name: String,
    minutes: Option<u64>,
}

impl ChatHttp {
    /// The answer to an API request (`/rooms…`); `None` for any other path.
    pub(crate) fn api(&self, request: &HttpRequest) -> Option<HttpResponse> {
        let path = request.path_only();
        let rest = path.strip_prefix("/rooms")?;
        if !rest.is_empty() && !rest.starts_with('/') {
            return None;
        }
        let Some(token) = &self.config.api_token else {
            return Some(error(
                404,
                "the API is off (start the server with --api-token FILE)",
            ));
        };
        if !token.admits(request) {
            return Some(
                error(401, "a valid Authorization: Bearer token is required")
                    .header("WWW-Authenticate", "Bearer"),
            );
        }
        let segments: Vec<&str> = rest.split('/').skip(1).collect();
        Some(match segments.as_slice() {
            [] | [""] => self.rooms(request),
            [room] => self.with_room(room, |room| self.room(request, room)),
            [room, "messages"] => self.with_room(room, |room| self.post(request, room)),
            [room, act @ ("kick" | "mute")] => {
                self.with_room(room, |room| self.moderate(request, room, act))
            }
            _ => error(404, "no such API path"),
        })
    }

    fn with_room(&self, raw: &str, then: impl FnOnce(&str) -> HttpResponse) -> HttpResponse {
        let room = match percent_encoding::percent_decode_str(raw).decode_utf8() {
            Ok(room) => room,
            Err(_) => return error(400, "the room is not UTF-8"),
        };
        match check_room(&room) {
            Ok(()) => then(&room),
            Err(why) => error(400, why),
        }
    }

    /// The rooms with members on any server.
    fn counts(&self) -> BTreeMap<String, Vec<String>> {
        let mut rooms: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (room, names) in self.hub.local_rooms() {
            rooms.entry(room).or_default().extend(names);
        }
        if let Some(cluster) = &self.cluster {
            for (room, names) in cluster.remote_rooms() {
                rooms.entry(room).or_default().extend(names);
            }
        }
        rooms
    }

    fn rooms(&self, request: &HttpRequest) -> HttpResponse {
        if request.method != "GET" {
            return only("GET");
        }
        let rooms: Vec<Value> = self
            .counts()
            .into_iter()
            .map(|(name, names)| json!({ "name": name, "count": names.len() }))
            .collect();
        reply(200, json!({ "rooms": rooms }))
    }

    fn members(&self, room: &str) -> Option<Vec<String>> {
        let names = self.hub.members_of(room);
        (!names.is_empty() || room == DEFAULT_ROOM).then_some(names)
    }

    fn room(&self, request: &HttpRequest, room: &str) -> HttpResponse {
        if request.method != "GET" {
            return only("GET");
        }
        match self.members(room) {
            Some(names) => reply(
                200,
                json!({ "name": room, "count": names.len(), "members": names }),
            ),
            None => error(404, format!("no room {room}")),
        }
    }

    fn post(&self, request: &HttpRequest, room: &str) -> HttpResponse {
        if request.method != "POST" {
            return only("POST");
        }
        let post: Post = match body(request) {
            Ok(post) => post,
            Err(response) => return response,
        };
        if post.text.trim().is_empty() {
            return error(400, "the text is empty");
        }
        if post.text.len() > self.config.max_message_size {
            return error(
                400,
                format!("the text is over {} bytes", self.config.max_message_size),
            );
        }
        if let Some(bot) = &post.bot
            && let Err(why) = crate::nick::check(bot)
        {
            return error(400, format!("invalid bot name: {why}"));
        }
        if self.members(room).is_none() {
            return error(404, format!("no room {room}"));
        }
        let text = clean_line(&post.text);
        let line = match &post.bot {
            Some(bot) => format!("[{bot}] Says: {text}"),
            None => format!("Server says: {text}"),
        };
        self.hub.post(room, line.clone());
        reply(202, json!({ "room": room, "text": line }))
    }

    fn moderate(&self, request: &HttpRequest, room: &str, act: &str) -> HttpResponse {
        if request.method != "POST" {
            return only("POST");
        }
        let target: Target = match body(request) {
            Ok(target) => target,
            Err(response) => return response,
        };
        let done = match (act, target.minutes) {
            ("kick", None) => self.hub.kick_as(API_MODERATOR, &target.name, Some(room)),
            ("mute", Some(minutes)) => {
                match self
                    .hub
                    .mute_as(API_MODERATOR, &target.name, minutes, Some(room))
                {
                    Err(why) if why.starts_with("at most") => return error(400, why),
                    other => other,
                }
            }
            ("kick", Some(_)) => return error(400, "a kick takes no minutes"),
            _ => return error(400, "a mute takes minutes"),
        };
        match done {
            Ok(result) => reply(200, json!({ "result": result })),
            Err(why) => error(404, why),
        }
    }
}
