//! The state layout's fixed parts: collection prefixes, the layout version
//! and the counters. Borsh variant order is the on-chain layout; the tests
//! freeze it.

use near_sdk::{BorshStorageKey, near};
use outlayer_types::{ContractStats, U128};

/// One prefix per collection. Append only: reordering moves every entry.
#[near(serializers = [borsh])]
#[derive(BorshStorageKey)]
pub enum StorageKey {
    Requests,
    LargeInputs,
    Outputs,
    Secrets,
    UserSecrets,
    Unclaimed,
}

/// The state layout. Append a variant for each new layout; `migrate`
/// converts the old ones.
#[near(serializers = [borsh])]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateVersion {
    V1,
    /// Adds money kept after failed transfers (`unclaimed`).
    V2,
}

impl StateVersion {
    pub fn number(self) -> u32 {
        match self {
            Self::V1 => 1,
            Self::V2 => 2,
        }
    }
}

/// Counters since deployment. Money in yoctoNEAR.
#[near(serializers = [borsh])]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub total_requests: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub cancelled: u64,
    pub total_charged: u128,
    pub total_refunded: u128,
    pub fees_withdrawn: u128,
}

impl Stats {
    pub fn to_view(&self, pending_requests: u64, unclaimed: u128) -> ContractStats {
        ContractStats {
            total_requests: self.total_requests,
            pending_requests,
            succeeded: self.succeeded,
            failed: self.failed,
            timed_out: self.timed_out,
            cancelled: self.cancelled,
            total_charged: U128(self.total_charged),
            total_refunded: U128(self.total_refunded),
            fees_withdrawn: U128(self.fees_withdrawn),
            unclaimed_refunds: U128(unclaimed),
        }
    }

    /// Fees the owner may still withdraw.
    pub fn withdrawable_fees(&self) -> u128 {
        self.total_charged - self.fees_withdrawn
    }
}

/// Layout 1 of the contract's state, for `migrate`.
#[near(serializers = [borsh])]
pub struct ContractV1 {
    pub version: StateVersion,
    pub owner_id: near_sdk::AccountId,
    pub operator_id: near_sdk::AccountId,
    pub paused: bool,
    pub pricing: outlayer_types::Pricing,
    pub max_limits: outlayer_types::MaxLimits,
    pub next_request_id: u64,
    pub requests: near_sdk::store::IterableMap<u64, crate::Request>,
    pub large_inputs: near_sdk::store::LookupMap<u64, String>,
    pub outputs: near_sdk::store::LookupMap<u64, String>,
    pub secrets: near_sdk::store::LookupMap<crate::SecretKey, crate::SecretEntry>,
    pub user_secrets: near_sdk::store::LookupMap<near_sdk::AccountId, Vec<crate::SecretId>>,
    pub stats: Stats,
}

impl ContractV1 {
    /// Layout 1 with nothing kept yet.
    pub fn into_current(self) -> crate::Contract {
        crate::Contract {
            version: StateVersion::V2,
            owner_id: self.owner_id,
            operator_id: self.operator_id,
            paused: self.paused,
            pricing: self.pricing,
            max_limits: self.max_limits,
            next_request_id: self.next_request_id,
            requests: self.requests,
            large_inputs: self.large_inputs,
            outputs: self.outputs,
            secrets: self.secrets,
            user_secrets: self.user_secrets,
            stats: self.stats,
            unclaimed: near_sdk::store::LookupMap::new(StorageKey::Unclaimed),
            unclaimed_total: 0,
        }
    }
}
