//! Prices and caps: set by the owner, quoted to callers. The arithmetic is
//! `outlayer_types::Pricing`, shared with the services.

use near_sdk::{env, near};
use outlayer_types::{MaxLimits, Pricing, ResourceLimits, U128};

use crate::requests::input_storage_cost;
use crate::{Contract, ContractExt};

#[near]
impl Contract {
    /// New prices apply to new requests; pending ones keep the prices they
    /// were made at. Refused if the largest allowed request would overflow.
    #[payable]
    pub fn set_pricing(&mut self, pricing: Pricing) {
        self.assert_owner();
        if let Err(e) = self.max_limits.check_with_pricing(&pricing) {
            env::panic_str(&format!("invalid pricing: {e}"));
        }
        self.pricing = pricing;
    }

    /// New caps apply to new requests. Refused if the largest allowed
    /// request would overflow at the current prices.
    #[payable]
    pub fn set_max_limits(&mut self, max_limits: MaxLimits) {
        self.assert_owner();
        if let Err(e) = max_limits.check_with_pricing(&self.pricing) {
            env::panic_str(&format!("invalid max_limits: {e}"));
        }
        self.max_limits = max_limits;
    }

    pub fn get_pricing(&self) -> Pricing {
        self.pricing
    }

    pub fn get_max_limits(&self) -> MaxLimits {
        self.max_limits
    }

    /// The deposit `request_execution` needs: the worst-case cost for these
    /// limits (the defaults when none are given), build time included, plus
    /// the storage of `input_bytes` of input (plus the code of an inline
    /// JavaScript source), which is always refunded.
    pub fn estimate_execution_cost(
        &self,
        resource_limits: Option<ResourceLimits>,
        input_bytes: Option<u64>,
    ) -> U128 {
        let limits = resource_limits.unwrap_or_default();
        if let Err(e) = self.max_limits.check(&limits) {
            env::panic_str(&format!("invalid resource_limits: {e}"));
        }
        U128(self.estimate(&limits) + input_storage_cost(input_bytes.unwrap_or(0)))
    }
}
