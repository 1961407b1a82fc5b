//! One signal for many connections: "something arrived for the application".

use std::sync::Arc;

use tokio::sync::Notify;

/// A wake-up shared by every connection whose [`Config`](crate::Config) carries
/// it: each time a connection delivers messages or changes its ready state, it
/// notifies the signal. One task (or one thread, through the poll facade's
/// `wait_for_activity`) can then wait for any of thousands of connections
/// without a future per connection.
///
/// Notifications do not queue up: a wait returns at once if anything happened
/// since the last wait ended, then waits for the next thing.
#[derive(Debug, Clone, Default)]
pub struct ActivitySignal(Arc<Notify>);

impl ActivitySignal {
    /// A new signal, not yet notified.
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits until a connection has news (or had some since the last wait).
    pub async fn notified(&self) {
        self.0.notified().await;
    }

    /// Wakes the waiter, or the next one to wait.
    pub fn notify(&self) {
        self.0.notify_one();
    }
}

/// Two configurations are equal only if they share the same signal.
impl PartialEq for ActivitySignal {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ActivitySignal {}
