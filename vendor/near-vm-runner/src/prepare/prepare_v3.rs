use super::instrument_v3::InstrumentContext;
use crate::logic::errors::PrepareError;
use crate::{EXPORT_PREFIX, MEMORY_EXPORT};
use finite_wasm_6::{Fee, wasmparser as wp};
use near_parameters::vm::{Config, VMKind};
use wasm_encoder::{Encode, Section, SectionId};

struct PrepareContext<'a> {
    code: &'a [u8],
    config: &'a Config,
    output_code: Vec<u8>,
    function_limit: u64,
    local_limit: u64,
    function_body_size_limit: u64,
    table_limit: u32,
    table_element_limit: u64,
    type_limit: u64,
    global_limit: u64,
    validator: wp::Validator,
    func_validator_allocations: wp::FuncValidatorAllocations,
    before_import_section: bool,
    before_memory_section: bool,
    before_export_section: bool,
}

impl<'a> PrepareContext<'a> {
    fn new(code: &'a [u8], features: crate::features::WasmFeatures, config: &'a Config) -> Self {
        let limits = &config.limit_config;
        let table_element_limit = limits
            .max_elements_per_contract_table
            .map(u64::try_from)
            .transpose()
            .ok()
            .flatten()
            .unwrap_or(u64::MAX);
        Self {
            code,
            config,
            output_code: Vec::with_capacity(code.len()),
            // Practically reaching u64::MAX locals or functions is infeasible, so when the limit is not
            // specified, use that as a limit.
            function_limit: limits.max_functions_number_per_contract.unwrap_or(u64::MAX),
            local_limit: max_locals(code, config).unwrap_or(u64::MAX),
            function_body_size_limit: limits.max_function_body_size.unwrap_or(u64::MAX),
            table_limit: limits.max_tables_per_contract.unwrap_or(u32::MAX),
            table_element_limit,
            type_limit: limits.max_types_per_contract.unwrap_or(u64::MAX),
            global_limit: limits.max_globals_per_contract.unwrap_or(u64::MAX),
            validator: wp::Validator::new_with_features(features.into()),
            func_validator_allocations: wp::FuncValidatorAllocations::default(),
            before_import_section: true,
            before_memory_section: true,
            before_export_section: true,
        }
    }

    /// “Early” preparation.
    ///
    /// Must happen before the finite-wasm analysis and is applicable to all runtimes.
    ///
    /// This will validate the module, normalize the memories within, apply limits.
    fn run(&mut self) -> Result<Vec<u8>, PrepareError> {
        self.before_import_section = true;
        self.before_memory_section = true;
        let parser = wp::Parser::new(0);
        for payload in parser.parse_all(self.code) {
            let payload = payload.map_err(|err| {
                tracing::trace!(target: "vm", ?err, "was not able to early prepare the input module");
                PrepareError::Deserialization
            })?;
            match payload {
                wp::Payload::Version { num, encoding, range } => {
                    self.copy(range.clone())?;
                    self.validator
                        .version(num, encoding, &range)
                        .map_err(|_| PrepareError::Deserialization)?;
                }
                wp::Payload::End(offset) => {
                    self.validator.end(offset).map_err(|_| PrepareError::Deserialization)?;
                }

                wp::Payload::TypeSection(reader) => {
                    self.type_limit = self
                        .type_limit
                        .checked_sub(u64::from(reader.count()))
                        .ok_or(PrepareError::TooManyTypes)?;
                    self.validator
                        .type_section(&reader)
                        .map_err(|_| PrepareError::Deserialization)?;
                    self.copy_section(SectionId::Type, reader.range())?;
                }

                wp::Payload::ImportSection(reader) => {
                    self.before_import_section = false;
                    self.validator
                        .import_section(&reader)
                        .map_err(|_| PrepareError::Deserialization)?;
                    self.transform_import_section(&reader)?;
                }

                wp::Payload::FunctionSection(reader) => {
                    self.ensure_import_section();
                    self.validator
                        .function_section(&reader)
                        .map_err(|_| PrepareError::Deserialization)?;
                    self.copy_section(SectionId::Function, reader.range())?;
                }
                wp::Payload::TableSection(reader) => {
                    self.ensure_import_section();
                    self.validator
                        .table_section(&reader)
                        .map_err(|_| PrepareError::Deserialization)?;
                    self.table_limit = self
                        .table_limit
                        .checked_sub(reader.count())
                        .ok_or(PrepareError::TooManyTables)?;
                    let range = reader.range();
                    for table in reader {
                        let wp::Table { ty, .. } =
                            table.map_err(|_| PrepareError::Deserialization)?;
                        if ty.initial > self.table_element_limit {
                            return Err(PrepareError::TooManyTableElements);
                        }
                    }
                    self.copy_section(SectionId::Table, range)?;
                }
                wp::Payload::MemorySection(reader) => {
                    // We do not want to include the implicit memory anymore as we normalized it by
                    // importing the memory instead.
                    self.ensure_import_section();
                    self.before_memory_section = false;
                    self.validator
                        .memory_section(&reader)
                        .map_err(|_| PrepareError::Deserialization)?;
                    if self.config.vm_kind == VMKind::Wasmtime {
                        wasm_encoder::MemorySection::new()
                            .memory(self.memory_type())
                            .append_to(&mut self.output_code);
                    }
                }
                wp::Payload::GlobalSection(reader) => {
                    self.ensure_memory_section();
                    self.validator
                        .global_section(&reader)
                        .map_err(|_| PrepareError::Deserialization)?;
                    self.global_limit = self
                        .global_limit
                        .checked_sub(u64::from(reader.count()))
                        .ok_or(PrepareError::TooManyGlobals)?;
                    self.copy_section(SectionId::Global, reader.range())?;
                }
                wp::Payload::ExportSection(reader) => {
                    self.ensure_memory_section();
                    self.before_export_section = false;
                    self.validator
                        .export_section(&reader)
                        .map_err(|_| PrepareError::Deserialization)?;
                    let mut new_section = wasm_encoder::ExportSection::new();
                    for res in reader {
                        let wp::Export { name, kind, index } =
                            res.map_err(|_| PrepareError::Deserialization)?;
                        let prefix = (self.config.vm_kind == VMKind::Wasmtime)
                            .then_some(EXPORT_PREFIX)
                            .unwrap_or_default();
                        match kind {
                            wp::ExternalKind::Func => {
                                new_section.export(
                                    &format!("{prefix}{name}"),
                                    wasm_encoder::ExportKind::Func,
                                    index,
                                );
                            }
                            wp::ExternalKind::Table => {
                                new_section.export(
                                    &format!("{prefix}{name}"),
                                    wasm_encoder::ExportKind::Table,
                                    index,
                                );
                            }
                            wp::ExternalKind::Memory => continue,
                            wp::ExternalKind::Global => {
                                new_section.export(
                                    &format!("{prefix}{name}"),
                                    wasm_encoder::ExportKind::Global,
                                    index,
                                );
                            }
                            wp::ExternalKind::Tag => {
                                new_section.export(
                                    &format!("{prefix}{name}"),
                                    wasm_encoder::ExportKind::Tag,
                                    index,
                                );
                            }
                        }
                    }
                    if self.config.vm_kind == VMKind::Wasmtime {
                        new_section.export(MEMORY_EXPORT, wasm_encoder::ExportKind::Memory, 0);
                    }
                    new_section.append_to(&mut self.output_code)
                }
                wp::Payload::StartSection { func, range } => {
                    self.ensure_export_section();
                    self.validator
                        .start_section(func, &range)
                        .map_err(|_| PrepareError::Deserialization)?;
                    self.copy_section(SectionId::Start, range.clone())?;
                }
                wp::Payload::ElementSection(reader) => {
                    self.ensure_export_section();
                    self.validator
                        .element_section(&reader)
                        .map_err(|_| PrepareError::Deserialization)?;
                    self.copy_section(SectionId::Element, reader.range())?;
                }
                wp::Payload::DataCountSection { count, range } => {
                    self.ensure_export_section();
                    self.validator
                        .data_count_section(count, &range)
                        .map_err(|_| PrepareError::Deserialization)?;
                    self.copy_section(SectionId::DataCount, range.clone())?;
                }
                wp::Payload::DataSection(reader) => {
                    self.ensure_export_section();
                    self.validator
                        .data_section(&reader)
                        .map_err(|_| PrepareError::Deserialization)?;
                    self.copy_section(SectionId::Data, reader.range())?;
                }
                wp::Payload::CodeSectionStart { size: _, count, range } => {
                    self.ensure_export_section();
                    self.function_limit = self
                        .function_limit
                        .checked_sub(u64::from(count))
                        .ok_or(PrepareError::TooManyFunctions)?;
                    self.validator
                        .code_section_start(count, &range)
                        .map_err(|_| PrepareError::Deserialization)?;
                    self.copy_section(SectionId::Code, range.clone())?;
                }
                wp::Payload::CodeSectionEntry(func) => {
                    let body_size = func.range().len() as u64;
                    if body_size > self.function_body_size_limit {
                        tracing::debug!(
                            target: "vm",
                            body_size,
                            limit = self.function_body_size_limit,
                            "function body size exceeds the limit"
                        );
                        return Err(PrepareError::FunctionBodyTooLarge);
                    }
                    let local_reader =
                        func.get_locals_reader().map_err(|_| PrepareError::Deserialization)?;
                    for local in local_reader {
                        let (count, _ty) = local.map_err(|_| PrepareError::Deserialization)?;
                        self.local_limit = self
                            .local_limit
                            .checked_sub(u64::from(count))
                            .ok_or(PrepareError::TooManyLocals)?;
                    }

                    let func_validator = self
                        .validator
                        .code_section_entry(&func)
                        .map_err(|_| PrepareError::Deserialization)?;
                    // PANIC-SAFETY: no big deal if we panic here while the allocations are taken.
                    // Worst-case we are going to be making new allocations again, but in practice
                    // this should never happen as this context should not be reused.
                    let allocs = std::mem::replace(
                        &mut self.func_validator_allocations,
                        wp::FuncValidatorAllocations::default(),
                    );
                    let mut func_validator = func_validator.into_validator(allocs);
                    func_validator.validate(&func).map_err(|_| PrepareError::Deserialization)?;
                    self.func_validator_allocations = func_validator.into_allocations();
                }
                wp::Payload::CustomSection(reader) => {
                    if !self.config.discard_custom_sections {
                        self.ensure_export_section();
                        self.copy_section(SectionId::Custom, reader.range())?;
                    }
                }

                // Extensions not supported.
                wp::Payload::UnknownSection { .. }
                | wp::Payload::TagSection(_)
                | wp::Payload::ModuleSection { .. }
                | wp::Payload::InstanceSection(_)
                | wp::Payload::CoreTypeSection(_)
                | wp::Payload::ComponentSection { .. }
                | wp::Payload::ComponentInstanceSection(_)
                | wp::Payload::ComponentAliasSection(_)
                | wp::Payload::ComponentTypeSection(_)
                | wp::Payload::ComponentCanonicalSection(_)
                | wp::Payload::ComponentStartSection { .. }
                | wp::Payload::ComponentImportSection(_)
                | wp::Payload::ComponentExportSection(_)
                | _ => {
                    tracing::trace!(target: "vm", "input module contains unsupported section");
                    return Err(PrepareError::Deserialization);
                }
            }
        }
        self.ensure_export_section();
        Ok(std::mem::replace(&mut self.output_code, Vec::new()))
    }

    fn transform_import_section(
        &mut self,
        reader: &wp::ImportSectionReader,
    ) -> Result<(), PrepareError> {
        let mut new_section = wasm_encoder::ImportSection::new();
        for import in reader.clone() {
            let import = import.map_err(|_| PrepareError::Deserialization)?;
            if import.module != "env" {
                return Err(PrepareError::Instantiate);
            }
            let new_type = match import.ty {
                wp::TypeRef::Func(id) => {
                    // TODO: validate imported function types here.
                    self.function_limit =
                        self.function_limit.checked_sub(1).ok_or(PrepareError::TooManyFunctions)?;
                    wasm_encoder::EntityType::Function(id)
                }
                wp::TypeRef::Table(_) => return Err(PrepareError::Instantiate),
                wp::TypeRef::Global(_) => return Err(PrepareError::Instantiate),
                wp::TypeRef::Memory(_) => return Err(PrepareError::Memory),
                wp::TypeRef::Tag(_) => return Err(PrepareError::Deserialization),
            };
            new_section.import(import.module, import.name, new_type);
        }
        if self.config.vm_kind != VMKind::Wasmtime {
            new_section.import("env", "memory", self.memory_type());
        }
        // wasm_encoder a section with all imports and the imported standardized memory.
        new_section.append_to(&mut self.output_code);
        Ok(())
    }

    fn ensure_import_section(&mut self) {
        if self.before_import_section {
            self.before_import_section = false;
            if self.config.vm_kind != VMKind::Wasmtime {
                // wasm_encoder a section with all imports and the imported standardized memory.
                wasm_encoder::ImportSection::new()
                    .import("env", "memory", self.memory_type())
                    .append_to(&mut self.output_code);
            }
        }
    }

    fn ensure_memory_section(&mut self) {
        self.ensure_import_section();
        if self.before_memory_section {
            self.before_memory_section = false;
            if self.config.vm_kind == VMKind::Wasmtime {
                wasm_encoder::MemorySection::new()
                    .memory(self.memory_type())
                    .append_to(&mut self.output_code);
            }
        }
    }

    fn ensure_export_section(&mut self) {
        self.ensure_memory_section();
        if self.before_export_section {
            self.before_export_section = false;
            if self.config.vm_kind == VMKind::Wasmtime {
                wasm_encoder::ExportSection::new()
                    .export(MEMORY_EXPORT, wasm_encoder::ExportKind::Memory, 0)
                    .append_to(&mut self.output_code);
            }
        }
    }

    fn memory_type(&self) -> wasm_encoder::MemoryType {
        wasm_encoder::MemoryType {
            minimum: u64::from(self.config.limit_config.initial_memory_pages),
            maximum: Some(u64::from(self.config.limit_config.max_memory_pages)),
            memory64: false,
            shared: false,
            page_size_log2: None,
        }
    }

    fn copy_section(
        &mut self,
        id: SectionId,
        range: std::ops::Range<usize>,
    ) -> Result<(), PrepareError> {
        id.encode(&mut self.output_code);
        range.len().encode(&mut self.output_code);
        self.copy(range)
    }

    /// Copy over the payload to the output binary without significant processing.
    fn copy(&mut self, range: std::ops::Range<usize>) -> Result<(), PrepareError> {
        Ok(self.output_code.extend(self.code.get(range).ok_or(PrepareError::Deserialization)?))
    }
}

pub(crate) fn prepare_contract(
    original_code: &[u8],
    features: crate::features::WasmFeatures,
    config: &Config,
    kind: VMKind,
) -> Result<Vec<u8>, PrepareError> {
    let lightly_steamed = PrepareContext::new(original_code, features, config).run()?;

    let analysis = finite_wasm_6::Analysis::new()
        .with_stack(SimpleMaxStackCfg)
        .with_gas(SimpleGasCostCfg {
            regular: u64::from(config.regular_op_cost),
            linear_base: config.linear_op_base_cost,
            linear_unit: config.linear_op_unit_cost,
        })
        .analyze(&lightly_steamed)
        .map_err(|err| {
            tracing::error!(target: "vm", ?err, ?kind, "analysis failed");
            PrepareError::Deserialization
        })?;
    // Make sure contracts can’t call the instrumentation functions via `env`.
    let res = InstrumentContext::new(
        &lightly_steamed,
        "internal",
        &analysis,
        config.regular_op_cost,
        config.limit_config.max_stack_height,
        config.limit_config.max_blocks_per_function.unwrap_or(u64::MAX),
        config.limit_config.max_blocks_per_contract.unwrap_or(u64::MAX),
        config.limit_config.max_params_per_function.unwrap_or(u64::MAX),
        config.limit_config.max_params_per_contract.unwrap_or(u64::MAX),
        config.limit_config.max_operand_stack_bytes_per_function.unwrap_or(u64::MAX),
    )
    .run()
    .map_err(|err| {
        use super::instrument_v3::Error;
        match err {
            Error::TooManyBlocksPerFunction => PrepareError::TooManyBlocksPerFunction,
            Error::TooManyBlocksPerContract => PrepareError::TooManyBlocksPerContract,
            Error::TooManyParamsPerFunction => PrepareError::TooManyParamsPerFunction,
            Error::TooManyParamsPerContract => PrepareError::TooManyParamsPerContract,
            Error::OperandStackTooLarge => PrepareError::OperandStackTooLarge,
            err => {
                tracing::error!(target: "vm", ?err, ?kind, "instrumentation failed");
                PrepareError::Serialization
            }
        }
    })?;
    // Guard against overflowing Cranelift’s 24-bit SSA value counter. Each wasm
    // byte produces at least one SSA value, so capping the instrumented size is a
    // conservative proxy.
    // TODO: if we ever need to relax this limit, count actual wasm instructions
    // during the instrumentation pass instead of using byte size as a proxy.
    if let Some(max_size) = config.limit_config.max_instrumented_code_size {
        if res.len() as u64 > max_size {
            tracing::debug!(target: "vm", size=res.len(), ?kind, "instrumented code too large");
            return Err(PrepareError::InstrumentedCodeTooLarge);
        }
    }
    Ok(res)
}

fn max_locals(code: &[u8], config: &Config) -> Option<u64> {
    let limits = &config.limit_config;
    let size_dependent_limit = limits.min_contract_size_per_local.map(|min_size_per_local| {
        u64::try_from(code.len())
            .unwrap_or(u64::MAX)
            .checked_div(min_size_per_local)
            .unwrap_or(u64::MAX)
    });
    [limits.max_locals_per_contract, size_dependent_limit].into_iter().flatten().min()
}

struct SimpleMaxStackCfg;

impl finite_wasm_6::max_stack::SizeConfig for SimpleMaxStackCfg {
    fn size_of_value(&self, ty: wp::ValType) -> u8 {
        use wp::ValType;
        match ty {
            ValType::I32 => 4,
            ValType::I64 => 8,
            ValType::F32 => 4,
            ValType::F64 => 8,
            ValType::V128 => 16,
            ValType::Ref(_) => 8,
        }
    }
    fn size_of_function_activation(
        &self,
        locals: &prefix_sum_vec::PrefixSumVec<wp::ValType, u32>,
    ) -> u64 {
        let mut res = 64_u64; // Rough accounting for rip, rbp and some registers spilled. Not exact.
        let mut last_idx_plus_one = 0_u64;
        for (idx, local) in locals {
            let idx = u64::from(*idx);
            res = res.saturating_add(
                idx.checked_sub(last_idx_plus_one)
                    .expect("prefix-sum-vec indices went backwards")
                    .saturating_add(1)
                    .saturating_mul(u64::from(self.size_of_value(*local))),
            );
            last_idx_plus_one = idx.saturating_add(1);
        }
        res
    }
}

struct SimpleGasCostCfg {
    regular: u64,
    linear_base: u64,
    linear_unit: u64,
}

macro_rules! gas_cost {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        $(
            // The macro produces many visitor functions with unused arguments, the easiest
            // solution is to ignore the warnings.
            #[allow(unused_variables)]
            fn $visit(&mut self $($(, $arg: $argty)*)?) -> Fee {
                gas_cost!(@@self $visit)
            }
        )*
    };

    (@@$self:ident visit_block) => { Fee::ZERO };
    (@@$self:ident visit_end) => { Fee::ZERO };
    (@@$self:ident visit_else) => { Fee::ZERO };
    (@@$self:ident visit_memory_init) => { Fee { linear: $self.linear_unit, constant: $self.linear_base } };
    (@@$self:ident visit_memory_copy) => { Fee { linear: $self.linear_unit, constant: $self.linear_base } };
    (@@$self:ident visit_memory_fill) => { Fee { linear: $self.linear_unit, constant: $self.linear_base } };
    (@@$self:ident visit_table_init) => { Fee { linear: $self.linear_unit, constant: $self.linear_base } };
    (@@$self:ident visit_table_copy) => { Fee { linear: $self.linear_unit, constant: $self.linear_base } };
    (@@$self:ident visit_table_fill) => { Fee { linear: $self.linear_unit, constant: $self.linear_base } };
    (@@$self:ident visit_memory_grow) => { Fee { linear: $self.linear_unit, constant: $self.linear_base } };
    (@@$self:ident visit_table_grow) => { Fee { linear: $self.linear_unit, constant: $self.linear_base } };
    (@@$self:ident $visit:ident) => { Fee::constant($self.regular) };
}

impl<'a> wp::VisitOperator<'a> for SimpleGasCostCfg {
    type Output = Fee;
    wp::for_each_visit_operator!(gas_cost);
}

impl<'a> wp::VisitSimdOperator<'a> for SimpleGasCostCfg {
    wp::for_each_visit_simd_operator!(gas_cost);
}
