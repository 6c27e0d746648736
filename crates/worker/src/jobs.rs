//! The job loop: claim as many pending jobs as there are free slots in one
//! call (waiting at the coordinator when none is pending) → compile or
//! execute each → complete (gathered by [`Completions`]), with each lease
//! extended while its work runs. Shutdown lets the jobs in hand finish.

use std::sync::Arc;
use std::time::Duration;

use outlayer_coordinator_client::wire::MAX_CLAIM_BATCH;
use outlayer_types::coordinator::{
    ClaimedJob, CompleteJob, JobType, WorkerHeartbeat, WorkerStatus,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use crate::Context;
use crate::completions::Completions;
use crate::execute;

const CAPABILITIES: [JobType; 2] = [JobType::Compile, JobType::Execute];

pub(crate) async fn run(ctx: Arc<Context>, mut stop: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(ctx.settings.jobs as usize));
    let mut in_hand = JoinSet::new();
    let (completions, sender) = Completions::start(ctx.coordinator.clone());
    loop {
        while in_hand.try_join_next().is_some() {}
        if *stop.borrow() {
            break;
        }
        let first = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("the slots are never closed"),
            _ = stop.changed() => break,
        };
        let mut permits = vec![first];
        while permits.len() < MAX_CLAIM_BATCH as usize
            && let Ok(permit) = slots.clone().try_acquire_owned()
        {
            permits.push(permit);
        }
        // The store is the truth and the queue only a hint: the coordinator
        // takes whatever is pending first, so a backlog drains at full
        // speed even when wake-ups were lost. Cancelling the call at
        // shutdown may lose a claim made in that instant; its lease runs
        // out and the job is handed out again.
        let claimed = tokio::select! {
            claimed = claim(&ctx, permits.len()) => claimed,
            _ = stop.changed() => break,
        };
        for (job, permit) in claimed.into_iter().zip(permits) {
            let ctx = ctx.clone();
            let completions = completions.clone();
            in_hand.spawn(async move { handle(&ctx, &completions, job, permit).await });
        }
    }
    while in_hand.join_next().await.is_some() {}
    drop(completions);
    let _ = sender.await;
}

/// Claims up to `free` pending jobs, waiting up to the poll interval for
/// one; empty when none came.
async fn claim(ctx: &Context, free: usize) -> Vec<ClaimedJob> {
    let max_jobs = u32::try_from(free).unwrap_or(MAX_CLAIM_BATCH);
    match ctx
        .coordinator
        .claim_batch(
            &ctx.worker_id,
            &CAPABILITIES,
            max_jobs,
            ctx.settings.poll_ms,
        )
        .await
    {
        Ok(jobs) => jobs,
        Err(e) => {
            tracing::warn!(error = %e, "claim failed");
            tokio::time::sleep(Duration::from_secs(1)).await;
            Vec::new()
        }
    }
}

/// Runs one claimed job to its completion at the coordinator; a job left
/// uncompleted (an infrastructure failure before the last attempt) is
/// handed out again when its lease runs out.
async fn handle(
    ctx: &Arc<Context>,
    completions: &Completions,
    job: ClaimedJob,
    _slot: OwnedSemaphorePermit,
) {
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
    let (success, category) = (complete.success, complete.error_category);
    match completions.complete(job.job_id, complete).await {
        Ok(()) => span.in_scope(|| {
            tracing::info!(
                success,
                category = category.map(|c| c.as_str()),
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
