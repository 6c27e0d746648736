//! JSON shapes of the coordinator API and the artifact checksum are public
//! API: workers of other versions depend on them.

use outlayer_types::coordinator::{ClaimJob, CompleteJob, ErrorCategory, JobType, PollJobs};
use outlayer_types::{BuildTarget, CodeSource};
use serde_json::json;

#[test]
fn artifact_checksum_is_sha256_of_repo_commit_target() {
    let source = CodeSource::GitHub {
        repo: "github.com/a/b".into(),
        commit: "abc".into(),
        build_target: BuildTarget::Wasip1,
    };
    // printf 'github.com/a/b:abc:wasm32-wasip1' | sha256sum
    assert_eq!(
        source.artifact_checksum(),
        "929995004088dcc364e6e3740a2c664e89f47028b2947c040b9a18db797cb0bc"
    );
    let wasm = CodeSource::WasmUrl {
        url: "https://x/y.wasm".into(),
        hash: "ABCDEF".into(),
        build_target: BuildTarget::Wasip2,
    };
    assert_eq!(wasm.artifact_checksum(), "abcdef");
    assert!(source.needs_build());
    assert!(!wasm.needs_build());
}

#[test]
fn enums_are_snake_case() {
    assert_eq!(json!(JobType::Compile), json!("compile"));
    assert_eq!(
        json!(ErrorCategory::InsufficientPayment),
        json!("insufficient_payment")
    );
    for category in [
        ErrorCategory::CompilationFailed,
        ErrorCategory::ExecutionFailed,
        ErrorCategory::AccessDenied,
        ErrorCategory::InsufficientPayment,
        ErrorCategory::Infrastructure,
    ] {
        assert_eq!(json!(category), json!(category.as_str()));
        assert_eq!(ErrorCategory::parse(category.as_str()), Some(category));
    }
}

#[test]
fn request_bodies_refuse_unknown_fields() {
    let poll = json!({"worker_id": "w", "capabilities": ["compile"], "timeout_ms": 5});
    let parsed: PollJobs = serde_json::from_value(poll).unwrap();
    assert_eq!(parsed.capabilities, vec![JobType::Compile]);
    let bad = json!({"worker_id": "w", "capabilities": [], "timeuot_ms": 5});
    assert!(serde_json::from_value::<PollJobs>(bad).is_err());
    let claim: ClaimJob = serde_json::from_value(json!({"worker_id": "w"})).unwrap();
    assert_eq!(claim.capabilities, JobType::ALL.to_vec());
    let complete: CompleteJob = serde_json::from_value(json!({
        "lease_token": "t", "success": false, "error_category": "execution_failed",
        "actual_cost": "1000"
    }))
    .unwrap();
    assert_eq!(
        complete.error_category,
        Some(ErrorCategory::ExecutionFailed)
    );
    // Without a resolve transaction a completion is what older coordinators
    // (which refuse unknown fields) accept.
    let written = serde_json::to_value(&complete).unwrap();
    assert!(written.get("resolve_tx_hash").is_none(), "{written}");
    assert!(
        written.get("resolve_submitted_at_ms").is_none(),
        "{written}"
    );
}

#[test]
fn public_views_read_answers_of_older_coordinators() {
    use outlayer_types::coordinator::{CoordinatorStats, JobInfo, WorkerInfo};
    let job: JobInfo = serde_json::from_value(json!({
        "job_id": 1, "request_id": 2, "job_type": "execute", "state": "pending",
        "attempt": 0, "created_at_ms": 5, "updated_at_ms": 6
    }))
    .unwrap();
    assert_eq!((job.claimed_at_ms, job.finished_at_ms), (None, None));
    let worker: WorkerInfo = serde_json::from_value(json!({
        "worker_id": "w", "token_name": "t", "status": "idle", "capabilities": [],
        "last_seen_ms": 1, "active": true
    }))
    .unwrap();
    assert_eq!(
        (
            worker.jobs_completed,
            worker.jobs_failed,
            worker.current_job
        ),
        (0, 0, None)
    );
    let stats: CoordinatorStats = serde_json::from_value(json!({
        "requests_total": 1, "requests_completed": 1, "requests_failed": 0,
        "jobs": {"pending": 0, "claimed": 0, "completed": 1, "failed": 0},
        "workers_active": 1, "artifacts": 0, "artifact_bytes": 0
    }))
    .unwrap();
    assert_eq!(stats.failures_by_category.infrastructure, 0);
    // And the new fields are always written, nulls included.
    let written = serde_json::to_value(&job).unwrap();
    assert_eq!(written["claimed_at_ms"], serde_json::Value::Null);
    let written = serde_json::to_value(&stats).unwrap();
    assert_eq!(
        written["failures_by_category"],
        json!({"compilation_failed": 0, "execution_failed": 0, "access_denied": 0,
               "insufficient_payment": 0, "infrastructure": 0})
    );
}
