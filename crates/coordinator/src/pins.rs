//! Branches and tags resolved to commits, shared by the workers for a short
//! time, so a burst of requests for `main` asks the git host once, and a
//! request for a recently pinned branch whose build is cached needs no
//! compile job. Kept in memory: losing it costs one `git ls-remote`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::clock::Clock;

/// Pins kept at most; expired ones are dropped first, then all.
const MAX_PINS: usize = 10_000;

pub struct Pins {
    ttl: Duration,
    /// Each commit with the monotonic time it was pinned.
    entries: Mutex<HashMap<String, (i64, String)>>,
    clock: Clock,
}

impl Pins {
    pub fn new(ttl: Duration, clock: Clock) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
            clock,
        }
    }

    fn fresh(&self, at: i64, now: i64) -> bool {
        now.saturating_sub(at) < self.ttl.as_millis() as i64
    }

    /// The commit `key` was pinned to, unless that is older than the TTL.
    pub fn get(&self, key: &str) -> Option<String> {
        let now = self.clock.monotonic_ms();
        let entries = self.entries.lock().expect("pins lock");
        let (at, commit) = entries.get(key)?;
        self.fresh(*at, now).then(|| commit.clone())
    }

    pub fn set(&self, key: &str, commit: &str) {
        let now = self.clock.monotonic_ms();
        let mut entries = self.entries.lock().expect("pins lock");
        if entries.len() >= MAX_PINS {
            entries.retain(|_, (at, _)| self.fresh(*at, now));
            if entries.len() >= MAX_PINS {
                entries.clear();
            }
        }
        entries.insert(key.to_owned(), (now, commit.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_lasts_its_ttl() {
        let clock = Clock::manual(0);
        let pins = Pins::new(Duration::from_millis(50), clock.clone());
        pins.set("k", "a");
        clock.advance(Duration::from_millis(49));
        assert_eq!(pins.get("k").as_deref(), Some("a"));
        assert_eq!(pins.get("other"), None);
        clock.advance(Duration::from_millis(1));
        assert_eq!(pins.get("k"), None);
    }

    #[test]
    fn memory_is_bounded() {
        let pins = Pins::new(Duration::from_secs(60), Clock::system());
        for i in 0..=MAX_PINS {
            pins.set(&i.to_string(), "c");
        }
        assert!(pins.entries.lock().unwrap().len() <= MAX_PINS);
        assert_eq!(pins.get(&MAX_PINS.to_string()).as_deref(), Some("c"));
    }
}
