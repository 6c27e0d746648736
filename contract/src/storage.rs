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
}

/// The state layout. Append a variant for each new layout; `migrate`
/// converts the old ones.
#[near(serializers = [borsh])]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateVersion {
    V1,
}

impl StateVersion {
    pub fn number(self) -> u32 {
        match self {
            Self::V1 => 1,
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
    pub fn to_view(&self, pending_requests: u64) -> ContractStats {
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
        }
    }

    /// Fees the owner may still withdraw.
    pub fn withdrawable_fees(&self) -> u128 {
        self.total_charged - self.fees_withdrawn
    }
}
