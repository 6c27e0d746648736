//! `outlayer-near-client` against the local chain over HTTP: every read's
//! success shape and every error variant it maps nearcore's answers to.
//! Unavailable and slow nodes are a proxy in front of the chain
//! (`testing::FlakyRpc`). (These tests were the client's own, against a fake
//! chain; they live here because the chain depends on the client.)

mod common;

use std::time::Duration;

use common::{call_raw, deploy, node, node_signer};
use outlayer_devchain::ONE_NEAR;
use outlayer_devchain::testing::{Answer, Availability, FlakyRpc, answers_wasm, set_answer};
use outlayer_near_client::{AccessKeyPermission, BlockReference, Error, NearRpc};
use outlayer_types::AccountId;
use serde_json::{Value, json};

fn account(id: &str) -> AccountId {
    id.parse().unwrap()
}

fn client(url: String) -> NearRpc {
    NearRpc::new(url, Duration::from_secs(5)).unwrap()
}

const FINAL: BlockReference = BlockReference::Finality(outlayer_near_client::Finality::Final);

#[tokio::test]
async fn status_and_blocks() {
    // Blocks only when the test produces them (the first comes at start).
    let chain = node(&[], 3_600_000).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let rpc = client(chain.url.clone());
    let status = rpc.status().await.unwrap();
    assert_eq!(status.chain_id, "outlayer-local");
    assert!(!status.sync_info.syncing);
    let latest = status.sync_info.latest_block_height;

    for _ in 0..3 {
        chain.shared.produce_block();
    }
    let block = rpc.block(&FINAL).await.unwrap();
    assert_eq!(block.header.height, latest + 3);
    assert_eq!(block.header.timestamp, block.header.timestamp_nanosec.0);
    assert_eq!(block.chunks.len(), 1);

    let by_height = rpc.block(&BlockReference::Height(latest)).await.unwrap();
    assert_eq!(by_height.header.hash, status.sync_info.latest_block_hash);
    let by_hash = rpc
        .block(&BlockReference::Hash(by_height.header.hash.clone()))
        .await
        .unwrap();
    assert_eq!(by_hash, by_height);

    let err = rpc
        .block(&BlockReference::Height(latest + 1000))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownBlock { .. }), "{err:?}");
}

#[tokio::test]
async fn accounts_and_access_keys() {
    let chain = node(&[("alice.near", 5 * ONE_NEAR)], 20).await;
    let rpc = client(chain.url.clone());

    let view = rpc
        .view_account(&account("alice.near"), &FINAL)
        .await
        .unwrap();
    assert_eq!(view.amount.0, 5 * ONE_NEAR);
    assert_eq!(view.locked.0, 0);

    let err = rpc
        .view_account(&account("nobody.near"), &FINAL)
        .await
        .unwrap_err();
    match err {
        Error::UnknownAccount { account_id } => assert_eq!(account_id, "nobody.near"),
        other => panic!("{other:?}"),
    }

    let signer = node_signer(&chain, "alice.near");
    let key = rpc
        .view_access_key(&account("alice.near"), &signer.public_key(), &FINAL)
        .await
        .unwrap();
    assert_eq!(key.nonce, 0, "a genesis key");
    assert_eq!(key.permission, AccessKeyPermission::FullAccess);
    let other = outlayer_near_client::Signer::generate(account("alice.near")).unwrap();
    let err = rpc
        .view_access_key(&account("alice.near"), &other.public_key(), &FINAL)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownAccessKey { .. }), "{err:?}");
}

#[tokio::test]
async fn view_calls() {
    let chain = node(&[("ft.near", 10 * ONE_NEAR), ("plain.near", ONE_NEAR)], 20).await;
    let direct = client(chain.url.clone());
    let ft_signer = node_signer(&chain, "ft.near");
    deploy(&direct, &ft_signer, answers_wasm()).await;
    for (args, answer) in [
        (json!({"account_id": "alice.near"}), Answer::json("42")),
        (json!({"account_id": "bob.near"}), Answer::json("0")),
        (json!({}), Answer::json("0")),
        (json!({"boom": true}), Answer::Panic("no way".into())),
    ] {
        let args = serde_json::to_vec(&args).unwrap();
        call_raw(
            &direct,
            &ft_signer,
            "ft.near",
            "set",
            set_answer(&args, &answer),
        )
        .await;
    }
    let proxy = FlakyRpc::start(&chain.url).await.unwrap();
    let rpc = client(proxy.url());
    let ft = account("ft.near");

    let balance: String = rpc
        .view_call(
            &ft,
            "ft_balance_of",
            &json!({"account_id": "alice.near"}),
            &FINAL,
        )
        .await
        .unwrap();
    assert_eq!(balance, "42");
    let raw = rpc
        .call_function(
            &ft,
            "ft_balance_of",
            b"{\"account_id\":\"bob.near\"}",
            &FINAL,
        )
        .await
        .unwrap();
    assert_eq!(raw.result, b"\"0\"");

    let err = rpc
        .view_call::<_, Value>(&ft, "ft_balance_of", &json!({"boom": true}), &FINAL)
        .await
        .unwrap_err();
    match err {
        Error::ContractExecution { message } => assert!(message.contains("no way"), "{message}"),
        other => panic!("{other:?}"),
    }
    let err = rpc
        .view_call::<_, Value>(&ft, "missing", &json!({}), &FINAL)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ContractExecution { message } if message.contains("MethodNotFound")),
        "{err:?}"
    );
    let err = rpc
        .view_call::<_, Value>(&account("plain.near"), "x", &json!({}), &FINAL)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoContractCode { .. }), "{err:?}");
    let err = rpc
        .view_call::<_, u64>(&ft, "ft_balance_of", &json!({}), &FINAL)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(proxy.queries(), 6);
}

#[tokio::test]
async fn unavailable_slow_and_unreachable_nodes() {
    let chain = node(&[], 20).await;
    let proxy = FlakyRpc::start(&chain.url).await.unwrap();
    let rpc = NearRpc::new(proxy.url(), Duration::from_millis(300)).unwrap();

    proxy.set_availability(Availability::Unavailable);
    let err = rpc.status().await.unwrap_err();
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
    assert!(err.is_unavailable());

    proxy.set_availability(Availability::Slow(Duration::from_secs(5)));
    let started = std::time::Instant::now();
    let err = rpc.status().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));

    proxy.set_availability(Availability::Up);
    rpc.status().await.unwrap();

    // The chain itself stopped: its port refuses connections.
    let url = chain.url.clone();
    chain.stop().await;
    let gone = NearRpc::new(url, Duration::from_millis(500)).unwrap();
    let err = gone.status().await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
}

#[tokio::test]
async fn unknown_methods_are_request_validation_errors() {
    let chain = node(&[], 20).await;
    // Raw POST: the client has no method for this, which is the point.
    let response = reqwest::Client::new()
        .post(&chain.url)
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":"x","method":"nope","params":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"]["name"], "REQUEST_VALIDATION_ERROR");
    assert_eq!(body["error"]["cause"]["name"], "METHOD_NOT_FOUND");
    assert_eq!(body["id"], "x");
}
