//! Where a request's off-chain time goes, measured from the timestamp of
//! the block that holds it: handed to the coordinator by the monitor,
//! claimed, read from the chain, program ready, secrets decrypted, run,
//! and the resolve transaction sent. Kept for the last requests only; read
//! by `outlayer dev --bench`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Requests whose timings are kept.
const KEPT: usize = 10_000;

/// Milliseconds after the request's block, at each step of one execution.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestTiming {
    pub request_id: u64,
    /// The monitor's `create_execution` returned (when this worker monitored).
    pub handed_ms: Option<f64>,
    pub claimed_ms: f64,
    pub read_ms: f64,
    pub program_ms: f64,
    pub secrets_ms: f64,
    pub ran_ms: f64,
    /// `resolve_execution` was accepted by the node.
    pub sent_ms: f64,
}

#[derive(Default)]
pub(crate) struct Timings {
    handed: Mutex<HashMap<u64, f64>>,
    done: Mutex<VecDeque<RequestTiming>>,
}

impl Timings {
    pub(crate) fn handed(&self, request_id: u64, block_timestamp_ns: u64) {
        let mut handed = self.handed.lock().expect("timings lock");
        if handed.len() >= KEPT {
            handed.clear();
        }
        handed.insert(request_id, since(block_timestamp_ns, SystemTime::now()));
    }

    pub(crate) fn record(&self, mut timing: RequestTiming) {
        timing.handed_ms = self
            .handed
            .lock()
            .expect("timings lock")
            .remove(&timing.request_id);
        let mut done = self.done.lock().expect("timings lock");
        if done.len() >= KEPT {
            done.pop_front();
        }
        done.push_back(timing);
    }

    pub(crate) fn all(&self) -> Vec<RequestTiming> {
        self.done
            .lock()
            .expect("timings lock")
            .iter()
            .cloned()
            .collect()
    }
}

/// Milliseconds from a block timestamp (ns since the epoch) to `at`.
pub(crate) fn since(block_timestamp_ns: u64, at: SystemTime) -> f64 {
    let at_ns = at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    at_ns.saturating_sub(block_timestamp_ns) as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn steps_are_measured_from_the_block() {
        let block = 1_000_000_000_000u64;
        let at = UNIX_EPOCH + Duration::from_nanos(block) + Duration::from_micros(2_500);
        assert_eq!(since(block, at), 2.5);
        let timings = Timings::default();
        timings.handed(4, block);
        timings.record(RequestTiming {
            request_id: 4,
            sent_ms: 9.0,
            ..Default::default()
        });
        let all = timings.all();
        assert_eq!(all.len(), 1);
        assert!(all[0].handed_ms.is_some());
        assert_eq!(all[0].sent_ms, 9.0);
    }
}
