//! Runtime-wide settings: fixed when the engines are built, the same for
//! every execution. Per-execution limits live in [`crate::Execution`].

use std::time::Duration;

#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Larger binaries are refused before compilation (`invalid_program`).
    pub max_wasm_bytes: usize,
    /// Native stack for WebAssembly frames; deeper recursion is a clean
    /// `stack_overflow`.
    pub max_wasm_stack_bytes: usize,
    /// Elements per table (tables are memory too).
    pub max_table_elements: usize,
    /// Executions running at once; more wait for a slot (back-pressure
    /// before instantiation, not an unbounded pile of threads).
    pub max_concurrent_executions: usize,
    /// Compiled programs kept in memory.
    pub program_cache_entries: usize,
    /// Granularity of the wall-clock deadline (one ticker thread per runtime).
    pub epoch_tick: Duration,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            max_wasm_bytes: 64 * 1024 * 1024,
            max_wasm_stack_bytes: 1024 * 1024,
            max_table_elements: 100_000,
            max_concurrent_executions: cores * 4,
            program_cache_entries: 256,
            epoch_tick: Duration::from_millis(10),
        }
    }
}
