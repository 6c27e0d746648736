//! The OutLayer NEAR contract: the only part a NEAR developer calls directly,
//! and the part that holds users' money.
//!
//! A request pays up front and waits on a NEAR yield ([`requests`]); the
//! operator's worker resumes it with the result; the yield's callback is the
//! single place money is settled ([`settlement`]). Secrets are stored
//! encrypted with storage staking ([`secrets`]); prices and caps
//! ([`pricing`]), the owner's controls ([`admin`]) and read-only views
//! ([`views`]) complete the API. Every JSON shape comes from `outlayer-types`.

pub mod admin;
pub mod events;
pub mod pricing;
pub mod refunds;
pub mod requests;
pub mod secrets;
pub mod settlement;
pub mod storage;
pub mod views;

#[cfg(test)]
mod tests;

use near_sdk::store::{IterableMap, LookupMap};
use near_sdk::{AccountId, Gas, PanicOnDefault, env, near};
use outlayer_types::{MaxLimits, Pricing};

pub use requests::Request;
pub use secrets::{SecretEntry, SecretId, SecretKey};
pub use storage::{StateVersion, Stats, StorageKey};

/// Gas a caller must attach to `request_execution`: enough for the call and
/// for the settlement callback, which receives the unused part.
pub const MIN_REQUEST_GAS: Gas = Gas::from_tgas(100);
/// Gas reserved for `on_execution_response`; it also gets a share of the rest.
pub const CALLBACK_GAS: Gas = Gas::from_tgas(30);
/// nearcore times a yield out after this many blocks (protocol constant).
pub const YIELD_TIMEOUT_BLOCKS: u64 = 200;
/// A request's caller may cancel it from this many blocks on: only after the
/// yield could have timed out, so a cancel never races a live settlement.
pub const STALE_AFTER_BLOCKS: u64 = 300;
// Sizes services must respect too (large inputs, resume payload, error
// messages) live in outlayer-types, defined once.
pub use outlayer_types::limits::{LARGE_INPUT_BYTES, MAX_ERROR_BYTES, MAX_YIELD_PAYLOAD_BYTES};

#[near(contract_state)]
#[derive(PanicOnDefault)]
pub struct Contract {
    /// First field, so a migration can tell the layout from the first byte.
    version: StateVersion,
    owner_id: AccountId,
    operator_id: AccountId,
    paused: bool,
    pricing: Pricing,
    max_limits: MaxLimits,
    next_request_id: u64,
    /// Pending requests: from `request_execution` to settlement.
    requests: IterableMap<u64, Request>,
    /// Inputs of at least [`LARGE_INPUT_BYTES`], read by workers with `get_request_input`.
    large_inputs: LookupMap<u64, String>,
    /// Outputs too large for a resume payload (an `ExecutionOutput` as JSON).
    outputs: LookupMap<u64, String>,
    secrets: LookupMap<SecretKey, SecretEntry>,
    /// Each account's profiles, for `list_user_secrets`.
    user_secrets: LookupMap<AccountId, Vec<SecretId>>,
    stats: Stats,
    /// Money whose transfer failed, by the account it was for
    /// ([`refunds`]); `unclaimed_total` is their sum.
    unclaimed: LookupMap<AccountId, u128>,
    unclaimed_total: u128,
}

#[near]
impl Contract {
    #[init]
    pub fn new(owner_id: AccountId, operator_id: Option<AccountId>) -> Self {
        Self {
            version: StateVersion::V2,
            operator_id: operator_id.unwrap_or_else(|| owner_id.clone()),
            owner_id,
            paused: false,
            pricing: Pricing::default(),
            max_limits: MaxLimits::default(),
            next_request_id: 0,
            requests: IterableMap::new(StorageKey::Requests),
            large_inputs: LookupMap::new(StorageKey::LargeInputs),
            outputs: LookupMap::new(StorageKey::Outputs),
            secrets: LookupMap::new(StorageKey::Secrets),
            user_secrets: LookupMap::new(StorageKey::UserSecrets),
            stats: Stats::default(),
            unclaimed: LookupMap::new(StorageKey::Unclaimed),
            unclaimed_total: 0,
        }
    }

    /// Run after deploying new code (in the same batch, by the contract
    /// account): reads the stored layout and converts it to the current one.
    /// The first byte of the state is the layout version.
    #[private]
    #[init(ignore_state)]
    pub fn migrate() -> Self {
        let bytes =
            env::storage_read(b"STATE").unwrap_or_else(|| env::panic_str("no state to migrate"));
        let version: StateVersion = near_sdk::borsh::from_slice(&bytes[..1])
            .unwrap_or_else(|_| env::panic_str("unknown state layout"));
        match version {
            StateVersion::V1 => {
                let old: storage::ContractV1 = near_sdk::borsh::from_slice(&bytes)
                    .unwrap_or_else(|_| env::panic_str("state is not layout 1"));
                old.into_current()
            }
            StateVersion::V2 => near_sdk::borsh::from_slice(&bytes)
                .unwrap_or_else(|_| env::panic_str("state is not layout 2")),
        }
    }
}
