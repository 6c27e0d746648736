//! `outlayer bench runtime`: every figure of the execution path measured in
//! one process and one run, so the ratios hold on a noisy machine.
//!
//! - **floor**: what wasmtime itself needs with our engine settings (pooling
//!   allocator, fuel, epochs): a pre-instantiated trivial module, a store,
//!   instantiation and a call to an empty `_start`, no WASI;
//! - **cached**: [`Runtime::run_blocking`] on a compiled echo program, with
//!   everything a request gets (WASI, limits, fuel, deadline, output
//!   capture); **cached async** adds what an async caller pays
//!   ([`Runtime::run`]: a slot and a blocking-thread hop);
//! - **compile per run**: compiling the program for every execution, as a
//!   worker without the compiled-program cache would;
//! - **wasmi**: the cached path on the interpreter;
//! - **throughput**: cached executions per second with one thread per core;
//! - **metering**: a compute loop with fuel and epochs against the same
//!   engine settings without them;
//! - **JavaScript start**: with the QuickJS engine given, a script that
//!   only writes its output: the engine's start-up per request (runtime,
//!   context, globals, module evaluation), and its instructions.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use wasmtime::{Engine, Linker, Module, Store, UpdateDeadline};

use crate::execution::{Execution, P1Engine};
use crate::program::{self, Compiled, Program};
use crate::runtime::Runtime;

/// A WASI P1 echo: copies stdin (up to 64 KiB) to stdout.
const ECHO_WAT: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const 65536))
    (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 4) (i32.load (i32.const 8)))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;

/// The floor's program: nothing to do.
const EMPTY_WAT: &str = r#"(module (func (export "_start")))"#;

/// A compute loop (xorshift) of `{iterations}` rounds.
const COMPUTE_WAT: &str = r#"(module
  (global $out (export "out") (mut i64) (i64.const 0))
  (func (export "_start") (local $i i32) (local $x i64)
    (local.set $x (i64.const 88172645463325252))
    (loop $again
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
      (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const {iterations}))))
    (global.set $out (local.get $x))))"#;

#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Executions timed per figure (compile per run uses a hundredth, 10-50).
    pub iterations: u32,
    /// How long the throughput figure runs.
    pub throughput_time: Duration,
    /// A WASI P1 program to measure instead of the built-in echo.
    pub program: Option<Vec<u8>>,
    /// Its stdin.
    pub input: Vec<u8>,
    /// The JavaScript engine (`scripts/build-js-engine`), for its start-up
    /// figure; without it that figure is left out.
    pub js_engine: Option<Vec<u8>>,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            iterations: 2_000,
            throughput_time: Duration::from_secs(2),
            program: None,
            input: b"hello".to_vec(),
            js_engine: None,
        }
    }
}

/// Microseconds per execution unless named otherwise.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub floor_us: f64,
    pub cached_us: f64,
    pub cached_async_us: f64,
    pub compile_per_run_us: f64,
    pub wasmi_us: f64,
    pub throughput_per_s: f64,
    pub throughput_threads: usize,
    pub metered_compute_ms: f64,
    pub unmetered_compute_ms: f64,
    pub metering_overhead_pct: f64,
    /// cached / floor.
    pub cached_over_floor: f64,
    /// compile per run / cached.
    pub compile_over_cached: f64,
    /// A trivial script on the JavaScript engine, start to finish (µs).
    pub js_start_us: Option<f64>,
    /// Instructions (fuel) that script is billed.
    pub js_start_instructions: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
#[error("benchmark: {0}")]
pub struct BenchError(String);

fn error(e: impl std::fmt::Display) -> BenchError {
    BenchError(e.to_string())
}

impl Runtime {
    /// Measures every figure (blocking; takes a few seconds). Call it
    /// outside any async runtime: it makes its own.
    pub fn bench(&self, options: &BenchOptions) -> Result<BenchReport, BenchError> {
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(error)?;
        let _entered = tokio.enter();
        let n = options.iterations.max(10);
        let wasm = match &options.program {
            Some(wasm) => wasm.clone(),
            None => wat::parse_str(ECHO_WAT).map_err(error)?,
        };
        // Seeded as a request's randomness is (derived from its block).
        let execution = || Execution {
            input: options.input.clone(),
            randomness: crate::Randomness::Seeded([7; 32]),
            ..Execution::default()
        };
        let check = |outcome: crate::Outcome| match outcome.error {
            None => Ok(()),
            Some(failure) => Err(BenchError(format!("the program failed: {failure}"))),
        };

        let floor_us = self.floor(n)?;

        let program = self.load(&wasm, P1Engine::Wasmtime).map_err(error)?;
        check(self.run_blocking(&program, execution()))?;
        let cached_us = per_run(n, || check(self.run_blocking(&program, execution())))?;

        let cached_async_us = {
            let started = Instant::now();
            tokio.block_on(async {
                for _ in 0..n {
                    check(self.run(&program, execution()).await)?;
                }
                Ok::<_, BenchError>(())
            })?;
            micros(started.elapsed(), n)
        };

        let compile_per_run_us = per_run((n / 100).clamp(10, 50), || {
            let started = Instant::now();
            let compiled = self.inner.wasmtime.compile_module(&wasm).map_err(error)?;
            let fresh = Program {
                sha256: program::sha256(&wasm),
                compiled: Compiled::WasmtimeModule(compiled),
                compile_time: started.elapsed(),
            };
            check(self.run_blocking(&fresh, execution()))
        })?;

        let interpreted = self.load(&wasm, P1Engine::Wasmi).map_err(error)?;
        let wasmi_execution = || Execution {
            engine: P1Engine::Wasmi,
            ..execution()
        };
        check(self.run_blocking(&interpreted, wasmi_execution()))?;
        let wasmi_us = per_run(n, || {
            check(self.run_blocking(&interpreted, wasmi_execution()))
        })?;

        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let throughput_per_s = self.throughput(&program, &execution(), threads, options)?;

        let (metered, unmetered) = self.metering()?;
        let (js_start_us, js_start_instructions) = match &options.js_engine {
            Some(engine) => {
                let (us, instructions) = self.js_start(engine, n, &execution)?;
                (Some(us), Some(instructions))
            }
            None => (None, None),
        };
        Ok(BenchReport {
            floor_us,
            cached_us,
            cached_async_us,
            compile_per_run_us,
            wasmi_us,
            throughput_per_s,
            throughput_threads: threads,
            metered_compute_ms: metered.as_secs_f64() * 1e3,
            unmetered_compute_ms: unmetered.as_secs_f64() * 1e3,
            metering_overhead_pct: (metered.as_secs_f64() / unmetered.as_secs_f64() - 1.0) * 100.0,
            cached_over_floor: cached_us / floor_us,
            compile_over_cached: compile_per_run_us / cached_us,
            js_start_us,
            js_start_instructions,
        })
    }

    /// A script that only writes its output, on the (compiled) engine.
    fn js_start(
        &self,
        engine: &[u8],
        n: u32,
        execution: &dyn Fn() -> Execution,
    ) -> Result<(f64, u64), BenchError> {
        let engine = self.load_js_engine(engine).map_err(error)?;
        let script = crate::Script {
            name: "bench.js".into(),
            source: "outlayer.output(outlayer.input())".into(),
        };
        let outcome = self.run_script_blocking(&engine, &script, execution());
        if let Some(failure) = outcome.error {
            return Err(BenchError(format!("the script failed: {failure}")));
        }
        let instructions = outcome.metrics.instructions;
        let us = per_run((n / 10).clamp(10, 200), || {
            match self
                .run_script_blocking(&engine, &script, execution())
                .error
            {
                None => Ok(()),
                Some(failure) => Err(BenchError(format!("the script failed: {failure}"))),
            }
        })?;
        Ok((us, instructions))
    }

    /// Store, instantiation and an empty call on our engine, nothing else.
    fn floor(&self, n: u32) -> Result<f64, BenchError> {
        let engine = self.inner.wasmtime.engine();
        let module =
            Module::new(engine, wat::parse_str(EMPTY_WAT).map_err(error)?).map_err(error)?;
        let pre = Linker::<()>::new(engine)
            .instantiate_pre(&module)
            .map_err(error)?;
        per_run(n, || {
            let mut store = metered_store(engine);
            let instance = pre.instantiate(&mut store).map_err(error)?;
            let start = instance
                .get_typed_func::<(), ()>(&mut store, "_start")
                .map_err(error)?;
            start.call(&mut store, ()).map_err(error)
        })
    }

    fn throughput(
        &self,
        program: &Arc<Program>,
        execution: &Execution,
        threads: usize,
        options: &BenchOptions,
    ) -> Result<f64, BenchError> {
        let handle = tokio::runtime::Handle::current();
        let started = Instant::now();
        let counts = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    let handle = handle.clone();
                    scope.spawn(move || {
                        let _entered = handle.enter();
                        let mut done = 0u64;
                        while started.elapsed() < options.throughput_time {
                            if !self.run_blocking(program, execution.clone()).success() {
                                return Err(BenchError("an execution failed".into()));
                            }
                            done += 1;
                        }
                        Ok(done)
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| {
                    w.join()
                        .unwrap_or_else(|_| Err(BenchError("a thread panicked".into())))
                })
                .collect::<Result<Vec<u64>, _>>()
        })?;
        Ok(counts.iter().sum::<u64>() as f64 / started.elapsed().as_secs_f64())
    }

    /// The best of five runs of the compute loop, metered (our engine:
    /// fuel and epoch deadline checks) and not (the same settings without).
    fn metering(&self) -> Result<(Duration, Duration), BenchError> {
        let wat = COMPUTE_WAT.replace("{iterations}", "20000000");
        let wasm = wat::parse_str(&wat).map_err(error)?;
        let metered_engine = self.inner.wasmtime.engine().clone();
        let mut config = crate::wasmtime_engine::engine_config(&self.inner.config);
        config.consume_fuel(false).epoch_interruption(false);
        let unmetered_engine = Engine::new(&config).map_err(error)?;
        let prepare = |engine: &Engine| -> Result<_, BenchError> {
            let module = Module::new(engine, &wasm).map_err(error)?;
            Linker::<()>::new(engine)
                .instantiate_pre(&module)
                .map_err(error)
        };
        let once = |pre: &wasmtime::InstancePre<()>, mut store: Store<()>| {
            let started = Instant::now();
            let instance = pre.instantiate(&mut store).map_err(error)?;
            let start = instance
                .get_typed_func::<(), ()>(&mut store, "_start")
                .map_err(error)?;
            start.call(&mut store, ()).map_err(error)?;
            Ok::<_, BenchError>(started.elapsed())
        };
        // Interleaved, best of five each, on three separate compilations of
        // each: a frequency change or a busy neighbour hits both alike, and
        // where one compilation happens to place the loop in memory (runs
        // differed by 20% for that alone) does not decide the figure.
        let (mut metered, mut unmetered) = (Duration::MAX, Duration::MAX);
        for _ in 0..3 {
            let (metered_pre, unmetered_pre) =
                (prepare(&metered_engine)?, prepare(&unmetered_engine)?);
            for _ in 0..5 {
                metered = metered.min(once(&metered_pre, metered_store(&metered_engine))?);
                unmetered = unmetered.min(once(&unmetered_pre, Store::new(&unmetered_engine, ()))?);
            }
        }
        Ok((metered, unmetered))
    }
}

/// A store with fuel and an epoch deadline callback, as executions get.
fn metered_store(engine: &Engine) -> Store<()> {
    let mut store = Store::new(engine, ());
    store.set_fuel(u64::MAX / 2).expect("fuel is enabled");
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Continue(1)));
    store
}

/// Microseconds per call of `f`: the median of ten batches' means, after a
/// warm-up batch (robust to the odd descheduling).
fn per_run(n: u32, mut f: impl FnMut() -> Result<(), BenchError>) -> Result<f64, BenchError> {
    let batch = (n / 10).max(1);
    for _ in 0..batch {
        f()?;
    }
    let mut means = Vec::with_capacity(10);
    for _ in 0..10 {
        let started = Instant::now();
        for _ in 0..batch {
            f()?;
        }
        means.push(micros(started.elapsed(), batch));
    }
    means.sort_by(f64::total_cmp);
    Ok((means[4] + means[5]) / 2.0)
}

fn micros(elapsed: Duration, n: u32) -> f64 {
    elapsed.as_secs_f64() * 1e6 / f64::from(n)
}
