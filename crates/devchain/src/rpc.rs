//! nearcore's JSON-RPC, the subset OutLayer and NEAR's client libraries
//! use: `status`, `block`, `gas_price`, `query` (`view_account`,
//! `view_access_key`, `view_access_key_list`, `view_code`, `view_state`,
//! `call_function`), `send_tx`, `broadcast_tx_commit`, `broadcast_tx_async`
//! and `tx`. Results and errors have nearcore's shapes.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use borsh::BorshDeserialize;
use near_crypto::PublicKey;
use near_primitives::errors::{InvalidTxError, TxExecutionError};
use near_primitives::hash::CryptoHash;
use near_primitives::transaction::SignedTransaction;
use near_primitives::types::AccountId;
use near_primitives::views::{AccessKeyView, AccountView, TxExecutionStatus};
use serde_json::{Value, json};

use crate::chain::{Block, Chain};
use crate::server::Shared;
use crate::views::{block_view, final_outcome};
use crate::vm::{ViewError, view_call};

/// How long `send_tx` and `tx` wait for their condition (nearcore: 10 s).
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(10);

/// A JSON-RPC error object, as nearcore builds it.
#[derive(Debug)]
pub struct RpcError(pub Value);

impl RpcError {
    fn handler(cause: &str, info: Value, data: Value) -> Self {
        Self(json!({
            "name": "HANDLER_ERROR",
            "cause": {"name": cause, "info": info},
            "code": -32000,
            "message": "Server error",
            "data": data,
        }))
    }

    fn bad_request(message: String) -> Self {
        Self(json!({
            "name": "REQUEST_VALIDATION_ERROR",
            "cause": {"name": "PARSE_ERROR", "info": {"error_message": message}},
            "code": -32700,
            "message": "Parse error",
            "data": message,
        }))
    }

    fn method_not_found(method: &str) -> Self {
        Self(json!({
            "name": "REQUEST_VALIDATION_ERROR",
            "cause": {"name": "METHOD_NOT_FOUND", "info": {"method_name": method}},
            "code": -32601,
            "message": "Method not found",
            "data": method,
        }))
    }

    pub fn invalid_transaction(error: InvalidTxError) -> Self {
        let data = json!({"TxExecutionError": TxExecutionError::InvalidTxError(error)});
        Self::handler("INVALID_TRANSACTION", json!({}), data)
    }

    fn timeout() -> Self {
        Self::handler("TIMEOUT_ERROR", json!({}), json!("Timeout"))
    }
}

/// One JSON-RPC request; the id is echoed back.
pub async fn handle(
    State(shared): State<Shared>,
    body: axum::body::Bytes,
) -> (axum::http::StatusCode, Json<Value>) {
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let error = RpcError::bad_request(format!("invalid JSON: {e}"));
            return answer(json!({"jsonrpc": "2.0", "id": null, "error": error.0}));
        }
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let method = request.get("method").and_then(Value::as_str).unwrap_or("");
    let params = request.get("params").cloned().unwrap_or(Value::Null);
    match dispatch(&shared, method, params).await {
        Ok(result) => answer(json!({"jsonrpc": "2.0", "id": id, "result": result})),
        Err(error) => answer(json!({"jsonrpc": "2.0", "id": id, "error": error.0})),
    }
}

/// nearcore's HTTP status for a JSON-RPC answer (`chain/jsonrpc/src/lib.rs`,
/// `rpc_handler`): 400 for request validation errors, 408 for a handler's
/// `TIMEOUT_ERROR`, 500 for internal errors, else 200.
fn answer(body: Value) -> (axum::http::StatusCode, Json<Value>) {
    use axum::http::StatusCode;
    let error = &body["error"];
    let status = match error["name"].as_str() {
        Some("REQUEST_VALIDATION_ERROR") => StatusCode::BAD_REQUEST,
        Some("HANDLER_ERROR") if error["cause"]["name"] == "TIMEOUT_ERROR" => {
            StatusCode::REQUEST_TIMEOUT
        }
        Some("INTERNAL_ERROR") => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::OK,
    };
    (status, Json(body))
}

async fn dispatch(shared: &Shared, method: &str, params: Value) -> Result<Value, RpcError> {
    match method {
        "status" => Ok(status(&shared.chain())),
        "block" => {
            let chain = shared.chain();
            let block = find_block(&chain, &params)?;
            Ok(json!(block_view(&chain, block)))
        }
        "gas_price" => Ok(json!({"gas_price": crate::GAS_PRICE.to_string()})),
        "query" => query(&shared.chain(), &params),
        "send_tx" => {
            let signed = parse_tx(params.get("signed_tx_base64"))?;
            let wait = wait_until(&params)?;
            send(shared, signed, wait).await
        }
        "broadcast_tx_commit" => {
            let signed = parse_tx(params.get(0))?;
            send(shared, signed, TxExecutionStatus::ExecutedOptimistic).await
        }
        "broadcast_tx_async" => {
            let signed = parse_tx(params.get(0))?;
            let hash = shared
                .chain()
                .submit(signed)
                .map_err(RpcError::invalid_transaction)?;
            Ok(json!(hash.to_string()))
        }
        "tx" | "EXPERIMENTAL_tx_status" => {
            let (hash, _sender) = tx_id(&params)?;
            let wait = wait_until(&params)?;
            wait_for(shared, hash, wait).await
        }
        other => Err(RpcError::method_not_found(other)),
    }
}

fn status(chain: &Chain) -> Value {
    let head = chain.head();
    let genesis = &chain.blocks[0];
    let time = |ns: u64| {
        let secs = (ns / 1_000_000_000) as i64;
        let nanos = (ns % 1_000_000_000) as u32;
        chrono_like_iso(secs, nanos)
    };
    json!({
        "version": {"version": env!("CARGO_PKG_VERSION"), "build": "outlayer-devchain", "commit": "", "rustc_version": ""},
        "chain_id": chain.config.chain_id,
        "protocol_version": near_primitives::version::PROTOCOL_VERSION,
        "latest_protocol_version": near_primitives::version::PROTOCOL_VERSION,
        "rpc_addr": null,
        "validators": [{"account_id": crate::views::chain_author()}],
        "sync_info": {
            "latest_block_hash": head.hash,
            "latest_block_height": head.height,
            "latest_state_root": CryptoHash::default(),
            "latest_block_time": time(head.timestamp_ns),
            "syncing": false,
            "earliest_block_hash": genesis.hash,
            "earliest_block_height": genesis.height,
            "earliest_block_time": time(genesis.timestamp_ns),
            "epoch_id": CryptoHash::default(),
            "epoch_start_height": genesis.height,
        },
        "validator_account_id": null,
        "validator_public_key": null,
        "node_public_key": PublicKey::empty(near_crypto::KeyType::ED25519),
        "node_key": null,
        "uptime_sec": 0,
        "genesis_hash": genesis.hash,
    })
}

/// RFC 3339 in UTC with nanoseconds, as nearcore prints block times.
fn chrono_like_iso(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{nanos:09}Z")
}

fn unknown_block(message: String) -> RpcError {
    RpcError::handler(
        "UNKNOWN_BLOCK",
        json!({"block_reference": message}),
        json!(format!("DB Not Found Error: BLOCK: {message}")),
    )
}

/// `{"finality": ...}` or `{"block_id": height | hash}`.
fn find_block<'c>(chain: &'c Chain, params: &Value) -> Result<&'c Block, RpcError> {
    if let Some(finality) = params.get("finality")
        && !matches!(
            finality.as_str(),
            Some("optimistic" | "near-final" | "final")
        )
    {
        return Err(RpcError::bad_request(format!(
            "unknown finality {finality}: expected \"optimistic\", \"near-final\" or \"final\""
        )));
    }
    match params.get("block_id") {
        None | Some(Value::Null) => Ok(chain.head()),
        Some(Value::Number(n)) => {
            let height = n.as_u64().unwrap_or(u64::MAX);
            chain
                .block_at(height)
                .ok_or_else(|| unknown_block(height.to_string()))
        }
        Some(Value::String(s)) => {
            let hash: CryptoHash = s
                .parse()
                .map_err(|_| RpcError::bad_request(format!("invalid block hash {s:?}")))?;
            chain
                .block_by_hash(&hash)
                .ok_or_else(|| unknown_block(s.clone()))
        }
        Some(other) => Err(RpcError::bad_request(format!("invalid block_id {other}"))),
    }
}

fn field<'v>(params: &'v Value, name: &str) -> Result<&'v str, RpcError> {
    params
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::bad_request(format!("missing field `{name}`")))
}

fn account_id(params: &Value) -> Result<AccountId, RpcError> {
    let text = field(params, "account_id")?;
    text.parse()
        .map_err(|e| RpcError::bad_request(format!("invalid account_id {text:?}: {e}")))
}

fn query(chain: &Chain, params: &Value) -> Result<Value, RpcError> {
    let block = find_block(chain, params)?;
    if block.height != chain.head().height {
        // Only the latest state is kept, like a node that pruned the rest.
        return Err(RpcError::handler(
            "GARBAGE_COLLECTED_BLOCK",
            json!({"block_height": block.height, "block_hash": block.hash}),
            json!(format!(
                "the local chain keeps only the state at its head ({})",
                chain.head().height
            )),
        ));
    }
    let at = json!({"block_height": block.height, "block_hash": block.hash});
    let with_block = |mut value: Value| {
        value["block_height"] = at["block_height"].clone();
        value["block_hash"] = at["block_hash"].clone();
        Ok(value)
    };
    let unknown_account = |id: &AccountId| {
        RpcError::handler(
            "UNKNOWN_ACCOUNT",
            json!({"requested_account_id": id, "block_height": block.height, "block_hash": block.hash}),
            json!(format!("account {id} does not exist while viewing")),
        )
    };
    match field(params, "request_type")? {
        "view_account" => {
            let id = account_id(params)?;
            let account = chain
                .state
                .account(&id)
                .ok_or_else(|| unknown_account(&id))?;
            let view = AccountView {
                amount: near_primitives::types::Balance::from_yoctonear(account.amount),
                locked: near_primitives::types::Balance::from_yoctonear(account.locked),
                code_hash: account.code_hash.unwrap_or_default(),
                storage_usage: account.storage_usage,
                storage_paid_at: 0,
                global_contract_hash: None,
                global_contract_account_id: None,
                state: Default::default(),
                bootstrap_nonce: None,
            };
            with_block(json!(view))
        }
        "view_access_key" => {
            let id = account_id(params)?;
            let text = field(params, "public_key")?;
            let key: PublicKey = text
                .parse()
                .map_err(|_| RpcError::bad_request(format!("invalid public_key {text:?}")))?;
            if chain.state.account(&id).is_none() {
                return Err(unknown_account(&id));
            }
            let access_key = chain.state.access_key(&id, &key).ok_or_else(|| {
                RpcError::handler(
                    "UNKNOWN_ACCESS_KEY",
                    json!({"public_key": key, "block_height": block.height, "block_hash": block.hash}),
                    json!(format!("access key {key} does not exist while viewing")),
                )
            })?;
            with_block(json!(AccessKeyView::from(access_key.clone())))
        }
        "call_function" => {
            let id = account_id(params)?;
            let method = field(params, "method_name")?;
            let args = BASE64
                .decode(
                    params
                        .get("args_base64")
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                )
                .map_err(|e| RpcError::bad_request(format!("args_base64: {e}")))?;
            match view_call(chain, &id, method, args) {
                Ok(result) => with_block(json!({"result": result.result, "logs": result.logs})),
                Err(ViewError::UnknownAccount(id)) => Err(unknown_account(&id)),
                Err(ViewError::NoContractCode(id)) => Err(no_code(&id, block)),
                Err(ViewError::ContractExecution(vm_error)) => Err(RpcError::handler(
                    "CONTRACT_EXECUTION_ERROR",
                    json!({"vm_error": vm_error, "block_height": block.height, "block_hash": block.hash}),
                    json!(vm_error),
                )),
            }
        }
        "view_access_key_list" => {
            let id = account_id(params)?;
            if chain.state.account(&id).is_none() {
                return Err(unknown_account(&id));
            }
            let keys: Vec<Value> = chain
                .state
                .access_keys
                .get(&id)
                .into_iter()
                .flatten()
                .map(|(key, access)| {
                    json!({"public_key": key, "access_key": AccessKeyView::from(access.clone())})
                })
                .collect();
            with_block(json!({"keys": keys}))
        }
        "view_code" => {
            let id = account_id(params)?;
            if chain.state.account(&id).is_none() {
                return Err(unknown_account(&id));
            }
            let code = chain
                .state
                .contract(&id)
                .ok_or_else(|| no_code(&id, block))?;
            with_block(json!({"code_base64": BASE64.encode(code.code()), "hash": code.hash()}))
        }
        "view_state" => {
            let id = account_id(params)?;
            if chain.state.account(&id).is_none() {
                return Err(unknown_account(&id));
            }
            let prefix = BASE64
                .decode(
                    params
                        .get("prefix_base64")
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                )
                .map_err(|e| RpcError::bad_request(format!("prefix_base64: {e}")))?;
            let values: Vec<Value> = chain
                .state
                .storage
                .get(&id)
                .into_iter()
                .flat_map(|records| records.range(prefix.clone()..))
                .take_while(|(key, _)| key.starts_with(&prefix))
                .map(|(key, value)| json!({"key": BASE64.encode(key), "value": BASE64.encode(value)}))
                .collect();
            with_block(json!({"values": values, "proof": []}))
        }
        other => Err(RpcError::bad_request(format!(
            "request_type {other:?} is not served by the local chain"
        ))),
    }
}

fn no_code(id: &AccountId, block: &Block) -> RpcError {
    RpcError::handler(
        "NO_CONTRACT_CODE",
        json!({"contract_account_id": id, "block_height": block.height, "block_hash": block.hash}),
        json!(format!(
            "Contract code for contract ID #{id} has never been observed on the node"
        )),
    )
}

fn parse_tx(value: Option<&Value>) -> Result<SignedTransaction, RpcError> {
    let text = value
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::bad_request("missing signed transaction".into()))?;
    let bytes = BASE64
        .decode(text)
        .map_err(|e| RpcError::bad_request(format!("Failed to decode transaction: {e}")))?;
    SignedTransaction::try_from_slice(&bytes)
        .map_err(|e| RpcError::bad_request(format!("Failed to decode transaction: {e}")))
}

fn wait_until(params: &Value) -> Result<TxExecutionStatus, RpcError> {
    match params.get("wait_until") {
        None | Some(Value::Null) => Ok(TxExecutionStatus::ExecutedOptimistic),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| RpcError::bad_request(format!("wait_until: {e}"))),
    }
}

/// `{"tx_hash", "sender_account_id"}` or nearcore's older `[hash, sender]`.
fn tx_id(params: &Value) -> Result<(CryptoHash, String), RpcError> {
    let (hash, sender) = match params {
        Value::Array(items) => (items.first(), items.get(1)),
        _ => (params.get("tx_hash"), params.get("sender_account_id")),
    };
    let hash = hash
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::bad_request("missing tx_hash".into()))?;
    let hash = hash
        .parse()
        .map_err(|_| RpcError::bad_request(format!("invalid tx_hash {hash:?}")))?;
    let sender = sender
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok((hash, sender))
}

async fn send(
    shared: &Shared,
    signed: SignedTransaction,
    wait: TxExecutionStatus,
) -> Result<Value, RpcError> {
    let hash = shared
        .chain()
        .submit(signed)
        .map_err(RpcError::invalid_transaction)?;
    wait_for(shared, hash, wait).await
}

/// Waits until the transaction reaches `wait`, then answers with nearcore's
/// `RpcTransactionResponse`: the outcome flattened beside `final_execution_status`.
async fn wait_for(
    shared: &Shared,
    hash: CryptoHash,
    wait: TxExecutionStatus,
) -> Result<Value, RpcError> {
    let mut heads = shared.heads();
    let deadline = tokio::time::Instant::now() + shared.wait_timeout;
    loop {
        {
            let chain = shared.chain();
            if !chain.transactions.contains_key(&hash) {
                return Err(RpcError::handler(
                    "UNKNOWN_TRANSACTION",
                    json!({"requested_transaction_hash": hash}),
                    json!(format!("Transaction {hash} doesn't exist")),
                ));
            }
            let included = chain.is_included(&hash);
            let settled = chain.is_settled(&hash);
            let reached = match wait {
                TxExecutionStatus::None => true,
                TxExecutionStatus::Included | TxExecutionStatus::IncludedFinal => included,
                _ => settled,
            };
            if reached {
                let status = if settled {
                    "FINAL"
                } else if included {
                    "INCLUDED_FINAL"
                } else {
                    "NONE"
                };
                let mut response = match final_outcome(&chain, &hash).filter(|_| included) {
                    Some(outcome) => json!(outcome),
                    None => json!({}),
                };
                response["final_execution_status"] = json!(status);
                return Ok(response);
            }
        }
        match tokio::time::timeout_at(deadline, heads.changed()).await {
            Ok(Ok(())) => {}
            _ => return Err(RpcError::timeout()),
        }
    }
}
