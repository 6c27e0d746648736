//! Batched creation and completion (`POST /executions/batch`,
//! `POST /jobs/complete-batch`) on SQLite and on PostgreSQL + Redis: every
//! job exactly once under racing batches, each item answered as its single
//! call would be (a mix of valid, stale, unknown and malformed items, and
//! retries of the whole batch), and batches refused whole with the JSON
//! error body.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode};
use common::{
    Backend, Harness, RECONCILE_BY_HAND_MS, eventually, github_request, manual_clock, send,
    wasm_request,
};
use outlayer_types::coordinator::*;
use serde_json::json;

fn success(lease_token: &str) -> CompleteJob {
    CompleteJob {
        lease_token: lease_token.to_owned(),
        success: true,
        error_category: None,
        error: None,
        output_summary: Some("ok".into()),
        metrics: Some(outlayer_types::ResourceMetrics {
            instructions: 10,
            time_ms: 1,
            compile_time_ms: Some(3),
        }),
        actual_cost: Some(outlayer_types::U128(5)),
        resolve_tx_hash: None,
        resolve_submitted_at_ms: None,
    }
}

fn item(job: &ClaimedJob, completion: CompleteJob) -> JobCompletion {
    JobCompletion {
        job_id: job.job_id,
        completion,
    }
}

/// Batch creators (a mix of programs to build and prebuilt ones, so
/// compiles hand over to execute jobs) race workers that claim in batches
/// and complete in batches: every job is claimed once and completed once,
/// and every request ends completed.
async fn batched_race(backend: Backend) {
    const REQUESTS: u64 = 400;
    let harness = Harness::start(backend, |_| {}).await;
    let claims: Arc<std::sync::Mutex<HashMap<u64, u32>>> = Default::default();
    let completions: Arc<std::sync::Mutex<HashMap<u64, u32>>> = Default::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..6u32)
        .map(|i| {
            let client = harness.client.clone();
            let (claims, completions, stop) = (claims.clone(), completions.clone(), stop.clone());
            tokio::spawn(async move {
                let worker = format!("w{i}");
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let jobs = client
                        .claim_batch(&worker, &JobType::ALL, i % 5 + 1, 100)
                        .await
                        .unwrap();
                    for job in &jobs {
                        *claims.lock().unwrap().entry(job.job_id).or_default() += 1;
                    }
                    let batch: Vec<JobCompletion> = jobs
                        .iter()
                        .map(|job| item(job, success(&job.lease_token)))
                        .collect();
                    if batch.is_empty() {
                        continue;
                    }
                    for (done, result) in batch
                        .iter()
                        .zip(client.complete_batch(&batch).await.unwrap())
                    {
                        result.unwrap();
                        *completions.lock().unwrap().entry(done.job_id).or_default() += 1;
                    }
                }
            })
        })
        .collect();
    let creators: Vec<_> = (0..4u64)
        .map(|k| {
            let client = harness.client.clone();
            tokio::spawn(async move {
                let ids: Vec<u64> = (k..REQUESTS).step_by(4).collect();
                for (n, chunk) in ids.chunks(7).enumerate() {
                    let requests: Vec<_> = chunk
                        .iter()
                        .map(|&id| {
                            if id % 3 == 0 {
                                github_request(id, &format!("c{id}"))
                            } else {
                                wasm_request(id)
                            }
                        })
                        .collect();
                    let results = client.create_executions(&requests).await.unwrap();
                    assert!(results.iter().all(|r| r.as_ref().unwrap().created));
                    // Every other batch is sent twice: a repeat creates nothing.
                    if n % 2 == 0 {
                        let again = client.create_executions(&requests).await.unwrap();
                        assert!(again.iter().all(|r| !r.as_ref().unwrap().created));
                    }
                }
            })
        })
        .collect();
    for creator in creators {
        creator.await.unwrap();
    }
    let client = harness.client.clone();
    eventually(Duration::from_secs(120), "every request completed", || {
        let client = client.clone();
        async move {
            client
                .stats()
                .await
                .is_ok_and(|s| s.requests_completed == REQUESTS)
        }
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    // Every request's execute job, plus a compile job for each third.
    let jobs = (REQUESTS + REQUESTS.div_ceil(3)) as usize;
    let claims = claims.lock().unwrap().clone();
    let completions = completions.lock().unwrap().clone();
    assert_eq!(claims.len(), jobs, "every job claimed");
    assert!(claims.values().all(|&n| n == 1), "no job claimed twice");
    assert_eq!(completions.len(), jobs, "every job completed");
    assert!(
        completions.values().all(|&n| n == 1),
        "no job completed twice"
    );
    let stats = harness.client.stats().await.unwrap();
    assert_eq!(stats.jobs.completed, jobs as u64);
    assert_eq!(
        stats.jobs.pending + stats.jobs.claimed + stats.jobs.failed,
        0
    );
    harness.stop().await;
}

/// One batch mixing completions that are recorded (a compile handing over
/// to its execute job, a failure, one with its resolve transaction) with a
/// stale lease, another job's token, an unknown job and a completion that
/// contradicts itself: each is answered as `POST /jobs/{id}/complete`
/// would answer it, the refused ones change nothing, and the same batch
/// sent again gets the same answers.
async fn complete_batch_answers_each(backend: Backend) {
    let harness = Harness::start(backend, |_| {}).await;
    let client = &harness.client;
    client
        .create_execution(&github_request(0, "c0"))
        .await
        .unwrap();
    for id in 1..6 {
        client.create_execution(&wasm_request(id)).await.unwrap();
    }
    let jobs = client.claim_batch("w", &JobType::ALL, 6, 0).await.unwrap();
    assert_eq!(jobs.len(), 6);
    let compile = &jobs[0];
    assert_eq!(compile.job_type, JobType::Compile);
    let failed = CompleteJob {
        success: false,
        error_category: Some(ErrorCategory::ExecutionFailed),
        error: Some("trap".into()),
        ..success(&jobs[2].lease_token)
    };
    let resolved = CompleteJob {
        resolve_tx_hash: Some("4".repeat(44)),
        resolve_submitted_at_ms: Some(1_700_000_000_000),
        ..success(&jobs[3].lease_token)
    };
    let contradiction = CompleteJob {
        success: false,
        ..success(&jobs[5].lease_token)
    };
    let batch = vec![
        item(compile, success(&compile.lease_token)),
        // Job 1 under job 4's token.
        item(&jobs[1], success(&jobs[4].lease_token)),
        item(&jobs[2], failed.clone()),
        item(&jobs[3], resolved.clone()),
        JobCompletion {
            job_id: 9_999_999,
            completion: success("nobody"),
        },
        item(&jobs[5], contradiction),
    ];
    let check = |results: Vec<Result<JobCompleted, outlayer_coordinator_client::ClientError>>,
                 first: bool| {
        assert_eq!(results.len(), 6);
        let done = results[0].as_ref().unwrap();
        assert_eq!(done.state, JobState::Completed);
        if first {
            let next = done.next_job.expect("the compile's execute job");
            assert_eq!((next.job_type, next.request_id), (JobType::Execute, 0));
        } else {
            // A repeat answers as POST /jobs/{id}/complete's repeat does.
            assert_eq!(done.next_job, None);
        }
        assert!(results[1].as_ref().unwrap_err().is_conflict());
        assert_eq!(
            results[2].as_ref().unwrap().state,
            JobState::Failed,
            "{:?}",
            results[2]
        );
        assert_eq!(results[3].as_ref().unwrap().state, JobState::Completed);
        assert!(results[4].as_ref().unwrap_err().is_not_found());
        assert!(results[5].as_ref().unwrap_err().is_bad_request());
    };
    check(client.complete_batch(&batch).await.unwrap(), true);
    check(client.complete_batch(&batch).await.unwrap(), false);

    // What was recorded, and what was not.
    let state_of = |id: u64| {
        let client = client.clone();
        async move { client.jobs_for_request(id).await.unwrap() }
    };
    let compile_jobs = state_of(0).await;
    assert_eq!(compile_jobs.len(), 2, "compile and its execute job");
    let detail = client.request(0).await.unwrap().unwrap();
    assert_eq!(detail.request.status, RequestStatus::Executing);
    assert_eq!(state_of(1).await[0].state, JobState::Claimed, "wrong token");
    let failed_job = &state_of(2).await[0];
    assert_eq!(failed_job.state, JobState::Failed);
    assert_eq!(failed_job.error.as_deref(), Some("trap"));
    let detail = client.request(2).await.unwrap().unwrap();
    assert_eq!(detail.request.status, RequestStatus::Failed);
    assert_eq!(
        detail.request.error_category,
        Some(ErrorCategory::ExecutionFailed)
    );
    let detail = client.request(3).await.unwrap().unwrap();
    assert_eq!(detail.request.status, RequestStatus::Completed);
    let resolve = detail.timeline.resolve.expect("the resolve transaction");
    assert_eq!(
        (resolve.tx_hash.as_str(), resolve.submitted_at_ms),
        ("4".repeat(44).as_str(), 1_700_000_000_000)
    );
    assert_eq!(state_of(5).await[0].state, JobState::Claimed, "refused");
    let executed = &state_of(3).await[0];
    assert_eq!(
        executed.metrics.map(|m| m.instructions),
        Some(10),
        "the metrics are recorded"
    );
    assert_eq!(executed.actual_cost, Some(outlayer_types::U128(5)));

    // A different outcome for a recorded job, even from its holder, is a
    // conflict; the jobs still held complete alone or in a batch.
    let changed = vec![item(&jobs[2], success(&jobs[2].lease_token))];
    let results = client.complete_batch(&changed).await.unwrap();
    assert!(results[0].as_ref().unwrap_err().is_conflict());
    let rest = vec![
        item(&jobs[1], success(&jobs[1].lease_token)),
        item(&jobs[5], success(&jobs[5].lease_token)),
    ];
    for result in client.complete_batch(&rest).await.unwrap() {
        assert_eq!(result.unwrap().state, JobState::Completed);
    }
    let single = client
        .complete(jobs[5].job_id, &success(&jobs[5].lease_token))
        .await
        .unwrap();
    assert_eq!(single.state, JobState::Completed, "a single repeat agrees");
    harness.stop().await;
}

/// A completion whose lease ran out is refused in a batch as it is alone,
/// while the rest of its batch is recorded.
async fn complete_batch_after_expiry(backend: Backend) {
    let clock = manual_clock();
    let harness = Harness::start(backend, |c| {
        c.lease_ms = 200;
        c.reconcile_ms = RECONCILE_BY_HAND_MS;
        c.clock = clock.clone();
    })
    .await;
    let client = &harness.client;
    client.create_execution(&wasm_request(1)).await.unwrap();
    let late = client
        .claim_batch("slow", &JobType::ALL, 1, 0)
        .await
        .unwrap()
        .remove(0);
    clock.advance(Duration::from_millis(200));
    harness.reconcile().await;
    client.create_execution(&wasm_request(2)).await.unwrap();
    // The expired job is pending again; a new claim takes it and the other.
    let fresh = client
        .claim_batch("quick", &JobType::ALL, 2, 0)
        .await
        .unwrap();
    assert_eq!(fresh.len(), 2);
    let again = fresh.iter().find(|job| job.job_id == late.job_id).unwrap();
    let other = fresh.iter().find(|job| job.job_id != late.job_id).unwrap();
    assert_eq!(again.attempt, 2);
    let batch = vec![
        item(&late, success(&late.lease_token)),
        item(other, success(&other.lease_token)),
    ];
    let results = client.complete_batch(&batch).await.unwrap();
    assert!(
        results[0].as_ref().unwrap_err().is_conflict(),
        "{results:?}"
    );
    assert_eq!(results[1].as_ref().unwrap().state, JobState::Completed);
    // The current holder completes it.
    let results = client
        .complete_batch(&[item(again, success(&again.lease_token))])
        .await
        .unwrap();
    assert_eq!(results[0].as_ref().unwrap().state, JobState::Completed);
    harness.stop().await;
}

/// Batches that are not acceptable as a whole: more than the cap, empty,
/// a job twice, a field nobody knows. Each is a 400 with the JSON error
/// body, and nothing in it is recorded.
async fn batches_refused_whole(backend: Backend) {
    let harness = Harness::start(backend, |_| {}).await;
    let client = &harness.client;
    client.create_execution(&wasm_request(1)).await.unwrap();
    let job = client
        .claim_batch("w", &JobType::ALL, 1, 0)
        .await
        .unwrap()
        .remove(0);
    let url = format!("{}/jobs/complete-batch", harness.url());
    let post = |url: String, body: serde_json::Value| {
        let token = harness.token.clone();
        async move {
            send(
                &url,
                Method::POST,
                Some(&token),
                Some(&body.to_string()),
                HeaderMap::new(),
            )
            .await
        }
    };
    let one = json!({"job_id": job.job_id, "completion": success(&job.lease_token)});
    let too_many: Vec<_> = (0..=MAX_COMPLETE_BATCH as u64)
        .map(|n| json!({"job_id": job.job_id + n, "completion": success(&job.lease_token)}))
        .collect();
    for (body, says) in [
        (json!({ "completions": too_many }), "between 1 and 64"),
        (json!({ "completions": [] }), "between 1 and 64"),
        (
            json!({ "completions": [one.clone(), one.clone()] }),
            "more than once",
        ),
        (
            json!({ "completions": [one.clone()], "extra": 1 }),
            "unknown field",
        ),
        (
            json!({ "completions": [{"job_id": job.job_id, "completion": {"lease_token": "x", "success": true, "sucess": 1}}] }),
            "unknown field",
        ),
    ] {
        let (status, _, body) = post(url.clone(), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"], "bad_request", "{body}");
        assert!(
            body["message"].as_str().unwrap().contains(says),
            "{says}: {body}"
        );
    }
    assert_eq!(
        client.jobs_for_request(1).await.unwrap()[0].state,
        JobState::Claimed,
        "nothing recorded"
    );

    let url = format!("{}/executions/batch", harness.url());
    let request = serde_json::to_value(wasm_request(7)).unwrap();
    let too_many: Vec<_> = (0..=MAX_CREATE_BATCH as u64)
        .map(|n| serde_json::to_value(wasm_request(100 + n)).unwrap())
        .collect();
    let mut typo = request.clone();
    typo["input_dta"] = json!("{}");
    for (body, says) in [
        (json!({ "requests": too_many }), "between 1 and 64"),
        (json!({ "requests": [] }), "between 1 and 64"),
        (
            json!({ "requests": [request.clone(), typo] }),
            "unknown field `requests[1].input_dta`",
        ),
        (json!({ "request": [request] }), "unknown field"),
    ] {
        let (status, _, body) = post(url.clone(), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"], "bad_request", "{body}");
        assert!(
            body["message"].as_str().unwrap().contains(says),
            "{says}: {body}"
        );
    }
    assert_eq!(client.request(7).await.unwrap(), None, "nothing recorded");
    assert_eq!(client.request(100).await.unwrap(), None);
    harness.stop().await;
}

/// One batch of requests mixing new ones (to build and prebuilt), a known
/// one, a known id with other content, the same request twice and one the
/// contract would refuse: each answered as `POST /executions` would
/// answer it, each request with exactly one first job.
async fn create_batch_answers_each(backend: Backend) {
    let harness = Harness::start(backend, |_| {}).await;
    let client = &harness.client;
    client.create_execution(&wasm_request(5)).await.unwrap();
    let mut changed = wasm_request(5);
    changed.input_data = Some("other".into());
    let mut refused = wasm_request(9);
    refused.max_compile_seconds = Some(0);
    let batch = vec![
        wasm_request(10),
        github_request(11, "c11"),
        wasm_request(5),
        changed,
        wasm_request(10),
        refused,
    ];
    let results = client.create_executions(&batch).await.unwrap();
    assert_eq!(results.len(), 6);
    let created = results[0].as_ref().unwrap();
    assert!(created.created);
    assert_eq!(
        (created.request_id, created.first_job, created.status),
        (10, JobType::Execute, RequestStatus::Executing)
    );
    let built = results[1].as_ref().unwrap();
    assert!(built.created);
    assert_eq!(
        (built.request_id, built.first_job, built.status),
        (11, JobType::Compile, RequestStatus::Compiling)
    );
    assert_eq!(
        built.artifact_checksum,
        github_request(11, "c11").code_source.artifact_checksum()
    );
    let known = results[2].as_ref().unwrap();
    assert!(!known.created);
    assert_eq!(known.request_id, 5);
    assert!(results[3].as_ref().unwrap_err().is_conflict());
    let repeat = results[4].as_ref().unwrap();
    assert!(!repeat.created, "the second copy in one batch is a repeat");
    let bad = results[5].as_ref().unwrap_err();
    assert!(bad.is_bad_request(), "{bad}");
    assert!(bad.to_string().contains("max_compile_seconds"), "{bad}");

    for (id, jobs) in [(5, 1), (10, 1), (11, 1), (9, 0)] {
        assert_eq!(
            client.jobs_for_request(id).await.unwrap().len(),
            jobs,
            "request {id}"
        );
    }
    assert_eq!(client.request(9).await.unwrap(), None);
    // The batch woke the workers: its jobs are there to claim.
    let claimed = client.claim_batch("w", &JobType::ALL, 10, 0).await.unwrap();
    let mut requests: Vec<u64> = claimed.iter().map(|job| job.request_id).collect();
    requests.sort();
    assert_eq!(requests, [5, 10, 11]);
    // The whole batch again: nothing new.
    let again = client.create_executions(&batch[..3]).await.unwrap();
    assert!(again.iter().all(|r| !r.as_ref().unwrap().created));
    let stats = client.stats().await.unwrap();
    assert_eq!(stats.jobs.claimed, 3);
    assert_eq!(stats.jobs.pending, 0);
    harness.stop().await;
}

both_backends!(
    batched_race,
    complete_batch_answers_each,
    complete_batch_after_expiry,
    batches_refused_whole,
    create_batch_answers_each
);
