//! The clocks a program sees. With an on-chain context they are
//! deterministic: wall-clock time is the block timestamp and the monotonic
//! clock advances one nanosecond per reading, so the same request reads the
//! same times on every worker. Without a context (local runs) they are real.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug)]
pub(crate) enum GuestClock {
    Deterministic {
        wall_ns: u64,
        monotonic_reads: AtomicU64,
    },
    Real {
        started: Instant,
    },
}

impl GuestClock {
    pub(crate) fn deterministic(block_timestamp_ns: u64) -> Self {
        Self::Deterministic {
            wall_ns: block_timestamp_ns,
            monotonic_reads: AtomicU64::new(0),
        }
    }

    pub(crate) fn real() -> Self {
        Self::Real {
            started: Instant::now(),
        }
    }

    /// Time since the Unix epoch.
    pub(crate) fn wall(&self) -> Duration {
        match self {
            Self::Deterministic { wall_ns, .. } => Duration::from_nanos(*wall_ns),
            Self::Real { .. } => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        }
    }

    /// Nanoseconds on a clock that never goes back.
    pub(crate) fn monotonic(&self) -> u64 {
        match self {
            Self::Deterministic {
                monotonic_reads, ..
            } => monotonic_reads.fetch_add(1, Ordering::Relaxed) + 1,
            Self::Real { started } => started.elapsed().as_nanos() as u64,
        }
    }

    pub(crate) fn resolution_ns(&self) -> u64 {
        1
    }
}

/// Adapters for wasmtime-wasi, which asks for two separate clock objects.
pub(crate) struct WallClock(pub(crate) std::sync::Arc<GuestClock>);
pub(crate) struct MonotonicClock(pub(crate) std::sync::Arc<GuestClock>);

impl wasmtime_wasi::HostWallClock for WallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(self.0.resolution_ns())
    }

    fn now(&self) -> Duration {
        self.0.wall()
    }
}

impl wasmtime_wasi::HostMonotonicClock for MonotonicClock {
    fn resolution(&self) -> u64 {
        self.0.resolution_ns()
    }

    fn now(&self) -> u64 {
        self.0.monotonic()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_clock_is_fixed_and_counts_reads() {
        let clock = GuestClock::deterministic(1_700_000_000_000_000_000);
        assert_eq!(
            clock.wall(),
            Duration::from_nanos(1_700_000_000_000_000_000)
        );
        assert_eq!(clock.wall(), clock.wall());
        assert_eq!(clock.monotonic(), 1);
        assert_eq!(clock.monotonic(), 2);
    }
}
