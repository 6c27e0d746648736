//! A small, bounded map whose entries expire: token and worker-id lookups
//! remembered for a few seconds, so the hot paths (every authenticated
//! request, every claim) do not ask the store each time.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

use crate::clock::Clock;

pub struct TtlCache<K, V> {
    /// Each value with the monotonic time it was stored.
    entries: Mutex<HashMap<K, (V, i64)>>,
    ttl: Duration,
    capacity: usize,
    clock: Clock,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// A zero `ttl` turns the cache off (every lookup misses).
    pub fn new(ttl: Duration, capacity: usize, clock: Clock) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            ttl,
            capacity,
            clock,
        }
    }

    fn fresh(&self, at: i64, now: i64) -> bool {
        now.saturating_sub(at) < self.ttl.as_millis() as i64
    }

    /// The value stored for `key` less than the TTL ago.
    pub fn get(&self, key: &K) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        let now = self.clock.monotonic_ms();
        let mut entries = self.entries.lock().expect("cache lock");
        match entries.get(key) {
            Some((value, at)) if self.fresh(*at, now) => Some(value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Remembers `value`. When full, expired entries go first, then all.
    pub fn insert(&self, key: K, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let now = self.clock.monotonic_ms();
        let mut entries = self.entries.lock().expect("cache lock");
        self.make_room(&mut entries, &key, now);
        entries.insert(key, (value, now));
    }

    /// When full, drops expired entries, then all.
    fn make_room(&self, entries: &mut HashMap<K, (V, i64)>, key: &K, now: i64) {
        if entries.len() >= self.capacity && !entries.contains_key(key) {
            entries.retain(|_, (_, at)| self.fresh(*at, now));
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
    }

    /// Remembers `value` unless a fresh entry for `key` exists; true when
    /// this call stored it. With the cache off, always true.
    pub fn insert_if_absent(&self, key: K, value: V) -> bool {
        if self.ttl.is_zero() {
            return true;
        }
        let now = self.clock.monotonic_ms();
        let mut entries = self.entries.lock().expect("cache lock");
        if entries
            .get(&key)
            .is_some_and(|(_, at)| self.fresh(*at, now))
        {
            return false;
        }
        self.make_room(&mut entries, &key, now);
        entries.insert(key, (value, now));
        true
    }

    pub fn clear(&self) {
        self.entries.lock().expect("cache lock").clear();
    }

    pub fn len(&self) -> usize {
        self.entries.lock().expect("cache lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Only the size: the keys are token hashes.
impl<K, V> std::fmt::Debug for TtlCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.entries.lock().map_or(0, |e| e.len());
        f.debug_struct("TtlCache")
            .field("entries", &len)
            .field("ttl", &self.ttl)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_the_size_is_bounded() {
        let clock = Clock::manual(0);
        let cache = TtlCache::new(Duration::from_millis(50), 3, clock.clone());
        cache.insert("a", 1);
        clock.advance(Duration::from_millis(49));
        assert_eq!(cache.get(&"a"), Some(1));
        clock.advance(Duration::from_millis(1));
        assert_eq!(cache.get(&"a"), None, "expired");
        for (i, key) in ["a", "b", "c", "d"].into_iter().enumerate() {
            cache.insert(key, i);
        }
        // Full of fresh entries: the fourth cleared the others.
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get(&"d"), Some(3));
        cache.clear();
        assert!(cache.is_empty());
        assert!(cache.insert_if_absent("e", 5));
        assert!(!cache.insert_if_absent("e", 6), "held");
        assert_eq!(cache.get(&"e"), Some(5));
        clock.advance(Duration::from_millis(50));
        assert!(cache.insert_if_absent("e", 7), "expired");
    }

    #[test]
    fn zero_ttl_is_off() {
        let cache = TtlCache::new(Duration::ZERO, 3, Clock::system());
        cache.insert("a", 1);
        assert_eq!(cache.get(&"a"), None);
        assert!(cache.is_empty());
    }
}
