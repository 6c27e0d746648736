//! Settles requests whose job the coordinator gave up on (a worker died
//! holding it on the last attempt): without this the caller would wait for
//! the yield to time out. Runs beside the event monitor.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use outlayer_types::coordinator::{ErrorCategory, JobInfo};
use outlayer_types::limits::truncate_error;
use outlayer_types::{ExecutionResponse, ResourceMetrics};
use tokio::sync::watch;

use crate::Context;
use crate::chain::Resolved;

/// How often failed jobs are looked at.
const EVERY: Duration = Duration::from_secs(5);
/// Failed jobs looked at per pass (newest first).
const PAGE: u32 = 100;
/// Job ids remembered as handled before the set starts over.
const SEEN_CAP: usize = 100_000;

pub(crate) async fn run(ctx: Arc<Context>, mut stop: watch::Receiver<bool>) {
    let mut seen = HashSet::new();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = sweep(&ctx, &mut seen).await {
            tracing::warn!(error = %e, "sweeping failed jobs");
        }
    }
}

/// One pass: every recently failed job whose request is still unanswered on
/// chain is settled as an infrastructure failure. `seen` holds the jobs
/// already looked at, so each costs one chain read, once.
pub(crate) async fn sweep(ctx: &Context, seen: &mut HashSet<u64>) -> Result<usize, String> {
    if seen.len() > SEEN_CAP {
        seen.clear();
    }
    let page = ctx
        .coordinator
        .jobs(&format!("state=failed&limit={PAGE}"))
        .await
        .map_err(|e| e.to_string())?;
    let mut settled = 0;
    let fresh: Vec<&JobInfo> = page
        .jobs
        .iter()
        .filter(|j| j.error_category == Some(ErrorCategory::Infrastructure))
        .filter(|j| !seen.contains(&j.job_id))
        .collect();
    for job in fresh {
        let Some(view) = ctx
            .chain
            .request(job.request_id)
            .await
            .map_err(|e| e.to_string())?
        else {
            seen.insert(job.job_id);
            continue;
        };
        if view.resolved {
            seen.insert(job.job_id);
            continue;
        }
        let message = job.error.as_deref().unwrap_or("the job was abandoned");
        let response = ExecutionResponse {
            success: false,
            output: None,
            error: Some(truncate_error(&format!("infrastructure: {message}"))),
            resources_used: ResourceMetrics::default(),
        };
        match ctx.chain.resolve(job.request_id, &response).await {
            Ok(Resolved::Sent { tx_hash, .. }) => {
                tracing::info!(request_id = job.request_id, tx = %tx_hash, "settled an abandoned request");
                seen.insert(job.job_id);
                settled += 1;
            }
            Ok(Resolved::AlreadySettled { .. }) => {
                seen.insert(job.job_id);
            }
            Err(e) => {
                tracing::warn!(request_id = job.request_id, error = %e, "settling an abandoned request")
            }
        }
    }
    Ok(settled)
}
