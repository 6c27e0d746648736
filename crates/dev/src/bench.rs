//! `outlayer dev --bench N`: how fast the whole local system carries cached
//! requests from the chain to their settlement. One echo request is paid
//! first (it builds the program), then `N` are submitted back to back and
//! followed to their settlement. Reported: requests per second through the
//! system, blocks from request to settlement, and where the off-chain time
//! goes, measured by the workers from the timestamp of each request's block
//! to the resolve transaction being accepted.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use outlayer_near_client::{BlockReference, NearRpc, Signer};
use outlayer_types::{BuildTarget, CodeSource, ResourceLimits, ResponseFormat};
use outlayer_worker::RequestTiming;
use serde_json::{Value, json};

use crate::Stack;
use crate::request::{self, NewRequest, Settled};

/// Runs the benchmark and returns its figures as one JSON object.
pub async fn run(stack: &Stack, project: &Path, requests: usize) -> anyhow::Result<Value> {
    let project = project.canonicalize()?;
    let commit = crate::demo::git_head(&project)?;
    let rpc = NearRpc::new(stack.rpc_url.clone(), Duration::from_secs(30))?;
    let contract = stack.contract();
    let alice = Signer::from_credentials_file(stack.key_file("alice.test.near"))?;
    let echo = NewRequest {
        code_source: CodeSource::GitPackage {
            repo: format!("file://{}", project.display()),
            commit,
            path: "examples/echo".into(),
            build_target: BuildTarget::Wasip1,
        },
        limits: ResourceLimits::default(),
        input: "ping".into(),
        secrets_ref: None,
        response_format: ResponseFormat::Text,
    };
    let deposit = request::estimate(&rpc, &contract, &echo).await?;
    let warm = request::send(
        &rpc,
        &alice,
        &contract,
        &echo,
        deposit,
        Duration::from_secs(300),
    )
    .await?;
    anyhow::ensure!(warm.success(), "the warm-up request failed: {warm:?}");

    // Latency: one request at a time, so nothing queues.
    let mut alone = Vec::new();
    for _ in 0..requests.clamp(1, 10) {
        alone.push(
            request::send(
                &rpc,
                &alice,
                &contract,
                &echo,
                deposit,
                Duration::from_secs(120),
            )
            .await?,
        );
    }
    // Throughput: every request submitted at once.
    let started = Instant::now();
    let mut hashes = Vec::with_capacity(requests);
    for _ in 0..requests {
        hashes.push(request::submit(&rpc, &alice, &contract, &echo, deposit).await?);
    }
    let submitted = started.elapsed();
    let waits = hashes.into_iter().map(|hash| {
        let rpc = rpc.clone();
        let sender = alice.account_id.clone();
        async move { request::wait(&rpc, &sender, &hash, deposit, Duration::from_secs(300)).await }
    });
    let burst = futures_all(waits).await?;
    let elapsed = started.elapsed();
    let failed = alone.iter().chain(&burst).filter(|s| !s.success()).count();
    Ok(json!({
        "workers": stack.workers.len(),
        "failed": failed,
        "one_at_a_time": phase(stack, &rpc, &alone).await?,
        "burst": {
            "requests": requests,
            "submit_s": round(submitted.as_secs_f64()),
            "total_s": round(elapsed.as_secs_f64()),
            "requests_per_s": round(requests as f64 / elapsed.as_secs_f64()),
            "figures": phase(stack, &rpc, &burst).await?,
        },
    }))
}

/// Blocks to settlement and the workers' timings of these requests.
async fn phase(stack: &Stack, rpc: &NearRpc, settled: &[Settled]) -> anyhow::Result<Value> {
    let mut blocks = Vec::new();
    for s in settled {
        let (Some(from), Some(hash)) = (s.request_block, &s.settled_in) else {
            continue;
        };
        let block = rpc
            .block(&BlockReference::Hash(hash.clone()))
            .await
            .context("settlement block")?;
        blocks.push(block.header.height.saturating_sub(from) as f64);
    }
    let ids: Vec<u64> = settled.iter().filter_map(|s| s.request_id).collect();
    let timings: Vec<RequestTiming> = stack
        .workers
        .iter()
        .flat_map(|w| w.timings())
        .filter(|t| ids.contains(&t.request_id))
        .collect();
    let step = |f: fn(&RequestTiming) -> f64| -> Value {
        summary(&timings.iter().map(f).collect::<Vec<_>>())
    };
    let handed: Vec<f64> = timings.iter().filter_map(|t| t.handed_ms).collect();
    Ok(json!({
        "blocks_to_settlement": summary(&blocks),
        "offchain_ms_after_block": {
            "1_handed_to_coordinator": summary(&handed),
            "2_claimed": step(|t| t.claimed_ms),
            "3_request_read": step(|t| t.read_ms),
            "4_program_ready": step(|t| t.program_ms),
            "5_secrets": step(|t| t.secrets_ms),
            "6_ran": step(|t| t.ran_ms),
            "7_resolve_sent": step(|t| t.sent_ms),
        },
    }))
}

fn round(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Median, 90th percentile and maximum.
fn summary(values: &[f64]) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    json!({"p50": round(at(0.5)), "p90": round(at(0.9)), "max": round(at(1.0))})
}

/// Awaits every future, concurrently; the first error wins.
async fn futures_all<T, F>(futures: impl IntoIterator<Item = F>) -> anyhow::Result<Vec<T>>
where
    F: std::future::Future<Output = anyhow::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await??);
    }
    Ok(results)
}
