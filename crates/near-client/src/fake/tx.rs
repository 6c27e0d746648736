//! The fake node's transactions: `send_tx`, `broadcast_tx_commit` and `tx`,
//! with nearcore's checks, refusals and outcome shapes.

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use outlayer_types::AccountId;
use serde_json::{Value, json};

use super::rpc::{RpcFailure, handler_error, validation};
use super::state::{State, fake_hash};
use super::{CallContext, ViewOutcome};
use crate::{Action, SignedTransaction, TxExecutionStatus};

/// Gas the fake reports for converting a transaction and for executing its
/// receipt (never charged), and its gas price.
const TX_GAS: u64 = 223_182_562_500;
const RECEIPT_GAS: u64 = 2_428_000_000_000;
const GAS_PRICE: u128 = 100_000_000;

pub(super) fn send_tx(state: &mut State, params: &Value) -> Result<Value, RpcFailure> {
    let encoded = params
        .get("signed_tx_base64")
        .and_then(Value::as_str)
        .ok_or_else(|| parse_error("missing field `signed_tx_base64`".into()))?;
    let wait_until = match params.get("wait_until") {
        None => TxExecutionStatus::default(),
        Some(value) => serde_json::from_value(value.clone())
            .map_err(|e| parse_error(format!("wait_until: {e}")))?,
    };
    submit(state, encoded, wait_until)
}

/// `[signed_tx_base64]`: waits for execution, as nearcore does.
pub(super) fn broadcast_tx_commit(state: &mut State, params: &Value) -> Result<Value, RpcFailure> {
    let encoded = params
        .get(0)
        .and_then(Value::as_str)
        .ok_or_else(|| parse_error("expected [signed_tx_base64]".into()))?;
    submit(state, encoded, TxExecutionStatus::ExecutedOptimistic)
}

pub(super) fn tx_status(state: &State, params: &Value) -> Result<Value, RpcFailure> {
    let field = |key: &str| params.get(key).and_then(Value::as_str);
    let (Some(hash), Some(_sender)) = (field("tx_hash"), field("sender_account_id")) else {
        return Err(parse_error("expected tx_hash and sender_account_id".into()));
    };
    // Everything the fake accepted is final at once.
    state.outcomes.get(hash).cloned().ok_or_else(|| {
        handler_error(
            "UNKNOWN_TRANSACTION",
            json!({"requested_transaction_hash": hash}),
            format!("Transaction {hash} doesn't exist"),
        )
    })
}

fn parse_error(message: String) -> RpcFailure {
    validation("PARSE_ERROR", json!({"error_message": message}))
}

/// nearcore's refusal of a transaction: `InvalidTxError` in `data`, an
/// empty `cause.info`.
fn invalid_tx(error: Value) -> RpcFailure {
    RpcFailure(
        StatusCode::OK,
        json!({
            "name": "HANDLER_ERROR",
            "cause": {"name": "INVALID_TRANSACTION", "info": {}},
            "code": -32000,
            "message": "Server error",
            "data": {"TxExecutionError": {"InvalidTxError": error}},
        }),
    )
}

fn submit(
    state: &mut State,
    encoded: &str,
    wait_until: TxExecutionStatus,
) -> Result<Value, RpcFailure> {
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|e| parse_error(format!("Failed to decode transaction: {e}")))?;
    let signed = SignedTransaction::from_borsh(&bytes)
        .map_err(|e| parse_error(format!("Failed to decode transaction: {e}")))?;
    let hash = signed.hash().to_string();
    // A node answers a resubmitted transaction with its outcome.
    if let Some(outcome) = state.outcomes.get(&hash) {
        return Ok(answer(outcome.clone(), wait_until));
    }
    check(state, &signed)?;
    let outcome = execute(state, &signed);
    state.outcomes.insert(hash, outcome.clone());
    state.transactions.push(signed);
    Ok(answer(outcome, wait_until))
}

/// The full outcome, or only the status when `wait_until` asked for less
/// than execution (nearcore sends no outcome then).
fn answer(mut outcome: Value, wait_until: TxExecutionStatus) -> Value {
    use TxExecutionStatus::{Included, IncludedFinal, None};
    if matches!(wait_until, None | Included | IncludedFinal) {
        return json!({"final_execution_status": wait_until});
    }
    outcome["final_execution_status"] = json!(wait_until);
    outcome
}

/// The checks nearcore makes before accepting a transaction, in its order.
fn check(state: &mut State, signed: &SignedTransaction) -> Result<(), RpcFailure> {
    let tx = &signed.transaction;
    let public_key = tx.public_key.to_string();
    let known_block = (0..=state.height).any(|h| state.block_hash(h) == tx.block_hash.to_string());
    if !known_block {
        return Err(invalid_tx(json!("Expired")));
    }
    let Some(signer) = state.accounts.get_mut(&tx.signer_id) else {
        return Err(invalid_tx(
            json!({"SignerDoesNotExist": {"signer_id": tx.signer_id}}),
        ));
    };
    let Some(key) = signer.keys.get_mut(&public_key) else {
        return Err(invalid_tx(
            json!({"InvalidAccessKeyError": {"AccessKeyNotFound": {
                "account_id": tx.signer_id,
                "public_key": public_key,
            }}}),
        ));
    };
    if !signed.verify() {
        return Err(invalid_tx(json!("InvalidSignature")));
    }
    if tx.nonce <= key.nonce {
        return Err(invalid_tx(json!({"InvalidNonce": {
            "tx_nonce": tx.nonce,
            "ak_nonce": key.nonce,
        }})));
    }
    let cost = deposits(&tx.actions);
    if signer.amount < cost {
        return Err(invalid_tx(json!({"NotEnoughBalance": {
            "signer_id": tx.signer_id,
            "balance": signer.amount.to_string(),
            "cost": cost.to_string(),
        }})));
    }
    Ok(())
}

fn deposits(actions: &[Action]) -> u128 {
    actions
        .iter()
        .map(|action| match action {
            Action::Transfer { deposit } | Action::FunctionCall { deposit, .. } => *deposit,
            _ => 0,
        })
        .sum()
}

/// Applies an accepted transaction: the nonce and the deposits leave the
/// signer in the next block, the receipt runs in the one after.
fn execute(state: &mut State, signed: &SignedTransaction) -> Value {
    let tx = &signed.transaction;
    let hash = signed.hash().to_string();
    let cost = deposits(&tx.actions);
    let signer = state
        .accounts
        .get_mut(&tx.signer_id)
        .expect("checked: the signer exists");
    let key = signer
        .keys
        .get_mut(&tx.public_key.to_string())
        .expect("checked: the key exists");
    key.nonce = tx.nonce;
    key.shown_nonce = None;
    signer.amount -= cost;
    state.height += 1;
    let tx_block = state.block_hash(state.height);
    state.height += 1;
    let receipt_block = state.block_hash(state.height);
    let receipt_id = fake_hash(16, state.transactions.len() as u64);

    let (status, logs) = run_receipt(state, tx);
    let refund_to = if status.get("Failure").is_some() {
        &tx.signer_id
    } else {
        &tx.receiver_id
    };
    if let Some(account) = state.accounts.get_mut(refund_to) {
        account.amount += cost;
    }

    let outcome = |id: &str, block: &str, executor: &AccountId, gas: u64, logs, status| {
        json!({
            "proof": [],
            "block_hash": block,
            "id": id,
            "outcome": {
                "logs": logs,
                "receipt_ids": if id == hash { vec![receipt_id.clone()] } else { vec![] },
                "gas_burnt": gas,
                "tokens_burnt": (gas as u128 * GAS_PRICE).to_string(),
                "executor_id": executor,
                "status": status,
                "metadata": {"version": 3, "gas_profile": []},
            },
        })
    };
    json!({
        "final_execution_status": "FINAL",
        "status": status,
        "transaction": {
            "signer_id": tx.signer_id,
            "public_key": tx.public_key,
            "nonce": tx.nonce,
            "receiver_id": tx.receiver_id,
            "actions": tx.actions.iter().map(action_view).collect::<Vec<_>>(),
            "priority_fee": 0,
            "signature": signed.signature.to_string(),
            "hash": hash,
        },
        "transaction_outcome": outcome(
            &hash,
            &tx_block,
            &tx.signer_id,
            TX_GAS,
            Vec::<String>::new(),
            json!({"SuccessReceiptId": receipt_id}),
        ),
        "receipts_outcome": [outcome(
            &receipt_id,
            &receipt_block,
            &tx.receiver_id,
            RECEIPT_GAS,
            logs,
            status.clone(),
        )],
    })
}

/// Runs the receipt's actions: its status (`SuccessValue` of the last
/// function call's return, or the first failure) and its logs.
fn run_receipt(state: &State, tx: &crate::Transaction) -> (Value, Vec<String>) {
    let mut logs = Vec::new();
    let failure = |index: usize, kind: Value| json!({"Failure": {"ActionError": {"index": index, "kind": kind}}});
    let Some(receiver) = state.accounts.get(&tx.receiver_id) else {
        let kind = json!({"AccountDoesNotExist": {"account_id": tx.receiver_id}});
        return (failure(0, kind), logs);
    };
    let mut value = Vec::new();
    for (index, action) in tx.actions.iter().enumerate() {
        match action {
            Action::Transfer { .. } => value.clear(),
            Action::FunctionCall {
                method_name,
                args,
                gas,
                deposit,
            } => {
                let call_error = |e: Value| failure(index, json!({"FunctionCallError": e}));
                if !receiver.has_code {
                    let e = json!({"CompilationError": {"CodeDoesNotExist": {"account_id": tx.receiver_id}}});
                    return (call_error(e), logs);
                }
                let Some(call) = state
                    .calls
                    .get(&(tx.receiver_id.clone(), method_name.clone()))
                else {
                    return (
                        call_error(json!({"MethodResolveError": "MethodNotFound"})),
                        logs,
                    );
                };
                let outcome = call(&CallContext {
                    signer_id: tx.signer_id.clone(),
                    receiver_id: tx.receiver_id.clone(),
                    method_name: method_name.clone(),
                    args: serde_json::from_slice(args).unwrap_or(Value::Null),
                    raw_args: args.clone(),
                    gas: *gas,
                    deposit: *deposit,
                });
                logs.extend(outcome.logs);
                match outcome.result {
                    ViewOutcome::Return(bytes) => value = bytes,
                    ViewOutcome::Panic(message) => {
                        let e = json!({"ExecutionError": format!("Smart contract panicked: {message}")});
                        return (call_error(e), logs);
                    }
                }
            }
            other => {
                let kind = json!({"UnsupportedByFakeChain": format!("{other:?}")});
                return (failure(index, kind), logs);
            }
        }
    }
    (json!({"SuccessValue": STANDARD.encode(value)}), logs)
}

/// nearcore's `ActionView` JSON.
fn action_view(action: &Action) -> Value {
    match action {
        Action::CreateAccount => json!("CreateAccount"),
        Action::DeployContract { code } => {
            json!({"DeployContract": {"code": STANDARD.encode(crate::CryptoHash::hash(code).0)}})
        }
        Action::FunctionCall {
            method_name,
            args,
            gas,
            deposit,
        } => json!({"FunctionCall": {
            "method_name": method_name,
            "args": STANDARD.encode(args),
            "gas": gas,
            "deposit": deposit.to_string(),
        }}),
        Action::Transfer { deposit } => json!({"Transfer": {"deposit": deposit.to_string()}}),
        Action::Stake { stake, public_key } => {
            json!({"Stake": {"stake": stake.to_string(), "public_key": public_key}})
        }
        Action::AddKey {
            public_key,
            access_key,
        } => json!({"AddKey": {
            "public_key": public_key,
            "access_key": {"nonce": access_key.nonce, "permission": access_key.permission},
        }}),
        Action::DeleteKey { public_key } => json!({"DeleteKey": {"public_key": public_key}}),
        Action::DeleteAccount { beneficiary_id } => {
            json!({"DeleteAccount": {"beneficiary_id": beneficiary_id}})
        }
    }
}
