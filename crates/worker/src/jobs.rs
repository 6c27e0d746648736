//! The job loop: claim what is pending, else long-poll for an offer and
//! claim it → compile or execute → complete, with the lease extended while
//! the work runs. Shutdown lets the job in hand finish.

use std::sync::Arc;
use std::time::Duration;

use outlayer_types::coordinator::{
    ClaimedJob, CompleteJob, JobType, WorkerHeartbeat, WorkerStatus,
};
use tokio::sync::watch;

use crate::Context;
use crate::execute;

const CAPABILITIES: [JobType; 2] = [JobType::Compile, JobType::Execute];

pub(crate) async fn run(ctx: Arc<Context>, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        // The store is the truth and the queue only a hint: take whatever
        // is pending first, so a backlog drains at full speed even when
        // wake-ups were lost (coordinator restarted, Redis flushed) or
        // several loops were offered the same job.
        if let Some(job) = claim(&ctx, None).await {
            handle(&ctx, job).await;
            continue;
        }
        let offer = tokio::select! {
            offer = ctx.coordinator.poll(&ctx.worker_id, &CAPABILITIES, ctx.settings.poll_ms) => offer,
            _ = stop.changed() => return,
        };
        match offer {
            Ok(Some(offer)) => {
                if let Some(job) = claim(&ctx, Some(offer.job_id)).await {
                    handle(&ctx, job).await;
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "poll failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Claims the offered job, or the oldest pending one; `None` when another
/// worker was quicker or nothing is pending.
async fn claim(ctx: &Context, job_id: Option<u64>) -> Option<ClaimedJob> {
    match ctx
        .coordinator
        .claim(&ctx.worker_id, job_id, &CAPABILITIES)
        .await
    {
        Ok(job) => Some(job),
        Err(e) if e.is_conflict() || e.is_not_found() => None,
        Err(e) => {
            tracing::warn!(error = %e, "claim failed");
            tokio::time::sleep(Duration::from_millis(200)).await;
            None
        }
    }
}

/// Runs one claimed job to its completion at the coordinator; a job left
/// uncompleted (an infrastructure failure before the last attempt) is
/// handed out again when its lease runs out.
async fn handle(ctx: &Arc<Context>, job: ClaimedJob) {
    let span = tracing::info_span!(
        "job",
        job_id = job.job_id,
        request_id = job.request_id,
        kind = job.job_type.as_str(),
        attempt = job.attempt
    );
    let _busy = ctx.busy();
    // Tied to this future: if the job is abandoned (the worker is stopped
    // hard), the lease must lapse so another worker takes the job over.
    let heartbeat = AbortOnDrop(tokio::spawn(extend_lease(ctx.clone(), job.clone())));
    let done = {
        let _enter = span.enter();
        tracing::info!("claimed");
        drop(_enter);
        match job.job_type {
            JobType::Compile => execute::compile(ctx, &job).await,
            JobType::Execute => execute::execute(ctx, &job).await,
        }
    };
    drop(heartbeat);
    let Some(complete) = done else {
        span.in_scope(|| tracing::warn!("left for another attempt"));
        return;
    };
    let complete = CompleteJob {
        lease_token: job.lease_token.clone(),
        ..complete
    };
    match ctx.coordinator.complete(job.job_id, &complete).await {
        Ok(_) => span.in_scope(|| {
            tracing::info!(
                success = complete.success,
                category = complete.error_category.map(|c| c.as_str()),
                "completed"
            )
        }),
        Err(e) => span.in_scope(|| tracing::warn!(error = %e, "completing the job failed")),
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Keeps the lease alive: renews at a third of its remaining time.
async fn extend_lease(ctx: Arc<Context>, job: ClaimedJob) {
    let mut expires = job.lease_expires_at_ms;
    loop {
        let now = now_ms();
        let wait = expires.saturating_sub(now) / 3;
        tokio::time::sleep(Duration::from_millis(wait.max(100))).await;
        match ctx
            .coordinator
            .extend_lease(job.job_id, &job.lease_token)
            .await
        {
            Ok(extended) => expires = extended.lease_expires_at_ms,
            Err(e) => {
                tracing::warn!(job_id = job.job_id, error = %e, "lease extension failed");
                if e.is_conflict() || e.is_not_found() {
                    return;
                }
            }
        }
    }
}

/// Tells the coordinator what this worker is doing, every few seconds.
pub(crate) async fn heartbeats(ctx: Arc<Context>, mut stop: watch::Receiver<bool>) {
    loop {
        let status = if *stop.borrow() {
            WorkerStatus::Draining
        } else if ctx.busy_jobs() > 0 {
            WorkerStatus::Busy
        } else {
            WorkerStatus::Idle
        };
        let beat = WorkerHeartbeat {
            worker_id: ctx.worker_id.clone(),
            status,
            capabilities: CAPABILITIES.to_vec(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        };
        if let Err(e) = ctx.coordinator.worker_heartbeat(&beat).await {
            tracing::debug!(error = %e, "worker heartbeat failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(10)) => {}
            _ = stop.changed() => return,
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
