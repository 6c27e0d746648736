//! The typed result of one execution: what came out, which limit (if any) was
//! hit, and what was used. Every outcome carries metrics, failures included.

use outlayer_types::{ExecutionOutput, ExecutionResponse, ResourceMetrics};
use serde::Serialize;
use std::fmt;

/// Why an execution did not succeed. Serialised in snake_case; these names
/// are part of the public API (`outlayer run --json`, worker responses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The instruction budget (`max_instructions`) ran out.
    FuelExhausted,
    /// The wall-clock deadline (`max_execution_seconds`) passed.
    Timeout,
    /// Linear memory or a table would exceed `max_memory_mb`.
    MemoryLimit,
    /// stdout exceeded its cap.
    OutputLimit,
    /// Recursion exhausted the native stack budget.
    StackOverflow,
    /// Any other WebAssembly trap; the message names it.
    Trap,
    /// The program exited with a non-zero code.
    Exit,
    /// Not WebAssembly, fails validation, too large, or imports something the
    /// sandbox does not provide.
    InvalidProgram,
    /// No `_start` export (P1) or `wasi:cli/run` export (P2).
    MissingEntrypoint,
    /// The response format is JSON but stdout is not JSON.
    InvalidOutput,
    /// A secret or variable tried to set a name the runtime reserves.
    ReservedEnv,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FuelExhausted => "fuel_exhausted",
            Self::Timeout => "timeout",
            Self::MemoryLimit => "memory_limit",
            Self::OutputLimit => "output_limit",
            Self::StackOverflow => "stack_overflow",
            Self::Trap => "trap",
            Self::Exit => "exit",
            Self::InvalidProgram => "invalid_program",
            Self::MissingEntrypoint => "missing_entrypoint",
            Self::InvalidOutput => "invalid_output",
            Self::ReservedEnv => "reserved_env",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed execution: the kind, and a message for operators. The message
/// never contains secret values (the runtime never formats them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
}

impl Failure {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// What one execution used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Metrics {
    /// Fuel consumed. A run stopped by the deadline is billed the full budget:
    /// after an epoch interrupt the engine's remaining fuel is not exact.
    pub instructions: u64,
    /// Wall-clock time of instantiation and run (compilation excluded).
    pub time_ms: u64,
    /// Largest total linear memory the program held.
    pub peak_memory_bytes: u64,
    /// NEAR reads the program made (each billed as
    /// [`crate::NEAR_READ_INSTRUCTIONS`] in `instructions`).
    pub near_reads: u32,
}

/// The result of one execution.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The program's output decoded per the response format, on success.
    pub output: Option<ExecutionOutput>,
    pub error: Option<Failure>,
    /// The program's exit code when it exited (0 when `_start` returned).
    pub exit_code: Option<i32>,
    pub metrics: Metrics,
    /// The tail of stderr, for diagnostics only (never the result).
    pub stderr: String,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.error.is_none()
    }

    pub(crate) fn failed(failure: Failure) -> Self {
        Self {
            output: None,
            error: Some(failure),
            exit_code: None,
            metrics: Metrics::default(),
            stderr: String::new(),
        }
    }

    /// The response a worker sends to the contract: the output on success, a
    /// short message (the kind, and for traps and exits the detail) otherwise.
    pub fn to_response(&self, compile_time_ms: Option<u64>) -> ExecutionResponse {
        ExecutionResponse {
            success: self.success(),
            output: self.output.clone(),
            // The contract only needs a short reason, and refuses long ones.
            error: self
                .error
                .as_ref()
                .map(|f| outlayer_types::limits::truncate_error(&f.to_string())),
            resources_used: ResourceMetrics {
                instructions: self.metrics.instructions,
                time_ms: self.metrics.time_ms,
                compile_time_ms,
            },
        }
    }
}
