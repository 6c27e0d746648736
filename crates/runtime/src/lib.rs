//! OutLayer's sandbox for untrusted WebAssembly.
//!
//! Runs WASI P1 core modules (wasmtime or wasmi) and P2 components (wasmtime,
//! `wasi:cli/run`) with every resource bounded: fuel (`max_instructions`), a
//! wall-clock deadline (epoch interruption; fuel slices on wasmi), linear
//! memory and tables (`max_memory_mb`), stdout (capped) and stderr (tail
//! kept), binary size and native stack. The environment is fixed and the
//! randomness and clocks deterministic for requests, so the same program,
//! input and context give the same output and the same fuel on every worker.
//! P1 has no network; P2 gets outbound `wasi:http` only through an
//! [`HttpPolicy`] that refuses private and reserved addresses.
//!
//! ```no_run
//! # async fn demo(wasm: std::sync::Arc<[u8]>) {
//! use outlayer_runtime::{Execution, Runtime, RuntimeConfig};
//! let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
//! let outcome = runtime.execute(wasm, Execution { input: b"hi".to_vec(), ..Default::default() }).await;
//! println!("{:?} used {} instructions", outcome.output, outcome.metrics.instructions);
//! # }
//! ```

mod bench;
mod classify;
mod clocks;
mod config;
mod execution;
mod guest;
mod http;
mod io;
mod js;
mod limiter;
mod near;
mod outcome;
mod program;
mod random;
mod request;
mod runtime;
mod wasi_p1;
mod wasmi_engine;
mod wasmtime_engine;

pub use bench::{BenchError, BenchOptions, BenchReport};
pub use config::RuntimeConfig;
pub use execution::{DEFAULT_MAX_OUTPUT_BYTES, Execution, ExecutionType, P1Engine};
pub use http::{HttpPolicy, is_blocked_address};
pub use js::{JS_ENGINE_FILE, Script, default_js_engine_path};
pub use near::{
    NEAR_HOST, NEAR_READ_INSTRUCTIONS, NearRead, NearReadError, NearReader, NearReads, ReadFuture,
};
pub use outcome::{ErrorKind, Failure, Metrics, Outcome};
pub use program::Program;
pub use random::{Randomness, derive_request_seed};
pub use request::{cap_output, response_for};
pub use runtime::{Runtime, SetupError};
