//! The public request-level views, on SQLite and on PostgreSQL + Redis: job
//! claim and finish times, per-worker counts, usage and failure totals in
//! stats, the request listing with its filters and pages, one request's
//! detail and timeline, the strict query checks, and the fill-in of the
//! columns added by migration 2 for rows written before it.

mod common;

use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode};
use common::{
    Backend, Harness, RECONCILE_BY_HAND_MS, account, github_request, manual_clock, send,
    wasm_request,
};
use outlayer_coordinator::spawn;
use outlayer_coordinator_client::CoordinatorClient;
use outlayer_types::coordinator::*;
use outlayer_types::{BuildTarget, CodeSource, ExecutionRequest, ResourceMetrics, U128};
use serde_json::Value;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// Claims the pending job of this type for this request.
async fn claim(harness: &Harness, worker: &str, request_id: u64, job_type: JobType) -> ClaimedJob {
    let jobs = harness.anon.jobs_for_request(request_id).await.unwrap();
    let job = jobs
        .iter()
        .find(|j| j.job_type == job_type && j.state == JobState::Pending)
        .unwrap_or_else(|| panic!("no pending {job_type:?} job for {request_id}: {jobs:?}"));
    harness
        .client
        .claim(worker, Some(job.job_id), &JobType::ALL)
        .await
        .unwrap()
}

fn metrics(instructions: u64, time_ms: u64, compile: Option<u64>) -> Option<ResourceMetrics> {
    Some(ResourceMetrics {
        instructions,
        time_ms,
        compile_time_ms: compile,
    })
}

fn success(lease: &str, m: Option<ResourceMetrics>, cost: Option<u128>) -> CompleteJob {
    CompleteJob {
        lease_token: lease.to_owned(),
        success: true,
        error_category: None,
        error: None,
        output_summary: Some("text, 5 bytes".into()),
        metrics: m,
        actual_cost: cost.map(U128),
        resolve_tx_hash: None,
        resolve_submitted_at_ms: None,
    }
}

fn failure(lease: &str, category: ErrorCategory, error: &str) -> CompleteJob {
    CompleteJob {
        lease_token: lease.to_owned(),
        success: false,
        error_category: Some(category),
        error: Some(error.to_owned()),
        output_summary: None,
        metrics: metrics(0, 0, None),
        actual_cost: Some(U128(1_000)),
        resolve_tx_hash: None,
        resolve_submitted_at_ms: None,
    }
}

/// Claims and completes one job.
async fn finish(
    harness: &Harness,
    worker: &str,
    request_id: u64,
    job_type: JobType,
    done: impl FnOnce(&str) -> CompleteJob,
) {
    let claimed = claim(harness, worker, request_id, job_type).await;
    harness
        .client
        .complete(claimed.job_id, &done(&claimed.lease_token))
        .await
        .unwrap();
}

async fn heartbeat(client: &CoordinatorClient, worker: &str) {
    client
        .worker_heartbeat(&WorkerHeartbeat {
            worker_id: worker.into(),
            status: WorkerStatus::Busy,
            capabilities: JobType::ALL.to_vec(),
            version: None,
        })
        .await
        .unwrap();
}

fn worker<'a>(workers: &'a [WorkerInfo], id: &str) -> &'a WorkerInfo {
    workers.iter().find(|w| w.worker_id == id).unwrap()
}

async fn job_times(backend: Backend) {
    let clock = manual_clock();
    let harness = Harness::start(backend, |c| c.clock = clock.clone()).await;
    let (client, anon) = (&harness.client, &harness.anon);
    heartbeat(client, "w1").await;
    heartbeat(client, "w2").await;
    client.create_execution(&wasm_request(1)).await.unwrap();
    let job = &anon.jobs_for_request(1).await.unwrap()[0];
    assert_eq!((job.claimed_at_ms, job.finished_at_ms), (None, None));
    let workers = anon.workers().await.unwrap();
    for id in ["w1", "w2"] {
        let w = worker(&workers, id);
        assert_eq!(
            (w.jobs_completed, w.jobs_failed, w.current_job),
            (0, 0, None)
        );
    }

    let claimed = claim(&harness, "w1", 1, JobType::Execute).await;
    let job = &anon.jobs_for_request(1).await.unwrap()[0];
    assert_eq!(job.claimed_at_ms, Some(job.updated_at_ms));
    assert!(job.claimed_at_ms.unwrap() >= job.created_at_ms);
    assert_eq!(job.finished_at_ms, None);
    let claimed_at = job.claimed_at_ms.unwrap();
    assert_eq!(
        worker(&anon.workers().await.unwrap(), "w1").current_job,
        Some(1)
    );

    // A second job held at once: the most recent claim is the current one.
    client.create_execution(&wasm_request(2)).await.unwrap();
    clock.advance(Duration::from_millis(5));
    let second = claim(&harness, "w1", 2, JobType::Execute).await;
    assert_eq!(
        worker(&anon.workers().await.unwrap(), "w1").current_job,
        Some(2)
    );

    clock.advance(Duration::from_millis(5));
    client
        .complete(
            claimed.job_id,
            &success(&claimed.lease_token, metrics(10, 2, None), Some(5)),
        )
        .await
        .unwrap();
    let job = &anon.jobs_for_request(1).await.unwrap()[0];
    assert_eq!(job.claimed_at_ms, Some(claimed_at));
    assert_eq!(job.finished_at_ms, Some(job.updated_at_ms));
    assert_eq!(job.finished_at_ms, Some(claimed_at + 10));
    client
        .complete(
            second.job_id,
            &failure(&second.lease_token, ErrorCategory::ExecutionFailed, "trap"),
        )
        .await
        .unwrap();
    let job = &anon.jobs_for_request(2).await.unwrap()[0];
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.finished_at_ms, Some(job.updated_at_ms));
    assert_eq!(
        worker(&anon.workers().await.unwrap(), "w1").current_job,
        None
    );
    harness.stop().await;
}

async fn worker_counts(backend: Backend) {
    let harness = Harness::start(backend, |_| {}).await;
    let (client, anon) = (&harness.client, &harness.anon);
    heartbeat(client, "w1").await;
    heartbeat(client, "w2").await;
    for id in 1..=4 {
        client.create_execution(&wasm_request(id)).await.unwrap();
    }
    finish(&harness, "w1", 1, JobType::Execute, |l| {
        success(l, metrics(1, 1, None), None)
    })
    .await;
    finish(&harness, "w1", 2, JobType::Execute, |l| {
        failure(l, ErrorCategory::ExecutionFailed, "trap")
    })
    .await;
    finish(&harness, "w2", 3, JobType::Execute, |l| {
        success(l, metrics(1, 1, None), None)
    })
    .await;
    claim(&harness, "w2", 4, JobType::Execute).await;
    let workers = anon.workers().await.unwrap();
    let w1 = worker(&workers, "w1");
    assert_eq!(
        (w1.jobs_completed, w1.jobs_failed, w1.current_job),
        (1, 1, None)
    );
    let w2 = worker(&workers, "w2");
    assert_eq!(
        (w2.jobs_completed, w2.jobs_failed, w2.current_job),
        (1, 0, Some(4))
    );
    let raw: Value = anon
        .raw(Method::GET, "/public/workers", None)
        .await
        .unwrap()
        .json()
        .unwrap();
    let w1 = raw
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["worker_id"] == "w1")
        .unwrap();
    assert_eq!(w1["current_job"], Value::Null, "{w1}");
    assert_eq!(w1["jobs_failed"], 1);
    harness.stop().await;
}

/// A lease that runs out on the last attempt fails the job: finished then,
/// counted against the worker that let it lapse.
async fn expired_lease_is_finished(backend: Backend) {
    let clock = manual_clock();
    let harness = Harness::start(backend, |c| {
        c.lease_ms = 100;
        c.max_attempts = 1;
        c.reconcile_ms = RECONCILE_BY_HAND_MS;
        c.clock = clock.clone();
    })
    .await;
    heartbeat(&harness.client, "w1").await;
    harness
        .client
        .create_execution(&wasm_request(1))
        .await
        .unwrap();
    let claimed = claim(&harness, "w1", 1, JobType::Execute).await;
    clock.advance(Duration::from_millis(99));
    harness.reconcile().await;
    let job = &harness.anon.jobs_for_request(1).await.unwrap()[0];
    assert_eq!(job.state, JobState::Claimed);
    clock.advance(Duration::from_millis(1));
    harness.reconcile().await;
    let job = &harness.anon.jobs_for_request(1).await.unwrap()[0];
    assert_eq!(
        job.state,
        JobState::Failed,
        "the last attempt's lease ran out"
    );
    assert_eq!(job.job_id, claimed.job_id);
    assert_eq!(job.finished_at_ms, Some(job.updated_at_ms));
    assert_eq!(job.finished_at_ms, job.claimed_at_ms.map(|t| t + 100));
    let w1 = harness.anon.workers().await.unwrap();
    let w1 = worker(&w1, "w1");
    assert_eq!(
        (w1.jobs_completed, w1.jobs_failed, w1.current_job),
        (0, 1, None)
    );
    let stats = harness.anon.stats().await.unwrap();
    assert_eq!(stats.failures_by_category.infrastructure, 1);
    harness.stop().await;
}

/// Requests for the listing: ids 1-6 with different accounts and sources.
async fn seed(harness: &Harness) {
    let client = &harness.client;
    // 1: alice, github example, compiles.
    client
        .create_execution(&github_request(1, COMMIT))
        .await
        .unwrap();
    // 2: bob sends, carol pays, prebuilt binary, executing.
    let mut r = wasm_request(2);
    r.context.sender_id = account("bob.near");
    r.payer_account_id = account("carol.near");
    client.create_execution(&r).await.unwrap();
    // 3: bob, a package in another repository, completed (built by w1, run by w2).
    let mut r = with_source(
        3,
        CodeSource::GitPackage {
            repo: "github.com/other/Mono".into(),
            commit: COMMIT.into(),
            path: "apps/echo".into(),
            build_target: BuildTarget::Wasip2,
        },
    );
    r.context.sender_id = account("bob.near");
    r.payer_account_id = account("bob.near");
    r.context.transaction_hash = Some("9aHs2b6oV7uCEHKW4QvrB1iiTVnBb3XdDQU3N3tK6ZT2".into());
    client.create_execution(&r).await.unwrap();
    finish(harness, "w1", 3, JobType::Compile, |l| {
        success(l, metrics(0, 0, Some(1_500)), None)
    })
    .await;
    finish(harness, "w2", 3, JobType::Execute, |l| {
        success(l, metrics(2_000, 30, Some(1_500)), Some(7_000))
    })
    .await;
    // 4: alice, prebuilt, failed at run time.
    client.create_execution(&wasm_request(4)).await.unwrap();
    finish(harness, "w2", 4, JobType::Execute, |l| {
        failure(l, ErrorCategory::ExecutionFailed, "execution_failed: trap")
    })
    .await;
    // 5: alice, github example at another commit, the build failed.
    client
        .create_execution(&github_request(5, "main"))
        .await
        .unwrap();
    finish(harness, "w1", 5, JobType::Compile, |l| {
        failure(
            l,
            ErrorCategory::CompilationFailed,
            "compilation_failed: error[E0425]: cannot find value `x` in this scope (src/main.rs:3)",
        )
    })
    .await;
    // 6: alice, prebuilt, completed; carol pays.
    let mut r = wasm_request(6);
    r.payer_account_id = account("carol.near");
    client.create_execution(&r).await.unwrap();
    finish(harness, "w1", 6, JobType::Execute, |l| {
        success(l, metrics(500, 5, None), Some(3_000))
    })
    .await;
}

fn with_source(request_id: u64, code_source: CodeSource) -> ExecutionRequest {
    let mut r = wasm_request(request_id);
    r.code_source = code_source;
    r
}

async fn ids(client: &CoordinatorClient, query: &str) -> (Vec<u64>, Option<u64>) {
    let page = client.requests(query).await.unwrap();
    (
        page.requests.iter().map(|r| r.request_id).collect(),
        page.next_offset,
    )
}

async fn listing_filters_and_pages(backend: Backend) {
    let harness = Harness::start(backend, |_| {}).await;
    seed(&harness).await;
    let anon = &harness.anon;
    assert_eq!(ids(anon, "").await, (vec![6, 5, 4, 3, 2, 1], None));
    // Sender or payer, exactly.
    assert_eq!(ids(anon, "account=bob.near").await, (vec![3, 2], None));
    assert_eq!(ids(anon, "account=carol.near").await, (vec![6, 2], None));
    assert_eq!(
        ids(anon, "account=alice.near").await,
        (vec![6, 5, 4, 1], None)
    );
    assert_eq!(ids(anon, "account=bob.nea").await, (vec![], None));
    // Status.
    assert_eq!(ids(anon, "status=compiling").await, (vec![1], None));
    assert_eq!(ids(anon, "status=executing").await, (vec![2], None));
    assert_eq!(ids(anon, "status=completed").await, (vec![6, 3], None));
    assert_eq!(ids(anon, "status=failed").await, (vec![5, 4], None));
    // A substring of the repository or URL, case-sensitive.
    assert_eq!(
        ids(anon, "source=outlayer/example").await,
        (vec![5, 1], None)
    );
    assert_eq!(ids(anon, "source=Mono").await, (vec![3], None));
    assert_eq!(ids(anon, "source=mono").await, (vec![], None));
    // A package's path too, but no match across repository and path.
    assert_eq!(ids(anon, "source=apps/echo").await, (vec![3], None));
    assert_eq!(ids(anon, "source=Mono/apps").await, (vec![], None));
    assert_eq!(ids(anon, "source=Monoapps").await, (vec![], None));
    assert_eq!(ids(anon, "source=p.wasm").await, (vec![6, 4, 2], None));
    assert_eq!(ids(anon, "source=github.com").await, (vec![5, 3, 1], None));
    // Percent and underscore are plain characters, not patterns.
    assert_eq!(ids(anon, "source=%25").await, (vec![], None));
    assert_eq!(ids(anon, "source=_").await, (vec![], None));
    // Together.
    assert_eq!(
        ids(
            anon,
            "account=alice.near&status=failed&source=outlayer/example"
        )
        .await,
        (vec![5], None)
    );
    assert_eq!(
        ids(anon, "account=carol.near&status=completed").await,
        (vec![6], None)
    );

    // Pages: exactly full, one short, past the end.
    assert_eq!(ids(anon, "limit=6").await, (vec![6, 5, 4, 3, 2, 1], None));
    assert_eq!(ids(anon, "limit=5").await, (vec![6, 5, 4, 3, 2], Some(5)));
    assert_eq!(ids(anon, "limit=5&offset=5").await, (vec![1], None));
    assert_eq!(ids(anon, "limit=2").await, (vec![6, 5], Some(2)));
    assert_eq!(ids(anon, "limit=2&offset=2").await, (vec![4, 3], Some(4)));
    assert_eq!(ids(anon, "limit=2&offset=4").await, (vec![2, 1], None));
    assert_eq!(ids(anon, "offset=6").await, (vec![], None));
    assert_eq!(ids(anon, "limit=200&offset=100").await, (vec![], None));
    assert_eq!(
        ids(anon, "account=alice.near&limit=3").await,
        (vec![6, 5, 4], Some(3))
    );
    assert_eq!(
        ids(anon, "account=alice.near&limit=3&offset=3").await,
        (vec![1], None)
    );

    // Exact fields of one row.
    let page = anon
        .requests("account=bob.near&status=completed")
        .await
        .unwrap();
    let row = &page.requests[0];
    assert_eq!(row.request_id, 3);
    assert_eq!(row.status, RequestStatus::Completed);
    assert_eq!(row.sender_id.as_str(), "bob.near");
    assert_eq!(row.payer_account_id.as_str(), "bob.near");
    assert_eq!(
        row.code_source,
        CodeSource::GitPackage {
            repo: "github.com/other/Mono".into(),
            commit: COMMIT.into(),
            path: "apps/echo".into(),
            build_target: BuildTarget::Wasip2,
        }
    );
    assert_eq!(row.artifact_checksum, row.code_source.artifact_checksum());
    assert_eq!(row.payment, U128(1_000));
    assert_eq!((row.block_height, row.block_timestamp), (100, 1));
    assert_eq!(
        row.transaction_hash.as_deref(),
        Some("9aHs2b6oV7uCEHKW4QvrB1iiTVnBb3XdDQU3N3tK6ZT2")
    );
    assert_eq!(row.metrics, metrics(2_000, 30, Some(1_500)));
    assert_eq!(row.actual_cost, Some(U128(7_000)));
    assert_eq!((row.error_category, row.error.as_deref()), (None, None));
    let failed = anon.requests("status=failed").await.unwrap();
    let build = &failed.requests[0];
    assert_eq!(build.error_category, Some(ErrorCategory::CompilationFailed));
    assert_eq!(build.metrics, None, "no run");
    assert_eq!(
        build.actual_cost,
        Some(U128(1_000)),
        "the compile job's charge"
    );
    let run = &failed.requests[1];
    assert_eq!(run.error.as_deref(), Some("execution_failed: trap"));
    // The wire shape: every field present, nulls included; no input.
    let raw: Value = anon
        .raw(Method::GET, "/public/requests?limit=1", None)
        .await
        .unwrap()
        .json()
        .unwrap();
    let keys: Vec<&str> = raw["requests"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(!keys.contains(&"input_data"), "{keys:?}");
    assert_eq!(raw["requests"][0]["payment"], "1000");
    assert_eq!(raw["next_offset"], 1);
    harness.stop().await;
}

async fn bad_queries(backend: Backend) {
    let harness = Harness::start(backend, |_| {}).await;
    harness
        .client
        .create_execution(&wasm_request(1))
        .await
        .unwrap();
    let long = "a".repeat(257);
    let ok_long = "a".repeat(256);
    for query in [
        "limit=0",
        "limit=201",
        "limit=abc",
        "limit=-1",
        "offset=-1",
        "offset=4611686018427387904",
        "status=pending",
        "status=",
        "account=",
        "account=Alice.near",
        "account=alice near",
        "source=",
        &format!("source={long}"),
        "source=%0a",
        "settled=",
        "settled=yes",
        "settled=TRUE",
        "settled=1",
        "accounts=alice.near",
        "request_id=1",
    ] {
        let url = format!("{}/public/requests?{query}", harness.url());
        let (status, _, body) = send(&url, Method::GET, None, None, HeaderMap::new()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"], "bad_request", "{query}: {body}");
        assert!(
            !body["message"].as_str().unwrap().is_empty(),
            "{query}: {body}"
        );
    }
    // The bounds themselves are fine.
    for query in [
        "limit=200".to_owned(),
        "limit=1&offset=4611686018427387903".to_owned(),
        format!("source={ok_long}"),
        "account=a1".to_owned(),
        "settled=true&status=completed".to_owned(),
    ] {
        harness.anon.requests(&query).await.unwrap();
    }
    for (path, status, code) in [
        (
            "/public/requests/abc",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/public/requests/-1",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/public/requests/9223372036854775808",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        ("/public/requests/2", StatusCode::NOT_FOUND, "not_found"),
        (
            "/public/requests/1/jobs",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ] {
        let url = format!("{}{path}", harness.url());
        let (got, _, body) = send(&url, Method::GET, None, None, HeaderMap::new()).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(body["error"], code, "{path}: {body}");
    }
    assert_eq!(harness.anon.request(2).await.unwrap(), None);
    // Public: CORS for any origin.
    let mut headers = HeaderMap::new();
    headers.insert("origin", "http://dashboard.example".parse().unwrap());
    let url = format!("{}/public/requests/1", harness.url());
    let (status, headers, _) = send(&url, Method::GET, None, None, headers).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["access-control-allow-origin"], "*");
    harness.stop().await;
}

async fn detail_and_timeline(backend: Backend) {
    let harness = Harness::start(backend, |_| {}).await;
    seed(&harness).await;
    let client = &harness.client;
    let anon = &harness.anon;

    // Built by w1, run by w2.
    let detail = anon.request(3).await.unwrap().unwrap();
    assert_eq!(detail.request.request_id, 3);
    assert_eq!(detail.request.status, RequestStatus::Completed);
    let kinds: Vec<_> = detail.jobs.iter().map(|j| (j.job_type, j.state)).collect();
    assert_eq!(
        kinds,
        [
            (JobType::Compile, JobState::Completed),
            (JobType::Execute, JobState::Completed)
        ]
    );
    let t = &detail.timeline;
    assert_eq!(
        t.requested,
        RequestedStep {
            block_height: 100,
            block_timestamp: 1,
            transaction_hash: Some("9aHs2b6oV7uCEHKW4QvrB1iiTVnBb3XdDQU3N3tK6ZT2".into()),
        }
    );
    let (compile, execute) = (&detail.jobs[0], &detail.jobs[1]);
    assert_eq!(
        t.build,
        Some(BuildStep {
            state: Some(JobState::Completed),
            claimed_at_ms: compile.claimed_at_ms,
            finished_at_ms: compile.finished_at_ms,
            worker_id: Some("w1".into()),
            cached: Some(false),
        })
    );
    assert!(compile.claimed_at_ms.is_some() && compile.finished_at_ms.is_some());
    assert_eq!(
        t.run,
        Some(RunStep {
            state: JobState::Completed,
            claimed_at_ms: execute.claimed_at_ms,
            finished_at_ms: execute.finished_at_ms,
            worker_id: Some("w2".into()),
        })
    );
    assert!(execute.claimed_at_ms >= compile.finished_at_ms);
    assert_eq!((&t.resolve, &t.settled), (&None, &None));
    assert_eq!(detail.build_log_summary, None);

    // The build failed: its summary without the category prefix, no run.
    let detail = anon.request(5).await.unwrap().unwrap();
    assert_eq!(
        detail.build_log_summary.as_deref(),
        Some("error[E0425]: cannot find value `x` in this scope (src/main.rs:3)")
    );
    let build = detail.timeline.build.unwrap();
    assert_eq!(
        (build.state, build.cached, build.worker_id.as_deref()),
        (Some(JobState::Failed), None, Some("w1"))
    );
    assert_eq!(detail.timeline.run, None);

    // A prebuilt binary has no build step; a waiting job no times.
    let detail = anon.request(2).await.unwrap().unwrap();
    assert_eq!(detail.timeline.build, None);
    assert_eq!(
        detail.timeline.run,
        Some(RunStep {
            state: JobState::Pending,
            claimed_at_ms: None,
            finished_at_ms: None,
            worker_id: None,
        })
    );
    assert_eq!(detail.request.sender_id.as_str(), "bob.near");

    // A compile job that found the artifact cached built nothing.
    client
        .create_execution(&github_request(7, "feature"))
        .await
        .unwrap();
    finish(&harness, "w1", 7, JobType::Compile, |l| {
        success(l, metrics(0, 0, None), None)
    })
    .await;
    let build = anon
        .request(7)
        .await
        .unwrap()
        .unwrap()
        .timeline
        .build
        .unwrap();
    assert_eq!(
        (build.state, build.cached),
        (Some(JobState::Completed), Some(true))
    );
    // Cached when the request arrived: no compile job at all.
    let cached = github_request(8, "cached");
    let checksum = cached.code_source.artifact_checksum();
    client
        .upload_artifact(&checksum, b"\0asm\x01\0\0\0".to_vec())
        .await
        .unwrap();
    let created = client.create_execution(&cached).await.unwrap();
    assert_eq!(created.first_job, JobType::Execute);
    let detail = anon.request(8).await.unwrap().unwrap();
    assert_eq!(
        detail.timeline.build,
        Some(BuildStep {
            state: None,
            claimed_at_ms: None,
            finished_at_ms: None,
            worker_id: None,
            cached: Some(true),
        })
    );
    assert_eq!(detail.jobs.len(), 1);

    // The wire shape: the summary's fields at the top level.
    let raw: Value = anon
        .raw(Method::GET, "/public/requests/3", None)
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(raw["request_id"], 3);
    assert_eq!(raw["sender_id"], "bob.near");
    assert_eq!(raw["timeline"]["build"]["cached"], false);
    assert_eq!(raw["timeline"]["settled"], Value::Null);
    assert_eq!(raw["jobs"][1]["worker_id"], "w2");
    harness.stop().await;
}

async fn stats_totals(backend: Backend) {
    let harness = Harness::start(backend, |_| {}).await;
    seed(&harness).await;
    let client = &harness.client;
    for (id, category) in [
        (10, ErrorCategory::AccessDenied),
        (11, ErrorCategory::InsufficientPayment),
        (12, ErrorCategory::Infrastructure),
        (13, ErrorCategory::AccessDenied),
    ] {
        client.create_execution(&wasm_request(id)).await.unwrap();
        finish(&harness, "w1", id, JobType::Execute, |l| {
            failure(l, category, category.as_str())
        })
        .await;
    }
    let stats = harness.anon.stats().await.unwrap();
    assert_eq!(stats.requests_total, 10);
    assert_eq!(stats.requests_failed, 6);
    // Runs: 2,000 + 500 instructions, 30 + 5 ms; the build of request 3
    // counted once although its execute job repeats it.
    assert_eq!(
        (
            stats.instructions_total,
            stats.execution_ms_total,
            stats.compile_ms_total
        ),
        (2_500, 35, 1_500)
    );
    assert_eq!(
        stats.failures_by_category,
        FailureCounts {
            compilation_failed: 1,
            execution_failed: 1,
            access_denied: 2,
            insufficient_payment: 1,
            infrastructure: 1,
        }
    );
    let raw: Value = harness
        .anon
        .raw(Method::GET, "/public/stats", None)
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(raw["failures_by_category"]["access_denied"], 2);
    assert_eq!(raw["compile_ms_total"], 1_500);
    harness.stop().await;
}

/// Rows written before migration 2 (its columns empty) are filled in from
/// their JSON when the store opens, so filters and totals see them.
async fn backfill_on_open(backend: Backend) {
    let mut harness = Harness::start(backend, |_| {}).await;
    seed(&harness).await;
    let before = harness.anon.stats().await.unwrap();
    harness.running.take().unwrap().stop().await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&harness.config.store_url())
        .await
        .unwrap();
    sqlx::query("UPDATE requests SET sender_id = NULL, payer_id = NULL, source = NULL")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE jobs SET instructions = NULL, time_ms = NULL, compile_ms = NULL")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    harness.running = Some(spawn(harness.config.clone()).await.unwrap());
    let anon = &harness.anon;
    assert_eq!(anon.stats().await.unwrap(), before);
    assert_eq!(before.compile_ms_total, 1_500);
    assert_eq!(ids(anon, "account=carol.near").await, (vec![6, 2], None));
    assert_eq!(ids(anon, "source=Mono").await, (vec![3], None));
    let build = anon
        .request(3)
        .await
        .unwrap()
        .unwrap()
        .timeline
        .build
        .unwrap();
    assert_eq!(build.cached, Some(false));
    harness.stop().await;
}

/// The end of a request: the worker reports its resolve transaction with
/// the completion, a monitor the contract's settlement.
async fn resolve_and_settlement(backend: Backend) {
    let clock = manual_clock();
    let harness = Harness::start(backend, |c| c.clock = clock.clone()).await;
    let (client, anon) = (&harness.client, &harness.anon);
    const TX: &str = "9aHs2b6oV7uCEHKW4QvrB1iiTVnBb3XdDQU3N3tK6ZT2";
    client.create_execution(&wasm_request(1)).await.unwrap();
    client.create_execution(&wasm_request(2)).await.unwrap();
    let detail = anon.request(1).await.unwrap().unwrap();
    assert_eq!(
        (detail.timeline.resolve, detail.timeline.settled),
        (None, None)
    );

    // Refused completions leave the job held.
    let claimed = claim(&harness, "w1", 1, JobType::Execute).await;
    for (hash, at) in [
        (Some("0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl"), None),
        (Some("short"), None),
        (None, Some(5)),
        (Some(TX), Some(u64::MAX)),
    ] {
        let done = CompleteJob {
            resolve_tx_hash: hash.map(str::to_owned),
            resolve_submitted_at_ms: at,
            ..success(&claimed.lease_token, None, None)
        };
        let err = client.complete(claimed.job_id, &done).await.unwrap_err();
        assert!(err.is_bad_request(), "{hash:?} {at:?}: {err}");
    }
    let done = CompleteJob {
        resolve_tx_hash: Some(TX.into()),
        resolve_submitted_at_ms: Some(1_700_000_000_000),
        ..success(&claimed.lease_token, metrics(5, 1, None), Some(10))
    };
    client.complete(claimed.job_id, &done).await.unwrap();
    let detail = anon.request(1).await.unwrap().unwrap();
    assert_eq!(
        detail.timeline.resolve,
        Some(ResolveStep {
            tx_hash: TX.into(),
            submitted_at_ms: 1_700_000_000_000,
        })
    );
    // Without a time, the coordinator's clock at completion.
    let claimed = claim(&harness, "w1", 2, JobType::Execute).await;
    let done = CompleteJob {
        resolve_tx_hash: Some(TX.into()),
        ..failure(&claimed.lease_token, ErrorCategory::ExecutionFailed, "trap")
    };
    client.complete(claimed.job_id, &done).await.unwrap();
    let detail = anon.request(2).await.unwrap().unwrap();
    let resolve = detail.timeline.resolve.unwrap();
    assert_eq!(
        resolve.submitted_at_ms,
        detail.timeline.run.unwrap().finished_at_ms.unwrap()
    );

    // Not settled yet: no verdict, no time, and the settled filter agrees.
    assert_eq!(
        (detail.request.settled_success, detail.request.settled_at_ms),
        (None, None)
    );
    assert_eq!(ids(anon, "settled=false").await, (vec![2, 1], None));
    assert_eq!(ids(anon, "settled=true").await, (vec![], None));

    // The settlement, as a monitor reports it; a repeat is harmless and
    // keeps the time of the first report.
    let settled = ExecutionSettled {
        block_height: 250,
        success: true,
        charged: U128(7_000),
        refunded: U128(3_000),
    };
    clock.advance(Duration::from_millis(7));
    client.settled(1, &settled).await.unwrap();
    let first = anon.request(1).await.unwrap().unwrap().request;
    let at = first
        .settled_at_ms
        .expect("the settlement time is recorded");
    assert_eq!(at, clock.now_ms() as u64);
    assert!(at >= first.created_at_ms + 7);
    clock.advance(Duration::from_millis(5));
    client.settled(1, &settled).await.unwrap();
    let detail = anon.request(1).await.unwrap().unwrap();
    assert_eq!(
        (detail.request.settled_success, detail.request.settled_at_ms),
        (Some(true), Some(at))
    );
    // The jobs' status is left as it was: settlement is a field beside it.
    assert_eq!(detail.request.status, RequestStatus::Completed);
    assert_eq!(
        detail.timeline.settled,
        Some(SettledStep {
            block_height: 250,
            success: true,
            charged: U128(7_000),
            refunded: U128(3_000),
        })
    );
    let raw: Value = anon
        .raw(Method::GET, "/public/requests/1", None)
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(raw["timeline"]["settled"]["charged"], "7000");
    assert_eq!(raw["timeline"]["resolve"]["tx_hash"], TX);
    assert_eq!(raw["settled_success"], true);
    assert_eq!(raw["settled_at_ms"], at);

    // A failure settles too; the listing carries the verdict and time, and
    // the settled filter tells them apart.
    let failed = ExecutionSettled {
        block_height: 251,
        success: false,
        charged: U128(1_000),
        refunded: U128(9_000),
    };
    client.settled(2, &failed).await.unwrap();
    let page = anon.requests("").await.unwrap();
    let row = |id: u64| page.requests.iter().find(|r| r.request_id == id).unwrap();
    assert_eq!(row(1).settled_success, Some(true));
    assert_eq!(row(1).settled_at_ms, Some(at));
    assert_eq!(row(2).settled_success, Some(false));
    assert!(row(2).settled_at_ms.unwrap() >= at);
    assert_eq!(row(2).status, RequestStatus::Failed);
    assert_eq!(ids(anon, "settled=true").await, (vec![2, 1], None));
    assert_eq!(ids(anon, "settled=false").await, (vec![], None));
    assert_eq!(ids(anon, "settled=success").await, (vec![1], None));
    assert_eq!(ids(anon, "settled=failure").await, (vec![2], None));
    assert_eq!(
        ids(anon, "settled=failure&status=completed").await,
        (vec![], None)
    );
    assert_eq!(
        ids(anon, "settled=failure&status=failed").await,
        (vec![2], None)
    );
    assert!(
        client
            .settled(3, &settled)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        anon.settled(1, &settled)
            .await
            .unwrap_err()
            .is_unauthorized()
    );
    let url = format!("{}/executions/1/settled", harness.url());
    for body in [
        r#"{"block_height": 1, "success": true, "charged": "1", "refunded": "2", "extra": 1}"#,
        r#"{"block_height": 1, "success": true, "charged": "x", "refunded": "2"}"#,
        r#"{"block_height": -1, "success": true, "charged": "1", "refunded": "2"}"#,
        r#"{"success": true, "charged": "1", "refunded": "2"}"#,
    ] {
        let (status, _, answer) = send(
            &url,
            Method::POST,
            Some(&harness.token),
            Some(body),
            HeaderMap::new(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["error"], "bad_request");
    }
    harness.stop().await;
}

both_backends!(
    resolve_and_settlement,
    job_times,
    worker_counts,
    expired_lease_is_finished,
    listing_filters_and_pages,
    bad_queries,
    detail_and_timeline,
    stats_totals,
    backfill_on_open,
);
