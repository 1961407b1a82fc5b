//! The server: accept clients, run their sessions, shut down gracefully.

use std::{future::Future, sync::Arc};

use tokio::{net::TcpListener, task::JoinSet};
use tracing::{info, warn};
use wspeer_core::{Config, Listener};

use crate::{
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
}

impl Server {
    /// A server with `config`.
    pub fn new(config: ChatConfig) -> Self {
        let config = Arc::new(config);
        let metrics = Arc::new(Metrics::default());
        let hub = Arc::new(Hub::new(config.clone(), metrics.clone()));
        Self {
            config,
            hub,
            metrics,
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

    /// The connection settings every client gets.
    fn connection_config(&self) -> Config {
        let mut config = Config::default()
            .supported_protocols([PROTOCOL])
            .inbound_buffer_size(self.config.max_message_size)
            .max_queued_packets(self.config.send_queue)
            // The send queue is counted in messages; bytes follow from the sizes.
            .outbound_buffer_size(0)
            .http_service(ChatHttp {
                config: self.config.clone(),
                metrics: self.metrics.clone(),
            });
        config.tls = self.config.tls.clone();
        config
    }

    /// Serves clients on `listener` until `shutdown` completes; then closes every
    /// client with 1001 and waits up to `shutdown_grace` for them.
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
