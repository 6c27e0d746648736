//! Counters for `/metrics` (Prometheus text format). Gauges that the store
//! knows (jobs by state, workers) are read at scrape time instead of being
//! mirrored here, so they cannot drift.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Metrics {
    requests_created: AtomicU64,
    jobs_claimed: AtomicU64,
    claim_conflicts: AtomicU64,
    jobs_completed: AtomicU64,
    jobs_failed: AtomicU64,
    leases_expired: AtomicU64,
    jobs_exhausted: AtomicU64,
    wakeups_resent: AtomicU64,
    artifacts_corrupt: AtomicU64,
    rate_limited: AtomicU64,
    auth_failures: AtomicU64,
    token_lookups: AtomicU64,
}

fn inc(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

impl Metrics {
    pub fn request_created(&self) {
        inc(&self.requests_created, 1);
    }
    pub fn job_claimed(&self) {
        inc(&self.jobs_claimed, 1);
    }
    pub fn claim_conflict(&self) {
        inc(&self.claim_conflicts, 1);
    }
    pub fn job_finished(&self, success: bool) {
        inc(
            if success {
                &self.jobs_completed
            } else {
                &self.jobs_failed
            },
            1,
        );
    }
    pub fn leases_expired(&self, requeued: u64, exhausted: u64) {
        inc(&self.leases_expired, requeued + exhausted);
        inc(&self.jobs_exhausted, exhausted);
    }
    pub fn wakeups_resent(&self, n: u64) {
        inc(&self.wakeups_resent, n);
    }
    pub fn artifact_corrupt(&self) {
        inc(&self.artifacts_corrupt, 1);
    }
    pub fn rate_limited(&self) {
        inc(&self.rate_limited, 1);
    }
    pub fn auth_failure(&self) {
        inc(&self.auth_failures, 1);
    }
    pub fn token_lookup(&self) {
        inc(&self.token_lookups, 1);
    }
    /// Bearer tokens looked up in the store so far.
    pub fn token_lookups(&self) -> u64 {
        self.token_lookups.load(Ordering::Relaxed)
    }

    /// The counters, in Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let counters = [
            (
                "requests_created",
                "Requests recorded",
                &self.requests_created,
            ),
            ("jobs_claimed", "Successful claims", &self.jobs_claimed),
            (
                "claim_conflicts",
                "Claims refused: job no longer pending",
                &self.claim_conflicts,
            ),
            (
                "jobs_completed",
                "Jobs completed successfully",
                &self.jobs_completed,
            ),
            (
                "jobs_failed",
                "Jobs completed with a failure",
                &self.jobs_failed,
            ),
            (
                "leases_expired",
                "Leases that ran out",
                &self.leases_expired,
            ),
            (
                "jobs_exhausted",
                "Jobs failed after their last attempt",
                &self.jobs_exhausted,
            ),
            (
                "wakeups_resent",
                "Queue wake-ups re-sent by the reconciler",
                &self.wakeups_resent,
            ),
            (
                "artifacts_corrupt",
                "Cached artifacts found corrupt",
                &self.artifacts_corrupt,
            ),
            (
                "rate_limited",
                "Requests refused by rate limits",
                &self.rate_limited,
            ),
            (
                "auth_failures",
                "Requests with a missing or bad token",
                &self.auth_failures,
            ),
            (
                "token_lookups",
                "Bearer tokens looked up in the store (not remembered)",
                &self.token_lookups,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP outlayer_coordinator_{name}_total {help}");
            let _ = writeln!(out, "# TYPE outlayer_coordinator_{name}_total counter");
            let _ = writeln!(
                out,
                "outlayer_coordinator_{name}_total {}",
                value.load(Ordering::Relaxed)
            );
        }
    }
}

/// Starts a gauge family; follow with [`sample`] lines.
pub fn gauge(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP outlayer_coordinator_{name} {help}");
    let _ = writeln!(out, "# TYPE outlayer_coordinator_{name} gauge");
}

/// One value of a gauge family; `labels` is empty or `{key="value"}`.
pub fn sample(out: &mut String, name: &str, labels: &str, value: u64) {
    let _ = writeln!(out, "outlayer_coordinator_{name}{labels} {value}");
}
