//! wasmtime: WASI P1 core modules (our synchronous P1, `wasi_p1`) and P2
//! components (`wasi:cli/run`, async, wasmtime-wasi). One engine (fuel and
//! epoch interruption on) and one linker per world, built once; a fresh
//! `Store` with its own limits per execution.

use std::time::Instant;

use wasmtime::component::{Component, ResourceTable};
use wasmtime::{
    Engine, InstanceAllocationStrategy, InstancePre, Linker, Module, PoolingAllocationConfig,
    Store, UpdateDeadline,
};
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::p2::pipe::MemoryInputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::classify::{RunEnd, classify_wasmtime, finish};
use crate::clocks::{MonotonicClock, WallClock};
use crate::config::RuntimeConfig;
use crate::execution::Execution;
use crate::guest::{Guest, PROGRAM_NAME};
use crate::http::PolicyHooks;
use crate::limiter::MemoryLimiter;
use crate::outcome::{ErrorKind, Failure, Outcome};
use crate::random::Stream;
use crate::wasi_p1::{self, P1Host};

pub(crate) struct P2State {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    hooks: PolicyHooks,
    limiter: MemoryLimiter,
}

impl WasiView for P2State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for P2State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

trait Limited {
    fn limiter(&mut self) -> &mut MemoryLimiter;
}

impl Limited for P1Host {
    fn limiter(&mut self) -> &mut MemoryLimiter {
        &mut self.limiter
    }
}

impl Limited for P2State {
    fn limiter(&mut self) -> &mut MemoryLimiter {
        &mut self.limiter
    }
}

pub(crate) struct WasmtimeEngine {
    engine: Engine,
    p1_linker: Linker<P1Host>,
    p2_linker: wasmtime::component::Linker<P2State>,
}

impl WasmtimeEngine {
    pub(crate) fn new(config: &RuntimeConfig) -> wasmtime::Result<Self> {
        let engine = Engine::new(&engine_config(config))?;

        let mut p1_linker = Linker::new(&engine);
        wasi_p1::wasmtime_p1::add_to_linker(&mut p1_linker)?;

        let mut p2_linker = wasmtime::component::Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut p2_linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut p2_linker)?;

        Ok(Self {
            engine,
            p1_linker,
            p2_linker,
        })
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    pub(crate) fn compile_module(&self, wasm: &[u8]) -> Result<InstancePre<P1Host>, Failure> {
        let module = Module::new(&self.engine, wasm).map_err(invalid_program)?;
        if !matches!(
            module.get_export("_start"),
            Some(wasmtime::ExternType::Func(_))
        ) {
            return Err(Failure::new(
                ErrorKind::MissingEntrypoint,
                "module does not export a `_start` function (WASI P1 command)",
            ));
        }
        self.p1_linker
            .instantiate_pre(&module)
            .map_err(unsupported_import)
    }

    pub(crate) fn compile_component(&self, wasm: &[u8]) -> Result<CommandPre<P2State>, Failure> {
        let component = Component::new(&self.engine, wasm).map_err(invalid_program)?;
        let pre = self
            .p2_linker
            .instantiate_pre(&component)
            .map_err(unsupported_import)?;
        CommandPre::new(pre).map_err(|e| {
            Failure::new(
                ErrorKind::MissingEntrypoint,
                format!("component does not export `wasi:cli/run`: {e}"),
            )
        })
    }
}

/// The engine's settings: fuel and epochs for limits, a bounded stack, and
/// pooled instances. wasmtime is built without `threads`, so shared memory
/// (which would let a guest outlive its store's limits) never validates.
pub(crate) fn engine_config(config: &RuntimeConfig) -> wasmtime::Config {
    let mut wasm = wasmtime::Config::new();
    wasm.consume_fuel(true)
        .epoch_interruption(true)
        .wasm_component_model(true)
        .max_wasm_stack(config.max_wasm_stack_bytes)
        // Async calls run on a fiber whose stack must hold the wasm stack
        // plus host frames.
        .async_stack_size(config.max_wasm_stack_bytes + 1024 * 1024)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool(config)));
    wasm
}

/// What one execution may hold in the instance pool: a component is a few
/// core instances (the program, wit-component's shims) with their memories
/// and tables.
const CORE_INSTANCES_PER_EXECUTION: u32 = 16;
const MEMORIES_PER_EXECUTION: u32 = 4;
const TABLES_PER_EXECUTION: u32 = 8;
const LINEAR_MEMORY_KEEP_RESIDENT: usize = 2 << 20;
const TABLE_KEEP_RESIDENT: usize = 64 << 10;

/// Instances, memories, tables and fiber stacks come from pools sized for
/// `max_concurrent_executions` (the runtime never runs more at once):
/// instantiation reuses reserved address space and copy-on-write images
/// instead of mapping fresh memory, and a slot's memory is reset (zeroed or
/// decommitted) before it is used again, so nothing of one execution is
/// visible to the next.
fn pool(config: &RuntimeConfig) -> PoolingAllocationConfig {
    let slots = u32::try_from(config.max_concurrent_executions.max(1)).unwrap_or(u32::MAX / 16);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(slots)
        .total_core_instances(slots * CORE_INSTANCES_PER_EXECUTION)
        .total_memories(slots * MEMORIES_PER_EXECUTION)
        .total_tables(slots * TABLES_PER_EXECUTION)
        .total_stacks(slots)
        .max_memories_per_module(MEMORIES_PER_EXECUTION)
        .max_tables_per_module(TABLES_PER_EXECUTION)
        .table_elements(config.max_table_elements)
        // Large programs put many functions in tables; their instance
        // state outgrows the 1 MiB default.
        .max_core_instance_size(8 << 20)
        .max_unused_warm_slots(slots)
        // Resetting a slot by rewriting only the pages the program dirtied
        // (found with Linux's PAGEMAP_SCAN, 6.7+; elsewhere the first pages
        // are zeroed) beats `madvise`: no page faults on the next use and no
        // TLB shootdown across cores. Beyond this much, pages are decommitted.
        .pagemap_scan(wasmtime::Enabled::Auto)
        .linear_memory_keep_resident(LINEAR_MEMORY_KEEP_RESIDENT)
        .table_keep_resident(TABLE_KEEP_RESIDENT)
        // Fiber stacks hold host frames only (a guest cannot read them):
        // keep them mapped rather than decommitting them after every call.
        .async_stack_keep_resident(config.max_wasm_stack_bytes + 1024 * 1024)
        .decommit_batch_size(slots as usize);
    pool
}

fn invalid_program(error: wasmtime::Error) -> Failure {
    Failure::new(ErrorKind::InvalidProgram, format!("{error:#}"))
}

fn unsupported_import(error: wasmtime::Error) -> Failure {
    Failure::new(
        ErrorKind::InvalidProgram,
        format!("imports something the sandbox does not provide: {error:#}"),
    )
}

/// The WASI context both worlds share: memory streams, the guest's
/// environment, derived randomness and clocks, no files, no sockets.
fn wasi_builder(execution: &Execution, guest: &Guest) -> WasiCtxBuilder {
    let mut builder = WasiCtxBuilder::new();
    let mut seed_source = execution.randomness.rng(Stream::InsecureSeed);
    builder
        .stdin(MemoryInputPipe::new(execution.input.clone()))
        .stdout(guest.stdout.clone())
        .stderr(guest.stderr.clone())
        .envs(&guest.env)
        .arg(PROGRAM_NAME)
        .args(&execution.args)
        .secure_random(execution.randomness.rng(Stream::Secure))
        .insecure_random(execution.randomness.rng(Stream::Insecure))
        .insecure_random_seed(
            u128::from(rand_core::Rng::next_u64(&mut seed_source)) << 64
                | u128::from(rand_core::Rng::next_u64(&mut seed_source)),
        )
        .wall_clock(WallClock(guest.clock.clone()))
        .monotonic_clock(MonotonicClock(guest.clock.clone()))
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .socket_addr_check(|_, _| Box::pin(async { false }));
    builder
}

/// A store with this execution's fuel, deadline and memory limits.
fn new_store<T: Limited + Send + 'static>(
    engine: &Engine,
    state: T,
    execution: &Execution,
    deadline: Instant,
) -> Store<T> {
    let mut store = Store::new(engine, state);
    store.limiter(|s| s.limiter());
    store
        .set_fuel(execution.limits.max_instructions)
        .expect("fuel is enabled on this engine");
    let seconds = execution.limits.max_execution_seconds;
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if Instant::now() >= deadline {
            Err(wasmtime::Error::new(crate::guest::DeadlineExceeded {
                seconds,
            }))
        } else {
            Ok(UpdateDeadline::Continue(1))
        }
    });
    store
}

fn limiter_for(execution: &Execution, config: &RuntimeConfig) -> MemoryLimiter {
    MemoryLimiter::new(execution.max_memory_bytes(), config.max_table_elements)
}

/// Runs a P1 module on this thread: our P1 host functions are synchronous
/// (a sleep never passes the deadline), so no fiber and no async runtime.
pub(crate) fn run_module(
    pre: &InstancePre<P1Host>,
    config: &RuntimeConfig,
    execution: &Execution,
    guest: Guest,
) -> Outcome {
    let deadline = guest.deadline;
    let state = P1Host::new(execution, config, guest);
    let mut store = new_store(pre.module().engine(), state, execution, deadline);
    let result = pre.instantiate(&mut store).and_then(|instance| {
        let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
        start.call(&mut store, ())
    });
    let end = match result {
        Ok(()) => RunEnd::Completed,
        Err(error) => classify_wasmtime(&error, store.data().limiter.denied()),
    };
    let instructions = fuel_used(&store, execution, &end);
    let host = store.into_data();
    let peak = host.limiter.peak_memory_bytes();
    finish(execution, &host.guest, end, instructions, peak)
}

pub(crate) async fn run_component(
    pre: &CommandPre<P2State>,
    config: &RuntimeConfig,
    execution: &Execution,
    guest: Guest,
) -> Outcome {
    let state = P2State {
        wasi: wasi_builder(execution, &guest).build(),
        table: ResourceTable::new(),
        http: WasiHttpCtx::new(),
        hooks: PolicyHooks::new(execution.http.clone(), execution.near.clone()),
        limiter: limiter_for(execution, config),
    };
    let mut store = new_store(pre.engine(), state, execution, guest.deadline);
    let run = async {
        let command = pre.instantiate_async(&mut store).await?;
        command.wasi_cli_run().call_run(&mut store).await
    };
    let result = tokio::time::timeout_at(guest.deadline.into(), run).await;
    let end = match result {
        Ok(Ok(Ok(()))) => RunEnd::Completed,
        // `run` returning `err` is how a component reports failure without
        // an explicit exit code.
        Ok(Ok(Err(()))) => match store.data().limiter.denied() {
            Some(reason) => RunEnd::Failed(Failure::new(ErrorKind::MemoryLimit, reason)),
            None => RunEnd::Exited(1),
        },
        Ok(Err(error)) => classify_wasmtime(&error, store.data().limiter.denied()),
        Err(_) => blocked_past_deadline(&guest, execution),
    };
    let instructions = fuel_used(&store, execution, &end);
    let peak = store.data().limiter.peak_memory_bytes();
    let reads = store.data().hooks.near_reads();
    let mut outcome = finish(execution, &guest, end, instructions, peak);
    outcome.metrics.near_reads = reads;
    outcome.metrics.instructions =
        crate::near::billed_instructions(instructions, reads, execution.limits.max_instructions);
    outcome
}

/// The guest was blocked in a host call (a sleep, an HTTP request) when the
/// deadline passed, so no epoch interrupt could stop it.
fn blocked_past_deadline(guest: &Guest, execution: &Execution) -> RunEnd {
    RunEnd::Failed(Failure::new(
        ErrorKind::Timeout,
        guest.deadline_exceeded(execution).to_string(),
    ))
}

/// Fuel consumed. After a timeout the engine's remaining-fuel counter is not
/// reliable (the interrupt lands between fuel checkpoints), and the program
/// did run until its deadline: bill the full budget.
fn fuel_used<T>(store: &Store<T>, execution: &Execution, end: &RunEnd) -> u64 {
    let budget = execution.limits.max_instructions;
    match end {
        RunEnd::Failed(f) if matches!(f.kind, ErrorKind::Timeout | ErrorKind::FuelExhausted) => {
            budget
        }
        _ => budget.saturating_sub(store.get_fuel().unwrap_or(0)),
    }
}
