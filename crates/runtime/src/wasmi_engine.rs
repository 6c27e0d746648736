//! wasmi: an interpreter for WASI P1 modules. wasmi has no epoch
//! interruption, so the deadline is enforced between fuel slices: the program
//! runs on a slice of its budget, and each time the slice runs out we check
//! the clock, then resume it with the next slice.

use std::time::Instant;

use wasmi::{Engine, Linker, Module, Store, TypedResumableCall};

use crate::classify::{RunEnd, classify_wasmi, finish};
use crate::config::RuntimeConfig;
use crate::execution::Execution;
use crate::guest::{DeadlineExceeded, Guest};
use crate::outcome::{ErrorKind, Failure, Outcome};
use crate::wasi_p1::{self, P1Host};

/// Fuel per slice: small enough that the deadline is checked every few
/// milliseconds, large enough that resuming costs nothing measurable.
const FUEL_SLICE: u64 = 10_000_000;

pub(crate) struct WasmiEngine {
    engine: Engine,
    linker: Linker<P1Host>,
    provided: Vec<&'static str>,
}

impl WasmiEngine {
    pub(crate) fn new() -> Result<Self, wasmi::Error> {
        let mut config = wasmi::Config::default();
        config.consume_fuel(true);
        let engine = Engine::new(&config);
        let mut linker = Linker::new(&engine);
        let provided = wasi_p1::wasmi_p1::add_to_linker(&mut linker)?;
        Ok(Self {
            engine,
            linker,
            provided,
        })
    }

    /// Validates and translates a module; refuses what it could never run.
    pub(crate) fn compile(&self, wasm: &[u8]) -> Result<Module, Failure> {
        let module = Module::new(&self.engine, wasm)
            .map_err(|e| Failure::new(ErrorKind::InvalidProgram, e.to_string()))?;
        for import in module.imports() {
            let known = import.module() == wasi_p1::WASI_MODULE
                && matches!(import.ty(), wasmi::ExternType::Func(_))
                && self.provided.contains(&import.name());
            if !known {
                return Err(Failure::new(
                    ErrorKind::InvalidProgram,
                    format!(
                        "imports something the sandbox does not provide: `{}::{}`",
                        import.module(),
                        import.name()
                    ),
                ));
            }
        }
        let has_start = module
            .exports()
            .any(|e| e.name() == "_start" && matches!(e.ty(), wasmi::ExternType::Func(_)));
        if !has_start {
            return Err(Failure::new(
                ErrorKind::MissingEntrypoint,
                "module does not export a `_start` function (WASI P1 command)",
            ));
        }
        Ok(module)
    }

    pub(crate) fn run(
        &self,
        module: &Module,
        config: &RuntimeConfig,
        execution: &Execution,
        guest: Guest,
    ) -> Outcome {
        let budget = execution.limits.max_instructions;
        let state = P1Host::new(execution, config, guest);
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        let (end, remaining) = self.drive(&mut store, module, budget);
        let instructions = match &end {
            RunEnd::Failed(f)
                if matches!(f.kind, ErrorKind::Timeout | ErrorKind::FuelExhausted) =>
            {
                budget
            }
            _ => budget.saturating_sub(remaining),
        };
        let state = store.into_data();
        let peak = state.limiter.peak_memory_bytes();
        finish(execution, &state.guest, end, instructions, peak)
    }

    /// Instantiates and runs `_start` in fuel slices. Returns how the run
    /// ended and the fuel left unspent.
    fn drive(&self, store: &mut Store<P1Host>, module: &Module, budget: u64) -> (RunEnd, u64) {
        let fail = |store: &Store<P1Host>, error: &wasmi::Error| {
            classify_wasmi(error, store.data().limiter.denied())
        };
        // A start section cannot be resumed: it runs on the whole budget.
        store.set_fuel(budget).expect("fuel is enabled");
        let instance = match self.linker.instantiate_and_start(&mut *store, module) {
            Ok(instance) => instance,
            Err(e) => return (fail(store, &e), store.get_fuel().unwrap_or(0)),
        };
        let start = match instance.get_typed_func::<(), ()>(&*store, "_start") {
            Ok(f) => f,
            Err(e) => return (fail(store, &e), store.get_fuel().unwrap_or(0)),
        };
        let mut unsliced = store.get_fuel().unwrap_or(0);
        let mut next_slice = |store: &mut Store<P1Host>, needed: u64| -> bool {
            let slice = FUEL_SLICE.max(needed).min(unsliced);
            if slice == 0 || slice < needed {
                return false;
            }
            unsliced -= slice;
            store.set_fuel(slice).expect("fuel is enabled");
            true
        };
        next_slice(store, 0);
        let mut call = start.call_resumable(&mut *store, ());
        loop {
            match call {
                Ok(TypedResumableCall::Finished(())) => {
                    return (RunEnd::Completed, unsliced + store.get_fuel().unwrap_or(0));
                }
                Ok(TypedResumableCall::OutOfFuel(invocation)) => {
                    if Instant::now() >= store.data().guest.deadline {
                        let seconds = store.data().deadline_seconds;
                        let e = DeadlineExceeded { seconds };
                        return (
                            RunEnd::Failed(Failure::new(ErrorKind::Timeout, e.to_string())),
                            0,
                        );
                    }
                    if !next_slice(store, invocation.required_fuel()) {
                        let e = wasmi::Error::from(wasmi::TrapCode::OutOfFuel);
                        return (fail(store, &e), 0);
                    }
                    call = invocation.resume(&mut *store);
                }
                Ok(TypedResumableCall::HostTrap(invocation)) => {
                    let end = fail(store, invocation.host_error());
                    return (end, unsliced + store.get_fuel().unwrap_or(0));
                }
                Err(error) => {
                    return (
                        fail(store, &error),
                        unsliced + store.get_fuel().unwrap_or(0),
                    );
                }
            }
        }
    }
}
