//! Token-bucket rate limits per client address and per worker token. The
//! client address is the TCP peer; `X-Forwarded-For` is believed only when
//! the peer is a configured trusted proxy, otherwise anyone could pick their
//! own bucket by sending the header.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use axum::http::HeaderMap;

use crate::clock::Clock;

/// Requests per second and burst; a non-positive rate turns the limit off.
#[derive(Clone, Copy, Debug)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BucketKey {
    Addr(IpAddr),
    Token(String),
}

struct Bucket {
    tokens: f64,
    /// Monotonic milliseconds of the last refill.
    last: i64,
}

impl Bucket {
    /// Tokens after refilling at `rate` until `now`.
    fn tokens_at(&self, now: i64, rate: Rate) -> f64 {
        let seconds = now.saturating_sub(self.last).max(0) as f64 / 1_000.0;
        (self.tokens + seconds * rate.per_second).min(rate.burst)
    }
}

pub struct RateLimiter {
    anonymous: Rate,
    keyed: Rate,
    trusted_proxies: Vec<IpAddr>,
    buckets: Mutex<HashMap<BucketKey, Bucket>>,
    clock: Clock,
}

/// Buckets kept before idle (full) ones are dropped.
const MAX_BUCKETS: usize = 100_000;

impl RateLimiter {
    pub fn new(anonymous: Rate, keyed: Rate, trusted_proxies: Vec<IpAddr>, clock: Clock) -> Self {
        Self {
            anonymous,
            keyed,
            trusted_proxies,
            buckets: Mutex::new(HashMap::new()),
            clock,
        }
    }

    /// The address a request really comes from: the peer, or, behind a
    /// trusted proxy, the nearest untrusted hop in `X-Forwarded-For`.
    pub fn client_addr(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusted_proxies.contains(&peer) {
            return peer;
        }
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|hop| hop.trim().parse().ok())
            .collect();
        hops.into_iter()
            .rev()
            .find(|hop| !self.trusted_proxies.contains(hop))
            .unwrap_or(peer)
    }

    /// Whether the bucket has a token now, without taking it;
    /// `Err(seconds)` as [`Self::check`].
    pub fn peek(&self, key: &BucketKey) -> Result<(), u64> {
        let rate = self.rate(key);
        if rate.per_second <= 0.0 {
            return Ok(());
        }
        let now = self.clock.monotonic_ms();
        let buckets = self.buckets.lock().expect("rate limit lock");
        let Some(bucket) = buckets.get(key) else {
            return Ok(());
        };
        let tokens = bucket.tokens_at(now, rate);
        if tokens >= 1.0 {
            Ok(())
        } else {
            Err(((1.0 - tokens) / rate.per_second).ceil().max(1.0) as u64)
        }
    }

    fn rate(&self, key: &BucketKey) -> Rate {
        match key {
            BucketKey::Addr(_) => self.anonymous,
            BucketKey::Token(_) => self.keyed,
        }
    }

    /// Takes one token from the bucket; `Err(seconds)` says when to retry.
    pub fn check(&self, key: BucketKey) -> Result<(), u64> {
        let rate = self.rate(&key);
        if rate.per_second <= 0.0 {
            return Ok(());
        }
        let now = self.clock.monotonic_ms();
        let mut buckets = self.buckets.lock().expect("rate limit lock");
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, b| b.tokens_at(now, rate) < rate.burst);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: rate.burst,
            last: now,
        });
        bucket.tokens = bucket.tokens_at(now, rate);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / rate.per_second;
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(trusted: Vec<IpAddr>) -> RateLimiter {
        limiter_on(trusted, Clock::system())
    }

    fn limiter_on(trusted: Vec<IpAddr>, clock: Clock) -> RateLimiter {
        RateLimiter::new(
            Rate {
                per_second: 5.0,
                burst: 10.0,
            },
            Rate {
                per_second: 20.0,
                burst: 40.0,
            },
            trusted,
            clock,
        )
    }

    #[test]
    fn an_empty_bucket_refills_at_its_rate() {
        let clock = Clock::manual(0);
        let limiter = limiter_on(vec![], clock.clone());
        let key = || BucketKey::Addr("10.0.0.1".parse().unwrap());
        for _ in 0..10 {
            assert!(limiter.check(key()).is_ok());
        }
        assert_eq!(limiter.check(key()), Err(1));
        // 5 per second: one token 200 ms later, not before.
        clock.advance(std::time::Duration::from_millis(199));
        assert_eq!(limiter.peek(&key()), Err(1));
        clock.advance(std::time::Duration::from_millis(1));
        assert_eq!(limiter.check(key()), Ok(()));
        assert_eq!(limiter.check(key()), Err(1));
        // A long pause fills the bucket to its burst, no further.
        clock.advance(std::time::Duration::from_secs(60));
        for _ in 0..10 {
            assert!(limiter.check(key()).is_ok());
        }
        assert_eq!(limiter.check(key()), Err(1));
    }

    #[test]
    fn burst_then_refused_with_retry_after() {
        let limiter = limiter(vec![]);
        let key = || BucketKey::Addr("10.0.0.1".parse().unwrap());
        for _ in 0..9 {
            assert!(limiter.check(key()).is_ok());
        }
        // Peeking takes nothing: the tenth is still there.
        assert_eq!(limiter.peek(&key()), Ok(()));
        assert_eq!(limiter.peek(&key()), Ok(()));
        assert!(limiter.check(key()).is_ok());
        assert_eq!(limiter.check(key()), Err(1));
        assert_eq!(limiter.peek(&key()), Err(1));
        // Another address has its own bucket; a token has a bigger one.
        assert!(
            limiter
                .check(BucketKey::Addr("10.0.0.2".parse().unwrap()))
                .is_ok()
        );
        for _ in 0..40 {
            assert!(limiter.check(BucketKey::Token("w".into())).is_ok());
        }
        assert!(limiter.check(BucketKey::Token("w".into())).is_err());
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.9".parse().unwrap();
        let limiter = limiter(vec![proxy]);
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "1.2.3.4, 5.6.7.8".parse().unwrap());
        let stranger: IpAddr = "9.9.9.9".parse().unwrap();
        assert_eq!(limiter.client_addr(stranger, &headers), stranger);
        assert_eq!(
            limiter.client_addr(proxy, &headers),
            "5.6.7.8".parse::<IpAddr>().unwrap()
        );
        assert_eq!(limiter.client_addr(proxy, &HeaderMap::new()), proxy);
    }
}
