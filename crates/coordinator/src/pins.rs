//! Branches and tags resolved to commits, shared by the workers for a short
//! time, so a burst of requests for `main` asks the git host once, and a
//! request for a recently pinned branch whose build is cached needs no
//! compile job. Kept in memory: losing it costs one `git ls-remote`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Pins kept at most; expired ones are dropped first, then all.
const MAX_PINS: usize = 10_000;

pub struct Pins {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, String)>>,
}

impl Pins {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The commit `key` was pinned to, unless that is older than the TTL.
    pub fn get(&self, key: &str) -> Option<String> {
        let entries = self.entries.lock().expect("pins lock");
        let (at, commit) = entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| commit.clone())
    }

    pub fn set(&self, key: &str, commit: &str) {
        let mut entries = self.entries.lock().expect("pins lock");
        if entries.len() >= MAX_PINS {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.len() >= MAX_PINS {
                entries.clear();
            }
        }
        entries.insert(key.to_owned(), (Instant::now(), commit.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_lasts_its_ttl() {
        let pins = Pins::new(Duration::from_millis(50));
        pins.set("k", "a");
        assert_eq!(pins.get("k").as_deref(), Some("a"));
        assert_eq!(pins.get("other"), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(pins.get("k"), None);
    }

    #[test]
    fn memory_is_bounded() {
        let pins = Pins::new(Duration::from_secs(60));
        for i in 0..=MAX_PINS {
            pins.set(&i.to_string(), "c");
        }
        assert!(pins.entries.lock().unwrap().len() <= MAX_PINS);
        assert_eq!(pins.get(&MAX_PINS.to_string()).as_deref(), Some("c"));
    }
}
