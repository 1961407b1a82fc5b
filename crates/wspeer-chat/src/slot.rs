//! A connection's place under `--max-connections`: reserved atomically when
//! the upgrade is decided, given back when the connection ends, however it ends.

use std::sync::{Arc, atomic::Ordering};

use crate::metrics::Metrics;

/// One reserved connection; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct Slot(Arc<Metrics>);

impl Slot {
    /// A place among `max`, or `None` when all are taken. Compare-and-increment,
    /// so simultaneous handshakes can never take more than `max` between them.
    pub(crate) fn reserve(metrics: &Arc<Metrics>, max: usize) -> Option<Self> {
        metrics
            .connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < max as u64).then_some(open + 1)
            })
            .ok()
            .map(|_| Self(metrics.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_more_than_max_and_freed_on_drop() {
        let metrics = Arc::new(Metrics::default());
        let a = Slot::reserve(&metrics, 2).unwrap();
        let _b = Slot::reserve(&metrics, 2).unwrap();
        assert!(Slot::reserve(&metrics, 2).is_none());
        drop(a);
        assert!(Slot::reserve(&metrics, 2).is_some());
        assert_eq!(metrics.connections.load(Ordering::Relaxed), 1);
    }
}
