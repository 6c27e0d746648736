//! A small NEAR JSON-RPC client: node `status`, `block`, the `query` views
//! OutLayer reads (`view_account`, `view_access_key`, `call_function`), and
//! signed transactions (`send_tx`, `broadcast_tx_commit`, `tx`).
//!
//! Every call has a bounded timeout and fails with a typed [`Error`] that
//! tells a missing account from a panicking view from a refused transaction
//! from an unreachable node.
//!
//! Transactions: a [`Signer`] holds an account's ED25519 key (from a key
//! string, near-cli's credentials file, or generated); [`transaction`] has
//! nearcore's Borsh layout of [`Transaction`] and [`SignedTransaction`];
//! [`NearRpc::call_function_tx`] and [`NearRpc::transfer`] fetch the nonce and
//! a final block hash, sign, send, retry once on a refused nonce, and return
//! the [`TxOutcome`].
//!
//! [`BlockStream`] follows the block stream (`docs/block-stream.md`) and
//! picks the contract's events out of receipt outcomes.
//!
//! Its tests against a chain are in `outlayer-devchain` (`tests/near_client_*.rs`),
//! which runs nearcore's own code and depends on this crate.

mod client;
mod error;
mod outcome;
mod signer;
pub mod stream;
pub mod transaction;
mod tx;
mod views;

pub use client::{DEFAULT_TIMEOUT, NearRpc};
pub use error::{Error, InvalidNonce, Result};
pub use outcome::{
    ExecutionOutcome, ExecutionOutcomeWithId, ExecutionStatus, FinalExecutionStatus,
    TransactionView, TxExecutionStatus, TxOutcome,
};
pub use signer::{KeyError, Signer};
pub use stream::{BlockStream, ReceiptOutcome, StreamBlock};
pub use transaction::{Action, CryptoHash, PublicKey, Signature, SignedTransaction, Transaction};
pub use tx::DEFAULT_WAIT_UNTIL;
pub use views::{
    AccessKeyPermission, AccessKeyView, AccountView, BlockHeaderView, BlockReference, BlockView,
    CallResult, ChunkHeaderView, Finality, StatusView, SyncInfo, U64String,
};
