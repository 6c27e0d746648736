//! The throughput benchmark behind `outlayer coordinator bench`: an
//! in-process coordinator on a real port, four creators (event monitors,
//! reporting a block's requests per call) and N simulated workers (claiming
//! their free slots per call, completing what finished together per call)
//! doing create → claim → complete over HTTP,
//! measuring jobs per second and claim latency flat out; then claim latency
//! at a steady load below that (creators reporting on a schedule, as blocks
//! arrive), since flat out every call queues behind the others by
//! construction; then, for the same setting, the two floors it cannot beat:
//! the same number of no-op HTTP round trips against the same server, and
//! the same store operations (the same SQL) called directly, without HTTP.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use outlayer_coordinator_client::{ClientError, CoordinatorClient, Method};
use outlayer_types::coordinator::{
    CompleteJob, JobCompletion, JobType, WorkerHeartbeat, WorkerStatus,
};
use outlayer_types::{
    AccountId, BuildTarget, CodeSource, ExecutionContext, ExecutionRequest, ResourceLimits,
    ResourceMetrics, ResponseFormat, U128,
};
use serde::Serialize;
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::{Store, now_ms};
use crate::{service, tokens};

const CREATORS: u64 = 4;
const KINDS: [JobType; 1] = [JobType::Execute];
/// How long an idle simulated worker waits in one claim.
const IDLE_WAIT_MS: u64 = 200;

/// `outlayer coordinator bench`'s settings.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchOptions {
    /// Concurrent simulated workers.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub workers: u32,
    /// Jobs each worker runs at once (a worker's `--jobs`, 8 by default):
    /// it claims up to this many in one call (`/jobs/claim-batch`).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub slots: u32,
    /// Requests each creator (event monitor) reports per call: 1 uses
    /// `POST /executions`, more `POST /executions/batch` (a block's worth).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub create_batch: u32,
    /// Completions a worker reports per call: 1 uses
    /// `POST /jobs/{id}/complete` for each job (concurrently), more
    /// `POST /jobs/complete-batch` for the jobs of a claim that finished
    /// together.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub complete_batch: u32,
    /// Requests to push through (in each phase).
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub requests: u64,
    /// Offered load of the steady phase, in jobs per second (unset: three
    /// quarters of the flat-out throughput just measured).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate: Option<u32>,
    /// PostgreSQL URL (unset: SQLite in a temporary directory).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Redis URL (unset: the in-process queue).
    #[arg(long)]
    pub redis_url: Option<String>,
    /// One JSON object on one line instead of the text report.
    #[arg(long)]
    pub json: bool,
}

impl BenchOptions {
    /// The defaults, with `workers` and `requests` set (tests).
    pub fn new(workers: u32, requests: u64) -> Self {
        Self {
            workers,
            slots: 8,
            create_batch: 8,
            complete_batch: 8,
            requests,
            rate: None,
            database_url: None,
            redis_url: None,
            json: false,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub store: &'static str,
    pub queue: &'static str,
    pub workers: u32,
    pub slots: u32,
    pub create_batch: u32,
    pub complete_batch: u32,
    pub requests: u64,
    pub elapsed_s: f64,
    /// Jobs (one per request) through create → claim → complete per second.
    pub requests_per_s: f64,
    /// Round trip of a claim that does not wait (`wait_ms` 0), p50 and p99,
    /// flat out.
    pub claim_p50_ms: f64,
    pub claim_p99_ms: f64,
    /// The steady phase: jobs per second offered (creators on a schedule)
    /// and got through, and the same claim latency at that load.
    pub steady_rate_per_s: f64,
    pub steady_requests_per_s: f64,
    pub steady_claim_p50_ms: f64,
    pub steady_claim_p99_ms: f64,
    /// HTTP calls the run made per job (creates, claims, completions).
    pub http_calls_per_job: f64,
    /// Jobs per second if a job cost only its HTTP round trips: the same
    /// number of no-op round trips (`GET /health` with the worker token) on
    /// the same server at the same concurrency.
    pub http_floor_per_s: f64,
    /// Jobs per second through the same store calls (the same SQL: create,
    /// claim, complete) made directly, at the same concurrency, no HTTP.
    pub store_floor_per_s: f64,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} + {}: {} requests, {} workers x {} slots, creates by {}, completions by {}",
            self.store,
            self.queue,
            self.requests,
            self.workers,
            self.slots,
            self.create_batch,
            self.complete_batch
        )?;
        writeln!(
            f,
            "  create → claim → complete  {:>8.0} jobs/s  ({:.2} s, {:.2} HTTP calls per job)",
            self.requests_per_s, self.elapsed_s, self.http_calls_per_job
        )?;
        writeln!(
            f,
            "  claim latency              p50 {:.2} ms, p99 {:.2} ms",
            self.claim_p50_ms, self.claim_p99_ms
        )?;
        writeln!(
            f,
            "  at a steady {:>6.0} jobs/s  {:>8.0} jobs/s, claim p50 {:.2} ms, p99 {:.2} ms",
            self.steady_rate_per_s,
            self.steady_requests_per_s,
            self.steady_claim_p50_ms,
            self.steady_claim_p99_ms
        )?;
        writeln!(
            f,
            "  HTTP floor                 {:>8.0} jobs/s  (ours at {:.0}% of it)",
            self.http_floor_per_s,
            100.0 * self.requests_per_s / self.http_floor_per_s
        )?;
        write!(
            f,
            "  store floor                {:>8.0} jobs/s  (ours at {:.0}% of it)",
            self.store_floor_per_s,
            100.0 * self.requests_per_s / self.store_floor_per_s
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

fn completion(lease_token: String) -> CompleteJob {
    CompleteJob {
        lease_token,
        success: true,
        error_category: None,
        error: None,
        output_summary: Some("bench".into()),
        metrics: Some(ResourceMetrics::default()),
        actual_cost: None,
        resolve_tx_hash: None,
        resolve_submitted_at_ms: None,
    }
}

/// A client failure ends the benchmark; the message says where.
fn client_error(e: ClientError) -> Error {
    Error::Internal(format!("bench client: {e}"))
}

fn join_error(e: tokio::task::JoinError) -> Error {
    Error::Internal(format!("bench task: {e}"))
}

fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1e3
}

/// What the simulated workers share: jobs done, the moment the last one
/// was, HTTP calls made, claim latencies.
struct Tally {
    total: u64,
    started: Instant,
    done: AtomicU64,
    last_done_ns: AtomicU64,
    calls: AtomicU64,
    latencies: Mutex<Vec<Duration>>,
}

impl Tally {
    fn new(total: u64) -> Arc<Self> {
        Arc::new(Self {
            total,
            started: Instant::now(),
            done: AtomicU64::new(0),
            last_done_ns: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            latencies: Mutex::new(Vec::new()),
        })
    }

    fn finished(&self) -> bool {
        self.done.load(Ordering::Relaxed) >= self.total
    }

    fn job_done(&self) {
        if self.done.fetch_add(1, Ordering::Relaxed) + 1 == self.total {
            let ns = self.started.elapsed().as_nanos() as u64;
            self.last_done_ns.store(ns, Ordering::Relaxed);
        }
    }

    fn call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// From the start to the last job's completion (not to the moment the
    /// last idle worker's wait ran out).
    fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.last_done_ns.load(Ordering::Relaxed))
    }
}

/// A worker with `slots` slots: claims up to that many pending jobs in one
/// call, completes them concurrently, and when a claim finds nothing waits
/// in the next one for a wake-up.
async fn worker(
    client: CoordinatorClient,
    id: String,
    options: BenchOptions,
    tally: Arc<Tally>,
) -> Result<()> {
    let slots = options.slots;
    let batch = options.complete_batch as usize;
    let mut idle = false;
    let mut mine = Vec::new();
    while !tally.finished() {
        let wait = if idle { IDLE_WAIT_MS } else { 0 };
        let started = Instant::now();
        let jobs = client
            .claim_batch(&id, &KINDS, slots, wait)
            .await
            .map_err(client_error)?;
        tally.call();
        if wait == 0 {
            mine.push(started.elapsed());
        }
        idle = jobs.is_empty();
        let done: Vec<JobCompletion> = jobs
            .into_iter()
            .map(|job| JobCompletion {
                job_id: job.job_id,
                completion: completion(job.lease_token),
            })
            .collect();
        let mut completions = JoinSet::new();
        for chunk in done.chunks(batch) {
            let client = client.clone();
            let tally = tally.clone();
            let chunk = chunk.to_vec();
            completions.spawn(async move {
                if let [one] = chunk.as_slice() {
                    client
                        .complete(one.job_id, &one.completion)
                        .await
                        .map_err(client_error)?;
                } else {
                    for result in client.complete_batch(&chunk).await.map_err(client_error)? {
                        result.map_err(client_error)?;
                    }
                }
                tally.call();
                for _ in &chunk {
                    tally.job_done();
                }
                Ok::<_, Error>(())
            });
        }
        while let Some(done) = completions.join_next().await {
            done.map_err(join_error)??;
        }
    }
    tally.latencies.lock().await.extend(mine);
    Ok(())
}

/// The same work on the store itself: no HTTP, no queue.
async fn store_worker(
    store: Store,
    id: String,
    options: BenchOptions,
    tally: Arc<Tally>,
) -> Result<()> {
    let batch = options.complete_batch as usize;
    while !tally.finished() {
        let claimed = store
            .claim_many(None, &KINDS, options.slots, &id, "bench-", 60_000, now_ms())
            .await?;
        if claimed.is_empty() {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        let done: Vec<(u64, CompleteJob)> = claimed
            .into_iter()
            .map(|row| (row.offer.job_id, completion(row.lease_token)))
            .collect();
        let mut completions = JoinSet::new();
        for chunk in done.chunks(batch) {
            let store = store.clone();
            let tally = tally.clone();
            let chunk = chunk.to_vec();
            completions.spawn(async move {
                // What the handlers call: one completion alone, or a batch.
                if let [(job_id, one)] = chunk.as_slice() {
                    store.complete(*job_id, one, now_ms()).await?;
                } else {
                    let items: Vec<(u64, &CompleteJob)> =
                        chunk.iter().map(|(id, done)| (*id, done)).collect();
                    for result in store.complete_many(&items, now_ms()).await? {
                        result?;
                    }
                }
                for _ in &chunk {
                    tally.job_done();
                }
                Ok::<_, Error>(())
            });
        }
        while let Some(done) = completions.join_next().await {
            done.map_err(join_error)??;
        }
    }
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
    let store_kind = if options.database_url.is_some() {
        "postgresql"
    } else {
        "sqlite"
    };
    let queue = running.coordinator.queue.kind();
    let token = tokens::create(&running.coordinator.store, &format!("bench-{run_id}")).await?;
    let client = CoordinatorClient::new(&running.url(), Some(token));
    let worker_ids: Vec<String> = (0..options.workers)
        .map(|i| format!("bench-{run_id}-{i}"))
        .collect();
    // Workers say hello first, as real ones do: their ids are theirs.
    for id in &worker_ids {
        client
            .worker_heartbeat(&WorkerHeartbeat {
                worker_id: id.clone(),
                status: WorkerStatus::Idle,
                capabilities: KINDS.to_vec(),
                version: None,
            })
            .await
            .map_err(client_error)?;
    }

    let result = async {
        let (elapsed, calls, mut latencies) =
            through_http(&client, &worker_ids, options, run_id * 1_000, None).await?;
        latencies.sort();
        let per_s = |d: Duration| options.requests as f64 / d.as_secs_f64();
        let rate = match options.rate {
            Some(rate) => f64::from(rate),
            None => (per_s(elapsed) * 0.75).max(1.0),
        };
        let (steady_elapsed, _, mut steady) = through_http(
            &client,
            &worker_ids,
            options,
            run_id * 1_000 + 2 * options.requests,
            Some(rate),
        )
        .await?;
        steady.sort();
        let http = http_floor(&client, calls, options).await?;
        let store = store_floor(
            &running.coordinator.store,
            &worker_ids,
            options,
            run_id * 1_000 + options.requests,
        )
        .await?;
        Ok(BenchReport {
            store: store_kind,
            queue,
            workers: options.workers,
            slots: options.slots,
            create_batch: options.create_batch,
            complete_batch: options.complete_batch,
            requests: options.requests,
            elapsed_s: elapsed.as_secs_f64(),
            requests_per_s: per_s(elapsed),
            claim_p50_ms: percentile_ms(&latencies, 0.50),
            claim_p99_ms: percentile_ms(&latencies, 0.99),
            steady_rate_per_s: rate,
            steady_requests_per_s: per_s(steady_elapsed),
            steady_claim_p50_ms: percentile_ms(&steady, 0.50),
            steady_claim_p99_ms: percentile_ms(&steady, 0.99),
            http_calls_per_job: calls as f64 / options.requests as f64,
            http_floor_per_s: per_s(http),
            store_floor_per_s: per_s(store),
        })
    }
    .await;
    running.stop().await;
    result
}

/// A measured run: elapsed time, HTTP calls made, claim latencies. Flat
/// out without a `rate`; with one, the creators' batches are due on a
/// schedule that offers `rate` jobs per second (a late batch goes at once).
async fn through_http(
    client: &CoordinatorClient,
    worker_ids: &[String],
    options: &BenchOptions,
    base: u64,
    rate: Option<f64>,
) -> Result<(Duration, u64, Vec<Duration>)> {
    let tally = Tally::new(options.requests);
    let workers: Vec<_> = worker_ids
        .iter()
        .map(|id| {
            tokio::spawn(worker(
                client.clone(),
                id.clone(),
                options.clone(),
                tally.clone(),
            ))
        })
        .collect();
    // Event monitors report requests concurrently too: four creators.
    let creators: Vec<_> = (0..CREATORS)
        .map(|k| {
            let client = client.clone();
            let requests = options.requests;
            let tally = tally.clone();
            let batch = options.create_batch as usize;
            let started = tally.started;
            tokio::spawn(async move {
                // Creator k reports batches k, k + CREATORS, ... of the run.
                let batches = requests.div_ceil(batch as u64);
                for index in (k..batches).step_by(CREATORS as usize) {
                    if let Some(rate) = rate {
                        let due = (index * batch as u64) as f64 / rate;
                        tokio::time::sleep_until((started + Duration::from_secs_f64(due)).into())
                            .await;
                    }
                    let first = index * batch as u64;
                    let ids: Vec<u64> = (first..requests.min(first + batch as u64)).collect();
                    let requests = ids
                        .iter()
                        .map(|n| request(base + n))
                        .collect::<Result<Vec<_>>>()?;
                    if let [one] = requests.as_slice() {
                        client.create_execution(one).await.map_err(client_error)?;
                    } else {
                        for result in client
                            .create_executions(&requests)
                            .await
                            .map_err(client_error)?
                        {
                            result.map_err(client_error)?;
                        }
                    }
                    tally.call();
                }
                Ok::<_, Error>(())
            })
        })
        .collect();
    for task in creators.into_iter().chain(workers) {
        task.await.map_err(join_error)??;
    }
    let latencies = std::mem::take(&mut *tally.latencies.lock().await);
    Ok((
        tally.elapsed(),
        tally.calls.load(Ordering::Relaxed),
        latencies,
    ))
}

/// `calls` no-op round trips, spread over as many tasks as the run had.
async fn http_floor(
    client: &CoordinatorClient,
    calls: u64,
    options: &BenchOptions,
) -> Result<Duration> {
    let tasks = u64::from(options.workers) * u64::from(options.slots) + CREATORS;
    let started = Instant::now();
    let mut set = JoinSet::new();
    for k in 0..tasks {
        let client = client.clone();
        set.spawn(async move {
            for _ in (k..calls).step_by(tasks as usize) {
                let response = client
                    .raw(Method::GET, "/health", None)
                    .await
                    .map_err(client_error)?;
                if !response.status.is_success() {
                    return Err(Error::Internal(format!(
                        "bench floor: /health answered {}",
                        response.status
                    )));
                }
            }
            Ok::<_, Error>(())
        });
    }
    while let Some(done) = set.join_next().await {
        done.map_err(join_error)??;
    }
    Ok(started.elapsed())
}

/// The same store calls as the run, made directly.
async fn store_floor(
    store: &Store,
    worker_ids: &[String],
    options: &BenchOptions,
    base: u64,
) -> Result<Duration> {
    let tally = Tally::new(options.requests);
    let mut set = JoinSet::new();
    for id in worker_ids {
        set.spawn(store_worker(
            store.clone(),
            format!("{id}-store"),
            options.clone(),
            tally.clone(),
        ));
    }
    for k in 0..CREATORS {
        let store = store.clone();
        let requests = options.requests;
        let batch = options.create_batch as usize;
        set.spawn(async move {
            let mine: Vec<u64> = (k..requests).step_by(CREATORS as usize).collect();
            for ids in mine.chunks(batch) {
                let requests = ids
                    .iter()
                    .map(|n| request(base + n))
                    .collect::<Result<Vec<_>>>()?;
                // What the handlers call: one request alone, or a batch.
                if let [one] = requests.as_slice() {
                    store.create_request(one, false, now_ms()).await?;
                } else {
                    let items: Vec<_> = requests.iter().map(|r| (r, false)).collect();
                    for result in store.create_many(&items, now_ms()).await? {
                        result?;
                    }
                }
            }
            Ok::<_, Error>(())
        });
    }
    while let Some(done) = set.join_next().await {
        done.map_err(join_error)??;
    }
    Ok(tally.elapsed())
}

/// `outlayer coordinator bench`: runs and prints the report (text, or one
/// JSON line with `--json`).
pub async fn main(options: BenchOptions) -> Result<()> {
    let json = options.json;
    let report = run(options).await?;
    if json {
        let line = serde_json::to_string(&report).map_err(|e| Error::Internal(e.to_string()))?;
        println!("{line}");
    } else {
        println!("{report}");
    }
    Ok(())
}
