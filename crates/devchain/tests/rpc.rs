//! The local chain over HTTP: nearcore's JSON-RPC shapes, results and
//! errors, and the block stream with the contract's events.

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use near_primitives::transaction::SignedTransaction;
use outlayer_devchain::server::sign_function_call;
use outlayer_devchain::{Devchain, DevchainConfig};
use serde_json::{Value, json};

async fn start() -> Option<Devchain> {
    let config = DevchainConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        block_interval: Duration::from_millis(20),
        contract_wasm: Some(common::contract_wasm()?),
        ..DevchainConfig::default()
    };
    Some(Devchain::start(config).await.expect("the chain starts"))
}

async fn rpc(chain: &Devchain, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": "t", "method": method, "params": params});
    let response: Value = reqwest::Client::new()
        .post(&chain.url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["id"], "t");
    response
}

fn encode(tx: &SignedTransaction) -> String {
    BASE64.encode(borsh::to_vec(tx).unwrap())
}

fn request_tx(
    chain: &Devchain,
    who: &str,
    method: &str,
    args: Value,
    deposit: u128,
) -> SignedTransaction {
    let signer = common::Local::id(who);
    let key = chain.key(&signer).unwrap();
    let contract = chain.genesis_accounts.contract.clone();
    sign_function_call(
        &chain.shared.chain(),
        &signer,
        key,
        &contract,
        method,
        serde_json::to_vec(&args).unwrap(),
        300 * common::TGAS,
        deposit,
    )
}

#[tokio::test]
async fn views_answer_in_nearcores_shapes() {
    let Some(chain) = start().await else { return };
    let status = rpc(&chain, "status", json!([])).await["result"].clone();
    assert_eq!(status["chain_id"], "outlayer-local");
    // NEAR's client libraries parse answers into nearcore's view types.
    let parsed: near_primitives::views::StatusResponse =
        serde_json::from_value(status.clone()).unwrap();
    assert_eq!(
        parsed.sync_info.latest_block_height,
        status["sync_info"]["latest_block_height"].as_u64().unwrap()
    );
    assert_eq!(status["sync_info"]["syncing"], false);
    let height = status["sync_info"]["latest_block_height"].as_u64().unwrap();
    assert!(height >= 2, "genesis and the contract's init block");

    let block = rpc(&chain, "block", json!({"block_id": 2})).await["result"].clone();
    assert_eq!(block["header"]["height"], 2);
    let parsed: near_primitives::views::BlockView = serde_json::from_value(block.clone()).unwrap();
    assert_eq!(parsed.header.height, 2);
    assert_eq!(block["header"]["gas_price"], "100000000");
    assert!(block["header"]["timestamp_nanosec"].is_string());
    assert_eq!(block["chunks"][0]["height_included"], 2);
    let final_block = rpc(&chain, "block", json!({"finality": "final"})).await["result"].clone();
    assert!(final_block["header"]["height"].as_u64().unwrap() >= height);

    let alice = rpc(&chain, "query", json!({"request_type": "view_account", "finality": "final", "account_id": "alice.test.near"})).await;
    assert_eq!(alice["result"]["amount"], "10000000000000000000000000000");
    let parsed: near_primitives::views::AccountView =
        serde_json::from_value(alice["result"].clone()).unwrap();
    assert_eq!(
        parsed.amount.as_yoctonear(),
        10_000 * outlayer_devchain::ONE_NEAR
    );
    assert_eq!(
        alice["result"]["code_hash"],
        "11111111111111111111111111111111"
    );
    assert!(alice["result"]["block_height"].is_u64());

    let key = chain
        .key(&common::Local::id("alice"))
        .unwrap()
        .public_key()
        .to_string();
    let access = rpc(
        &chain,
        "query",
        json!({"request_type": "view_access_key", "finality": "final",
        "account_id": "alice.test.near", "public_key": key}),
    )
    .await;
    assert_eq!(access["result"]["nonce"], 0);
    assert_eq!(access["result"]["permission"], "FullAccess");

    let config = rpc(
        &chain,
        "query",
        json!({"request_type": "call_function", "finality": "final",
        "account_id": "outlayer.test.near", "method_name": "get_config", "args_base64": ""}),
    )
    .await;
    let bytes: Vec<u8> = serde_json::from_value(config["result"]["result"].clone()).unwrap();
    let config: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(config["operator_id"], "operator.test.near");

    let unknown = rpc(&chain, "query", json!({"request_type": "view_account", "finality": "final", "account_id": "nobody.test.near"})).await;
    assert_eq!(unknown["error"]["name"], "HANDLER_ERROR");
    assert_eq!(unknown["error"]["cause"]["name"], "UNKNOWN_ACCOUNT");
    assert_eq!(
        unknown["error"]["cause"]["info"]["requested_account_id"],
        "nobody.test.near"
    );
    assert_eq!(unknown["error"]["code"], -32000);

    let panicked = rpc(&chain, "query", json!({"request_type": "call_function", "finality": "final",
        "account_id": "outlayer.test.near", "method_name": "get_request", "args_base64": BASE64.encode("{}")})).await;
    assert_eq!(
        panicked["error"]["cause"]["name"],
        "CONTRACT_EXECUTION_ERROR"
    );
    assert!(
        panicked["error"]["cause"]["info"]["vm_error"]
            .as_str()
            .unwrap()
            .contains("request_id"),
        "{panicked}"
    );

    let keys = rpc(
        &chain,
        "query",
        json!({"request_type": "view_access_key_list", "finality": "final",
        "account_id": "alice.test.near"}),
    )
    .await;
    assert_eq!(keys["result"]["keys"][0]["public_key"], key);
    let code = rpc(
        &chain,
        "query",
        json!({"request_type": "view_code", "finality": "final",
        "account_id": "outlayer.test.near"}),
    )
    .await;
    let wasm = BASE64
        .decode(code["result"]["code_base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(wasm, common::contract_wasm().unwrap());
    let no_code = rpc(
        &chain,
        "query",
        json!({"request_type": "view_code", "finality": "final",
        "account_id": "alice.test.near"}),
    )
    .await;
    assert_eq!(no_code["error"]["cause"]["name"], "NO_CONTRACT_CODE");
    // The contract's state: near-sdk keeps its root struct under "STATE".
    let state = rpc(
        &chain,
        "query",
        json!({"request_type": "view_state", "finality": "final",
        "account_id": "outlayer.test.near", "prefix_base64": BASE64.encode("STATE")}),
    )
    .await;
    let values = state["result"]["values"].as_array().unwrap();
    assert_eq!(values.len(), 1, "{state}");
    assert_eq!(values[0]["key"], BASE64.encode("STATE"));

    let bogus = rpc(&chain, "block", json!({"finality": "soon"})).await;
    assert_eq!(bogus["error"]["cause"]["name"], "PARSE_ERROR");

    let missing = rpc(&chain, "no_such_method", json!([])).await;
    assert_eq!(missing["error"]["cause"]["name"], "METHOD_NOT_FOUND");
    assert_eq!(missing["error"]["code"], -32601);
}

#[tokio::test]
async fn transactions_settle_and_errors_have_nearcores_shape() {
    let Some(chain) = start().await else { return };
    let pricing = json!({"pricing": {"base_fee": "1000", "per_million_instructions": "10",
        "per_execution_ms": "2", "per_compile_ms": "1"}});
    let tx = request_tx(&chain, "owner", "set_pricing", pricing, 1);
    let done = rpc(
        &chain,
        "send_tx",
        json!({"signed_tx_base64": encode(&tx), "wait_until": "FINAL"}),
    )
    .await;
    assert_eq!(done["result"]["final_execution_status"], "FINAL", "{done}");
    assert_eq!(done["result"]["status"], json!({"SuccessValue": ""}));
    assert_eq!(
        done["result"]["transaction"]["hash"],
        tx.get_hash().to_string()
    );

    // The same nonce again: nearcore's InvalidNonce, with its error envelope.
    let Some(mut again) = Some(tx.clone()) else {
        unreachable!()
    };
    let near_primitives::transaction::Transaction::V0(mut inner) = again.transaction.clone() else {
        unreachable!()
    };
    inner.actions.clear();
    let inner = near_primitives::transaction::Transaction::V0(inner);
    let (hash, _) = inner.get_hash_and_size();
    let key = chain.key(&common::Local::id("owner")).unwrap();
    again = SignedTransaction::new(key.sign(hash.as_ref()), inner);
    let nonce = tx.transaction.nonce().nonce();
    let refused = rpc(&chain, "broadcast_tx_commit", json!([encode(&again)])).await;
    assert_eq!(
        refused["error"],
        json!({
            "name": "HANDLER_ERROR",
            "cause": {"name": "INVALID_TRANSACTION", "info": {}},
            "code": -32000,
            "message": "Server error",
            "data": {"TxExecutionError": {"InvalidTxError": {"InvalidNonce": {"tx_nonce": nonce, "ak_nonce": nonce}}}},
        })
    );

    let garbage = rpc(&chain, "send_tx", json!({"signed_tx_base64": "AAAA"})).await;
    assert_eq!(garbage["error"]["name"], "REQUEST_VALIDATION_ERROR");
    assert_eq!(garbage["error"]["cause"]["name"], "PARSE_ERROR");

    // A request: included at once, final only when the operator resolves.
    let args = common::request_args();
    let request = request_tx(
        &chain,
        "alice",
        "request_execution",
        args,
        1_000 + 10 + 2_000 + 120_000,
    );
    let included = rpc(
        &chain,
        "send_tx",
        json!({"signed_tx_base64": encode(&request), "wait_until": "INCLUDED_FINAL"}),
    )
    .await;
    assert_eq!(
        included["result"]["final_execution_status"], "INCLUDED_FINAL",
        "{included}"
    );
    let hash = request.get_hash().to_string();
    let pending = rpc(
        &chain,
        "tx",
        json!({"tx_hash": hash, "sender_account_id": "alice.test.near", "wait_until": "NONE"}),
    )
    .await;
    assert_eq!(pending["result"]["status"], "Started", "{pending}");

    // The block stream carries the event the worker reacts to.
    let block_hash = included["result"]["transaction_outcome"]["block_hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let block = rpc(&chain, "block", json!({"block_id": block_hash})).await;
    let height = block["result"]["header"]["height"].as_u64().unwrap();
    let event = find_event(&chain, height, "execution_requested").await;
    assert_eq!(event["data"][0]["context"]["request_id"], 0);
    assert_eq!(event["data"][0]["context"]["sender_id"], "alice.test.near");

    let response = json!({"success": true, "output": {"Text": "42"},
        "resources_used": {"instructions": 300_000, "time_ms": 250, "compile_time_ms": 4_000}});
    let resolve = request_tx(
        &chain,
        "operator",
        "resolve_execution",
        json!({"request_id": 0, "response": response}),
        0,
    );
    let resolved = rpc(
        &chain,
        "send_tx",
        json!({"signed_tx_base64": encode(&resolve), "wait_until": "FINAL"}),
    )
    .await;
    assert_eq!(
        resolved["result"]["status"],
        json!({"SuccessValue": ""}),
        "{resolved}"
    );
    let settled = rpc(
        &chain,
        "tx",
        json!({"tx_hash": hash, "sender_account_id": "alice.test.near", "wait_until": "FINAL"}),
    )
    .await;
    assert_eq!(
        settled["result"]["status"],
        json!({"SuccessValue": BASE64.encode(br#""42""#)}),
        "{settled}"
    );
    let logs: Vec<String> = settled["result"]["receipts_outcome"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| {
            o["outcome"]["logs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(common::completed_event(&logs)["charged"], "5503");
}

/// Reads the stream from `from` on until the contract's event appears.
async fn find_event(chain: &Devchain, from: u64, name: &str) -> Value {
    let http = reqwest::Client::new();
    for height in from..from + 5 {
        let message: Value = http
            .get(format!("{}/v0/block/{height}", chain.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(message["block"]["header"]["height"], height);
        let _: outlayer_devchain::stream::StreamerMessage =
            serde_json::from_value(message.clone()).unwrap();
        for outcome in message["shards"][0]["receipt_execution_outcomes"]
            .as_array()
            .unwrap()
        {
            for log in outcome["execution_outcome"]["outcome"]["logs"]
                .as_array()
                .unwrap()
            {
                if let Some(event) = log.as_str().unwrap().strip_prefix("EVENT_JSON:") {
                    let event: Value = serde_json::from_str(event).unwrap();
                    if event["event"] == name {
                        return event;
                    }
                }
            }
        }
    }
    panic!("no {name} event in blocks {from}..{}", from + 5);
}

#[tokio::test]
async fn the_stream_waits_for_future_blocks() {
    let Some(chain) = start().await else { return };
    let head = chain.shared.chain().head().height;
    let http = reqwest::Client::new();
    let next: Value = http
        .get(format!("{}/v0/block/{}?wait_ms=5000", chain.url, head + 3))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(next["block"]["header"]["height"], head + 3);
    let far = http
        .get(format!(
            "{}/v0/block/{}?wait_ms=50",
            chain.url,
            head + 100_000
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(far.status(), 404);
    let body: Value = far.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("not produced yet"));
}
