//! The NEAR client the worker uses, against the local chain over HTTP:
//! views, signed calls with nonces and block hashes it looks up itself,
//! a request followed to its settlement, and typed refusals.

mod common;

use std::time::Duration;

use outlayer_devchain::{Devchain, DevchainConfig};
use outlayer_near_client::{
    Action, BlockReference, Error, Finality, NearRpc, Signer, TxExecutionStatus, TxOutcome,
};
use outlayer_types::{AccountId, ContractConfig};
use serde_json::json;

async fn start() -> Option<(Devchain, NearRpc, tempfile::TempDir)> {
    let credentials = tempfile::tempdir().unwrap();
    let config = DevchainConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        block_interval: Duration::from_millis(20),
        contract_wasm: Some(common::contract_wasm()?),
        credentials_dir: Some(credentials.path().to_owned()),
        ..DevchainConfig::default()
    };
    let chain = Devchain::start(config).await.expect("the chain starts");
    let rpc = NearRpc::new(chain.url.clone(), Duration::from_secs(15)).unwrap();
    Some((chain, rpc, credentials))
}

/// The signer near-cli would load from the chain's credentials directory.
fn signer(credentials: &tempfile::TempDir, name: &str) -> Signer {
    let path = credentials
        .path()
        .join("outlayer-local")
        .join(format!("{name}.test.near.json"));
    Signer::from_credentials_file(path).expect("the credentials file loads")
}

fn id(text: &str) -> AccountId {
    text.parse().unwrap()
}

/// The operator's `resolve_execution`, as the worker sends it.
async fn resolve(rpc: &NearRpc, operator: &Signer, args: &serde_json::Value) -> TxOutcome {
    let contract = id("outlayer.test.near");
    rpc.call_function_tx(
        operator,
        &contract,
        "resolve_execution",
        args,
        100_000_000_000_000,
        0,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn the_worker_client_reads_and_writes_the_local_chain() {
    let Some((_chain, rpc, credentials)) = start().await else {
        return;
    };
    let status = rpc.status().await.unwrap();
    assert_eq!(status.chain_id, "outlayer-local");
    let head = rpc
        .block(&BlockReference::Finality(Finality::Final))
        .await
        .unwrap();
    // A block may be produced between the two calls.
    assert!(head.header.height >= status.sync_info.latest_block_height);
    if head.header.height == status.sync_info.latest_block_height {
        assert_eq!(head.header.hash, status.sync_info.latest_block_hash);
    }

    let contract = id("outlayer.test.near");
    let config: ContractConfig = rpc
        .view_call(
            &contract,
            "get_config",
            &json!({}),
            &BlockReference::default(),
        )
        .await
        .unwrap();
    assert_eq!(config.operator_id.as_str(), "operator.test.near");
    assert!(!config.paused);

    let owner = signer(&credentials, "owner");
    let pricing = json!({"pricing": {"base_fee": "1000", "per_million_instructions": "10",
        "per_execution_ms": "2", "per_compile_ms": "1"}});
    let set = rpc
        .call_function_tx(
            &owner,
            &contract,
            "set_pricing",
            &pricing,
            30_000_000_000_000,
            1,
        )
        .await
        .unwrap();
    assert!(set.is_success(), "{set:?}");

    // The request: the worker's side sees it included, then settled.
    let alice = signer(&credentials, "alice");
    let args = serde_json::to_vec(&common::request_args()).unwrap();
    let request = rpc
        .sign_tx(
            &alice,
            &contract,
            vec![Action::function_call(
                "request_execution",
                args,
                300_000_000_000_000,
                123_010,
            )],
        )
        .await
        .unwrap();
    let included = rpc
        .send_tx(&request, TxExecutionStatus::IncludedFinal)
        .await
        .unwrap();
    assert_eq!(
        included.final_execution_status,
        Some(TxExecutionStatus::IncludedFinal)
    );

    let operator = signer(&credentials, "operator");
    let response = json!({"request_id": 0, "response": {"success": true, "output": {"Text": "42"},
        "resources_used": {"instructions": 300_000, "time_ms": 250, "compile_time_ms": 4_000}}});
    let resolved = resolve(&rpc, &operator, &response).await;
    assert!(resolved.is_success(), "{resolved:?}");

    let hash = request.hash().to_string();
    let settled = rpc
        .tx_status(&hash, "alice.test.near", TxExecutionStatus::Final)
        .await
        .unwrap();
    assert_eq!(settled.success_value::<String>().unwrap(), "42");
    assert!(
        settled
            .logs()
            .any(|l| l.contains("\"execution_completed\""))
    );

    // The operator's second answer fails in the contract: an outcome, not an RPC error.
    let again = resolve(&rpc, &operator, &response).await;
    let failure = again.failure().expect("the contract refuses").to_string();
    assert!(
        failure.contains("Smart contract panicked: request 0"),
        "{failure}"
    );
}

#[tokio::test]
async fn refusals_reach_the_client_typed() {
    let Some((_chain, rpc, credentials)) = start().await else {
        return;
    };
    let bob = signer(&credentials, "bob");
    let contract = id("outlayer.test.near");

    // More than bob has: nearcore's NotEnoughBalance as a typed refusal.
    let too_much = rpc
        .transfer(&bob, &contract, 1_000_000 * outlayer_devchain::ONE_NEAR)
        .await;
    match too_much {
        Err(Error::InvalidTransaction { error, .. }) => {
            assert!(error.get("NotEnoughBalance").is_some(), "{error}")
        }
        other => panic!("expected InvalidTransaction, got {other:?}"),
    }

    // A stale nonce is refused with the key's nonce; the client retries it once.
    let signed = rpc
        .sign_tx(&bob, &contract, vec![Action::transfer(1)])
        .await
        .unwrap();
    rpc.send_tx(&signed, TxExecutionStatus::Final)
        .await
        .unwrap();
    let replay = rpc
        .send_tx(&signed, TxExecutionStatus::Final)
        .await
        .unwrap();
    assert_eq!(
        replay.hash(),
        Some(signed.hash().to_string().as_str()),
        "a resent transaction is the same one"
    );
    let mut stale = signed.transaction.clone();
    stale.actions = vec![Action::transfer(2)];
    let stale = stale.sign(&bob);
    let refused = rpc
        .send_tx(&stale, TxExecutionStatus::Final)
        .await
        .unwrap_err();
    let nonce = refused.invalid_nonce().expect("an InvalidNonce refusal");
    assert_eq!(nonce.tx_nonce, signed.transaction.nonce);
    assert_eq!(nonce.ak_nonce, signed.transaction.nonce);
    let retried = rpc.transfer(&bob, &contract, 2).await.unwrap();
    assert!(retried.is_success());

    let unknown = rpc
        .view_account(&id("nobody.test.near"), &BlockReference::default())
        .await
        .unwrap_err();
    assert!(
        matches!(unknown, Error::UnknownAccount { ref account_id } if account_id == "nobody.test.near"),
        "{unknown:?}"
    );
}

/// Reads blocks from the stream until `contract` logs an event `pick` accepts.
async fn next_event<T>(
    stream: &mut outlayer_near_client::BlockStream,
    contract: &AccountId,
    pick: impl Fn(&outlayer_types::OutlayerEvent) -> Option<T>,
) -> (T, Option<String>) {
    for _ in 0..50 {
        let Some(block) = stream.next().await.unwrap() else {
            continue;
        };
        for (outcome, event) in block.outlayer_events(contract).unwrap() {
            if let Some(found) = pick(&event) {
                return (found, outcome.tx_hash.clone());
            }
        }
    }
    panic!("no such event in 50 blocks");
}

#[tokio::test]
async fn the_block_stream_carries_the_contracts_events() {
    use outlayer_types::OutlayerEvent;
    let Some((chain, rpc, credentials)) = start().await else {
        return;
    };
    let contract = id("outlayer.test.near");
    let mut stream =
        outlayer_near_client::BlockStream::new(chain.url.clone(), 1, Duration::from_secs(5))
            .unwrap();

    let alice = signer(&credentials, "alice");
    let cost: String = rpc
        .view_call(
            &contract,
            "estimate_execution_cost",
            &json!({}),
            &BlockReference::default(),
        )
        .await
        .unwrap();
    let args = json!({"code_source": {"GitHub": {"repo": "alice/app", "commit": "main", "build_target": "wasm32-wasip1"}}});
    let request = rpc
        .sign_tx(
            &alice,
            &contract,
            vec![Action::function_call(
                "request_execution",
                serde_json::to_vec(&args).unwrap(),
                100_000_000_000_000,
                cost.parse().unwrap(),
            )],
        )
        .await
        .unwrap();
    rpc.send_tx(&request, TxExecutionStatus::IncludedFinal)
        .await
        .unwrap();

    let (requested, tx_hash) = next_event(&mut stream, &contract, |e| match e {
        OutlayerEvent::ExecutionRequested(list) => Some(list[0].clone()),
        _ => None,
    })
    .await;
    assert_eq!(requested.context.request_id, 0);
    assert_eq!(requested.context.sender_id.as_str(), "alice.test.near");
    assert_eq!(
        tx_hash,
        Some(request.hash().to_string()),
        "the receipt names its transaction"
    );

    let operator = signer(&credentials, "operator");
    let failure = json!({"request_id": 0, "response": {"success": false, "error": "build failed",
        "resources_used": {"instructions": 0, "time_ms": 0, "compile_time_ms": 0}}});
    assert!(resolve(&rpc, &operator, &failure).await.is_success());
    let (completed, _) = next_event(&mut stream, &contract, |e| match e {
        OutlayerEvent::ExecutionCompleted(list) => Some(list[0].clone()),
        _ => None,
    })
    .await;
    assert_eq!(completed.request_id, 0);
    assert_eq!(completed.error.as_deref(), Some("build failed"));

    // A block far ahead is not there yet: `None`, and the reader stays put.
    let mut ahead = outlayer_near_client::BlockStream::new(
        chain.url.clone(),
        1_000_000,
        Duration::from_millis(50),
    )
    .unwrap();
    assert_eq!(ahead.next().await.unwrap(), None);
    assert_eq!(ahead.next_height(), 1_000_000);
}
