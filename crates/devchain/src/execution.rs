//! Executing one action receipt: its actions in order against a working copy
//! of the receiver's account, committed only if every action succeeds (as
//! nearcore does), then gas and deposit refunds, promise results to the
//! receipts waiting for them, and new receipts for the next block.

use std::collections::BTreeMap;
use std::sync::Arc;

use near_crypto::PublicKey;
use near_primitives::account::{AccessKey, AccessKeyPermission};
use near_primitives::action::Action;
use near_primitives::errors::{ActionError, ActionErrorKind, FunctionCallError, TxExecutionError};
use near_primitives::hash::CryptoHash;
use near_primitives::types::{AccountId, Balance};
use near_primitives::views::ExecutionStatusView;
use near_vm_runner::ContractCode;
use near_vm_runner::logic::ReturnData;
use near_vm_runner::logic::types::PromiseResult;

use crate::chain::{Block, Chain, derive_id};
use crate::external::{NewReceipt, PendingYield};
use crate::receipt::{ActionReceipt, Receipt, ReceiptKind, system_account};
use crate::state::{Account, access_key_bytes};
use crate::transaction::{action_deposit, action_fees};
use crate::vm::CallSite;

pub struct Executed {
    pub logs: Vec<String>,
    pub new_receipts: Vec<Receipt>,
    pub gas_burnt: u64,
    /// The outcome's `tokens_burnt`: gas at the burn price, the refund
    /// penalty and the account creation charge.
    pub tokens_burnt: u128,
    /// Of `tokens_burnt`, what went to the contract as its burnt-gas reward.
    pub reward: u128,
    pub status: ExecutionStatusView,
}

/// The receiver's account as the receipt changes it.
pub(crate) struct WorkingCopy {
    pub(crate) account: Option<Account>,
    pub(crate) keys: BTreeMap<PublicKey, AccessKey>,
    pub(crate) storage: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    pub(crate) code: Option<Arc<ContractCode>>,
    pub(crate) deleted_to: Option<AccountId>,
    /// Created by this receipt: its creator may then act as the owner (nearcore).
    pub(crate) created: bool,
    pub(crate) logs: Vec<String>,
    pub(crate) vm_burnt: u64,
    pub(crate) vm_used: u64,
    pub(crate) new: Vec<NewReceipt>,
    pub(crate) resumes: Vec<(CryptoHash, Vec<u8>)>,
    pub(crate) returned: Option<ReturnData>,
}

pub fn execute(chain: &mut Chain, receipt: &Receipt, block: &Block) -> Executed {
    let ReceiptKind::Action(action) = &receipt.kind else {
        unreachable!("only action receipts execute");
    };
    let promise_results: Vec<PromiseResult> = action
        .input_data_ids
        .iter()
        .map(|id| match chain.data.remove(id) {
            Some(Some(bytes)) => PromiseResult::Successful(bytes.into()),
            _ => PromiseResult::Failed,
        })
        .collect();
    // Refunds come from `system`: their gas is counted in the outcome (and the
    // block) but costs nothing: bought at a gas price of 0, burnt at 0
    // (nearcore: "If the receipt is a refund, then we consider it free without
    // burnt gas"), and nothing is refunded for them.
    let is_refund = receipt.predecessor_id == system_account();
    // nearcore's `apply_action_receipt` burns the new receipt's execution fee
    // up front and each action's execution fee as `apply_action` reaches it
    // (`exec_fee`); an action after a failed one is never reached, so its fee
    // is refunded with the rest.
    let (receipt_exec_gas, action_exec_gas): (u64, Vec<u64>) = {
        let sir = receipt.predecessor_id == receipt.receiver_id;
        let fees = &chain.runtime.fees;
        (
            fees.fee(near_parameters::ActionCosts::new_action_receipt)
                .exec_fee()
                .gas
                .as_gas(),
            action
                .actions
                .iter()
                .map(|a| action_fees(fees, a, sir).1)
                .collect(),
        )
    };
    let refund_to = action
        .refund_to
        .clone()
        .unwrap_or_else(|| receipt.predecessor_id.clone());
    let site = CallSite {
        block,
        receipt_id: receipt.id,
        signer_id: &action.signer_id,
        signer_public_key: &action.signer_public_key,
        predecessor_id: &receipt.predecessor_id,
        refund_to: &refund_to,
        output_data_receivers: action
            .output_data_receivers
            .iter()
            .map(|(_, r)| r.clone())
            .collect(),
    };
    let mut work = WorkingCopy {
        account: chain.state.account(&receipt.receiver_id).cloned(),
        keys: chain
            .state
            .access_keys
            .get(&receipt.receiver_id)
            .cloned()
            .unwrap_or_default(),
        storage: BTreeMap::new(),
        code: chain.state.contract(&receipt.receiver_id),
        deleted_to: None,
        created: false,
        logs: vec![],
        vm_burnt: 0,
        vm_used: 0,
        new: vec![],
        resumes: vec![],
        returned: None,
    };
    let mut result = Ok(());
    let mut applied = 0;
    for (index, a) in action.actions.iter().enumerate() {
        applied = index + 1;
        if let Err(kind) = apply_action(chain, receipt, a, &site, &promise_results, &mut work) {
            result = Err(ActionError {
                index: Some(index as u64),
                kind,
            });
            break;
        }
    }
    if result.is_ok()
        && let Some(account) = &work.account
        && work.deleted_to.is_none()
        && !account.covers_storage()
    {
        result = Err(ActionError {
            index: None,
            kind: ActionErrorKind::LackBalanceForState {
                account_id: receipt.receiver_id.clone(),
                amount: Balance::from_yoctonear(account.storage_cost() - account.locked),
            },
        });
    }

    let prepaid: u64 = action
        .actions
        .iter()
        .map(|a| match a {
            Action::FunctionCall(call) => call.gas.as_gas(),
            _ => 0,
        })
        .sum();
    let prepaid_exec_gas = receipt_exec_gas + action_exec_gas.iter().sum::<u64>();
    let exec_gas_burnt = receipt_exec_gas + action_exec_gas[..applied].iter().sum::<u64>();
    let gas_burnt = exec_gas_burnt + work.vm_burnt;
    let gas = Gas {
        purchase_price: action.gas_price,
        // nearcore (`AccountCostIncrease`, protocol 85): burnt at the lower of
        // the price it was bought at and the block's.
        burn_price: action.gas_price.min(crate::chain::GAS_PRICE),
        burnt: gas_burnt,
    };
    let mut new_receipts = Vec::new();
    let created_account = result.is_ok() && work.created;
    let (status, gross_refund) = match result {
        Ok(()) => {
            let status = commit(chain, receipt, action, block, &mut work, &mut new_receipts);
            // Success: what was not used, by this receipt or the ones it made.
            let used = exec_gas_burnt + work.vm_used;
            (status, (prepaid + prepaid_exec_gas).saturating_sub(used))
        }
        Err(error) => {
            let deposit: u128 = action.actions.iter().map(action_deposit).sum();
            push_refund(&mut new_receipts, receipt, &refund_to, deposit, is_refund);
            // Whoever waits for this receipt's result learns it failed.
            for (index, (data_id, receiver)) in action.output_data_receivers.iter().enumerate() {
                new_receipts.push(data_receipt(receipt, index, *data_id, receiver, None));
            }
            // Failure: everything not burnt (the receipts it made are dropped).
            let status = ExecutionStatusView::Failure(TxExecutionError::ActionError(error));
            (
                status,
                (prepaid + prepaid_exec_gas).saturating_sub(gas_burnt),
            )
        }
    };
    let mut tokens_burnt = u128::from(gas.burnt) * gas.burn_price;
    let mut reward = 0;
    if !is_refund {
        let refund = gas_refund(&chain.runtime, &gas, gross_refund, created_account);
        tokens_burnt += refund.penalty + refund.create_account_charge;
        push_gas_refund(&mut new_receipts, receipt, action, refund.amount);
        reward = contract_reward(chain, &receipt.receiver_id, &gas, work.vm_burnt);
    }
    Executed {
        logs: work.logs,
        new_receipts,
        gas_burnt,
        tokens_burnt,
        reward,
        status,
    }
}

/// The gas of one receipt: bought at `purchase_price` (the receipt's
/// `gas_price`), `burnt` at `burn_price`.
struct Gas {
    purchase_price: u128,
    burn_price: u128,
    burnt: u64,
}

/// What the signer gets back for a receipt's gas, and what is kept.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct GasRefund {
    /// yoctoNEAR refunded to the signer.
    pub amount: u128,
    /// NEP-536's refund penalty, burnt.
    pub penalty: u128,
    /// The part of `account_creation_charge` not already burnt as gas, burnt.
    pub create_account_charge: u128,
}

/// nearcore's `Runtime::refund_unspent_gas_and_deposits`
/// (runtime/runtime/src/lib.rs), gas part, at protocol ≥ 85:
/// - the gross refund (prepaid gas + prepaid execution fees − gas used, or
///   − gas burnt when the receipt failed) is returned at the purchase price,
///   less NEP-536's penalty `gas_penalty_for_gas_refund(gross)` =
///   `min(gross, max(gross × gas_refund_penalty, min_gas_refund_penalty))`
///   (core/parameters/src/cost.rs) priced at the burn price;
/// - the gas burnt is returned at the difference between the purchase and the
///   burn price (`price_surplus`);
/// - when the receipt created an account, `account_creation_charge` less what
///   the `create_account` execution fee already burnt is kept out of that
///   surplus (at most all of it) and burnt.
fn gas_refund(
    runtime: &near_parameters::RuntimeConfig,
    gas: &Gas,
    gross: u64,
    created_account: bool,
) -> GasRefund {
    let fees = &runtime.fees;
    let penalty_gas = fees
        .gas_penalty_for_gas_refund(near_primitives::types::Gas::from_gas(gross))
        .as_gas();
    let penalty = u128::from(penalty_gas) * gas.burn_price;
    let unused = (u128::from(gross) * gas.purchase_price).saturating_sub(penalty);
    let mut surplus = gas.purchase_price.saturating_sub(gas.burn_price) * u128::from(gas.burnt);
    let mut create_account_charge = 0;
    if created_account {
        let create_account_exec = fees
            .fee(near_parameters::ActionCosts::create_account)
            .exec_fee()
            .gas
            .as_gas();
        let already_burnt = u128::from(create_account_exec) * gas.burn_price;
        let to_charge = runtime
            .account_creation_charge
            .as_yoctonear()
            .saturating_sub(already_burnt);
        create_account_charge = to_charge.min(surplus);
        surplus -= create_account_charge;
    }
    GasRefund {
        amount: unused + surplus,
        penalty,
        create_account_charge,
    }
}

/// nearcore's burnt-gas reward (`apply_action_receipt`, after the refunds):
/// `gas_burnt_for_function_call × burnt_gas_reward` at the burn price is
/// credited to the receiver if it still exists, out of what was burnt (the
/// outcome's `tokens_burnt` is not reduced). `burnt_gas_reward` is 0/1 since
/// protocol 87 (`RemoveGasRewards`, 87.yaml), 3/10 before.
fn contract_reward(chain: &mut Chain, receiver: &AccountId, gas: &Gas, vm_burnt: u64) -> u128 {
    let ratio = chain.runtime.fees.burnt_gas_reward;
    let reward_gas = u128::from(vm_burnt) * (*ratio.numer() as u128) / (*ratio.denom() as u128);
    let reward = reward_gas * gas.burn_price;
    match chain.state.accounts.get_mut(receiver) {
        Some(account) if reward > 0 => {
            account.amount += reward;
            reward
        }
        _ => 0,
    }
}

/// A gas refund: to the signer, naming the signer's key so a function-call
/// key's allowance gets the refund back (nearcore's `Receipt::new_gas_refund`
/// and `try_refund_allowance`).
fn push_gas_refund(out: &mut Vec<Receipt>, parent: &Receipt, action: &ActionReceipt, amount: u128) {
    if amount == 0 || action.signer_id == system_account() {
        return;
    }
    let id = derive_id(&parent.id, 1_000_000 + out.len() as u64);
    let mut refund = Receipt::refund(id, parent.origin_tx, action.signer_id.clone(), amount);
    if let ReceiptKind::Action(a) = &mut refund.kind {
        a.signer_id = action.signer_id.clone();
        a.signer_public_key = action.signer_public_key.clone();
    }
    out.push(refund);
}

fn push_refund(
    out: &mut Vec<Receipt>,
    parent: &Receipt,
    to: &AccountId,
    amount: u128,
    is_refund: bool,
) {
    if amount == 0 || is_refund || *to == system_account() {
        return;
    }
    let id = derive_id(&parent.id, 1_000_000 + out.len() as u64);
    out.push(Receipt::refund(id, parent.origin_tx, to.clone(), amount));
}

fn data_receipt(
    parent: &Receipt,
    index: usize,
    data_id: CryptoHash,
    receiver: &AccountId,
    data: Option<Vec<u8>>,
) -> Receipt {
    Receipt {
        id: derive_id(&parent.id, 2_000_000 + index as u64),
        predecessor_id: parent.receiver_id.clone(),
        receiver_id: receiver.clone(),
        origin_tx: parent.origin_tx,
        kind: ReceiptKind::Data {
            data_id,
            data,
            is_promise_resume: false,
        },
    }
}

/// Writes the working copy back and turns the calls' promises into receipts.
fn commit(
    chain: &mut Chain,
    receipt: &Receipt,
    action: &ActionReceipt,
    block: &Block,
    work: &mut WorkingCopy,
    out: &mut Vec<Receipt>,
) -> ExecutionStatusView {
    let id = receipt.receiver_id.clone();
    if let Some(beneficiary) = work.deleted_to.take() {
        let amount = work.account.as_ref().map_or(0, |a| a.amount);
        chain.state.accounts.remove(&id);
        chain.state.access_keys.remove(&id);
        chain.state.storage.remove(&id);
        let refund_id = derive_id(&receipt.id, 3_000_000);
        if amount > 0 {
            out.push(Receipt::refund(
                refund_id,
                receipt.origin_tx,
                beneficiary,
                amount,
            ));
        }
    } else if let Some(account) = work.account.take() {
        if let Some(code) = work.code.take() {
            chain.state.code.insert(*code.hash(), code);
        }
        chain.state.accounts.insert(id.clone(), account);
        chain
            .state
            .access_keys
            .insert(id.clone(), std::mem::take(&mut work.keys));
        let storage = chain.state.storage.entry(id.clone()).or_default();
        for (key, value) in std::mem::take(&mut work.storage) {
            match value {
                Some(v) => storage.insert(key, v),
                None => storage.remove(&key),
            };
        }
    }

    // Receipts the calls created, with ids and data dependencies.
    let ids: Vec<CryptoHash> = (0..work.new.len())
        .map(|i| derive_id(&receipt.id, i as u64))
        .collect();
    let mut created: Vec<Receipt> = work
        .new
        .iter()
        .zip(&ids)
        .map(|(new, rid)| Receipt {
            id: *rid,
            predecessor_id: id.clone(),
            receiver_id: new.receiver_id.clone(),
            origin_tx: receipt.origin_tx,
            kind: ReceiptKind::Action(ActionReceipt {
                signer_id: action.signer_id.clone(),
                signer_public_key: action.signer_public_key.clone(),
                gas_price: action.gas_price,
                output_data_receivers: vec![],
                input_data_ids: new.yield_data_id.into_iter().collect(),
                actions: new.actions.clone(),
                is_promise_yield: new.yield_data_id.is_some(),
                refund_to: new.refund_to.clone(),
            }),
        })
        .collect();
    for (index, new) in work.new.iter().enumerate() {
        for dependency in &new.dependencies {
            let data_id = derive_id(&ids[index], 10_000 + dependency);
            let receiver = created[index].receiver_id.clone();
            if let ReceiptKind::Action(a) = &mut created[index].kind {
                a.input_data_ids.push(data_id);
            }
            if let Some(ReceiptKind::Action(a)) =
                created.get_mut(*dependency as usize).map(|r| &mut r.kind)
            {
                a.output_data_receivers.push((data_id, receiver));
            }
        }
        if let Some(data_id) = new.yield_data_id {
            chain.yields.insert(
                data_id,
                PendingYield {
                    account_id: new.receiver_id.clone(),
                    origin_tx: receipt.origin_tx,
                    expires_at_height: block.height + chain.config.yield_timeout_blocks,
                },
            );
        }
    }
    for (data_id, payload) in std::mem::take(&mut work.resumes) {
        if let Some(pending) = chain.yields.remove(&data_id) {
            out.push(Receipt {
                id: derive_id(&data_id, receipt.id.0[0] as u64),
                predecessor_id: id.clone(),
                receiver_id: pending.account_id,
                origin_tx: pending.origin_tx,
                kind: ReceiptKind::Data {
                    data_id,
                    data: Some(payload),
                    is_promise_resume: true,
                },
            });
        }
    }

    let status = match work.returned.take() {
        Some(ReturnData::ReceiptIndex(index)) => {
            // The promise returned answers whoever waits for this receipt.
            let target = &mut created[index as usize];
            if let ReceiptKind::Action(a) = &mut target.kind {
                a.output_data_receivers
                    .extend(action.output_data_receivers.iter().cloned());
            }
            ExecutionStatusView::SuccessReceiptId(target.id)
        }
        Some(ReturnData::Value(value)) => {
            send_result(receipt, action, Some(value.clone()), out);
            ExecutionStatusView::SuccessValue(value)
        }
        Some(ReturnData::None) | None => {
            send_result(receipt, action, Some(vec![]), out);
            ExecutionStatusView::SuccessValue(vec![])
        }
    };
    out.splice(0..0, created);
    status
}

fn send_result(
    receipt: &Receipt,
    action: &ActionReceipt,
    data: Option<Vec<u8>>,
    out: &mut Vec<Receipt>,
) {
    for (index, (data_id, receiver)) in action.output_data_receivers.iter().enumerate() {
        out.push(data_receipt(
            receipt,
            index,
            *data_id,
            receiver,
            data.clone(),
        ));
    }
}

fn apply_action(
    chain: &Chain,
    receipt: &Receipt,
    action: &Action,
    site: &CallSite<'_>,
    promise_results: &[PromiseResult],
    work: &mut WorkingCopy,
) -> Result<(), ActionErrorKind> {
    let account_id = &receipt.receiver_id;
    let actor_is_owner = receipt.predecessor_id == *account_id || work.created;
    let not_owner = || ActionErrorKind::ActorNoPermission {
        account_id: account_id.clone(),
        actor_id: receipt.predecessor_id.clone(),
    };
    if let Action::CreateAccount(_) = action {
        if work.account.is_some() {
            return Err(ActionErrorKind::AccountAlreadyExists {
                account_id: account_id.clone(),
            });
        }
        if !account_id.is_sub_account_of(&receipt.predecessor_id) {
            return Err(ActionErrorKind::CreateAccountNotAllowed {
                account_id: account_id.clone(),
                predecessor_id: receipt.predecessor_id.clone(),
            });
        }
        work.account = Some(Account::new(0));
        work.created = true;
        return Ok(());
    }
    let Some(account) = work.account.as_mut() else {
        return Err(ActionErrorKind::AccountDoesNotExist {
            account_id: account_id.clone(),
        });
    };
    match action {
        Action::Transfer(t) => {
            account.amount += t.deposit.as_yoctonear();
            // A gas refund gives a function-call key its allowance back
            // (nearcore's `try_refund_allowance`, runtime/runtime/src/actions.rs).
            if let ReceiptKind::Action(a) = &receipt.kind
                && receipt.predecessor_id == system_account()
                && a.signer_id == *account_id
                && let Some(key) = work.keys.get_mut(&a.signer_public_key)
                && let AccessKeyPermission::FunctionCall(p) = &mut key.permission
                && let Some(allowance) = &mut p.allowance
            {
                *allowance = allowance.saturating_add(t.deposit);
            }
        }
        Action::DeployContract(d) => {
            if !actor_is_owner {
                return Err(not_owner());
            }
            let code = Arc::new(ContractCode::new(d.code.clone(), None));
            let old = work.code.as_ref().map_or(0, |c| c.code().len() as u64);
            account.storage_usage = account.storage_usage + code.code().len() as u64 - old;
            account.code_hash = Some(*code.hash());
            work.code = Some(code);
        }
        Action::AddKey(add) => {
            if !actor_is_owner {
                return Err(not_owner());
            }
            if work.keys.contains_key(&add.public_key) {
                return Err(ActionErrorKind::AddKeyAlreadyExists {
                    account_id: account_id.clone(),
                    public_key: Box::new(add.public_key.clone()),
                });
            }
            // nearcore starts a new key's nonce at the block height range.
            let mut key = add.access_key.clone();
            key.nonce = (site.block.height - 1) * crate::transaction::NONCE_RANGE_MULTIPLIER;
            account.storage_usage += access_key_bytes(&add.public_key, &key);
            work.keys.insert(add.public_key.clone(), key);
        }
        Action::DeleteKey(delete) => {
            if !actor_is_owner {
                return Err(not_owner());
            }
            let Some(key) = work.keys.remove(&delete.public_key) else {
                return Err(ActionErrorKind::DeleteKeyDoesNotExist {
                    account_id: account_id.clone(),
                    public_key: Box::new(delete.public_key.clone()),
                });
            };
            account.storage_usage -= access_key_bytes(&delete.public_key, &key);
        }
        Action::DeleteAccount(delete) => {
            if !actor_is_owner {
                return Err(not_owner());
            }
            work.deleted_to = Some(delete.beneficiary_id.clone());
        }
        Action::FunctionCall(call) => {
            // The VM credits the attached deposit to the balance itself.
            return crate::vm::function_call(chain, receipt, call, site, promise_results, work);
        }
        other => {
            return Err(ActionErrorKind::FunctionCallError(
                FunctionCallError::ExecutionError(format!(
                    "{other:?} is not supported by the local chain"
                )),
            ));
        }
    }
    Ok(())
}
