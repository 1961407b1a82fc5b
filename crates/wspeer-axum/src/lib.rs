//! wspeer WebSockets in an axum (0.8) app: [`WebSocketUpgrade`] upgrades a
//! request into a [`wspeer_core::WebSocket`], with wspeer's [`Config`]
//! (Godot's queue limits, subprotocol rule, handshake headers, origin policy,
//! permessage-deflate)
//! and the same checks as wspeer's own server, so that a refused request gets
//! the same HTTP status and reason.
//!
//! It is a separate crate so that the core does not depend on axum or hyper.
//! It does not run an HTTP server: that is axum's (or hyper's) job.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use wspeer_axum::WebSocketUpgrade;
//! use wspeer_core::Config;
//!
//! async fn ws(upgrade: WebSocketUpgrade) -> axum::response::Response {
//!     upgrade
//!         .config(Config::default().max_queued_packets(256))
//!         .on_upgrade(|mut ws| async move {
//!             while let Some(message) = ws.recv().await {
//!                 if ws.send(message).await.is_err() {
//!                     break;
//!                 }
//!             }
//!         })
//! }
//!
//! let app: Router = Router::new().route("/ws", get(ws));
//! ```

use std::{future::Future, sync::Arc};

use axum::{
    body::Body,
    extract::FromRequestParts,
    http::{HeaderMap, HeaderValue, Method, StatusCode, Version, header, request::Parts},
    response::Response,
};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tracing::{debug, warn};
use wspeer_core::{Config, Negotiated, Side, UpgradeRefused, WebSocket, check_upgrade};

/// A request that may become a WebSocket: take it as a handler argument, then
/// answer with [`on_upgrade`](Self::on_upgrade). Extracting it never fails; a
/// request that is not a valid upgrade is refused by `on_upgrade`, with the
/// status wspeer's own server would send (400, 403, 405 or 426).
#[derive(Debug)]
pub struct WebSocketUpgrade {
    method: Method,
    version: Version,
    headers: HeaderMap,
    on_upgrade: Option<OnUpgrade>,
    config: Arc<Config>,
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            method: parts.method.clone(),
            version: parts.version,
            headers: parts.headers.clone(),
            on_upgrade: parts.extensions.remove::<OnUpgrade>(),
            config: Arc::new(Config::default()),
        })
    }
}

impl WebSocketUpgrade {
    /// The settings of the connection: limits, subprotocols (chosen by
    /// Godot's rule), extra `101` headers, origin policy. Default:
    /// [`Config::default`].
    #[must_use]
    pub fn config(mut self, config: impl Into<Arc<Config>>) -> Self {
        self.config = config.into();
        self
    }

    /// The `101` response that upgrades the connection, after which
    /// `callback` gets the WebSocket, open, on a task of its own; or the
    /// refusal. The connection runs on the current Tokio runtime.
    pub fn on_upgrade<F, Fut>(self, callback: F) -> Response
    where
        F: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        if let Err(error) = self.config.validate() {
            warn!(%error, "invalid WebSocket configuration");
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "invalid WebSocket configuration",
            );
        }
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect();
        let http11 = self.version == Version::HTTP_11;
        let accepted = match check_upgrade(self.method.as_str(), http11, &headers, &self.config) {
            Ok(accepted) => accepted,
            Err(refused) => return refusal(refused),
        };
        let Some(on_upgrade) = self.on_upgrade else {
            // Not an HTTP/1.1 connection hyper can hand over.
            return text(
                StatusCode::UPGRADE_REQUIRED,
                "this connection cannot be upgraded",
            );
        };
        let negotiated = Negotiated::protocol(accepted.protocol.clone().unwrap_or_default())
            .compression(accepted.compression);
        let config = self.config.clone();
        tokio::spawn(async move {
            let upgraded = match on_upgrade.await {
                Ok(upgraded) => upgraded,
                Err(error) => {
                    debug!(%error, "the upgrade did not happen");
                    return;
                }
            };
            let ws = match wspeer_core::from_upgraded(
                TokioIo::new(upgraded),
                Side::Server,
                negotiated,
                config,
            ) {
                Ok(ws) => ws,
                Err(error) => {
                    warn!(%error, "cannot run the upgraded connection");
                    return;
                }
            };
            // Open once its task has run: the callback gets it ready to send.
            if ws.opened().await.is_ok() {
                callback(ws).await;
            }
        });
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let out = response.headers_mut();
        out.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        out.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        if let Ok(value) = HeaderValue::from_str(&accepted.accept_key) {
            out.insert(header::SEC_WEBSOCKET_ACCEPT, value);
        }
        if let Some(value) = accepted
            .protocol
            .and_then(|p| HeaderValue::from_str(&p).ok())
        {
            out.insert(header::SEC_WEBSOCKET_PROTOCOL, value);
        }
        if let Some(value) = accepted
            .extensions
            .and_then(|e| HeaderValue::from_str(&e).ok())
        {
            out.insert(header::SEC_WEBSOCKET_EXTENSIONS, value);
        }
        // Checked by `validate`: tokens and values without CR, LF or NUL.
        for (name, value) in &self.config.handshake_headers {
            if let (Ok(name), Ok(value)) = (
                header::HeaderName::try_from(name.as_str()),
                HeaderValue::from_str(value),
            ) {
                out.append(name, value);
            }
        }
        response
    }
}

fn refusal(refused: UpgradeRefused) -> Response {
    let status = StatusCode::from_u16(refused.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = text(status, &refused.reason);
    if let Some((name, value)) = refused.header
        && let (Ok(name), Ok(value)) = (
            header::HeaderName::try_from(name),
            HeaderValue::from_str(value),
        )
    {
        response.headers_mut().insert(name, value);
    }
    response
}

fn text(status: StatusCode, body: &str) -> Response {
    let mut response = Response::new(Body::from(format!("{body}\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
