//! Calls into nearcore's VM: a receipt's function call (with its promises,
//! resumes and gas weights handed back to the receipt) and read-only view
//! calls.

use std::sync::Arc;

use near_crypto::PublicKey;
use near_primitives::account::AccountContract;
use near_primitives::action::{Action, FunctionCallAction};
use near_primitives::errors::{ActionErrorKind, FunctionCallError};
use near_primitives::hash::CryptoHash;
use near_primitives::types::{AccountId, Balance, Gas};
use near_primitives_core::config::ViewConfig;
use near_vm_runner::logic::types::PromiseResult;
use near_vm_runner::logic::{ReturnData, VMContext, VMOutcome};
use near_vm_runner::{Contract, ContractCode};

use crate::chain::{Block, Chain};
use crate::execution::WorkingCopy;
use crate::external::ContractExt;
use crate::receipt::Receipt;

struct CodeRef(Arc<ContractCode>);

impl Contract for CodeRef {
    fn hash(&self) -> CryptoHash {
        *self.0.hash()
    }
    fn get_code(&self) -> Option<Arc<ContractCode>> {
        Some(self.0.clone())
    }
}

/// Where a call runs: the block and the receipt's place in it.
pub struct CallSite<'a> {
    pub block: &'a Block,
    pub receipt_id: CryptoHash,
    pub signer_id: &'a AccountId,
    pub signer_public_key: &'a PublicKey,
    pub predecessor_id: &'a AccountId,
    pub refund_to: &'a AccountId,
    pub output_data_receivers: Vec<AccountId>,
}

pub(crate) fn function_call(
    chain: &Chain,
    receipt: &Receipt,
    call: &FunctionCallAction,
    site: &CallSite<'_>,
    promise_results: &[PromiseResult],
    work: &mut WorkingCopy,
) -> Result<(), ActionErrorKind> {
    let account_id = &receipt.receiver_id;
    let account = work.account.as_mut().expect("checked by the caller");
    let Some(code) = work.code.clone() else {
        return Err(ActionErrorKind::FunctionCallError(
            FunctionCallError::CompilationError(
                near_primitives::errors::CompilationError::CodeDoesNotExist {
                    account_id: account_id.clone(),
                },
            ),
        ));
    };
    let mut ext = ContractExt::new(
        account_id.clone(),
        chain.state.storage.get(account_id),
        &chain.yields,
        site.receipt_id,
        chain.config.chain_id.clone(),
    );
    ext.overlay = std::mem::take(&mut work.storage);
    let context = VMContext {
        current_account_id: account_id.clone(),
        signer_account_id: site.signer_id.clone(),
        signer_account_pk: borsh::to_vec(site.signer_public_key).expect("encodes"),
        predecessor_account_id: site.predecessor_id.clone(),
        refund_to_account_id: site.refund_to.clone(),
        input: call.args.clone().into(),
        promise_results: promise_results
            .iter()
            .map(|r| match r {
                PromiseResult::Successful(bytes) => PromiseResult::Successful(bytes.clone()),
                PromiseResult::Failed => PromiseResult::Failed,
                PromiseResult::NotReady => PromiseResult::NotReady,
            })
            .collect::<Vec<_>>()
            .into(),
        block_height: site.block.height,
        block_timestamp: site.block.timestamp_ns,
        epoch_height: 1,
        account_balance: Balance::from_yoctonear(account.amount),
        account_locked_balance: Balance::from_yoctonear(account.locked),
        storage_usage: account.storage_usage,
        account_contract: AccountContract::Local(*code.hash()),
        attached_deposit: call.deposit,
        prepaid_gas: call.gas,
        random_seed: CryptoHash::hash_bytes(
            &[site.block.random_value.0, site.receipt_id.0].concat(),
        )
        .0
        .to_vec(),
        view_config: None,
        output_data_receivers: site.output_data_receivers.clone(),
    };
    let outcome = run_vm(chain, &code, &call.method_name, &mut ext, &context);
    work.storage = std::mem::take(&mut ext.overlay);
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(message) => {
            return Err(ActionErrorKind::FunctionCallError(
                FunctionCallError::ExecutionError(message),
            ));
        }
    };
    work.vm_burnt += outcome.burnt_gas.as_gas();
    work.logs.extend(outcome.logs.iter().cloned());
    if let Some(error) = &outcome.aborted {
        work.vm_used += outcome.burnt_gas.as_gas();
        return Err(ActionErrorKind::FunctionCallError(function_call_error(
            error,
        )));
    }
    if let Some(feature) = ext.unsupported {
        work.vm_used += outcome.burnt_gas.as_gas();
        return Err(ActionErrorKind::FunctionCallError(
            FunctionCallError::ExecutionError(format!(
                "{feature} are not supported by the local chain"
            )),
        ));
    }
    account.amount = outcome.balance.as_yoctonear();
    account.storage_usage = outcome.storage_usage;
    let mut used = outcome.used_gas.as_gas();
    // Unused gas goes to calls that asked for a share (nearcore's GasWeight).
    let total_weight: u64 = ext
        .new_receipts
        .iter()
        .flat_map(|r| r.gas_weights.iter().map(|(_, w)| *w))
        .sum();
    let unused = call.gas.as_gas().saturating_sub(used);
    if total_weight > 0 && unused > 0 {
        let mut left = unused;
        let shares: Vec<(usize, usize, u64)> = ext
            .new_receipts
            .iter()
            .enumerate()
            .flat_map(|(r, new)| new.gas_weights.iter().map(move |(a, w)| (r, *a, *w)))
            .collect();
        for (i, (r, a, w)) in shares.iter().enumerate() {
            let share = if i + 1 == shares.len() {
                left
            } else {
                (u128::from(unused) * u128::from(*w) / u128::from(total_weight)) as u64
            };
            left -= share;
            if let Action::FunctionCall(f) = &mut ext.new_receipts[*r].actions[*a] {
                f.gas = Gas::from_gas(f.gas.as_gas() + share);
            }
        }
        used = call.gas.as_gas();
    }
    work.vm_used += used;
    let offset = work.new.len() as u64;
    work.returned = Some(match outcome.return_data {
        ReturnData::ReceiptIndex(i) => ReturnData::ReceiptIndex(i + offset),
        other => other,
    });
    for mut new in std::mem::take(&mut ext.new_receipts) {
        for d in &mut new.dependencies {
            *d += offset;
        }
        work.new.push(new);
    }
    work.resumes.append(&mut ext.resumes);
    Ok(())
}

/// Runs a method in nearcore's VM; `Err` is a failure of the VM itself.
/// The VM's error as nearcore records it in the outcome (`function_call_error`
/// in `runtime/runtime/src/conversions.rs`): compilation and method errors
/// keep their structure; traps and host errors (a contract's panic) become an
/// `ExecutionError` with the error's text, link and loading errors one with
/// the message.
fn function_call_error(
    error: &near_vm_runner::logic::errors::FunctionCallError,
) -> FunctionCallError {
    use near_primitives::errors::MethodResolveError as Resolve;
    use near_vm_runner::logic::errors::{FunctionCallError as Vm, MethodResolveError};
    match error {
        Vm::MethodResolveError(e) => FunctionCallError::MethodResolveError(match e {
            MethodResolveError::MethodEmptyName => Resolve::MethodEmptyName,
            MethodResolveError::MethodNotFound => Resolve::MethodNotFound,
            MethodResolveError::MethodInvalidSignature => Resolve::MethodInvalidSignature,
        }),
        // The two enums have one Borsh layout (nearcore converts field by field).
        Vm::CompilationError(e) => borsh::to_vec(e)
            .ok()
            .and_then(|bytes| borsh::from_slice(&bytes).ok())
            .map_or_else(
                || FunctionCallError::ExecutionError(error.to_string()),
                FunctionCallError::CompilationError,
            ),
        Vm::HostError(_) | Vm::WasmTrap(_) => FunctionCallError::ExecutionError(error.to_string()),
        Vm::LinkError { msg } => FunctionCallError::ExecutionError(format!("Link Error: {msg}")),
        Vm::LoadingError { msg } => {
            FunctionCallError::ExecutionError(format!("Loading Error: {msg}"))
        }
    }
}

fn run_vm(
    chain: &Chain,
    code: &Arc<ContractCode>,
    method: &str,
    ext: &mut ContractExt<'_>,
    context: &VMContext,
) -> Result<VMOutcome, String> {
    let config = chain.runtime.wasm_config.clone();
    let gas_counter = context.make_gas_counter(&config);
    let contract = CodeRef(code.clone());
    let prepared =
        near_vm_runner::prepare(&contract, config, Some(&chain.cache), gas_counter, method);
    near_vm_runner::run(prepared, ext, context, chain.runtime.fees.clone())
        .map_err(|e| format!("the VM failed: {e:?}"))
}

/// A view call: the method runs read-only against the head's state.
pub struct ViewResult {
    pub result: Vec<u8>,
    pub logs: Vec<String>,
}

pub fn view_call(
    chain: &Chain,
    account_id: &AccountId,
    method: &str,
    args: Vec<u8>,
) -> Result<ViewResult, ViewError> {
    let account = chain
        .state
        .account(account_id)
        .ok_or_else(|| ViewError::UnknownAccount(account_id.clone()))?;
    let code = chain
        .state
        .contract(account_id)
        .ok_or_else(|| ViewError::NoContractCode(account_id.clone()))?;
    let head = chain.head();
    let max_gas = chain.runtime.wasm_config.limit_config.max_gas_burnt;
    let mut ext = ContractExt::new(
        account_id.clone(),
        chain.state.storage.get(account_id),
        &chain.yields,
        head.hash,
        chain.config.chain_id.clone(),
    );
    let context = VMContext {
        current_account_id: account_id.clone(),
        signer_account_id: account_id.clone(),
        signer_account_pk: vec![],
        predecessor_account_id: account_id.clone(),
        refund_to_account_id: account_id.clone(),
        input: args.into(),
        promise_results: Vec::new().into(),
        block_height: head.height,
        block_timestamp: head.timestamp_ns,
        epoch_height: 1,
        account_balance: Balance::from_yoctonear(account.amount),
        account_locked_balance: Balance::from_yoctonear(account.locked),
        storage_usage: account.storage_usage,
        account_contract: AccountContract::Local(*code.hash()),
        attached_deposit: Balance::ZERO,
        prepaid_gas: max_gas,
        random_seed: head.random_value.0.to_vec(),
        view_config: Some(ViewConfig {
            max_gas_burnt: max_gas,
        }),
        output_data_receivers: vec![],
    };
    let outcome =
        run_vm(chain, &code, method, &mut ext, &context).map_err(ViewError::ContractExecution)?;
    if let Some(error) = outcome.aborted {
        // nearcore's wording for a failed view call.
        return Err(ViewError::ContractExecution(format!(
            "wasm execution failed with error: FunctionCallError({error:?})"
        )));
    }
    let result = match outcome.return_data {
        ReturnData::Value(v) => v,
        _ => vec![],
    };
    Ok(ViewResult {
        result,
        logs: outcome.logs,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error("account {0} does not exist while viewing")]
    UnknownAccount(AccountId),
    #[error("contract code for account {0} does not exist while viewing")]
    NoContractCode(AccountId),
    #[error("{0}")]
    ContractExecution(String),
}
