use crate::cache::get_contract_cache_key;
use crate::errors::ContractPrecompilatonResult;
use crate::logic::errors::{
    CacheError, CompilationError, FunctionCallError, MethodResolveError, VMLogicError,
    VMRunnerError, WasmTrap,
};
use crate::logic::host as logic;
use crate::logic::{
    Config, ExecutionResultState, External, GasCounter, HostCtx, VMContext, VMOutcome,
};
use crate::runner::VMResult;
use crate::{
    CompiledContract, CompiledContractInfo, Contract, ContractCode, ContractRuntimeCache,
    EXPORT_PREFIX, MEMORY_EXPORT, NoContractRuntimeCache, REMAINING_GAS_EXPORT, START_EXPORT,
    imports, prepare,
};
use core::mem::transmute;
use core::ops::Deref;
use core::sync::atomic::{AtomicU64, Ordering};
use dashmap::DashMap;
use near_parameters::RuntimeFeesConfig;
use near_parameters::vm::{LimitConfig, VMKind};
use near_primitives_core::gas::Gas;
use near_primitives_core::hash::CryptoHash;
use parking_lot::{Condvar, Mutex, MutexGuard, RwLock};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock, OnceLock};
use wasmtime::{
    CallHook, Engine, Extern, ExternType, Inlining, Instance, InstanceAllocationStrategy,
    InstancePre, Linker, Memory, Module, ModuleExport, OptLevel, PoolingAllocationConfig,
    RegallocAlgorithm, ResourcesRequired, Store, StoreLimits, StoreLimitsBuilder, Strategy, Val,
    WasmBacktraceDetails,
};

#[cfg(test)]
pub(crate) mod test_logic;
mod trap_classification;

/// The maximum amount of concurrent calls this engine can handle.
/// If this limit is reached, invocations will block until an execution slot is available.
///
/// Wasmtime will use this value to pre-allocate and pool resources internally.
/// Wasmtime defaults to `1_000`
const MAX_CONCURRENCY: u32 = 1_000;

/// Value used for [PoolingAllocationConfig::decommit_batch_size]
///
/// Wasmtime defaults to `1`
const DECOMMIT_BATCH_SIZE: usize = MAX_CONCURRENCY as usize / 2;

/// The default maximum amount of tables per module.
///
/// This value is used if `max_tables_per_contract` is not set.
///
/// Wasmtime defaults to `1`
const DEFAULT_MAX_TABLES_PER_MODULE: u32 = 1;

/// The default maximum amount of elements in a single table.
///
/// This value is used if `max_elements_per_contract_table` is not set.
///
/// Wasmtime defaults to `20_000`
const DEFAULT_MAX_ELEMENTS_PER_TABLE: usize = 10_000;

/// Guest page size, in bytes
const GUEST_PAGE_SIZE: usize = 1 << 16;

/// The maximum size, in bytes, of a core instance's `VMContext` runtime
/// metadata slot that the pooling allocator reserves per instance.
const MAX_CORE_INSTANCE_SIZE: usize = 1 << 20;

#[derive(Hash, PartialEq, Eq)]
struct VMKey {
    config: Arc<Config>,
    target: Option<String>,
}

static VMS: LazyLock<RwLock<HashMap<VMKey, WasmtimeVM>>> = LazyLock::new(RwLock::default);

// TODO(crt): consider splitting out the compile cache and locking logic to its own file
/// One cache entry: the serialized wasmtime module bytes, or the cached
/// [`CompilationError`] from a prior failed compile of the same code.
type CachedArtifact = Result<Vec<u8>, CompilationError>;

/// Per-key compilation lock map. Prevents redundant concurrent compilations
/// of the same contract by multiple threads (e.g. precompile_contracts and
/// validate_chunk_state_witness).
pub(crate) struct CompilationLockMap {
    inner: DashMap<CryptoHash, Arc<Mutex<()>>>,
}

impl CompilationLockMap {
    fn new() -> Self {
        Self { inner: DashMap::new() }
    }

    #[cfg(test)]
    pub(crate) fn contains_key(&self, key: &CryptoHash) -> bool {
        self.inner.contains_key(key)
    }

    fn entry(&self, key: CryptoHash) -> CompilationGuard<'_> {
        let mutex = self.inner.entry(key).or_default().clone();
        CompilationGuard { key, map: self, mutex }
    }
}

/// RAII guard returned by [`CompilationLockMap::entry`]. On drop, removes the map entry.
struct CompilationGuard<'a> {
    key: CryptoHash,
    map: &'a CompilationLockMap,
    mutex: Arc<Mutex<()>>,
}

impl CompilationGuard<'_> {
    fn lock(&self) -> MutexGuard<'_, ()> {
        self.mutex.lock()
    }

    fn try_lock(&self) -> Option<MutexGuard<'_, ()>> {
        self.mutex.try_lock()
    }
}

impl Drop for CompilationGuard<'_> {
    fn drop(&mut self) {
        self.map.inner.remove(&self.key);
    }
}

pub(crate) fn compilation_locks() -> &'static CompilationLockMap {
    static LOCKS: OnceLock<CompilationLockMap> = OnceLock::new();
    LOCKS.get_or_init(CompilationLockMap::new)
}

/// Cache read helper used by `compile_and_cache` and `try_compile_and_cache`.
/// Returns `Ok(Some(_))` if the cache already has an entry for `key`.
fn read_cache(
    cache: &dyn ContractRuntimeCache,
    key: &CryptoHash,
) -> Result<Option<CachedArtifact>, CacheError> {
    Ok(cache.get(key).map_err(CacheError::ReadError)?.map(|info| match info.compiled {
        CompiledContract::Code(module) => Ok(module),
        CompiledContract::CompileModuleError(err) => Err(err),
    }))
}

fn guest_memory_size(pages: u32) -> Option<usize> {
    let pages = usize::try_from(pages).ok()?;
    pages.checked_mul(GUEST_PAGE_SIZE)
}

struct InstancePermit<'a> {
    instances: &'a AtomicU64,
    tables: &'a AtomicU64,
    num_tables: u32,
    release_notify: &'a Condvar,
    release_mutex: &'a Mutex<()>,
}

impl Drop for InstancePermit<'_> {
    fn drop(&mut self) {
        self.instances.fetch_sub(1, Ordering::Release);
        if self.num_tables != 0 {
            self.tables.fetch_sub(self.num_tables.into(), Ordering::Release);
        }
        let _guard = self.release_mutex.lock();
        self.release_notify.notify_all();
    }
}

/// State stored in [ConcurrencySemaphore]
struct ConcurrencySemaphoreState {
    max_tables: u32,
    instances: AtomicU64,
    tables: AtomicU64,
    release_notify: Condvar,
    release_mutex: Mutex<()>,
}

/// A simple semaphore, which is not expected to be contended often.
#[derive(Clone)]
struct ConcurrencySemaphore(Arc<ConcurrencySemaphoreState>);

impl ConcurrencySemaphore {
    /// Constructs a new [ConcurrencySemaphore].
    ///
    /// `max_tables` is the maximum amount of tables that can concurrently exist.
    pub fn new(max_tables: u32) -> Self {
        Self(Arc::new(ConcurrencySemaphoreState {
            max_tables,
            instances: AtomicU64::default(),
            tables: AtomicU64::default(),
            release_notify: Condvar::default(),
            release_mutex: Mutex::default(),
        }))
    }
}

impl Deref for ConcurrencySemaphore {
    type Target = ConcurrencySemaphoreState;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl ConcurrencySemaphore {
    /// Attempts to reserve a single instance slot, returns `true` on success
    fn try_reserve_instance(&self) -> bool {
        let prev = self.instances.fetch_add(1, Ordering::Acquire);
        prev.checked_add(1).is_some_and(|n| n <= MAX_CONCURRENCY.into())
    }

    /// Attempts to reserve `n` table slots, returns `true` on success
    fn try_reserve_tables(&self, n: u32) -> bool {
        let prev = self.tables.fetch_add(n.into(), Ordering::Acquire);
        prev.checked_add(n.into()).is_some_and(|n| n <= self.max_tables.into())
    }

    /// Releases a single instance slot returning the amount of previously active instances
    fn release_instance(&self) -> u64 {
        self.instances.fetch_sub(1, Ordering::Release)
    }

    /// Releases `n` table slots returning the amount of previously active tables
    fn release_tables(&self, n: u32) -> u64 {
        self.tables.fetch_sub(n.into(), Ordering::Release)
    }

    /// Attempt to acquire the semaphore using the specified number of tables
    fn try_acquire(&self, num_tables: u32) -> Option<InstancePermit<'_>> {
        debug_assert!(num_tables <= self.max_tables);

        // At most [`u16::MAX`] iterations per lock
        let mut iterations: u16 = 0;

        if num_tables != 0 {
            if !self.try_reserve_tables(num_tables) {
                let active = self.release_tables(num_tables).checked_sub(num_tables.into())?;
                tracing::warn!(active, requested = num_tables, "table lock contended");
                let mut guard = self.release_mutex.lock();
                while !self.try_reserve_tables(num_tables) {
                    iterations = iterations.checked_add(1)?;
                    if self.release_tables(num_tables) <= self.max_tables.into() {
                        continue;
                    }
                    self.release_notify.wait(&mut guard);
                }
            }
        }

        // reset iteration counter
        iterations = 0;
        if !self.try_reserve_instance() {
            let active = self.release_instance().checked_sub(1)?;
            tracing::warn!(active, "instance lock contended");
            let mut guard = self.release_mutex.lock();
            while !self.try_reserve_instance() {
                iterations = iterations.checked_add(1)?;
                if self.release_instance() <= MAX_CONCURRENCY.into() {
                    continue;
                }
                self.release_notify.wait(&mut guard);
            }
        }
        return Some(InstancePermit {
            instances: &self.instances,
            tables: &self.tables,
            num_tables,
            release_notify: &self.release_notify,
            release_mutex: &self.release_mutex,
        });
    }
}

enum Export<T> {
    Unresolved(ModuleExport),
    Resolved(T),
}

pub struct Ctx {
    memory: Export<Memory>,
    limits: StoreLimits,
    /// The runtime-independent state the host functions operate on.
    host: HostCtx<'static>,
}

impl Ctx {
    fn new(
        ext: &'static mut dyn External,
        context: &'static VMContext,
        fees_config: Arc<RuntimeFeesConfig>,
        result_state: ExecutionResultState,
        memory: ModuleExport,
    ) -> Self {
        let LimitConfig {
            max_memory_pages,
            max_tables_per_contract,
            max_elements_per_contract_table,
            ..
        } = result_state.config.limit_config;
        let max_tables_per_contract =
            max_tables_per_contract.unwrap_or(DEFAULT_MAX_TABLES_PER_MODULE);
        let max_elements_per_contract_table =
            max_elements_per_contract_table.unwrap_or(DEFAULT_MAX_ELEMENTS_PER_TABLE);
        let max_memory_size = guest_memory_size(max_memory_pages).unwrap_or(usize::MAX);

        let limits = StoreLimitsBuilder::new()
            .instances(1)
            .memories(1)
            .memory_size(max_memory_size)
            .tables(max_tables_per_contract.try_into().unwrap_or(usize::MAX))
            .table_elements(max_elements_per_contract_table)
            .build();

        Self {
            memory: Export::Unresolved(memory),
            limits,
            host: HostCtx::new(ext, context, fees_config, result_state),
        }
    }
}

trait IntoVMError {
    fn into_vm_error(self) -> Result<FunctionCallError, VMRunnerError>;
}

impl IntoVMError for wasmtime::Error {
    fn into_vm_error(self) -> Result<FunctionCallError, VMRunnerError> {
        let cause = self.root_cause();
        if let Some(container) = cause.downcast_ref::<ErrorContainer>() {
            use {VMLogicError as LE, VMRunnerError as RE};
            return match container.take() {
                Some(LE::HostError(h)) => Ok(FunctionCallError::HostError(h)),
                Some(LE::ExternalError(s)) => Err(RE::ExternalError(s)),
                Some(LE::InconsistentStateError(e)) => Err(RE::InconsistentStateError(e)),
                None => panic!("error has already been taken out of the container?!"),
            };
        }
        if let Some(trap) = cause.downcast_ref::<wasmtime::Trap>() {
            use trap_classification::TrapClassification as C;
            let classification = C::from(*trap);
            let nondeterministic_message = 'nondet: {
                return Ok(FunctionCallError::WasmTrap(match classification {
                    C::StackOverflow => WasmTrap::StackOverflow,
                    C::MemoryOutOfBounds => WasmTrap::MemoryOutOfBounds,
                    C::TableOutOfBounds => WasmTrap::MemoryOutOfBounds,
                    C::IndirectCallToNull => WasmTrap::IndirectCallToNull,
                    C::BadSignature => WasmTrap::IncorrectCallIndirectSignature,
                    C::IntegerOverflow => WasmTrap::IllegalArithmetic,
                    C::IntegerDivisionByZero => WasmTrap::IllegalArithmetic,
                    C::BadConversionToInteger => WasmTrap::IllegalArithmetic,
                    C::UnreachableCodeReached => WasmTrap::Unreachable,
                    C::Interrupt => break 'nondet "interrupt",
                    C::HeapMisaligned => break 'nondet "heap misaligned",
                    C::Unreachable { trap } => {
                        panic!(
                            "contract produced a trap that should be unreachable \
                                under NEAR's engine configuration: {trap:?}"
                        );
                    }
                    C::Unknown { trap } => {
                        return Err(VMRunnerError::WasmUnknownError {
                            debug_message: format!("unhandled trap type: {trap:?}"),
                        });
                    }
                }));
            };
            return Err(VMRunnerError::Nondeterministic(nondeterministic_message.into()));
        }
        let description = if cause.is::<wasmtime::UnknownImportError>() {
            "unknown or invalid import".to_string()
        } else {
            cause.to_string()
        };
        Ok(FunctionCallError::LinkError { msg: description })
    }
}

#[derive(Clone)]
pub(crate) struct WasmtimeVM {
    config: Arc<Config>,
    engine: wasmtime::Engine,
    concurrency: ConcurrencySemaphore,
}

#[derive(Clone)]
struct PreparedModule {
    pre: InstancePre<Ctx>,
    memory: ModuleExport,
    remaining_gas: Option<ModuleExport>,
    start: Option<ModuleExport>,
    num_tables: u32,
}

impl WasmtimeVM {
    pub(crate) fn new(config: Arc<Config>) -> Self {
        Self::new_for_target(config, None)
            .expect("construction without target specified cannot fail")
    }

    pub(crate) fn new_for_target(
        config: Arc<Config>,
        target: Option<String>,
    ) -> wasmtime::Result<Self> {
        let vm_key = VMKey { config: Arc::clone(&config), target: target.clone() };
        {
            if let Some(vm) = VMS.read().get(&vm_key) {
                return Ok(vm.clone());
            }
        }

        let features = crate::features::WasmFeatures::new(&config);
        let mut engine_config = wasmtime::Config::from(features);
        if let Some(target) = &target {
            engine_config.target(&target)?;
        }
        let mut guard = VMS.write();
        let vm = guard.entry(vm_key).or_insert_with_key(|vm_key| {
            // NOTE: Configuration values are based on:
            // - https://docs.wasmtime.dev/examples-fast-execution.html
            // - https://docs.wasmtime.dev/examples-fast-instantiation.html

            let LimitConfig {
                max_memory_pages,
                max_tables_per_contract,
                max_elements_per_contract_table,
                ..
            } = config.limit_config;

            let max_memory_size = guest_memory_size(max_memory_pages).unwrap_or(usize::MAX);
            let max_tables_per_contract =
                max_tables_per_contract.unwrap_or(DEFAULT_MAX_TABLES_PER_MODULE);
            let max_elements_per_contract_table =
                max_elements_per_contract_table.unwrap_or(DEFAULT_MAX_ELEMENTS_PER_TABLE);
            let max_tables = MAX_CONCURRENCY.saturating_mul(max_tables_per_contract);

            let mut pooling_config = PoolingAllocationConfig::default();
            pooling_config
                .decommit_batch_size(DECOMMIT_BATCH_SIZE)
                .max_memory_size(max_memory_size)
                .table_elements(max_elements_per_contract_table)
                .total_component_instances(0)
                .total_core_instances(MAX_CONCURRENCY)
                .total_memories(MAX_CONCURRENCY)
                .total_tables(max_tables)
                .max_memories_per_module(1)
                .max_tables_per_module(max_tables_per_contract)
                .max_core_instance_size(MAX_CORE_INSTANCE_SIZE)
                .table_keep_resident(max_elements_per_contract_table)
                // OutLayer patch: contracts never run on fibers, and the
                // `async` feature (on for the sandbox, which shares this
                // wasmtime) would otherwise reserve a fiber stack of
                // `async_stack_size` for every pooled instance.
                .total_stacks(0);

            engine_config
                .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling_config))
                // From official documentation:
                // > Note that systems loading many modules may wish to disable this
                // > configuration option instead of leaving it on-by-default.
                // > Some platforms exhibit quadratic behavior when registering/unregistering
                // > unwinding information which can greatly slow down the module loading/unloading process.
                // https://docs.rs/wasmtime/latest/wasmtime/struct.Config.html#method.native_unwind_info
                .native_unwind_info(false)
                .wasm_backtrace_max_frames(None)
                .wasm_backtrace_details(WasmBacktraceDetails::Disable)
                // Disable native -> wasm code address mappings to reduce the generated code size.
                // This saves around 40% of total size for contracts on mainnet.
                .generate_address_map(false)
                // Enable copy-on-write heap images.
                .memory_init_cow(true)
                // Wasm stack metering is implemented by instrumentation, we don't want wasmtime to trap before that
                .max_wasm_stack(1024 * 1024 * 1024)
                // OutLayer patch: wasmtime 48 refuses a `max_wasm_stack`
                // above `async_stack_size` even for synchronous calls.
                .async_stack_size(1024 * 1024 * 1024)
                // Winch on x86_64 (production); Cranelift elsewhere
                // (e.g. aarch64 development environment) since Winch on
                // aarch64 lacks wide-arithmetic support in wasmtime 45.
                // TODO: drop the Cranelift fallback once a wasmtime release
                // adds wide-arithmetic to Winch on aarch64.
                .strategy(if cfg!(target_arch = "x86_64") {
                    Strategy::Winch
                } else {
                    Strategy::Cranelift
                })
                // No-op for Winch wasm bodies (single-pass codegen, no opt
                // pipeline).
                .cranelift_opt_level(OptLevel::None)
                // Single-pass regalloc trades codegen quality for compile
                // speed. Only applies to Cranelift (Winch has its own
                // regalloc and silently ignores this setting).
                .cranelift_regalloc_algorithm(RegallocAlgorithm::SinglePass)
                // Disable inlining. No-op on Winch (Winch doesn't inline)
                .compiler_inlining(Inlining::No)
                // Despite the `cranelift_` prefix, this setting also takes
                // effect on Winch (winch/codegen reads `enable_nan_canonicalization`
                // from the shared compiler flags at codegen time).
                .cranelift_nan_canonicalization(true)
                // Enable signals-based traps. This is required to elide explicit bounds-checking.
                .signals_based_traps(true)
                // Configure linear memories such that explicit bounds-checking can be elided.
                .force_memory_init_memfd(true)
                .memory_guaranteed_dense_image_size(0)
                .guard_before_linear_memory(false)
                .memory_guard_size(0)
                .memory_may_move(false)
                .memory_reservation(max_memory_size.try_into().unwrap_or(u64::MAX))
                .memory_reservation_for_growth(0)
                .wasm_wide_arithmetic(true);

            let config = Arc::clone(&vm_key.config);
            let engine = Engine::new(&engine_config).expect("failed to construct Wasmtime engine");
            let concurrency = ConcurrencySemaphore::new(max_tables);
            Self { config, engine, concurrency }
        });
        Ok(vm.clone())
    }

    pub(crate) fn vm_hash(&self) -> u64 {
        // increment the `version` when making modifications that affect the
        // artifact compatibility.
        let version = 73;

        let mut hasher = std::hash::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut hasher);
        hasher.write_u16(version);
        hasher.finish()
    }

    #[tracing::instrument(target = "vm", level = "debug", "WasmtimeVM::compile_uncached", skip_all)]
    pub(crate) fn compile_uncached(&self, code: &ContractCode) -> CachedArtifact {
        let start = std::time::Instant::now();
        let prepared_code = prepare::prepare_contract(code.code(), &self.config, VMKind::Wasmtime)
            .map_err(CompilationError::PrepareError)?;
        let serialized = self.engine.precompile_module(&prepared_code).map_err(|err| {
            tracing::debug!(
                target: "vm",
                ?err,
                code_hash = %code.hash(),
                code_size = code.code().len(),
                "wasmtime contract compilation failed",
            );
            CompilationError::WasmtimeCompileError { msg: err.to_string() }
        })?;

        let elapsed = start.elapsed();
        tracing::debug!(
            target: "vm",
            original_size = %code.code().len(),
            prepared_size = %prepared_code.len(),
            compiled_size = %serialized.len(),
            elapsed_ms = %elapsed.as_millis(),
            "wasmtime compiled contract",
        );

        #[cfg(feature = "metrics")]
        crate::metrics::compilation_duration(elapsed);
        Ok(serialized)
    }

    #[tracing::instrument(
        level = "debug",
        target = "vm",
        name = "Wasmtime::compile_and_cache",
        skip_all
    )]
    /// Compile a contract and store the result in the cache. Blocks on the
    /// per-key compilation lock while another thread is compiling the same
    /// contract — use when the caller needs the artifact (synchronous apply
    /// path, foreground pipelining).
    fn compile_and_cache(
        &self,
        code: &ContractCode,
        cache: &dyn ContractRuntimeCache,
    ) -> Result<CachedArtifact, CacheError> {
        let key = get_contract_cache_key(*code.hash(), &self.config, self.vm_hash());

        // Double-checked locking — outer step. An unlocked cache check before
        // touching `compilation_locks` lets already-cached cases skip both
        // mutex acquires entirely.
        if let Some(compiled) = read_cache(cache, &key)? {
            return Ok(compiled);
        }
        let entry = compilation_locks().entry(key);
        self.compile_and_persist(key, code, cache, entry.lock())
    }

    #[tracing::instrument(
        level = "debug",
        target = "vm",
        name = "Wasmtime::try_compile_and_cache",
        skip_all
    )]
    /// Like [`Self::compile_and_cache`], but returns `Ok(None)` when no
    /// fresh compile happened (cache hit or another thread holds the
    /// per-key lock).
    fn try_compile_and_cache(
        &self,
        code: &ContractCode,
        cache: &dyn ContractRuntimeCache,
    ) -> Result<Option<CachedArtifact>, CacheError> {
        let key = get_contract_cache_key(*code.hash(), &self.config, self.vm_hash());
        if cache.has(&key).map_err(CacheError::ReadError)? {
            return Ok(None);
        }
        let entry = compilation_locks().entry(key);
        let Some(guard) = entry.try_lock() else {
            tracing::trace!(
                target: "vm",
                %key,
                "deferring warming compile to in-flight compiler"
            );
            return Ok(None);
        };
        self.compile_and_persist(key, code, cache, guard).map(Some)
    }

    /// Inner Double-Checked-Lock: re-check + actual compile + cache write.
    fn compile_and_persist(
        &self,
        key: CryptoHash,
        code: &ContractCode,
        cache: &dyn ContractRuntimeCache,
        _lock_guard: MutexGuard<'_, ()>,
    ) -> Result<CachedArtifact, CacheError> {
        // The cache may have been populated while we waited on the per-key lock.
        if let Some(compiled) = read_cache(cache, &key)? {
            return Ok(compiled);
        }
        let serialized_or_error = self.compile_uncached(code);
        let record = CompiledContractInfo {
            wasm_bytes: code.code().len() as u64,
            compiled: match &serialized_or_error {
                Ok(serialized) => CompiledContract::Code(serialized.clone()),
                Err(err) => CompiledContract::CompileModuleError(err.clone()),
            },
        };
        cache.put(&key, record).map_err(CacheError::WriteError)?;
        Ok(serialized_or_error)
    }

    #[tracing::instrument(
        level = "debug",
        target = "vm",
        name = "Wasmtime::with_compiled_and_loaded",
        skip_all
    )]
    fn with_compiled_and_loaded(
        &self,
        cache: &dyn ContractRuntimeCache,
        contract: &dyn Contract,
        mut gas_counter: GasCounter,
        method: &str,
        closure: impl FnOnce(
            GasCounter,
            Result<PreparedModule, FunctionCallError>,
        ) -> VMResult<PreparedContract>,
    ) -> VMResult<PreparedContract> {
        type MemoryCacheType =
            (u64, Result<Result<PreparedModule, FunctionCallError>, CompilationError>);
        let to_any = |v: MemoryCacheType| -> Box<dyn std::any::Any + Send> { Box::new(v) };
        let mut is_cache_hit = true;
        let mut is_memory_hit = true;
        let key = get_contract_cache_key(contract.hash(), &self.config, self.vm_hash());
        cache.touch(&key);
        let (wasm_bytes, pre_result) = cache.memory_cache().try_lookup(
            key,
            || {
                is_memory_hit = false;
                let cache_record = cache.get(&key).map_err(CacheError::ReadError)?;
                let (wasm_bytes, module) =
                    if let Some(CompiledContractInfo { wasm_bytes, compiled }) = cache_record {
                        match compiled {
                            CompiledContract::CompileModuleError(err) => {
                                return Ok((
                                    err.size_bytes_approximate() as u64,
                                    to_any((wasm_bytes, Err(err))),
                                ));
                            }
                            CompiledContract::Code(module) => (wasm_bytes, module),
                        }
                    } else {
                        is_cache_hit = false;
                        let Some(code) = contract.get_code() else {
                            return Err(VMRunnerError::ContractCodeNotPresent);
                        };
                        let wasm_bytes = code.code().len() as u64;
                        match self.compile_and_cache(&code, cache)? {
                            Err(err) => {
                                return Ok((
                                    err.size_bytes_approximate() as u64,
                                    to_any((wasm_bytes, Err(err))),
                                ));
                            }
                            Ok(module) => (wasm_bytes, module),
                        }
                    };
                // (UN-)SAFETY: the `module` must have been produced by
                // a prior call to `serialize`.
                //
                // In practice this is not necessarily true. One could have
                // forgotten to change the cache key when upgrading the version of
                // the near_vm library or the database could have had its data
                // corrupted while at rest.
                //
                // There should definitely be some validation in near_vm to ensure
                // we load what we think we load.
                let compiled_size = module.len();
                let module = match unsafe { Module::deserialize(&self.engine, &module) } {
                    Ok(module) => module,
                    Err(err) => {
                        // Propagate failed contract loading as a cached `FunctionCallError`, mirroring
                        // the memory-export check below, so it flows through the fee-charge points
                        // and finalizes as a gas-bearing abort.
                        if self.config.fix_contract_loading_error {
                            let err = FunctionCallError::LoadingError { msg: err.to_string() };
                            return Ok((
                                err.size_bytes_approximate() as u64,
                                to_any((wasm_bytes, Ok(Err(err)))),
                            ));
                        }
                        return Err(VMRunnerError::LoadingError(err.to_string()));
                    }
                };
                let Some(memory) = module.get_export_index(MEMORY_EXPORT) else {
                    let err = FunctionCallError::LinkError { msg: "memory export missing".into() };
                    return Ok((
                        err.size_bytes_approximate() as u64,
                        to_any((wasm_bytes, Ok(Err(err)))),
                    ));
                };
                let remaining_gas = module.get_export_index(REMAINING_GAS_EXPORT);
                let start = module.get_export_index(START_EXPORT);
                let mut linker = Linker::new(&self.engine);
                link(&mut linker, &self.config);
                match linker.instantiate_pre(&module) {
                    Err(err) => {
                        let err = err.into_vm_error()?;
                        Ok((
                            err.size_bytes_approximate() as u64,
                            to_any((wasm_bytes, Ok(Err(err)))),
                        ))
                    }
                    Ok(pre) => {
                        let ResourcesRequired { num_tables, .. } = module.resources_required();
                        // The module `weight` is estimated as its serialized size. This is a
                        // rough approximation as the runtime metadata size is not included.
                        // Should be sufficient for our purposes.
                        Ok((
                            compiled_size as u64,
                            to_any((
                                wasm_bytes,
                                Ok(Ok(PreparedModule {
                                    pre,
                                    memory,
                                    remaining_gas,
                                    start,
                                    num_tables,
                                })),
                            )),
                        ))
                    }
                }
            },
            move |value| {
                let &(wasm_bytes, ref downcast) = value
                    .downcast_ref::<MemoryCacheType>()
                    .expect("downcast should always succeed");

                (wasm_bytes, downcast.clone())
            },
        )?;

        #[cfg(feature = "metrics")]
        crate::metrics::record_compiled_contract_cache_lookup(is_cache_hit, is_memory_hit);
        let config = Arc::clone(&self.config);
        let result = gas_counter.before_loading_executable(&config, &method, wasm_bytes);
        if let Err(e) = result {
            let result = PreparationResult::OutcomeAbort(e);
            return Ok(PreparedContract { config, gas_counter, result });
        }
        match pre_result {
            Ok(res) => {
                let result = gas_counter.after_loading_executable(&config, wasm_bytes);
                if let Err(e) = result {
                    let result = PreparationResult::OutcomeAbort(e);
                    return Ok(PreparedContract { config, gas_counter, result });
                }
                closure(gas_counter, res)
            }
            Err(e) => {
                let result =
                    PreparationResult::OutcomeAbort(FunctionCallError::CompilationError(e));
                return Ok(PreparedContract { config, gas_counter, result });
            }
        }
    }
}

impl crate::runner::VM for WasmtimeVM {
    fn vm_hash(&self) -> u64 {
        // Wrap the inherent helper of the same name; the body is here only
        // for trait dispatch from `get_contract_cache_key` callers that
        // hold a `&dyn VM`.
        WasmtimeVM::vm_hash(self)
    }

    fn contract_cached(
        &self,
        cache: &dyn ContractRuntimeCache,
        hash: near_primitives_core::hash::CryptoHash,
    ) -> Result<bool, crate::logic::errors::CacheError> {
        let key = get_contract_cache_key(hash, &self.config, self.vm_hash());
        // Check if we already cached with such a key.
        cache.has(&key).map_err(CacheError::ReadError)
    }

    fn precompile(
        &self,
        code: &ContractCode,
        cache: &dyn ContractRuntimeCache,
    ) -> Result<
        Result<ContractPrecompilatonResult, CompilationError>,
        crate::logic::errors::CacheError,
    > {
        if self.contract_cached(cache, *code.hash())? {
            return Ok(Ok(ContractPrecompilatonResult::ContractAlreadyInCache));
        }
        Ok(self
            .compile_and_cache(code, cache)?
            .map(|_| ContractPrecompilatonResult::ContractCompiled))
    }

    fn try_precompile(
        &self,
        code: &ContractCode,
        cache: &dyn ContractRuntimeCache,
    ) -> Result<
        Result<ContractPrecompilatonResult, CompilationError>,
        crate::logic::errors::CacheError,
    > {
        if self.contract_cached(cache, *code.hash())? {
            return Ok(Ok(ContractPrecompilatonResult::ContractAlreadyInCache));
        }
        match self.try_compile_and_cache(code, cache)? {
            // Either the cache was populated between our outer `contract_cached`
            // check and the inner one, or another thread holds the per-key lock
            // and is compiling — both cases resolve to `ContractAlreadyInCache`.
            None => Ok(Ok(ContractPrecompilatonResult::ContractAlreadyInCache)),
            Some(result) => Ok(result.map(|_| ContractPrecompilatonResult::ContractCompiled)),
        }
    }

    fn prepare(
        self: Box<Self>,
        code: &dyn Contract,
        cache: Option<&dyn ContractRuntimeCache>,
        gas_counter: GasCounter,
        method: &str,
    ) -> Box<dyn crate::PreparedContract> {
        let cache = cache.unwrap_or(&NoContractRuntimeCache);
        let prepd =
            self.with_compiled_and_loaded(cache, code, gas_counter, method, |gas_counter, pre| {
                let config = Arc::clone(&self.config);
                match pre {
                    Ok(PreparedModule { pre, memory, remaining_gas, start, num_tables }) => {
                        let method = format!("{EXPORT_PREFIX}{method}");
                        let Some(ExternType::Func(func_type)) = pre.module().get_export(&method)
                        else {
                            let e = FunctionCallError::MethodResolveError(
                                MethodResolveError::MethodNotFound,
                            );
                            let result = PreparationResult::OutcomeAbortButNopInOldProtocol(e);
                            return Ok(PreparedContract { config, gas_counter, result });
                        };
                        if func_type.params().len() != 0 || func_type.results().len() != 0 {
                            let e = FunctionCallError::MethodResolveError(
                                MethodResolveError::MethodInvalidSignature,
                            );
                            let result = PreparationResult::OutcomeAbortButNopInOldProtocol(e);
                            return Ok(PreparedContract { config, gas_counter, result });
                        }

                        let result = PreparationResult::Ready(ReadyContract {
                            pre,
                            memory,
                            remaining_gas,
                            start,
                            num_tables,
                            method: method.into(),
                            concurrency: self.concurrency.clone(),
                        });
                        Ok(PreparedContract { config, gas_counter, result })
                    }
                    Err(err) => {
                        let result = PreparationResult::OutcomeAbort(err);
                        Ok(PreparedContract { config, gas_counter, result })
                    }
                }
            });
        Box::new(prepd)
    }
}

struct ReadyContract {
    pre: InstancePre<Ctx>,
    memory: ModuleExport,
    remaining_gas: Option<ModuleExport>,
    start: Option<ModuleExport>,
    method: Box<str>,
    num_tables: u32,
    concurrency: ConcurrencySemaphore,
}

struct PreparedContract {
    config: Arc<Config>,
    gas_counter: GasCounter,
    result: PreparationResult,
}

#[allow(clippy::large_enum_variant)]
enum PreparationResult {
    OutcomeAbortButNopInOldProtocol(FunctionCallError),
    OutcomeAbort(FunctionCallError),
    Ready(ReadyContract),
}

/// How running the contract's entry point ended, before it is turned into a [`VMOutcome`].
///
/// Building a [`VMOutcome`] consumes the [`ExecutionResultState`], which lives inside the [`Ctx`]
/// owned by the wasmtime `Store` for as long as the module is running. [`call`] therefore only
/// reports how the run ended; the outcome is built once the store has been consumed.
enum RunOutcome {
    Ok,
    AbortNop(FunctionCallError),
    Abort(FunctionCallError),
}

fn call(
    mut store: &mut Store<Ctx>,
    instance: Instance,
    method: &str,
) -> Result<RunOutcome, VMRunnerError> {
    let Some(func) = instance.get_func(&mut store, method) else {
        return Ok(RunOutcome::AbortNop(FunctionCallError::MethodResolveError(
            MethodResolveError::MethodNotFound,
        )));
    };
    match func.typed(&mut store) {
        Ok(run) => match run.call(store, ()) {
            Ok(()) => Ok(RunOutcome::Ok),
            Err(err) => err.into_vm_error().map(RunOutcome::Abort),
        },
        Err(err) => err.into_vm_error().map(RunOutcome::Abort),
    }
}

impl crate::PreparedContract for VMResult<PreparedContract> {
    fn run(
        self: Box<Self>,
        ext: &mut dyn External,
        context: &VMContext,
        fees_config: Arc<RuntimeFeesConfig>,
    ) -> VMResult {
        let PreparedContract { config, gas_counter, result } = (*self)?;
        let result_state = ExecutionResultState::new(&context, gas_counter, config);
        let ReadyContract { pre, memory, remaining_gas, start, method, num_tables, concurrency } =
            match result {
                PreparationResult::Ready(r) => r,
                PreparationResult::OutcomeAbortButNopInOldProtocol(e) => {
                    return Ok(VMOutcome::abort_but_nop_outcome_in_old_protocol(result_state, e));
                }
                PreparationResult::OutcomeAbort(e) => {
                    return Ok(VMOutcome::abort(result_state, e));
                }
            };

        // SAFETY:
        // Although the 'static here is a lie, we are pretty confident that the `External` and
        // VMContext here only live for the duration of the contract method call
        // (which is covered by the original lifetime).
        let ext = unsafe { transmute::<&mut dyn External, &'static mut dyn External>(ext) };
        let context = unsafe { transmute::<&VMContext, &'static VMContext>(context) };
        let ctx = Ctx::new(ext, context, fees_config, result_state, memory);

        let mut store = Store::<Ctx>::new(pre.module().engine(), ctx);
        store.limiter(|ctx| &mut ctx.limits);
        let Some(_permit) = concurrency.try_acquire(num_tables) else {
            let result_state = store.into_data().host.into_result_state();
            return Ok(VMOutcome::abort(
                result_state,
                FunctionCallError::LinkError { msg: "failed to acquire execution slot".into() },
            ));
        };
        let instance = match pre.instantiate(&mut store) {
            Ok(instance) => instance,
            Err(err) => {
                let err = err.into_vm_error()?;
                let result_state = store.into_data().host.into_result_state();
                return Ok(VMOutcome::abort(result_state, err));
            }
        };
        // Pre-resolve the memory export here (on the real, post-instantiation
        // instance) so host functions don't need to resolve it lazily.
        //
        // The lazy Caller::get_module_export → module_for_instance().unwrap()
        // path panics when the Caller's instance is a Dummy host-side
        // trampoline for a re-exported host function (module_for_instance
        // returns None for Dummy instances). See test_panic_re_export and
        // test_trampoline_only_* for regression coverage.
        if let Export::Unresolved(memory_export) = store.data().memory {
            if let Some(Extern::Memory(memory)) =
                instance.get_module_export(&mut store, &memory_export)
            {
                store.data_mut().memory = Export::Resolved(memory);
            }
        }
        if let Some(global) = remaining_gas {
            let Some(Extern::Global(global)) = instance.get_module_export(&mut store, &global)
            else {
                panic!("gas global export was present on the module, but not on the instance");
            };
            store.call_hook(move |mut store, hook| {
                match hook {
                    CallHook::CallingHost | CallHook::ReturningFromWasm => {
                        let Val::I64(remaining_gas) = global.get(&mut store) else {
                            panic!("gas global export is not i64");
                        };
                        let host = &mut store.data_mut().host;
                        let burned = host
                            .result_state
                            .gas_counter
                            .remaining_gas()
                            .saturating_sub(Gas::from_gas(remaining_gas as _));
                        if burned.as_gas() > 0 {
                            host.result_state.gas_counter.burn_gas(burned)?;
                        }
                    }
                    CallHook::ReturningFromHost | CallHook::CallingWasm => {
                        let remaining_gas =
                            store.data().host.result_state.gas_counter.remaining_gas();
                        global
                            .set(&mut store, Val::I64(remaining_gas.as_gas() as _))
                            .expect("failed to set gas global export")
                    }
                }
                Ok(())
            });
        }
        if let Some(start) = start {
            let Some(Extern::Func(start)) = instance.get_module_export(&mut store, &start) else {
                panic!("start function export was present on the module, but not on the instance");
            };
            if let Err(err) = start.call(&mut store, &[], &mut []) {
                let err = err.into_vm_error()?;
                let result_state = store.into_data().host.into_result_state();
                return Ok(VMOutcome::abort(result_state, err));
            }
        }

        let res = call(&mut store, instance, &method);
        let result_state = store.into_data().host.into_result_state();
        match res? {
            RunOutcome::Ok => Ok(VMOutcome::ok(result_state)),
            RunOutcome::AbortNop(error) => {
                Ok(VMOutcome::abort_but_nop_outcome_in_old_protocol(result_state, error))
            }
            RunOutcome::Abort(error) => Ok(VMOutcome::abort(result_state, error)),
        }
    }
}

/// This is a container from which an error can be taken out by value. This is necessary as
/// `anyhow` does not really give any opportunity to grab causes by value and the VM Logic
/// errors end up a couple layers deep in a causal chain.
#[derive(Debug)]
pub(crate) struct ErrorContainer(Mutex<Option<VMLogicError>>);
impl ErrorContainer {
    pub(crate) fn take(&self) -> Option<VMLogicError> {
        self.0.lock().take()
    }
}
impl std::error::Error for ErrorContainer {}
impl std::fmt::Display for ErrorContainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VMLogic error occurred and is now stored in an opaque storage container")
    }
}

fn get_memory(caller: &mut wasmtime::Caller<'_, Ctx>) -> Result<Memory, VMLogicError> {
    use crate::logic::HostError;
    match caller.data().memory {
        Export::Unresolved(memory) => {
            let Some(Extern::Memory(memory)) = caller.get_module_export(&memory) else {
                return Err(HostError::MemoryAccessViolation.into());
            };
            caller.data_mut().memory = Export::Resolved(memory);
            Ok(memory)
        }
        Export::Resolved(memory) => Ok(memory),
    }
}

fn link(linker: &mut wasmtime::Linker<Ctx>, config: &Config) {
    macro_rules! add_import {
        (
          $mod:ident / $name:ident : $func:ident < [ $( $arg_name:ident : $arg_type:ident ),* ] -> [ $( $returns:ident ),* ] >
        ) => {
            #[allow(unused_parens)]
            fn $name(mut caller: wasmtime::Caller<'_, Ctx>, $( $arg_name: $arg_type ),* ) -> wasmtime::Result<($( $returns ),*)> {
                const TRACE: bool = imports::should_trace_host_function(stringify!($name));
                let _span = TRACE.then(|| {
                    tracing::trace_span!(target: "vm::host_function", stringify!($name)).entered()
                });
                let memory = match get_memory(&mut caller) {
                    Ok(m) => m,
                    Err(err) => return Err(ErrorContainer(Mutex::new(Some(err))).into()),
                };
                let (memory, ctx) = memory.data_and_store_mut(&mut caller);
                match logic::$func(&mut ctx.host, memory, $( $arg_name as $arg_type, )*) {
                    Ok(result) => Ok(result as ($( $returns ),* ) ),
                    Err(err) => {
                        Err(ErrorContainer(Mutex::new(Some(err))).into())
                    }
                }
            }

            linker.func_wrap(stringify!($mod), stringify!($name), $name).expect("cannot link external");
        };
    }
    imports::for_each_available_import!(config, add_import);
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::array;
    use std::thread::{scope, spawn, yield_now};

    #[test]
    fn test_semaphore() {
        const MAX_TABLES: u32 = 5 * MAX_CONCURRENCY;

        let concurrency = ConcurrencySemaphore::new(MAX_TABLES);
        let permit = concurrency.try_acquire(MAX_TABLES).expect("failed to acquire permit");
        let thread = spawn({
            let concurrency = concurrency.clone();
            move || concurrency.try_acquire(1).is_some()
        });
        yield_now();
        assert!(!thread.is_finished());
        drop(permit);
        let acquired = thread.join().expect("failed to join thread");
        assert!(acquired);

        assert!(concurrency.try_reserve_tables(MAX_TABLES));
        assert!(!concurrency.try_reserve_tables(1));
        assert_eq!(concurrency.release_tables(MAX_TABLES), u64::from(MAX_TABLES + 1));
        assert_eq!(concurrency.release_tables(1), 1);
        assert!(concurrency.try_reserve_tables(2));
        assert_eq!(concurrency.release_tables(1), 2);
        assert_eq!(concurrency.release_tables(1), 1);

        scope(|scope| {
            let permits: [_; MAX_CONCURRENCY as _] = array::from_fn(|_| {
                scope.spawn(|| concurrency.try_acquire(MAX_TABLES / MAX_CONCURRENCY))
            });
            let permits = permits.map(|thread| {
                thread.join().expect("failed to join thread").expect("failed to acquire permit")
            });
            assert!(!concurrency.try_reserve_instance());
            assert_eq!(concurrency.release_instance(), u64::from(MAX_CONCURRENCY + 1));

            let thread = spawn({
                let concurrency = concurrency.clone();
                move || concurrency.try_acquire(MAX_TABLES).is_some()
            });
            let mut permits = Vec::from(permits);
            let permit = permits.pop().expect("last permit missing");
            for permit in permits {
                drop(permit);
                yield_now();
                assert!(!thread.is_finished());
            }

            yield_now();
            assert!(!thread.is_finished());
            drop(permit);

            let acquired = thread.join().expect("failed to join thread");
            assert!(acquired);
        });

        scope(|scope| {
            let permits: [_; MAX_CONCURRENCY as _] =
                array::from_fn(|_| scope.spawn(|| concurrency.try_acquire(0)));
            let permits = permits.map(|thread| {
                thread.join().expect("failed to join thread").expect("failed to acquire permit")
            });
            assert!(!concurrency.try_reserve_instance());
            assert_eq!(concurrency.release_instance(), u64::from(MAX_CONCURRENCY + 1));

            let thread = spawn({
                let concurrency = concurrency.clone();
                move || concurrency.try_acquire(0).is_some()
            });

            yield_now();
            assert!(!thread.is_finished());
            drop(permits);

            let acquired = thread.join().expect("failed to join thread");
            assert!(acquired);
        });
    }

    /// Verifies that the engine produced by [`WasmtimeVM`] canonicalizes
    /// floating-point NaN payloads.
    ///
    /// We pass a NaN with a non-canonical payload through `f{32,64}.add`
    /// (the second operand is a runtime value to defeat constant folding)
    /// and assert the result is the canonical NaN bit pattern.
    #[test]
    fn nan_canonicalization() {
        let config = crate::tests::test_vm_config(Some(VMKind::Wasmtime));
        let vm = WasmtimeVM::new_for_target(Arc::new(config), None).unwrap();

        let wat_src = r#"
            (module
                (func (export "f32_add") (param f32 f32) (result f32)
                    local.get 0
                    local.get 1
                    f32.add)
                (func (export "f64_add") (param f64 f64) (result f64)
                    local.get 0
                    local.get 1
                    f64.add)
            )
        "#;
        let wasm = wat::parse_str(wat_src).unwrap();
        let module = Module::new(&vm.engine, &wasm).unwrap();
        let mut store = Store::new(&vm.engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();

        // Quiet NaN with a non-canonical payload (canonical f32 NaN is
        // 0x7fc00000, with all-zero significand bits below the quiet bit).
        let f32_in = f32::from_bits(0x7fc1_2345);
        let f32_add = instance.get_typed_func::<(f32, f32), f32>(&mut store, "f32_add").unwrap();
        let out = f32_add.call(&mut store, (f32_in, 0.0)).unwrap();
        assert_eq!(
            out.to_bits() & 0x7fff_ffff,
            0x7fc0_0000,
            "f32 NaN payload not canonicalized: 0x{:08x}",
            out.to_bits(),
        );

        let f64_in = f64::from_bits(0x7ff8_0000_0001_2345);
        let f64_add = instance.get_typed_func::<(f64, f64), f64>(&mut store, "f64_add").unwrap();
        let out = f64_add.call(&mut store, (f64_in, 0.0)).unwrap();
        assert_eq!(
            out.to_bits() & 0x7fff_ffff_ffff_ffff,
            0x7ff8_0000_0000_0000,
            "f64 NaN payload not canonicalized: 0x{:016x}",
            out.to_bits(),
        );
    }
}
