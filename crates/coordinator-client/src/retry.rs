//! When a failed call is tried again, and after how long. Pure decisions, so
//! they are tested without a server; the client only sleeps and repeats.

use std::time::Duration;

/// Whether repeating a call is harmless. Decided per method in `client.rs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// Doing it twice has the same effect and the same answer as doing it
    /// once (reads; requests idempotent on `request_id`; completions the
    /// coordinator recognises as repeats; leases and heartbeats that only
    /// move a timestamp; uploads keyed by checksum).
    Safe,
    /// The first try may have acted even though its answer was lost, and a
    /// second would act again or answer differently (a claim hands out a
    /// second job; a lock taken twice conflicts with itself). Tried again
    /// only when the coordinator certainly did nothing.
    OnlyIfNotActed,
}

/// Why an attempt failed, as far as retrying cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// 429: the rate limiter refused before any handler ran.
    RateLimited { retry_after: Option<Duration> },
    /// The connection could not be opened: nothing was sent.
    Connect,
    /// 502/503/504, or a timeout or broken connection after sending: the
    /// coordinator may or may not have acted.
    MaybeActed,
}

impl Failure {
    /// The failure a status stands for, if it is one worth retrying.
    pub(crate) fn from_status(status: u16, retry_after: Option<&str>) -> Option<Self> {
        match status {
            429 => Some(Self::RateLimited {
                retry_after: retry_after.and_then(parse_retry_after),
            }),
            502..=504 => Some(Self::MaybeActed),
            // A 500 is a bug or a broken store; repeating it at once only
            // adds load. Callers see `Unavailable` and decide.
            _ => None,
        }
    }
}

/// How many times, and how patiently, a client retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Tries after the first; 0 turns retrying off.
    pub(crate) retries: u32,
    /// The first backoff; it doubles on each further retry.
    pub(crate) backoff: Duration,
    /// The longest `Retry-After` we honour, so a confused or hostile server
    /// cannot park a worker.
    pub(crate) max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// Four tries in all: 100, 200 and 400 ms apart (or `Retry-After`, at
    /// most 10 s, for a 429).
    fn default() -> Self {
        Self {
            retries: 3,
            backoff: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(10),
        }
    }
}

/// `Retry-After` when the coordinator sends none we can read.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

impl RetryPolicy {
    /// How long to wait before trying again, or `None` to give up with this
    /// failure. `retried` is how many retries were already made.
    pub(crate) fn delay(&self, repeat: Repeat, failure: Failure, retried: u32) -> Option<Duration> {
        if retried >= self.retries {
            return None;
        }
        match failure {
            Failure::RateLimited { retry_after } => Some(
                retry_after
                    .unwrap_or(DEFAULT_RETRY_AFTER)
                    .min(self.max_retry_after),
            ),
            Failure::Connect => Some(self.backoff(retried)),
            Failure::MaybeActed => (repeat == Repeat::Safe).then(|| self.backoff(retried)),
        }
    }

    fn backoff(&self, retried: u32) -> Duration {
        self.backoff.saturating_mul(1 << retried.min(16))
    }
}

/// `Retry-After` in seconds (the coordinator's form). The HTTP-date form is
/// not parsed: it falls back to the default wait.
fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn backoff_doubles_and_is_bounded() {
        let policy = RetryPolicy::default();
        let delays: Vec<_> = (0..5)
            .map(|n| policy.delay(Repeat::Safe, Failure::MaybeActed, n))
            .collect();
        assert_eq!(
            delays,
            [Some(MS(100)), Some(MS(200)), Some(MS(400)), None, None]
        );
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let policy = RetryPolicy::default();
        let after = |header| {
            let failure = Failure::from_status(429, header).unwrap();
            policy.delay(Repeat::OnlyIfNotActed, failure, 0)
        };
        assert_eq!(after(Some("2")), Some(Duration::from_secs(2)));
        assert_eq!(after(Some("3600")), Some(Duration::from_secs(10)));
        assert_eq!(
            after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::from_secs(1))
        );
        assert_eq!(after(None), Some(Duration::from_secs(1)));
    }

    #[test]
    fn calls_that_may_have_acted_are_not_repeated_blindly() {
        let policy = RetryPolicy::default();
        let unsafe_call = |failure| policy.delay(Repeat::OnlyIfNotActed, failure, 0);
        assert_eq!(unsafe_call(Failure::MaybeActed), None);
        assert_eq!(unsafe_call(Failure::Connect), Some(MS(100)));
        assert!(unsafe_call(Failure::RateLimited { retry_after: None }).is_some());
    }

    #[test]
    fn which_statuses_are_retried() {
        for status in [502, 503, 504] {
            assert_eq!(
                Failure::from_status(status, None),
                Some(Failure::MaybeActed)
            );
        }
        for status in [200, 400, 404, 409, 500, 501] {
            assert_eq!(Failure::from_status(status, None), None, "{status}");
        }
    }

    #[test]
    fn zero_retries_turns_retrying_off() {
        let policy = RetryPolicy {
            retries: 0,
            ..RetryPolicy::default()
        };
        let failure = Failure::RateLimited { retry_after: None };
        assert_eq!(policy.delay(Repeat::Safe, failure, 0), None);
    }
}
