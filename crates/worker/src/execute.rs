//! What one job does. Every step acts on the request as the contract holds
//! it (read at final), never on the coordinator's copy; every failure that
//! is the caller's (or that no retry can fix) is settled on chain at once,
//! with its category, so the caller is refunded without waiting for the
//! yield to time out.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use outlayer_keystore::ClientError as KeystoreError;
use outlayer_runtime::{Execution, Script, response_for};
use outlayer_types::coordinator::{ClaimedJob, CompleteJob, ErrorCategory, JobState, JobType};
use outlayer_types::limits::truncate_error;
use outlayer_types::{
    Attestation, CodeSource, ContractConfig, ExecutionOutput, ExecutionRequest, ExecutionResponse,
    ResourceMetrics, U128,
};

use crate::Context;
use crate::artifact::{Program, ProgramError};
use crate::chain::Resolved;
use crate::timing::{self, RequestTiming};

/// The end of a step that did not produce its value.
enum Stop {
    /// The job is finished (settled as a failure, or nothing left to do).
    Done(CompleteJob),
    /// Leave the job for another attempt.
    Retry,
}

type Step<T> = Result<T, Stop>;

fn finish(step: Step<CompleteJob>) -> Option<CompleteJob> {
    match step {
        Ok(complete) | Err(Stop::Done(complete)) => Some(complete),
        Err(Stop::Retry) => None,
    }
}

/// A compile job: make sure the program is built and cached.
pub(crate) async fn compile(ctx: &Context, job: &ClaimedJob) -> Option<CompleteJob> {
    finish(compile_steps(ctx, job).await)
}

async fn compile_steps(ctx: &Context, job: &ClaimedJob) -> Step<CompleteJob> {
    let (request, config) = pending_request(ctx, job).await?;
    let program = program(ctx, job, &request, &config).await?;
    Ok(CompleteJob {
        metrics: Some(ResourceMetrics {
            instructions: 0,
            time_ms: 0,
            compile_time_ms: program.built_ms,
        }),
        output_summary: Some(format!(
            "{} bytes of wasm, {}",
            program.wasm.len(),
            if program.built_ms.is_some() {
                "built"
            } else {
                "cached"
            }
        )),
        ..completed(true)
    })
}

/// An execute job: run the program and settle the request on chain.
pub(crate) async fn execute(ctx: &Context, job: &ClaimedJob) -> Option<CompleteJob> {
    finish(execute_steps(ctx, job).await)
}

async fn execute_steps(ctx: &Context, job: &ClaimedJob) -> Step<CompleteJob> {
    let block_ts = job.request.context.block_timestamp;
    let at = || timing::since(block_ts, SystemTime::now());
    let mut timing = RequestTiming {
        request_id: job.request_id,
        claimed_ms: at(),
        ..Default::default()
    };
    let (request, config) = pending_request(ctx, job).await?;
    timing.read_ms = at();
    // The input, the program and the compile job's recorded build time are
    // fetched together. Secrets are asked for only once the program is ready:
    // nothing is decrypted for a program that does not build, and nothing
    // sits decrypted in memory during a build.
    let (input, runnable, compile_job_ms) = tokio::join!(
        input_of(ctx, job, &request),
        runnable(ctx, job, &request, &config),
        compile_job_time(ctx, job.request_id),
    );
    let (input, runnable) = (input?, runnable?);
    timing.program_ms = at();
    let compile_time_ms = match &runnable {
        Runnable::Wasm(program) => program.built_ms.or(compile_job_ms),
        Runnable::Script(..) => None,
    };
    let secrets = secrets_for(ctx, job, &request).await?;
    timing.secrets_ms = at();
    let execution = Execution {
        near: ctx.near_reads.clone(),
        ..Execution::for_request(&request, input, secrets, &config.max_limits)
    };
    let outcome = match &runnable {
        Runnable::Wasm(program) => ctx.runtime.execute(program.wasm.clone(), execution).await,
        Runnable::Script(engine, script) => ctx.runtime.run_script(engine, script, execution).await,
    };
    timing.ran_ms = at();
    let response = response_for(&outcome, compile_time_ms, &config.max_limits);
    if let Some(failure) = &outcome.error {
        tracing::info!(kind = failure.kind.as_str(), message = %failure.message, "program failed");
    }
    settle(ctx, job, &request, &config, response, Some(timing)).await
}

/// The request as the contract holds it now, and the contract's terms.
async fn pending_request(
    ctx: &Context,
    job: &ClaimedJob,
) -> Step<(ExecutionRequest, ContractConfig)> {
    // This process's monitor read the request from a final block moments
    // ago: that is the chain's copy already. A retry reads it again.
    if job.attempt == 1
        && let Some(request) = ctx.seen.fresh(job.request_id)
    {
        return Ok((request, contract_terms(ctx, job).await?));
    }
    let view = match ctx.chain.request(job.request_id).await {
        Ok(view) => view,
        Err(e) => {
            return Err(infrastructure(ctx, job, None, &format!("reading the request: {e}")).await);
        }
    };
    let Some(view) = view.filter(|v| !v.resolved) else {
        return Err(Stop::Done(CompleteJob {
            error_category: Some(ErrorCategory::ExecutionFailed),
            error: Some(format!(
                "request {} is no longer pending on chain (settled, answered or timed out)",
                job.request_id
            )),
            ..completed(false)
        }));
    };
    let config = contract_terms(ctx, job).await?;
    let mut request = view.request;
    // The contract does not know its own transaction's hash; only the block
    // stream does, so that one field comes from the monitor's copy.
    if request.context.transaction_hash.is_none() {
        request.context.transaction_hash = job.request.context.transaction_hash.clone();
    }
    Ok((request, config))
}

async fn contract_terms(ctx: &Context, job: &ClaimedJob) -> Step<ContractConfig> {
    match ctx.config().await {
        Ok(config) => Ok(config),
        Err(e) => Err(infrastructure(ctx, job, None, &format!("reading the contract: {e}")).await),
    }
}

async fn input_of(ctx: &Context, job: &ClaimedJob, request: &ExecutionRequest) -> Step<Vec<u8>> {
    if !request.input_in_state {
        return Ok(request.input_data.clone().unwrap_or_default().into_bytes());
    }
    match ctx.chain.request_input(job.request_id).await {
        Ok(input) => Ok(input.unwrap_or_default().into_bytes()),
        Err(e) => {
            Err(infrastructure(ctx, job, Some(request), &format!("reading the input: {e}")).await)
        }
    }
}

/// What an execute job runs: a program, or a script on the JavaScript engine.
enum Runnable {
    Wasm(Program),
    Script(Arc<outlayer_runtime::Program>, Script),
}

async fn runnable(
    ctx: &Context,
    job: &ClaimedJob,
    request: &ExecutionRequest,
    config: &ContractConfig,
) -> Step<Runnable> {
    let (name, fetched) = match &request.code_source {
        CodeSource::JavaScript { code } => (INLINE_SCRIPT_NAME.to_owned(), Ok(code.clone())),
        CodeSource::GitScript { path, .. } => {
            let fetched = async {
                let pinned = ctx.artifacts.pin(&request.code_source).await?;
                ctx.artifacts
                    .script(&pinned, build_timeout(request, config))
                    .await
            }
            .await;
            (path.clone(), fetched)
        }
        _ => return program(ctx, job, request, config).await.map(Runnable::Wasm),
    };
    let source = match fetched {
        Ok(source) => source,
        Err(error) => return Err(program_failed(ctx, job, request, error).await),
    };
    let Some(engine) = ctx.js_engine.clone() else {
        let message = "this worker has no JavaScript engine (--js-engine)";
        return Err(infrastructure(ctx, job, Some(request), message).await);
    };
    Ok(Runnable::Script(engine, Script { name, source }))
}

/// The name errors in inline code cite (`program.js:3:9: …`).
const INLINE_SCRIPT_NAME: &str = "program.js";

/// The program, pinned to a commit and built or fetched.
async fn program(
    ctx: &Context,
    job: &ClaimedJob,
    request: &ExecutionRequest,
    config: &ContractConfig,
) -> Step<Program> {
    let result = async {
        let pinned = ctx.artifacts.pin(&request.code_source).await?;
        ctx.artifacts
            .obtain(&pinned, build_timeout(request, config))
            .await
    }
    .await;
    match result {
        Ok(program) => Ok(program),
        Err(error) => Err(program_failed(ctx, job, request, error).await),
    }
}

/// A program that could not be had: the source's fault is settled as
/// `compilation_failed`, ours is left for another attempt.
async fn program_failed(
    ctx: &Context,
    job: &ClaimedJob,
    request: &ExecutionRequest,
    error: ProgramError,
) -> Stop {
    match error {
        ProgramError::User { summary, .. } => {
            fail(
                ctx,
                job,
                request,
                ErrorCategory::CompilationFailed,
                &summary,
            )
            .await
        }
        ProgramError::Infrastructure(message) => {
            infrastructure(ctx, job, Some(request), &message).await
        }
    }
}

/// The build time this request pays for: its own, else the contract's cap.
fn build_timeout(request: &ExecutionRequest, config: &ContractConfig) -> Duration {
    let seconds = request
        .max_compile_seconds
        .unwrap_or(config.max_limits.max_compile_seconds);
    Duration::from_secs(seconds.max(1))
}

/// The build time of this request's compile job, when it had one that built.
async fn compile_job_time(ctx: &Context, request_id: u64) -> Option<u64> {
    let jobs = ctx.coordinator.jobs_for_request(request_id).await.ok()?;
    jobs.into_iter()
        .find(|j| j.job_type == JobType::Compile && j.state == JobState::Completed)
        .and_then(|j| j.metrics)
        .and_then(|m| m.compile_time_ms)
}

/// The request's secrets from the keystore, which decides from the chain's
/// copy of the request who asks and for what.
async fn secrets_for(
    ctx: &Context,
    job: &ClaimedJob,
    request: &ExecutionRequest,
) -> Step<BTreeMap<String, String>> {
    if request.secrets_ref.is_none() {
        return Ok(BTreeMap::new());
    }
    let Some(keystore) = &ctx.keystore else {
        return Err(fail(
            ctx,
            job,
            request,
            ErrorCategory::Infrastructure,
            "this worker has no keystore configured",
        )
        .await);
    };
    match keystore
        .decrypt_for_request(job.request_id, Attestation::none())
        .await
    {
        Ok(decrypted) => Ok(decrypted.secrets),
        Err(KeystoreError::Refused { body, .. })
            if matches!(body.error.as_str(), "access_denied" | "not_found") =>
        {
            Err(fail(
                ctx,
                job,
                request,
                ErrorCategory::AccessDenied,
                &body.message,
            )
            .await)
        }
        Err(e) => {
            // The keystore is down or refused us: a clear failure and a
            // refund now beats a yield timeout.
            tracing::warn!(error = %e, "keystore failed");
            let message = match e.code() {
                Some(code) => format!("secrets unavailable: keystore answered {code}"),
                None => "secrets unavailable: the keystore could not be reached".to_owned(),
            };
            Err(fail(ctx, job, request, ErrorCategory::Infrastructure, &message).await)
        }
    }
}

/// Delivers `response` on chain and describes the finished job.
async fn settle(
    ctx: &Context,
    job: &ClaimedJob,
    request: &ExecutionRequest,
    config: &ContractConfig,
    response: ExecutionResponse,
    timing: Option<RequestTiming>,
) -> Step<CompleteJob> {
    let mut resolved = None;
    match ctx.chain.resolve(job.request_id, &response).await {
        Ok(Resolved::Sent { tx_hash, sent_at }) => {
            tracing::info!(tx = %tx_hash, success = response.success, "resolved on chain");
            if let Some(mut timing) = timing {
                timing.sent_ms = timing::since(request.context.block_timestamp, sent_at);
                ctx.timings.record(timing);
            }
            let at = sent_at
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .ok();
            resolved = Some((tx_hash, at));
        }
        Ok(Resolved::AlreadySettled { reason }) => {
            tracing::info!(%reason, "the request was settled without us");
        }
        Err(e) if matches!(e, crate::chain::ChainError::Unavailable(_)) => {
            tracing::warn!(error = %e, "the chain is unreachable; leaving the job for another attempt");
            return Err(Stop::Retry);
        }
        Err(e) => {
            tracing::error!(error = %e, "resolve_execution was refused");
            return Err(Stop::Done(CompleteJob {
                error_category: Some(ErrorCategory::Infrastructure),
                error: Some(truncate_error(&format!("resolve_execution refused: {e}"))),
                ..completed(false)
            }));
        }
    }
    let payment = request.payment.0;
    let compile_seconds = request
        .max_compile_seconds
        .unwrap_or(config.max_limits.max_compile_seconds);
    let charged = if response.success {
        config.pricing.settle_success(
            &request.resource_limits,
            compile_seconds,
            &response.resources_used,
            payment,
        )
    } else {
        config.pricing.settle_failure(payment)
    }
    .charged;
    Ok(CompleteJob {
        error_category: (!response.success).then_some(ErrorCategory::ExecutionFailed),
        error: response.error.clone(),
        output_summary: response.output.as_ref().map(summary),
        metrics: Some(response.resources_used),
        actual_cost: Some(U128(charged)),
        resolve_submitted_at_ms: resolved.as_ref().and_then(|(_, at)| *at),
        resolve_tx_hash: resolved.map(|(hash, _)| hash),
        ..completed(response.success)
    })
}

/// Settles the request as failed with `category` and finishes the job.
async fn fail(
    ctx: &Context,
    job: &ClaimedJob,
    request: &ExecutionRequest,
    category: ErrorCategory,
    message: &str,
) -> Stop {
    let error = truncate_error(&format!("{}: {message}", category.as_str()));
    let response = ExecutionResponse {
        success: false,
        output: None,
        error: Some(error.clone()),
        resources_used: ResourceMetrics::default(),
    };
    let config = match ctx.config().await {
        Ok(config) => config,
        Err(_) => return Stop::Retry,
    };
    match settle(ctx, job, request, &config, response, None).await {
        Ok(complete) => Stop::Done(CompleteJob {
            error_category: Some(category),
            ..complete
        }),
        Err(stop) => stop,
    }
}

/// Our own failure: left for another attempt, unless this was the last one,
/// then settled on chain so the caller is refunded now.
async fn infrastructure(
    ctx: &Context,
    job: &ClaimedJob,
    request: Option<&ExecutionRequest>,
    message: &str,
) -> Stop {
    tracing::warn!(message, attempt = job.attempt, "infrastructure failure");
    if job.attempt < ctx.settings.max_attempts {
        return Stop::Retry;
    }
    let request = request.unwrap_or(&job.request);
    fail(ctx, job, request, ErrorCategory::Infrastructure, message).await
}

/// A description of an output that reveals nothing of it.
fn summary(output: &ExecutionOutput) -> String {
    match output {
        ExecutionOutput::Text(text) => format!("text, {} bytes", text.len()),
        ExecutionOutput::Json(value) => {
            format!("json, {} bytes", value.to_string().len())
        }
        ExecutionOutput::Bytes(bytes) => format!("bytes, {}", bytes.len()),
    }
}

fn completed(success: bool) -> CompleteJob {
    CompleteJob {
        lease_token: String::new(),
        success,
        error_category: None,
        error: None,
        output_summary: None,
        metrics: None,
        actual_cost: None,
        resolve_tx_hash: None,
        resolve_submitted_at_ms: None,
    }
}
