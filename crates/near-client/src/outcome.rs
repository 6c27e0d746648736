//! What sending a transaction returns: nearcore's `FinalExecutionOutcomeView`
//! (plus `final_execution_status` from `send_tx` and `tx`), with the fields
//! OutLayer reads. Unknown fields are ignored.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use outlayer_types::{AccountId, U128};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result};

/// How far a transaction must have got before `send_tx` / `tx` answer
/// (`wait_until`), and how far it got (`final_execution_status`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TxExecutionStatus {
    /// Not yet in a block (the answer carries no outcome).
    None,
    /// In a block that may not be final (no outcome).
    Included,
    /// In a block, and every non-refund receipt executed; blocks may not be
    /// final. nearcore's default.
    #[default]
    ExecutedOptimistic,
    /// In a final block (no outcome).
    IncludedFinal,
    /// In a final block, and every non-refund receipt executed.
    Executed,
    /// Every receipt, refunds included, executed in final blocks.
    Final,
}

/// The overall result: that of the last receipt in the transaction's chain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FinalExecutionStatus {
    /// Absent from answers that carry no outcome (`wait_until` `NONE` or
    /// `INCLUDED*`).
    #[default]
    NotStarted,
    Started,
    /// nearcore's `TxExecutionError` JSON, e.g. `{"ActionError": {"index":
    /// 0, "kind": {"FunctionCallError": {"ExecutionError": "Smart contract
    /// panicked: ..."}}}}`.
    Failure(Value),
    /// Base64 of the returned bytes.
    SuccessValue(String),
}

/// One transaction or receipt outcome's status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecutionStatus {
    #[default]
    Unknown,
    Failure(Value),
    /// Base64 of the returned bytes.
    SuccessValue(String),
    /// The outcome continues in this receipt.
    SuccessReceiptId(String),
}

/// The transaction as the node echoes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionView {
    pub signer_id: AccountId,
    pub public_key: String,
    pub nonce: u64,
    pub receiver_id: AccountId,
    /// nearcore's `ActionView`s, e.g. `{"FunctionCall": {"method_name",
    /// "args" (base64), "gas", "deposit"}}` or `"CreateAccount"`.
    #[serde(default)]
    pub actions: Vec<Value>,
    pub signature: String,
    /// Base58.
    pub hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionOutcomeWithId {
    /// The transaction hash (for `transaction_outcome`) or the receipt id.
    pub id: String,
    pub block_hash: String,
    pub outcome: ExecutionOutcome,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionOutcome {
    #[serde(default)]
    pub logs: Vec<String>,
    #[serde(default)]
    pub receipt_ids: Vec<String>,
    pub gas_burnt: u64,
    /// yoctoNEAR.
    pub tokens_burnt: U128,
    pub executor_id: AccountId,
    pub status: ExecutionStatus,
}

/// A transaction's outcome as `send_tx`, `broadcast_tx_commit` and `tx`
/// return it. When `wait_until` asked for less than execution
/// (`NONE`/`INCLUDED*`) only `final_execution_status` is set: `status` is
/// then `NotStarted` and the rest empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxOutcome {
    /// Absent from `broadcast_tx_commit` on older nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_execution_status: Option<TxExecutionStatus>,
    #[serde(default)]
    pub status: FinalExecutionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<TransactionView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_outcome: Option<ExecutionOutcomeWithId>,
    #[serde(default)]
    pub receipts_outcome: Vec<ExecutionOutcomeWithId>,
}

impl TxOutcome {
    /// The transaction hash (base58), when the answer carries the transaction.
    pub fn hash(&self) -> Option<&str> {
        self.transaction
            .as_ref()
            .map(|t| t.hash.as_str())
            .or_else(|| self.transaction_outcome.as_ref().map(|o| o.id.as_str()))
    }

    pub fn is_success(&self) -> bool {
        matches!(self.status, FinalExecutionStatus::SuccessValue(_))
    }

    /// The failure's `TxExecutionError` JSON, if the transaction failed.
    pub fn failure(&self) -> Option<&Value> {
        match &self.status {
            FinalExecutionStatus::Failure(error) => Some(error),
            _ => None,
        }
    }

    /// The bytes the transaction returned. [`Error::TxFailed`] if it failed,
    /// [`Error::TxPending`] if the answer has no result yet.
    pub fn success_bytes(&self) -> Result<Vec<u8>> {
        match &self.status {
            FinalExecutionStatus::SuccessValue(encoded) => {
                STANDARD.decode(encoded).map_err(|e| Error::Decode {
                    method: "tx".into(),
                    message: format!("SuccessValue is not base64: {e}"),
                })
            }
            FinalExecutionStatus::Failure(failure) => Err(Error::TxFailed {
                failure: failure.clone(),
            }),
            FinalExecutionStatus::NotStarted | FinalExecutionStatus::Started => {
                Err(Error::TxPending {
                    final_execution_status: self.final_execution_status,
                })
            }
        }
    }

    /// The returned value parsed as JSON (errors as [`Self::success_bytes`],
    /// or [`Error::Decode`]). An empty return value parses as JSON `null`,
    /// so `success_value::<()>()` accepts a method that returns nothing.
    pub fn success_value<T: DeserializeOwned>(&self) -> Result<T> {
        let bytes = self.success_bytes()?;
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        serde_json::from_slice(bytes).map_err(|e| Error::Decode {
            method: "tx".into(),
            message: format!("return value is not the expected JSON: {e}"),
        })
    }

    /// Every log line, in outcome order: the transaction's, then each
    /// receipt's.
    pub fn logs(&self) -> impl Iterator<Item = &str> {
        self.transaction_outcome
            .iter()
            .chain(&self.receipts_outcome)
            .flat_map(|o| o.outcome.logs.iter().map(String::as_str))
    }

    /// Gas burnt by the transaction and all its receipts.
    pub fn gas_burnt(&self) -> u64 {
        self.transaction_outcome
            .iter()
            .chain(&self.receipts_outcome)
            .map(|o| o.outcome.gas_burnt)
            .sum()
    }

    /// yoctoNEAR burnt by the transaction and all its receipts.
    pub fn tokens_burnt(&self) -> u128 {
        self.transaction_outcome
            .iter()
            .chain(&self.receipts_outcome)
            .map(|o| o.outcome.tokens_burnt.0)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A `send_tx` answer as nearcore writes it, with the fields we ignore
    /// (`proof`, `metadata`, `priority_fee`) left in.
    #[test]
    fn parses_nearcore_outcomes() {
        let answer = json!({
            "final_execution_status": "EXECUTED_OPTIMISTIC",
            "receipts_outcome": [{
                "block_hash": "7qn4BjmMD4QbyVva5RJqoJmRKJZBpZv5ozphGQQM5wB2",
                "id": "FhwVxTi2QFvv8yLN8SjsWnUe6iGsnfA9U1Gm7J2zWgKs",
                "outcome": {
                    "executor_id": "outlayer.testnet",
                    "gas_burnt": 3_000_000_000_000u64,
                    "logs": ["EVENT_JSON:{\"event\":\"resolved\"}"],
                    "metadata": {"gas_profile": [], "version": 3},
                    "receipt_ids": ["B4v5HABNhc5kZzBa8R3BNStrYKkW1gv7sTGpfWdaB2hS"],
                    "status": {"SuccessValue": "eyJvayI6dHJ1ZX0="},
                    "tokens_burnt": "300000000000000000000"
                },
                "proof": [{"direction": "Left", "hash": "2o6yxM8aJ5fRMrb4wyh1EuUqHMQEqGAxwEePnC3hCL7e"}]
            }, {
                "block_hash": "8HGQ4pAWHfqAGbL1pLprXVWXjUmrBfDrYhbk8tQdxX7t",
                "id": "B4v5HABNhc5kZzBa8R3BNStrYKkW1gv7sTGpfWdaB2hS",
                "outcome": {
                    "executor_id": "worker.testnet",
                    "gas_burnt": 223_182_562_500u64,
                    "logs": [],
                    "metadata": {"gas_profile": [], "version": 3},
                    "receipt_ids": [],
                    "status": {"SuccessValue": ""},
                    "tokens_burnt": "0"
                },
                "proof": []
            }],
            "status": {"SuccessValue": "eyJvayI6dHJ1ZX0="},
            "transaction": {
                "actions": [{"FunctionCall": {"args": "e30=", "deposit": "0", "gas": 30_000_000_000_000u64, "method_name": "resolve"}}],
                "hash": "ASS7oYwGiem9HaNwJe6vS2kznx2CxueKDvU9BAYJRjNR",
                "nonce": 108_473_000_001u64,
                "priority_fee": 0,
                "public_key": "ed25519:Anu7LYDfpLtkP7E16LT9imXF694BdQaa9ufVkQiwTQxC",
                "receiver_id": "outlayer.testnet",
                "signature": "ed25519:3s1dvZdQtcAjBksMHFrysqvF63wnyMHPA4owNQmCJZ2EBakZEKdtMsLqrHdKJ5XGpbEMmdA8Gsy3ja7AhRFVahhT",
                "signer_id": "worker.testnet"
            },
            "transaction_outcome": {
                "block_hash": "7qn4BjmMD4QbyVva5RJqoJmRKJZBpZv5ozphGQQM5wB2",
                "id": "ASS7oYwGiem9HaNwJe6vS2kznx2CxueKDvU9BAYJRjNR",
                "outcome": {
                    "executor_id": "worker.testnet",
                    "gas_burnt": 308_059_500_000u64,
                    "logs": [],
                    "metadata": {"gas_profile": null, "version": 1},
                    "receipt_ids": ["FhwVxTi2QFvv8yLN8SjsWnUe6iGsnfA9U1Gm7J2zWgKs"],
                    "status": {"SuccessReceiptId": "FhwVxTi2QFvv8yLN8SjsWnUe6iGsnfA9U1Gm7J2zWgKs"},
                    "tokens_burnt": "30805950000000000000"
                },
                "proof": []
            }
        });
        let outcome: TxOutcome = serde_json::from_value(answer).unwrap();
        assert_eq!(
            outcome.final_execution_status,
            Some(TxExecutionStatus::ExecutedOptimistic)
        );
        assert_eq!(
            outcome.hash(),
            Some("ASS7oYwGiem9HaNwJe6vS2kznx2CxueKDvU9BAYJRjNR")
        );
        assert_eq!(
            outcome.success_value::<Value>().unwrap(),
            json!({"ok": true})
        );
        assert_eq!(
            outcome.logs().collect::<Vec<_>>(),
            ["EVENT_JSON:{\"event\":\"resolved\"}"]
        );
        assert_eq!(
            outcome.gas_burnt(),
            3_000_000_000_000 + 223_182_562_500 + 308_059_500_000
        );
        assert_eq!(
            outcome.tokens_burnt(),
            300_000_000_000_000_000_000 + 30_805_950_000_000_000_000
        );
        assert_eq!(outcome.transaction.as_ref().unwrap().nonce, 108_473_000_001);
        assert_eq!(
            outcome.receipts_outcome[1].outcome.executor_id.as_str(),
            "worker.testnet"
        );

        // `wait_until: NONE` answers only the level reached.
        let none: TxOutcome =
            serde_json::from_value(json!({"final_execution_status": "NONE"})).unwrap();
        assert_eq!(none.status, FinalExecutionStatus::NotStarted);
        assert_eq!(none.logs().count(), 0);
        assert!(matches!(
            none.success_bytes(),
            Err(Error::TxPending {
                final_execution_status: Some(TxExecutionStatus::None)
            })
        ));
        // `Started` and a failure.
        let started: TxOutcome = serde_json::from_value(json!({"status": "Started"})).unwrap();
        assert_eq!(started.status, FinalExecutionStatus::Started);
        let failed: TxOutcome = serde_json::from_value(
            json!({"status": {"Failure": {"ActionError": {"index": 0, "kind": {"FunctionCallError": {"ExecutionError": "Smart contract panicked: x"}}}}}}),
        )
        .unwrap();
        assert_eq!(
            failed.failure().unwrap()["ActionError"]["kind"]["FunctionCallError"]["ExecutionError"],
            "Smart contract panicked: x"
        );
        assert_eq!(
            serde_json::to_value(TxExecutionStatus::IncludedFinal).unwrap(),
            json!("INCLUDED_FINAL")
        );
    }
}
