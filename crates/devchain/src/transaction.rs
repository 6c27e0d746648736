//! Admission of signed transactions, with nearcore's checks in nearcore's
//! order and its error values: signature, signer, access key, nonce, block
//! hash, key permission, then cost against balance.

use near_parameters::{ActionCosts, RuntimeFeesConfig};
use near_primitives::account::AccessKeyPermission;
use near_primitives::action::Action;
use near_primitives::errors::{ActionsValidationError, InvalidAccessKeyError, InvalidTxError};
use near_primitives::transaction::SignedTransaction;
use near_primitives::types::{AccountId, Balance, Gas};
use near_primitives::version::PROTOCOL_VERSION;

use crate::state::State;

/// nearcore caps a new key's first nonce at `height * this`.
pub const NONCE_RANGE_MULTIPLIER: u64 = 1_000_000;
/// Blocks for which a transaction's `block_hash` stays valid (testnet's value).
pub const TRANSACTION_VALIDITY_BLOCKS: u64 = 86_400;

/// What a valid transaction costs its signer, as nearcore's `tx_cost`
/// (`runtime/runtime/src/config.rs`, `calculate_tx_cost`) splits it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxCost {
    /// Gas burnt turning the transaction into a receipt (the send fees).
    pub conversion_gas: u64,
    /// Gas prepaid for the receipt's execution fees.
    pub exec_gas: u64,
    /// Gas attached to function calls.
    pub prepaid_gas: u64,
    pub deposit: u128,
    /// The price at which the receipt's gas (`exec_gas + prepaid_gas`) is
    /// bought: `max(gas_price, min_gas_purchase_price)`. The receipt carries
    /// it as its `gas_price`; what is burnt at a lower price comes back.
    pub receipt_gas_price: u128,
    /// `conversion_gas` at the block's gas price, burnt at once.
    pub burnt: u128,
    /// `burnt` + the receipt's gas at `receipt_gas_price` + `deposit`: what
    /// the signer must have (and a function-call key's allowance cover).
    pub total: u128,
}

/// `(send, exec)` gas of one action, as nearcore's fee table sets them.
pub fn action_fees(fees: &RuntimeFeesConfig, action: &Action, sir: bool) -> (u64, u64) {
    let fee = |cost: ActionCosts, times: u64| {
        let f = fees.fee(cost);
        (
            f.send_fee(sir).gas.as_gas() * times,
            f.exec_fee().gas.as_gas() * times,
        )
    };
    let add = |(a, b): (u64, u64), (c, d): (u64, u64)| (a + c, b + d);
    match action {
        Action::CreateAccount(_) => fee(ActionCosts::create_account, 1),
        Action::DeployContract(a) => add(
            fee(ActionCosts::deploy_contract_base, 1),
            fee(ActionCosts::deploy_contract_byte, a.code.len() as u64),
        ),
        Action::FunctionCall(a) => add(
            fee(ActionCosts::function_call_base, 1),
            fee(
                ActionCosts::function_call_byte,
                (a.method_name.len() + a.args.len()) as u64,
            ),
        ),
        Action::Transfer(_) => fee(ActionCosts::transfer, 1),
        Action::Stake(_) => fee(ActionCosts::stake, 1),
        Action::AddKey(a) => match &a.access_key.permission {
            AccessKeyPermission::FunctionCall(p) => add(
                fee(ActionCosts::add_function_call_key_base, 1),
                fee(
                    ActionCosts::add_function_call_key_byte,
                    p.method_names.iter().map(|m| m.len() as u64 + 1).sum(),
                ),
            ),
            _ => fee(ActionCosts::add_full_access_key, 1),
        },
        Action::DeleteKey(_) => fee(ActionCosts::delete_key, 1),
        Action::DeleteAccount(_) => fee(ActionCosts::delete_account, 1),
        _ => (0, 0),
    }
}

/// The deposit an action moves with it.
pub fn action_deposit(action: &Action) -> u128 {
    match action {
        Action::FunctionCall(a) => a.deposit.as_yoctonear(),
        Action::Transfer(a) => a.deposit.as_yoctonear(),
        _ => 0,
    }
}

/// nearcore's `tx_cost`: the send fees are burnt at the block's gas price;
/// the gas the receipt will use (its execution fees and the gas attached to
/// calls) is bought at `max(gas_price, min_gas_purchase_price)` (NEP-536's
/// purchase price, 10⁹ yoctoNEAR per gas since protocol 85), so a call with
/// 300 Tgas attached needs 0.3 NEAR available even though, at a gas price of
/// 10⁸, only what it burns (at most 0.03 NEAR) is kept.
pub fn tx_cost(
    fees: &RuntimeFeesConfig,
    gas_price: u128,
    min_gas_purchase_price: u128,
    signer: &AccountId,
    receiver: &AccountId,
    actions: &[Action],
) -> TxCost {
    let sir = signer == receiver;
    let receipt = fees.fee(ActionCosts::new_action_receipt);
    let mut conversion_gas = receipt.send_fee(sir).gas.as_gas();
    let mut exec_gas = receipt.exec_fee().gas.as_gas();
    let mut prepaid_gas = 0;
    let mut deposit = 0;
    for action in actions {
        let (send, exec) = action_fees(fees, action, sir);
        conversion_gas += send;
        exec_gas += exec;
        if let Action::FunctionCall(call) = action {
            prepaid_gas += call.gas.as_gas();
        }
        deposit += action_deposit(action);
    }
    let receipt_gas_price = gas_price.max(min_gas_purchase_price);
    let burnt = u128::from(conversion_gas) * gas_price;
    let remaining = u128::from(exec_gas + prepaid_gas) * receipt_gas_price;
    TxCost {
        conversion_gas,
        exec_gas,
        prepaid_gas,
        deposit,
        receipt_gas_price,
        burnt,
        total: burnt + remaining + deposit,
    }
}

/// Actions the local chain refuses up front, as nearcore refuses features
/// its protocol version lacks.
fn validate_actions(actions: &[Action], max_prepaid_gas: u64) -> Result<(), InvalidTxError> {
    let mut total_gas: u64 = 0;
    for action in actions {
        match action {
            Action::CreateAccount(_)
            | Action::DeployContract(_)
            | Action::Transfer(_)
            | Action::AddKey(_)
            | Action::DeleteKey(_)
            | Action::DeleteAccount(_) => {}
            Action::FunctionCall(call) => {
                if call.gas.as_gas() == 0 {
                    return Err(InvalidTxError::ActionsValidation(
                        ActionsValidationError::FunctionCallZeroAttachedGas,
                    ));
                }
                total_gas = total_gas.saturating_add(call.gas.as_gas());
            }
            other => {
                let name = format!("{other:?}");
                let name = name.split(['(', ' ', '{']).next().unwrap_or("action");
                return Err(InvalidTxError::ActionsValidation(
                    ActionsValidationError::UnsupportedProtocolFeature {
                        protocol_feature: format!("{name} (not on the OutLayer local chain)"),
                        version: PROTOCOL_VERSION,
                    },
                ));
            }
        }
    }
    if total_gas > max_prepaid_gas {
        return Err(InvalidTxError::ActionsValidation(
            ActionsValidationError::TotalPrepaidGasExceeded {
                total_prepaid_gas: Gas::from_gas(total_gas),
                limit: Gas::from_gas(max_prepaid_gas),
            },
        ));
    }
    Ok(())
}

/// Everything needed to check a transaction against the chain's head.
pub struct Admission<'a> {
    pub state: &'a State,
    pub fees: &'a RuntimeFeesConfig,
    pub gas_price: u128,
    /// `min_gas_purchase_price` of the runtime config.
    pub min_gas_purchase_price: u128,
    pub max_prepaid_gas: u64,
    pub head_height: u64,
    /// Height of the block the transaction names, if the chain knows it.
    pub block_height: Option<u64>,
}

impl Admission<'_> {
    /// Checks a transaction; returns what it costs when nearcore would accept it.
    pub fn check(&self, signed: &SignedTransaction) -> Result<TxCost, InvalidTxError> {
        let tx = &signed.transaction;
        let (hash, _) = tx.get_hash_and_size();
        if !signed.signature.verify(hash.as_ref(), tx.public_key()) {
            return Err(InvalidTxError::InvalidSignature);
        }
        let signer_id = tx.signer_id();
        let Some(signer) = self.state.account(signer_id) else {
            return Err(InvalidTxError::SignerDoesNotExist {
                signer_id: signer_id.clone(),
            });
        };
        let Some(key) = self.state.access_key(signer_id, tx.public_key()) else {
            return Err(InvalidTxError::InvalidAccessKeyError(
                InvalidAccessKeyError::AccessKeyNotFound {
                    account_id: signer_id.clone(),
                    public_key: Box::new(tx.public_key().clone()),
                },
            ));
        };
        let tx_nonce = tx.nonce().nonce();
        if tx_nonce <= key.nonce {
            return Err(InvalidTxError::InvalidNonce {
                tx_nonce,
                ak_nonce: key.nonce,
            });
        }
        let upper_bound = (self.head_height + 1) * NONCE_RANGE_MULTIPLIER;
        if tx_nonce >= upper_bound {
            return Err(InvalidTxError::NonceTooLarge {
                tx_nonce,
                upper_bound,
            });
        }
        match self.block_height {
            Some(h) if self.head_height.saturating_sub(h) <= TRANSACTION_VALIDITY_BLOCKS => {}
            _ => return Err(InvalidTxError::Expired),
        }
        validate_actions(tx.actions(), self.max_prepaid_gas)?;
        let cost = tx_cost(
            self.fees,
            self.gas_price,
            self.min_gas_purchase_price,
            signer_id,
            tx.receiver_id(),
            tx.actions(),
        );
        if let AccessKeyPermission::FunctionCall(permission) = &key.permission {
            let [Action::FunctionCall(call)] = tx.actions() else {
                return Err(access(InvalidAccessKeyError::RequiresFullAccess));
            };
            if !call.deposit.is_zero() {
                return Err(access(InvalidAccessKeyError::DepositWithFunctionCall));
            }
            if tx.receiver_id().as_str() != permission.receiver_id {
                return Err(access(InvalidAccessKeyError::ReceiverMismatch {
                    tx_receiver: tx.receiver_id().clone(),
                    ak_receiver: permission.receiver_id.clone(),
                }));
            }
            if !permission.method_names.is_empty()
                && !permission.method_names.contains(&call.method_name)
            {
                return Err(access(InvalidAccessKeyError::MethodNameMismatch {
                    method_name: call.method_name.clone(),
                }));
            }
            if let Some(allowance) = permission.allowance
                && allowance.as_yoctonear() < cost.total
            {
                return Err(access(InvalidAccessKeyError::NotEnoughAllowance {
                    account_id: signer_id.clone(),
                    public_key: Box::new(tx.public_key().clone()),
                    allowance,
                    cost: Balance::from_yoctonear(cost.total),
                }));
            }
        }
        if signer.amount < cost.total {
            return Err(InvalidTxError::NotEnoughBalance {
                signer_id: signer_id.clone(),
                balance: Balance::from_yoctonear(signer.amount),
                cost: Balance::from_yoctonear(cost.total),
            });
        }
        let mut after = signer.clone();
        after.amount -= cost.total;
        if !after.covers_storage() {
            return Err(InvalidTxError::LackBalanceForState {
                signer_id: signer_id.clone(),
                amount: Balance::from_yoctonear(after.storage_cost() - after.locked),
            });
        }
        Ok(cost)
    }
}

fn access(error: InvalidAccessKeyError) -> InvalidTxError {
    InvalidTxError::InvalidAccessKeyError(error)
}
