//! The owner's controls and the role checks. Every owner call needs exactly
//! 1 yoctoNEAR attached: function-call access keys cannot attach deposits,
//! so only a full-access key of the owner can make these calls.

use near_sdk::{AccountId, NearToken, Promise, assert_one_yocto, env, near};
use outlayer_types::U128;

use crate::{Contract, ContractExt};

#[near]
impl Contract {
    #[payable]
    pub fn set_owner(&mut self, owner_id: AccountId) {
        self.assert_owner();
        self.owner_id = owner_id;
    }

    #[payable]
    pub fn set_operator(&mut self, operator_id: AccountId) {
        self.assert_owner();
        self.operator_id = operator_id;
    }

    /// Paused: `request_execution` is refused; pending requests still settle.
    #[payable]
    pub fn set_paused(&mut self, paused: bool) {
        self.assert_owner();
        self.paused = paused;
    }

    /// Sends collected fees (charged amounts not yet withdrawn) to
    /// `receiver_id`, the owner by default. Payments of pending requests and
    /// storage deposits are never withdrawable.
    #[payable]
    pub fn withdraw_fees(&mut self, amount: U128, receiver_id: Option<AccountId>) {
        self.assert_owner();
        let available = self.stats.withdrawable_fees();
        if amount.0 > available {
            env::panic_str(&format!(
                "only {available} yoctoNEAR of fees can be withdrawn"
            ));
        }
        if amount.0 == 0 {
            return;
        }
        self.stats.fees_withdrawn += amount.0;
        let receiver_id = receiver_id.unwrap_or_else(|| self.owner_id.clone());
        Promise::new(receiver_id.clone())
            .transfer(NearToken::from_yoctonear(amount.0))
            .then(
                Self::ext(env::current_account_id())
                    .with_static_gas(crate::refunds::TRANSFER_CALLBACK_GAS)
                    .on_fee_withdrawal(receiver_id, amount),
            )
            .detach();
    }
}

impl Contract {
    pub(crate) fn assert_owner(&self) {
        assert_one_yocto();
        if env::predecessor_account_id() != self.owner_id {
            env::panic_str("only the owner can do this");
        }
    }

    pub(crate) fn assert_operator(&self) {
        if env::predecessor_account_id() != self.operator_id {
            env::panic_str("only the operator can do this");
        }
    }
}
