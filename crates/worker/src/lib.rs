//! The OutLayer worker: carries requests from the chain to their settlement.
//!
//! - [`monitor`](crate::monitor): follows the block stream and hands each
//!   block's `execution_requested` to the coordinator in one call; repairs
//!   from the contract's pending requests at start-up.
//! - [`jobs`](crate::jobs): claim a batch for the free slots, work, complete; leases kept alive.
//! - `completions`: completions finished together are reported in one call.
//! - `execute`: a job's steps, on the request as the contract holds it:
//!   build or fetch the program, decrypt secrets through the keystore (which
//!   reads the request itself), run it in the runtime, settle on chain.
//! - `artifact`: programs from memory, the coordinator's cache, or a
//!   contained build under a lock.
//! - `sweeper`: settles on chain the requests whose job the coordinator gave
//!   up on (a worker died holding it on its last attempt).
//! - [`chain`]: views at final and `resolve_execution` with one nonce sequence.

mod artifact;
mod completions;
pub use artifact::{Artifacts, Program, ProgramError};
pub mod chain;
mod config;
mod execute;
mod jobs;
mod monitor;
mod near_reads;
pub use near_reads::RpcReader;
mod seen;
mod sweeper;
mod timing;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use outlayer_coordinator_client::CoordinatorClient;
use outlayer_keystore::KeystoreClient;
use outlayer_near_client::{NearRpc, Signer};
use outlayer_runtime::{Runtime, RuntimeConfig};
use outlayer_types::ContractConfig;
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

pub use chain::{Chain, ChainError, Resolved};
pub use config::{BuildArgs, WorkerArgs};
pub use timing::RequestTiming;

/// How long the contract's terms (prices, caps) are reused before re-reading.
const CONFIG_TTL: Duration = Duration::from_secs(30);

/// The worker could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("operator key {path}: {message}")]
    OperatorKey { path: String, message: String },
    #[error("{0}")]
    Setup(String),
}

/// Everything the worker's tasks share.
pub(crate) struct Context {
    settings: WorkerArgs,
    worker_id: String,
    coordinator: CoordinatorClient,
    artifacts: Artifacts,
    keystore: Option<KeystoreClient>,
    chain: Chain,
    runtime: Runtime,
    /// QuickJS for `CodeSource::JavaScript` requests, when this worker has it.
    js_engine: Option<Arc<outlayer_runtime::Program>>,
    /// What programs may read from NEAR (`None`: reads are off).
    near_reads: Option<outlayer_runtime::NearReads>,
    config: Mutex<Option<(Instant, ContractConfig)>>,
    busy: AtomicUsize,
    timings: timing::Timings,
    seen: seen::SeenRequests,
}

impl Context {
    /// The contract's terms, re-read at most every [`CONFIG_TTL`].
    async fn config(&self) -> Result<ContractConfig, ChainError> {
        let mut cached = self.config.lock().await;
        if let Some((at, config)) = cached.as_ref()
            && at.elapsed() < CONFIG_TTL
        {
            return Ok(config.clone());
        }
        let config = self.chain.config().await?;
        *cached = Some((Instant::now(), config.clone()));
        Ok(config)
    }

    fn busy(&self) -> BusyGuard<'_> {
        self.busy.fetch_add(1, Ordering::Relaxed);
        BusyGuard(&self.busy)
    }

    fn busy_jobs(&self) -> usize {
        self.busy.load(Ordering::Relaxed)
    }
}

struct BusyGuard<'a>(&'a AtomicUsize);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A worker running in the background.
pub struct Running {
    pub worker_id: String,
    ctx: Arc<Context>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Where the time of this worker's recent executions went.
    pub fn timings(&self) -> Vec<RequestTiming> {
        self.ctx.timings.all()
    }

    /// Stops polling and following the chain; jobs in hand finish first.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }

    /// Stops at once, abandoning jobs in hand (their leases run out and
    /// another worker takes them): what a crash looks like.
    pub fn abort(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// Starts the worker's monitor (unless disabled), job loops and heartbeats.
pub async fn spawn(settings: WorkerArgs) -> Result<Running, StartError> {
    let operator = Signer::from_credentials_file(&settings.operator_credentials).map_err(|e| {
        StartError::OperatorKey {
            path: settings.operator_credentials.display().to_string(),
            message: e.to_string(),
        }
    })?;
    let rpc = NearRpc::new(settings.near_rpc_url.clone(), Duration::from_secs(30))
        .map_err(|e| StartError::Setup(format!("NEAR RPC: {e}")))?;
    let near_reads = near_reads::RpcReader::reads(
        rpc.clone(),
        settings.near_reads_per_second,
        settings.near_reads_per_execution,
    );
    let chain = Chain::new(rpc, settings.contract_id.clone(), Some(operator));
    let keystore = settings
        .keystore_url
        .as_deref()
        .map(|url| {
            KeystoreClient::new(
                url,
                settings.keystore_token.clone(),
                Duration::from_secs(30),
            )
        })
        .transpose()
        .map_err(|e| StartError::Setup(format!("keystore client: {e}")))?;
    let coordinator = CoordinatorClient::new(
        &settings.coordinator_url,
        settings.coordinator_token.clone(),
    );
    let builder = settings
        .build
        .builder()
        .map_err(|e| StartError::Setup(format!("builder: {e}")))?;
    let runtime =
        Runtime::new(RuntimeConfig::default()).map_err(|e| StartError::Setup(e.to_string()))?;
    let js_engine = load_js_engine(&runtime, &settings).await;
    let worker_id = settings.worker_id();
    let ctx = Arc::new(Context {
        worker_id: worker_id.clone(),
        artifacts: Artifacts::new(
            Some(coordinator.clone()),
            builder,
            settings.build.max_builds as usize,
        ),
        coordinator,
        keystore,
        chain,
        runtime,
        js_engine,
        near_reads,
        config: Mutex::new(None),
        busy: AtomicUsize::new(0),
        timings: Default::default(),
        seen: Default::default(),
        settings,
    });
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();
    if !ctx.settings.no_monitor {
        tasks.push(tokio::spawn(monitor::run(ctx.clone(), stopped.clone())));
        tasks.push(tokio::spawn(sweeper::run(ctx.clone(), stopped.clone())));
    }
    for _ in 0..ctx.settings.jobs {
        tasks.push(tokio::spawn(jobs::run(ctx.clone(), stopped.clone())));
    }
    tasks.push(tokio::spawn(jobs::heartbeats(ctx.clone(), stopped)));
    tracing::info!(worker_id = %worker_id, jobs = ctx.settings.jobs, "worker started");
    Ok(Running {
        worker_id,
        ctx,
        stop,
        tasks,
    })
}

/// The JavaScript engine, compiled once at start. A worker without one
/// still runs every other program.
async fn load_js_engine(
    runtime: &Runtime,
    settings: &WorkerArgs,
) -> Option<Arc<outlayer_runtime::Program>> {
    let path = settings
        .js_engine
        .clone()
        .unwrap_or_else(outlayer_runtime::default_js_engine_path);
    let wasm = match std::fs::read(&path) {
        Ok(wasm) => wasm,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "no JavaScript engine: JavaScript requests are left to other workers");
            return None;
        }
    };
    let runtime = runtime.clone();
    match tokio::task::spawn_blocking(move || runtime.load_js_engine(&wasm)).await {
        Ok(Ok(engine)) => {
            let sha256 = hex::encode(engine.sha256());
            tracing::info!(path = %path.display(), %sha256, "JavaScript engine loaded");
            Some(engine)
        }
        Ok(Err(failure)) => {
            tracing::warn!(path = %path.display(), error = %failure.message, "unusable JavaScript engine");
            None
        }
        Err(join) => {
            tracing::warn!(error = %join, "loading the JavaScript engine failed");
            None
        }
    }
}

#[cfg(test)]
pub(crate) use test_support::sample_request;

#[cfg(test)]
mod test_support {
    use outlayer_types::{
        BuildTarget, CodeSource, ExecutionContext, ExecutionRequest, ResourceLimits,
        ResponseFormat, U128,
    };

    /// A request as the contract would announce it, for unit tests.
    pub(crate) fn sample_request(id: u64) -> ExecutionRequest {
        ExecutionRequest {
            context: ExecutionContext {
                request_id: id,
                sender_id: acct("alice.near"),
                predecessor_id: acct("alice.near"),
                contract_id: acct("outlayer.near"),
                block_height: 5,
                block_timestamp: 1,
                transaction_hash: None,
                random_seed: [3; 32],
            },
            code_source: CodeSource::WasmUrl {
                url: "https://example.org/p.wasm".into(),
                hash: "ab".repeat(32),
                build_target: BuildTarget::Wasip1,
            },
            resource_limits: ResourceLimits::default(),
            input_data: None,
            input_in_state: false,
            secrets_ref: None,
            response_format: ResponseFormat::Text,
            payment: U128(1),
            payer_account_id: acct("alice.near"),
            max_compile_seconds: Some(120),
        }
    }

    fn acct(id: &str) -> outlayer_types::AccountId {
        id.parse().unwrap()
    }
}
