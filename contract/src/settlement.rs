//! Settlement: the only place a request's money moves. The yield callback,
//! a stale cancel and an emergency cancel all end in [`Contract::finish`],
//! which removes the request first, so nothing can settle it twice.

use near_sdk::serde_json::{self, Value};
use near_sdk::{PromiseError, env, near};
use outlayer_types::{
    ExecutionCompleted, ExecutionOutput, ExecutionResponse, ResourceMetrics, Settlement, U128,
};

use crate::{Contract, ContractExt};

/// How a request ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The program ran; charged for what it used.
    Succeeded(ResourceMetrics),
    /// The worker reported a failure; charged the base fee.
    Failed {
        error: String,
        used: ResourceMetrics,
    },
    /// No response within the yield window; charged the base fee.
    TimedOut,
    /// The caller cancelled a request that never settled; charged the base fee.
    CancelledStale,
    /// The owner cancelled; nothing charged.
    CancelledByOwner,
}

/// The failure reasons the contract itself writes into `execution_completed`.
pub const TIMEOUT_ERROR: &str = "timeout: no response within the yield window";
pub const STALE_ERROR: &str = "cancelled: stale request";
pub const OWNER_CANCEL_ERROR: &str = "cancelled by the owner";
pub const DEFAULT_FAILURE_ERROR: &str = "execution failed";

#[near]
impl Contract {
    /// The yield's callback: runs once per request, with the operator's
    /// response or, after the yield window, a `PromiseError`. Returns the
    /// output to the original caller (text as a string, JSON as itself,
    /// bytes as base64), or `null` when the execution did not succeed.
    #[private]
    pub fn on_execution_response(
        &mut self,
        request_id: u64,
        #[callback_result] response: Result<ExecutionResponse, PromiseError>,
    ) -> Option<Value> {
        if !self.requests.contains_key(&request_id) {
            // Cancelled (and refunded) while its yield was still open.
            env::log_str(&format!("request {request_id} was already settled"));
            return None;
        }
        let stored_output = self.outputs.get(&request_id).cloned();
        match response {
            Ok(response) if response.success => {
                let output = response.output.or_else(|| {
                    stored_output.map(|json| {
                        serde_json::from_str::<ExecutionOutput>(&json)
                            .expect("stored outputs are valid")
                    })
                });
                self.finish(request_id, Outcome::Succeeded(response.resources_used));
                Some(output.map_or(Value::Null, ExecutionOutput::into_json))
            }
            Ok(response) => {
                let error = response
                    .error
                    .unwrap_or_else(|| DEFAULT_FAILURE_ERROR.to_owned());
                self.finish(
                    request_id,
                    Outcome::Failed {
                        error,
                        used: response.resources_used,
                    },
                );
                None
            }
            // nearcore resolves a yield nobody resumed with an error once
            // its window has passed (`TooLong` cannot happen: resume
            // payloads are at most 1 KiB).
            Err(_) => {
                self.finish(request_id, Outcome::TimedOut);
                None
            }
        }
    }
}

impl Contract {
    /// Removes the request and what was kept for it, refunds the payer,
    /// counts and emits `execution_completed`.
    pub(crate) fn finish(&mut self, request_id: u64, outcome: Outcome) -> Settlement {
        let request = self
            .requests
            .remove(&request_id)
            .expect("finish is called for pending requests");
        self.large_inputs.remove(&request_id);
        self.outputs.remove(&request_id);

        let payment = request.payment;
        let pricing = request.pricing;
        let (settlement, error, used) = match outcome {
            Outcome::Succeeded(used) => {
                let settlement = pricing.settle_success(
                    &request.resource_limits,
                    request.max_compile_seconds,
                    &used,
                    payment,
                );
                self.stats.succeeded += 1;
                (settlement, None, used)
            }
            Outcome::Failed { error, used } => {
                self.stats.failed += 1;
                (pricing.settle_failure(payment), Some(error), used)
            }
            Outcome::TimedOut => {
                self.stats.timed_out += 1;
                let settlement = pricing.settle_failure(payment);
                (
                    settlement,
                    Some(TIMEOUT_ERROR.to_owned()),
                    ResourceMetrics::default(),
                )
            }
            Outcome::CancelledStale => {
                self.stats.cancelled += 1;
                let settlement = pricing.settle_failure(payment);
                (
                    settlement,
                    Some(STALE_ERROR.to_owned()),
                    ResourceMetrics::default(),
                )
            }
            Outcome::CancelledByOwner => {
                self.stats.cancelled += 1;
                let settlement = Settlement::new(0, payment);
                (
                    settlement,
                    Some(OWNER_CANCEL_ERROR.to_owned()),
                    ResourceMetrics::default(),
                )
            }
        };
        self.stats.total_charged += settlement.charged;
        self.stats.total_refunded += settlement.refunded;
        // The payer may be any account the caller named; if it cannot take
        // the refund, the caller who paid the deposit gets it.
        self.refund(
            request.payer_account_id,
            settlement.refunded,
            Some(request.context.predecessor_id.clone()),
            true,
        );
        crate::events::execution_completed(ExecutionCompleted {
            request_id,
            success: error.is_none(),
            error,
            resources_used: used,
            charged: U128(settlement.charged),
            refunded: U128(settlement.refunded),
        });
        settlement
    }
}
