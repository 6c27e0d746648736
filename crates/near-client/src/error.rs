//! What can go wrong talking to a NEAR node, by cause: callers decide between
//! "the answer is no" (unknown account, a view that panicked) and "no answer"
//! (timeout, transport, a node error).

use std::time::Duration;

use serde_json::Value;

use crate::outcome::TxExecutionStatus;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The node did not answer within the client's timeout.
    #[error("NEAR RPC {method} timed out after {after:?}")]
    Timeout { method: String, after: Duration },
    /// Connecting, sending or reading failed.
    #[error("NEAR RPC {method} failed: {message}")]
    Transport { method: String, message: String },
    /// A non-200 HTTP status without a JSON-RPC error body.
    #[error("NEAR RPC {method} answered HTTP {status}")]
    Http { method: String, status: u16 },
    /// The answer was not the JSON we expected.
    #[error("NEAR RPC {method}: unexpected response: {message}")]
    Decode { method: String, message: String },
    #[error("account {account_id} does not exist")]
    UnknownAccount { account_id: String },
    #[error("access key {public_key} does not exist")]
    UnknownAccessKey { public_key: String },
    #[error("account {account_id} has no contract deployed")]
    NoContractCode { account_id: String },
    /// The view function failed (panicked, missing method, bad arguments).
    #[error("contract execution failed: {message}")]
    ContractExecution { message: String },
    #[error("block not found: {message}")]
    UnknownBlock { message: String },
    /// The node refused the transaction before executing it
    /// (`cause.name` `INVALID_TRANSACTION`). `error` is nearcore's
    /// `InvalidTxError` JSON, e.g. `{"InvalidNonce": {"tx_nonce": 5,
    /// "ak_nonce": 7}}`, `{"InvalidAccessKeyError": {"AccessKeyNotFound":
    /// {...}}}`, `"InvalidSignature"` or `"Expired"` (`Null` if the node sent
    /// none); see [`Error::invalid_nonce`].
    #[error("invalid transaction: {error}")]
    InvalidTransaction { error: Value, message: String },
    /// `tx` does not know this transaction (yet).
    #[error("transaction {tx_hash} is unknown to the node")]
    UnknownTransaction { tx_hash: String },
    /// The transaction executed and failed; `failure` is nearcore's
    /// `TxExecutionError` JSON (from [`crate::TxOutcome::success_value`]).
    #[error("transaction failed: {failure}")]
    TxFailed { failure: Value },
    /// The answer has no result yet (it was asked for with a `wait_until`
    /// short of execution, or execution has not finished).
    #[error("transaction has no result yet (status {final_execution_status:?})")]
    TxPending {
        final_execution_status: Option<TxExecutionStatus>,
    },
    /// Any other structured nearcore error: `name` (e.g. `HANDLER_ERROR`),
    /// `cause` = `cause.name` (e.g. `NO_SYNCED_BLOCKS`, `TIMEOUT_ERROR`),
    /// `info` = `cause.info`, and `data` as sent (`Null` when absent;
    /// boxed to keep `Error` small).
    #[error("NEAR RPC error {name}/{cause}: {message}")]
    Rpc {
        name: String,
        cause: String,
        message: String,
        info: Box<Value>,
        data: Box<Value>,
    },
}

/// nearcore's `InvalidTxError::InvalidNonce`: the transaction's nonce must
/// exceed the access key's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidNonce {
    pub tx_nonce: u64,
    pub ak_nonce: u64,
}

impl Error {
    /// True when the node gave no answer, so asking again may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Timeout { .. } | Self::Transport { .. } | Self::Http { .. }
        )
    }

    /// The nonces of an `InvalidNonce` refusal: sign again with a nonce
    /// above `ak_nonce`.
    pub fn invalid_nonce(&self) -> Option<InvalidNonce> {
        let Self::InvalidTransaction { error, .. } = self else {
            return None;
        };
        let nonces = error.get("InvalidNonce")?;
        Some(InvalidNonce {
            tx_nonce: nonces.get("tx_nonce")?.as_u64()?,
            ak_nonce: nonces.get("ak_nonce")?.as_u64()?,
        })
    }

    /// True when the node gave up waiting for a sent transaction
    /// (`TIMEOUT_ERROR`) or did not answer in time: the transaction may
    /// still execute, so look it up with `tx_status` before sending another.
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::Timeout { .. } => true,
            Self::Rpc { cause, .. } => cause == "TIMEOUT_ERROR",
            _ => false,
        }
    }
}
