//! The runtime: engines and linkers built once, compiled programs cached,
//! one epoch ticker, and a bounded number of executions at a time, each on
//! its own blocking thread with a fresh store.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread;

use tokio::sync::Semaphore;

use crate::config::RuntimeConfig;
use crate::execution::{Execution, P1Engine};
use crate::guest::Guest;
use crate::outcome::{ErrorKind, Failure, Outcome};
use crate::program::{self, BinaryKind, Compiled, Program, ProgramCache};
use crate::wasmi_engine::WasmiEngine;
use crate::wasmtime_engine::{self, WasmtimeEngine};

/// The runtime could not start (an engine refused its configuration).
#[derive(Debug, thiserror::Error)]
#[error("runtime setup failed: {0}")]
pub struct SetupError(String);

/// Cheap to clone; all clones share engines, cache and concurrency limit.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: RuntimeConfig,
    pub(crate) wasmtime: WasmtimeEngine,
    wasmi: WasmiEngine,
    cache: ProgramCache,
    slots: Arc<Semaphore>,
    _ticker: EpochTicker,
}

impl Runtime {
    pub fn new(config: RuntimeConfig) -> Result<Self, SetupError> {
        let wasmtime = WasmtimeEngine::new(&config).map_err(|e| SetupError(format!("{e:#}")))?;
        let wasmi = WasmiEngine::new().map_err(|e| SetupError(e.to_string()))?;
        let ticker = EpochTicker::start(wasmtime.engine().clone(), config.epoch_tick);
        Ok(Self {
            inner: Arc::new(Inner {
                cache: ProgramCache::new(config.program_cache_entries),
                slots: Arc::new(Semaphore::new(config.max_concurrent_executions.max(1))),
                config,
                wasmtime,
                wasmi,
                _ticker: ticker,
            }),
        })
    }

    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// Validates and compiles `wasm` for `engine` (components always use
    /// wasmtime), or returns the cached program. Blocking: compilation can
    /// take seconds; call it from a blocking context.
    pub fn load(&self, wasm: &[u8], engine: P1Engine) -> Result<Arc<Program>, Failure> {
        let inner = &self.inner;
        if wasm.len() > inner.config.max_wasm_bytes {
            return Err(Failure::new(
                ErrorKind::InvalidProgram,
                format!(
                    "binary of {} bytes exceeds the limit of {} bytes",
                    wasm.len(),
                    inner.config.max_wasm_bytes
                ),
            ));
        }
        let kind = program::detect(wasm)?;
        let engine = match kind {
            BinaryKind::Component => P1Engine::Wasmtime,
            BinaryKind::Module => engine,
        };
        inner
            .cache
            .get_or_compile((engine, program::sha256(wasm)), || match (kind, engine) {
                (BinaryKind::Component, _) => inner
                    .wasmtime
                    .compile_component(wasm)
                    .map(Compiled::WasmtimeComponent),
                (BinaryKind::Module, P1Engine::Wasmtime) => inner
                    .wasmtime
                    .compile_module(wasm)
                    .map(Compiled::WasmtimeModule),
                (BinaryKind::Module, P1Engine::Wasmi) => {
                    inner.wasmi.compile(wasm).map(Compiled::WasmiModule)
                }
            })
    }

    /// Number of compiled programs held.
    pub fn cached_programs(&self) -> usize {
        self.inner.cache.len()
    }

    /// Loads (or finds cached) and runs `wasm`. A program that cannot be
    /// loaded is an outcome too (`invalid_program`, `missing_entrypoint`).
    pub async fn execute(&self, wasm: Arc<[u8]>, execution: Execution) -> Outcome {
        let runtime = self.clone();
        let engine = execution.engine;
        let loaded = tokio::task::spawn_blocking(move || runtime.load(&wasm, engine)).await;
        match loaded {
            Ok(Ok(program)) => self.run(&program, execution).await,
            Ok(Err(failure)) => Outcome::failed(failure),
            Err(join) => Outcome::failed(internal(join)),
        }
    }

    /// Runs a loaded program. Waits for a free slot first, then runs it on
    /// a blocking thread: guest code never stalls the async workers, and
    /// host waits (sleeps, HTTP) still run on tokio. On a multi-threaded
    /// runtime that thread is the caller's own (`block_in_place`): other
    /// futures polled by the same task (a `select!` or `join!` beside this
    /// one) wait until the execution ends, so run those as their own tasks.
    pub async fn run(&self, program: &Arc<Program>, execution: Execution) -> Outcome {
        let Ok(_slot) = self.inner.slots.clone().acquire_owned().await else {
            return Outcome::failed(Failure::new(ErrorKind::Trap, "runtime is shutting down"));
        };
        // On a multi-threaded runtime this thread becomes the blocking one
        // (its other tasks move to another worker): no hop to the blocking
        // pool and back. A current-thread runtime cannot do that.
        if tokio::runtime::Handle::current().runtime_flavor()
            == tokio::runtime::RuntimeFlavor::MultiThread
        {
            return tokio::task::block_in_place(|| self.run_blocking(program, execution));
        }
        let runtime = self.clone();
        let program = program.clone();
        tokio::task::spawn_blocking(move || runtime.run_blocking(&program, execution))
            .await
            .unwrap_or_else(|join| Outcome::failed(internal(join)))
    }

    /// Runs a loaded program on this thread until it ends. The caller holds
    /// one of the runtime's `max_concurrent_executions` slots (the instance
    /// pool has that many) and calls from a thread that may block. P2
    /// components also need a tokio runtime entered (their host calls are
    /// async), as [`Runtime::run`] has; P1 modules, on either engine, run
    /// without one.
    pub fn run_blocking(&self, program: &Program, execution: Execution) -> Outcome {
        // The guest's clock starts here, not while it waited for a slot.
        let guest = match Guest::new(&execution) {
            Ok(guest) => guest,
            Err(failure) => return Outcome::failed(failure),
        };
        let inner = &self.inner;
        let config = &inner.config;
        match &program.compiled {
            Compiled::WasmtimeModule(pre) => {
                wasmtime_engine::run_module(pre, config, &execution, guest)
            }
            Compiled::WasmtimeComponent(pre) => tokio::runtime::Handle::current().block_on(
                wasmtime_engine::run_component(pre, config, &execution, guest),
            ),
            Compiled::WasmiModule(module) => inner.wasmi.run(module, config, &execution, guest),
        }
    }
}

fn internal(join: tokio::task::JoinError) -> Failure {
    // A panic in host code is our bug, not the program's; report it as a
    // trap so the request fails cleanly instead of taking the worker down.
    tracing::error!(error = %join, "execution task failed");
    Failure::new(
        ErrorKind::Trap,
        "internal error while executing the program",
    )
}

/// Advances the engine's epoch on a fixed tick; stops when dropped.
struct EpochTicker {
    _stop: mpsc::Sender<()>,
}

impl EpochTicker {
    fn start(engine: wasmtime::Engine, tick: std::time::Duration) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        thread::Builder::new()
            .name("outlayer-epoch".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                    engine.increment_epoch();
                }
            })
            .expect("spawn the epoch ticker thread");
        Self { _stop: stop }
    }
}
