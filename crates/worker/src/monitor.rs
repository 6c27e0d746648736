//! The event monitor: follows the block stream from the cursor the
//! coordinator keeps, hands every `execution_requested` to the coordinator
//! (idempotent on the request id, so any number of monitors may run), and at
//! start-up repairs what it missed from the contract's pending requests.

use std::sync::Arc;
use std::time::Duration;

use outlayer_coordinator_client::ClientError;
use outlayer_near_client::{BlockReference, BlockStream, StreamBlock};
use outlayer_types::coordinator::{CreateExecutionResponse, ExecutionSettled, MAX_CREATE_BATCH};
use outlayer_types::{EVENT_VERSION, ExecutionRequest, OutlayerEvent};
use tokio::sync::watch;

use crate::Context;

/// How long one block-stream request waits for a block not produced yet.
const STREAM_WAIT: Duration = Duration::from_secs(5);

pub(crate) async fn run(ctx: Arc<Context>, mut stop: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(200);
    loop {
        let result = tokio::select! {
            result = follow(&ctx) => result,
            _ = stop.changed() => return,
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "event monitor failed; restarting");
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

async fn follow(ctx: &Context) -> Result<(), String> {
    let name = &ctx.settings.monitor_name;
    let start = match ctx
        .coordinator
        .cursor(name)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(height) => height + 1,
        None => match ctx.settings.monitor_start_height {
            Some(height) => height,
            None => {
                let block = ctx
                    .chain
                    .rpc()
                    .block(&BlockReference::default())
                    .await
                    .map_err(|e| e.to_string())?;
                block.header.height
            }
        },
    };
    // Whatever happened before the cursor and is still pending gets in too.
    repair(ctx).await?;
    let mut stream = BlockStream::new(ctx.settings.block_stream_url(), start, STREAM_WAIT)
        .map_err(|e| e.to_string())?;
    tracing::info!(from = start, "event monitor following the chain");
    loop {
        let Some(block) = stream.next().await.map_err(|e| e.to_string())? else {
            continue;
        };
        submit_all(ctx, &requests_in(&block, ctx.chain.contract())).await?;
        for (request_id, settled) in settlements_in(&block, ctx.chain.contract()) {
            record_settlement(ctx, request_id, &settled).await?;
        }
        ctx.coordinator
            .set_cursor(name, block.height)
            .await
            .map_err(|e| e.to_string())?;
    }
}

/// Hands the contract's unresolved pending requests to the coordinator.
async fn repair(ctx: &Context) -> Result<(), String> {
    let pending = ctx
        .chain
        .pending_requests()
        .await
        .map_err(|e| e.to_string())?;
    let requests: Vec<ExecutionRequest> = pending
        .into_iter()
        .filter(|v| !v.resolved)
        .map(|v| v.request)
        .collect();
    submit_all(ctx, &requests).await?;
    let handed = requests.len();
    if handed > 0 {
        tracing::info!(
            count = handed,
            "repaired pending requests from the contract"
        );
    }
    Ok(())
}

/// Hands requests to the coordinator: a block's (or the repair's) in as few
/// calls as `/executions/batch` allows, one alone through `/executions`.
async fn submit_all(ctx: &Context, requests: &[ExecutionRequest]) -> Result<(), String> {
    for chunk in requests.chunks(MAX_CREATE_BATCH) {
        for request in chunk {
            ctx.seen.remember(request);
        }
        let results = match chunk {
            [one] => vec![ctx.coordinator.create_execution(one).await],
            many => ctx
                .coordinator
                .create_executions(many)
                .await
                .map_err(|e| format!("{} requests: {e}", many.len()))?,
        };
        for (request, result) in chunk.iter().zip(results) {
            handed(ctx, request, result)?;
        }
    }
    Ok(())
}

fn handed(
    ctx: &Context,
    request: &ExecutionRequest,
    result: Result<CreateExecutionResponse, ClientError>,
) -> Result<(), String> {
    let created = match result {
        Ok(created) => created,
        // The contract accepted it, so only a contract and coordinator that
        // disagree get here (an older contract's rules): skipping one
        // request beats stopping the monitor on its block for good. The
        // request times out on chain and its caller is refunded.
        Err(e) if e.is_bad_request() => {
            tracing::error!(
                request_id = request.context.request_id,
                error = %e,
                "the coordinator refused a request the contract accepted; skipping it"
            );
            return Ok(());
        }
        Err(e) => return Err(format!("request {}: {e}", request.context.request_id)),
    };
    ctx.timings
        .handed(request.context.request_id, request.context.block_timestamp);
    if created.created {
        tracing::info!(
            request_id = created.request_id,
            first_job = created.first_job.as_str(),
            "request handed to the coordinator"
        );
    }
    Ok(())
}

/// Tells the coordinator how the contract settled a request, for its public
/// timeline. A refusal (a request it never heard of, or a coordinator too
/// old for the route) is only logged: the chain already has the truth.
async fn record_settlement(
    ctx: &Context,
    request_id: u64,
    settled: &ExecutionSettled,
) -> Result<(), String> {
    match ctx.coordinator.settled(request_id, settled).await {
        Ok(()) => Ok(()),
        Err(e @ outlayer_coordinator_client::ClientError::Refused { .. }) => {
            tracing::info!(request_id, error = %e, "the coordinator did not record a settlement");
            Ok(())
        }
        Err(e) => Err(format!("settlement of request {request_id}: {e}")),
    }
}

/// The settlements (`execution_completed`) `contract` announced in `block`,
/// from receipts that succeeded. Odd lines are skipped as in [`requests_in`].
pub(crate) fn settlements_in(
    block: &StreamBlock,
    contract: &outlayer_types::AccountId,
) -> Vec<(u64, ExecutionSettled)> {
    let mut settled = Vec::new();
    let outcomes = block
        .outcomes
        .iter()
        .filter(|o| o.succeeded && &o.executor_id == contract);
    for outcome in outcomes {
        for line in &outcome.logs {
            if !line.contains(&format!("\"version\":\"{EVENT_VERSION}\"")) {
                continue;
            }
            if let Some(Ok(OutlayerEvent::ExecutionCompleted(list))) =
                OutlayerEvent::from_log_line(line)
            {
                for done in list {
                    settled.push((
                        done.request_id,
                        ExecutionSettled {
                            block_height: block.height,
                            success: done.success,
                            charged: done.charged,
                            refunded: done.refunded,
                        },
                    ));
                }
            }
        }
    }
    settled
}

/// The requests `contract` announced in `block`, from receipts that
/// succeeded, each with the transaction it came from. Lines that are not
/// OutLayer events, of another version or malformed are skipped with a
/// warning: one odd log line must never stop the monitor.
pub(crate) fn requests_in(
    block: &StreamBlock,
    contract: &outlayer_types::AccountId,
) -> Vec<ExecutionRequest> {
    let mut requests = Vec::new();
    let outcomes = block
        .outcomes
        .iter()
        .filter(|o| o.succeeded && &o.executor_id == contract);
    for outcome in outcomes {
        for line in &outcome.logs {
            match OutlayerEvent::from_log_line(line) {
                None => {}
                Some(Err(e)) => tracing::warn!(
                    block = block.height,
                    receipt = %outcome.receipt_id,
                    error = %e,
                    "skipping an OutLayer event this worker does not understand"
                ),
                Some(Ok(_)) if !line.contains(&format!("\"version\":\"{EVENT_VERSION}\"")) => {
                    tracing::warn!(block = block.height, "skipping an event of another version");
                }
                Some(Ok(OutlayerEvent::ExecutionRequested(list))) => {
                    for mut request in list {
                        if request.context.transaction_hash.is_none() {
                            request.context.transaction_hash = outcome.tx_hash.clone();
                        }
                        requests.push(request);
                    }
                }
                Some(Ok(_)) => {}
            }
        }
    }
    requests
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample_request as request;
    use outlayer_near_client::ReceiptOutcome;

    fn account(id: &str) -> outlayer_types::AccountId {
        id.parse().unwrap()
    }

    fn outcome(executor: &str, succeeded: bool, logs: Vec<String>) -> ReceiptOutcome {
        ReceiptOutcome {
            receipt_id: "r".into(),
            executor_id: account(executor),
            predecessor_id: account("alice.near"),
            logs,
            succeeded,
            tx_hash: Some("TxHash111".into()),
        }
    }

    #[test]
    fn odd_lines_are_skipped_and_the_transaction_hash_is_filled() {
        let line = OutlayerEvent::ExecutionRequested(vec![request(7)]).to_log_line();
        let other_version = line.replace("\"version\":\"1.0.0\"", "\"version\":\"2.0.0\"");
        let block = StreamBlock {
            height: 9,
            hash: "h".into(),
            timestamp_nanosec: 0,
            outcomes: vec![
                outcome(
                    "outlayer.near",
                    true,
                    vec![
                        "plain log".into(),
                        r#"EVENT_JSON:{"standard":"near-outlayer","version":"1.0.0","event":"future_kind","data":[]}"#.into(),
                        "EVENT_JSON:{not json".into(),
                        other_version,
                        line.clone(),
                    ],
                ),
                // A failed receipt's logs describe nothing that happened.
                outcome("outlayer.near", false, vec![line.clone()]),
                // Another contract may print the same line: not ours.
                outcome("impostor.near", true, vec![line]),
            ],
        };
        let found = requests_in(&block, &account("outlayer.near"));
        let mut expected = request(7);
        expected.context.transaction_hash = Some("TxHash111".into());
        assert_eq!(found, vec![expected]);
    }

    #[test]
    fn settlements_come_from_the_contracts_successful_receipts() {
        let done = |id: u64, success: bool| outlayer_types::ExecutionCompleted {
            request_id: id,
            success,
            error: (!success).then(|| "trap".into()),
            resources_used: Default::default(),
            charged: outlayer_types::U128(10),
            refunded: outlayer_types::U128(90),
        };
        let line =
            OutlayerEvent::ExecutionCompleted(vec![done(3, true), done(4, false)]).to_log_line();
        let requested = OutlayerEvent::ExecutionRequested(vec![request(5)]).to_log_line();
        let block = StreamBlock {
            height: 12,
            hash: "h".into(),
            timestamp_nanosec: 0,
            outcomes: vec![
                outcome("outlayer.near", true, vec![requested, line.clone()]),
                outcome("outlayer.near", false, vec![line.clone()]),
                outcome(
                    "impostor.near",
                    true,
                    vec![line.replace("1.0.0", "2.0.0"), line],
                ),
            ],
        };
        let settled = |success: bool| ExecutionSettled {
            block_height: 12,
            success,
            charged: outlayer_types::U128(10),
            refunded: outlayer_types::U128(90),
        };
        assert_eq!(
            settlements_in(&block, &account("outlayer.near")),
            vec![(3, settled(true)), (4, settled(false))]
        );
    }
}
