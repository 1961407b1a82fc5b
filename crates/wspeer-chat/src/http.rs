//! Plain HTTP on the chat port: the web page and its script and style,
//! `/healthz` (`ok`, or `degraded: redis unreachable` while a cluster server has
//! lost Redis), `/metrics`; and the last word on upgrades: 503 once the server
//! is full, 401 for a bad token. Every response carries the security headers of [`secure`].

use std::sync::Arc;

use wspeer_core::{Admission, HttpRequest, HttpResponse, HttpService};

use crate::{
    auth::{token_in, token_in_cookie},
    cluster::Cluster,
    config::ChatConfig,
    hub::Hub,
    metrics::Metrics,
    slot::Slot,
};

/// The self-contained web client, embedded in the binary.
pub const PAGE: &str = include_str!("web/index.html");
/// The page's script (a file of its own: the policy allows no inline script).
pub const SCRIPT: &str = include_str!("web/chat.js");
/// The page's style.
pub const STYLE: &str = include_str!("web/chat.css");

/// The page's Content-Security-Policy: its own script, style and WebSocket,
/// nothing else, never in a frame.
pub const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";
/// The policy of every other response: nothing may load from it or frame it.
pub const OTHER_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// `response` with the headers every chat response carries: a
/// Content-Security-Policy, `nosniff`, no framing, no referrer (a page URL may
/// carry a token).
pub fn secure(response: HttpResponse, policy: &str) -> HttpResponse {
    response
        .header("Content-Security-Policy", policy)
        .header("X-Content-Type-Options", "nosniff")
        .header("X-Frame-Options", "DENY")
        .header("Referrer-Policy", "no-referrer")
}

/// Answers the chat server's HTTP requests.
#[derive(Debug)]
pub struct ChatHttp {
    pub(crate) config: Arc<ChatConfig>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) cluster: Option<Arc<Cluster>>,
    pub(crate) hub: Arc<Hub>,
}

impl ChatHttp {
    fn page(&self, request: &HttpRequest) -> HttpResponse {
        if request.method != "GET" && request.method != "HEAD" {
            return HttpResponse::text(405, "only GET\n").header("Allow", "GET");
        }
        match request.path_only() {
            "/" | "/index.html" => secure(
                HttpResponse::new(200, "text/html; charset=utf-8", PAGE),
                PAGE_POLICY,
            ),
            "/chat.js" => HttpResponse::new(200, "text/javascript; charset=utf-8", SCRIPT),
            "/chat.css" => HttpResponse::new(200, "text/css; charset=utf-8", STYLE),
            // Degraded still serves its own clients: 200, so a load balancer keeps
            // it; the body says why (see docs/deploy.md).
            "/healthz" => match &self.cluster {
                Some(cluster) if !cluster.is_up() => {
                    HttpResponse::text(200, "degraded: redis unreachable\n")
                }
                _ => HttpResponse::text(200, "ok\n"),
            },
            "/metrics" => HttpResponse::new(
                200,
                "text/plain; version=0.0.4; charset=utf-8",
                self.metrics.render(),
            ),
            _ => HttpResponse::text(404, "not found\n"),
        }
    }
}

impl HttpService for ChatHttp {
    fn respond(&self, request: &HttpRequest) -> Option<HttpResponse> {
        if request.websocket {
            return None;
        }
        let response = self.api(request).unwrap_or_else(|| self.page(request));
        Some(
            if response
                .headers
                .iter()
                .any(|(n, _)| n == "Content-Security-Policy")
            {
                response
            } else {
                secure(response, OTHER_POLICY)
            },
        )
    }

    fn max_body_size(&self) -> usize {
        crate::api::MAX_BODY
    }

    fn admit(&self, request: &HttpRequest) -> Result<Admission, HttpResponse> {
        if let Err(why) = crate::joining::parse(&request.path) {
            return Err(secure(
                HttpResponse::text(400, format!("{why}\n")),
                OTHER_POLICY,
            ));
        }
        let in_query = token_in(&request.path);
        let in_cookie = in_query
            .is_none()
            .then(|| token_in_cookie(request))
            .flatten();
        if let (Some(auth), Some(token)) = (&self.config.auth, in_query.or(in_cookie)) {
            // Before a place is taken: a refused client holds none.
            if let Err(why) = auth.verify(token) {
                Metrics::inc(&self.metrics.refused_auth);
                return Err(secure(
                    HttpResponse::text(401, format!("{why}\n")),
                    OTHER_POLICY,
                ));
            }
        }
        match Slot::reserve(&self.metrics, self.config.max_connections) {
            // The session cannot see the cookie: the token goes with the connection.
            Some(slot) => Ok(match (in_cookie, &self.config.auth) {
                (Some(token), Some(_)) => Admission::hold(slot).with_note(token),
                _ => Admission::hold(slot),
            }),
            None => {
                Metrics::inc(&self.metrics.refused);
                Err(secure(
                    HttpResponse::text(
                        503,
                        format!("server full: {} connections\n", self.config.max_connections),
                    ),
                    OTHER_POLICY,
                ))
            }
        }
    }
}
