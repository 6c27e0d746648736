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
use crate::request::{self, NewRequest};

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
    let settled = futures_all(waits).await?;
    let elapsed = started.elapsed();
    let failed = settled.iter().filter(|s| !s.success()).count();

    let mut blocks = Vec::new();
    for s in &settled {
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
    let handed: Vec<f64> = stack
        .workers
        .iter()
        .flat_map(|w| w.timings())
        .filter_map(|t| t.handed_ms)
        .collect();
    let step = |f: fn(&RequestTiming) -> f64| -> Vec<f64> { timings.iter().map(f).collect() };
    Ok(json!({
        "requests": requests,
        "workers": stack.workers.len(),
        "failed": failed,
        "submit_s": submitted.as_secs_f64(),
        "total_s": elapsed.as_secs_f64(),
        "requests_per_s": requests as f64 / elapsed.as_secs_f64(),
        "blocks_to_settlement": summary(&blocks),
        "offchain_ms_from_block": {
            "handed_to_coordinator": summary(&handed),
            "claimed": summary(&step(|t| t.claimed_ms)),
            "request_read": summary(&step(|t| t.read_ms)),
            "program_ready": summary(&step(|t| t.program_ms)),
            "secrets": summary(&step(|t| t.secrets_ms)),
            "ran": summary(&step(|t| t.ran_ms)),
            "resolve_sent": summary(&step(|t| t.sent_ms)),
        },
    }))
}

/// Median, 90th percentile and maximum.
fn summary(values: &[f64]) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    let round = |v: f64| (v * 100.0).round() / 100.0;
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
