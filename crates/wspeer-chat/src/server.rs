//! The server: accept clients, run their sessions, shut down gracefully.

use std::{future::Future, sync::Arc, time::Duration};

use tokio::{net::TcpListener, task::JoinSet};
use tracing::{info, warn};
use wspeer_core::{Config, Listener};

use crate::{
    backend::Backend,
    cluster::{self, Cluster},
    config::{ChatConfig, PROTOCOL},
    http::ChatHttp,
    hub::Hub,
    metrics::Metrics,
    session,
};

/// A chat server: its hub (for the console's `Server says:` lines) and its
/// metrics, ready to [`run`](Self::run).
#[derive(Debug)]
pub struct Server {
    config: Arc<ChatConfig>,
    hub: Arc<Hub>,
    metrics: Arc<Metrics>,
    cluster: Option<Arc<Cluster>>,
}

/// Stops the Redis task when `run` ends, however it ends; lines published after
/// that are delivered locally.
struct LinkGuard(tokio::task::JoinHandle<()>, Arc<Cluster>, Arc<Metrics>);

impl Drop for LinkGuard {
    fn drop(&mut self) {
        self.0.abort();
        self.1.set_up(false);
        self.2
            .redis_connected
            .store(0, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Server {
    /// A server with `config`.
    pub fn new(config: ChatConfig) -> Self {
        let config = Arc::new(config);
        let metrics = Arc::new(Metrics::default());
        let cluster = match &config.backend {
            Backend::Redis { url } => Some(Cluster::new(url.clone())),
            Backend::Local => None,
        };
        let hub = Arc::new(Hub::with_cluster(
            config.clone(),
            metrics.clone(),
            cluster.clone(),
        ));
        Self {
            config,
            hub,
            metrics,
            cluster,
        }
    }

    /// The rooms and members.
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// The counters served on `/metrics`.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// With the Redis backend, whether Redis is connected now (`false`:
    /// degraded); `None` for a server on its own.
    pub fn redis_connected(&self) -> Option<bool> {
        self.cluster.as_ref().map(|c| c.is_up())
    }

    /// The connection settings every client gets.
    fn connection_config(&self) -> Config {
        let mut config = Config::default()
            .supported_protocols([PROTOCOL])
            .inbound_buffer_size(self.config.max_message_size)
            // A join or resume queues the room's history at once, on top of
            // the live lines: room for both, or a long replay would close its
            // client as too slow (welcome and gap notice come with it).
            .max_queued_packets(self.config.send_queue + self.config.history + 2)
            // The send queue is counted in messages; bytes follow from the sizes.
            .outbound_buffer_size(0)
            .max_pending_handshakes(self.config.max_pending_handshakes)
            .max_pending_handshakes_per_ip(self.config.max_pending_handshakes_per_ip)
            // Always on: the page's own origin, and those listed, may connect.
            .allowed_origins(self.config.allowed_origins.iter().cloned())
            .http_service(ChatHttp {
                config: self.config.clone(),
                metrics: self.metrics.clone(),
                cluster: self.cluster.clone(),
                hub: self.hub.clone(),
            });
        config.tls = self.config.tls.clone();
        config.permessage_deflate = self.config.compression;
        config
    }

    /// Serves clients on `listener` until `shutdown` completes; then closes every
    /// client with 1001 and waits up to `shutdown_grace` for them.
    ///
    /// With the Redis backend it also runs the link to Redis, and on the way out
    /// sends the last lines and removes this server's presence. Such a server
    /// runs once: a second `run` serves its clients alone (degraded).
    pub async fn run(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        let config = self.connection_config();
        config
            .validate()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let mut listener = Listener::from_tcp(listener, Arc::new(config));
        info!(addr = ?listener.local_addr().ok(), "chat server listening");
        let _link = self.cluster.as_ref().map(|c| {
            let task = tokio::spawn(cluster::run(
                c.clone(),
                self.hub.clone(),
                self.metrics.clone(),
            ));
            LinkGuard(task, c.clone(), self.metrics.clone())
        });
        let mut sessions = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                ws = listener.accept() => {
                    sessions.spawn(session::serve(
                        ws,
                        self.hub.clone(),
                        self.config.clone(),
                        self.metrics.clone(),
                    ));
                }
                Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            }
        }
        info!(clients = sessions.len(), "shutting down");
        drop(listener);
        self.hub.close_all(1001, "server shutting down");
        let drained = async { while sessions.join_next().await.is_some() {} };
        if tokio::time::timeout(self.config.shutdown_grace, drained)
            .await
            .is_err()
        {
            warn!(
                left = sessions.len(),
                "clients did not close in time; dropping them"
            );
            sessions.shutdown().await;
        }
        if let Some(cluster) = &self.cluster {
            // The leave lines out to the cluster, and this server's presence gone.
            let _ = tokio::time::timeout(Duration::from_secs(2), cluster.flush()).await;
        }
        Ok(())
    }
}

/// Runs a chat server with `config` on `listener` until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    config: ChatConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    Server::new(config).run(listener, shutdown).await
}
