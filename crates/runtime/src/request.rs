//! The one way an on-chain request becomes an execution, and an outcome
//! becomes the response the contract accepts. The worker and `outlayer run`
//! both go through here, so a result that passed locally is a result the
//! contract takes.

use std::collections::BTreeMap;
use std::time::Duration;

use outlayer_types::{ExecutionRequest, ExecutionResponse, MaxLimits};

use crate::execution::{Execution, ExecutionType, P1Engine};
use crate::http::HttpPolicy;
use crate::outcome::{ErrorKind, Failure, Outcome};
use crate::random::Randomness;

impl Execution {
    /// The execution of `request` with its input and decrypted secrets, its
    /// own limits, context and deterministic randomness, and the output cap
    /// of `caps` (the contract's `MaxLimits`).
    pub fn for_request(
        request: &ExecutionRequest,
        input: Vec<u8>,
        secrets: BTreeMap<String, String>,
        caps: &MaxLimits,
    ) -> Self {
        let limits = request.resource_limits;
        Self {
            input,
            args: Vec::new(),
            limits,
            response_format: request.response_format,
            context: Some(request.context.clone()),
            execution_type: ExecutionType::Near,
            env: BTreeMap::new(),
            secrets,
            randomness: Randomness::for_request(&request.context),
            http: HttpPolicy {
                // Never longer than the program's own deadline.
                request_timeout: Duration::from_secs(limits.max_execution_seconds.min(30)),
                ..HttpPolicy::default()
            },
            near: None,
            engine: P1Engine::Wasmtime,
            max_output_bytes: caps.max_output_bytes as usize,
        }
    }
}

/// The response for `outcome`, its output checked with [`cap_output`]
/// against the contract's `max_output_bytes`, so `resolve_execution` can
/// never refuse a worker's response.
pub fn response_for(
    outcome: &Outcome,
    compile_time_ms: Option<u64>,
    caps: &MaxLimits,
) -> ExecutionResponse {
    cap_output(outcome.clone(), caps.max_output_bytes as usize).to_response(compile_time_ms)
}

/// The contract measures an output as the JSON of `ExecutionOutput`
/// (escapes and base64 included), not as stdout bytes: an output above
/// `cap` that way becomes an `output_limit` failure here. `outlayer run`
/// applies the same check, so what passes locally passes on chain.
pub fn cap_output(outcome: Outcome, cap: usize) -> Outcome {
    let Some(output) = &outcome.output else {
        return outcome;
    };
    let encoded = serde_json::to_string(output).map_or(usize::MAX, |json| json.len());
    if encoded <= cap {
        return outcome;
    }
    Outcome {
        output: None,
        error: Some(Failure::new(
            ErrorKind::OutputLimit,
            format!("the output is {encoded} bytes as JSON, above the cap of {cap}"),
        )),
        ..outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Metrics;
    use outlayer_types::ExecutionOutput;

    fn success(output: ExecutionOutput) -> Outcome {
        Outcome {
            output: Some(output),
            error: None,
            exit_code: Some(0),
            metrics: Metrics {
                near_reads: 0,
                instructions: 7,
                time_ms: 2,
                peak_memory_bytes: 0,
            },
            stderr: String::new(),
        }
    }

    #[test]
    fn output_is_measured_as_the_contract_measures_it() {
        let caps = MaxLimits {
            max_output_bytes: 20,
            ..MaxLimits::default()
        };
        // {"Text":"abcdefghij"} is 21 bytes of JSON for 10 bytes of output.
        let response = response_for(
            &success(ExecutionOutput::Text("abcdefghij".into())),
            None,
            &caps,
        );
        assert!(!response.success);
        assert_eq!(
            response.error.as_deref(),
            Some("output_limit: the output is 21 bytes as JSON, above the cap of 20")
        );
        assert_eq!(response.resources_used.instructions, 7);
        // Quotes double when escaped and {"Text":""} adds 11: five quotes
        // (5 bytes of output) are 21 bytes of JSON, four are 19.
        let quotes = |n: usize| success(ExecutionOutput::Text("\"".repeat(n)));
        assert!(!response_for(&quotes(5), Some(5), &caps).success);
        let response = response_for(&quotes(4), Some(5), &caps);
        assert!(response.success);
        assert_eq!(response.resources_used.compile_time_ms, Some(5));
    }
}
