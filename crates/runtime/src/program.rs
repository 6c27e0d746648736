//! A compiled program, ready to instantiate many times, and the cache that
//! makes sure each binary is compiled once however many executions ask.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::InstancePre;
use wasmtime_wasi::p2::bindings::CommandPre;

use crate::execution::P1Engine;
use crate::outcome::{ErrorKind, Failure};
use crate::wasi_p1::P1Host;
use crate::wasmtime_engine::P2State;

/// What kind of binary it is, and which engine holds it.
pub(crate) enum Compiled {
    WasmtimeModule(InstancePre<P1Host>),
    WasmtimeComponent(CommandPre<P2State>),
    WasmiModule(wasmi::Module),
}

/// A validated, compiled program. Cheap to share across threads.
pub struct Program {
    pub(crate) sha256: [u8; 32],
    pub(crate) compiled: Compiled,
    pub(crate) compile_time: Duration,
}

impl Program {
    /// SHA-256 of the binary.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    /// True for a P2 component.
    pub fn is_component(&self) -> bool {
        matches!(self.compiled, Compiled::WasmtimeComponent(_))
    }

    /// How long validation and compilation took.
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("sha256", &hex::encode(self.sha256))
            .field("component", &self.is_component())
            .finish()
    }
}

/// Core module or component, from the header alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinaryKind {
    Module,
    Component,
}

pub(crate) fn detect(wasm: &[u8]) -> Result<BinaryKind, Failure> {
    // `\0asm`, then version 1 layer 0 (core module) or version 0xd layer 1
    // (component, the current binary encoding).
    match wasm.get(..8) {
        Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => Ok(BinaryKind::Module),
        Some([0, b'a', b's', b'm', _, _, 1, 0]) => Ok(BinaryKind::Component),
        _ => Err(Failure::new(
            ErrorKind::InvalidProgram,
            "not a WebAssembly binary",
        )),
    }
}

pub(crate) fn sha256(wasm: &[u8]) -> [u8; 32] {
    Sha256::digest(wasm).into()
}

type Slot = Arc<OnceLock<Result<Arc<Program>, Failure>>>;
/// The engine the program was compiled for and the SHA-256 of its bytes.
type CacheKey = (P1Engine, [u8; 32]);

/// Compiled programs by (SHA-256, engine). Concurrent loads of one binary
/// wait for a single compilation; least recently used entries are evicted.
pub(crate) struct ProgramCache {
    capacity: usize,
    entries: Mutex<HashMap<CacheKey, (Slot, u64)>>,
    clock: std::sync::atomic::AtomicU64,
}

impl ProgramCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
            clock: Default::default(),
        }
    }

    pub(crate) fn get_or_compile(
        &self,
        key: CacheKey,
        compile: impl FnOnce() -> Result<Compiled, Failure>,
    ) -> Result<Arc<Program>, Failure> {
        let tick = self
            .clock
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let slot = {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            match entries.get_mut(&key) {
                Some((slot, used)) => {
                    *used = tick;
                    slot.clone()
                }
                None => {
                    if entries.len() >= self.capacity
                        && let Some(oldest) = entries
                            .iter()
                            .min_by_key(|(_, (_, used))| *used)
                            .map(|(k, _)| *k)
                    {
                        entries.remove(&oldest);
                    }
                    let slot: Slot = Arc::default();
                    entries.insert(key, (slot.clone(), tick));
                    slot
                }
            }
        };
        let result = slot.get_or_init(|| {
            let started = Instant::now();
            compile().map(|compiled| {
                Arc::new(Program {
                    sha256: key.1,
                    compiled,
                    compile_time: started.elapsed(),
                })
            })
        });
        if result.is_err() {
            // Refusals are cheap to repeat; do not let them take cache space.
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if entries
                .get(&key)
                .is_some_and(|(s, _)| Arc::ptr_eq(s, &slot))
            {
                entries.remove(&key);
            }
        }
        result.clone()
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}
