//! The fake node's JSON-RPC endpoint, answering in nearcore's shapes.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use outlayer_types::AccountId;
use serde_json::{Value, json};

use super::state::{State, fake_hash};
use super::{Availability, ViewOutcome};

const GENESIS_NS: u64 = 1_700_000_000_000_000_000;
const PROTOCOL_VERSION: u32 = 78;

pub(super) fn router(state: Arc<Mutex<State>>) -> Router {
    Router::new().route("/", post(handle)).with_state(state)
}

/// A JSON-RPC error: HTTP status, and the `error` object.
pub(super) struct RpcFailure(pub(super) StatusCode, pub(super) Value);

async fn handle(Shared(state): Shared<Arc<Mutex<State>>>, body: Bytes) -> Response {
    let availability = lock(&state).availability;
    match availability {
        Availability::Up => {}
        Availability::Unavailable => {
            return (StatusCode::SERVICE_UNAVAILABLE, "upstream unavailable").into_response();
        }
        Availability::Slow(delay) => tokio::time::sleep(delay).await,
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let failure = validation("PARSE_ERROR", json!({"error_message": e.to_string()}));
            return reply(Value::Null, Err(failure));
        }
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let method = request.get("method").and_then(Value::as_str).unwrap_or("");
    let params = request.get("params").cloned().unwrap_or(Value::Null);
    let outcome = {
        let mut state = lock(&state);
        match method {
            "status" => Ok(status(&state)),
            "block" => block(&state, &params),
            "query" => {
                state.queries += 1;
                query(&state, &params)
            }
            "send_tx" => super::tx::send_tx(&mut state, &params),
            "broadcast_tx_commit" => super::tx::broadcast_tx_commit(&mut state, &params),
            "tx" => super::tx::tx_status(&state, &params),
            other => Err(validation(
                "METHOD_NOT_FOUND",
                json!({"method_name": other}),
            )),
        }
    };
    reply(id, outcome)
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().expect("fake chain state poisoned")
}

fn reply(id: Value, outcome: Result<Value, RpcFailure>) -> Response {
    match outcome {
        Ok(result) => {
            axum::Json(json!({"jsonrpc": "2.0", "result": result, "id": id})).into_response()
        }
        Err(RpcFailure(status, error)) => (
            status,
            axum::Json(json!({"jsonrpc": "2.0", "error": error, "id": id})),
        )
            .into_response(),
    }
}

pub(super) fn validation(cause: &str, info: Value) -> RpcFailure {
    let (code, message) = match cause {
        "METHOD_NOT_FOUND" => (-32601, "Method not found"),
        _ => (-32700, "Parse error"),
    };
    let data = info
        .as_object()
        .and_then(|o| o.values().next())
        .cloned()
        .unwrap_or(Value::Null);
    RpcFailure(
        StatusCode::BAD_REQUEST,
        json!({
            "name": "REQUEST_VALIDATION_ERROR",
            "cause": {"name": cause, "info": info},
            "code": code,
            "message": message,
            "data": data,
        }),
    )
}

pub(super) fn handler_error(cause: &str, info: Value, data: impl Into<Value>) -> RpcFailure {
    RpcFailure(
        StatusCode::OK,
        json!({
            "name": "HANDLER_ERROR",
            "cause": {"name": cause, "info": info},
            "code": -32000,
            "message": "Server error",
            "data": data.into(),
        }),
    )
}

fn status(state: &State) -> Value {
    json!({
        "version": {"version": "2.4.0", "build": "fake", "rustc_version": "1.95.0"},
        "chain_id": "outlayer-fake",
        "protocol_version": PROTOCOL_VERSION,
        "latest_protocol_version": PROTOCOL_VERSION,
        "rpc_addr": "127.0.0.1:0",
        "validators": [{"account_id": "validator.fake"}],
        "sync_info": {
            "latest_block_hash": state.block_hash(state.height),
            "latest_block_height": state.height,
            "latest_state_root": fake_hash(2, state.height),
            "latest_block_time": "2023-11-14T22:13:20.000000000Z",
            "syncing": false,
            "earliest_block_hash": state.block_hash(1),
            "earliest_block_height": 1,
            "earliest_block_time": "2023-11-14T22:13:20.000000000Z",
            "epoch_id": fake_hash(3, 0),
            "epoch_start_height": 1,
        },
        "validator_account_id": null,
        "validator_public_key": null,
        "node_public_key": "ed25519:6DSjZ8mvsRZDvFqFxo8tCKePG96omXW7eVYVSySmDk8e",
        "node_key": null,
        "uptime_sec": 1,
        "genesis_hash": state.block_hash(0),
        "detailed_debug_status": null,
    })
}

fn block(state: &State, params: &Value) -> Result<Value, RpcFailure> {
    let height = block_height(state, params)?;
    let timestamp = GENESIS_NS + height * 1_000_000_000;
    Ok(json!({
        "author": "validator.fake",
        "header": {
            "height": height,
            "prev_height": height.saturating_sub(1),
            "epoch_id": fake_hash(3, 0),
            "next_epoch_id": fake_hash(3, 1),
            "hash": state.block_hash(height),
            "prev_hash": state.block_hash(height.saturating_sub(1)),
            "prev_state_root": fake_hash(2, height.saturating_sub(1)),
            "block_body_hash": fake_hash(4, height),
            "chunk_receipts_root": fake_hash(5, height),
            "chunk_headers_root": fake_hash(6, height),
            "chunk_tx_root": fake_hash(7, height),
            "outcome_root": fake_hash(8, height),
            "chunks_included": 1,
            "challenges_root": "11111111111111111111111111111111",
            "timestamp": timestamp,
            "timestamp_nanosec": timestamp.to_string(),
            "random_value": fake_hash(9, height),
            "validator_proposals": [],
            "chunk_mask": [true],
            "gas_price": "100000000",
            "block_ordinal": height,
            "rent_paid": "0",
            "validator_reward": "0",
            "total_supply": "1000000000000000000000000000000000",
            "challenges_result": [],
            "last_final_block": state.block_hash(height.saturating_sub(2)),
            "last_ds_final_block": state.block_hash(height.saturating_sub(1)),
            "next_bp_hash": fake_hash(10, 0),
            "block_merkle_root": fake_hash(11, height),
            "epoch_sync_data_hash": null,
            "approvals": [],
            "signature": "ed25519:3NNE1Nar9Js6hG2jUkW6iVbTQtZR8jD4zx5dF6mU8NAgdrhZsbUNCSZ4Ekv3z6aUH4z8FqhC9VkNvFtyAvEKS1pF",
            "latest_protocol_version": PROTOCOL_VERSION,
        },
        "chunks": [{
            "chunk_hash": fake_hash(12, height),
            "prev_block_hash": state.block_hash(height.saturating_sub(1)),
            "outcome_root": fake_hash(8, height),
            "prev_state_root": fake_hash(2, height.saturating_sub(1)),
            "encoded_merkle_root": fake_hash(13, height),
            "encoded_length": 8,
            "height_created": height,
            "height_included": height,
            "shard_id": 0,
            "gas_used": 0,
            "gas_limit": 1_000_000_000_000_000u64,
            "rent_paid": "0",
            "validator_reward": "0",
            "balance_burnt": "0",
            "outgoing_receipts_root": fake_hash(14, height),
            "tx_root": "11111111111111111111111111111111",
            "validator_proposals": [],
            "signature": "ed25519:3NNE1Nar9Js6hG2jUkW6iVbTQtZR8jD4zx5dF6mU8NAgdrhZsbUNCSZ4Ekv3z6aUH4z8FqhC9VkNvFtyAvEKS1pF",
        }],
    }))
}

/// The height a `finality` / `block_id` parameter names.
fn block_height(state: &State, params: &Value) -> Result<u64, RpcFailure> {
    let unknown = |reference: String| {
        handler_error(
            "UNKNOWN_BLOCK",
            json!({"block_reference": reference}),
            format!("DB Not Found Error: BLOCK: {reference}"),
        )
    };
    match params.get("block_id") {
        None => Ok(state.height),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(h) if h <= state.height => Ok(h),
            _ => Err(unknown(n.to_string())),
        },
        Some(Value::String(hash)) => (0..=state.height)
            .find(|h| &state.block_hash(*h) == hash)
            .ok_or_else(|| unknown(hash.clone())),
        Some(other) => Err(validation(
            "PARSE_ERROR",
            json!({"error_message": format!("invalid block_id {other}")}),
        )),
    }
}

fn query(state: &State, params: &Value) -> Result<Value, RpcFailure> {
    let height = block_height(state, params)?;
    let block_hash = state.block_hash(height);
    let at = json!({"block_height": height, "block_hash": block_hash});
    let field = |key: &str| params.get(key).and_then(Value::as_str).unwrap_or("");
    let account_id: AccountId = field("account_id").parse().map_err(|_| {
        handler_error(
            "INVALID_ACCOUNT",
            json!({"requested_account_id": field("account_id"), "block_height": height, "block_hash": block_hash}),
            format!("Account ID {} is invalid", field("account_id")),
        )
    })?;
    let Some(account) = state.accounts.get(&account_id) else {
        return Err(handler_error(
            "UNKNOWN_ACCOUNT",
            json!({"requested_account_id": account_id, "block_height": height, "block_hash": block_hash}),
            format!("account {account_id} does not exist while viewing"),
        ));
    };
    let mut result = match field("request_type") {
        "view_account" => json!({
            "amount": account.amount.to_string(),
            "locked": "0",
            "code_hash": if account.has_code { fake_hash(15, 0) } else { "11111111111111111111111111111111".into() },
            "storage_usage": 182,
            "storage_paid_at": 0,
        }),
        "view_access_key" => match account.keys.get(field("public_key")) {
            Some(key) => {
                json!({"nonce": key.shown_nonce.unwrap_or(key.nonce), "permission": "FullAccess"})
            }
            // nearcore's backward-compatible answer: a result with `error`.
            None => json!({
                "error": format!("access key {} does not exist while viewing", field("public_key")),
                "logs": [],
            }),
        },
        "call_function" => {
            if !account.has_code {
                return Err(handler_error(
                    "NO_CONTRACT_CODE",
                    json!({"contract_account_id": account_id, "block_height": height, "block_hash": block_hash}),
                    format!(
                        "Contract code for contract ID #{account_id} has never been observed on the node"
                    ),
                ));
            }
            call_function(
                state,
                &account_id,
                field("method_name"),
                field("args_base64"),
            )
        }
        other => {
            return Err(validation(
                "PARSE_ERROR",
                json!({"error_message": format!("unknown variant `{other}`")}),
            ));
        }
    };
    if let (Value::Object(result), Value::Object(at)) = (&mut result, at) {
        result.extend(at);
    }
    Ok(result)
}

fn call_function(state: &State, contract: &AccountId, method: &str, args_base64: &str) -> Value {
    let vm_error =
        |e: String| json!({"error": format!("wasm execution failed with error: {e}"), "logs": []});
    let Some(view) = state.views.get(&(contract.clone(), method.to_owned())) else {
        return vm_error("MethodResolveError(MethodNotFound)".into());
    };
    let args = match STANDARD.decode(args_base64) {
        Ok(bytes) if bytes.is_empty() => Value::Null,
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(args) => args,
            Err(e) => {
                return vm_error(format!(
                    "FunctionCallError(HostError(GuestPanic {{ panic_msg: \"Failed to deserialize input from JSON.: {e}\" }}))"
                ));
            }
        },
        Err(_) => return vm_error("invalid args_base64".into()),
    };
    match view(&args) {
        ViewOutcome::Return(bytes) => json!({"result": bytes, "logs": []}),
        ViewOutcome::Panic(message) => vm_error(format!(
            "FunctionCallError(HostError(GuestPanic {{ panic_msg: {message:?} }}))"
        )),
    }
}
