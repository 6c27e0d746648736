//! Two workers behind a coordinator on PostgreSQL and Redis (throwaway
//! servers this test starts) carry 50 requests submitted at once, from two
//! payers: every request is settled exactly once, with its own output, and
//! every payer's balance moves by exactly its charges and gas.
//!
//! Needs the contract wasm, PostgreSQL and Redis
//! (`scripts/setup` installs them; `scripts/test` builds the rest).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::{Harness, text_request};
use futures_util::future::join_all;
use outlayer_dev::request;

const REQUESTS: usize = 50;
const PAYERS: [&str; 2] = ["alice.test.near", "bob.test.near"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_postgres_and_redis_settle_fifty_requests_once_each() {
    let database = tokio::task::spawn_blocking(outlayer_test_services::fresh_database)
        .await
        .unwrap();
    let redis = format!(
        "redis://127.0.0.1:{}/",
        outlayer_test_services::redis().port
    );
    let h = Harness::start_with(
        &[
            &format!("--database-url={database}"),
            &format!("--redis-url={redis}"),
        ],
        2,
    )
    .await;
    let contract = h.stack.contract();
    let echo = |input: &str| text_request(h.package("examples/echo"), input);

    // The first request builds the program; the rest find it cached.
    let warm = h.pay("alice.test.near", &echo("warm-up")).await;
    assert!(warm.success(), "{warm:?}");

    let before: Vec<u128> = join_all(PAYERS.iter().map(|p| h.balance(p))).await;
    let deposit = request::estimate(&h.rpc, &contract, &echo("request-00"))
        .await
        .unwrap();
    let mut sent = Vec::new();
    for i in 0..REQUESTS {
        let payer = PAYERS[i % PAYERS.len()];
        let input = format!("request-{i:02}");
        let hash = request::submit(&h.rpc, &h.signer(payer), &contract, &echo(&input), deposit)
            .await
            .unwrap();
        sent.push((payer, input, hash));
    }
    let waits = sent.iter().map(|(payer, _, hash)| {
        let rpc = h.rpc.clone();
        let payer = payer.parse().unwrap();
        let hash = hash.clone();
        async move {
            request::wait(&rpc, &payer, &hash, deposit, Duration::from_secs(240))
                .await
                .unwrap()
        }
    });
    let settled = join_all(waits).await;

    // Each request ran with its own input and was settled once, by one
    // execute job that completed on its first attempt or a later one.
    let mut ids = BTreeSet::new();
    let mut by_worker: BTreeMap<String, usize> = BTreeMap::new();
    let mut charged: BTreeMap<&str, u128> = BTreeMap::new();
    for ((payer, input, _), settled) in sent.iter().zip(&settled) {
        let completed = settled.completed.as_ref().expect("settled with an event");
        assert!(completed.success, "{settled:?}");
        assert_eq!(settled.value, Some(serde_json::json!(input)), "{settled:?}");
        assert_eq!(completed.charged.0 + completed.refunded.0, deposit);
        let id = settled.request_id.unwrap();
        assert!(ids.insert(id), "request {id} settled twice");
        *charged.entry(payer).or_default() += completed.charged.0 + settled.tokens_burnt;

        let execute = h.executed_once(id).await;
        assert_eq!(execute.actual_cost, Some(completed.charged));
        *by_worker
            .entry(execute.worker_id.clone().unwrap())
            .or_default() += 1;
    }
    assert_eq!(ids.len(), REQUESTS);
    assert_eq!(by_worker.len(), 2, "both workers took jobs: {by_worker:?}");

    // The contract counted each once, and nobody's money went astray.
    let stats = h.stats().await;
    assert_eq!(stats.total_requests, REQUESTS as u64 + 1);
    assert_eq!(stats.succeeded, REQUESTS as u64 + 1);
    assert_eq!(stats.pending_requests, 0);
    for (payer, before) in PAYERS.iter().zip(before) {
        assert_eq!(before - h.balance(payer).await, charged[payer], "{payer}");
    }
    h.stack.stop().await;
}
