//! One client, from its first message to its last.

use std::{sync::Arc, sync::atomic::Ordering::Relaxed, time::Instant};

use tracing::{info, warn};
use wspeer_core::WebSocket;

use crate::{
    auth::token_in,
    command::{self, Command, HELP},
    config::{CLOSE_RATE_LIMITED, CLOSE_TEXT_ONLY, ChatConfig},
    hub::Hub,
    metrics::Metrics,
    rate::RateLimit,
};

/// Serves one connected client until it leaves or is closed.
pub(crate) async fn serve(
    mut ws: WebSocket,
    hub: Arc<Hub>,
    config: Arc<ChatConfig>,
    metrics: Arc<Metrics>,
) {
    // The token was checked before the upgrade; this reads its identity (a
    // cookie's came as the admission's note).
    let info = ws.info();
    let token = token_in(&info.requested_url).or(info.admitted.as_deref());
    let identity = config
        .auth
        .as_ref()
        .zip(token)
        .map(|(auth, token)| auth.verify(token));
    let identity = match identity {
        Some(Ok(identity)) => Some(identity),
        Some(Err(why)) => {
            let _ = ws.close(CLOSE_RATE_LIMITED, &why);
            return;
        }
        None => None,
    };
    // Checked before the upgrade too (HTTP 400): this cannot fail here.
    let joining = match crate::joining::parse(&ws.info().requested_url) {
        Ok(joining) => joining,
        Err(why) => {
            let _ = ws.close(CLOSE_RATE_LIMITED, &why);
            return;
        }
    };
    let id = hub.join_with(ws.sender(), identity, joining);
    info!(id, peer = ?ws.peer_addr(), "client connected");
    let mut rate = RateLimit::new(config.rate_per_second, config.rate_burst);
    while let Some(message) = ws.recv().await {
        Metrics::inc(&metrics.messages_in);
        metrics.bytes_in.fetch_add(message.len() as u64, Relaxed);
        let Some(text) = message.as_text() else {
            warn!(id, "binary message; closing (the chat is text only)");
            let _ = ws.close(CLOSE_TEXT_ONLY, "text messages only");
            break;
        };
        if !rate.allow(Instant::now()) {
            warn!(id, "rate limit exceeded; closing");
            Metrics::inc(&metrics.rate_limited);
            let _ = ws.close(CLOSE_RATE_LIMITED, "rate limit exceeded");
            break;
        }
        match command::parse(text) {
            None => hub.say(id, text),
            Some(Command::Nick(name)) => match hub.nick(id, name) {
                Ok(()) => {
                    hub.tell(id, &format!("You are now [{name}]"));
                    hub.welcome(id);
                }
                Err(why) => hub.tell(id, &why),
            },
            Some(Command::Join(room)) => match hub.join_room(id, room) {
                Ok(()) => hub.tell(id, &format!("You are in {room}")),
                Err(why) => hub.tell(id, &why),
            },
            Some(Command::Who) => hub.send_who(id),
            Some(Command::Kick(name)) => {
                let reply = hub.kick(id, name).unwrap_or_else(|why| why);
                hub.tell(id, &reply);
            }
            Some(Command::Mute(name, minutes)) => {
                let reply = hub.mute(id, name, minutes).unwrap_or_else(|why| why);
                hub.tell(id, &reply);
            }
            Some(Command::Help) => hub.tell(id, HELP),
        }
    }
    let status = ws.close_status();
    info!(id, code = status.code, reason = %status.reason, "client disconnected");
    hub.leave(id);
}
