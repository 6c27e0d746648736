use near_parameters::vm;
#[allow(unused_imports)]
use opts::*;

#[allow(dead_code)]
mod opts {
    pub(super) const MULTI_VALUE: bool = false;
    pub(super) const SIMD: bool = false;
    pub(super) const THREADS: bool = false;
    pub(super) const TAIL_CALL: bool = false;
    pub(super) const MULTI_MEMORY: bool = false;
    pub(super) const MEMORY64: bool = false;
    pub(super) const SATURATING_FLOAT_TO_INT: bool = true;
    pub(super) const EXCEPTIONS: bool = false;
    pub(super) const RELAXED_SIMD: bool = false;
    pub(super) const EXTENDED_COST: bool = false;
    pub(super) const COMPONENT_MODEL: bool = false;
    pub(super) const GC: bool = false;
    pub(super) const FUNCTION_REFERENCES: bool = false;
    pub(super) const MEMORY_CONTROL: bool = false;
    pub(super) const SIGN_EXTENSION: bool = true;
    pub(super) const STACK_SWITCHING: bool = false;
    pub(super) const WIDE_ARITHMETIC: bool = false;
    pub(super) const CUSTOM_PAGE_SIZES: bool = false;
}

#[derive(Clone, Copy)]
#[allow(unused)]
pub struct WasmFeatures {
    reftypes_bulk_memory: bool,
}

impl WasmFeatures {
    #[allow(unused)]
    pub fn new(config: &vm::Config) -> Self {
        Self { reftypes_bulk_memory: config.reftypes_bulk_memory }
    }
}

#[cfg(feature = "finite-wasm-6")]
impl From<WasmFeatures> for finite_wasm_6::wasmparser::WasmFeatures {
    fn from(f: WasmFeatures) -> Self {
        finite_wasm_6::wasmparser::WasmFeaturesInflated {
            floats: true,
            mutable_global: true,
            sign_extension: SIGN_EXTENSION,
            reference_types: f.reftypes_bulk_memory,
            bulk_memory: f.reftypes_bulk_memory,

            // wasmer singlepass compiler requires multi_value return values to be disabled.
            multi_value: MULTI_VALUE,
            simd: SIMD,
            threads: THREADS,
            shared_everything_threads: THREADS,
            tail_call: TAIL_CALL,
            multi_memory: MULTI_MEMORY,
            exceptions: EXCEPTIONS,
            legacy_exceptions: EXCEPTIONS,
            memory64: MEMORY64,
            saturating_float_to_int: SATURATING_FLOAT_TO_INT,
            relaxed_simd: RELAXED_SIMD,
            extended_const: EXTENDED_COST,
            component_model: COMPONENT_MODEL,
            cm_values: COMPONENT_MODEL,
            cm_nested_names: COMPONENT_MODEL,
            cm_async: COMPONENT_MODEL,
            cm_async_stackful: COMPONENT_MODEL,
            cm_async_builtins: COMPONENT_MODEL,
            function_references: FUNCTION_REFERENCES,
            memory_control: MEMORY_CONTROL,
            gc: GC,
            gc_types: GC,
            custom_page_sizes: CUSTOM_PAGE_SIZES,
            stack_switching: STACK_SWITCHING,
            wide_arithmetic: WIDE_ARITHMETIC,
        }
        .into()
    }
}

#[cfg(feature = "wasmtime_vm")]
impl From<WasmFeatures> for wasmtime::Config {
    fn from(_: WasmFeatures) -> Self {
        // preparation code did all the filtering necessary already. Default configuration supports
        // all the necessary features (and, yes, enables more of them.)
        wasmtime::Config::default()
    }
}
