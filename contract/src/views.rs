//! Read-only views for workers, the CLI and the dashboard.

use near_sdk::near;
use outlayer_types::{ContractConfig, ContractStats, RequestView};

use crate::{
    Contract, ContractExt, LARGE_INPUT_BYTES, MIN_REQUEST_GAS, STALE_AFTER_BLOCKS,
    YIELD_TIMEOUT_BLOCKS,
};

/// Page size of `get_pending_requests` when none is given, and its maximum.
pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 100;

#[near]
impl Contract {
    pub fn get_config(&self) -> ContractConfig {
        ContractConfig {
            owner_id: self.owner_id.clone(),
            operator_id: self.operator_id.clone(),
            paused: self.paused,
            pricing: self.pricing,
            max_limits: self.max_limits,
            yield_timeout_blocks: YIELD_TIMEOUT_BLOCKS,
            stale_after_blocks: STALE_AFTER_BLOCKS,
            min_request_tgas: MIN_REQUEST_GAS.as_tgas(),
            large_input_bytes: LARGE_INPUT_BYTES,
            state_version: self.version.number(),
        }
    }

    pub fn get_stats(&self) -> ContractStats {
        self.stats
            .to_view(u64::from(self.requests.len()), self.unclaimed_total)
    }

    /// A pending request; `None` once settled.
    pub fn get_request(&self, request_id: u64) -> Option<RequestView> {
        self.requests.get(&request_id).map(|r| self.view(r))
    }

    /// The input of a pending request whose input was too large for its event.
    pub fn get_request_input(&self, request_id: u64) -> Option<String> {
        self.large_inputs.get(&request_id).cloned()
    }

    /// Pending requests, a page at a time. The order is the store's: oldest
    /// first until a settlement moves the last entry into the freed slot.
    pub fn get_pending_requests(
        &self,
        from_index: Option<u32>,
        limit: Option<u32>,
    ) -> Vec<RequestView> {
        let limit = limit.unwrap_or(DEFAULT_PAGE).min(MAX_PAGE) as usize;
        self.requests
            .values()
            .skip(from_index.unwrap_or(0) as usize)
            .take(limit)
            .map(|r| self.view(r))
            .collect()
    }
}

impl Contract {
    fn view(&self, request: &crate::Request) -> RequestView {
        RequestView {
            request: request.to_wire(),
            resolved: request.resolved,
            output_submitted: self.outputs.contains_key(&request.context.request_id),
        }
    }
}
