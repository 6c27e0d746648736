//! Routes for workers and event monitors (bearer token required): requests,
//! polling, claims, leases, completion, artifacts, locks, heartbeats, cursors.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use outlayer_types::MaxLimits;
use outlayer_types::coordinator::*;
use serde_json::json;

use super::extract::{ApiBytes, ApiJson, ApiPath};
use super::{Routes, Worker};
use crate::auth::random_hex;
use crate::error::{Error, Result};
use crate::openapi::{Op, binary_schema, checksum_schema, u64_schema};
use crate::service::Coordinator;
use crate::store::{ClaimedRow, CreatedRequest};
use outlayer_coordinator_client::wire::{ClaimJobs, ClaimedJobs, MAX_CLAIM_BATCH};

/// Every worker route, declared once: its description in `/openapi.json`
/// and its handler.
pub(super) fn routes(max_artifact_bytes: usize) -> Routes {
    let id = || u64_schema();
    let cursor = || json!({ "type": "string", "pattern": "^[!-~]{1,64}$" });
    let pin_key = || checksum_schema();
    Routes::new()
        .route(
            Op::post("/executions", "Record a request (idempotent on request_id)")
                .worker()
                .body("CreateExecution")
                .answers(201, "CreateExecutionResponse")
                .answers(200, "CreateExecutionResponse")
                .errors(&[400, 409, 413]),
            create_execution,
        )
        .route(
            Op::post(
                "/executions/batch",
                "Record several requests in one transaction, each answered as POST /executions would answer it",
            )
            .worker()
            .body("CreateExecutions")
            .answers(200, "ExecutionsCreated")
            .errors(&[400, 413]),
            create_executions,
        )
        .route(
            Op::post(
                "/executions/{id}/settled",
                "Record the contract's settlement of a request (an event monitor saw execution_completed)",
            )
            .worker()
            .path_param("id", id())
            .body("ExecutionSettled")
            .answers(200, "Ok")
            .errors(&[400, 404]),
            settled,
        )
        .route(
            Op::post("/jobs/poll", "Wait for a pending job")
                .worker()
                .body("PollJobs")
                .answers(200, "PollResponse")
                .errors(&[400, 413]),
            poll,
        )
        .route(
            Op::post("/jobs/claim", "Claim a job under a lease")
                .worker()
                .body("ClaimJob")
                .answers(200, "ClaimedJob")
                .errors(&[400, 404, 409]),
            claim,
        )
        .route(
            Op::post(
                "/jobs/claim-batch",
                "Claim up to max_jobs pending jobs at once, waiting up to wait_ms when none is pending",
            )
            .worker()
            .body("ClaimJobs")
            .answers(200, "ClaimedJobs")
            .errors(&[400, 409]),
            claim_batch,
        )
        .route(
            Op::post("/jobs/{id}/heartbeat", "Extend a held lease")
                .worker()
                .path_param("id", id())
                .body("ExtendLease")
                .answers(200, "LeaseExtended")
                .errors(&[400, 409]),
            extend_lease,
        )
        .route(
            Op::post("/jobs/{id}/complete", "Record a held job's outcome")
                .worker()
                .path_param("id", id())
                .body("CompleteJob")
                .answers(200, "JobCompleted")
                .errors(&[400, 404, 409]),
            complete,
        )
        .route(
            Op::post(
                "/jobs/complete-batch",
                "Record several held jobs' outcomes in one transaction, each answered as POST /jobs/{id}/complete would answer it",
            )
            .worker()
            .body("CompleteJobs")
            .answers(200, "JobsCompleted")
            .errors(&[400, 413]),
            complete_batch,
        )
        .merge(
            Routes::new()
                .route(
                    Op::put("/artifacts/{checksum}", "Upload an artifact")
                        .worker()
                        .path_param("checksum", checksum_schema())
                        .body_as("application/octet-stream", binary_schema())
                        .answers(201, "ArtifactStatus")
                        .errors(&[400, 413]),
                    upload_artifact,
                )
                .route(
                    Op::get(
                        "/artifacts/{checksum}",
                        "Download an artifact (content hash verified)",
                    )
                    .worker()
                    .path_param("checksum", checksum_schema())
                    .answers_as(200, "application/wasm", binary_schema())
                    .errors(&[400, 404]),
                    download_artifact,
                )
                .layer(DefaultBodyLimit::max(max_artifact_bytes)),
        )
        .route(
            Op::post("/locks/acquire", "Take a lock with a TTL")
                .worker()
                .body("AcquireLock")
                .answers(200, "LockGrant")
                .errors(&[400, 409]),
            acquire_lock,
        )
        .route(
            Op::post("/locks/release", "Release a lock you own")
                .worker()
                .body("ReleaseLock")
                .answers(200, "Ok")
                .errors(&[400, 409]),
            release_lock,
        )
        .route(
            Op::post("/workers/heartbeat", "Report a worker's status")
                .worker()
                .body("WorkerHeartbeat")
                .answers(200, "Ok")
                .errors(&[400]),
            worker_heartbeat,
        )
        .route(
            Op::get(
                "/monitor/cursor/{name}",
                "The event monitor's last handled block",
            )
            .worker()
            .path_param("name", cursor())
            .answers(200, "BlockCursor")
            .errors(&[400, 404]),
            get_cursor,
        )
        .route(
            Op::put("/monitor/cursor/{name}", "Move the event monitor's cursor")
                .worker()
                .path_param("name", cursor())
                .body("BlockCursor")
                .answers(200, "BlockCursor")
                .errors(&[400]),
            set_cursor,
        )
        .route(
            Op::get(
                "/pins/{key}",
                "The commit a branch or tag of this source was recently resolved to",
            )
            .worker()
            .path_param("key", pin_key())
            .answers(200, "SourcePin")
            .errors(&[400, 404]),
            get_pin,
        )
        .route(
            Op::put(
                "/pins/{key}",
                "Share a branch or tag resolved to a commit (kept --pin-ttl-ms)",
            )
            .worker()
            .path_param("key", pin_key())
            .body("SourcePin")
            .answers(200, "SourcePin")
            .errors(&[400]),
            set_pin,
        )
}

/// Identifiers (worker ids, lock keys, cursor names) are shown in listings
/// and logs: bounded and printable.
fn check_name(what: &str, value: &str, max: usize) -> Result<()> {
    let ok = !value.is_empty() && value.len() <= max && value.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "{what} must be 1-{max} printable ASCII characters without spaces"
        )))
    }
}

fn check_capabilities(capabilities: &[JobType]) -> Result<()> {
    if capabilities.is_empty() {
        return Err(Error::BadRequest("capabilities must not be empty".into()));
    }
    Ok(())
}

/// The body of `POST /executions`, strictly: `ExecutionRequest` is shared
/// with the contract and ignores fields it does not know (so a newer
/// contract's events still parse in the monitor), but here a field nobody
/// knows is a typo (`input_dta` would lose the input), so it is refused.
/// The parsed request is written back as JSON: every field of the type is
/// always written, so a field that was sent but is not written back is one
/// serde dropped.
fn strict_create_execution(sent: serde_json::Value) -> Result<CreateExecution> {
    strict(sent)
}

/// A body parsed as `T`, refusing any field `T` does not write back (see
/// [`strict_create_execution`]).
fn strict<T: serde::de::DeserializeOwned + serde::Serialize>(sent: serde_json::Value) -> Result<T> {
    let parsed: T = serde_json::from_value(sent.clone()).map_err(|e| {
        Error::BadRequest(format!(
            "Failed to deserialize the JSON body into the target type: {e}"
        ))
    })?;
    let written = serde_json::to_value(&parsed).map_err(|e| Error::Internal(e.to_string()))?;
    match unknown_field(&sent, &written, "") {
        Some(path) => Err(Error::BadRequest(format!("unknown field `{path}`"))),
        None => Ok(parsed),
    }
}

/// The path of the first field of `sent` that `written` does not have.
fn unknown_field(
    sent: &serde_json::Value,
    written: &serde_json::Value,
    path: &str,
) -> Option<String> {
    if let (serde_json::Value::Array(sent), serde_json::Value::Array(written)) = (sent, written) {
        return sent
            .iter()
            .zip(written)
            .enumerate()
            .find_map(|(i, (value, known))| unknown_field(value, known, &format!("{path}[{i}]")));
    }
    let (serde_json::Value::Object(sent), serde_json::Value::Object(written)) = (sent, written)
    else {
        return None;
    };
    sent.iter().find_map(|(key, value)| {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match written.get(key) {
            None => Some(here),
            Some(known) => unknown_field(value, known, &here),
        }
    })
}

/// What the contract would refuse, refused with the contract's message: its
/// source rules and caps (`--contract-max-limits`), and what its
/// `execution_requested` event can never carry.
fn check_request(request: &outlayer_types::ExecutionRequest, caps: &MaxLimits) -> Result<()> {
    let bad = |message: String| Err(Error::BadRequest(message));
    if i64::try_from(request.context.request_id).is_err() {
        return bad("request_id out of range".into());
    }
    if let Err(e) = request.code_source.validate() {
        return bad(format!("invalid code_source: {e}"));
    }
    if let Err(e) = caps.check(&request.resource_limits) {
        return bad(format!("invalid resource_limits: {e}"));
    }
    if let Some(input) = &request.input_data {
        let (len, max) = (input.len(), caps.max_input_bytes as usize);
        if len > max {
            return bad(format!("input_data is {len} bytes, above the cap {max}"));
        }
        if request.input_in_state {
            return bad("input_data must be absent when input_in_state is true: \
                 the input stays in contract state"
                .into());
        }
        if outlayer_types::limits::input_in_state(input) {
            return bad(format!(
                "input_data takes {} bytes in the event; the contract keeps an input of \
                 {} bytes or more in its state (input_in_state)",
                outlayer_types::limits::json_string_len(input),
                outlayer_types::limits::LARGE_INPUT_BYTES
            ));
        }
    }
    if let Some(secrets) = &request.secrets_ref
        && let Err(e) = outlayer_types::check_profile_name(&secrets.profile)
    {
        return bad(format!("invalid secrets_ref: {e}"));
    }
    match request.max_compile_seconds {
        Some(0) => bad("max_compile_seconds must be at least 1".into()),
        Some(seconds) if seconds > caps.max_compile_seconds => bad(format!(
            "max_compile_seconds {seconds} is above the cap {}",
            caps.max_compile_seconds
        )),
        _ => Ok(()),
    }
}

async fn create_execution(
    State(c): State<Arc<Coordinator>>,
    _worker: Worker,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<impl IntoResponse> {
    let request = strict_create_execution(body)?.request;
    check_request(&request, &c.config.contract_max_limits.0)?;
    let cached = artifact_cached(&c, &request).await?;
    let created = c.store.create_request(&request, cached, c.now_ms()).await?;
    if created.created {
        c.metrics.request_created();
        c.wake(created.first_job).await;
    }
    let (status, response) = creation_response(created);
    Ok((status, Json(response)))
}

/// Whether the request's program is built already. A branch a worker
/// pinned moments ago is looked up at that commit, so a cached build of it
/// needs no compile job.
async fn artifact_cached(
    c: &Coordinator,
    request: &outlayer_types::ExecutionRequest,
) -> Result<bool> {
    let source = &request.code_source;
    if !source.needs_build() {
        return Ok(false);
    }
    let as_named = source.artifact_checksum();
    let checksum = match source.commit().and_then(|_| c.pins.get(&as_named)) {
        Some(commit) => source.with_commit(&commit).artifact_checksum(),
        None => as_named,
    };
    Ok(c.artifacts.exists(&checksum).await?.is_some())
}

/// `POST /executions`'s answer: 201 for a new request, 200 for a known one.
fn creation_response(created: CreatedRequest) -> (StatusCode, CreateExecutionResponse) {
    let status = if created.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let response = CreateExecutionResponse {
        request_id: created.first_job.request_id,
        created: created.created,
        status: created.status,
        first_job: created.first_job.job_type,
        artifact_checksum: created.artifact_checksum,
    };
    (status, response)
}

/// Several requests (an event monitor's block) in one transaction, each
/// answered as `POST /executions` would answer it. A body that is not a
/// list of requests (or names a field nobody knows) is refused whole; a
/// request the contract would refuse is answered 400 on its own.
async fn create_executions(
    State(c): State<Arc<Coordinator>>,
    _worker: Worker,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<ExecutionsCreated>> {
    let requests = strict::<CreateExecutions>(body)?.requests;
    if !(1..=MAX_CREATE_BATCH).contains(&requests.len()) {
        return Err(Error::BadRequest(format!(
            "requests must hold between 1 and {MAX_CREATE_BATCH} requests"
        )));
    }
    let caps = &c.config.contract_max_limits.0;
    let mut refused: Vec<Option<Error>> = Vec::with_capacity(requests.len());
    let mut valid = Vec::with_capacity(requests.len());
    for request in &requests {
        match check_request(request, caps) {
            Ok(()) => {
                valid.push((request, artifact_cached(&c, request).await?));
                refused.push(None);
            }
            Err(e) => refused.push(Some(e)),
        }
    }
    let mut outcomes = c.store.create_many(&valid, c.now_ms()).await?.into_iter();
    let mut results = Vec::with_capacity(requests.len());
    let mut woken = Vec::new();
    for (request, refusal) in requests.iter().zip(refused) {
        let outcome = match refusal {
            Some(e) => Err(e),
            None => outcomes
                .next()
                .unwrap_or_else(|| Err(Error::Internal("missing creation result".into()))),
        };
        let request_id = request.context.request_id;
        results.push(match outcome {
            Ok(created) => {
                if created.created {
                    c.metrics.request_created();
                    woken.push(created.first_job);
                }
                let (status, response) = creation_response(created);
                CreationResult {
                    request_id,
                    status: status.as_u16(),
                    created: Some(response),
                    error: None,
                }
            }
            Err(e) => CreationResult {
                request_id,
                status: e.status().as_u16(),
                created: None,
                error: Some(e.api_error()),
            },
        });
    }
    c.wake_many(&woken).await;
    Ok(Json(ExecutionsCreated { results }))
}

/// A NEAR transaction hash: base58 of 32 bytes.
fn check_tx_hash(hash: &str) -> Result<()> {
    const BASE58: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let ok = (32..=44).contains(&hash.len()) && hash.chars().all(|c| BASE58.contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(
            "resolve_tx_hash must be a NEAR transaction hash (32-44 base58 characters)".into(),
        ))
    }
}

/// An event monitor saw the contract settle this request.
async fn settled(
    State(c): State<Arc<Coordinator>>,
    _worker: Worker,
    ApiPath(id): ApiPath<u64>,
    ApiJson(body): ApiJson<ExecutionSettled>,
) -> Result<Json<serde_json::Value>> {
    if c.store.settle(id, &body, c.now_ms()).await? {
        Ok(Json(json!({ "ok": true })))
    } else {
        Err(Error::NotFound(format!("request {id} not found")))
    }
}

/// The longest a waiting poll or claim trusts the queue before asking the
/// store again.
const POLL_SLICE: Duration = Duration::from_secs(1);

/// Long poll: returns a pending job offer, or `null` when the (capped)
/// wait runs out. The store is the truth and the queue only a hint: every
/// round asks the store first, for the oldest pending job no other poll was
/// just offered (so a backlog whose wake-ups were lost, after a restart or
/// a Redis flush, drains at full speed with distinct offers), and only then
/// waits on the queue, at most a slice before asking the store again.
async fn poll(
    State(c): State<Arc<Coordinator>>,
    _worker: Worker,
    ApiJson(body): ApiJson<PollJobs>,
) -> Result<Json<PollResponse>> {
    check_name("worker_id", &body.worker_id, 128)?;
    check_capabilities(&body.capabilities)?;
    let wait = body
        .timeout_ms
        .unwrap_or(c.config.max_poll_ms)
        .min(c.config.max_poll_ms);
    let deadline = tokio::time::Instant::now() + Duration::from_millis(wait);
    loop {
        if let Some(job) = c.offer_pending(&body.capabilities).await? {
            return Ok(Json(PollResponse { job: Some(job) }));
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() || c.stopping() {
            return Ok(Json(PollResponse { job: None }));
        }
        let popped = match c.queue.pop(&body.capabilities, left.min(POLL_SLICE)).await {
            Ok(popped) => popped,
            Err(e) => {
                // The queue is down: the store still knows the work. Wait a
                // little so a dead queue does not turn polls into a spin.
                tracing::warn!(error = %e, "queue pop failed; falling back to the store");
                tokio::time::sleep(left.min(Duration::from_millis(200))).await;
                None
            }
        };
        if let Some((_, id)) = popped
            && let Some(job) = c.store.pending_offer(id, &body.capabilities).await?
            && c.hold_offer(job.job_id)
        {
            return Ok(Json(PollResponse { job: Some(job) }));
        }
    }
}

/// The secret part of the lease tokens of one claim: each job's token is
/// this followed by the job's id.
fn lease_secret() -> Result<String> {
    Ok(format!("{}-", random_hex(16)?))
}

fn claimed_job(row: ClaimedRow) -> ClaimedJob {
    ClaimedJob {
        job_id: row.offer.job_id,
        job_type: row.offer.job_type,
        request_id: row.offer.request_id,
        attempt: row.attempt,
        lease_token: row.lease_token,
        lease_expires_at_ms: row.lease_expires_at_ms,
        artifact_checksum: row.artifact_checksum,
        request: row.request,
    }
}

async fn claim(
    State(c): State<Arc<Coordinator>>,
    Worker(token_name): Worker,
    ApiJson(body): ApiJson<ClaimJob>,
) -> Result<Json<ClaimedJob>> {
    check_name("worker_id", &body.worker_id, 128)?;
    check_capabilities(&body.capabilities)?;
    c.store
        .check_worker_owner(&body.worker_id, &token_name)
        .await?;
    let claimed = c
        .store
        .claim_many(
            body.job_id,
            &body.capabilities,
            1,
            &body.worker_id,
            &lease_secret()?,
            c.config.lease_ms,
            c.now_ms(),
        )
        .await?;
    let Some(row) = claimed.into_iter().next() else {
        c.metrics.claim_conflict();
        return Err(match body.job_id {
            Some(id) => Error::Conflict(format!(
                "job {id} is not pending (claimed by another worker, finished, or unknown)"
            )),
            None => Error::NotFound("no pending job of these types".into()),
        });
    };
    c.metrics.job_claimed();
    Ok(Json(claimed_job(row)))
}

/// Claims up to `max_jobs` pending jobs in one statement; when none is
/// pending, waits for a wake-up (asking the store again at least every
/// slice, so a lost wake-up costs at most one slice) until `wait_ms` runs
/// out.
async fn claim_batch(
    State(c): State<Arc<Coordinator>>,
    Worker(token_name): Worker,
    ApiJson(body): ApiJson<ClaimJobs>,
) -> Result<Json<ClaimedJobs>> {
    check_name("worker_id", &body.worker_id, 128)?;
    check_capabilities(&body.capabilities)?;
    if !(1..=MAX_CLAIM_BATCH).contains(&body.max_jobs) {
        return Err(Error::BadRequest(format!(
            "max_jobs must be between 1 and {MAX_CLAIM_BATCH}"
        )));
    }
    c.store
        .check_worker_owner(&body.worker_id, &token_name)
        .await?;
    let wait = body.wait_ms.unwrap_or(0).min(c.config.max_poll_ms);
    let deadline = tokio::time::Instant::now() + Duration::from_millis(wait);
    let mut woken_by = None;
    loop {
        let claimed = c
            .store
            .claim_many(
                None,
                &body.capabilities,
                body.max_jobs,
                &body.worker_id,
                &lease_secret()?,
                c.config.lease_ms,
                c.now_ms(),
            )
            .await?;
        if !claimed.is_empty() {
            // A wake-up for a job still pending that this claim did not
            // take (it took older ones) goes back for the next waiter.
            if let Some((job_type, job_id)) = woken_by
                && claimed.len() == body.max_jobs as usize
                && !claimed.iter().any(|row| row.offer.job_id == job_id)
            {
                // The queue carries the type and the id only.
                let offer = JobOffer {
                    job_id,
                    job_type,
                    request_id: 0,
                };
                c.wake(offer).await;
            }
            for _ in &claimed {
                c.metrics.job_claimed();
            }
            return Ok(Json(ClaimedJobs {
                jobs: claimed.into_iter().map(claimed_job).collect(),
            }));
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() || c.stopping() {
            return Ok(Json(ClaimedJobs { jobs: Vec::new() }));
        }
        woken_by = match c.queue.pop(&body.capabilities, left.min(POLL_SLICE)).await {
            Ok(popped) => popped,
            Err(e) => {
                tracing::warn!(error = %e, "queue pop failed; falling back to the store");
                tokio::time::sleep(left.min(Duration::from_millis(200))).await;
                None
            }
        };
    }
}

async fn extend_lease(
    State(c): State<Arc<Coordinator>>,
    _worker: Worker,
    ApiPath(id): ApiPath<u64>,
    ApiJson(body): ApiJson<ExtendLease>,
) -> Result<Json<LeaseExtended>> {
    let extended = c
        .store
        .extend_lease(id, &body.lease_token, c.config.lease_ms, c.now_ms())
        .await?;
    match extended {
        Some(lease_expires_at_ms) => Ok(Json(LeaseExtended {
            lease_expires_at_ms,
        })),
        None => Err(Error::Conflict(format!(
            "job {id} is not held under this lease (expired, re-claimed or finished)"
        ))),
    }
}

/// What `POST /jobs/{id}/complete` refuses before looking at the job.
fn check_completion(body: &CompleteJob) -> Result<()> {
    match (body.success, body.error_category) {
        (false, None) => {
            return Err(Error::BadRequest(
                "a failed job needs an error_category".into(),
            ));
        }
        (true, Some(_)) => {
            return Err(Error::BadRequest(
                "a successful job has no error_category".into(),
            ));
        }
        _ => {}
    }
    if let Some(hash) = &body.resolve_tx_hash {
        check_tx_hash(hash)?;
    }
    if body.resolve_tx_hash.is_none() && body.resolve_submitted_at_ms.is_some() {
        return Err(Error::BadRequest(
            "resolve_submitted_at_ms comes with a resolve_tx_hash".into(),
        ));
    }
    if body
        .resolve_submitted_at_ms
        .is_some_and(|t| t > i64::MAX as u64)
    {
        return Err(Error::BadRequest(
            "resolve_submitted_at_ms out of range".into(),
        ));
    }
    if body.error.as_ref().is_some_and(|e| e.len() > 2048)
        || body.output_summary.as_ref().is_some_and(|s| s.len() > 4096)
    {
        return Err(Error::BadRequest(
            "error is limited to 2048 bytes and output_summary to 4096".into(),
        ));
    }
    Ok(())
}

async fn complete(
    State(c): State<Arc<Coordinator>>,
    _worker: Worker,
    ApiPath(id): ApiPath<u64>,
    ApiJson(body): ApiJson<CompleteJob>,
) -> Result<Json<JobCompleted>> {
    check_completion(&body)?;
    let outcome = c.store.complete(id, &body, c.now_ms()).await?;
    c.metrics.job_finished(body.success);
    if let Some(next) = outcome.next_job {
        c.wake(next).await;
    }
    Ok(Json(JobCompleted {
        state: outcome.state,
        next_job: outcome.next_job,
    }))
}

/// Several held jobs' outcomes in one transaction, each answered as
/// `POST /jobs/{id}/complete` would answer it: recorded once, from the
/// current lease holder; a repeat by that holder gets the same answer;
/// anything else 409 (404 for an unknown job, 400 for a completion that
/// contradicts itself). A batch naming a job twice, empty, or above
/// `MAX_COMPLETE_BATCH` is refused whole.
async fn complete_batch(
    State(c): State<Arc<Coordinator>>,
    _worker: Worker,
    ApiJson(body): ApiJson<CompleteJobs>,
) -> Result<Json<JobsCompleted>> {
    let completions = body.completions;
    if !(1..=MAX_COMPLETE_BATCH).contains(&completions.len()) {
        return Err(Error::BadRequest(format!(
            "completions must hold between 1 and {MAX_COMPLETE_BATCH} jobs"
        )));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = completions.iter().find(|c| !seen.insert(c.job_id)) {
        return Err(Error::BadRequest(format!(
            "job {} appears more than once in completions",
            twice.job_id
        )));
    }
    let refused: Vec<Option<Error>> = completions
        .iter()
        .map(|item| check_completion(&item.completion).err())
        .collect();
    let valid: Vec<(u64, &CompleteJob)> = completions
        .iter()
        .zip(&refused)
        .filter(|(_, refusal)| refusal.is_none())
        .map(|(item, _)| (item.job_id, &item.completion))
        .collect();
    let mut outcomes = if valid.is_empty() {
        Vec::new().into_iter()
    } else {
        c.store.complete_many(&valid, c.now_ms()).await?.into_iter()
    };
    let mut results = Vec::with_capacity(completions.len());
    let mut woken = Vec::new();
    for (item, refusal) in completions.iter().zip(refused) {
        let outcome = match refusal {
            Some(e) => Err(e),
            None => outcomes
                .next()
                .unwrap_or_else(|| Err(Error::Internal("missing completion result".into()))),
        };
        results.push(match outcome {
            Ok(outcome) => {
                c.metrics.job_finished(item.completion.success);
                woken.extend(outcome.next_job);
                CompletionResult {
                    job_id: item.job_id,
                    status: StatusCode::OK.as_u16(),
                    completed: Some(JobCompleted {
                        state: outcome.state,
                        next_job: outcome.next_job,
                    }),
                    error: None,
                }
            }
            Err(e) => CompletionResult {
                job_id: item.job_id,
                status: e.status().as_u16(),
                completed: None,
                error: Some(e.api_error()),
            },
        });
    }
    c.wake_many(&woken).await;
    Ok(Json(JobsCompleted { results }))
}

async fn upload_artifact(
    State(c): State<Arc<Coordinator>>,
    _worker: Worker,
    ApiPath(checksum): ApiPath<String>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<(StatusCode, Json<ArtifactStatus>)> {
    let declared = headers
        .get("x-content-sha256")
        .map(|v| {
            v.to_str()
                .map_err(|_| Error::BadRequest("x-content-sha256 is not text".into()))
        })
        .transpose()?;
    c.artifacts.put(&checksum, &body, declared).await?;
    Ok((
        StatusCode::CREATED,
        Json(ArtifactStatus {
            checksum,
            exists: true,
            size: Some(body.len() as u64),
        }),
    ))
}

async fn download_artifact(
    State(c): State<Arc<Coordinator>>,
    _worker: Worker,
    ApiPath(checksum): ApiPath<String>,
) -> Result<impl IntoResponse> {
    let bytes = c.artifacts.get(&checksum, &c.metrics).await?;
    Ok(([(header::CONTENT_TYPE, "application/wasm")], bytes))
}

/// Longest lock TTL: a holder that needs longer re-acquires.
const MAX_LOCK_TTL_MS: u64 = 24 * 3600 * 1000;

async fn acquire_lock(
    State(c): State<Arc<Coordinator>>,
    _worker: Worker,
    ApiJson(body): ApiJson<AcquireLock>,
) -> Result<Json<LockGrant>> {
    check_name("key", &body.key, 256)?;
    if body.ttl_ms == 0 || body.ttl_ms > MAX_LOCK_TTL_MS {
        return Err(Error::BadRequest(format!(
            "ttl_ms must be between 1 and {MAX_LOCK_TTL_MS}"
        )));
    }
    let owner_token = random_hex(16)?;
    match c
        .store
        .acquire_lock(&body.key, &owner_token, body.ttl_ms, c.now_ms())
        .await?
    {
        Some(expires) => Ok(Json(LockGrant {
            key: body.key,
            owner_token,
            expires_at_ms: expires as u64,
        })),
        None => Err(Error::Conflict(format!("lock {} is held", body.key))),
    }
}

async fn release_lock(
    State(c): State<Arc<Coordinator>>,
    _worker: Worker,
    ApiJson(body): ApiJson<ReleaseLock>,
) -> Result<Json<serde_json::Value>> {
    check_name("key", &body.key, 256)?;
    if c.store.release_lock(&body.key, &body.owner_token).await? {
        Ok(Json(json!({ "released": true })))
    } else {
        Err(Error::Conflict(format!(
            "lock {} is not held with this owner token",
            body.key
        )))
    }
}

async fn worker_heartbeat(
    State(c): State<Arc<Coordinator>>,
    Worker(token_name): Worker,
    ApiJson(body): ApiJson<WorkerHeartbeat>,
) -> Result<Json<serde_json::Value>> {
    check_name("worker_id", &body.worker_id, 128)?;
    if let Some(version) = &body.version {
        check_name("version", version, 64)?;
    }
    c.store
        .worker_heartbeat(
            &body.worker_id,
            &token_name,
            body.status,
            &body.capabilities,
            body.version.as_deref(),
            c.now_ms(),
        )
        .await?;
    Ok(Json(json!({ "ok": true })))
}

async fn get_cursor(
    State(c): State<Arc<Coordinator>>,
    _worker: Worker,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<BlockCursor>> {
    check_name("cursor name", &name, 64)?;
    match c.store.cursor(&name).await? {
        Some((block_height, _)) => Ok(Json(BlockCursor { block_height })),
        None => Err(Error::NotFound(format!("no cursor named {name}"))),
    }
}

async fn set_cursor(
    State(c): State<Arc<Coordinator>>,
    _worker: Worker,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<BlockCursor>,
) -> Result<Json<BlockCursor>> {
    check_name("cursor name", &name, 64)?;
    c.store
        .set_cursor(&name, body.block_height, c.now_ms())
        .await?;
    Ok(Json(body))
}

/// Pin keys are artifact checksums.
fn check_pin_key(key: &str) -> Result<()> {
    if crate::artifacts::valid_checksum(key) {
        Ok(())
    } else {
        Err(Error::BadRequest(
            "a pin key is a source's artifact checksum (64 lowercase hex digits)".into(),
        ))
    }
}

async fn get_pin(
    State(c): State<Arc<Coordinator>>,
    _worker: Worker,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<SourcePin>> {
    check_pin_key(&key)?;
    match c.pins.get(&key) {
        Some(commit) => Ok(Json(SourcePin { commit })),
        None => Err(Error::NotFound(format!("no recent pin for {key}"))),
    }
}

async fn set_pin(
    State(c): State<Arc<Coordinator>>,
    _worker: Worker,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<SourcePin>,
) -> Result<Json<SourcePin>> {
    check_pin_key(&key)?;
    if !outlayer_types::is_commit_hash(&body.commit) {
        return Err(Error::BadRequest(
            "commit must be a full commit hash (40 or 64 hex digits)".into(),
        ));
    }
    c.pins.set(&key, &body.commit.to_ascii_lowercase());
    Ok(Json(body))
}
