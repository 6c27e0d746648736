//! The throughput benchmark behind `outlayer coordinator bench`: an
//! in-process coordinator on a real port, four creators and N simulated workers
//! doing create → poll → claim → complete over HTTP, measuring requests per
//! second and claim latency.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use outlayer_coordinator_client::{ClientError, CoordinatorClient};
use outlayer_types::coordinator::{CompleteJob, JobType};
use outlayer_types::{
    AccountId, BuildTarget, CodeSource, ExecutionContext, ExecutionRequest, ResourceLimits,
    ResourceMetrics, ResponseFormat, U128,
};
use tokio::sync::Mutex;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::now_ms;
use crate::{service, tokens};

const CREATORS: u64 = 4;

#[derive(Clone, Debug)]
pub struct BenchOptions {
    pub workers: usize,
    pub requests: u64,
    /// PostgreSQL; `None` for SQLite in a temporary directory.
    pub database_url: Option<String>,
    /// Redis; `None` for the in-process queue.
    pub redis_url: Option<String>,
}

#[derive(Clone, Debug)]
pub struct BenchReport {
    pub store: &'static str,
    pub queue: &'static str,
    pub workers: usize,
    pub requests: u64,
    pub elapsed: Duration,
    pub claim_p50: Duration,
    pub claim_p99: Duration,
}

impl BenchReport {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} + {}: {} requests, {} workers, {:.2} s, {:.0} req/s (create→poll→claim→complete), claim p50 {:.2} ms, p99 {:.2} ms",
            self.store,
            self.queue,
            self.requests,
            self.workers,
            self.elapsed.as_secs_f64(),
            self.per_second(),
            self.claim_p50.as_secs_f64() * 1e3,
            self.claim_p99.as_secs_f64() * 1e3,
        )
    }
}

fn account(id: &str) -> Result<AccountId> {
    id.parse()
        .map_err(|e| Error::Internal(format!("account id {id}: {e}")))
}

fn request(request_id: u64) -> Result<ExecutionRequest> {
    Ok(ExecutionRequest {
        context: ExecutionContext {
            request_id,
            sender_id: account("bench.near")?,
            predecessor_id: account("bench.near")?,
            contract_id: account("outlayer.near")?,
            block_height: 1,
            block_timestamp: 1,
            transaction_hash: None,
            random_seed: [0; 32],
        },
        code_source: CodeSource::WasmUrl {
            url: "https://example.org/bench.wasm".into(),
            hash: "00".repeat(32),
            build_target: BuildTarget::Wasip1,
        },
        resource_limits: ResourceLimits::default(),
        input_data: None,
        input_in_state: false,
        secrets_ref: None,
        response_format: ResponseFormat::Text,
        payment: U128(1),
        payer_account_id: account("bench.near")?,
        max_compile_seconds: None,
    })
}

/// A client failure ends the benchmark; the message says where.
fn client_error(e: ClientError) -> Error {
    Error::Internal(format!("bench client: {e}"))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

async fn worker(
    client: CoordinatorClient,
    id: String,
    done: Arc<AtomicU64>,
    total: u64,
    latencies: Arc<Mutex<Vec<Duration>>>,
) -> Result<()> {
    let kinds = [JobType::Execute];
    let mut mine = Vec::new();
    while done.load(Ordering::Relaxed) < total {
        let Some(offer) = client.poll(&id, &kinds, 200).await.map_err(client_error)? else {
            continue;
        };
        let started = Instant::now();
        let claimed = match client.claim(&id, Some(offer.job_id), &kinds).await {
            Ok(claimed) => claimed,
            // Another worker took it first.
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(client_error(e)),
        };
        mine.push(started.elapsed());
        client
            .complete(
                claimed.job_id,
                &CompleteJob {
                    lease_token: claimed.lease_token,
                    success: true,
                    error_category: None,
                    error: None,
                    output_summary: Some("bench".into()),
                    metrics: Some(ResourceMetrics::default()),
                    actual_cost: None,
                    resolve_tx_hash: None,
                    resolve_submitted_at_ms: None,
                },
            )
            .await
            .map_err(client_error)?;
        done.fetch_add(1, Ordering::Relaxed);
    }
    latencies.lock().await.extend(mine);
    Ok(())
}

/// Runs the benchmark against a fresh in-process coordinator.
pub async fn run(options: BenchOptions) -> Result<BenchReport> {
    let dir = std::env::temp_dir().join(format!(
        "outlayer-bench-{}-{}",
        std::process::id(),
        now_ms()
    ));
    let result = run_in(&dir, &options).await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    result
}

async fn run_in(dir: &Path, options: &BenchOptions) -> Result<BenchReport> {
    let mut config = Config::local(dir.to_path_buf());
    config.database_url = options.database_url.clone();
    config.redis_url = options.redis_url.clone();
    // A prefix and request ids of our own, so runs against a shared
    // PostgreSQL or Redis do not collide.
    let run_id = now_ms() as u64;
    config.redis_prefix = format!("outlayer-bench-{run_id}");
    config.anon_rps = 0.0;
    config.keyed_rps = 0.0;
    let running = service::spawn(config).await?;
    let store = if options.database_url.is_some() {
        "postgresql"
    } else {
        "sqlite"
    };
    let queue = running.coordinator.queue.kind();
    let token = tokens::create(&running.coordinator.store, &format!("bench-{run_id}")).await?;
    let client = CoordinatorClient::new(&running.url(), Some(token));

    let done = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let workers: Vec<_> = (0..options.workers)
        .map(|i| {
            tokio::spawn(worker(
                client.clone(),
                format!("bench-{i}"),
                done.clone(),
                options.requests,
                latencies.clone(),
            ))
        })
        .collect();
    // Event monitors report requests concurrently too: four creators.
    let base = run_id * 1_000;
    let creators: Vec<_> = (0..CREATORS)
        .map(|k| {
            let client = client.clone();
            let requests = options.requests;
            tokio::spawn(async move {
                for n in (k..requests).step_by(CREATORS as usize) {
                    client
                        .create_execution(&request(base + n)?)
                        .await
                        .map_err(client_error)?;
                }
                Ok::<_, Error>(())
            })
        })
        .collect();
    for creator in creators {
        creator
            .await
            .map_err(|e| Error::Internal(format!("bench creator: {e}")))??;
    }
    for worker in workers {
        worker
            .await
            .map_err(|e| Error::Internal(format!("bench worker: {e}")))??;
    }
    let elapsed = started.elapsed();
    running.stop().await;
    let mut latencies = Arc::try_unwrap(latencies)
        .map_err(|_| Error::Internal("latencies still shared".into()))?
        .into_inner();
    latencies.sort();
    Ok(BenchReport {
        store,
        queue,
        workers: options.workers,
        requests: options.requests,
        elapsed,
        claim_p50: percentile(&latencies, 0.50),
        claim_p99: percentile(&latencies, 0.99),
    })
}
