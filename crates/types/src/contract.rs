//! What the contract's views return, for the CLI, the dashboard and the
//! services that read them.

use near_account_id::AccountId;
use serde::{Deserialize, Serialize};

use crate::{AccessCondition, Accessor, ExecutionRequest, MaxLimits, Pricing, U128};

/// `get_config`: who runs the contract and on which terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractConfig {
    pub owner_id: AccountId,
    pub operator_id: AccountId,
    /// New requests are refused while paused; pending ones still settle.
    pub paused: bool,
    pub pricing: Pricing,
    pub max_limits: MaxLimits,
    /// Blocks after which the protocol times a yield out.
    pub yield_timeout_blocks: u64,
    /// Blocks after a request from which its caller may cancel it.
    pub stale_after_blocks: u64,
    /// Gas `request_execution` needs attached, in Tgas.
    pub min_request_tgas: u64,
    /// Inputs of at least this many bytes stay in state, not in the event.
    pub large_input_bytes: u32,
    /// Layout version of the contract's state.
    pub state_version: u32,
}

/// `get_stats`: counters since deployment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractStats {
    pub total_requests: u64,
    pub pending_requests: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub cancelled: u64,
    pub total_charged: U128,
    /// Refunds that reached an account (a failed one is taken back out).
    pub total_refunded: U128,
    pub fees_withdrawn: U128,
    /// Money whose transfer failed, kept for its owners to claim
    /// (`claim_refund`); never withdrawable as fees.
    pub unclaimed_refunds: U128,
}

/// `get_request` / `get_pending_requests`: a pending request as the worker
/// saw it in `execution_requested`, and how far its settlement got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestView {
    pub request: ExecutionRequest,
    /// The operator resumed the yield; the callback has not settled yet.
    pub resolved: bool,
    /// A large output waits in state for `resolve_execution`.
    pub output_submitted: bool,
}

/// `list_user_secrets`: one stored profile without its ciphertext.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretsSummary {
    pub accessor: Accessor,
    pub profile: String,
    pub owner: AccountId,
    pub access: AccessCondition,
    pub storage_deposit: U128,
    pub created_at: u64,
    pub updated_at: u64,
}
