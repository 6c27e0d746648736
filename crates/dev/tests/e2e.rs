//! End to end: the real local chain running the real contract, the keystore,
//! the coordinator and a worker, wired as `outlayer dev` wires them. Programs
//! are built by the worker from this project's own git repository
//! (`file://`, at HEAD), exactly as a request names them.
//!
//! Needs `outlayer-devchain` (scripts/build-devchain) and the contract wasm
//! (scripts/build-contract); `scripts/test` builds both first.

use std::path::PathBuf;
use std::time::Duration;

use outlayer_dev::request::{self, NewRequest, Settled};
use outlayer_dev::{DevArgs, Stack};
use outlayer_near_client::{BlockReference, NearRpc, Signer};
use outlayer_types::coordinator::JobType;
use outlayer_types::{
    AccessCondition, Accessor, BuildTarget, CodeSource, Pricing, ResourceLimits, ResponseFormat,
    SecretsRef,
};
use serde_json::json;

struct Harness {
    stack: Stack,
    rpc: NearRpc,
    repo: String,
    commit: String,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let args = DevArgs {
            dir: dir.path().to_owned(),
            // A 200-block yield window of 100 s: room for a cold build.
            block_ms: 500,
            rpc_listen: "127.0.0.1:0".into(),
            coordinator_listen: "127.0.0.1:0".into(),
            keystore_listen: "127.0.0.1:0".into(),
            workers: 1,
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

    fn signer(&self, account: &str) -> Signer {
        Signer::from_credentials_file(self.stack.key_file(account)).unwrap()
    }

    fn package(&self, path: &str) -> CodeSource {
        CodeSource::GitPackage {
            repo: self.repo.clone(),
            commit: self.commit.clone(),
            path: path.into(),
            build_target: BuildTarget::Wasip1,
        }
    }

    async fn balance(&self, account: &str) -> u128 {
        self.rpc
            .view_account(&account.parse().unwrap(), &BlockReference::default())
            .await
            .unwrap()
            .amount
            .0
    }

    async fn pay(&self, payer: &str, new: &NewRequest) -> Settled {
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

fn text_request(source: CodeSource, input: &str) -> NewRequest {
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
async fn assert_money(h: &Harness, payer: &str, before: u128, settled: &Settled) -> u128 {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_built_run_and_settled_by_the_system() {
    let h = Harness::start().await;
    let pricing = Pricing::default();

    // 1. Echo, built from git by the worker.
    let before = h.balance("alice.test.near").await;
    let echo = text_request(h.package("examples/echo"), "hello, NEAR");
    let first = h.pay("alice.test.near", &echo).await;
    assert_eq!(first.value, Some(json!("hello, NEAR")), "{first:?}");
    let completed = first.completed.clone().unwrap();
    assert!(completed.success);
    let used = completed.resources_used;
    assert!(used.instructions > 0);
    let built_ms = used
        .compile_time_ms
        .expect("the first request paid for its build");
    assert!(built_ms > 0);
    let limits = ResourceLimits::default();
    let expected = pricing.settle_success(&limits, 120, &used, first.deposit);
    let charged = assert_money(&h, "alice.test.near", before, &first).await;
    assert_eq!(charged, expected.charged);

    // 2. The same commit again: no build, no compile job, no build charge.
    let before = h.balance("alice.test.near").await;
    let second = h.pay("alice.test.near", &echo).await;
    assert_eq!(second.value, Some(json!("hello, NEAR")));
    let used = second.completed.as_ref().unwrap().resources_used;
    assert_eq!(used.compile_time_ms, None, "cached: nothing built");
    assert_money(&h, "alice.test.near", before, &second).await;
    let client = outlayer_coordinator_client::CoordinatorClient::new(
        &h.stack.coordinator_url(),
        Some(h.stack.worker_token.clone()),
    );
    let jobs = client
        .jobs_for_request(second.request_id.unwrap())
        .await
        .unwrap();
    assert!(
        jobs.iter().all(|j| j.job_type == JobType::Execute),
        "{jobs:?}"
    );

    // 3. Secrets: alice's program sees her secret; bob, outside the
    // whitelist, is refused on chain and refunded all but the base fee.
    let accessor = Accessor::Repo {
        repo: h.repo.clone(),
        branch: None,
    };
    let alice = h.signer("alice.test.near");
    outlayer_dev::demo::store_secrets(
        &h.stack,
        &h.rpc,
        &alice,
        &h.stack.contract(),
        &accessor,
        "default",
        br#"{"API_KEY": "sk-test-0123456789"}"#,
        AccessCondition::Whitelist {
            accounts: vec!["alice.test.near".parse().unwrap()],
        },
    )
    .await
    .unwrap();
    let with_secrets = NewRequest {
        code_source: h.package("examples/secrets-env"),
        secrets_ref: Some(SecretsRef {
            profile: "default".into(),
            account_id: "alice.test.near".parse().unwrap(),
        }),
        response_format: ResponseFormat::Json,
        ..text_request(h.package("examples/secrets-env"), "")
    };
    let seen = h.pay("alice.test.near", &with_secrets).await;
    let value = seen.value.clone().expect("an output");
    assert_eq!(
        value["secrets"],
        json!([{"name": "API_KEY", "length": 18}]),
        "{value}"
    );
    assert_eq!(value["context"]["sender_id"], "alice.test.near");

    let before = h.balance("bob.test.near").await;
    let denied = h.pay("bob.test.near", &with_secrets).await;
    let completed = denied.completed.clone().unwrap();
    assert!(!completed.success);
    let error = completed.error.clone().unwrap();
    assert!(error.starts_with("access_denied: "), "{error}");
    assert_eq!(completed.charged.0, pricing.base_fee.0);
    assert_money(&h, "bob.test.near", before, &denied).await;

    // 4. Failures, each settled with its category and the base fee.
    let fuel = NewRequest {
        limits: ResourceLimits {
            max_instructions: 1_000_000,
            ..ResourceLimits::default()
        },
        ..text_request(h.package("examples/compute"), "100000")
    };
    let not_json = NewRequest {
        response_format: ResponseFormat::Json,
        ..text_request(h.package("examples/echo"), "not json")
    };
    let broken = text_request(h.package("examples/no-such-package"), "");
    for (new, prefix) in [
        (&fuel, "fuel_exhausted: "),
        (&not_json, "invalid_output: "),
        (&broken, "compilation_failed: "),
    ] {
        let settled = h.pay("alice.test.near", new).await;
        let completed = settled.completed.clone().expect("settled");
        assert!(!completed.success, "{settled:?}");
        let error = completed.error.unwrap();
        assert!(error.starts_with(prefix), "{error}");
        assert_eq!(completed.charged.0, pricing.base_fee.0, "{error}");
    }

    h.stack.stop().await;
}
