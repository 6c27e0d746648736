//! Requests this worker's own monitor read from final blocks (or from the
//! contract's pending list). They are the chain's copy, read by this
//! process, not the coordinator's: an execute job for one of them may start
//! at once instead of asking the contract again (a view call per request is
//! most of the off-chain latency of a cached program).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use outlayer_types::ExecutionRequest;

/// Requests remembered; older ones are forgotten first.
const KEPT: usize = 4096;

/// A copy older than this (by its block's time) is read again: the request
/// may have been answered or timed out since.
const FRESH: Duration = Duration::from_secs(20);

#[derive(Default)]
pub(crate) struct SeenRequests {
    inner: Mutex<(HashMap<u64, ExecutionRequest>, VecDeque<u64>)>,
}

impl SeenRequests {
    pub(crate) fn remember(&self, request: &ExecutionRequest) {
        let mut inner = self.inner.lock().expect("seen lock");
        let (by_id, order) = &mut *inner;
        let id = request.context.request_id;
        if by_id.insert(id, request.clone()).is_none() {
            order.push_back(id);
        }
        while order.len() > KEPT {
            if let Some(old) = order.pop_front() {
                by_id.remove(&old);
            }
        }
    }

    /// The chain's copy of `request_id`, if this process read it recently.
    pub(crate) fn fresh(&self, request_id: u64) -> Option<ExecutionRequest> {
        let inner = self.inner.lock().expect("seen lock");
        let request = inner.0.get(&request_id)?;
        let now_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let age_ns = now_ns.saturating_sub(u128::from(request.context.block_timestamp));
        (age_ns < FRESH.as_nanos()).then(|| request.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(id: u64, block_timestamp: u64) -> ExecutionRequest {
        let mut request = crate::sample_request(id);
        request.context.block_timestamp = block_timestamp;
        request
    }

    fn now_ns() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    }

    #[test]
    fn recent_copies_are_used_and_old_ones_read_again() {
        let seen = SeenRequests::default();
        seen.remember(&request(1, now_ns()));
        seen.remember(&request(2, now_ns() - 60_000_000_000));
        assert_eq!(seen.fresh(1).map(|r| r.context.request_id), Some(1));
        assert!(seen.fresh(2).is_none(), "a minute-old copy is not trusted");
        assert!(seen.fresh(3).is_none());
    }

    #[test]
    fn memory_is_bounded() {
        let seen = SeenRequests::default();
        for id in 0..(KEPT as u64 + 10) {
            seen.remember(&request(id, now_ns()));
        }
        assert!(seen.fresh(0).is_none(), "the oldest are forgotten");
        assert!(seen.fresh(KEPT as u64 + 9).is_some());
        assert_eq!(seen.inner.lock().unwrap().0.len(), KEPT);
    }
}
