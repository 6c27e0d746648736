// cspell:words wycheproof
// Many host functions take `memory: &mut [u8]` for a uniform signature even
// when they don't write to memory.
#![allow(clippy::needless_pass_by_ref_mut)]

use crate::logic::alt_bn128;
use crate::logic::bls12381;
use crate::logic::errors::InconsistentStateError;
use crate::logic::gas_counter::{FreeGasCounter, GasCounter};
use crate::logic::logic::*;
use crate::logic::recorded_storage_counter::RecordedStorageCounter;
use crate::logic::types::{
    GlobalContractDeployMode, GlobalContractIdentifier, PromiseIndex, PromiseResult, ReceiptIndex,
    ReturnData,
};
use crate::logic::utils::{null_terminated_method_names_len, split_method_names};
use crate::logic::vmstate::Registers;
use crate::logic::{External, HostError, VMContext, VMLogicError};
use ExtCosts::*;
use core::mem::size_of;
use near_crypto::Secp256K1Signature;
use near_parameters::ParameterCost;
use near_parameters::vm::Config;
use near_parameters::{
    ActionCosts, ExtCosts, RuntimeFeesConfig, gas_key_add_key_exec_fee, gas_key_add_key_send_fee,
    gas_key_transfer_exec_fee, gas_key_transfer_send_fee, transfer_exec_fee, transfer_send_fee,
    universal_state_init_content_terms, universal_state_init_size_terms,
};
use near_primitives_core::account::AccountContract;
use near_primitives_core::config::INLINE_DISK_VALUE_THRESHOLD;
use near_primitives_core::hash::{CryptoHash, YieldId};
use near_primitives_core::types::{AccountId, Balance, EpochHeight, Gas, GasWeight, StorageUsage};
use near_primitives_core::universal_account_id::encode_universal_account_id;
use near_primitives_core::universal_state_init::{DecodeMode, RawStateInit};
use std::rc::Rc;
use std::sync::Arc;

/// The state a host function operates on, independent of the wasm runtime that hosts it.
///
/// Host functions in this module are plain functions over this context and the guest's linear
/// memory (`&mut [u8]`), so any embedder able to hand over those two can call the real
/// implementations. The wasmtime runner keeps this type inside its own store context, next to
/// the pieces that are specific to wasmtime.
pub struct HostCtx<'a> {
    /// Provides access to the components outside the Wasm runtime for operations on the trie and
    /// receipts creation.
    pub(crate) ext: &'a mut dyn External,
    /// Part of Context API and Economics API that was extracted from the receipt.
    pub(crate) context: &'a VMContext,

    /// All gas and economic parameters required during contract execution.
    pub(crate) config: Arc<Config>,
    /// Fees charged for various operations that contract may execute.
    pub(crate) fees_config: Arc<RuntimeFeesConfig>,

    /// Current amount of locked tokens, does not automatically change when staking transaction is
    /// issued.
    pub(crate) current_account_locked_balance: Balance,
    /// Registers can be used by the guest to store blobs of data without moving them across
    /// host-guest boundary.
    pub(crate) registers: Registers,
    /// The DAG of promises, indexed by promise id.
    pub(crate) promises: Vec<Promise>,

    /// Stores the amount of stack space remaining
    pub(crate) remaining_stack: u64,

    /// Tracks size of the recorded trie storage proof.
    pub(crate) recorded_storage_counter: RecordedStorageCounter,

    pub(crate) result_state: ExecutionResultState,
}

impl<'a> HostCtx<'a> {
    pub fn new(
        ext: &'a mut dyn External,
        context: &'a VMContext,
        fees_config: Arc<RuntimeFeesConfig>,
        result_state: ExecutionResultState,
    ) -> Self {
        let current_account_locked_balance = context.account_locked_balance;
        let config = Arc::clone(&result_state.config);
        let recorded_storage_counter = RecordedStorageCounter::new(
            ext.storage_proof_size_before_receipt(),
            config.limit_config.per_receipt_storage_proof_size_limit,
        );
        let remaining_stack = u64::from(config.limit_config.max_stack_height);
        Self {
            ext,
            context,
            config,
            fees_config,
            current_account_locked_balance,
            recorded_storage_counter,
            registers: Default::default(),
            promises: vec![],
            remaining_stack,
            result_state,
        }
    }

    /// The execution results accumulated so far, for reading mid-execution.
    pub fn result_state(&self) -> &ExecutionResultState {
        &self.result_state
    }

    /// Consumes the context and returns the execution results (gas counter, logs, return data)
    /// accumulated by the host functions.
    pub fn into_result_state(self) -> ExecutionResultState {
        self.result_state
    }

    /// The length of a register's contents, or `None` if the register is unset.
    ///
    /// Charges no gas, unlike the [`register_len`] host function, so an embedder can size a
    /// destination buffer before calling [`read_register`] without paying an extra `base`.
    pub fn register_len_free(&self, register_id: u64) -> Option<u64> {
        self.registers.get_len(register_id)
    }
}

macro_rules! bls12381_impl {
    (
        $doc:expr,
        $fn_name:ident,
        $ITEM_SIZE:expr,
        $bls12381_base:ident,
        $bls12381_element:ident,
        $impl_fn_name:ident
    ) => {
        #[doc = $doc]
        pub fn $fn_name(
            ctx: &mut HostCtx,
            memory: &mut [u8],
            value_len: u64,
            value_ptr: u64,
            register_id: u64,
        ) -> Result<u64> {
            ctx.result_state.gas_counter.pay_base($bls12381_base)?;

            let elements_count = value_len / $ITEM_SIZE;
            ctx.result_state.gas_counter.pay_per($bls12381_element, elements_count as u64)?;

            let data = get_memory_or_register(
                &mut ctx.result_state.gas_counter,
                memory,
                &ctx.registers,
                value_ptr,
                value_len,
            )?;
            let version = if ctx.config.bls12381_not_in_group_fix {
                crate::logic::bls12381::BLS12381_NOT_IN_GROUP_FIX_VERSION
            } else {
                0
            };
            let res_option = bls12381::$impl_fn_name(&data, version)?;

            if let Some(res) = res_option {
                ctx.registers.set(
                    &mut ctx.result_state.gas_counter,
                    &ctx.config.limit_config,
                    register_id,
                    res.as_slice(),
                )?;

                Ok(0)
            } else {
                Ok(1)
            }
        }
    };
}

fn read_memory_for_free<'a>(memory: &'a [u8], ptr: u64, len: u64) -> Result<&'a [u8]> {
    let start = usize::try_from(ptr).or(Err(HostError::MemoryAccessViolation))?;
    let len = usize::try_from(len).or(Err(HostError::MemoryAccessViolation))?;
    let end = start.checked_add(len).ok_or(HostError::MemoryAccessViolation)?;
    let memory = memory.get(start..end).ok_or(HostError::MemoryAccessViolation)?;
    Ok(memory)
}

fn read_memory<'a>(
    gas_counter: &mut GasCounter,
    memory: &'a [u8],
    ptr: u64,
    len: u64,
) -> Result<&'a [u8]> {
    gas_counter.pay_base(read_memory_base)?;
    gas_counter.pay_per(read_memory_byte, len)?;
    read_memory_for_free(memory, ptr, len)
}

fn write_memory_for_free(memory: &mut [u8], ptr: u64, buf: &[u8]) -> Result<()> {
    let start = usize::try_from(ptr).or(Err(HostError::MemoryAccessViolation))?;
    let end = start.checked_add(buf.len()).ok_or(HostError::MemoryAccessViolation)?;
    let memory = memory.get_mut(start..end).ok_or(HostError::MemoryAccessViolation)?;
    memory.copy_from_slice(buf);
    Ok(())
}

fn write_memory(
    gas_counter: &mut GasCounter,
    memory: &mut [u8],
    ptr: u64,
    buf: &[u8],
) -> Result<()> {
    gas_counter.pay_base(write_memory_base)?;
    gas_counter.pay_per(write_memory_byte, buf.len() as _)?;
    write_memory_for_free(memory, ptr, buf)
}

/// Reads data from guest memory or register.
///
/// If `len` is `u64::MAX` read register with index `ptr`.  Otherwise, reads
/// `len` bytes of guest memory starting at given offset.  Returns error if
/// there’s insufficient gas, memory interval is out of bounds or given register
/// isn’t set.
///
/// This is a free function rather than a method on `HostCtx` so that the compiler
/// can track borrowing of gas counter, memory and registers separately.  This
/// allows a host function to borrow a value from a register and then continue
/// constructing mutable references to other fields of the context.
fn get_memory_or_register<'a>(
    gas_counter: &mut GasCounter,
    memory: &'a [u8],
    registers: &'a Registers,
    ptr: u64,
    len: u64,
) -> Result<&'a [u8]> {
    if len == u64::MAX {
        registers.get(gas_counter, ptr)
    } else {
        read_memory(gas_counter, memory, ptr, len)
    }
}

fn get_u8(gas_counter: &mut GasCounter, memory: &[u8], ptr: u64) -> Result<u8> {
    gas_counter.pay_base(read_memory_base)?;
    gas_counter.pay_per(read_memory_byte, 1)?;
    let ptr = usize::try_from(ptr).or(Err(HostError::MemoryAccessViolation))?;
    let v = memory.get(ptr).ok_or(HostError::MemoryAccessViolation)?;
    Ok(*v)
}

fn get_u16(gas_counter: &mut GasCounter, memory: &[u8], ptr: u64) -> Result<u16> {
    let buf = read_memory(gas_counter, memory, ptr, 2)?;
    let buf = buf.try_into().or(Err(HostError::MemoryAccessViolation))?;
    Ok(u16::from_le_bytes(buf))
}

fn get_u32(gas_counter: &mut GasCounter, memory: &[u8], ptr: u64) -> Result<u32> {
    let buf = read_memory(gas_counter, memory, ptr, 4)?;
    let buf = buf.try_into().or(Err(HostError::MemoryAccessViolation))?;
    Ok(u32::from_le_bytes(buf))
}

fn get_u128(gas_counter: &mut GasCounter, memory: &[u8], ptr: u64) -> Result<u128> {
    let buf = read_memory(gas_counter, memory, ptr, 16)?;
    let buf = buf.try_into().or(Err(HostError::MemoryAccessViolation))?;
    Ok(u128::from_le_bytes(buf))
}

fn set_u128(gas_counter: &mut GasCounter, memory: &mut [u8], ptr: u64, value: u128) -> Result<()> {
    write_memory(gas_counter, memory, ptr, &u128::to_le_bytes(value))?;
    Ok(())
}

// #########################
// # Finite-wasm internals #
// #########################
pub fn finite_wasm_gas(ctx: &mut HostCtx, _memory: &mut [u8], gas: u64) -> Result<()> {
    consume_gas(&mut ctx.result_state.gas_counter, gas)
}

fn linear_gas(ctx: &mut HostCtx, count: u32, linear: u64, constant: u64) -> Result<u32> {
    let linear = u64::from(count).checked_mul(linear).ok_or(HostError::IntegerOverflow)?;
    let gas = constant.checked_add(linear).ok_or(HostError::IntegerOverflow)?;
    consume_gas(&mut ctx.result_state.gas_counter, gas)?;
    Ok(count)
}

pub fn finite_wasm_memory_copy(
    ctx: &mut HostCtx,
    _memory: &mut [u8],
    count: u32,
    linear: u64,
    constant: u64,
) -> Result<u32> {
    linear_gas(ctx, count, linear, constant)
}

pub fn finite_wasm_memory_fill(
    ctx: &mut HostCtx,
    _memory: &mut [u8],
    count: u32,
    linear: u64,
    constant: u64,
) -> Result<u32> {
    linear_gas(ctx, count, linear, constant)
}

pub fn finite_wasm_memory_init(
    ctx: &mut HostCtx,
    _memory: &mut [u8],
    count: u32,
    linear: u64,
    constant: u64,
) -> Result<u32> {
    linear_gas(ctx, count, linear, constant)
}

pub fn finite_wasm_table_copy(
    ctx: &mut HostCtx,
    _memory: &mut [u8],
    count: u32,
    linear: u64,
    constant: u64,
) -> Result<u32> {
    linear_gas(ctx, count, linear, constant)
}

pub fn finite_wasm_table_fill(
    ctx: &mut HostCtx,
    _memory: &mut [u8],
    count: u32,
    linear: u64,
    constant: u64,
) -> Result<u32> {
    linear_gas(ctx, count, linear, constant)
}

pub fn finite_wasm_table_init(
    ctx: &mut HostCtx,
    _memory: &mut [u8],
    count: u32,
    linear: u64,
    constant: u64,
) -> Result<u32> {
    linear_gas(ctx, count, linear, constant)
}

pub fn finite_wasm_stack(
    ctx: &mut HostCtx,
    _memory: &mut [u8],
    operand_size: u64,
    frame_size: u64,
) -> Result<()> {
    ctx.remaining_stack =
        match ctx.remaining_stack.checked_sub(operand_size.saturating_add(frame_size)) {
            Some(s) => s,
            None => return Err(VMLogicError::HostError(HostError::MemoryAccessViolation)),
        };
    let gas = ((frame_size + 7) / 8) * u64::from(ctx.config.regular_op_cost);
    consume_gas(&mut ctx.result_state.gas_counter, gas)?;
    Ok(())
}

pub fn finite_wasm_unstack(
    ctx: &mut HostCtx,
    _memory: &mut [u8],
    operand_size: u64,
    frame_size: u64,
) -> Result<()> {
    ctx.remaining_stack = ctx
        .remaining_stack
        .checked_add(operand_size.saturating_add(frame_size))
        .expect("remaining stack integer overflow");
    Ok(())
}

pub fn finite_wasm_gas_exhausted(ctx: &mut HostCtx, _memory: &mut [u8]) -> Result<()> {
    // Burn all remaining gas
    ctx.result_state.gas_counter.burn_gas(ctx.result_state.gas_counter.remaining_gas())?;
    // This function will only ever be called by instrumentation on overflow, otherwise
    // `finite_wasm_gas` will be called with the out-of-budget charge
    Err(VMLogicError::HostError(HostError::IntegerOverflow))
}

pub fn finite_wasm_stack_exhausted(_ctx: &mut HostCtx, _memory: &mut [u8]) -> Result<()> {
    Err(VMLogicError::HostError(HostError::MemoryAccessViolation))
}

// #################
// # Registers API #
// #################

/// Writes the entire content from the register `register_id` into the memory of the guest starting with `ptr`.
///
/// # Arguments
///
/// * `register_id` -- a register id from where to read the data;
/// * `ptr` -- location on guest memory where to copy the data.
///
/// # Errors
///
/// * If the content extends outside the memory allocated to the guest. In Wasmer, it returns `MemoryAccessViolation` error message;
/// * If `register_id` is pointing to unused register returns `InvalidRegisterId` error message.
///
/// # Undefined Behavior
///
/// If the content of register extends outside the preallocated memory on the host side, or the pointer points to a
/// wrong location this function will overwrite memory that it is not supposed to overwrite causing an undefined behavior.
///
/// # Cost
///
/// `base + read_register_base + read_register_byte * num_bytes + write_memory_base + write_memory_byte * num_bytes`
pub fn read_register(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    register_id: u64,
    ptr: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    let buf = ctx.registers.get(&mut ctx.result_state.gas_counter, register_id)?;
    write_memory(&mut ctx.result_state.gas_counter, memory, ptr, buf)?;
    Ok(())
}

/// Returns the size of the blob stored in the given register.
/// * If register is used, then returns the size, which can potentially be zero;
/// * If register is not used, returns `u64::MAX`
///
/// # Arguments
///
/// * `register_id` -- a register id from where to read the data;
///
/// # Cost
///
/// `base`
pub fn register_len(ctx: &mut HostCtx, _memory: &mut [u8], register_id: u64) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(base)?;
    Ok(ctx.registers.get_len(register_id).unwrap_or(u64::MAX))
}

/// Copies `data` from the guest memory into the register. If register is unused will initialize
/// it. If register has larger capacity than needed for `data` will not re-allocate it. The
/// register will lose the pre-existing data if any.
///
/// # Arguments
///
/// * `register_id` -- a register id where to write the data;
/// * `data_len` -- length of the data in bytes;
/// * `data_ptr` -- pointer in the guest memory where to read the data from.
///
/// # Cost
///
/// `base + read_memory_base + read_memory_bytes * num_bytes + write_register_base + write_register_bytes * num_bytes`
pub fn write_register(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    register_id: u64,
    data_len: u64,
    data_ptr: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    let memory = read_memory(&mut ctx.result_state.gas_counter, memory, data_ptr, data_len)?;
    ctx.registers.set(
        &mut ctx.result_state.gas_counter,
        &ctx.config.limit_config,
        register_id,
        memory,
    )
}

// ###################################
// # String reading helper functions #
// ###################################

/// Helper function to read and return utf8-encoding string.
/// If `len == u64::MAX` then treats the string as null-terminated with character `'\0'`.
///
/// # Errors
///
/// * If string extends outside the memory of the guest with `MemoryAccessViolation`;
/// * If string is not UTF-8 returns `BadUtf8`.
/// * If number of bytes read + `total_log_length` exceeds the `max_total_log_length` returns
///   `TotalLogLengthExceeded`.
///
/// # Cost
///
/// For not nul-terminated string:
/// `read_memory_base + read_memory_byte * num_bytes + utf8_decoding_base + utf8_decoding_byte * num_bytes`
///
/// For nul-terminated string:
/// `(read_memory_base + read_memory_byte) * num_bytes + utf8_decoding_base + utf8_decoding_byte * num_bytes`
fn get_utf8_string(
    result_state: &mut ExecutionResultState,
    memory: &[u8],
    len: u64,
    ptr: u64,
) -> Result<String> {
    result_state.gas_counter.pay_base(utf8_decoding_base)?;
    let mut buf;
    let max_len = result_state
        .config
        .limit_config
        .max_total_log_length
        .saturating_sub(result_state.total_log_length);
    if len != u64::MAX {
        if len > max_len {
            return result_state.total_log_length_exceeded(len);
        }

        buf = read_memory(&mut result_state.gas_counter, memory, ptr, len)?.into();
    } else {
        buf = vec![];
        for i in 0..=max_len {
            let ptr = ptr.checked_add(i).ok_or(HostError::MemoryAccessViolation)?;
            let el = get_u8(&mut result_state.gas_counter, memory, ptr)?;
            if el == 0 {
                break;
            }
            if i == max_len {
                return result_state.total_log_length_exceeded(max_len.saturating_add(1));
            }
            buf.push(el);
        }
    }
    result_state.gas_counter.pay_per(utf8_decoding_byte, buf.len() as _)?;
    String::from_utf8(buf).map_err(|_| HostError::BadUTF8.into())
}

/// Helper function to get utf8 string, for sandbox debug log. The difference with `get_utf8_string`:
/// * It's only available on sandbox node
/// * The cost is 0
/// * It's up to the caller to set correct len
#[cfg(feature = "sandbox")]
fn sandbox_get_utf8_string(memory: &[u8], len: u64, ptr: u64) -> Result<String> {
    let buf = read_memory_for_free(memory, ptr, len)?;
    String::from_utf8(buf.into()).map_err(|_| HostError::BadUTF8.into())
}

/// Helper function to read UTF-16 formatted string from guest memory.
/// # Errors
///
/// * If string extends outside the memory of the guest with `MemoryAccessViolation`;
/// * If string is not UTF-16 returns `BadUtf16`.
/// * If number of bytes read + `total_log_length` exceeds the `max_total_log_length` returns
///   `TotalLogLengthExceeded`.
///
/// # Cost
///
/// For not nul-terminated string:
/// `read_memory_base + read_memory_byte * num_bytes + utf16_decoding_base + utf16_decoding_byte * num_bytes`
///
/// For nul-terminated string:
/// `read_memory_base * num_bytes / 2 + read_memory_byte * num_bytes + utf16_decoding_base + utf16_decoding_byte * num_bytes`
fn get_utf16_string(
    result_state: &mut ExecutionResultState,
    memory: &[u8],
    mut len: u64,
    ptr: u64,
) -> Result<String> {
    result_state.gas_counter.pay_base(utf16_decoding_base)?;
    let max_len = result_state
        .config
        .limit_config
        .max_total_log_length
        .saturating_sub(result_state.total_log_length);

    let mem_view = if len == u64::MAX {
        len = get_nul_terminated_utf16_len(result_state, memory, ptr, max_len)?;
        read_memory_for_free(memory, ptr, len)
    } else {
        read_memory(&mut result_state.gas_counter, memory, ptr, len)
    }?;

    let input = stdx::as_chunks_exact(&mem_view).map_err(|_| HostError::BadUTF16)?;
    if len > max_len {
        return result_state.total_log_length_exceeded(len);
    }

    result_state.gas_counter.pay_per(utf16_decoding_byte, len)?;
    char::decode_utf16(input.into_iter().copied().map(u16::from_le_bytes))
        .collect::<Result<String, _>>()
        .map_err(|_| HostError::BadUTF16.into())
}

/// Helper function to get length of NUL-terminated UTF-16 formatted string
/// in guest memory.
///
/// In other words, counts how many bytes are there to first pair of NUL
/// bytes.
fn get_nul_terminated_utf16_len(
    result_state: &mut ExecutionResultState,
    memory: &[u8],
    ptr: u64,
    max_len: u64,
) -> Result<u64> {
    let mut len = 0;
    loop {
        let ptr = ptr.checked_add(len).ok_or(HostError::MemoryAccessViolation)?;
        if get_u16(&mut result_state.gas_counter, memory, ptr)? == 0 {
            return Ok(len);
        }
        len = match len.checked_add(2) {
            Some(len) if len <= max_len => len,
            Some(len) => return result_state.total_log_length_exceeded(len),
            None => return result_state.total_log_length_exceeded(u64::MAX),
        };
    }
}

// ####################################################
// # Helper functions to prevent code duplication API #
// ####################################################

/// Adds a given promise to the vector of promises and returns a new promise index.
/// Throws `NumberPromisesExceeded` if the total number of promises exceeded the limit.
fn checked_push_promise(ctx: &mut HostCtx, promise: Promise) -> Result<PromiseIndex> {
    let new_promise_idx = ctx.promises.len() as PromiseIndex;
    ctx.promises.push(promise);
    if ctx.promises.len() as u64 > ctx.config.limit_config.max_promises_per_function_call_action {
        Err(HostError::NumberPromisesExceeded {
            number_of_promises: ctx.promises.len() as u64,
            limit: ctx.config.limit_config.max_promises_per_function_call_action,
        }
        .into())
    } else {
        Ok(new_promise_idx)
    }
}

fn get_public_key(
    gas_counter: &mut GasCounter,
    memory: &[u8],
    registers: &Registers,
    ptr: u64,
    len: u64,
    post_quantum_keys_enabled: bool,
) -> Result<PublicKeyBuffer> {
    Ok(PublicKeyBuffer::new(
        get_memory_or_register(gas_counter, memory, registers, ptr, len)?,
        post_quantum_keys_enabled,
    ))
}

// ###############
// # Context API #
// ###############

/// Saves the account id of the current contract that we execute into the register.
///
/// # Errors
///
/// If the registers exceed the memory limit returns `MemoryAccessViolation`.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * num_bytes`
pub fn current_account_id(ctx: &mut HostCtx, _memory: &mut [u8], register_id: u64) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    ctx.registers.set(
        &mut ctx.result_state.gas_counter,
        &ctx.config.limit_config,
        register_id,
        ctx.context.current_account_id.as_bytes(),
    )
}

/// Saves the chain ID of the current chain into the register.
///
/// # Errors
///
/// If the registers exceed the memory limit returns `MemoryAccessViolation`.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * num_bytes`
pub fn chain_id(ctx: &mut HostCtx, _memory: &mut [u8], register_id: u64) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    let chain_id = ctx.ext.chain_id();
    ctx.registers.set(
        &mut ctx.result_state.gas_counter,
        &ctx.config.limit_config,
        register_id,
        chain_id.as_bytes(),
    )
}

/// All contract calls are a result of some transaction that was signed by some account using
/// some access key and submitted into a memory pool (either through the wallet using RPC or by
/// a node itself). This function returns the id of that account. Saves the bytes of the signer
/// account id into the register.
///
/// # Errors
///
/// * If the registers exceed the memory limit returns `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * num_bytes`
pub fn signer_account_id(ctx: &mut HostCtx, _memory: &mut [u8], register_id: u64) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;

    if ctx.context.is_view() {
        return Err(
            HostError::ProhibitedInView { method_name: "signer_account_id".to_string() }.into()
        );
    }
    ctx.registers.set(
        &mut ctx.result_state.gas_counter,
        &ctx.config.limit_config,
        register_id,
        ctx.context.signer_account_id.as_bytes(),
    )
}

/// Saves the public key fo the access key that was used by the signer into the register. In
/// rare situations smart contract might want to know the exact access key that was used to send
/// the original transaction, e.g. to increase the allowance or manipulate with the public key.
///
/// # Errors
///
/// * If the registers exceed the memory limit returns `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * num_bytes`
pub fn signer_account_pk(ctx: &mut HostCtx, _memory: &mut [u8], register_id: u64) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;

    if ctx.context.is_view() {
        return Err(
            HostError::ProhibitedInView { method_name: "signer_account_pk".to_string() }.into()
        );
    }
    ctx.registers.set(
        &mut ctx.result_state.gas_counter,
        &ctx.config.limit_config,
        register_id,
        ctx.context.signer_account_pk.as_slice(),
    )
}

/// All contract calls are a result of a receipt, this receipt might be created by a transaction
/// that does function invocation on the contract or another contract as a result of
/// cross-contract call. Saves the bytes of the predecessor account id into the register.
///
/// # Errors
///
/// * If the registers exceed the memory limit returns `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * num_bytes`
pub fn predecessor_account_id(
    ctx: &mut HostCtx,
    _memory: &mut [u8],
    register_id: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;

    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "predecessor_account_id".to_string(),
        }
        .into());
    }
    ctx.registers.set(
        &mut ctx.result_state.gas_counter,
        &ctx.config.limit_config,
        register_id,
        ctx.context.predecessor_account_id.as_bytes(),
    )
}

/// Populates a register with the ID of an account which would receive a refund.
///
/// This is the ID of an account set for the current receipt by its
/// predecessor via [`Self::promise_set_refund_to()`], or
/// [`Self::predecessor_account_id()`] otherwise.
///
/// # Errors
///
/// If the registers exceed the memory limit returns `MemoryAccessViolation`.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * num_bytes`
pub fn refund_to_account_id(ctx: &mut HostCtx, _memory: &mut [u8], register_id: u64) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;

    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "refund_to_account_id".to_string(),
        }
        .into());
    }
    ctx.registers.set(
        &mut ctx.result_state.gas_counter,
        &ctx.config.limit_config,
        register_id,
        ctx.context.refund_to_account_id.as_bytes(),
    )
}

/// Reads input to the contract call into the register. Input is expected to be in JSON-format.
/// If input is provided saves the bytes (potentially zero) of input into register. If input is
/// not provided writes 0 bytes into the register.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * num_bytes`
pub fn input(ctx: &mut HostCtx, _memory: &mut [u8], register_id: u64) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;

    ctx.registers.set_rc_data(
        &mut ctx.result_state.gas_counter,
        &ctx.config.limit_config,
        register_id,
        Rc::clone(&ctx.context.input),
    )
}

/// Returns the current block height.
///
/// It’s only due to historical reasons, this host function is called
/// `block_index` rather than `block_height`.
///
/// # Cost
///
/// `base`
pub fn block_index(ctx: &mut HostCtx, _memory: &mut [u8]) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(base)?;
    Ok(ctx.context.block_height)
}

/// Returns the current block timestamp (number of non-leap-nanoseconds since January 1, 1970 0:00:00 UTC).
///
/// # Cost
///
/// `base`
pub fn block_timestamp(ctx: &mut HostCtx, _memory: &mut [u8]) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(base)?;
    Ok(ctx.context.block_timestamp)
}

/// Returns the current epoch height.
///
/// # Cost
///
/// `base`
pub fn epoch_height(ctx: &mut HostCtx, _memory: &mut [u8]) -> Result<EpochHeight> {
    ctx.result_state.gas_counter.pay_base(base)?;
    Ok(ctx.context.epoch_height)
}

/// Get the stake of an account, if the account is currently a validator. Otherwise returns 0.
/// writes the value into the` u128` variable pointed by `stake_ptr`.
///
/// # Cost
///
/// `base + memory_write_base + memory_write_size * 16 + utf8_decoding_base + utf8_decoding_byte * account_id_len + validator_stake_base`.
pub fn validator_stake(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    account_id_len: u64,
    account_id_ptr: u64,
    stake_ptr: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    let account_id = read_and_parse_account_id(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        &ctx.config,
        account_id_ptr,
        account_id_len,
    )?;
    ctx.result_state.gas_counter.pay_base(validator_stake_base)?;
    let balance = ctx.ext.validator_stake(&account_id)?.unwrap_or_default();
    set_u128(&mut ctx.result_state.gas_counter, memory, stake_ptr, balance.as_yoctonear())
}

/// Get the total validator stake of the current epoch.
/// Write the u128 value into `stake_ptr`.
/// writes the value into the` u128` variable pointed by `stake_ptr`.
///
/// # Cost
///
/// `base + memory_write_base + memory_write_size * 16 + validator_total_stake_base`
pub fn validator_total_stake(ctx: &mut HostCtx, memory: &mut [u8], stake_ptr: u64) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    ctx.result_state.gas_counter.pay_base(validator_total_stake_base)?;
    let total_stake = ctx.ext.validator_total_stake()?;
    set_u128(&mut ctx.result_state.gas_counter, memory, stake_ptr, total_stake.as_yoctonear())
}

/// Returns the number of bytes used by the contract if it was saved to the trie as of the
/// invocation. This includes:
/// * The data written with storage_* functions during current and previous execution;
/// * The bytes needed to store the access keys of the given account.
/// * The contract code size
/// * A small fixed overhead for account metadata.
///
/// # Cost
///
/// `base`
pub fn storage_usage(ctx: &mut HostCtx, _memory: &mut [u8]) -> Result<StorageUsage> {
    ctx.result_state.gas_counter.pay_base(base)?;
    Ok(ctx.result_state.current_storage_usage)
}

// #################
// # Economics API #
// #################

/// The current balance of the given account. This includes the attached_deposit that was
/// attached to the transaction.
///
/// # Cost
///
/// `base + memory_write_base + memory_write_size * 16`
pub fn account_balance(ctx: &mut HostCtx, memory: &mut [u8], balance_ptr: u64) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    set_u128(
        &mut ctx.result_state.gas_counter,
        memory,
        balance_ptr,
        ctx.result_state.current_account_balance.as_yoctonear(),
    )
}

/// The current amount of tokens locked due to staking.
///
/// # Cost
///
/// `base + memory_write_base + memory_write_size * 16`
pub fn account_locked_balance(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    balance_ptr: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    set_u128(
        &mut ctx.result_state.gas_counter,
        memory,
        balance_ptr,
        ctx.current_account_locked_balance.as_yoctonear(),
    )
}

/// The balance that was attached to the call that will be immediately deposited before the
/// contract execution starts.
///
/// # Errors
///
/// If called as view function returns `ProhibitedInView``.
///
/// # Cost
///
/// `base + memory_write_base + memory_write_size * 16`
pub fn attached_deposit(ctx: &mut HostCtx, memory: &mut [u8], balance_ptr: u64) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    set_u128(
        &mut ctx.result_state.gas_counter,
        memory,
        balance_ptr,
        ctx.context.attached_deposit.as_yoctonear(),
    )
}

/// The amount of gas attached to the call that can be used to pay for the gas fees.
///
/// # Errors
///
/// If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `base`
pub fn prepaid_gas(ctx: &mut HostCtx, _memory: &mut [u8]) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView { method_name: "prepaid_gas".to_string() }.into());
    }
    Ok(ctx.context.prepaid_gas.as_gas())
}

/// The gas that was already burnt during the contract execution (cannot exceed `prepaid_gas`)
///
/// # Errors
///
/// If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `base`
pub fn used_gas(ctx: &mut HostCtx, _memory: &mut [u8]) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView { method_name: "used_gas".to_string() }.into());
    }
    Ok(ctx.result_state.gas_counter.used_gas().as_gas())
}

// ############
// # Math API #
// ############

/// Computes multiexp on alt_bn128 curve using Pippenger's algorithm \sum_i
/// mul_i g_{1 i} should be equal result.
///
/// # Arguments
///
/// * `value` - sequence of (g1:G1, fr:Fr), where
///    G1 is point (x:Fq, y:Fq) on alt_bn128,
///   alt_bn128 is Y^2 = X^3 + 3 curve over Fq.
///
///   `value` is encoded as packed, little-endian
///   `[((u256, u256), u256)]` slice.
///
/// # Errors
///
/// If `value_len + value_ptr` points outside the memory or the registers
/// use more memory than the limit, the function returns
/// `MemoryAccessViolation`.
///
/// If point coordinates are not on curve, point is not in the subgroup,
/// scalar is not in the field or  `value.len()%96!=0`, the function returns
/// `AltBn128InvalidInput`.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * num_bytes +
///  alt_bn128_g1_multiexp_base +
///  alt_bn128_g1_multiexp_element * num_elements`
///
/// cspell:words Pippenger
pub fn alt_bn128_g1_multiexp(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    value_len: u64,
    value_ptr: u64,
    register_id: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(alt_bn128_g1_multiexp_base)?;
    let data = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        value_ptr,
        value_len,
    )?;

    let elements = alt_bn128::split_elements(&data)?;
    ctx.result_state.gas_counter.pay_per(alt_bn128_g1_multiexp_element, elements.len() as u64)?;

    let res = alt_bn128::g1_multiexp(elements)?;

    ctx.registers.set(&mut ctx.result_state.gas_counter, &ctx.config.limit_config, register_id, res)
}

/// Computes sum for signed g1 group elements on alt_bn128 curve \sum_i
/// (-1)^{sign_i} g_{1 i} should be equal result.
///
/// # Arguments
///
/// * `value` - sequence of (sign:bool, g1:G1), where
///    G1 is point (x:Fq, y:Fq) on alt_bn128,
///    alt_bn128 is Y^2 = X^3 + 3 curve over Fq.
///
///   `value` is encoded as packed, little-endian
///   `[(u8, (u256, u256))]` slice. `0u8` is positive sign,
///   `1u8` -- negative.
///
/// # Errors
///
/// If `value_len + value_ptr` points outside the memory or the registers
/// use more memory than the limit, the function returns `MemoryAccessViolation`.
///
/// If point coordinates are not on curve, point is not in the subgroup,
/// scalar is not in the field, sign is not 0 or 1, or `value.len()%65!=0`,
/// the function returns `AltBn128InvalidInput`.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * num_bytes +
/// alt_bn128_g1_sum_base + alt_bn128_g1_sum_element * num_elements`
pub fn alt_bn128_g1_sum(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    value_len: u64,
    value_ptr: u64,
    register_id: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(alt_bn128_g1_sum_base)?;
    let data = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        value_ptr,
        value_len,
    )?;

    let elements = alt_bn128::split_elements(&data)?;
    ctx.result_state.gas_counter.pay_per(alt_bn128_g1_sum_element, elements.len() as u64)?;

    let res = alt_bn128::g1_sum(elements)?;

    ctx.registers.set(&mut ctx.result_state.gas_counter, &ctx.config.limit_config, register_id, res)
}

/// Computes pairing check on alt_bn128 curve.
/// \sum_i e(g_{1 i}, g_{2 i}) should be equal one (in additive notation), e(g1, g2) is Ate pairing
///
/// # Arguments
///
/// * `value` - sequence of (g1:G1, g2:G2), where
///   G2 is Fr-ordered subgroup point (x:Fq2, y:Fq2) on alt_bn128 twist,
///   alt_bn128 twist is Y^2 = X^3 + 3/(i+9) curve over Fq2
///   Fq2 is complex field element (re: Fq, im: Fq)
///   G1 is point (x:Fq, y:Fq) on alt_bn128,
///   alt_bn128 is Y^2 = X^3 + 3 curve over Fq
///
///   `value` is encoded a as packed, little-endian
///   `[((u256, u256), ((u256, u256), (u256, u256)))]` slice.
///
/// # Errors
///
/// If `value_len + value_ptr` points outside the memory or the registers
/// use more memory than the limit the function returns `MemoryAccessViolation`.
///
/// If point coordinates are not on curve, point is not in the subgroup, scalar
/// is not in the field or data are wrong serialized, for example,
/// `value.len()%192!=0`, the function returns `AltBn128InvalidInput`.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * num_bytes + alt_bn128_pairing_base + alt_bn128_pairing_element * num_elements`
pub fn alt_bn128_pairing_check(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    value_len: u64,
    value_ptr: u64,
) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(alt_bn128_pairing_check_base)?;
    let data = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        value_ptr,
        value_len,
    )?;

    let elements = alt_bn128::split_elements(&data)?;
    ctx.result_state.gas_counter.pay_per(alt_bn128_pairing_check_element, elements.len() as u64)?;

    let res = alt_bn128::pairing_check(elements)?;

    Ok(res as u64)
}

bls12381_impl!(
    r"Calculates the sum of signed elements on the BLS12-381 curve.
It accepts an arbitrary number of pairs (sign_i, p_i),
where p_i from E(Fp) and sign_i is 0 or 1.
It calculates sum_i (-1)^{sign_i} * p_i

# Arguments

* `value` -  sequence of (sign:bool, p:E(Fp)), where
  p is point (x:Fp, y:Fp) on BLS12-381,
  BLS12-381 is Y^2 = X^3 + 4 curve over Fp.

  `value` is encoded as packed `[(u8, ([u8;48], [u8;48]))]` slice.
  `0u8` is positive sign, `1u8` -- negative.
  Elements from Fp encoded as big-endian [u8;48].

# Output

If the input data is correct returns 0 and the 96 bytes represent
the resulting points from E(Fp) which will be written to the register with
the register_id identifier

If one of the points not on the curve,
the sign or points are incorrectly encoded then 1 will be returned
and nothing will be written to the register.

# Errors

If `value_len + value_ptr` points outside the memory or the registers
use more memory than the limit the function returns `MemoryAccessViolation`.

If `value_len % 97 != 0`, the function returns `BLS12381InvalidInput`.

# Cost

`base + write_register_base + write_register_byte * num_bytes +
bls12381_p1_sum_base + bls12381_p1_sum_element * num_elements`
",
    bls12381_p1_sum,
    97,
    bls12381_p1_sum_base,
    bls12381_p1_sum_element,
    p1_sum
);

bls12381_impl!(
    r"Calculates the sum of signed elements on the twisted BLS12-381 curve.
It accepts an arbitrary number of pairs (sign_i, p_i),
where p_i from E'(Fp^2) and sign_i is 0 or 1.
It calculates sum_i (-1)^{sign_i} * p_i

# Arguments

* `value` -  sequence of (sign:bool, p:E'(Fp^2)), where
  p is point (x:Fp^2, y:Fp^2) on twisted BLS12-381,
  twisted BLS12-381 is Y^2 = X^3 + 4(u + 1) curve over Fp^2.

`value` is encoded as packed `[(u8, ([u8;96], [u8;96]))]` slice.
`0u8` is positive, `1u8` is negative.
Elements q = c0 + c1 * u from Fp^2 encoded as concatenation of c1 and c0,
where c1 and c0 from Fp and encoded as big-endian [u8;48].

# Output

If the input data is correct returns 0 and the 192 bytes represent
the resulting points from E'(Fp^2) which will be written to the register with
the register_id identifier

If one of the points not on the curve,
the sign or points are incorrectly encoded then 1 will be returned
and nothing will be written to the register.

# Errors

If `value_len + value_ptr` points outside the memory or the registers
use more memory than the limit the function returns `MemoryAccessViolation`.

If `value_len % 193 != 0`, the function returns `BLS12381InvalidInput`.

# Cost

`base + write_register_base + write_register_byte * num_bytes +
bls12381_p2_sum_base + bls12381_p2_sum_element * num_elements`
",
    bls12381_p2_sum,
    193,
    bls12381_p2_sum_base,
    bls12381_p2_sum_element,
    p2_sum
);

bls12381_impl!(
    r"Calculates multiexp on BLS12-381 curve:
accepts an arbitrary number of pairs (p_i, s_i),
where p_i from G1 and s_i is a scalar and
calculates sum_i s_i*p_i

# Arguments

* `value` -  sequence of (p:E(Fp), s:u256), where
   p is point (x:Fp, y:Fp) on BLS12-381,
   BLS12-381 is Y^2 = X^3 + 4 curve over Fp.

   `value` is encoded as packed `[(([u8;48], [u8;48]), [u8;32])]` slice.
   Elements from Fp encoded as big-endian [u8;48].
   Scalars encoded as little-endian [u8;32].

# Output

If the input data is correct returns 0 and the 96 bytes represent
the resulting points from G1 which will be written to the register with
the register_id identifier

If one of the points not from G1 subgroup
or points are incorrectly encoded then 1 will be returned
and nothing will be written to the register.

# Errors

If `value_len + value_ptr` points outside the memory or the registers
use more memory than the limit the function returns `MemoryAccessViolation`.

If `value_len % 128 != 0`, the function returns `BLS12381InvalidInput`.

# Cost

`base + write_register_base + write_register_byte * num_bytes +
bls12381_g1_multiexp_base + bls12381_g1_multiexp_element * num_elements`
",
    bls12381_g1_multiexp,
    128,
    bls12381_g1_multiexp_base,
    bls12381_g1_multiexp_element,
    g1_multiexp
);

bls12381_impl!(
    r"Calculates multiexp on twisted BLS12-381 curve:
accepts an arbitrary number of pairs (p_i, s_i),
where p_i from G2 and s_i is a scalar and
calculates sum_i s_i*p_i

# Arguments

* `value` -  sequence of (p:E'(Fp^2), s:u256), where
  p is point (x:Fp^2, y:Fp^2) on twisted BLS12-381,
  BLS12-381 is Y^2 = X^3 + 4(u + 1) curve over Fp^2.

`value` is encoded as packed `[(([u8;96], [u8;96]), [u8;32])]` slice.
Elements q = c0 + c1 * u from Fp^2 encoded as concatenation of c1 and c0,
where c1 and c0 from Fp and encoded as big-endian [u8;48].
Scalars encoded as little-endian [u8;32].

# Output

If the input data is correct returns 0 and the 192 bytes represent
the resulting points from G2 which will be written to the register with
the register_id identifier

If one of the points not from G2 subgroup
or points are incorrectly encoded then 1 will be returned
and nothing will be written to the register.

# Errors

If `value_len + value_ptr` points outside the memory or the registers
use more memory than the limit the function returns `MemoryAccessViolation`.

If `value_len % 224 != 0`, the function returns `BLS12381InvalidInput`.

# Cost

`base + write_register_base + write_register_byte * num_bytes +
bls12381_g2_multiexp_base + bls12381_g2_multiexp_element * num_elements`
",
    bls12381_g2_multiexp,
    224,
    bls12381_g2_multiexp_base,
    bls12381_g2_multiexp_element,
    g2_multiexp
);

bls12381_impl!(
    r"Maps elements from Fp to the G1 subgroup of BLS12-381 curve.

# Arguments

* `value` -  sequence of p from Fp.

   `value` is encoded as packed `[[u8;48]]` slice.
   Elements from Fp encoded as big-endian [u8;48].

# Output

If the input data is correct returns 0 and the 96*num_elements bytes represent
the resulting points from G1 which will be written to the register with
the register_id identifier

If one of the element >= p, then 1 will be returned
and nothing will be written to the register.

# Errors

If `value_len + value_ptr` points outside the memory or the registers
use more memory than the limit the function returns `MemoryAccessViolation`.

If `value_len % 48 != 0`, the function returns `BLS12381InvalidInput`.

# Cost

`base + write_register_base + write_register_byte * num_bytes +
bls12381_map_fp_to_g1_base + bls12381_map_fp_to_g1_element * num_elements`
",
    bls12381_map_fp_to_g1,
    48,
    bls12381_map_fp_to_g1_base,
    bls12381_map_fp_to_g1_element,
    map_fp_to_g1
);

bls12381_impl!(
    r"Maps elements from Fp^2 to the G2 subgroup of twisted BLS12-381 curve.

# Arguments

* `value` -  sequence of p from Fp^2.

`value` is encoded as packed `[[u8;96]]` slice.
Elements q = c0 + c1 * u from Fp^2 encoded as concatenation of c1 and c0,
where c1 and c0 from Fp and encoded as big-endian [u8;48].

# Output

If the input data is correct returns 0 and the 192*num_elements bytes represent
the resulting points from G2 which will be written to the register with
the register_id identifier

If one of the element not valid Fp^2, then 1 will be returned
and nothing will be written to the register.

# Errors

If `value_len + value_ptr` points outside the memory or the registers
use more memory than the limit the function returns `MemoryAccessViolation`.

If `value_len % 96 != 0`, the function returns `BLS12381InvalidInput`.

# Cost
`base + write_register_base + write_register_byte * num_bytes +
bls12381_map_fp2_to_g2_base + bls12381_map_fp2_to_g2_element * num_elements`
",
    bls12381_map_fp2_to_g2,
    96,
    bls12381_map_fp2_to_g2_base,
    bls12381_map_fp2_to_g2_element,
    map_fp2_to_g2
);

/// Computes pairing check on BLS12-381 curve.
/// In other words, computes whether \sum_i e(g_{1 i}, g_{2 i})
/// is equal to one (in additive notation), where e(g1, g2) is the pairing function
///
/// # Arguments
///
/// * `value` -  sequence of (g1:G1, g2:G2), where
///    g1 is point (x:Fp, y:Fp) on BLS12-381,
///    BLS12-381 is Y^2 = X^3 + 4 curve over Fp.
///    g2 is point (x:Fp^2, y:Fp^2) on twisted BLS12-381,
///    twisted BLS12-381 is Y^2 = X^3 + 4(u + 1) curve over Fp^2.
///
///   `value` is encoded as packed `[(([u8;48], [u8;48]), ([u8;96], [u8;96]))]` slice.
///    Elements from Fp encoded as big-endian [u8;48].
///    Elements q = c0 + c1 * u from Fp^2 encoded as concatenation of c1 and c0,
///    where c1 and c0 from Fp.
///
/// # Output
///
/// If the input data is correct and
/// the pairing result equals the multiplicative identity returns 0.
///
/// If one of the points not on the curve, not from G1/G2 or
/// incorrectly encoded then 1 will be returned
///
/// If the input data is correct and
/// the pairing result does NOT equal the multiplicative identity returns 2.
///
/// # Errors
///
/// If `value_len + value_ptr` points outside the memory or the registers
/// use more memory than the limit the function returns `MemoryAccessViolation`.
///
/// If `value_len % 288 != 0`, the function returns `BLS12381InvalidInput`.
///
/// # Cost
/// `base + write_register_base + write_register_byte * num_bytes +
///   bls12381_pairing_base + bls12381_pairing_element * num_elements`
pub fn bls12381_pairing_check(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    value_len: u64,
    value_ptr: u64,
) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(bls12381_pairing_base)?;

    const BLS_P1_SIZE: usize = 96;
    const BLS_P2_SIZE: usize = 192;
    const ITEM_SIZE: usize = BLS_P1_SIZE + BLS_P2_SIZE;

    let data = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        value_ptr,
        value_len,
    )?;
    let elements_count = data.len() / ITEM_SIZE;

    ctx.result_state.gas_counter.pay_per(bls12381_pairing_element, elements_count as u64)?;

    bls12381::pairing_check(&data)
}

bls12381_impl!(
    r"Decompress points from BLS12-381 curve.

# Arguments

* `value` -  sequence of p:E(Fp), where
   p is point in compressed format on BLS12-381,
   BLS12-381 is Y^2 = X^3 + 4 curve over Fp.

   `value` is encoded as packed `[[u8;48]]` slice.
   Where points (x: Fp, y: Fp) from E(Fp) encoded as
   [u8; 48] -- big-endian x: Fp. y determined by the formula y=+-sqrt(x^3 + 4)

   The highest bit should be set as 1, the second-highest bit marks the point at infinity,
   The third-highest bit represent the sign of y (0 for positive).

# Output

If the input data is correct returns 0 and the 96*num_elements bytes represent
the resulting uncompressed points from E(Fp) which will be written to the register with
the register_id identifier

If one of the points not on the curve
or points are incorrectly encoded then 1 will be returned
and nothing will be written to the register.

# Errors

If `value_len + value_ptr` points outside the memory or the registers
use more memory than the limit the function returns `MemoryAccessViolation`.

If `value_len % 48 != 0`, the function returns `BLS12381InvalidInput`.

# Cost
`base + write_register_base + write_register_byte * num_bytes +
bls12381_p1_decompress_base + bls12381_p1_decompress_element * num_elements`
",
    bls12381_p1_decompress,
    48,
    bls12381_p1_decompress_base,
    bls12381_p1_decompress_element,
    p1_decompress
);

bls12381_impl!(
    r"Decompress points from twisted BLS12-381 curve.

# Arguments

* `value` -  sequence of p:E'(Fp^2), where
   p is point in compressed format on twisted BLS12-381,
   twisted BLS12-381 is Y^2 = X^3 + 4(u + 1) curve over Fp^2.

   `value` is encoded as packed `[[u8;96]]` slice.
   Where points (x: Fp^2, y: Fp^2) from E'(Fp^2) encoded as
   [u8; 96] -- x: Fp^2. y determined by the formula y=+-sqrt(x^3 + 4(u + 1))

   Elements q = c0 + c1 * u from Fp^2 encoded as concatenation of c1 and c0,
   where c1 and c0 from Fp and encoded as big-endian [u8;48].

   The highest bit should be set as 1, the second-highest bit marks the point at infinity,
   The third-highest bit represent the sign of y (0 for positive).

# Output

If the input data is correct returns 0 and the 192*num_elements bytes represent
the resulting uncompressed points from E'(Fp^2) which will be written to the register with
the register_id identifier

If one of the points not on the curve
or points are incorrectly encoded then 1 will be returned
and nothing will be written to the register.

# Errors

If `value_len + value_ptr` points outside the memory or the registers
use more memory than the limit the function returns `MemoryAccessViolation`.

If `value_len % 96 != 0`, the function returns `BLS12381InvalidInput`.

# Cost

`base + write_register_base + write_register_byte * num_bytes +
bls12381_p2_decompress_base + bls12381_p2_decompress_element * num_elements`
        ",
    bls12381_p2_decompress,
    96,
    bls12381_p2_decompress_base,
    bls12381_p2_decompress_element,
    p2_decompress
);

/// Writes random seed into the register.
///
/// # Errors
///
/// If the size of the registers exceed the set limit `MemoryAccessViolation`.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * num_bytes`.
pub fn random_seed(ctx: &mut HostCtx, _memory: &mut [u8], register_id: u64) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    ctx.registers.set(
        &mut ctx.result_state.gas_counter,
        &ctx.config.limit_config,
        register_id,
        ctx.context.random_seed.as_slice(),
    )
}

/// Hashes the given value using sha256 and returns it into `register_id`.
///
/// # Errors
///
/// If `value_len + value_ptr` points outside the memory or the registers use more memory than
/// the limit with `MemoryAccessViolation`.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * num_bytes + sha256_base + sha256_byte * num_bytes`
pub fn sha256(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    value_len: u64,
    value_ptr: u64,
    register_id: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(sha256_base)?;
    let value = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        value_ptr,
        value_len,
    )?;
    ctx.result_state.gas_counter.pay_per(sha256_byte, value.len() as u64)?;

    use sha2::Digest;

    let value_hash = sha2::Sha256::digest(&value);
    ctx.registers.set(
        &mut ctx.result_state.gas_counter,
        &ctx.config.limit_config,
        register_id,
        &value_hash[..],
    )
}

/// Hashes the given value using keccak256 and returns it into `register_id`.
///
/// # Errors
///
/// If `value_len + value_ptr` points outside the memory or the registers use more memory than
/// the limit with `MemoryAccessViolation`.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * num_bytes + keccak256_base + keccak256_byte * num_bytes`
pub fn keccak256(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    value_len: u64,
    value_ptr: u64,
    register_id: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(keccak256_base)?;
    let value = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        value_ptr,
        value_len,
    )?;
    ctx.result_state.gas_counter.pay_per(keccak256_byte, value.len() as u64)?;

    use sha3::Digest;

    let value_hash = sha3::Keccak256::digest(&value);
    ctx.registers.set(
        &mut ctx.result_state.gas_counter,
        &ctx.config.limit_config,
        register_id,
        &value_hash[..],
    )
}

/// Hashes the given value using keccak512 and returns it into `register_id`.
///
/// # Errors
///
/// If `value_len + value_ptr` points outside the memory or the registers use more memory than
/// the limit with `MemoryAccessViolation`.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * num_bytes + keccak512_base + keccak512_byte * num_bytes`
pub fn keccak512(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    value_len: u64,
    value_ptr: u64,
    register_id: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(keccak512_base)?;
    let value = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        value_ptr,
        value_len,
    )?;
    ctx.result_state.gas_counter.pay_per(keccak512_byte, value.len() as u64)?;

    use sha3::Digest;

    let value_hash = sha3::Keccak512::digest(&value);
    ctx.registers.set(
        &mut ctx.result_state.gas_counter,
        &ctx.config.limit_config,
        register_id,
        &value_hash[..],
    )
}

/// Hashes the given value using the SHA3 (FIPS-202) digest `D` and returns it into
/// `register_id`, charging `base_cost` once plus `byte_cost` per input byte.
fn sha3_generic<D: sha3::Digest>(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    value_len: u64,
    value_ptr: u64,
    register_id: u64,
    base_cost: ExtCosts,
    byte_cost: ExtCosts,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base_cost)?;
    let value = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        value_ptr,
        value_len,
    )?;
    ctx.result_state.gas_counter.pay_per(byte_cost, value.len() as u64)?;

    let value_hash = D::digest(&value);
    ctx.registers.set(
        &mut ctx.result_state.gas_counter,
        &ctx.config.limit_config,
        register_id,
        &value_hash[..],
    )
}

/// Hashes the given value using sha3-256 (FIPS-202) and returns it into `register_id`.
///
/// # Errors
///
/// If `value_len + value_ptr` points outside the memory or the registers use more memory than
/// the limit with `MemoryAccessViolation`.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * num_bytes + sha3_256_base + sha3_256_byte * num_bytes`
pub fn sha3_256(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    value_len: u64,
    value_ptr: u64,
    register_id: u64,
) -> Result<()> {
    sha3_generic::<sha3::Sha3_256>(
        ctx,
        memory,
        value_len,
        value_ptr,
        register_id,
        sha3_256_base,
        sha3_256_byte,
    )
}

/// Hashes the given value using sha3-384 (FIPS-202) and returns it into `register_id`.
///
/// # Errors
///
/// If `value_len + value_ptr` points outside the memory or the registers use more memory than
/// the limit with `MemoryAccessViolation`.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * num_bytes + sha3_384_base + sha3_384_byte * num_bytes`
pub fn sha3_384(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    value_len: u64,
    value_ptr: u64,
    register_id: u64,
) -> Result<()> {
    sha3_generic::<sha3::Sha3_384>(
        ctx,
        memory,
        value_len,
        value_ptr,
        register_id,
        sha3_384_base,
        sha3_384_byte,
    )
}

/// Hashes the given value using sha3-512 (FIPS-202) and returns it into `register_id`.
///
/// # Errors
///
/// If `value_len + value_ptr` points outside the memory or the registers use more memory than
/// the limit with `MemoryAccessViolation`.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * num_bytes + sha3_512_base + sha3_512_byte * num_bytes`
pub fn sha3_512(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    value_len: u64,
    value_ptr: u64,
    register_id: u64,
) -> Result<()> {
    sha3_generic::<sha3::Sha3_512>(
        ctx,
        memory,
        value_len,
        value_ptr,
        register_id,
        sha3_512_base,
        sha3_512_byte,
    )
}

/// Hashes the given value using RIPEMD-160 and returns it into `register_id`.
///
/// # Errors
///
/// If `value_len + value_ptr` points outside the memory or the registers use more memory than
/// the limit with `MemoryAccessViolation`.
///
/// # Cost
///
///  Where `message_blocks` is `(value_len + 9).div_ceil(64)`.
///
/// `base + write_register_base + write_register_byte * num_bytes + ripemd160_base + ripemd160_block * message_blocks`
pub fn ripemd160(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    value_len: u64,
    value_ptr: u64,
    register_id: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(ripemd160_base)?;
    let value = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        value_ptr,
        value_len,
    )?;

    let message_blocks =
        value.len().checked_add(8).ok_or(VMLogicError::HostError(HostError::IntegerOverflow))? / 64
            + 1;

    ctx.result_state.gas_counter.pay_per(ripemd160_block, message_blocks as u64)?;

    use ripemd::Digest;

    let value_hash = ripemd::Ripemd160::digest(&value);
    ctx.registers.set(
        &mut ctx.result_state.gas_counter,
        &ctx.config.limit_config,
        register_id,
        &value_hash[..],
    )
}

/// Recovers an ECDSA signer address and returns it into `register_id`.
///
/// Takes in an additional flag to check for malleability of the signature
/// which is generally only ideal for transactions.
///
/// Returns a bool indicating success or failure as a `u64`.
///
/// # Malleability Flags
///
/// 0 - No extra checks.
/// 1 - Rejecting upper range.
///
/// # Errors
///
/// * If `hash_ptr`, `r_ptr`, or `s_ptr` point outside the memory or the registers use more
///   memory than the limit, then returns `MemoryAccessViolation`.
///
/// # Cost
///
/// `base + write_register_base + write_register_byte * 64 + ecrecover_base`
pub fn ecrecover(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    hash_len: u64,
    hash_ptr: u64,
    sig_len: u64,
    sig_ptr: u64,
    v: u64,
    malleability_flag: u64,
    register_id: u64,
) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(ecrecover_base)?;

    let signature = {
        let vec = get_memory_or_register(
            &mut ctx.result_state.gas_counter,
            memory,
            &ctx.registers,
            sig_ptr,
            sig_len,
        )?;
        if vec.len() != 64 {
            return Err(VMLogicError::HostError(HostError::ECRecoverError {
                msg: format!(
                    "The length of the signature: {}, exceeds the limit of 64 bytes",
                    vec.len()
                ),
            }));
        }

        let mut bytes = [0u8; 65];
        bytes[0..64].copy_from_slice(&vec);

        if v < 4 {
            bytes[64] = v as u8;
            Secp256K1Signature::from(bytes)
        } else {
            return Err(VMLogicError::HostError(HostError::ECRecoverError {
                msg: format!("V recovery byte 0 through 3 are valid but was provided {}", v),
            }));
        }
    };

    let hash = {
        let vec = get_memory_or_register(
            &mut ctx.result_state.gas_counter,
            memory,
            &ctx.registers,
            hash_ptr,
            hash_len,
        )?;
        if vec.len() != 32 {
            return Err(VMLogicError::HostError(HostError::ECRecoverError {
                msg: format!(
                    "The length of the hash: {}, exceeds the limit of 32 bytes",
                    vec.len()
                ),
            }));
        }

        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&vec);
        bytes
    };

    if malleability_flag != 0 && malleability_flag != 1 {
        return Err(VMLogicError::HostError(HostError::ECRecoverError {
            msg: format!(
                "Malleability flag needs to be 0 or 1, but is instead {}",
                malleability_flag
            ),
        }));
    }

    if !signature.check_signature_values(malleability_flag != 0) {
        return Ok(false as u64);
    }

    if let Ok(pk) = signature.recover(hash) {
        ctx.registers.set(
            &mut ctx.result_state.gas_counter,
            &ctx.config.limit_config,
            register_id,
            pk.as_ref(),
        )?;
        return Ok(true as u64);
    };

    Ok(false as u64)
}

/// Verify an ED25519 signature given a message and a public key.
///
/// Returns a bool indicating success (1) or failure (0) as a `u64`.
///
/// # Errors
///
/// * If the public key's size is not equal to 32, or signature size is not
///   equal to 64, returns [HostError::Ed25519VerifyInvalidInput].
/// * If any of the signature, message or public key arguments are out of
///   memory bounds, returns [`HostError::MemoryAccessViolation`]
///
/// # Cost
///
/// Each input can either be in memory or in a register. Set the length of
/// the input to `u64::MAX` to declare that the input is a register number
/// and not a pointer. Each input has a gas cost input_cost(num_bytes) that
/// depends on whether it is from memory or from a register. It is either
/// read_memory_base + num_bytes * read_memory_byte in the former case or
/// read_register_base + num_bytes * read_register_byte in the latter. This
/// function is labeled as `input_cost` below.
///
/// `input_cost(num_bytes_signature) + input_cost(num_bytes_message) +
///  input_cost(num_bytes_public_key) + ed25519_verify_base +
///  ed25519_verify_byte * num_bytes_message`
pub fn ed25519_verify(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    signature_len: u64,
    signature_ptr: u64,
    message_len: u64,
    message_ptr: u64,
    public_key_len: u64,
    public_key_ptr: u64,
) -> Result<u64> {
    use ed25519_dalek::Verifier;

    ctx.result_state.gas_counter.pay_base(ed25519_verify_base)?;

    let signature: ed25519_dalek::Signature = {
        let vec = get_memory_or_register(
            &mut ctx.result_state.gas_counter,
            memory,
            &ctx.registers,
            signature_ptr,
            signature_len,
        )?;
        let b = <&[u8; ed25519_dalek::SIGNATURE_LENGTH]>::try_from(&vec[..]).map_err(|_| {
            VMLogicError::HostError(HostError::Ed25519VerifyInvalidInput {
                msg: "invalid signature length".to_string(),
            })
        })?;
        // Sanity-check that was performed by ed25519-dalek in from_bytes before version 2,
        // but was removed with version 2. It is not actually any good a check, but we need
        // it to avoid costs changing.
        if b[ed25519_dalek::SIGNATURE_LENGTH - 1] & 0b1110_0000 != 0 {
            return Ok(false as u64);
        }
        ed25519_dalek::Signature::from_bytes(b)
    };

    let message = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        message_ptr,
        message_len,
    )?;
    ctx.result_state.gas_counter.pay_per(ed25519_verify_byte, message.len() as u64)?;

    let public_key: ed25519_dalek::VerifyingKey = {
        let vec = get_memory_or_register(
            &mut ctx.result_state.gas_counter,
            memory,
            &ctx.registers,
            public_key_ptr,
            public_key_len,
        )?;
        let b = <&[u8; ed25519_dalek::PUBLIC_KEY_LENGTH]>::try_from(&vec[..]).map_err(|_| {
            VMLogicError::HostError(HostError::Ed25519VerifyInvalidInput {
                msg: "invalid public key length".to_string(),
            })
        })?;
        match ed25519_dalek::VerifyingKey::from_bytes(b) {
            Ok(public_key) => public_key,
            Err(_) => return Ok(false as u64),
        }
    };

    match public_key.verify(&message, &signature) {
        Err(_) => Ok(false as u64),
        Ok(()) => Ok(true as u64),
    }
}

/// Verify a P-256 ECDSA signature given a prehashed message and a public key.
///
/// The signature must be 64 bytes, encoded as `r || s`. The public key must
/// be a 33-byte compressed SEC1 encoding. Per [NEP-635], this host function
/// does not hash the message: the caller is responsible for applying the
/// appropriate protocol (for example SHA-256 for WebAuthn) before calling.
///
/// Returns a bool indicating success (1) or failure (0) as a `u64`.
///
/// [NEP-635]: https://github.com/near/NEPs/pull/635
///
/// # Errors
///
/// * If the public key's size is not equal to 33 or signature size is not equal
///   to 64, returns [HostError::P256VerifyInvalidInput].
/// * If any of the signature, message or public key arguments are out of
///   memory bounds, returns [`HostError::MemoryAccessViolation`]
///
/// # Malleability
///
/// ECDSA signatures are malleable: if `(r, s)` verifies, so does `(r, n - s)`,
/// and this function accepts both. It delegates to a FIPS 186-5 compliant
/// implementation and does not enforce low-s normalization (low-s is a Bitcoin
/// convention from BIP-62, not an ECDSA requirement). This is deliberate:
/// WebAuthn does not require low-s and real authenticators — notably Apple's
/// Secure Enclave — routinely emit high-s signatures, so rejecting them would
/// break passkey flows. Ethereum's RIP-7212 `P256VERIFY` precompile makes the
/// same choice, and unlike `ecrecover` this function takes no malleability
/// flag.
///
/// Malleability only matters to callers that use the signature bytes themselves
/// for uniqueness or replay protection. Such callers must either enforce low-s
/// themselves — with the raw `r || s` encoding, `s` is bytes 32..64 big-endian,
/// so the check is a lexicographic comparison against ⌊n/2⌋ =
/// `0x7FFFFFFF800000007FFFFFFFFFFFFFFFDE737D56D38BCF4279DCE5617E3192A8` — or
/// have clients normalize `s = n - s` before submission. This behavior is
/// pinned by `test_p256_verify_wycheproof_high_s_accepted`; changing it would
/// be protocol-breaking.
///
/// # Cost
///
/// Each input can either be in memory or in a register. Set the length of
/// the input to `u64::MAX` to declare that the input is a register number
/// and not a pointer. Each input has a gas cost input_cost(num_bytes) that
/// depends on whether it is from memory or from a register. It is either
/// read_memory_base + num_bytes * read_memory_byte in the former case or
/// read_register_base + num_bytes * read_register_byte in the latter. This
/// function is labeled as `input_cost` below.
///
/// `input_cost(num_bytes_signature) + input_cost(num_bytes_message) +
///  input_cost(num_bytes_public_key) + p256_verify_base +
///  p256_verify_byte * num_bytes_message`
pub fn p256_verify(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    signature_len: u64,
    signature_ptr: u64,
    message_len: u64,
    message_ptr: u64,
    public_key_len: u64,
    public_key_ptr: u64,
) -> Result<u64> {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    use p256::ecdsa::{Signature, VerifyingKey};

    ctx.result_state.gas_counter.pay_base(p256_verify_base)?;

    let signature = {
        let vec = get_memory_or_register(
            &mut ctx.result_state.gas_counter,
            memory,
            &ctx.registers,
            signature_ptr,
            signature_len,
        )?;
        if vec.len() != 64 {
            return Err(VMLogicError::HostError(HostError::P256VerifyInvalidInput {
                msg: "invalid signature length".to_string(),
            }));
        }
        match Signature::from_slice(&vec) {
            Ok(signature) => signature,
            Err(_) => return Ok(false as u64),
        }
    };

    let message = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        message_ptr,
        message_len,
    )?;
    ctx.result_state.gas_counter.pay_per(p256_verify_byte, message.len() as u64)?;

    let public_key = {
        let vec = get_memory_or_register(
            &mut ctx.result_state.gas_counter,
            memory,
            &ctx.registers,
            public_key_ptr,
            public_key_len,
        )?;
        if vec.len() != 33 {
            return Err(VMLogicError::HostError(HostError::P256VerifyInvalidInput {
                msg: "invalid public key length".to_string(),
            }));
        }
        match VerifyingKey::from_sec1_bytes(&vec) {
            Ok(public_key) => public_key,
            Err(_) => return Ok(false as u64),
        }
    };

    match public_key.verify_prehash(&message, &signature) {
        Err(_) => Ok(false as u64),
        Ok(()) => Ok(true as u64),
    }
}

/// Verify an ML-DSA-65 (FIPS 204) signature given a message and a public key.
///
/// The signature must be 3309 bytes and the public key must be the 1952-byte
/// raw FIPS 204 encoding. The message is of arbitrary length and is passed to
/// the verifier as-is: ML-DSA hashes the message internally, so the caller
/// must not pre-hash. Verification uses an empty
/// context string, matching NEAR's transaction-level ML-DSA-65 signatures.
///
/// Returns a bool indicating success (1) or failure (0) as a `u64`.
///
/// # Errors
///
/// * If the signature's size is not 3309 or the public key's size is not 1952,
///   returns [HostError::MlDsaVerifyInvalidInput], whose message is the
///   underlying error and reports the expected and received sizes. Well-sized
///   inputs that fail verification return 0 instead of aborting.
/// * If any of the signature, message or public key arguments are out of
///   memory bounds, returns [`HostError::MemoryAccessViolation`]
///
/// # Cost
///
/// Each input can either be in memory or in a register. Set the length of
/// the input to `u64::MAX` to declare that the input is a register number
/// and not a pointer. Each input has a gas cost input_cost(num_bytes) that
/// depends on whether it is from memory or from a register. It is either
/// read_memory_base + num_bytes * read_memory_byte in the former case or
/// read_register_base + num_bytes * read_register_byte in the latter. This
/// function is labeled as `input_cost` below.
///
/// `input_cost(num_bytes_signature) + input_cost(num_bytes_message) +
///  input_cost(num_bytes_public_key) + ml_dsa_verify_base +
///  ml_dsa_verify_byte * num_bytes_message`
pub fn ml_dsa_verify(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    signature_len: u64,
    signature_ptr: u64,
    message_len: u64,
    message_ptr: u64,
    public_key_len: u64,
    public_key_ptr: u64,
) -> Result<u64> {
    use near_crypto::{MlDsa65PublicKey, MlDsa65Signature, PublicKey, Signature};

    ctx.result_state.gas_counter.pay_base(ml_dsa_verify_base)?;

    let signature = {
        let vec = get_memory_or_register(
            &mut ctx.result_state.gas_counter,
            memory,
            &ctx.registers,
            signature_ptr,
            signature_len,
        )?;
        match MlDsa65Signature::try_from(&vec[..]) {
            Ok(signature) => Signature::MLDSA65(signature),
            Err(err) => {
                return Err(VMLogicError::HostError(HostError::MlDsaVerifyInvalidInput {
                    msg: err.to_string(),
                }));
            }
        }
    };

    let message = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        message_ptr,
        message_len,
    )?;
    ctx.result_state.gas_counter.pay_per(ml_dsa_verify_byte, message.len() as u64)?;

    let public_key = {
        let vec = get_memory_or_register(
            &mut ctx.result_state.gas_counter,
            memory,
            &ctx.registers,
            public_key_ptr,
            public_key_len,
        )?;
        match MlDsa65PublicKey::try_from(&vec[..]) {
            Ok(public_key) => PublicKey::MLDSA65(public_key),
            Err(err) => {
                return Err(VMLogicError::HostError(HostError::MlDsaVerifyInvalidInput {
                    msg: err.to_string(),
                }));
            }
        }
    };

    Ok(signature.verify(&message, &public_key) as u64)
}

/// Consume gas. Counts both towards `burnt_gas` and `used_gas`.
///
/// # Errors
///
/// * If passed gas amount somehow overflows internal gas counters returns `IntegerOverflow`;
/// * If we exceed usage limit imposed on burnt gas returns `GasLimitExceeded`;
/// * If we exceed the `prepaid_gas` then returns `GasExceeded`.
pub fn consume_gas(gas_counter: &mut GasCounter, gas: u64) -> Result<()> {
    gas_counter.burn_gas(Gas::from_gas(gas))
}

pub fn gas_opcodes(result_state: &mut ExecutionResultState, opcodes: u32) -> Result<()> {
    consume_gas(
        &mut result_state.gas_counter,
        opcodes as u64 * result_state.config.regular_op_cost as u64,
    )
}

/// An alias for [`consume_gas`].
///
/// Always compiled so that an embedder can charge gas through the same host function the
/// runtime uses. Whether contracts may *import* it is still gated on `test_features` in
/// `imports.rs`.
pub fn burn_gas(ctx: &mut HostCtx, _memory: &mut [u8], gas: u64) -> Result<()> {
    consume_gas(&mut ctx.result_state.gas_counter, gas)
}

/// This is the function that is exposed to WASM contracts under the name `gas`.
///
/// For now it is consuming the gas for `gas` opcodes. When we switch to finite-wasm it’ll
/// be made to be a no-op.
///
/// This function might be intrinsified.
pub fn gas_seen_from_wasm(ctx: &mut HostCtx, _memory: &mut [u8], opcodes: u32) -> Result<()> {
    gas_opcodes(&mut ctx.result_state, opcodes)
}

#[cfg(feature = "test_features")]
pub fn sleep_nanos(_ctx: &mut HostCtx, _memory: &mut [u8], nanos: u64) -> Result<()> {
    let duration = std::time::Duration::from_nanos(nanos);
    std::thread::sleep(duration);
    Ok(())
}

// ################
// # Promises API #
// ################

/// A helper function to pay gas fee for creating a new receipt without actions.
/// # Args:
/// * `sir`: whether contract call is addressed to itself;
/// * `data_dependencies`: other contracts that this execution will be waiting on (or rather
///   their data receipts), where bool indicates whether this is sender=receiver communication.
///
/// # Cost
///
/// This is a convenience function that encapsulates several costs:
/// `burnt_gas := dispatch cost of the receipt + base dispatch cost of the data receipt`
/// `used_gas := burnt_gas + exec cost of the receipt + base exec cost of the data receipt`
/// Notice that we prepay all base cost upon the creation of the data dependency, we are going to
/// pay for the content transmitted through the dependency upon the actual creation of the
/// DataReceipt.
fn pay_gas_for_new_receipt(
    gas_counter: &mut GasCounter,
    fees_config: &RuntimeFeesConfig,
    sir: bool,
    data_dependencies: &[bool],
) -> Result<()> {
    let mut burn_cost = fees_config.fee(ActionCosts::new_action_receipt).send_fee(sir);
    let mut use_gas = fees_config.fee(ActionCosts::new_action_receipt).exec_fee().gas;
    for dep in data_dependencies {
        // Both creation and execution for data receipts are considered burnt gas.
        burn_cost = burn_cost
            .checked_add(fees_config.fee(ActionCosts::new_data_receipt_base).send_fee(*dep))
            .ok_or(HostError::IntegerOverflow)?
            .checked_add(fees_config.fee(ActionCosts::new_data_receipt_base).exec_fee())
            .ok_or(HostError::IntegerOverflow)?;
    }
    use_gas = use_gas.checked_add(burn_cost.gas).ok_or(HostError::IntegerOverflow)?;
    // This should go to `new_data_receipt_base` and `new_action_receipt` in parts.
    // But we have to keep charging these two together unless we make a protocol change.
    gas_counter.pay_action_accumulated(burn_cost, use_gas, ActionCosts::new_action_receipt)
}

/// Creates a promise that will execute a method on account with given arguments and attaches
/// the given amount and gas. `amount_ptr` point to slices of bytes representing `u128`.
///
/// # Errors
///
/// * If `account_id_len + account_id_ptr` or `method_name_len + method_name_ptr` or
/// `arguments_len + arguments_ptr` or `amount_ptr + 16` points outside the memory of the guest
/// or host returns `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Returns
///
/// Index of the new promise that uniquely identifies it within the current execution of the
/// method.
///
/// # Cost
///
/// `promise_create` is a convenience wrapper around `promise_batch_create` and
/// `promise_batch_action_function_call`. This means it charges the `base` cost twice.
pub fn promise_create(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    account_id_len: u64,
    account_id_ptr: u64,
    method_name_len: u64,
    method_name_ptr: u64,
    arguments_len: u64,
    arguments_ptr: u64,
    amount_ptr: u64,
    gas: u64,
) -> Result<u64> {
    let new_promise_idx = promise_batch_create(ctx, memory, account_id_len, account_id_ptr)?;
    promise_batch_action_function_call(
        ctx,
        memory,
        new_promise_idx,
        method_name_len,
        method_name_ptr,
        arguments_len,
        arguments_ptr,
        amount_ptr,
        gas,
    )?;
    Ok(new_promise_idx)
}

/// Attaches the callback that is executed after promise pointed by `promise_idx` is complete.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`;
/// * If `account_id_len + account_id_ptr` or `method_name_len + method_name_ptr` or
///   `arguments_len + arguments_ptr` or `amount_ptr + 16` points outside the memory of the
///   guest or host returns `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Returns
///
/// Index of the new promise that uniquely identifies it within the current execution of the
/// method.
///
/// # Cost
///
/// `promise_then` is a convenience wrapper around `promise_batch_then` and
/// `promise_batch_action_function_call`. This means it charges the `base` cost twice.
pub fn promise_then(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    account_id_len: u64,
    account_id_ptr: u64,
    method_name_len: u64,
    method_name_ptr: u64,
    arguments_len: u64,
    arguments_ptr: u64,
    amount_ptr: u64,
    gas: u64,
) -> Result<u64> {
    let new_promise_idx =
        promise_batch_then(ctx, memory, promise_idx, account_id_len, account_id_ptr)?;
    promise_batch_action_function_call(
        ctx,
        memory,
        new_promise_idx,
        method_name_len,
        method_name_ptr,
        arguments_len,
        arguments_ptr,
        amount_ptr,
        gas,
    )?;
    Ok(new_promise_idx)
}

/// Creates a new promise which completes when time all promises passed as arguments complete.
/// Cannot be used with registers. `promise_idx_ptr` points to an array of `u64` elements, with
/// `promise_idx_count` denoting the number of elements. The array contains indices of promises
/// that need to be waited on jointly.
///
/// # Errors
///
/// * If `promise_ids_ptr + 8 * promise_idx_count` extend outside the guest memory returns
///   `MemoryAccessViolation`;
/// * If any of the promises in the array do not correspond to existing promises returns
///   `InvalidPromiseIndex`.
/// * If called as view function returns `ProhibitedInView`.
/// * If the total number of receipt dependencies exceeds `max_number_input_data_dependencies`
///   limit returns `NumInputDataDependenciesExceeded`.
/// * If the total number of promises exceeds `max_promises_per_function_call_action` limit
///   returns `NumPromisesExceeded`.
///
/// # Returns
///
/// Index of the new promise that uniquely identifies it within the current execution of the
/// method.
///
/// # Cost
///
/// `base + promise_and_base + promise_and_per_promise * num_promises + cost of reading promise ids from memory`.
pub fn promise_and(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx_ptr: u64,
    promise_idx_count: u64,
) -> Result<PromiseIndex> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView { method_name: "promise_and".to_string() }.into());
    }
    ctx.result_state.gas_counter.pay_base(promise_and_base)?;
    let memory_len =
        promise_idx_count.checked_mul(size_of::<u64>() as u64).ok_or(HostError::IntegerOverflow)?;
    ctx.result_state.gas_counter.pay_per(promise_and_per_promise, memory_len)?;

    // Read indices as little endian u64.
    let promise_indices =
        read_memory(&mut ctx.result_state.gas_counter, memory, promise_idx_ptr, memory_len)?;
    let promise_indices = stdx::as_chunks_exact::<{ size_of::<u64>() }, u8>(&promise_indices)
        .unwrap()
        .into_iter()
        .map(|bytes| u64::from_le_bytes(*bytes));

    let mut receipt_dependencies = vec![];
    for promise_idx in promise_indices {
        let promise = ctx
            .promises
            .get(promise_idx as usize)
            .ok_or(HostError::InvalidPromiseIndex { promise_idx })?;
        match &promise {
            Promise::Receipt(receipt_idx) => {
                receipt_dependencies.push(*receipt_idx);
            }
            Promise::NotReceipt(receipt_indices) => {
                receipt_dependencies.extend(receipt_indices.clone());
            }
        }
        // Checking this in the loop to prevent abuse of too many joined vectors.
        if receipt_dependencies.len() as u64
            > ctx.config.limit_config.max_number_input_data_dependencies
        {
            return Err(HostError::NumberInputDataDependenciesExceeded {
                number_of_input_data_dependencies: receipt_dependencies.len() as u64,
                limit: ctx.config.limit_config.max_number_input_data_dependencies,
            }
            .into());
        }
    }
    checked_push_promise(ctx, Promise::NotReceipt(receipt_dependencies))
}

/// Creates a new promise towards given `account_id` without any actions attached to it.
///
/// # Errors
///
/// * If `account_id_len + account_id_ptr` points outside the memory of the guest or host
/// returns `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
/// * If the total number of promises exceeds `max_promises_per_function_call_action` limit
///   returns `NumPromisesExceeded`.
///
/// # Returns
///
/// Index of the new promise that uniquely identifies it within the current execution of the
/// method.
///
/// # Cost
///
/// `burnt_gas := base + cost of reading and decoding the account id + dispatch cost of the receipt`.
/// `used_gas := burnt_gas + exec cost of the receipt`.
pub fn promise_batch_create(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    account_id_len: u64,
    account_id_ptr: u64,
) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_batch_create".to_string(),
        }
        .into());
    }
    let account_id = read_and_parse_account_id(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        &ctx.config,
        account_id_ptr,
        account_id_len,
    )?;
    let sir = account_id == ctx.context.current_account_id;
    pay_gas_for_new_receipt(&mut ctx.result_state.gas_counter, &ctx.fees_config, sir, &[])?;
    let new_receipt_idx = ctx.ext.create_action_receipt(vec![], account_id)?;

    checked_push_promise(ctx, Promise::Receipt(new_receipt_idx))
}

/// Creates a new promise towards given `account_id` without any actions attached, that is
/// executed after promise pointed by `promise_idx` is complete.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`;
/// * If `account_id_len + account_id_ptr` points outside the memory of the guest or host
/// returns `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
/// * If the total number of promises exceeds `max_promises_per_function_call_action` limit
///   returns `NumPromisesExceeded`.
///
/// # Returns
///
/// Index of the new promise that uniquely identifies it within the current execution of the
/// method.
///
/// # Cost
///
/// `base + cost of reading and decoding the account id + dispatch&execution cost of the receipt
///  + dispatch&execution base cost for each data dependency`
pub fn promise_batch_then(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    account_id_len: u64,
    account_id_ptr: u64,
) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(
            HostError::ProhibitedInView { method_name: "promise_batch_then".to_string() }.into()
        );
    }
    let account_id = read_and_parse_account_id(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        &ctx.config,
        account_id_ptr,
        account_id_len,
    )?;
    // Update the DAG and return new promise idx.
    let promise = ctx
        .promises
        .get(promise_idx as usize)
        .ok_or(HostError::InvalidPromiseIndex { promise_idx })?;
    let receipt_dependencies = match &promise {
        Promise::Receipt(receipt_idx) => vec![*receipt_idx],
        Promise::NotReceipt(receipt_indices) => receipt_indices.clone(),
    };

    let sir = account_id == ctx.context.current_account_id;
    let deps: Vec<_> = receipt_dependencies
        .iter()
        .map(|&receipt_idx| ctx.ext.get_receipt_receiver(receipt_idx) == &account_id)
        .collect();
    pay_gas_for_new_receipt(&mut ctx.result_state.gas_counter, &ctx.fees_config, sir, &deps)?;

    let new_receipt_idx = ctx.ext.create_action_receipt(receipt_dependencies, account_id)?;

    checked_push_promise(ctx, Promise::Receipt(new_receipt_idx))
}

/// Sets the `refund_to` field on the promise
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`;
/// * If `account_id_len + account_id_ptr` points outside the memory of the guest or host
/// returns `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `base + cost of reading and decoding the account id`
pub fn promise_set_refund_to(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    account_id_len: u64,
    account_id_ptr: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_set_refund_to".to_string(),
        }
        .into());
    }
    let refund_to = read_and_parse_account_id(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        &ctx.config,
        account_id_ptr,
        account_id_len,
    )?;
    let promise = ctx
        .promises
        .get(promise_idx as usize)
        .ok_or(HostError::InvalidPromiseIndex { promise_idx })?;

    let receipt_idx = match &promise {
        Promise::Receipt(receipt_idx) => Ok(*receipt_idx),
        Promise::NotReceipt(_) => Err(HostError::CannotSetRefundToOnJointPromise),
    }?;

    ctx.ext.set_refund_to(receipt_idx, refund_to);
    Ok(())
}

/// Helper function to return the receipt index corresponding to the given promise index.
/// It also pulls account ID for the given receipt and compares it with the current account ID
/// to return whether the receipt's account ID is the same.
fn promise_idx_to_receipt_idx_with_sir(
    ctx: &HostCtx,
    promise_idx: u64,
) -> Result<(ReceiptIndex, bool)> {
    let promise = ctx
        .promises
        .get(promise_idx as usize)
        .ok_or(HostError::InvalidPromiseIndex { promise_idx })?;
    let receipt_idx = match &promise {
        Promise::Receipt(receipt_idx) => Ok(*receipt_idx),
        Promise::NotReceipt(_) => Err(HostError::CannotAppendActionToJointPromise),
    }?;

    let account_id = ctx.ext.get_receipt_receiver(receipt_idx);
    let sir = account_id == &ctx.context.current_account_id;
    Ok((receipt_idx, sir))
}

/// Appends `CreateAccount` action to the batch of actions for the given promise pointed by
/// `promise_idx`.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns `CannotAppendActionToJointPromise`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `burnt_gas := base + dispatch action fee`
/// `used_gas := burnt_gas + exec action fee`
pub fn promise_batch_action_create_account(
    ctx: &mut HostCtx,
    _memory: &mut [u8],
    promise_idx: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_batch_action_create_account".to_string(),
        }
        .into());
    }
    let (receipt_idx, sir) = promise_idx_to_receipt_idx_with_sir(ctx, promise_idx)?;

    pay_action_base(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::create_account,
        sir,
    )?;

    ctx.ext.append_action_create_account(receipt_idx);
    Ok(())
}

/// Appends `DeployContract` action to the batch of actions for the given promise pointed by
/// `promise_idx`.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns `CannotAppendActionToJointPromise`.
/// * If `code_len + code_ptr` points outside the memory of the guest or host returns
/// `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
/// * If the contract code length exceeds `max_contract_size` returns `ContractSizeExceeded`.
///
/// # Cost
///
/// `burnt_gas := base + dispatch action base fee + dispatch action per byte fee * num bytes + cost of reading vector from memory `
/// `used_gas := burnt_gas + exec action base fee + exec action per byte fee * num bytes`
pub fn promise_batch_action_deploy_contract(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    code_len: u64,
    code_ptr: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_batch_action_deploy_contract".to_string(),
        }
        .into());
    }
    let code = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        code_ptr,
        code_len,
    )?;
    let code_len = code.len() as u64;
    let limit = ctx.config.limit_config.max_contract_size;
    if code_len > limit {
        return Err(HostError::ContractSizeExceeded { size: code_len, limit }.into());
    }
    let code = code.into();

    let (receipt_idx, sir) = promise_idx_to_receipt_idx_with_sir(ctx, promise_idx)?;

    pay_action_base(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::deploy_contract_base,
        sir,
    )?;
    pay_action_per_byte(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::deploy_contract_byte,
        code_len,
        sir,
    )?;

    ctx.ext.append_action_deploy_contract(receipt_idx, code);
    Ok(())
}

/// Appends `DeployGlobalContract` action to the batch of actions for the given promise
/// pointed by `promise_idx`.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns `CannotAppendActionToJointPromise`.
/// * If `code_len + code_ptr` points outside the memory of the guest or host returns
/// `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
/// * If the contract code length exceeds `max_contract_size` returns `ContractSizeExceeded`.
///
/// # Cost
///
/// `burnt_gas := base + dispatch action base fee + dispatch action per byte fee * num bytes + cost of reading vector from memory `
/// `used_gas := burnt_gas + exec action base fee + exec action per byte fee * num bytes`
pub fn promise_batch_action_deploy_global_contract(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    code_len: u64,
    code_ptr: u64,
) -> Result<()> {
    promise_batch_action_deploy_global_contract_impl(
        ctx,
        memory,
        promise_idx,
        code_len,
        code_ptr,
        GlobalContractDeployMode::CodeHash,
        "promise_batch_action_deploy_global_contract",
    )
}

/// Appends `DeployGlobalContractByAccountId` action to the batch of actions for the given
/// promise pointed by `promise_idx`.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns `CannotAppendActionToJointPromise`.
/// * If `code_len + code_ptr` points outside the memory of the guest or host returns
/// `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
/// * If the contract code length exceeds `max_contract_size` returns `ContractSizeExceeded`.
///
/// # Cost
///
/// `burnt_gas := base + dispatch action base fee + dispatch action per byte fee * num bytes + cost of reading vector from memory `
/// `used_gas := burnt_gas + exec action base fee + exec action per byte fee * num bytes`
pub fn promise_batch_action_deploy_global_contract_by_account_id(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    code_len: u64,
    code_ptr: u64,
) -> Result<()> {
    promise_batch_action_deploy_global_contract_impl(
        ctx,
        memory,
        promise_idx,
        code_len,
        code_ptr,
        GlobalContractDeployMode::AccountId,
        "promise_batch_action_deploy_global_contract_by_account_id",
    )
}

fn promise_batch_action_deploy_global_contract_impl(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    code_len: u64,
    code_ptr: u64,
    mode: GlobalContractDeployMode,
    method_name: &str,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView { method_name: method_name.to_owned() }.into());
    }
    let code = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        code_ptr,
        code_len,
    )?;
    let code_len = code.len() as u64;
    let limit = ctx.config.limit_config.max_contract_size;
    if code_len > limit {
        return Err(HostError::ContractSizeExceeded { size: code_len, limit }.into());
    }
    let code = code.into();

    let (receipt_idx, sir) = promise_idx_to_receipt_idx_with_sir(ctx, promise_idx)?;

    pay_action_base(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::deploy_global_contract_base,
        sir,
    )?;
    pay_action_per_byte(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::deploy_global_contract_byte,
        code_len,
        sir,
    )?;

    ctx.ext.append_action_deploy_global_contract(receipt_idx, code, mode);
    Ok(())
}

/// Appends `UseGlobalContract` action to the batch of actions for the given promise
/// pointed by `promise_idx`.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns `CannotAppendActionToJointPromise`.
/// * If called as view function returns `ProhibitedInView`.
/// * If `code_hash_len + code_hash_ptr` points outside the memory of the guest or host returns
/// `MemoryAccessViolation`.
/// * If a malformed code hash is passed, returns `ContractCodeHashMalformed`.
///
/// # Cost
///
/// `burnt_gas := base + dispatch action base fee + dispatch action per byte fee * num bytes + cost of reading vector from memory `
/// `used_gas := burnt_gas + exec action base fee + exec action per byte fee * num bytes`
pub fn promise_batch_action_use_global_contract(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    code_hash_len: u64,
    code_hash_ptr: u64,
) -> Result<()> {
    promise_batch_action_use_global_contract_impl(
        ctx,
        memory,
        promise_idx,
        GlobalContractIdentifierPtrData::CodeHash { code_hash_len, code_hash_ptr },
        "promise_batch_action_use_global_contract",
    )
}

/// Appends `UseGlobalContract` action to the batch of actions for the given promise
/// pointed by `promise_idx`.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns `CannotAppendActionToJointPromise`.
/// * If called as view function returns `ProhibitedInView`.
/// * If `account_id_len + account_id_ptr` points outside the memory of the guest or host returns
/// `MemoryAccessViolation`.
/// * If account_id string is not UTF-8 returns `BadUtf8`.
///
/// # Cost
///
/// `burnt_gas := base + dispatch action base fee + dispatch action per byte fee * num bytes
/// + cost of reading vector from memory + cost of reading and parsing account name`
/// `used_gas := burnt_gas + exec action base fee + exec action per byte fee * num bytes`
pub fn promise_batch_action_use_global_contract_by_account_id(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    account_id_len: u64,
    account_id_ptr: u64,
) -> Result<()> {
    promise_batch_action_use_global_contract_impl(
        ctx,
        memory,
        promise_idx,
        GlobalContractIdentifierPtrData::AccountId { account_id_len, account_id_ptr },
        "promise_batch_action_use_global_contract_by_account_id",
    )
}

fn promise_batch_action_use_global_contract_impl(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    contract_id_ptr: GlobalContractIdentifierPtrData,
    method_name: &str,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView { method_name: method_name.to_owned() }.into());
    }
    let contract_id = read_contract_id(contract_id_ptr, memory, ctx)?;

    let (receipt_idx, sir) = promise_idx_to_receipt_idx_with_sir(ctx, promise_idx)?;

    pay_action_base(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::use_global_contract_base,
        sir,
    )?;
    let len = contract_id.len() as u64;
    pay_action_per_byte(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::use_global_contract_byte,
        len,
        sir,
    )?;

    ctx.ext.append_action_use_global_contract(receipt_idx, contract_id);
    Ok(())
}

fn read_contract_id(
    contract_id_ptr: GlobalContractIdentifierPtrData,
    memory: &[u8],
    ctx: &mut HostCtx,
) -> Result<GlobalContractIdentifier, VMLogicError> {
    match contract_id_ptr {
        GlobalContractIdentifierPtrData::CodeHash { code_hash_len, code_hash_ptr } => {
            let code_hash_bytes = get_memory_or_register(
                &mut ctx.result_state.gas_counter,
                memory,
                &ctx.registers,
                code_hash_ptr,
                code_hash_len,
            )?;
            let code_hash: [_; CryptoHash::LENGTH] =
                (&*code_hash_bytes).try_into().map_err(|_| HostError::ContractCodeHashMalformed)?;
            Ok(GlobalContractIdentifier::CodeHash(CryptoHash(code_hash)))
        }
        GlobalContractIdentifierPtrData::AccountId { account_id_len, account_id_ptr } => {
            let account_id = read_and_parse_account_id(
                &mut ctx.result_state.gas_counter,
                memory,
                &ctx.registers,
                &ctx.config,
                account_id_ptr,
                account_id_len,
            )?;
            Ok(GlobalContractIdentifier::AccountId(account_id))
        }
    }
}

/// Appends `DeterministicStateInit` action to the batch of actions for the given promise
/// pointed by `promise_idx`.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns
///   [`HostError::InvalidPromiseIndex`].
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns [`HostError::CannotAppendActionToJointPromise`].
/// * If called as view function returns [`HostError::ProhibitedInView`].
/// * If `code_hash_len + code_hash_ptr` or `amount_ptr + 16` points outside the memory of the
/// guest or host returns [`HostError::MemoryAccessViolation`].
///
/// # Cost
///
/// `burnt_gas` := base + dispatch action base fee
///             + cost of reading code from memory
///             + cost of reading amount from memory
///
/// `used_gas`  := burnt_gas + exec action base fee
pub fn promise_batch_action_state_init(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    code_hash_len: u64,
    code_hash_ptr: u64,
    amount_ptr: u64,
) -> Result<u64> {
    promise_batch_action_state_init_impl(
        ctx,
        memory,
        promise_idx,
        GlobalContractIdentifierPtrData::CodeHash { code_hash_len, code_hash_ptr },
        amount_ptr,
        "promise_batch_action_state_init",
    )
}

/// Appends `DeterministicStateInit` action to the batch of actions for the given promise
/// pointed by `promise_idx`.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns
///   [`HostError::InvalidPromiseIndex`].
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns [`HostError::CannotAppendActionToJointPromise`].
/// * If called as view function returns [`HostError::ProhibitedInView`].
/// * If `account_id_len + account_id_ptr` or `amount_ptr + 16` points outside the memory of the
/// guest or host returns [`HostError::MemoryAccessViolation`].
/// * If account_id string is not UTF-8 returns `BadUtf8`.
///
/// # Cost
///
/// `burnt_gas` := base + dispatch action base fee
///             + cost of reading account id from memory
///             + cost of decoding account_id as UTF-8
///             + cost of reading amount from memory
///
/// `used_gas`  := burnt_gas + exec action base fee
pub fn promise_batch_action_state_init_by_account_id(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    account_id_len: u64,
    account_id_ptr: u64,
    amount_ptr: u64,
) -> Result<u64> {
    promise_batch_action_state_init_impl(
        ctx,
        memory,
        promise_idx,
        GlobalContractIdentifierPtrData::AccountId { account_id_len, account_id_ptr },
        amount_ptr,
        "promise_batch_action_state_init_by_account_id",
    )
}

fn promise_batch_action_state_init_impl(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    contract_id_ptr: GlobalContractIdentifierPtrData,
    amount_ptr: u64,
    method_name: &str,
) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView { method_name: method_name.to_owned() }.into());
    }
    let code = read_contract_id(contract_id_ptr, memory, ctx)?;
    let amount =
        Balance::from_yoctonear(get_u128(&mut ctx.result_state.gas_counter, memory, amount_ptr)?);
    let (receipt_idx, sir) = promise_idx_to_receipt_idx_with_sir(ctx, promise_idx)?;

    pay_action_base(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::deterministic_state_init_base,
        sir,
    )?;
    ctx.result_state.deduct_balance(amount)?;
    Ok(ctx.ext.append_action_deterministic_state_init(receipt_idx, code, amount))
}

/// Appends a data entry to an existing `DeterministicStateInit` action.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns
///   [`HostError::InvalidPromiseIndex`].
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
///   `promise_and` returns [`HostError::CannotAppendActionToJointPromise`].
/// * If `action_idx` does not correspond to an existing action within the promise,
///   returns [`HostError::InvalidActionIndex`].
/// * If `key` has already been set returns [`HostError::DataEntryAlreadyExists`].
/// * If called as view function returns [`HostError::ProhibitedInView`].
///
/// # Cost
///
/// `burnt_gas` := base +
///             + deterministic_state_init_entry send fee
///             + deterministic_state_init_byte send fee * (key_len + value_len)
///             + cost of reading account id from memory
///             + cost of decoding account_id as UTF-8
///             + cost of reading amount from memory
///
/// `used_gas`  := burnt_gas +
///             + deterministic_state_init_entry exec fee
///             + deterministic_state_init_byte exec fee * (key_len + value_len)
pub fn set_state_init_data_entry(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    action_index: u64,
    key_len: u64,
    key_ptr: u64,
    value_len: u64,
    value_ptr: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "set_state_init_data_entry".to_string(),
        }
        .into());
    }

    let (receipt_idx, sir) = promise_idx_to_receipt_idx_with_sir(ctx, promise_idx)?;
    let key = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        key_ptr,
        key_len,
    )?;
    let key = key.to_vec();
    let value = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        value_ptr,
        value_len,
    )?;
    let value = value.to_vec();

    pay_action_base(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::deterministic_state_init_entry,
        sir,
    )?;
    let bytes =
        (key.len() as u64).checked_add(value.len() as u64).ok_or(HostError::IntegerOverflow)?;
    pay_action_per_byte(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::deterministic_state_init_byte,
        bytes,
        sir,
    )?;

    ctx.ext.set_deterministic_state_init_data_entry(receipt_idx, action_index, key, value)?;

    Ok(())
}

/// Derives the `0u` universal account ID of `state_init` and writes it to
/// `register_id`.
///
/// `state_init` is the borsh of a `UniversalStateInit`, and the ID is SHA3-256
/// over exactly those bytes, encoded with the UAID address codec. It commits to
/// the bytes as given, so a contract can hand the same bytes to
/// `promise_batch_action_universal_state_init` and know the promise it
/// creates will pass the receiver check.
///
/// From `CanonicalUniversalStateInit` on, only the canonical borsh encoding is
/// accepted, as in the action itself. Bytes that do not decode, or decode but differ
/// from the canonical re-encoding, have no ID, and the register is left untouched.
/// Before it nothing here inspects the contents: any byte string maps to some ID, and
/// one that is not a well-formed state init maps to an account that can never be
/// initialized, which the receipt's own validation catches.
///
/// # Returns
///
/// An exit status:
///
/// * `0` if the ID was written to `register_id`. From `CanonicalUniversalStateInit` on
///   that means `state_init` is canonical, and no more: limits on the keys, the values
///   and the number of entries are still checked when the action is validated. Before it,
///   this is the only status.
/// * `1` if `state_init` does not decode into a `UniversalStateInit`;
/// * `2` if it decodes but is not the canonical encoding of the result.
///
/// The signature, unlike the check behind the status, does not follow the protocol
/// version: a contract importing the version that returns nothing no longer links.
///
/// # Errors
///
/// * If `state_init_len + state_init_ptr` points outside the memory of the guest
///   or host returns [`HostError::MemoryAccessViolation`].
///
/// # Cost
///
/// `universal_state_init_to_account_id_base
///  + universal_state_init_to_account_id_byte * num_bytes
///  + cost of reading the state init from memory
///  + cost of writing the account ID to the register (only on success)`
pub fn universal_state_init_to_account_id(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    state_init_len: u64,
    state_init_ptr: u64,
    register_id: u64,
) -> Result<u64> {
    use sha3::Digest;

    ctx.result_state.gas_counter.pay_base(universal_state_init_to_account_id_base)?;
    let state_init = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        state_init_ptr,
        state_init_len,
    )?;
    ctx.result_state
        .gas_counter
        .pay_per(universal_state_init_to_account_id_byte, state_init.len() as u64)?;

    // The per-byte fee above pays for this check, so it is charged before it runs.
    if ctx.config.state_init_decode_mode() == DecodeMode::Strict {
        if let Err(error) = ctx.ext.check_state_init(&RawStateInit(state_init.to_vec())) {
            return Ok(error.exit_status());
        }
    }

    let account_id = encode_universal_account_id(&sha3::Sha3_256::digest(state_init).into());
    ctx.registers.set(
        &mut ctx.result_state.gas_counter,
        &ctx.config.limit_config,
        register_id,
        account_id.as_bytes(),
    )?;
    Ok(0)
}

/// Appends a `UniversalStateInit` action to the batch of actions for the given
/// promise pointed by `promise_idx`, creating the `0u` universal account the
/// state init describes.
///
/// `state_init` is the borsh of a `UniversalStateInit` and travels into the
/// action verbatim, so the account created is the one those exact bytes
/// identify. Forwarding them rather than a decoded form is also what lets a
/// contract pass through a state-init version it predates.
///
/// Deliberately does not check that the promise's receiver is the account the
/// state init derives to. That check belongs to the receipt this creates, and
/// runs when that receipt is validated, so bytes that are not a state init at all
/// (or, from `CanonicalUniversalStateInit` on, not a canonical one) are rejected
/// there rather than here. [`universal_state_init_to_account_id`] tells a
/// contract up front.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns
///   [`HostError::InvalidPromiseIndex`].
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
///   `promise_and` returns [`HostError::CannotAppendActionToJointPromise`].
/// * If called as view function returns [`HostError::ProhibitedInView`].
/// * If `state_init_len + state_init_ptr` or `amount_ptr + 16` points outside the
///   memory of the guest or host returns [`HostError::MemoryAccessViolation`].
///
/// # Cost
///
/// `burnt_gas` := base + cost of reading the state init from memory
///             + cost of reading amount from memory
///             + universal_state_init_base send fee
///             + universal_state_init_byte send fee * num bytes
///             + universal_state_init_entry send fee * num entries
///             + add_full_access_key send fee * num access keys
///
/// `used_gas`  := burnt_gas + the same four fees at their exec rate
///
/// From `CanonicalUniversalStateInit` on, a state init that is not canonical, which the
/// receipt is going to be rejected for, is charged as many entries and access keys as its
/// length could hold, see `state_init_send_counts`.
pub fn promise_batch_action_universal_state_init(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    state_init_len: u64,
    state_init_ptr: u64,
    amount_ptr: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_batch_action_universal_state_init".to_string(),
        }
        .into());
    }
    let state_init = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        state_init_ptr,
        state_init_len,
    )?;
    let state_init = RawStateInit(state_init.to_vec());
    let amount =
        Balance::from_yoctonear(get_u128(&mut ctx.result_state.gas_counter, memory, amount_ptr)?);
    let (receipt_idx, sir) = promise_idx_to_receipt_idx_with_sir(ctx, promise_idx)?;

    // The size terms are charged before the host is handed the payload, because
    // decoding it is the work the per-byte fee pays for: charging afterwards would
    // leave the decode bounded only by the far cheaper cost of reading the bytes
    // in. The content terms follow as soon as the counts are known, still before
    // the action exists, so a failed charge never leaves one behind on the receipt.
    let num_bytes = state_init.0.len() as u64;
    pay_universal_state_init_terms(ctx, universal_state_init_size_terms(num_bytes), sir)?;
    let counts = ctx.ext.state_init_send_counts(&state_init, ctx.config.state_init_decode_mode());
    debug_assert_eq!(counts.num_bytes, num_bytes, "the host must price the bytes we read");
    pay_universal_state_init_terms(ctx, universal_state_init_content_terms(counts), sir)?;

    ctx.result_state.deduct_balance(amount)?;
    ctx.ext.append_action_universal_state_init(receipt_idx, state_init, amount);
    Ok(())
}

/// Charge the given terms of the `UniversalStateInit` action fee.
///
/// The terms come from `near_parameters`, shared with
/// `node_runtime::config::universal_state_init_fee`, so a contract-created
/// action prepays exactly the exec fee it is charged when it runs.
///
/// `pay_action_per_byte` is just "fee times count". Entries and keys are
/// counted rather than measured in bytes, and the base term's count is one.
fn pay_universal_state_init_terms(
    ctx: &mut HostCtx,
    terms: impl IntoIterator<Item = (ActionCosts, u64)>,
    sir: bool,
) -> Result<()> {
    terms.into_iter().try_for_each(|(cost, units)| {
        pay_action_per_byte(&mut ctx.result_state.gas_counter, &ctx.fees_config, cost, units, sir)
    })
}

/// Appends `FunctionCall` action to the batch of actions for the given promise pointed by
/// `promise_idx`.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns `CannotAppendActionToJointPromise`.
/// * If `method_name_len + method_name_ptr` or `arguments_len + arguments_ptr` or
/// `amount_ptr + 16` points outside the memory of the guest or host returns
/// `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `burnt_gas := base + dispatch action base fee + dispatch action per byte fee * num bytes + cost of reading vector from memory
///  + cost of reading u128, method_name and arguments from the memory`
/// `used_gas := burnt_gas + exec action base fee + exec action per byte fee * num bytes`
pub fn promise_batch_action_function_call(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    method_name_len: u64,
    method_name_ptr: u64,
    arguments_len: u64,
    arguments_ptr: u64,
    amount_ptr: u64,
    gas: u64,
) -> Result<()> {
    promise_batch_action_function_call_weight(
        ctx,
        memory,
        promise_idx,
        method_name_len,
        method_name_ptr,
        arguments_len,
        arguments_ptr,
        amount_ptr,
        gas,
        0,
    )
}

/// Appends `FunctionCall` action to the batch of actions for the given promise pointed by
/// `promise_idx`. This function allows not specifying a specific gas value and allowing the
/// runtime to assign remaining gas based on a weight.
///
/// # Gas
///
/// Gas can be specified using a static amount, a weight of remaining prepaid gas, or a mixture
/// of both. To omit a static gas amount, `0` can be passed for the `gas` parameter.
/// To omit assigning remaining gas, `0` can be passed as the `gas_weight` parameter.
///
/// The gas weight parameter works as the following:
///
/// All unused prepaid gas from the current function call is split among all function calls
/// which supply this gas weight. The amount attached to each respective call depends on the
/// value of the weight.
///
/// For example, if 40 gas is leftover from the current method call and three functions specify
/// the weights 1, 5, 2 then 5, 25, 10 gas will be added to each function call respectively,
/// using up all remaining available gas.
///
/// If the `gas_weight` parameter is set as a large value, the amount of distributed gas
/// to each action can be 0 or a very low value because the amount of gas per weight is
/// based on the floor division of the amount of gas by the sum of weights.
///
/// Any remaining gas will be distributed to the last scheduled function call with a weight
/// specified.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns `CannotAppendActionToJointPromise`.
/// * If `method_name_len + method_name_ptr` or `arguments_len + arguments_ptr` or
/// `amount_ptr + 16` points outside the memory of the guest or host returns
/// `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
pub fn promise_batch_action_function_call_weight(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    method_name_len: u64,
    method_name_ptr: u64,
    arguments_len: u64,
    arguments_ptr: u64,
    amount_ptr: u64,
    gas: u64,
    gas_weight: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_batch_action_function_call".to_string(),
        }
        .into());
    }
    let amount =
        Balance::from_yoctonear(get_u128(&mut ctx.result_state.gas_counter, memory, amount_ptr)?);
    let method_name = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        method_name_ptr,
        method_name_len,
    )?;
    if method_name.is_empty() {
        return Err(HostError::EmptyMethodName.into());
    }
    let arguments = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        arguments_ptr,
        arguments_len,
    )?;

    let method_name = method_name.to_owned();
    let arguments = arguments.to_owned();

    let (receipt_idx, sir) = promise_idx_to_receipt_idx_with_sir(ctx, promise_idx)?;

    // Input can't be large enough to overflow
    let num_bytes = method_name.len() as u64 + arguments.len() as u64;

    pay_action_base(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::function_call_base,
        sir,
    )?;
    pay_action_per_byte(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::function_call_byte,
        num_bytes,
        sir,
    )?;
    // Prepaid gas
    ctx.result_state.gas_counter.prepay_gas(Gas::from_gas(gas))?;
    // Allow attaching exactly 1 yoctoNEAR to a promise function call
    // when the contract has zero balance. This lets deterministic accounts
    // call functions like ft_transfer_call that require an attached deposit
    // without needing to be seeded with balance first.
    let skip_deduct = amount == Balance::from_yoctonear(1)
        && ctx.config.one_yocto_on_promise
        && ctx.result_state.current_account_balance.is_zero();
    if skip_deduct {
        ctx.result_state.subsidized_amount = ctx
            .result_state
            .subsidized_amount
            .checked_add(amount)
            .expect("subsidized_amount overflow");
    } else {
        ctx.result_state.deduct_balance(amount)?;
    }
    ctx.ext.append_action_function_call_weight(
        receipt_idx,
        method_name,
        arguments,
        amount,
        Gas::from_gas(gas),
        GasWeight(gas_weight),
    )
}

/// Appends `Transfer` action to the batch of actions for the given promise pointed by
/// `promise_idx`.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns `CannotAppendActionToJointPromise`.
/// * If `amount_ptr + 16` points outside the memory of the guest or host returns
/// `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `burnt_gas := base + dispatch action base fee + dispatch action per byte fee * num bytes + cost of reading u128 from memory `
/// `used_gas := burnt_gas + exec action base fee + exec action per byte fee * num bytes`
pub fn promise_batch_action_transfer(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    amount_ptr: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_batch_action_transfer".to_string(),
        }
        .into());
    }
    let amount =
        Balance::from_yoctonear(get_u128(&mut ctx.result_state.gas_counter, memory, amount_ptr)?);

    let (receipt_idx, sir) = promise_idx_to_receipt_idx_with_sir(ctx, promise_idx)?;
    let receiver_id = ctx.ext.get_receipt_receiver(receipt_idx);
    let send_fee = transfer_send_fee(
        &ctx.fees_config,
        sir,
        ctx.config.eth_implicit_accounts,
        ctx.config.universal_accounts,
        receiver_id.get_account_type(),
    );
    let exec_fee = transfer_exec_fee(
        &ctx.fees_config,
        ctx.config.eth_implicit_accounts,
        ctx.config.universal_accounts,
        receiver_id.get_account_type(),
    );
    let burn_cost = send_fee;
    let use_gas = burn_cost.gas.checked_add(exec_fee.gas).ok_or(HostError::IntegerOverflow)?;
    ctx.result_state.gas_counter.pay_action_accumulated(
        burn_cost,
        use_gas,
        ActionCosts::transfer,
    )?;
    ctx.result_state.deduct_balance(amount)?;
    ctx.ext.append_action_transfer(receipt_idx, amount);
    Ok(())
}

/// Appends `TransferToGasKey` action to the batch of actions for the given promise pointed by
/// `promise_idx`.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns `CannotAppendActionToJointPromise`.
/// * If the given public key is not a valid (e.g. wrong length) returns `InvalidPublicKey`.
/// * If `amount_ptr + 16` or `public_key_len + public_key_ptr` points outside the memory of the
/// guest or host returns `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `burnt_gas := base + dispatch action base fee + dispatch action per byte fee * num bytes + cost of reading public key and u128 from memory`
/// `used_gas := burnt_gas + exec action base fee + exec action per byte fee * num bytes`
pub fn promise_batch_action_transfer_to_gas_key(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    public_key_len: u64,
    public_key_ptr: u64,
    amount_ptr: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_batch_action_transfer_to_gas_key".to_string(),
        }
        .into());
    }
    let public_key_buf = get_public_key(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        public_key_ptr,
        public_key_len,
        ctx.ext.post_quantum_keys_enabled(),
    )?;
    let public_key_res = public_key_buf.decode();
    let pk_len = public_key_res.as_ref().map_or(0, |pk| pk.len());
    let amount =
        Balance::from_yoctonear(get_u128(&mut ctx.result_state.gas_counter, memory, amount_ptr)?);
    let (receipt_idx, sir) = promise_idx_to_receipt_idx_with_sir(ctx, promise_idx)?;
    let receiver_id = ctx.ext.get_receipt_receiver(receipt_idx);
    let send = gas_key_transfer_send_fee(&ctx.fees_config, sir, pk_len);
    let exec_pk_len = gas_key_exec_pk_len(&public_key_res, &ctx.config, pk_len);
    let exec = gas_key_transfer_exec_fee(&ctx.fees_config, receiver_id.len(), exec_pk_len);
    let burn_base = send.base;
    let use_base = burn_base.gas.checked_add(exec.base.gas).ok_or(HostError::IntegerOverflow)?;
    ctx.result_state.gas_counter.pay_action_accumulated(
        burn_base,
        use_base,
        ActionCosts::gas_key_transfer_base,
    )?;
    let burn_byte = send.per_byte;
    let use_byte =
        burn_byte.gas.checked_add(exec.per_byte.gas).ok_or(HostError::IntegerOverflow)?;
    ctx.result_state.gas_counter.pay_action_accumulated(
        burn_byte,
        use_byte,
        ActionCosts::gas_key_byte,
    )?;
    ctx.result_state.deduct_balance(amount)?;
    ctx.ext.append_action_transfer_to_gas_key(receipt_idx, public_key_res?, amount);
    Ok(())
}

/// Appends `AddKey` action to the batch of actions for the given promise pointed by
/// `promise_idx`. The access key will have `GasKeyFullAccess` permission.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns `CannotAppendActionToJointPromise`.
/// * If the given public key is not a valid (e.g. wrong length) returns `InvalidPublicKey`.
/// * If `public_key_len + public_key_ptr` points outside the memory of the guest or host
/// returns `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `burnt_gas := base + dispatch action base fee + dispatch action per byte fee * num bytes + cost of reading public key from memory + gas key send fee`
/// `used_gas := burnt_gas + exec action base fee + exec action per byte fee * num bytes + gas key exec fee`
pub fn promise_batch_action_add_gas_key_with_full_access(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    public_key_len: u64,
    public_key_ptr: u64,
    num_nonces: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_batch_action_add_gas_key_with_full_access".to_string(),
        }
        .into());
    }
    let public_key_buf = get_public_key(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        public_key_ptr,
        public_key_len,
        ctx.ext.post_quantum_keys_enabled(),
    )?;
    let public_key_res = public_key_buf.decode();
    let pk_len = public_key_res.as_ref().map_or(0, |pk| pk.len());
    let num_nonces = u16::try_from(num_nonces).map_err(|_| HostError::IntegerOverflow)?;
    let (receipt_idx, sir) = promise_idx_to_receipt_idx_with_sir(ctx, promise_idx)?;
    pay_action_base(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::add_full_access_key,
        sir,
    )?;
    let receiver_id = ctx.ext.get_receipt_receiver(receipt_idx);
    let send_fee = gas_key_add_key_send_fee(&ctx.fees_config, sir);
    let exec_fee = gas_key_add_key_exec_fee(
        &ctx.fees_config,
        receiver_id.len(),
        gas_key_exec_pk_len(&public_key_res, &ctx.config, pk_len),
        num_nonces,
    );
    ctx.result_state.gas_counter.pay_gas_key_add_key_fees(send_fee, &exec_fee)?;
    ctx.ext.append_action_add_gas_key_with_full_access(receipt_idx, public_key_res?, num_nonces);
    Ok(())
}

/// Appends `AddKey` action to the batch of actions for the given promise pointed by
/// `promise_idx`. The access key will have `GasKeyFunctionCall` permission.
///
/// The `method_names` parameter is a comma-separated list of method names that the gas key
/// is allowed to call.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns `CannotAppendActionToJointPromise`.
/// * If the given public key is not a valid (e.g. wrong length) returns `InvalidPublicKey`.
/// * If `public_key_len + public_key_ptr`, `allowance_ptr + 16`,
/// `receiver_id_len + receiver_id_ptr` or `method_names_len + method_names_ptr` points outside
/// the memory of the guest or host returns `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `burnt_gas := base + dispatch action base fee + dispatch action per byte fee * num bytes + cost of reading vector from memory
///  + cost of reading u128, method_names and public key from the memory + cost of reading and parsing account name + gas key send fee`
/// `used_gas := burnt_gas + exec action base fee + exec action per byte fee * num bytes + gas key exec fee`
pub fn promise_batch_action_add_gas_key_with_function_call(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    public_key_len: u64,
    public_key_ptr: u64,
    num_nonces: u64,
    allowance_ptr: u64,
    receiver_id_len: u64,
    receiver_id_ptr: u64,
    method_names_len: u64,
    method_names_ptr: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_batch_action_add_gas_key_with_function_call".to_string(),
        }
        .into());
    }
    let public_key_buf = get_public_key(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        public_key_ptr,
        public_key_len,
        ctx.ext.post_quantum_keys_enabled(),
    )?;
    let public_key_res = public_key_buf.decode();
    let pk_len = public_key_res.as_ref().map_or(0, |pk| pk.len());
    let num_nonces = u16::try_from(num_nonces).map_err(|_| HostError::IntegerOverflow)?;
    let allowance = Balance::from_yoctonear(get_u128(
        &mut ctx.result_state.gas_counter,
        memory,
        allowance_ptr,
    )?);
    let allowance = if allowance > Balance::ZERO { Some(allowance) } else { None };
    let receiver_id = read_and_parse_account_id(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        &ctx.config,
        receiver_id_ptr,
        receiver_id_len,
    )?;
    let raw_method_names = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        method_names_ptr,
        method_names_len,
    )?;
    let method_names = split_method_names(&raw_method_names)?;
    let (receipt_idx, sir) = promise_idx_to_receipt_idx_with_sir(ctx, promise_idx)?;
    let num_bytes = null_terminated_method_names_len(&method_names);
    pay_action_base(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::add_function_call_key_base,
        sir,
    )?;
    pay_action_per_byte(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::add_function_call_key_byte,
        num_bytes,
        sir,
    )?;
    let receipt_receiver_id = ctx.ext.get_receipt_receiver(receipt_idx);
    let send_fee = gas_key_add_key_send_fee(&ctx.fees_config, sir);
    let exec_fee = gas_key_add_key_exec_fee(
        &ctx.fees_config,
        receipt_receiver_id.len(),
        gas_key_exec_pk_len(&public_key_res, &ctx.config, pk_len),
        num_nonces,
    );
    ctx.result_state.gas_counter.pay_gas_key_add_key_fees(send_fee, &exec_fee)?;
    ctx.ext.append_action_add_gas_key_with_function_call(
        receipt_idx,
        public_key_res?,
        num_nonces,
        allowance,
        receiver_id,
        method_names,
    )?;
    Ok(())
}

/// Appends `Stake` action to the batch of actions for the given promise pointed by
/// `promise_idx`.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns `CannotAppendActionToJointPromise`.
/// * If the given public key is not a valid (e.g. wrong length) returns `InvalidPublicKey`.
/// * If `amount_ptr + 16` or `public_key_len + public_key_ptr` points outside the memory of the
/// guest or host returns `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `burnt_gas := base + dispatch action base fee + dispatch action per byte fee * num bytes + cost of reading public key from memory `
/// `used_gas := burnt_gas + exec action base fee + exec action per byte fee * num bytes`
pub fn promise_batch_action_stake(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    amount_ptr: u64,
    public_key_len: u64,
    public_key_ptr: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_batch_action_stake".to_string(),
        }
        .into());
    }
    let amount =
        Balance::from_yoctonear(get_u128(&mut ctx.result_state.gas_counter, memory, amount_ptr)?);
    let public_key = get_public_key(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        public_key_ptr,
        public_key_len,
        ctx.ext.post_quantum_keys_enabled(),
    )?;
    let (receipt_idx, sir) = promise_idx_to_receipt_idx_with_sir(ctx, promise_idx)?;

    pay_action_base(&mut ctx.result_state.gas_counter, &ctx.fees_config, ActionCosts::stake, sir)?;
    ctx.ext.append_action_stake(receipt_idx, amount, public_key.decode()?);
    Ok(())
}

/// Appends `AddKey` action to the batch of actions for the given promise pointed by
/// `promise_idx`. The access key will have `FullAccess` permission.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns `CannotAppendActionToJointPromise`.
/// * If the given public key is not a valid (e.g. wrong length) returns `InvalidPublicKey`.
/// * If `public_key_len + public_key_ptr` points outside the memory of the guest or host
/// returns `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `burnt_gas := base + dispatch action base fee + dispatch action per byte fee * num bytes + cost of reading public key from memory `
/// `used_gas := burnt_gas + exec action base fee + exec action per byte fee * num bytes`
pub fn promise_batch_action_add_key_with_full_access(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    public_key_len: u64,
    public_key_ptr: u64,
    nonce: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_batch_action_add_key_with_full_access".to_string(),
        }
        .into());
    }
    let public_key = get_public_key(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        public_key_ptr,
        public_key_len,
        ctx.ext.post_quantum_keys_enabled(),
    )?;
    let (receipt_idx, sir) = promise_idx_to_receipt_idx_with_sir(ctx, promise_idx)?;
    pay_action_base(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::add_full_access_key,
        sir,
    )?;
    ctx.ext.append_action_add_key_with_full_access(receipt_idx, public_key.decode()?, nonce);
    Ok(())
}

/// Appends `AddKey` action to the batch of actions for the given promise pointed by
/// `promise_idx`. The access key will have `FunctionCall` permission.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns `CannotAppendActionToJointPromise`.
/// * If the given public key is not a valid (e.g. wrong length) returns `InvalidPublicKey`.
/// * If `public_key_len + public_key_ptr`, `allowance_ptr + 16`,
/// `receiver_id_len + receiver_id_ptr` or `method_names_len + method_names_ptr` points outside
/// the memory of the guest or host returns `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `burnt_gas := base + dispatch action base fee + dispatch action per byte fee * num bytes + cost of reading vector from memory
///  + cost of reading u128, method_names and public key from the memory + cost of reading and parsing account name`
/// `used_gas := burnt_gas + exec action base fee + exec action per byte fee * num bytes`
pub fn promise_batch_action_add_key_with_function_call(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    public_key_len: u64,
    public_key_ptr: u64,
    nonce: u64,
    allowance_ptr: u64,
    receiver_id_len: u64,
    receiver_id_ptr: u64,
    method_names_len: u64,
    method_names_ptr: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_batch_action_add_key_with_function_call".to_string(),
        }
        .into());
    }
    let public_key = get_public_key(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        public_key_ptr,
        public_key_len,
        ctx.ext.post_quantum_keys_enabled(),
    )?;
    let allowance = Balance::from_yoctonear(get_u128(
        &mut ctx.result_state.gas_counter,
        memory,
        allowance_ptr,
    )?);
    let allowance = if allowance > Balance::ZERO { Some(allowance) } else { None };
    let receiver_id = read_and_parse_account_id(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        &ctx.config,
        receiver_id_ptr,
        receiver_id_len,
    )?;
    let raw_method_names = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        method_names_ptr,
        method_names_len,
    )?;
    let method_names = split_method_names(&raw_method_names)?;

    let (receipt_idx, sir) = promise_idx_to_receipt_idx_with_sir(ctx, promise_idx)?;

    let num_bytes = null_terminated_method_names_len(&method_names);
    pay_action_base(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::add_function_call_key_base,
        sir,
    )?;
    pay_action_per_byte(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::add_function_call_key_byte,
        num_bytes,
        sir,
    )?;

    ctx.ext.append_action_add_key_with_function_call(
        receipt_idx,
        public_key.decode()?,
        nonce,
        allowance,
        receiver_id,
        method_names,
    )?;
    Ok(())
}

/// Appends `DeleteKey` action to the batch of actions for the given promise pointed by
/// `promise_idx`.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns `CannotAppendActionToJointPromise`.
/// * If the given public key is not a valid (e.g. wrong length) returns `InvalidPublicKey`.
/// * If `public_key_len + public_key_ptr` points outside the memory of the guest or host
/// returns `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `burnt_gas := base + dispatch action base fee + dispatch action per byte fee * num bytes + cost of reading public key from memory `
/// `used_gas := burnt_gas + exec action base fee + exec action per byte fee * num bytes`
pub fn promise_batch_action_delete_key(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    public_key_len: u64,
    public_key_ptr: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_batch_action_delete_key".to_string(),
        }
        .into());
    }
    let public_key = get_public_key(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        public_key_ptr,
        public_key_len,
        ctx.ext.post_quantum_keys_enabled(),
    )?;
    let (receipt_idx, sir) = promise_idx_to_receipt_idx_with_sir(ctx, promise_idx)?;
    pay_action_base(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::delete_key,
        sir,
    )?;
    ctx.ext.append_action_delete_key(receipt_idx, public_key.decode()?);
    Ok(())
}

/// Appends `DeleteAccount` action to the batch of actions for the given promise pointed by
/// `promise_idx`.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If the promise pointed by the `promise_idx` is an ephemeral promise created by
/// `promise_and` returns `CannotAppendActionToJointPromise`.
/// * If `beneficiary_id_len + beneficiary_id_ptr` points outside the memory of the guest or
/// host returns `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `burnt_gas := base + dispatch action base fee + dispatch action per byte fee * num bytes + cost of reading and parsing account id from memory `
/// `used_gas := burnt_gas + exec action base fee + exec action per byte fee * num bytes + fees for transferring funds to the beneficiary`
pub fn promise_batch_action_delete_account(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    promise_idx: u64,
    beneficiary_id_len: u64,
    beneficiary_id_ptr: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_batch_action_delete_account".to_string(),
        }
        .into());
    }
    let beneficiary_id = read_and_parse_account_id(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        &ctx.config,
        beneficiary_id_ptr,
        beneficiary_id_len,
    )?;

    let (receipt_idx, sir) = promise_idx_to_receipt_idx_with_sir(ctx, promise_idx)?;

    pay_action_base(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::delete_account,
        sir,
    )?;

    ctx.ext.append_action_delete_account(receipt_idx, beneficiary_id);
    Ok(())
}

/// Creates a promise that will execute a method on the current account with given arguments
/// and gas. The created promise will have a special input data dependency.
///
/// A resumption token is written by this function into the register denoted by `register_id`.
/// To satisfy the data dependency, call `promise_yield_resume` with the resumption token
/// and a payload. The provided method will then be executed with input
/// `PromiseResult::Successful(payload)`.
///
/// The resumption token is portable across transactions, but only the current account
/// is allowed to resolve this data dependency.
///
/// If `promise_yield_resume` has not been called after a certain protocol-defined number of
/// of blocks (as defined by the `yield_timeout_length_in_blocks` parameter) the created
/// promise will instead be executed with input `PromiseResult::Failed`.
///
/// # Errors
///
/// * If `method_name_len + method_name_ptr` or `arguments_len + arguments_ptr` point outside
/// the memory of the guest or host returns `MemoryAccessViolation`;
/// * If called as view function returns `ProhibitedInView`;
/// * Gas is insufficient;
/// * Too many promises have been created already;
/// * Resumption token cannot be written to the register `register_id`.
///
/// # Returns
///
/// Index of the new promise that uniquely identifies it within the current execution of the
/// method.
///
/// # Cost
///
/// The following fees are charged:
///
/// * `base` fee;
/// * `yield_create_base` fee;
/// * `yield_create_byte` for each byte of `method_name` and `arguments`;
/// * Fees for reading the `method_name` and `arguments`;
/// * Fees for writing the Data ID to the output register;
/// * Fees for setting up the receipt and the eventual function call of the method.
pub fn promise_yield_create(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    method_name_len: u64,
    method_name_ptr: u64,
    arguments_len: u64,
    arguments_ptr: u64,
    gas: u64,
    gas_weight: u64,
    register_id: u64,
) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_yield_create".to_string(),
        }
        .into());
    }
    ctx.result_state.gas_counter.pay_base(yield_create_base)?;

    let method_name = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        method_name_ptr,
        method_name_len,
    )?;
    if method_name.is_empty() {
        return Err(HostError::EmptyMethodName.into());
    }
    let arguments = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        arguments_ptr,
        arguments_len,
    )?;
    let method_name = method_name.to_owned();
    let arguments = arguments.to_owned();

    // Input can't be large enough to overflow, WebAssembly address space is 32-bits.
    let num_bytes = method_name.len() as u64 + arguments.len() as u64;
    ctx.result_state.gas_counter.pay_per(yield_create_byte, num_bytes)?;
    // Prepay gas for the callback so that it cannot be used for this execution any longer.
    ctx.result_state.gas_counter.prepay_gas(Gas::from_gas(gas))?;

    // Here we are creating a receipt with a single data dependency which will then be
    // resolved by the resume call.
    pay_gas_for_new_receipt(&mut ctx.result_state.gas_counter, &ctx.fees_config, true, &[true])?;
    let (new_receipt_idx, data_id) =
        ctx.ext.create_promise_yield_receipt(ctx.context.current_account_id.clone())?;

    let new_promise_idx = checked_push_promise(ctx, Promise::Receipt(new_receipt_idx))?;
    pay_action_base(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::function_call_base,
        true,
    )?;
    pay_action_per_byte(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::function_call_byte,
        num_bytes,
        true,
    )?;
    ctx.ext.append_action_function_call_weight(
        new_receipt_idx,
        method_name,
        arguments,
        Balance::ZERO,
        Gas::from_gas(gas),
        GasWeight(gas_weight),
    )?;

    ctx.registers.set(
        &mut ctx.result_state.gas_counter,
        &ctx.config.limit_config,
        register_id,
        *data_id.as_bytes(),
    )?;
    Ok(new_promise_idx)
}

/// Like [`promise_yield_create`], but allows the caller to specify a custom yield ID.
pub fn promise_yield_create_with_id(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    method_name_len: u64,
    method_name_ptr: u64,
    arguments_len: u64,
    arguments_ptr: u64,
    amount_ptr: u64,
    gas: u64,
    gas_weight: u64,
    yield_id_len: u64,
    yield_id_ptr: u64,
) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_yield_create_with_id".to_string(),
        }
        .into());
    }
    ctx.result_state.gas_counter.pay_base(yield_create_with_id_base)?;
    let amount =
        Balance::from_yoctonear(get_u128(&mut ctx.result_state.gas_counter, memory, amount_ptr)?);

    let method_name = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        method_name_ptr,
        method_name_len,
    )?;
    if method_name.is_empty() {
        return Err(HostError::EmptyMethodName.into());
    }
    let arguments = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        arguments_ptr,
        arguments_len,
    )?;

    // Read and validate the yield ID (must be exactly 32 bytes)
    let yield_id_bytes = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        yield_id_ptr,
        yield_id_len,
    )?;
    let yield_id: [u8; YieldId::LENGTH] =
        yield_id_bytes.as_ref().try_into().map_err(|_| HostError::YieldIdMalformed)?;
    let user_yield_id = YieldId::from_bytes(yield_id);

    let method_name = method_name.to_owned();
    let arguments = arguments.to_owned();

    // Input can't be large enough to overflow, WebAssembly address space is 32-bits.
    let num_bytes = method_name.len() as u64 + arguments.len() as u64;
    ctx.result_state.gas_counter.pay_per(yield_create_byte, num_bytes)?;

    // Attempt to create the yield receipt. Returns None when a yield with the same
    // user_yield_id is already pending; in that case we return a sentinel without
    // charging for receipt creation.
    let Some((new_receipt_idx, _data_id)) = ctx.ext.create_promise_yield_receipt_with_id(
        ctx.context.current_account_id.clone(),
        user_yield_id,
    )?
    else {
        return Ok(u64::MAX);
    };

    // Prepay gas for the callback so that it cannot be used for this execution any longer.
    ctx.result_state.gas_counter.prepay_gas(Gas::from_gas(gas))?;
    // Charge gas for the new receipt with a single data dependency.
    pay_gas_for_new_receipt(&mut ctx.result_state.gas_counter, &ctx.fees_config, true, &[true])?;

    let new_promise_idx = checked_push_promise(ctx, Promise::Receipt(new_receipt_idx))?;
    pay_action_base(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::function_call_base,
        true,
    )?;
    pay_action_per_byte(
        &mut ctx.result_state.gas_counter,
        &ctx.fees_config,
        ActionCosts::function_call_byte,
        num_bytes,
        true,
    )?;
    // Allow attaching exactly 1 yoctoNEAR with the `one_yocto_on_promise`
    // exemption (mirrors `promise_batch_action_function_call_weight`).
    let skip_deduct = amount == Balance::from_yoctonear(1)
        && ctx.config.one_yocto_on_promise
        && ctx.result_state.current_account_balance.is_zero();
    if skip_deduct {
        ctx.result_state.subsidized_amount = ctx
            .result_state
            .subsidized_amount
            .checked_add(amount)
            .expect("subsidized_amount overflow");
    } else {
        ctx.result_state.deduct_balance(amount)?;
    }
    ctx.ext.append_action_function_call_weight(
        new_receipt_idx,
        method_name,
        arguments,
        amount,
        Gas::from_gas(gas),
        GasWeight(gas_weight),
    )?;

    Ok(new_promise_idx)
}

/// Submits the data for a yield promise which is awaiting its value.
///
/// The `data_id` pair of parameters must refer to a resumption token generated by a call to
/// the [`promise_yield_create`] made by the same account.
///
/// Returns `1` if submitting the payload for the data dependency was successful. This
/// guarantees that the yield callback function will be executed with a payload. Otherwise a
/// `0` is returned.
///
/// # Errors
///
/// * If `data_id_ptr + data_id_ptr` points outside the memory of the guest or host
/// returns `MemoryAccessViolation`;
/// * If a malformed data id is passed, returns `DataIdMalformed`;
/// * If `payload_len` exceeds the maximum permitted returns `YieldPayloadLength`;
/// * If called as view function returns `ProhibitedInView`;
/// * Runs out of gas.
///
/// # Cost
///
/// The following fees are charged:
///
/// * `base` fee;
/// * `yield_resume_base` fee;
/// * `yield_resume_byte` for each byte of `payload`;
/// * Fees for reading the `data_id` and `payload`.
pub fn promise_yield_resume(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    data_id_len: u64,
    data_id_ptr: u64,
    payload_len: u64,
    payload_ptr: u64,
) -> Result<u32, VMLogicError> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_yield_resume".to_string(),
        }
        .into());
    }
    ctx.result_state.gas_counter.pay_base(yield_resume_base)?;
    ctx.result_state.gas_counter.pay_per(yield_resume_byte, payload_len)?;
    let data_id = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        data_id_ptr,
        data_id_len,
    )?;
    let payload = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        payload_ptr,
        payload_len,
    )?;
    let payload_len = payload.len() as u64;
    if payload_len > ctx.config.limit_config.max_yield_payload_size {
        return Err(HostError::YieldPayloadLength {
            length: payload_len,
            limit: ctx.config.limit_config.max_yield_payload_size,
        }
        .into());
    }

    let data_id: [_; CryptoHash::LENGTH] =
        (&*data_id).try_into().map_err(|_| HostError::DataIdMalformed)?;
    let data_id = CryptoHash(data_id);
    let payload = payload.into();
    ctx.ext.submit_promise_resume_data(data_id, payload).map(u32::from)
}

/// Like [`promise_yield_resume`], but accepts the user-provided `yield_id` (from
/// [`promise_yield_create_with_id`]) instead of the runtime-generated `data_id`.
pub fn promise_yield_resume_with_yield_id(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    yield_id_len: u64,
    yield_id_ptr: u64,
    payload_len: u64,
    payload_ptr: u64,
) -> Result<u32, VMLogicError> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_yield_resume_with_yield_id".to_string(),
        }
        .into());
    }
    ctx.result_state.gas_counter.pay_base(yield_resume_base)?;
    ctx.result_state.gas_counter.pay_per(yield_resume_byte, payload_len)?;
    let yield_id = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        yield_id_ptr,
        yield_id_len,
    )?;
    let payload = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        payload_ptr,
        payload_len,
    )?;
    let payload_len = payload.len() as u64;
    if payload_len > ctx.config.limit_config.max_yield_payload_size {
        return Err(HostError::YieldPayloadLength {
            length: payload_len,
            limit: ctx.config.limit_config.max_yield_payload_size,
        }
        .into());
    }

    let yield_id: [_; YieldId::LENGTH] =
        yield_id.as_ref().try_into().map_err(|_| HostError::YieldIdMalformed)?;
    let yield_id = YieldId::from_bytes(yield_id);
    let payload = payload.into();
    ctx.ext.submit_promise_resume_data_with_yield_id(yield_id, payload).map(u32::from)
}

/// If the current function is invoked by a callback we can access the execution results of the
/// promises that caused the callback. This function returns the number of complete and
/// incomplete callbacks.
///
/// Note, we are only going to have incomplete callbacks once we have promise_or combinator.
///
///
/// * If there is only one callback returns `1`;
/// * If there are multiple callbacks (e.g. created through `promise_and`) returns their number;
/// * If the function was called not through the callback returns `0`.
///
/// # Cost
///
/// `base`
pub fn promise_results_count(ctx: &mut HostCtx, _memory: &mut [u8]) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView {
            method_name: "promise_results_count".to_string(),
        }
        .into());
    }
    Ok(ctx.context.promise_results.len() as _)
}

/// If the current function is invoked by a callback we can access the execution results of the
/// promises that caused the callback. This function returns the result in blob format and
/// places it into the register.
///
/// * If promise result is complete and successful copies its blob into the register;
/// * If promise result is complete and failed or incomplete keeps register unused;
///
/// # Returns
///
/// * If promise result is not complete returns `0`;
/// * If promise result is complete and successful returns `1`;
/// * If promise result is complete and failed returns `2`.
///
/// # Errors
///
/// * If `result_id` does not correspond to an existing result returns `InvalidPromiseResultIndex`;
/// * If copying the blob exhausts the memory limit it returns `MemoryAccessViolation`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `base + cost of writing data into a register`
pub fn promise_result(
    ctx: &mut HostCtx,
    _memory: &mut [u8],
    result_idx: u64,
    register_id: u64,
) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(
            HostError::ProhibitedInView { method_name: "promise_result".to_string() }.into()
        );
    }
    match ctx
        .context
        .promise_results
        .get(result_idx as usize)
        .ok_or(HostError::InvalidPromiseResultIndex { result_idx })?
    {
        PromiseResult::NotReady => Ok(0),
        PromiseResult::Successful(data) => {
            ctx.registers.set_rc_data(
                &mut ctx.result_state.gas_counter,
                &ctx.config.limit_config,
                register_id,
                Rc::clone(data),
            )?;
            Ok(1)
        }
        PromiseResult::Failed => Ok(2),
    }
}

/// When promise `promise_idx` finishes executing its result is considered to be the result of
/// the current function.
///
/// # Errors
///
/// * If `promise_idx` does not correspond to an existing promise returns `InvalidPromiseIndex`.
/// * If called as view function returns `ProhibitedInView`.
///
/// # Cost
///
/// `base + promise_return`
pub fn promise_return(ctx: &mut HostCtx, _memory: &mut [u8], promise_idx: u64) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    ctx.result_state.gas_counter.pay_base(ExtCosts::promise_return)?;
    if ctx.context.is_view() {
        return Err(
            HostError::ProhibitedInView { method_name: "promise_return".to_string() }.into()
        );
    }
    match ctx
        .promises
        .get(promise_idx as usize)
        .ok_or(HostError::InvalidPromiseIndex { promise_idx })?
    {
        Promise::Receipt(receipt_idx) => {
            ctx.result_state.return_data = ReturnData::ReceiptIndex(*receipt_idx);
            Ok(())
        }
        Promise::NotReceipt(_) => Err(HostError::CannotReturnJointPromise.into()),
    }
}

// #####################
// # Miscellaneous API #
// #####################

/// Sets the blob of data as the return value of the contract.
///
/// # Errors
///
/// * If `value_len + value_ptr` exceeds the memory container or points to an unused register it
///   returns `MemoryAccessViolation`.
/// * if the length of the returned data exceeds `max_length_returned_data` returns
///   `ReturnedValueLengthExceeded`.
///
/// # Cost
/// `base + cost of reading return value from memory or register + dispatch&exec cost per byte of the data sent * num data receivers`
pub fn value_return(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    value_len: u64,
    value_ptr: u64,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    let return_val = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        value_ptr,
        value_len,
    )?;
    let mut burn_cost = ParameterCost::ZERO;
    let num_bytes = return_val.len() as u64;
    if num_bytes > ctx.config.limit_config.max_length_returned_data {
        return Err(HostError::ReturnedValueLengthExceeded {
            length: num_bytes,
            limit: ctx.config.limit_config.max_length_returned_data,
        }
        .into());
    }
    for data_receiver in &ctx.context.output_data_receivers {
        let sir = data_receiver == &ctx.context.current_account_id;
        // We deduct for execution here too, because if we later have an OR combinator
        // for promises then we might have some valid data receipts that arrive too late
        // to be picked up by the execution that waits on them (because it has started
        // after it receives the first data receipt) and then we need to issue a special
        // refund in this situation. Which we avoid by just paying for execution of
        // data receipt that might not be performed.
        // The gas here is considered burnt, cause we'll prepay for it upfront.
        burn_cost = burn_cost
            .checked_add(
                ctx.fees_config
                    .fee(ActionCosts::new_data_receipt_byte)
                    .send_fee(sir)
                    .checked_add(ctx.fees_config.fee(ActionCosts::new_data_receipt_byte).exec_fee())
                    .ok_or(HostError::IntegerOverflow)?
                    .checked_mul(num_bytes)
                    .ok_or(HostError::IntegerOverflow)?,
            )
            .ok_or(HostError::IntegerOverflow)?;
    }
    ctx.result_state.gas_counter.pay_action_accumulated(
        burn_cost,
        burn_cost.gas,
        ActionCosts::new_data_receipt_byte,
    )?;
    ctx.result_state.return_data = ReturnData::Value(return_val.into());
    Ok(())
}

/// Terminates the execution of the program with panic `GuestPanic`.
///
/// # Cost
///
/// `base`
pub fn panic(ctx: &mut HostCtx, _memory: &mut [u8]) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    Err(HostError::GuestPanic { panic_msg: "explicit guest panic".to_string() }.into())
}

/// Guest panics with the UTF-8 encoded string.
/// If `len == u64::MAX` then treats the string as null-terminated with character `'\0'`.
///
/// # Errors
///
/// * If string extends outside the memory of the guest with `MemoryAccessViolation`;
/// * If string is not UTF-8 returns `BadUtf8`.
/// * If string is longer than `max_log_len` returns `TotalLogLengthExceeded`.
///
/// # Cost
/// `base + cost of reading and decoding a utf8 string`
pub fn panic_utf8(ctx: &mut HostCtx, memory: &mut [u8], len: u64, ptr: u64) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    Err(HostError::GuestPanic {
        panic_msg: get_utf8_string(&mut ctx.result_state, memory, len, ptr)?,
    }
    .into())
}

/// Logs the UTF-8 encoded string.
/// If `len == u64::MAX` then treats the string as null-terminated with character `'\0'`.
///
/// # Errors
///
/// * If string extends outside the memory of the guest with `MemoryAccessViolation`;
/// * If string is not UTF-8 returns `BadUtf8`.
/// * If number of bytes read + `total_log_length` exceeds the `max_total_log_length` returns
///   `TotalLogLengthExceeded`.
/// * If the total number of logs will exceed the `max_number_logs` returns
///   `NumberOfLogsExceeded`.
///
/// # Cost
///
/// `base + log_base + log_byte + num_bytes + utf8 decoding cost`
pub fn log_utf8(ctx: &mut HostCtx, memory: &mut [u8], len: u64, ptr: u64) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    ctx.result_state.check_can_add_a_log_message()?;
    let message = get_utf8_string(&mut ctx.result_state, memory, len, ptr)?;
    ctx.result_state.gas_counter.pay_base(log_base)?;
    ctx.result_state.gas_counter.pay_per(log_byte, message.len() as u64)?;
    ctx.result_state.checked_push_log(message)
}

/// Logs the UTF-16 encoded string. If `len == u64::MAX` then treats the string as
/// null-terminated with two-byte sequence of `0x00 0x00`.
///
/// # Errors
///
/// * If string extends outside the memory of the guest with `MemoryAccessViolation`;
/// * If string is not UTF-16 returns `BadUtf16`.
/// * If number of bytes read + `total_log_length` exceeds the `max_total_log_length` returns
///   `TotalLogLengthExceeded`.
/// * If the total number of logs will exceed the `max_number_logs` returns
///   `NumberOfLogsExceeded`.
///
/// # Cost
///
/// `base + log_base + log_byte * num_bytes + utf16 decoding cost`
pub fn log_utf16(ctx: &mut HostCtx, memory: &mut [u8], len: u64, ptr: u64) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    ctx.result_state.check_can_add_a_log_message()?;
    let message = get_utf16_string(&mut ctx.result_state, memory, len, ptr)?;
    ctx.result_state.gas_counter.pay_base(log_base)?;
    // Let's not use `encode_utf16` for gas per byte here, since it's a lot of compute.
    ctx.result_state.gas_counter.pay_per(log_byte, message.len() as u64)?;
    ctx.result_state.checked_push_log(message)
}

/// Special import kept for compatibility with AssemblyScript contracts. Not called by smart
/// contracts directly, but instead called by the code generated by AssemblyScript.
///
/// # Errors
///
/// * If string extends outside the memory of the guest with `MemoryAccessViolation`;
/// * If string is not UTF-8 returns `BadUtf8`.
/// * If number of bytes read + `total_log_length` exceeds the `max_total_log_length` returns
///   `TotalLogLengthExceeded`.
/// * If the total number of logs will exceed the `max_number_logs` returns
///   `NumberOfLogsExceeded`.
///
/// # Cost
///
/// `base +  log_base + log_byte * num_bytes + utf16 decoding cost`
pub fn abort(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    msg_ptr: u32,
    filename_ptr: u32,
    line: u32,
    col: u32,
) -> Result<()> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if msg_ptr < 4 || filename_ptr < 4 {
        return Err(HostError::BadUTF16.into());
    }
    ctx.result_state.check_can_add_a_log_message()?;

    // Underflow checked above.
    let msg_len = get_u32(&mut ctx.result_state.gas_counter, memory, (msg_ptr - 4) as u64)?;
    let filename_len =
        get_u32(&mut ctx.result_state.gas_counter, memory, (filename_ptr - 4) as u64)?;

    let msg = get_utf16_string(&mut ctx.result_state, memory, msg_len as u64, msg_ptr as u64)?;
    let filename =
        get_utf16_string(&mut ctx.result_state, memory, filename_len as u64, filename_ptr as u64)?;

    let message = format!("{}, filename: \"{}\" line: {} col: {}", msg, filename, line, col);
    ctx.result_state.gas_counter.pay_base(log_base)?;
    ctx.result_state.gas_counter.pay_per(log_byte, message.as_bytes().len() as u64)?;
    ctx.result_state.checked_push_log(format!("ABORT: {}", message))?;

    Err(HostError::GuestPanic { panic_msg: message }.into())
}

/// Writes the code deployed on current contract being executed to the register.
///
/// The output data in the register will either be empty, `CryptoHash`, or `AccountId`,
/// depending on the return value.
///
/// # Returns
///
/// Returns a different number depending on the type of contract that is stored on the account
///  (and has been written to the register).
///
/// * 0 if the contract code is None
/// * 1 if the contract code is Local(CryptoHash)
/// * 2 if the contract code is Global(CryptoHash)
/// * 3 if the contract code is GlobalByAccount(AccountId)
///
/// # Cost
///
/// `base` - the base cost for a simple host function call `write_memory_base` + 16 *
/// `write_memory_byte` - the cost of writing the data to the register
pub fn current_contract_code(
    ctx: &mut HostCtx,
    _memory: &mut [u8],
    register_id: u64,
) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(base)?;
    match &ctx.context.account_contract {
        AccountContract::None => Ok(0),
        AccountContract::Local(crypto_hash) => {
            ctx.registers.set(
                &mut ctx.result_state.gas_counter,
                &ctx.config.limit_config,
                register_id,
                crypto_hash.0,
            )?;
            Ok(1)
        }
        AccountContract::Global(crypto_hash) => {
            ctx.registers.set(
                &mut ctx.result_state.gas_counter,
                &ctx.config.limit_config,
                register_id,
                crypto_hash.0,
            )?;
            Ok(2)
        }
        AccountContract::GlobalByAccount(account_id) => {
            ctx.registers.set(
                &mut ctx.result_state.gas_counter,
                &ctx.config.limit_config,
                register_id,
                account_id.as_bytes(),
            )?;
            Ok(3)
        }
    }
}

// ###############
// # Storage API #
// ###############

/// Reads account id from the given location in memory.
///
/// # Errors
///
/// * If account is not UTF-8 encoded then returns `BadUtf8`;
/// * If account is not valid then returns `InvalidAccountId`.
///
/// # Cost
///
/// This is a helper function that encapsulates the following costs:
/// cost of reading buffer from register or memory,
/// `utf8_decoding_base + utf8_decoding_byte * num_bytes`.
fn read_and_parse_account_id(
    gas_counter: &mut GasCounter,
    memory: &[u8],
    registers: &Registers,
    config: &Config,
    ptr: u64,
    len: u64,
) -> Result<AccountId> {
    let buf = get_memory_or_register(gas_counter, memory, registers, ptr, len)?;
    gas_counter.pay_base(utf8_decoding_base)?;
    gas_counter.pay_per(utf8_decoding_byte, buf.len() as u64)?;

    let account_id_str = String::from_utf8(buf.into()).map_err(|_| HostError::BadUTF8)?;

    match config.limit_config.account_id_validity_rules_version {
        near_primitives_core::config::AccountIdValidityRulesVersion::V0
        | near_primitives_core::config::AccountIdValidityRulesVersion::V1 =>
        {
            #[allow(deprecated)]
            Ok(AccountId::new_unvalidated(account_id_str))
        }
        near_primitives_core::config::AccountIdValidityRulesVersion::V2 => {
            account_id_str.parse().map_err(|_| VMLogicError::HostError(HostError::InvalidAccountId))
        }
    }
}

/// Writes key-value into storage.
/// * If key is not in use it inserts the key-value pair and does not modify the register. Returns `0`;
/// * If key is in use it inserts the key-value and copies the old value into the `register_id`. Returns `1`.
///
/// # Errors
///
/// * If `key_len + key_ptr` or `value_len + value_ptr` exceeds the memory container or points
///   to an unused register it returns `MemoryAccessViolation`;
/// * If returning the preempted value into the registers exceed the memory container it returns
///   `MemoryAccessViolation`.
/// * If the length of the key exceeds `max_length_storage_key` returns `KeyLengthExceeded`.
/// * If the length of the value exceeds `max_length_storage_value` returns
///   `ValueLengthExceeded`.
/// * If called as view function returns `ProhibitedInView``.
///
/// # Cost
///
/// `base + storage_write_base + storage_write_key_byte * num_key_bytes + storage_write_value_byte * num_value_bytes
/// + get_vec_from_memory_or_register_cost x 2`.
///
/// If a value was evicted it costs additional `storage_write_value_evicted_byte * num_evicted_bytes + internal_write_register_cost`.
pub fn storage_write(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    key_len: u64,
    key_ptr: u64,
    value_len: u64,
    value_ptr: u64,
    register_id: u64,
) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(HostError::ProhibitedInView { method_name: "storage_write".to_string() }.into());
    }
    ctx.result_state.gas_counter.pay_base(storage_write_base)?;
    let key = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        key_ptr,
        key_len,
    )?;
    if key.len() as u64 > ctx.config.limit_config.max_length_storage_key {
        return Err(HostError::KeyLengthExceeded {
            length: key.len() as u64,
            limit: ctx.config.limit_config.max_length_storage_key,
        }
        .into());
    }
    let value = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        value_ptr,
        value_len,
    )?;
    if value.len() as u64 > ctx.config.limit_config.max_length_storage_value {
        return Err(HostError::ValueLengthExceeded {
            length: value.len() as u64,
            limit: ctx.config.limit_config.max_length_storage_value,
        }
        .into());
    }
    ctx.result_state.gas_counter.pay_per(storage_write_key_byte, key.len() as u64)?;
    ctx.result_state.gas_counter.pay_per(storage_write_value_byte, value.len() as u64)?;
    let evicted = ctx.ext.storage_set(&mut ctx.result_state.gas_counter, &key, &value)?;
    let storage_config = &ctx.fees_config.storage_usage_config;
    ctx.recorded_storage_counter.observe_size(ctx.ext.get_recorded_storage_size())?;
    match evicted {
        Some(old_value) => {
            // Inner value can't overflow, because the value length is limited.
            ctx.result_state.current_storage_usage = ctx
                .result_state
                .current_storage_usage
                .checked_sub(old_value.len() as u64)
                .ok_or(InconsistentStateError::IntegerOverflow)?;
            // Inner value can't overflow, because the value length is limited.
            ctx.result_state.current_storage_usage = ctx
                .result_state
                .current_storage_usage
                .checked_add(value.len() as u64)
                .ok_or(InconsistentStateError::IntegerOverflow)?;
            ctx.registers.set(
                &mut ctx.result_state.gas_counter,
                &ctx.config.limit_config,
                register_id,
                old_value,
            )?;
            Ok(1)
        }
        None => {
            // Inner value can't overflow, because the key/value length is limited.
            ctx.result_state.current_storage_usage = ctx
                .result_state
                .current_storage_usage
                .checked_add(
                    value.len() as u64 + key.len() as u64 + storage_config.num_extra_bytes_record,
                )
                .ok_or(InconsistentStateError::IntegerOverflow)?;
            Ok(0)
        }
    }
}

/// Reads the value stored under the given key.
/// * If key is used copies the content of the value into the `register_id`, even if the content
///   is zero bytes. Returns `1`;
/// * If key is not present then does not modify the register. Returns `0`;
///
/// # Errors
///
/// * If `key_len + key_ptr` exceeds the memory container or points to an unused register it
///   returns `MemoryAccessViolation`;
/// * If returning the preempted value into the registers exceed the memory container it returns
///   `MemoryAccessViolation`.
/// * If the length of the key exceeds `max_length_storage_key` returns `KeyLengthExceeded`.
///
/// # Cost
///
/// `base + storage_read_base + storage_read_key_byte * num_key_bytes + storage_read_value_byte + num_value_bytes
///  cost to read key from register + cost to write value into register`.
pub fn storage_read(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    key_len: u64,
    key_ptr: u64,
    register_id: u64,
) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(base)?;
    ctx.result_state.gas_counter.pay_base(storage_read_base)?;
    let key = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        key_ptr,
        key_len,
    )?;
    if key.len() as u64 > ctx.config.limit_config.max_length_storage_key {
        return Err(HostError::KeyLengthExceeded {
            length: key.len() as u64,
            limit: ctx.config.limit_config.max_length_storage_key,
        }
        .into());
    }
    ctx.result_state.gas_counter.pay_per(storage_read_key_byte, key.len() as u64)?;
    let read = ctx.ext.storage_get(&mut ctx.result_state.gas_counter, &key);
    let read = match read? {
        Some(read) => {
            // Here we'll do u32 -> usize -> u64, which is always infallible
            let read_len = read.len() as usize;
            ctx.result_state.gas_counter.pay_per(storage_read_value_byte, read_len as u64)?;
            if read_len > INLINE_DISK_VALUE_THRESHOLD {
                ctx.result_state.gas_counter.pay_base(storage_large_read_overhead_base)?;
                ctx.result_state
                    .gas_counter
                    .pay_per(storage_large_read_overhead_byte, read_len as u64)?;
            }
            Some(read.deref(&mut FreeGasCounter)?)
        }
        None => None,
    };

    ctx.recorded_storage_counter.observe_size(ctx.ext.get_recorded_storage_size())?;
    match read {
        Some(value) => {
            ctx.registers.set(
                &mut ctx.result_state.gas_counter,
                &ctx.config.limit_config,
                register_id,
                value,
            )?;
            Ok(1)
        }
        None => Ok(0),
    }
}

/// Removes the value stored under the given key.
/// * If key is used, removes the key-value from the trie and copies the content of the value
///   into the `register_id`, even if the content is zero bytes. Returns `1`;
/// * If key is not present then does not modify the register. Returns `0`.
///
/// # Errors
///
/// * If `key_len + key_ptr` exceeds the memory container or points to an unused register it
///   returns `MemoryAccessViolation`;
/// * If the registers exceed the memory limit returns `MemoryAccessViolation`;
/// * If returning the preempted value into the registers exceed the memory container it returns
///   `MemoryAccessViolation`.
/// * If the length of the key exceeds `max_length_storage_key` returns `KeyLengthExceeded`.
/// * If called as view function returns `ProhibitedInView``.
///
/// # Cost
///
/// `base + storage_remove_base + storage_remove_key_byte * num_key_bytes + storage_remove_ret_value_byte * num_value_bytes
/// + cost to read the key + cost to write the value`.
pub fn storage_remove(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    key_len: u64,
    key_ptr: u64,
    register_id: u64,
) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(base)?;
    if ctx.context.is_view() {
        return Err(
            HostError::ProhibitedInView { method_name: "storage_remove".to_string() }.into()
        );
    }
    ctx.result_state.gas_counter.pay_base(storage_remove_base)?;
    let key = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        key_ptr,
        key_len,
    )?;
    if key.len() as u64 > ctx.config.limit_config.max_length_storage_key {
        return Err(HostError::KeyLengthExceeded {
            length: key.len() as u64,
            limit: ctx.config.limit_config.max_length_storage_key,
        }
        .into());
    }
    ctx.result_state.gas_counter.pay_per(storage_remove_key_byte, key.len() as u64)?;
    let removed = ctx.ext.storage_remove(&mut ctx.result_state.gas_counter, &key)?;
    let storage_config = &ctx.fees_config.storage_usage_config;
    ctx.recorded_storage_counter.observe_size(ctx.ext.get_recorded_storage_size())?;
    match removed {
        Some(value) => {
            // Inner value can't overflow, because the key/value length is limited.
            ctx.result_state.current_storage_usage = ctx
                .result_state
                .current_storage_usage
                .checked_sub(
                    value.len() as u64 + key.len() as u64 + storage_config.num_extra_bytes_record,
                )
                .ok_or(InconsistentStateError::IntegerOverflow)?;
            ctx.registers.set(
                &mut ctx.result_state.gas_counter,
                &ctx.config.limit_config,
                register_id,
                value,
            )?;
            Ok(1)
        }
        None => Ok(0),
    }
}

/// Checks if there is a key-value pair.
/// * If key is used returns `1`, even if the value is zero bytes;
/// * Otherwise returns `0`.
///
/// # Errors
///
/// * If `key_len + key_ptr` exceeds the memory container it returns `MemoryAccessViolation`.
/// * If the length of the key exceeds `max_length_storage_key` returns `KeyLengthExceeded`.
///
/// # Cost
///
/// `base + storage_has_key_base + storage_has_key_byte * num_bytes + cost of reading key`
pub fn storage_has_key(
    ctx: &mut HostCtx,
    memory: &mut [u8],
    key_len: u64,
    key_ptr: u64,
) -> Result<u64> {
    ctx.result_state.gas_counter.pay_base(base)?;
    ctx.result_state.gas_counter.pay_base(storage_has_key_base)?;
    let key = get_memory_or_register(
        &mut ctx.result_state.gas_counter,
        memory,
        &ctx.registers,
        key_ptr,
        key_len,
    )?;
    if key.len() as u64 > ctx.config.limit_config.max_length_storage_key {
        return Err(HostError::KeyLengthExceeded {
            length: key.len() as u64,
            limit: ctx.config.limit_config.max_length_storage_key,
        }
        .into());
    }
    ctx.result_state.gas_counter.pay_per(storage_has_key_byte, key.len() as u64)?;
    let res = ctx.ext.storage_has_key(&mut ctx.result_state.gas_counter, &key);

    ctx.recorded_storage_counter.observe_size(ctx.ext.get_recorded_storage_size())?;
    Ok(res? as u64)
}

/// Debug print given utf-8 string to node log. It's only available in Sandbox node
///
/// # Errors
///
/// * If string is not UTF-8 returns `BadUtf8`
/// * If the log is over available memory in wasm runner, returns `MemoryAccessViolation`
///
/// # Cost
///
/// 0
#[cfg(feature = "sandbox")]
pub fn sandbox_debug_log(_ctx: &mut HostCtx, memory: &mut [u8], len: u64, ptr: u64) -> Result<()> {
    let message = sandbox_get_utf8_string(memory, len, ptr)?;
    tracing::debug!(target: "sandbox", message = &message[..]);
    Ok(())
}

/// DEPRECATED
/// Creates an iterator object inside the host. Returns the identifier that uniquely
/// differentiates the given iterator from other iterators that can be simultaneously created.
/// * It iterates over the keys that have the provided prefix. The order of iteration is defined
///   by the lexicographic order of the bytes in the keys;
/// * If there are no keys, it creates an empty iterator, see below on empty iterators.
///
/// # Errors
///
/// * If `prefix_len + prefix_ptr` exceeds the memory container it returns
///   `MemoryAccessViolation`.
/// * If the length of the prefix exceeds `max_length_storage_key` returns `KeyLengthExceeded`.
///
/// # Cost
///
/// `base + storage_iter_create_prefix_base + storage_iter_create_key_byte * num_prefix_bytes
///  cost of reading the prefix`.
pub fn storage_iter_prefix(
    _ctx: &mut HostCtx,
    _memory: &mut [u8],
    _prefix_len: u64,
    _prefix_ptr: u64,
) -> Result<u64> {
    Err(VMLogicError::HostError(HostError::Deprecated {
        method_name: "storage_iter_prefix".to_string(),
    }))
}

/// DEPRECATED
/// Iterates over all key-values such that keys are between `start` and `end`, where `start` is
/// inclusive and `end` is exclusive. Unless lexicographically `start < end`, it creates an
/// empty iterator. Note, this definition allows for `start` or `end` keys to not actually exist
/// on the given trie.
///
/// # Errors
///
/// * If `start_len + start_ptr` or `end_len + end_ptr` exceeds the memory container or points to
///   an unused register it returns `MemoryAccessViolation`.
/// * If the length of the `start` exceeds `max_length_storage_key` returns `KeyLengthExceeded`.
/// * If the length of the `end` exceeds `max_length_storage_key` returns `KeyLengthExceeded`.
///
/// # Cost
///
/// `base + storage_iter_create_range_base + storage_iter_create_from_byte * num_from_bytes
///  + storage_iter_create_to_byte * num_to_bytes + reading from prefix + reading to prefix`.
pub fn storage_iter_range(
    _ctx: &mut HostCtx,
    _memory: &mut [u8],
    _start_len: u64,
    _start_ptr: u64,
    _end_len: u64,
    _end_ptr: u64,
) -> Result<u64> {
    Err(VMLogicError::HostError(HostError::Deprecated {
        method_name: "storage_iter_range".to_string(),
    }))
}

/// DEPRECATED
/// Advances iterator and saves the next key and value in the register.
/// * If iterator is not empty (after calling next it points to a key-value), copies the key
///   into `key_register_id` and value into `value_register_id` and returns `1`;
/// * If iterator is empty returns `0`;
/// This allows us to iterate over the keys that have zero bytes stored in values.
///
/// # Errors
///
/// * If `key_register_id == value_register_id` returns `MemoryAccessViolation`;
/// * If the registers exceed the memory limit returns `MemoryAccessViolation`;
/// * If `iterator_id` does not correspond to an existing iterator returns `InvalidIteratorId`;
/// * If between the creation of the iterator and calling `storage_iter_next` the range over
///   which it iterates was modified returns `IteratorWasInvalidated`. Specifically, if
///   `storage_write` or `storage_remove` was invoked on the key such that:
///   * in case of `storage_iter_prefix`. `key` has the given prefix and:
///     * Iterator was not called next yet.
///     * `next` was already called on the iterator and it is currently pointing at the `key`
///       `curr` such that `curr <= key`.
///   * in case of `storage_iter_range`. `start<=key<end` and:
///     * Iterator was not called `next` yet.
///     * `next` was already called on the iterator and it is currently pointing at the key
///       `curr` such that `curr<=key<end`.
///
/// # Cost
///
/// `base + storage_iter_next_base + storage_iter_next_key_byte * num_key_bytes + storage_iter_next_value_byte * num_value_bytes
///  + writing key to register + writing value to register`.
pub fn storage_iter_next(
    _ctx: &mut HostCtx,
    _memory: &mut [u8],
    _iterator_id: u64,
    _key_register_id: u64,
    _value_register_id: u64,
) -> Result<u64> {
    Err(VMLogicError::HostError(HostError::Deprecated {
        method_name: "storage_iter_next".to_string(),
    }))
}

/// A helper function to pay base cost gas fee for batching an action.
pub fn pay_action_base(
    gas_counter: &mut GasCounter,
    fees_config: &RuntimeFeesConfig,
    action: ActionCosts,
    sir: bool,
) -> Result<()> {
    let base_fee = fees_config.fee(action);
    let burn_cost = base_fee.send_fee(sir);
    let use_gas =
        burn_cost.gas.checked_add(base_fee.exec_fee().gas).ok_or(HostError::IntegerOverflow)?;
    gas_counter.pay_action_accumulated(burn_cost, use_gas, action)
}

/// A helper function to pay per byte gas fee for batching an action.
pub fn pay_action_per_byte(
    gas_counter: &mut GasCounter,
    fees_config: &RuntimeFeesConfig,
    action: ActionCosts,
    num_bytes: u64,
    sir: bool,
) -> Result<()> {
    let per_byte_fee = fees_config.fee(action);
    let burn_cost =
        per_byte_fee.send_fee(sir).checked_mul(num_bytes).ok_or(HostError::IntegerOverflow)?;
    let use_gas = burn_cost
        .gas
        .checked_add(
            per_byte_fee.exec_fee().gas.checked_mul(num_bytes).ok_or(HostError::IntegerOverflow)?,
        )
        .ok_or(HostError::IntegerOverflow)?;
    gas_counter.pay_action_accumulated(burn_cost, use_gas, action)
}
