//! The local system for end-to-end tests: a [`Harness`] around
//! `outlayer_dev::Stack` with the project's own repository as the source of
//! programs, and helpers to pay and to check the money.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use outlayer_dev::request::{self, NewRequest, Settled};
use outlayer_dev::{DevArgs, Stack};
use outlayer_near_client::{BlockReference, NearRpc, Signer};
use outlayer_types::{BuildTarget, CodeSource, ResourceLimits, ResponseFormat};

pub(crate) struct Harness {
    pub(crate) stack: Stack,
    pub(crate) rpc: NearRpc,
    pub(crate) repo: String,
    pub(crate) commit: String,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// The stack with a 500 ms block (a 100 s yield window: room for a cold
    /// build) and `coordinator_flags`.
    pub(crate) async fn start(coordinator_flags: &[&str]) -> Self {
        Self::start_with(coordinator_flags, 1).await
    }

    /// [`Harness::start`] with `workers` workers (the first follows the chain).
    pub(crate) async fn start_with(coordinator_flags: &[&str], workers: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let args = DevArgs {
            dir: dir.path().to_owned(),
            block_ms: 500,
            rpc_listen: "127.0.0.1:0".into(),
            coordinator_listen: "127.0.0.1:0".into(),
            keystore_listen: "127.0.0.1:0".into(),
            workers,
            coordinator_flags: coordinator_flags.iter().map(|f| f.to_string()).collect(),
        };
        let stack = Stack::start(&args).await.expect("the local stack starts");
        let project = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .unwrap();
        let head = std::process::Command::new("git")
            .arg("-C")
            .arg(&project)
            .args(["rev-parse", "HEAD"])
            .output()
            .unwrap();
        assert!(head.status.success(), "the project must be a git checkout");
        let rpc = NearRpc::new(stack.rpc_url.clone(), Duration::from_secs(30)).unwrap();
        Self {
            stack,
            rpc,
            repo: format!("file://{}", project.display()),
            commit: String::from_utf8(head.stdout).unwrap().trim().to_owned(),
            _dir: dir,
        }
    }

    /// The stack's directory (keys, coordinator data, builds).
    pub(crate) fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub(crate) fn signer(&self, account: &str) -> Signer {
        Signer::from_credentials_file(self.stack.key_file(account)).unwrap()
    }

    pub(crate) fn package(&self, path: &str) -> CodeSource {
        CodeSource::GitPackage {
            repo: self.repo.clone(),
            commit: self.commit.clone(),
            path: path.into(),
            build_target: BuildTarget::Wasip1,
        }
    }

    pub(crate) async fn balance(&self, account: &str) -> u128 {
        self.rpc
            .view_account(&account.parse().unwrap(), &BlockReference::default())
            .await
            .unwrap()
            .amount
            .0
    }

    /// The contract's counters.
    pub(crate) async fn stats(&self) -> outlayer_types::ContractStats {
        self.rpc
            .view_call(
                &self.stack.contract(),
                "get_stats",
                &serde_json::json!({}),
                &Default::default(),
            )
            .await
            .unwrap()
    }

    /// The one execute job of `request_id`, once completed: a request
    /// settled exactly once by the system. The worker completes its job at
    /// the coordinator right after the chain settles, so this waits (up to
    /// 30 s) for the completion to land.
    pub(crate) async fn executed_once(
        &self,
        request_id: u64,
    ) -> outlayer_types::coordinator::JobInfo {
        use outlayer_types::coordinator::{JobState, JobType};
        let client = outlayer_coordinator_client::CoordinatorClient::new(
            &self.stack.coordinator_url(),
            None,
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let jobs = client.jobs_for_request(request_id).await.unwrap();
            let mut executes = jobs.iter().filter(|j| j.job_type == JobType::Execute);
            let (Some(job), None) = (executes.next(), executes.next()) else {
                panic!("request {request_id}: not exactly one execute job: {jobs:?}");
            };
            if job.state == JobState::Completed {
                return job.clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "request {request_id}: execute job never completed: {jobs:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) async fn pay(&self, payer: &str, new: &NewRequest) -> Settled {
        let deposit = request::estimate(&self.rpc, &self.stack.contract(), new)
            .await
            .unwrap();
        request::send(
            &self.rpc,
            &self.signer(payer),
            &self.stack.contract(),
            new,
            deposit,
            Duration::from_secs(240),
        )
        .await
        .unwrap()
    }
}

pub(crate) fn text_request(source: CodeSource, input: &str) -> NewRequest {
    NewRequest {
        code_source: source,
        limits: ResourceLimits::default(),
        input: input.into(),
        secrets_ref: None,
        response_format: ResponseFormat::Text,
    }
}

/// Charged + refunded is the deposit; the payer is down exactly the charge
/// and the gas its transaction tree burnt.
pub(crate) async fn assert_money(
    h: &Harness,
    payer: &str,
    before: u128,
    settled: &Settled,
) -> u128 {
    let completed = settled.completed.as_ref().expect("settled with an event");
    assert_eq!(completed.charged.0 + completed.refunded.0, settled.deposit);
    let after = h.balance(payer).await;
    assert_eq!(
        before - after,
        completed.charged.0 + settled.tokens_burnt,
        "payer balance moved by the charge and the gas"
    );
    completed.charged.0
}

/// Everything logged (at info and above) from now on, for checks that
/// nothing secret is ever logged.
#[derive(Clone, Default)]
pub(crate) struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Logs {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(crate) fn capture_logs() -> Logs {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    logs
}
