//! Plain HTTP on the chat port: the web page, `/healthz` (`ok`, or `degraded:
//! redis unreachable` while a cluster server has lost Redis), `/metrics`, and 503
//! for upgrades once the server is full.

use std::sync::{Arc, atomic::Ordering::Relaxed};

use wspeer_core::{HttpRequest, HttpResponse, HttpService};

use crate::{cluster::Cluster, config::ChatConfig, metrics::Metrics};

/// The self-contained web client, embedded in the binary.
pub const PAGE: &str = include_str!("web/index.html");

/// Answers the chat server's HTTP requests.
#[derive(Debug)]
pub struct ChatHttp {
    pub(crate) config: Arc<ChatConfig>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) cluster: Option<Arc<Cluster>>,
}

impl HttpService for ChatHttp {
    fn respond(&self, request: &HttpRequest) -> Option<HttpResponse> {
        if request.websocket {
            let connected = self.metrics.connections.load(Relaxed) as usize;
            if connected >= self.config.max_connections {
                Metrics::inc(&self.metrics.refused);
                return Some(HttpResponse::text(
                    503,
                    format!("server full: {connected} connections\n"),
                ));
            }
            return None;
        }
        if request.method != "GET" && request.method != "HEAD" {
            return Some(HttpResponse::text(405, "only GET\n").header("Allow", "GET"));
        }
        Some(match request.path_only() {
            "/" | "/index.html" => HttpResponse::new(200, "text/html; charset=utf-8", PAGE),
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
        })
    }
}
