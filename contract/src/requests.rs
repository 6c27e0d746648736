//! A request's life before settlement: `request_execution` takes the
//! payment and yields; the operator delivers the result with
//! `resolve_execution` (and `submit_execution_output` for large outputs);
//! the caller or the owner can cancel a request that never settled.

use near_sdk::serde_json::{self, json};
use near_sdk::{AccountId, GasWeight, Promise, YieldId, env, near, require};
use outlayer_types::{
    CodeSource, ExecutionContext, ExecutionOutput, ExecutionRequest, ExecutionResponse, Pricing,
    ResourceLimits, ResponseFormat, SecretsRef, U128, check_profile_name,
};

use crate::settlement::Outcome;
use crate::{
    CALLBACK_GAS, Contract, ContractExt, MAX_ERROR_BYTES, MAX_YIELD_PAYLOAD_BYTES, MIN_REQUEST_GAS,
    STALE_AFTER_BLOCKS,
};

/// A pending request as the contract keeps it until settlement.
#[near(serializers = [borsh])]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Resumes the yield whose callback settles this request.
    pub yield_id: YieldId,
    pub context: ExecutionContext,
    pub code_source: CodeSource,
    pub resource_limits: ResourceLimits,
    /// Inline input; large inputs are in `large_inputs` instead.
    pub input_data: Option<String>,
    pub input_in_state: bool,
    pub secrets_ref: Option<SecretsRef>,
    pub response_format: ResponseFormat,
    /// The deposit, in yoctoNEAR.
    pub payment: u128,
    pub payer_account_id: AccountId,
    /// Prices and build timeout at request time: the caller agreed to these,
    /// so a later `set_pricing` does not change what this request costs.
    pub pricing: Pricing,
    pub max_compile_seconds: u64,
    /// The operator resumed the yield; only the callback may settle now.
    pub resolved: bool,
}

impl Request {
    /// The `execution_requested` event's data (and the view of a request).
    pub fn to_wire(&self) -> ExecutionRequest {
        ExecutionRequest {
            context: self.context.clone(),
            code_source: self.code_source.clone(),
            resource_limits: self.resource_limits,
            input_data: self.input_data.clone(),
            input_in_state: self.input_in_state,
            secrets_ref: self.secrets_ref.clone(),
            response_format: self.response_format,
            payment: U128(self.payment),
            payer_account_id: self.payer_account_id.clone(),
            max_compile_seconds: Some(self.max_compile_seconds),
        }
    }
}

#[near]
impl Contract {
    /// Pays for and queues one execution. The deposit covers the worst-case
    /// cost and the storage of `input_data` while the request is pending
    /// (always refunded); see `estimate_execution_cost`. Returns the yield
    /// promise, so the caller receives the output from `on_execution_response`.
    #[payable]
    pub fn request_execution(
        &mut self,
        code_source: CodeSource,
        resource_limits: Option<ResourceLimits>,
        input_data: Option<String>,
        secrets_ref: Option<SecretsRef>,
        response_format: Option<ResponseFormat>,
        payer_account_id: Option<AccountId>,
    ) -> Promise {
        require!(!self.paused, "contract is paused: new requests are refused");
        let gas = env::prepaid_gas();
        if gas < MIN_REQUEST_GAS {
            env::panic_str(&format!(
                "attach at least {} Tgas (got {} Tgas)",
                MIN_REQUEST_GAS.as_tgas(),
                gas.as_tgas()
            ));
        }
        if let Err(e) = code_source.validate() {
            env::panic_str(&format!("invalid code_source: {e}"));
        }
        let limits = resource_limits.unwrap_or_default();
        if let Err(e) = self.max_limits.check(&limits) {
            env::panic_str(&format!("invalid resource_limits: {e}"));
        }
        let input_len = input_data.as_ref().map_or(0, String::len);
        let max_input = self.max_limits.max_input_bytes as usize;
        if input_len > max_input {
            env::panic_str(&format!(
                "input_data is {input_len} bytes, above the cap {max_input}"
            ));
        }
        if let Some(secrets) = &secrets_ref
            && let Err(e) = check_profile_name(&secrets.profile)
        {
            env::panic_str(&format!("invalid secrets_ref: {e}"));
        }
        let estimate = self.estimate(&limits);
        // Inline code stays in state with the request, like the input.
        let input_storage = input_storage_cost(input_len as u64 + code_source.inline_code_bytes());
        let required = estimate + input_storage;
        let payment = env::attached_deposit().as_yoctonear();
        if payment < required {
            env::panic_str(&format!(
                "attached deposit {payment} yoctoNEAR is below {required} (cost estimate {estimate} + input storage {input_storage}); missing {}",
                required - payment
            ));
        }

        let request_id = self.next_request_id;
        self.next_request_id += 1;
        let args = json!({ "request_id": request_id }).to_string();
        let (promise, yield_id) =
            Promise::new_yield("on_execution_response", args, CALLBACK_GAS, GasWeight(1));
        let input_in_state = input_data
            .as_deref()
            .is_some_and(outlayer_types::limits::input_in_state);
        let (input_data, large_input) = if input_in_state {
            (None, input_data)
        } else {
            (input_data, None)
        };
        let request = Request {
            yield_id,
            context: ExecutionContext {
                request_id,
                sender_id: env::signer_account_id(),
                predecessor_id: env::predecessor_account_id(),
                contract_id: env::current_account_id(),
                block_height: env::block_height(),
                block_timestamp: env::block_timestamp(),
                transaction_hash: None,
                random_seed: env::random_seed_array(),
            },
            code_source,
            resource_limits: limits,
            input_data,
            input_in_state,
            secrets_ref,
            response_format: response_format.unwrap_or_default(),
            payment,
            payer_account_id: payer_account_id.unwrap_or_else(env::predecessor_account_id),
            pricing: self.pricing,
            max_compile_seconds: self.max_limits.max_compile_seconds,
            resolved: false,
        };
        if let Some(input) = large_input {
            self.large_inputs.insert(request_id, input);
        }
        crate::events::execution_requested(request.to_wire());
        self.requests.insert(request_id, request);
        self.stats.total_requests += 1;
        promise
    }

    /// Stores an output too large for a resume payload; `resolve_execution`
    /// without an output then delivers it. Operator only; may be repeated
    /// until the request is resolved (the last one counts).
    pub fn submit_execution_output(&mut self, request_id: u64, output: ExecutionOutput) {
        self.assert_operator();
        let request = self.unresolved_request(request_id);
        let json = self.checked_output(request_id, &request, &output);
        self.outputs.insert(request_id, json);
    }

    /// Delivers the worker's response: resumes the yield, whose callback
    /// settles. Operator only; a request is resolved at most once. An output
    /// that does not fit a resume payload is kept in state for the callback.
    pub fn resolve_execution(&mut self, request_id: u64, response: ExecutionResponse) {
        self.assert_operator();
        let mut request = self.unresolved_request(request_id);
        let payload = self.resume_payload(request_id, &request, response);
        if request.yield_id.resume(payload).is_err() {
            env::panic_str(&format!(
                "request {request_id} can no longer be resumed: its yield timed out"
            ));
        }
        request.resolved = true;
        self.requests.insert(request_id, request);
    }

    /// The original caller's way out when a request never settled. Only
    /// reachable after the yield could have timed out, so it never races a
    /// live settlement. Charged like a failure: the base fee.
    pub fn cancel_stale_execution(&mut self, request_id: u64) {
        let request = self.pending_request(request_id);
        if env::predecessor_account_id() != request.context.predecessor_id {
            env::panic_str(&format!(
                "only {} can cancel request {request_id}",
                request.context.predecessor_id
            ));
        }
        let from = request.context.block_height + STALE_AFTER_BLOCKS;
        let now = env::block_height();
        if now < from {
            env::panic_str(&format!(
                "request {request_id} can be cancelled from block {from} (now {now})"
            ));
        }
        self.finish(request_id, Outcome::CancelledStale);
    }

    /// The owner's way out when the service cannot serve a request: a full
    /// refund. Owner only, with 1 yoctoNEAR.
    #[payable]
    pub fn emergency_cancel_execution(&mut self, request_id: u64) {
        self.assert_owner();
        self.pending_request(request_id);
        self.finish(request_id, Outcome::CancelledByOwner);
    }
}

impl Contract {
    pub(crate) fn pending_request(&self, request_id: u64) -> Request {
        self.requests.get(&request_id).cloned().unwrap_or_else(|| {
            env::panic_str(&format!(
                "request {request_id} is not pending (unknown or already settled)"
            ))
        })
    }

    fn unresolved_request(&self, request_id: u64) -> Request {
        let request = self.pending_request(request_id);
        if request.resolved {
            env::panic_str(&format!("request {request_id} is already resolved"));
        }
        request
    }

    /// Checks a response and turns it into the resume payload. An output
    /// too large for the payload moves to state (replacing a submitted one);
    /// a failure's output is dropped, since it is never returned.
    pub(crate) fn resume_payload(
        &mut self,
        request_id: u64,
        request: &Request,
        response: ExecutionResponse,
    ) -> Vec<u8> {
        let mut response = response;
        if let Some(error) = &response.error
            && error.len() > MAX_ERROR_BYTES
        {
            env::panic_str(&format!(
                "error is {} bytes, at most {MAX_ERROR_BYTES}",
                error.len()
            ));
        }
        if !response.success {
            response.output = None;
            self.outputs.remove(&request_id);
        }
        if let Some(output) = &response.output {
            let json = self.checked_output(request_id, request, output);
            if serialized_len(&response) > MAX_YIELD_PAYLOAD_BYTES {
                self.outputs.insert(request_id, json);
                response.output = None;
            } else {
                self.outputs.remove(&request_id);
            }
        }
        let payload = serde_json::to_vec(&response).expect("responses serialise");
        // Without an output the payload is a few hundred bytes at most.
        require!(
            payload.len() <= MAX_YIELD_PAYLOAD_BYTES,
            "response too large"
        );
        payload
    }

    /// The output as stored JSON, refused when it is of another format than
    /// the request asked for or above the output cap.
    fn checked_output(
        &self,
        request_id: u64,
        request: &Request,
        output: &ExecutionOutput,
    ) -> String {
        if output.format() != request.response_format {
            env::panic_str(&format!(
                "output is {:?} but request {request_id} asked for {:?}",
                output.format(),
                request.response_format
            ));
        }
        let json = serde_json::to_string(output).expect("outputs serialise");
        let cap = self.max_limits.max_output_bytes as usize;
        if json.len() > cap {
            env::panic_str(&format!(
                "output is {} bytes, above the cap {cap}",
                json.len()
            ));
        }
        json
    }

    /// The price of the worst case for `limits` at the current prices.
    pub(crate) fn estimate(&self, limits: &ResourceLimits) -> u128 {
        self.pricing
            .estimate(limits, self.max_limits.max_compile_seconds)
            .unwrap_or_else(|| env::panic_str("the estimated cost overflows"))
    }
}

/// The deposit that covers `input_bytes` of input kept in state until
/// settlement, so callers, not the contract, pay for what they store.
pub fn input_storage_cost(input_bytes: u64) -> u128 {
    u128::from(input_bytes) * env::storage_byte_cost().as_yoctonear()
}

fn serialized_len(response: &ExecutionResponse) -> usize {
    serde_json::to_vec(response)
        .expect("responses serialise")
        .len()
}
