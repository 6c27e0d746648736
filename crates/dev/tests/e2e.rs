//! End to end: the real local chain running the real contract, the keystore,
//! the coordinator and a worker, wired as `outlayer dev` wires them. Programs
//! are built by the worker from this project's own git repository
//! (`file://`, at HEAD), exactly as a request names them.
//!
//! Needs the contract wasm (scripts/build-contract); `scripts/test` builds
//! it first.

mod common;

use common::{Harness, assert_money, text_request};
use outlayer_dev::request::NewRequest;
use outlayer_types::coordinator::JobType;
use outlayer_types::{
    AccessCondition, Accessor, Pricing, ResourceLimits, ResponseFormat, SecretsRef,
};
use serde_json::json;

/// The secret value alice stores; it must never show up anywhere but in
/// her program's environment.
const SECRET: &str = "sk-test-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_built_run_and_settled_by_the_system() {
    let logs = common::capture_logs();
    let h = Harness::start(&[]).await;
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
        format!(r#"{{"API_KEY": "{SECRET}"}}"#).as_bytes(),
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
    assert!(seen.success(), "{seen:?}");
    let value = seen.value.clone().expect("an output");
    assert_eq!(
        value["secrets"],
        json!([{"name": "API_KEY", "length": 18}]),
        "{value}"
    );
    assert_eq!(value["context"]["sender_id"], "alice.test.near");
    assert_eq!(
        value["context"]["transaction_hash"],
        json!(seen.tx_hash),
        "NEAR_TRANSACTION_HASH comes from the block stream"
    );

    let before = h.balance("bob.test.near").await;
    let denied = h.pay("bob.test.near", &with_secrets).await;
    let completed = denied.completed.clone().unwrap();
    assert!(!completed.success);
    let error = completed.error.clone().unwrap();
    assert!(error.starts_with("access_denied: "), "{error}");
    assert_eq!(completed.charged.0, pricing.base_fee.0);
    assert_money(&h, "bob.test.near", before, &denied).await;

    // 4. A stolen keystore token decrypts nothing: the keystore asks the
    // chain who is asking, and a settled or unknown request asks for nothing.
    let keystore = outlayer_keystore::KeystoreClient::new(
        h.stack.keystore_url.clone(),
        Some(h.stack.keystore_token.clone()),
        std::time::Duration::from_secs(10),
    )
    .unwrap();
    for request_id in [seen.request_id.unwrap(), 999] {
        let refused = keystore
            .decrypt_for_request(request_id, outlayer_types::Attestation::none())
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Some("request_not_pending"), "{refused}");
    }

    // 5. The secret never reached a log line or the coordinator's store.
    let db_dir = h.dir().join("coordinator");
    for entry in std::fs::read_dir(&db_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                "the secret is in {}",
                path.display()
            );
        }
    }
    let logged = logs.text();
    assert!(
        logged.contains("decrypt granted"),
        "the keystore logged its decrypts"
    );
    assert!(!logged.contains(SECRET), "the secret is in the logs");

    h.stack.stop().await;
}
