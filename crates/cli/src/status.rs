//! `outlayer status <request_id>`: where a request is, from the contract
//! (pending, answered, settled) and from the coordinator (its jobs: build,
//! run, their workers, attempts, outcomes and timings).

use std::process::ExitCode;
use std::time::Duration;

use outlayer_coordinator_client::CoordinatorClient;
use outlayer_near_client::{BlockReference, NearRpc};
use outlayer_types::{AccountId, RequestView};
use serde_json::json;

#[derive(clap::Args)]
pub(crate) struct Args {
    request_id: u64,
    /// NEAR JSON-RPC endpoint.
    #[arg(long, env = "NEAR_RPC_URL", default_value = "http://127.0.0.1:3030")]
    rpc: String,
    /// The OutLayer contract.
    #[arg(
        long,
        env = "OUTLAYER_CONTRACT_ID",
        default_value = "outlayer.test.near"
    )]
    contract: AccountId,
    /// The coordinator's base URL (its public routes only).
    #[arg(long, env = "COORDINATOR_URL", default_value = "http://127.0.0.1:8080")]
    coordinator: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn main(args: Args) -> anyhow::Result<ExitCode> {
    let rpc = NearRpc::new(args.rpc.clone(), Duration::from_secs(10))?;
    let on_chain: Option<RequestView> = rpc
        .view_call(
            &args.contract,
            "get_request",
            &json!({"request_id": args.request_id}),
            &BlockReference::default(),
        )
        .await?;
    let coordinator = CoordinatorClient::new(&args.coordinator, None);
    let jobs = coordinator.jobs_for_request(args.request_id).await;
    let chain_state = match &on_chain {
        None => "settled (or unknown)",
        Some(view) if view.resolved => "answered, settling",
        Some(_) => "pending",
    };
    if args.json {
        let jobs = match &jobs {
            Ok(jobs) => json!(jobs),
            Err(e) => json!({"error": e.to_string()}),
        };
        println!(
            "{}",
            json!({"request_id": args.request_id, "chain": chain_state, "request": on_chain, "jobs": jobs})
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("request {}: {chain_state} on chain", args.request_id);
    if let Some(view) = &on_chain {
        let context = &view.request.context;
        println!(
            "  requested  block {} by {} (transaction {})",
            context.block_height,
            context.sender_id,
            context.transaction_hash.as_deref().unwrap_or("?")
        );
    }
    match jobs {
        Ok(jobs) if jobs.is_empty() => println!("  the coordinator has no job for it"),
        Ok(mut jobs) => {
            jobs.sort_by_key(|j| j.job_id);
            for job in jobs {
                let took = job.updated_at_ms.saturating_sub(job.created_at_ms);
                let outcome = match (&job.error_category, &job.error) {
                    (Some(category), Some(error)) => format!(" {}: {error}", category.as_str()),
                    _ => job
                        .output_summary
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default(),
                };
                println!(
                    "  {:<8} {:<9} attempt {} on {}, {took} ms{outcome}",
                    job.job_type.as_str(),
                    job.state.as_str(),
                    job.attempt,
                    job.worker_id.as_deref().unwrap_or("-"),
                );
            }
        }
        Err(e) => println!("  coordinator: {e}"),
    }
    Ok(ExitCode::SUCCESS)
}
