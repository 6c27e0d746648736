//! The client against the fake node over HTTP: every call's success shape and
//! every error variant it maps nearcore's answers to.

use std::time::Duration;

use outlayer_near_client::fake::{Availability, FakeChain, ViewOutcome};
use outlayer_near_client::{AccessKeyPermission, BlockReference, Error, NearRpc};
use outlayer_types::AccountId;
use serde_json::{Value, json};

fn account(id: &str) -> AccountId {
    id.parse().unwrap()
}

fn client(chain: &FakeChain) -> NearRpc {
    NearRpc::new(chain.url(), Duration::from_secs(5)).unwrap()
}

const FINAL: BlockReference = BlockReference::Finality(outlayer_near_client::Finality::Final);

#[tokio::test]
async fn status_and_blocks() {
    let chain = FakeChain::start().await;
    let rpc = client(&chain);
    let status = rpc.status().await.unwrap();
    assert_eq!(status.chain_id, "outlayer-fake");
    assert!(!status.sync_info.syncing);
    let latest = status.sync_info.latest_block_height;

    chain.advance(3);
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
    let chain = FakeChain::start().await;
    chain.add_account("alice.near", 5 * 10u128.pow(24));
    chain.add_full_access_key("alice.near", "ed25519:AAAA", 7);
    let rpc = client(&chain);

    let view = rpc
        .view_account(&account("alice.near"), &FINAL)
        .await
        .unwrap();
    assert_eq!(view.amount.0, 5 * 10u128.pow(24));
    assert_eq!(view.locked.0, 0);

    let err = rpc
        .view_account(&account("nobody.near"), &FINAL)
        .await
        .unwrap_err();
    match err {
        Error::UnknownAccount { account_id } => assert_eq!(account_id, "nobody.near"),
        other => panic!("{other:?}"),
    }

    let key = rpc
        .view_access_key(&account("alice.near"), "ed25519:AAAA", &FINAL)
        .await
        .unwrap();
    assert_eq!(key.nonce, 7);
    assert_eq!(key.permission, AccessKeyPermission::FullAccess);
    let err = rpc
        .view_access_key(&account("alice.near"), "ed25519:BBBB", &FINAL)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownAccessKey { .. }), "{err:?}");
}

#[tokio::test]
async fn view_calls() {
    let chain = FakeChain::start().await;
    chain.set_view(
        "ft.near",
        "ft_balance_of",
        |args| match args["account_id"].as_str() {
            Some("alice.near") => ViewOutcome::json("42"),
            _ => ViewOutcome::json("0"),
        },
    );
    chain.set_view("ft.near", "boom", |_| ViewOutcome::Panic("no way".into()));
    chain.add_account("plain.near", 1);
    let rpc = client(&chain);
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
        .view_call::<_, Value>(&ft, "boom", &json!({}), &FINAL)
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
    assert_eq!(chain.queries(), 6);
}

#[tokio::test]
async fn unavailable_slow_and_unreachable_nodes() {
    let chain = FakeChain::start().await;
    let rpc = NearRpc::new(chain.url(), Duration::from_millis(300)).unwrap();

    chain.set_availability(Availability::Unavailable);
    let err = rpc.status().await.unwrap_err();
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
    assert!(err.is_unavailable());

    chain.set_availability(Availability::Slow(Duration::from_secs(5)));
    let started = std::time::Instant::now();
    let err = rpc.status().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));

    chain.set_availability(Availability::Up);
    rpc.status().await.unwrap();

    let url = chain.url();
    drop(chain);
    // Let the aborted server release its port before dialling it again.
    tokio::task::yield_now().await;
    let gone = NearRpc::new(url, Duration::from_millis(500)).unwrap();
    let err = gone.status().await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
}

#[tokio::test]
async fn unknown_methods_are_request_validation_errors() {
    let chain = FakeChain::start().await;
    // Raw POST: the client has no method for this, which is the point.
    let response = reqwest::Client::new()
        .post(chain.url())
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
