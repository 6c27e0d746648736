//! The coordinator's HTTP API: what workers, event monitors and the dashboard
//! send and receive. Request bodies refuse unknown fields so a typo is a 400,
//! not a silently ignored setting.

use serde::{Deserialize, Serialize};

use crate::{
    AccountId, CodeSource, ExecutionRequest, ResourceLimits, ResourceMetrics, ResponseFormat,
    SecretsRef, U128,
};

/// The two kinds of work a request turns into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobType {
    /// Build the program from its repository and upload the artifact.
    Compile,
    /// Run the program and submit the result on-chain.
    Execute,
}

impl JobType {
    pub const ALL: [JobType; 2] = [JobType::Compile, JobType::Execute];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compile => "compile",
            Self::Execute => "execute",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "compile" => Some(Self::Compile),
            "execute" => Some(Self::Execute),
            _ => None,
        }
    }
}

/// Where a job is in its life: pending → claimed → completed | failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Pending,
    Claimed,
    Completed,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Claimed => "claimed",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pending" => Some(Self::Pending),
            "claimed" => Some(Self::Claimed),
            "completed" => Some(Self::Completed),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// Why a job failed, coarse enough to act on (refund, retry, alert).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCategory {
    CompilationFailed,
    ExecutionFailed,
    AccessDenied,
    InsufficientPayment,
    /// The platform's fault: a worker died, a lease ran out, a store failed.
    Infrastructure,
}

impl ErrorCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CompilationFailed => "compilation_failed",
            Self::ExecutionFailed => "execution_failed",
            Self::AccessDenied => "access_denied",
            Self::InsufficientPayment => "insufficient_payment",
            Self::Infrastructure => "infrastructure",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "compilation_failed" => Some(Self::CompilationFailed),
            "execution_failed" => Some(Self::ExecutionFailed),
            "access_denied" => Some(Self::AccessDenied),
            "insufficient_payment" => Some(Self::InsufficientPayment),
            "infrastructure" => Some(Self::Infrastructure),
            _ => None,
        }
    }
}

/// A request's overall progress, derived from its jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Compiling,
    Executing,
    Completed,
    Failed,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compiling => "compiling",
            Self::Executing => "executing",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "compiling" => Some(Self::Compiling),
            "executing" => Some(Self::Executing),
            "completed" => Some(Self::Completed),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// `POST /executions`: hand a request to the coordinator (idempotent on its id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateExecution {
    pub request: ExecutionRequest,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateExecutionResponse {
    pub request_id: u64,
    /// False when the request was already known (a second monitor saw it).
    pub created: bool,
    pub status: RequestStatus,
    /// The job the request starts with: compile unless the artifact is cached.
    pub first_job: JobType,
    pub artifact_checksum: String,
}

/// `POST /jobs/poll`: wait (bounded) until work of these kinds exists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollJobs {
    pub worker_id: String,
    pub capabilities: Vec<JobType>,
    /// How long to wait; capped by the coordinator.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

/// A pending job a worker may try to claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobOffer {
    pub job_id: u64,
    pub job_type: JobType,
    pub request_id: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollResponse {
    /// `None` when the wait ran out.
    pub job: Option<JobOffer>,
}

/// `POST /jobs/claim`: take a job (the offered one, or any pending one of
/// these kinds when `job_id` is absent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimJob {
    pub worker_id: String,
    #[serde(default)]
    pub job_id: Option<u64>,
    #[serde(default = "all_job_types")]
    pub capabilities: Vec<JobType>,
}

fn all_job_types() -> Vec<JobType> {
    JobType::ALL.to_vec()
}

/// A job held under a lease: only the holder of `lease_token` may extend or
/// complete it, and only until `lease_expires_at_ms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimedJob {
    pub job_id: u64,
    pub job_type: JobType,
    pub request_id: u64,
    /// 1 for the first claim, counting re-claims after expired leases.
    pub attempt: u32,
    pub lease_token: String,
    /// Milliseconds since the Unix epoch.
    pub lease_expires_at_ms: u64,
    pub artifact_checksum: String,
    pub request: ExecutionRequest,
}

/// `POST /jobs/{id}/heartbeat`: extend a held lease.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtendLease {
    pub lease_token: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseExtended {
    pub lease_expires_at_ms: u64,
}

/// `POST /jobs/{id}/complete`: the outcome of a held job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteJob {
    pub lease_token: String,
    pub success: bool,
    /// Required when `success` is false.
    #[serde(default)]
    pub error_category: Option<ErrorCategory>,
    /// A short, safe message (no secrets).
    #[serde(default)]
    pub error: Option<String>,
    /// A short description of the output (never the secrets-bearing payload).
    #[serde(default)]
    pub output_summary: Option<String>,
    #[serde(default)]
    pub metrics: Option<ResourceMetrics>,
    /// What the contract charged, in yoctoNEAR.
    #[serde(default)]
    pub actual_cost: Option<U128>,
    /// The `resolve_execution` transaction this job sent, if it sent one.
    /// Left out when absent, so a completion without it is what older
    /// coordinators accept (upgrade coordinators before workers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolve_tx_hash: Option<String>,
    /// When that transaction was sent (milliseconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolve_submitted_at_ms: Option<u64>,
}

/// `POST /executions/{id}/settled`: an event monitor saw the contract's
/// `execution_completed` for this request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionSettled {
    /// The block whose receipt emitted the event.
    pub block_height: u64,
    pub success: bool,
    pub charged: U128,
    pub refunded: U128,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobCompleted {
    pub state: JobState,
    /// The execute job a successful compile enqueued.
    #[serde(default)]
    pub next_job: Option<JobOffer>,
}

/// Most completions one `POST /jobs/complete-batch` takes.
pub const MAX_COMPLETE_BATCH: usize = 64;

/// One held job's outcome in `POST /jobs/complete-batch`: what
/// `POST /jobs/{job_id}/complete` would take.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobCompletion {
    pub job_id: u64,
    pub completion: CompleteJob,
}

/// `POST /jobs/complete-batch`: 1 to [`MAX_COMPLETE_BATCH`] completions of
/// distinct jobs, recorded in one transaction and each answered on its own
/// (see [`JobsCompleted`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteJobs {
    pub completions: Vec<JobCompletion>,
}

/// The answer to one completion of a batch: the status and body that
/// `POST /jobs/{job_id}/complete` would have answered (200 with
/// `completed`, or a 4xx with `error`; the other field is `null`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionResult {
    pub job_id: u64,
    pub status: u16,
    #[serde(default)]
    pub completed: Option<JobCompleted>,
    #[serde(default)]
    pub error: Option<ApiError>,
}

/// `POST /jobs/complete-batch`'s answer: one result per completion, in the
/// order given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobsCompleted {
    pub results: Vec<CompletionResult>,
}

/// Most requests one `POST /executions/batch` takes.
pub const MAX_CREATE_BATCH: usize = 64;

/// `POST /executions/batch`: 1 to [`MAX_CREATE_BATCH`] requests (an event
/// monitor's block), recorded in one transaction, each idempotent on its
/// `request_id` as `POST /executions` is and answered on its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateExecutions {
    pub requests: Vec<ExecutionRequest>,
}

/// The answer to one request of a batch: the status and body that
/// `POST /executions` would have answered (201 or 200 with `created`, or a
/// 4xx with `error`; the other field is `null`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreationResult {
    pub request_id: u64,
    pub status: u16,
    #[serde(default)]
    pub created: Option<CreateExecutionResponse>,
    #[serde(default)]
    pub error: Option<ApiError>,
}

/// `POST /executions/batch`'s answer: one result per request, in the order
/// given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionsCreated {
    pub results: Vec<CreationResult>,
}

/// `GET /public/artifacts/{checksum}/exists`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactStatus {
    pub checksum: String,
    pub exists: bool,
    #[serde(default)]
    pub size: Option<u64>,
}

/// `POST /locks/acquire`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcquireLock {
    pub key: String,
    pub ttl_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockGrant {
    pub key: String,
    /// Proof of ownership: only this token releases the lock.
    pub owner_token: String,
    pub expires_at_ms: u64,
}

/// `POST /locks/release`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseLock {
    pub key: String,
    pub owner_token: String,
}

/// What a worker says it is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerStatus {
    Idle,
    Busy,
    Draining,
}

impl WorkerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Busy => "busy",
            Self::Draining => "draining",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "idle" => Some(Self::Idle),
            "busy" => Some(Self::Busy),
            "draining" => Some(Self::Draining),
            _ => None,
        }
    }
}

/// `POST /workers/heartbeat`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerHeartbeat {
    pub worker_id: String,
    pub status: WorkerStatus,
    #[serde(default)]
    pub capabilities: Vec<JobType>,
    #[serde(default)]
    pub version: Option<String>,
}

/// One worker as the public `/public/workers` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerInfo {
    pub worker_id: String,
    /// The name of the token it authenticated with.
    pub token_name: String,
    pub status: WorkerStatus,
    pub capabilities: Vec<JobType>,
    #[serde(default)]
    pub version: Option<String>,
    pub last_seen_ms: u64,
    /// Seen within the coordinator's liveness window.
    pub active: bool,
    /// Jobs it finished successfully, all time.
    #[serde(default)]
    pub jobs_completed: u64,
    /// Jobs it finished as failed (or whose last lease it let run out), all time.
    #[serde(default)]
    pub jobs_failed: u64,
    /// The request of the job it most recently claimed and still holds.
    #[serde(default)]
    pub current_job: Option<u64>,
}

/// `GET`/`PUT /monitor/cursor/{name}`: the last block an event monitor handled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockCursor {
    pub block_height: u64,
}

/// `GET|PUT /pins/{key}`: a source's branch or tag resolved to a commit,
/// shared by the workers for a short time (the coordinator's `--pin-ttl-ms`).
/// The key is the unpinned source's `artifact_checksum`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcePin {
    pub commit: String,
}

/// One job in the public recent-jobs listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobInfo {
    pub job_id: u64,
    pub request_id: u64,
    pub job_type: JobType,
    pub state: JobState,
    pub attempt: u32,
    #[serde(default)]
    pub worker_id: Option<String>,
    #[serde(default)]
    pub error_category: Option<ErrorCategory>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub output_summary: Option<String>,
    #[serde(default)]
    pub metrics: Option<ResourceMetrics>,
    #[serde(default)]
    pub actual_cost: Option<U128>,
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
    /// When the current (or last) claim took it; `None` while it waits.
    /// `claimed_at_ms - created_at_ms` is the queue wait of a first attempt.
    #[serde(default)]
    pub claimed_at_ms: Option<u64>,
    /// When it completed or failed; `finished_at_ms - claimed_at_ms` is the
    /// run time of the attempt that finished it.
    #[serde(default)]
    pub finished_at_ms: Option<u64>,
}

/// `GET /public/jobs`: newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobsPage {
    pub jobs: Vec<JobInfo>,
    /// Pass as `offset` for the next page; absent on the last one.
    #[serde(default)]
    pub next_offset: Option<u64>,
}

/// Counts by state, for `GET /public/stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCounts {
    pub pending: u64,
    pub claimed: u64,
    pub completed: u64,
    pub failed: u64,
}

/// Failed requests by [`ErrorCategory`], for `GET /public/stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureCounts {
    pub compilation_failed: u64,
    pub execution_failed: u64,
    pub access_denied: u64,
    pub insufficient_payment: u64,
    pub infrastructure: u64,
}

impl FailureCounts {
    pub fn add(&mut self, category: ErrorCategory, n: u64) {
        let slot = match category {
            ErrorCategory::CompilationFailed => &mut self.compilation_failed,
            ErrorCategory::ExecutionFailed => &mut self.execution_failed,
            ErrorCategory::AccessDenied => &mut self.access_denied,
            ErrorCategory::InsufficientPayment => &mut self.insufficient_payment,
            ErrorCategory::Infrastructure => &mut self.infrastructure,
        };
        *slot += n;
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinatorStats {
    pub requests_total: u64,
    pub requests_completed: u64,
    pub requests_failed: u64,
    pub jobs: StateCounts,
    pub workers_active: u64,
    pub artifacts: u64,
    pub artifact_bytes: u64,
    /// Instructions (fuel) of every finished job, as the workers reported them.
    #[serde(default)]
    pub instructions_total: u64,
    /// Run time of every finished job, in milliseconds.
    #[serde(default)]
    pub execution_ms_total: u64,
    /// Build time spent, in milliseconds (each build counted once).
    #[serde(default)]
    pub compile_ms_total: u64,
    /// Failed requests by category.
    #[serde(default)]
    pub failures_by_category: FailureCounts,
}

/// One request as `GET /public/requests` lists it: what the contract was
/// asked (never the input or secrets) and how far the coordinator got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestSummary {
    pub request_id: u64,
    pub status: RequestStatus,
    /// The account that signed the request's transaction.
    pub sender_id: AccountId,
    /// The account refunds go to.
    pub payer_account_id: AccountId,
    pub code_source: CodeSource,
    pub artifact_checksum: String,
    pub resource_limits: ResourceLimits,
    #[serde(default)]
    pub max_compile_seconds: Option<u64>,
    pub response_format: ResponseFormat,
    #[serde(default)]
    pub secrets_ref: Option<SecretsRef>,
    /// The deposit, in yoctoNEAR.
    pub payment: U128,
    pub block_height: u64,
    /// Nanoseconds since the Unix epoch, as NEAR reports it.
    pub block_timestamp: u64,
    #[serde(default)]
    pub transaction_hash: Option<String>,
    #[serde(default)]
    pub error_category: Option<ErrorCategory>,
    #[serde(default)]
    pub error: Option<String>,
    /// What the run used (the execute job's report).
    #[serde(default)]
    pub metrics: Option<ResourceMetrics>,
    /// What the worker computed the contract charged, in yoctoNEAR.
    #[serde(default)]
    pub actual_cost: Option<U128>,
    /// When the coordinator first heard of it (milliseconds since the epoch).
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
    /// The contract's verdict once a monitor reported its settlement
    /// (`execution_completed`); `None` until then. `status` stays the
    /// jobs' view (a settled request is still `completed` or `failed`).
    #[serde(default)]
    pub settled_success: Option<bool>,
    /// When the coordinator recorded that settlement (milliseconds since
    /// the epoch, its clock, as `created_at_ms`); `None` until then, and
    /// for requests settled before coordinators recorded the time.
    #[serde(default)]
    pub settled_at_ms: Option<u64>,
}

/// `GET /public/requests`: newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestsPage {
    pub requests: Vec<RequestSummary>,
    /// Pass as `offset` for the next page; absent on the last one.
    #[serde(default)]
    pub next_offset: Option<u64>,
}

/// The request on chain, as the event monitor saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedStep {
    pub block_height: u64,
    /// Nanoseconds since the Unix epoch.
    pub block_timestamp: u64,
    #[serde(default)]
    pub transaction_hash: Option<String>,
}

/// The build (compile job), or the artifact found in the cache.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildStep {
    /// `None` when no compile job was needed (the artifact was cached when
    /// the request arrived).
    #[serde(default)]
    pub state: Option<JobState>,
    #[serde(default)]
    pub claimed_at_ms: Option<u64>,
    #[serde(default)]
    pub finished_at_ms: Option<u64>,
    #[serde(default)]
    pub worker_id: Option<String>,
    /// True when nothing was built (the artifact was cached), false when
    /// this request built it; `None` while unknown (not finished, or failed).
    #[serde(default)]
    pub cached: Option<bool>,
}

/// The run (execute job).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStep {
    pub state: JobState,
    #[serde(default)]
    pub claimed_at_ms: Option<u64>,
    #[serde(default)]
    pub finished_at_ms: Option<u64>,
    #[serde(default)]
    pub worker_id: Option<String>,
}

/// The operator's `resolve_execution` transaction, when a worker reported it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolveStep {
    pub tx_hash: String,
    /// When the coordinator recorded it (milliseconds since the epoch).
    pub submitted_at_ms: u64,
}

/// The contract's settlement (`execution_completed`), when a monitor saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettledStep {
    pub block_height: u64,
    pub success: bool,
    pub charged: U128,
    pub refunded: U128,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestTimeline {
    pub requested: RequestedStep,
    /// `None` for sources that need no build (a prebuilt binary).
    #[serde(default)]
    pub build: Option<BuildStep>,
    #[serde(default)]
    pub run: Option<RunStep>,
    #[serde(default)]
    pub resolve: Option<ResolveStep>,
    #[serde(default)]
    pub settled: Option<SettledStep>,
}

/// `GET /public/requests/{id}`: the summary, its jobs (oldest first), the
/// timeline and the build's short summary when the build failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestDetail {
    #[serde(flatten)]
    pub request: RequestSummary,
    pub jobs: Vec<JobInfo>,
    pub timeline: RequestTimeline,
    /// The builder's ≤ 200-byte summary of a failed build.
    #[serde(default)]
    pub build_log_summary: Option<String>,
}

/// Health of one dependency in `/health/detailed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Healthy,
    /// Working, but something needs attention (no active workers, lagging monitor).
    Degraded,
    Unhealthy,
    /// Not configured in this deployment.
    Disabled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub status: HealthStatus,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReport {
    pub status: HealthStatus,
    pub store: HealthCheck,
    pub queue: HealthCheck,
    pub keystore: HealthCheck,
    pub workers: HealthCheck,
    pub monitor: HealthCheck,
}

/// The body of every error response: a code (`bad_request`, `not_found`,
/// `conflict`, `payload_too_large`, `rate_limited`, `method_not_allowed`,
/// `unauthorized`, `unavailable`, `internal`) and a readable message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
    #[serde(default)]
    pub message: String,
}
