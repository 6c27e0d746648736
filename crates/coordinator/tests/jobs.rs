//! Job lifecycle end to end over HTTP, on SQLite and on PostgreSQL + Redis:
//! exactly-once claims under a race, lease expiry and exhaustion, durability
//! across a Redis flush and a coordinator restart, idempotent creation and
//! the compile → execute hand-off.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{
    Backend, Harness, RECONCILE_BY_HAND_MS, eventually, github_request, manual_clock, wasm_request,
};
use outlayer_coordinator_client::CoordinatorClient;
use outlayer_types::coordinator::*;

#[derive(Default)]
struct Ledger {
    claims: HashMap<u64, u32>,
    completions: HashMap<u64, u32>,
}

/// A simulated worker: poll → claim → complete, until told to stop. Errors
/// other than a lost race are retried (the coordinator may be restarting).
async fn worker(
    client: CoordinatorClient,
    id: String,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
) {
    let all = JobType::ALL;
    while !stop.load(Ordering::Relaxed) {
        let offer = match client.poll(&id, &all, 300).await {
            Ok(Some(offer)) => offer,
            Ok(None) => continue,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let claimed = match client.claim(&id, Some(offer.job_id), &all).await {
            Ok(claimed) => claimed,
            Err(_) => continue,
        };
        *ledger
            .lock()
            .unwrap()
            .claims
            .entry(claimed.job_id)
            .or_default() += 1;
        let done = CompleteJob {
            lease_token: claimed.lease_token.clone(),
            success: true,
            error_category: None,
            error: None,
            output_summary: Some(format!("ok {}", claimed.request_id)),
            metrics: Some(outlayer_types::ResourceMetrics {
                instructions: 10,
                time_ms: 1,
                compile_time_ms: None,
            }),
            actual_cost: Some(outlayer_types::U128(5)),
            resolve_tx_hash: None,
            resolve_submitted_at_ms: None,
        };
        loop {
            match client.complete(claimed.job_id, &done).await {
                Ok(_) => {
                    *ledger
                        .lock()
                        .unwrap()
                        .completions
                        .entry(claimed.job_id)
                        .or_default() += 1;
                    break;
                }
                Err(e) if e.is_conflict() => break,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }
}

struct Pool {
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Pool {
    fn start(client: &CoordinatorClient, workers: usize) -> Self {
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = (0..workers)
            .map(|i| {
                tokio::spawn(worker(
                    client.clone(),
                    format!("w{i}"),
                    ledger.clone(),
                    stop.clone(),
                ))
            })
            .collect();
        Self {
            ledger,
            stop,
            tasks,
        }
    }

    async fn finish(self) -> Ledger {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.unwrap();
        }
        Arc::try_unwrap(self.ledger)
            .ok()
            .unwrap()
            .into_inner()
            .unwrap()
    }
}

async fn create_all(client: &CoordinatorClient, ids: std::ops::Range<u64>) {
    for id in ids {
        let request = if id % 2 == 0 {
            github_request(id, &format!("c{id}"))
        } else {
            wasm_request(id)
        };
        loop {
            match client.create_execution(&request).await {
                Ok(_) => break,
                Err(e) if e.is_conflict() => panic!("{e}"),
                // The coordinator may be restarting.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }
}

async fn all_completed(client: &CoordinatorClient, requests: u64) -> bool {
    match client.stats().await {
        Ok(stats) => stats.requests_completed == requests,
        Err(_) => false,
    }
}

fn assert_exactly_once(ledger: &Ledger, jobs: usize) {
    assert_eq!(ledger.completions.len(), jobs, "every job completed");
    assert!(
        ledger.completions.values().all(|&n| n == 1),
        "no job completed twice"
    );
    assert!(
        ledger.claims.values().all(|&n| n == 1),
        "no job claimed twice"
    );
}

async fn race(backend: Backend) {
    let harness = Harness::start(backend, |_| {}).await;
    let pool = Pool::start(&harness.client, 32);
    // Creators race the workers, so wake-ups and claims interleave.
    let creators: Vec<_> = (0..4u64)
        .map(|k| {
            let client = harness.client.clone();
            tokio::spawn(async move { create_all(&client, k * 250..(k + 1) * 250).await })
        })
        .collect();
    for creator in creators {
        creator.await.unwrap();
    }
    let client = harness.client.clone();
    eventually(Duration::from_secs(120), "1000 requests completed", || {
        all_completed(&client, 1000)
    })
    .await;
    let ledger = pool.finish().await;
    // 1000 execute jobs plus a compile job for each of the 500 GitHub requests.
    assert_exactly_once(&ledger, 1500);
    let stats = harness.client.stats().await.unwrap();
    assert_eq!(stats.jobs.completed, 1500);
    assert_eq!(
        stats.jobs.pending + stats.jobs.claimed + stats.jobs.failed,
        0
    );
    harness.stop().await;
}

/// Claims without a job id (the store picks the oldest pending job) racing
/// each other: every job is handed out exactly once.
async fn race_claim_any(backend: Backend) {
    let harness = Harness::start(backend, |_| {}).await;
    for id in 0..200 {
        harness
            .client
            .create_execution(&wasm_request(id))
            .await
            .unwrap();
    }
    let claimers: Vec<_> = (0..16)
        .map(|i| {
            let client = harness.client.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    match client.claim(&format!("c{i}"), None, &JobType::ALL).await {
                        Ok(claimed) => mine.push(claimed.job_id),
                        Err(e) if e.is_not_found() => return mine,
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.unwrap());
    }
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!((before, all.len()), (200, 200), "each job claimed once");
    harness.stop().await;
}

fn success(lease_token: &str) -> CompleteJob {
    CompleteJob {
        lease_token: lease_token.to_owned(),
        success: true,
        error_category: None,
        error: None,
        output_summary: None,
        metrics: None,
        actual_cost: None,
        resolve_tx_hash: None,
        resolve_submitted_at_ms: None,
    }
}

/// Batched claims (several sizes, with and without a wait) racing single
/// claims: every job is handed out exactly once, each under a lease token
/// of its own that completes that job and no other, with its request.
async fn race_claim_batch(backend: Backend) {
    let harness = Harness::start(backend, |_| {}).await;
    const JOBS: u64 = 300;
    for id in 0..JOBS {
        harness
            .client
            .create_execution(&wasm_request(id))
            .await
            .unwrap();
    }
    let claimers: Vec<_> = (0..16u32)
        .map(|i| {
            let client = harness.client.clone();
            tokio::spawn(async move {
                let worker = format!("b{i}");
                let mut mine = Vec::new();
                loop {
                    let jobs = match i % 4 {
                        // Single claims race the batches.
                        0 => match client.claim(&worker, None, &JobType::ALL).await {
                            Ok(job) => vec![job],
                            Err(e) if e.is_not_found() => Vec::new(),
                            Err(e) => panic!("{e}"),
                        },
                        1 => client
                            .claim_batch(&worker, &JobType::ALL, 50, 20)
                            .await
                            .unwrap(),
                        _ => client
                            .claim_batch(&worker, &JobType::ALL, i % 7 + 1, 0)
                            .await
                            .unwrap(),
                    };
                    if jobs.is_empty() {
                        return mine;
                    }
                    assert!(jobs.len() <= 50);
                    mine.extend(jobs);
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.unwrap());
    }
    let mut ids: Vec<u64> = all.iter().map(|j| j.job_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        (all.len(), ids.len()),
        (JOBS as usize, JOBS as usize),
        "each job claimed once"
    );
    let mut tokens: Vec<&str> = all.iter().map(|j| j.lease_token.as_str()).collect();
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), JOBS as usize, "a lease token per job");
    for job in &all {
        assert_eq!(job.attempt, 1);
        assert_eq!(job.job_type, JobType::Execute);
        assert_eq!(
            job.request,
            wasm_request(job.request_id),
            "the job's own request"
        );
    }
    // A token completes its own job only.
    let (a, b) = (&all[0], &all[1]);
    let refused = harness
        .client
        .complete(a.job_id, &success(&b.lease_token))
        .await
        .unwrap_err();
    assert!(refused.is_conflict(), "{refused}");
    for job in &all {
        let done = harness
            .client
            .complete(job.job_id, &success(&job.lease_token))
            .await
            .unwrap();
        assert_eq!(done.state, JobState::Completed);
    }
    let stats = harness.client.stats().await.unwrap();
    assert_eq!(stats.jobs.completed, JOBS);
    assert_eq!(stats.jobs.pending + stats.jobs.claimed, 0);
    harness.stop().await;
}

/// A batch claim takes at most `max_jobs`, oldest first; with nothing
/// pending it waits for a job created meanwhile and returns it; its
/// arguments are checked.
async fn claim_batch_waits_and_checks(backend: Backend) {
    let harness = Harness::start(backend, |_| {}).await;
    let client = &harness.client;
    for id in 0..5 {
        client.create_execution(&wasm_request(id)).await.unwrap();
    }
    let first = client.claim_batch("w", &JobType::ALL, 3, 0).await.unwrap();
    let requests: Vec<u64> = first.iter().map(|j| j.request_id).collect();
    assert_eq!(requests, [0, 1, 2]);
    let rest = client.claim_batch("w", &JobType::ALL, 3, 0).await.unwrap();
    let requests: Vec<u64> = rest.iter().map(|j| j.request_id).collect();
    assert_eq!(requests, [3, 4]);
    // Nothing pending and no wait: an empty answer at once.
    let started = std::time::Instant::now();
    assert!(
        client
            .claim_batch("w", &JobType::ALL, 3, 0)
            .await
            .unwrap()
            .is_empty()
    );
    // Nothing pending and a wait: the job created meanwhile.
    let waiter = {
        let client = client.clone();
        tokio::spawn(async move { client.claim_batch("w", &JobType::ALL, 3, 5_000).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    client.create_execution(&wasm_request(5)).await.unwrap();
    let woken = waiter.await.unwrap().unwrap();
    assert_eq!(woken.len(), 1);
    assert_eq!(woken[0].request_id, 5);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // Job types are respected: no compile job exists.
    assert!(
        client
            .claim_batch("w", &[JobType::Compile], 3, 0)
            .await
            .unwrap()
            .is_empty()
    );
    // Bad arguments.
    for body in [
        r#"{"worker_id": "w", "max_jobs": 0}"#,
        r#"{"worker_id": "w", "max_jobs": 65}"#,
        r#"{"worker_id": "w"}"#,
        r#"{"worker_id": "w", "max_jobs": 1, "capabilities": []}"#,
        r#"{"worker_id": "w", "max_jobs": 1, "extra": 1}"#,
    ] {
        let (status, _, error) = common::send(
            &format!("{}/jobs/claim-batch", harness.url()),
            axum::http::Method::POST,
            Some(&harness.token),
            Some(body),
            Default::default(),
        )
        .await;
        assert_eq!(status, 400, "{body}: {error}");
        assert_eq!(error["error"], "bad_request", "{body}");
    }
    // Another token's worker id is refused, as for single claims.
    let other = harness.client_named("other").await;
    other
        .worker_heartbeat(&WorkerHeartbeat {
            worker_id: "theirs".into(),
            status: WorkerStatus::Idle,
            capabilities: JobType::ALL.to_vec(),
            version: None,
        })
        .await
        .unwrap();
    let taken = client
        .claim_batch("theirs", &JobType::ALL, 1, 0)
        .await
        .unwrap_err();
    assert!(taken.is_conflict(), "{taken}");
    harness.stop().await;
}

async fn lease_expiry(backend: Backend) {
    let clock = manual_clock();
    let harness = Harness::start(backend, |c| {
        c.lease_ms = 300;
        c.reconcile_ms = RECONCILE_BY_HAND_MS;
        c.max_attempts = 2;
        c.clock = clock.clone();
    })
    .await;
    let client = &harness.client;
    let all = JobType::ALL;
    client.create_execution(&wasm_request(1)).await.unwrap();
    // A worker claims and vanishes.
    let first = client.claim("gone", None, &all).await.unwrap();
    assert_eq!(first.attempt, 1);
    // A millisecond before its lease runs out the job is still the first
    // worker's; at its end it is pending again and another worker gets it.
    clock.advance(Duration::from_millis(299));
    harness.reconcile().await;
    let early = client.claim("alive", None, &all).await.unwrap_err();
    assert!(early.is_not_found(), "{early}");
    clock.advance(Duration::from_millis(1));
    harness.reconcile().await;
    let second = client.claim("alive", None, &all).await.unwrap();
    assert_eq!((second.job_id, second.attempt), (first.job_id, 2));
    // The vanished worker can neither extend nor complete any more.
    let stale = CompleteJob {
        lease_token: first.lease_token.clone(),
        success: true,
        error_category: None,
        error: None,
        output_summary: None,
        metrics: None,
        actual_cost: None,
        resolve_tx_hash: None,
        resolve_submitted_at_ms: None,
    };
    assert!(matches!(
        client.complete(first.job_id, &stale).await,
        Err(e) if e.is_conflict()
    ));
    assert!(matches!(
        client.extend_lease(first.job_id, &first.lease_token).await,
        Err(e) if e.is_conflict()
    ));
    // The live worker keeps its lease alive past the original expiry by
    // heartbeats: each moves the expiry a whole lease ahead.
    for _ in 0..4 {
        clock.advance(Duration::from_millis(299));
        harness.reconcile().await;
        let extended = client
            .extend_lease(second.job_id, &second.lease_token)
            .await
            .unwrap();
        assert_eq!(extended.lease_expires_at_ms, clock.now_ms() as u64 + 300);
    }
    let done = CompleteJob {
        lease_token: second.lease_token.clone(),
        ..stale.clone()
    };
    let completed = client.complete(second.job_id, &done).await.unwrap();
    assert_eq!(completed.state, JobState::Completed);
    // Completing again with the same lease is a harmless repeat.
    assert_eq!(
        client.complete(second.job_id, &done).await.unwrap().state,
        JobState::Completed
    );
    // The same lease reporting another outcome is not a repeat.
    let other = CompleteJob {
        success: false,
        error_category: Some(ErrorCategory::ExecutionFailed),
        error: Some("changed my mind".into()),
        ..done.clone()
    };
    assert!(
        client
            .complete(second.job_id, &other)
            .await
            .unwrap_err()
            .is_conflict()
    );

    // A job whose every holder vanishes fails with the reason.
    client.create_execution(&wasm_request(2)).await.unwrap();
    let a = client.claim("gone", None, &all).await.unwrap();
    assert_eq!(a.request_id, 2);
    clock.advance(Duration::from_millis(300));
    harness.reconcile().await;
    let last = client.claim("gone-too", None, &all).await.unwrap();
    assert_eq!((last.job_id, last.attempt), (a.job_id, 2));
    clock.advance(Duration::from_millis(300));
    harness.reconcile().await;
    let job = &client.jobs("request_id=2").await.unwrap().jobs[0];
    assert_eq!(job.error_category, Some(ErrorCategory::Infrastructure));
    assert!(
        job.error.as_deref().unwrap().contains("lease expired"),
        "{job:?}"
    );
    assert_eq!(job.attempt, 2);
    // The last holder coming back after the reaper failed the job is too late.
    let late = CompleteJob {
        lease_token: last.lease_token.clone(),
        ..done.clone()
    };
    assert!(
        client
            .complete(last.job_id, &late)
            .await
            .unwrap_err()
            .is_conflict()
    );
    let stats = client.stats().await.unwrap();
    assert_eq!((stats.requests_completed, stats.requests_failed), (1, 1));
    harness.stop().await;
}

/// Redis flushed mid-run (PostgreSQL + Redis) or the coordinator restarted
/// mid-run (both): every request still completes, each job exactly once.
async fn durability(backend: Backend) {
    let mut harness = Harness::start(backend, |c| {
        c.reconcile_ms = 100;
        c.requeue_ms = 300;
    })
    .await;
    let pool = Pool::start(&harness.client, 8);
    create_all(&harness.client, 0..150).await;
    if backend == Backend::PostgresRedis {
        let url = harness.config.redis_url.clone().unwrap();
        let client = redis::Client::open(url).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("FLUSHALL")
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
    }
    create_all(&harness.client, 150..300).await;
    harness.restart().await;
    create_all(&harness.client, 300..400).await;
    let client = harness.client.clone();
    eventually(Duration::from_secs(60), "400 requests completed", || {
        all_completed(&client, 400)
    })
    .await;
    let ledger = pool.finish().await;
    assert_exactly_once(&ledger, 600);
    harness.stop().await;
}

/// A backlog whose wake-ups were all lost (the coordinator restarted; on
/// Redis also flushed) drains at full speed for workers that only poll and
/// claim what they are offered: polls ask the store first and offer each
/// poller a different job. Before, each poll waited out its queue slice and
/// every poller was offered the same oldest job, so 100 jobs took about 10 s
/// (until the reconciler re-sent the wake-ups).
async fn backlog_after_lost_wakeups(backend: Backend) {
    let mut harness = Harness::start(backend, |_| {}).await;
    const JOBS: u64 = 100;
    for id in 0..JOBS {
        harness
            .client
            .create_execution(&wasm_request(id))
            .await
            .unwrap();
    }
    if backend == Backend::PostgresRedis {
        let url = harness.config.redis_url.clone().unwrap();
        let client = redis::Client::open(url).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("FLUSHALL")
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
    }
    harness.restart().await;
    let started = std::time::Instant::now();
    let pool = Pool::start(&harness.client, 8);
    let client = harness.client.clone();
    eventually(Duration::from_secs(30), "the backlog drained", || {
        all_completed(&client, JOBS)
    })
    .await;
    let drained = started.elapsed();
    let ledger = pool.finish().await;
    assert_exactly_once(&ledger, JOBS as usize);
    // The reconciler re-sends lost wake-ups only after --requeue-ms (10 s):
    // well within that, the polls alone drained the backlog.
    assert!(drained < Duration::from_secs(3), "drained in {drained:?}");
    harness.stop().await;
}

async fn idempotent_creation(backend: Backend) {
    let harness = Harness::start(backend, |_| {}).await;
    let client = &harness.client;
    let request = github_request(7, "abc");
    let first = client.create_execution(&request).await.unwrap();
    assert!(first.created);
    assert_eq!(first.first_job, JobType::Compile);
    assert_eq!(
        first.artifact_checksum,
        request.code_source.artifact_checksum()
    );
    let again = client.create_execution(&request).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.first_job, JobType::Compile);
    let mut different = request.clone();
    different.input_data = Some("other".into());
    assert!(matches!(
        client.create_execution(&different).await,
        Err(e) if e.is_conflict()
    ));
    let jobs = client.jobs_for_request(7).await.unwrap();
    assert_eq!(jobs.len(), 1, "one job, however often it was reported");

    // The contract's copy (a monitor's repair) has no transaction hash and
    // the block stream's has: the same request, whichever comes first, and
    // the hash is kept once known. Two different hashes are a conflict.
    let mut streamed = request.clone();
    streamed.context.transaction_hash = Some("TxA".into());
    assert!(!client.create_execution(&streamed).await.unwrap().created);
    assert!(!client.create_execution(&request).await.unwrap().created);
    let claimed = client.claim("w", None, &[JobType::Compile]).await.unwrap();
    assert_eq!(claimed.request, streamed, "the hash was kept");
    let mut other = request.clone();
    other.context.transaction_hash = Some("TxB".into());
    assert!(matches!(
        client.create_execution(&other).await,
        Err(e) if e.is_conflict()
    ));
    harness.stop().await;
}

async fn compile_then_execute(backend: Backend) {
    let harness = Harness::start(backend, |_| {}).await;
    let client = &harness.client;
    let request = github_request(1, "deadbeef");
    client.create_execution(&request).await.unwrap();
    let compile = client.claim("w", None, &[JobType::Compile]).await.unwrap();
    assert_eq!(compile.job_type, JobType::Compile);
    // An execute-only worker finds nothing yet.
    assert!(matches!(
        client.claim("x", None, &[JobType::Execute]).await,
        Err(e) if e.is_not_found()
    ));
    let wasm = b"\0asm\x01\0\0\0".to_vec();
    client
        .upload_artifact(&compile.artifact_checksum, wasm.clone())
        .await
        .unwrap();
    let done = client
        .complete(
            compile.job_id,
            &CompleteJob {
                lease_token: compile.lease_token,
                success: true,
                error_category: None,
                error: None,
                output_summary: None,
                metrics: None,
                actual_cost: None,
                resolve_tx_hash: None,
                resolve_submitted_at_ms: None,
            },
        )
        .await
        .unwrap();
    let next = done.next_job.expect("compile enqueues execute");
    assert_eq!(next.job_type, JobType::Execute);
    let offer = client
        .poll("x", &[JobType::Execute], 5_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(offer.job_id, next.job_id);
    let execute = client
        .claim("x", Some(offer.job_id), &[JobType::Execute])
        .await
        .unwrap();
    assert_eq!(
        client
            .download_artifact(&execute.artifact_checksum)
            .await
            .unwrap(),
        Some(wasm)
    );
    let failed = client
        .complete(
            execute.job_id,
            &CompleteJob {
                lease_token: execute.lease_token,
                success: false,
                error_category: Some(ErrorCategory::ExecutionFailed),
                error: Some("trap: unreachable".into()),
                output_summary: None,
                metrics: None,
                actual_cost: Some(outlayer_types::U128(3)),
                resolve_tx_hash: None,
                resolve_submitted_at_ms: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(failed.state, JobState::Failed);
    // A second request for the same source skips the build: the artifact is cached.
    let again = client
        .create_execution(&github_request(2, "deadbeef"))
        .await
        .unwrap();
    assert_eq!(again.first_job, JobType::Execute);
    let page = client.jobs("state=failed&job_type=execute").await.unwrap();
    assert_eq!(page.jobs.len(), 1);
    assert_eq!(
        page.jobs[0].error_category,
        Some(ErrorCategory::ExecutionFailed)
    );
    assert_eq!(page.jobs[0].actual_cost, Some(outlayer_types::U128(3)));
    // A poll with nothing to do returns empty when its time runs out.
    let started = std::time::Instant::now();
    assert_eq!(
        client.poll("x", &[JobType::Compile], 200).await.unwrap(),
        None
    );
    assert!(started.elapsed() >= Duration::from_millis(150));
    harness.stop().await;
}

/// A branch one worker resolved is shared with the others for the pin TTL:
/// a request for it whose pinned build is cached needs no compile job; once
/// the pin is stale, the branch is looked up again (it may have moved).
async fn branch_pins(backend: Backend) {
    let clock = manual_clock();
    let harness = Harness::start(backend, |c| {
        c.pin_ttl_ms = 400;
        c.clock = clock.clone();
    })
    .await;
    let client = &harness.client;
    let main = github_request(1, "main").code_source;
    let key = main.artifact_checksum();
    let commit = "a".repeat(40);
    assert_eq!(client.pin(&key).await.unwrap(), None);
    let refused = client.set_pin(&key, "main").await.unwrap_err();
    assert_eq!(refused.status(), Some(400), "{refused}");
    assert!(client.set_pin("not-a-key", &commit).await.is_err());
    client.set_pin(&key, &commit).await.unwrap();
    assert_eq!(client.pin(&key).await.unwrap(), Some(commit.clone()));

    let pinned = main.with_commit(&commit).artifact_checksum();
    client
        .upload_artifact(&pinned, b"\0asm\x01\0\0\0".to_vec())
        .await
        .unwrap();
    let created = client
        .create_execution(&github_request(1, "main"))
        .await
        .unwrap();
    assert_eq!(created.first_job, JobType::Execute, "pinned and cached");

    clock.advance(Duration::from_millis(399));
    assert_eq!(client.pin(&key).await.unwrap(), Some(commit.clone()));
    clock.advance(Duration::from_millis(1));
    assert_eq!(client.pin(&key).await.unwrap(), None);
    let created = client
        .create_execution(&github_request(2, "main"))
        .await
        .unwrap();
    assert_eq!(created.first_job, JobType::Compile, "the pin is stale");
    harness.stop().await;
}

both_backends!(
    race,
    race_claim_any,
    race_claim_batch,
    claim_batch_waits_and_checks,
    lease_expiry,
    durability,
    backlog_after_lost_wakeups,
    idempotent_creation,
    compile_then_execute,
    branch_pins
);
