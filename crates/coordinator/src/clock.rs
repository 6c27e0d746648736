//! The coordinator's time. A running coordinator reads the system clock;
//! tests use a manual clock they move by hand, so leases, pins, cached
//! lookups and rate limits run out exactly when a test says, without
//! sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Cheap to clone; clones share the time.
#[derive(Clone, Debug)]
pub struct Clock(Arc<Source>);

#[derive(Debug)]
enum Source {
    System {
        started: Instant,
    },
    /// Milliseconds since the Unix epoch, moved only by [`Clock::advance`].
    Manual(AtomicI64),
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(Source::System {
            started: Instant::now(),
        }))
    }

    /// A clock standing at `start_ms` (milliseconds since the Unix epoch)
    /// until advanced.
    pub fn manual(start_ms: i64) -> Self {
        Self(Arc::new(Source::Manual(AtomicI64::new(start_ms))))
    }

    /// Wall time in milliseconds since the Unix epoch: what the store
    /// records and compares (leases, heartbeats, timestamps).
    pub fn now_ms(&self) -> i64 {
        match &*self.0 {
            Source::System { .. } => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
            Source::Manual(now) => now.load(Ordering::SeqCst),
        }
    }

    /// Milliseconds on a clock that never goes back (the system's monotonic
    /// clock, or the manual time): for expiries and rates kept in memory.
    pub fn monotonic_ms(&self) -> i64 {
        match &*self.0 {
            Source::System { started } => started.elapsed().as_millis() as i64,
            Source::Manual(now) => now.load(Ordering::SeqCst),
        }
    }

    /// Moves a manual clock forward.
    ///
    /// # Panics
    /// On the system clock, which only time moves.
    pub fn advance(&self, by: Duration) {
        match &*self.0 {
            Source::System { .. } => panic!("only a manual clock can be advanced"),
            Source::Manual(now) => {
                now.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let clock = Clock::manual(1_000);
        let shared = clock.clone();
        assert_eq!(clock.now_ms(), 1_000);
        shared.advance(Duration::from_millis(250));
        assert_eq!(clock.now_ms(), 1_250);
        assert_eq!(clock.monotonic_ms(), 1_250);
    }

    #[test]
    fn the_system_clock_is_wall_time() {
        let clock = Clock::system();
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        assert!((clock.now_ms() - wall).abs() < 1_000);
        assert!(clock.monotonic_ms() >= 0);
    }
}
