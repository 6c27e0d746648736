//! Money the contract sends: refunds, storage returns and fee withdrawals.
//! A transfer to an account that does not exist (or no longer does) fails
//! after the call that made it, and NEAR returns the money to the contract.
//! Each transfer is therefore followed by a callback, so no yoctoNEAR is
//! ever stranded: a refund goes to the account that paid instead, and
//! failing that is kept for its owner to take with `claim_refund`, counted
//! apart from fees so the owner can never withdraw it.

use near_sdk::{AccountId, Gas, NearToken, Promise, PromiseError, env, near, require};
use outlayer_types::{OutlayerEvent, RefundFailed, U128};

use crate::{Contract, ContractExt};

/// Gas for a transfer's callback that keeps the money if it came back.
pub const TRANSFER_CALLBACK_GAS: Gas = Gas::from_tgas(5);
/// Gas for one that may send it on first (a transfer and its own callback).
const FORWARDING_CALLBACK_GAS: Gas = Gas::from_tgas(12);

/// Whether the promise this callback follows succeeded.
fn transfer_succeeded() -> bool {
    // A transfer returns no data; asking for none still tells success
    // (`Ok` or `TooLong`) from failure.
    !matches!(env::promise_result_checked(0, 0), Err(PromiseError::Failed))
}

impl Contract {
    /// Sends `amount` to `to`; if that fails, to `fallback` (the account
    /// that paid), and failing that keeps it claimable by `to`. `counted`:
    /// the amount is in `total_refunded` and comes out of it if kept.
    pub(crate) fn refund(
        &mut self,
        to: AccountId,
        amount: u128,
        fallback: Option<AccountId>,
        counted: bool,
    ) {
        if amount == 0 {
            return;
        }
        let fallback = fallback.filter(|f| f != &to);
        let gas = if fallback.is_some() {
            FORWARDING_CALLBACK_GAS
        } else {
            TRANSFER_CALLBACK_GAS
        };
        Promise::new(to.clone())
            .transfer(NearToken::from_yoctonear(amount))
            .then(
                Self::ext(env::current_account_id())
                    .with_static_gas(gas)
                    .on_refund(to, U128(amount), fallback, counted),
            )
            .detach();
    }
}

#[near]
impl Contract {
    /// After a transfer: nothing to do if it arrived; else send it on to the
    /// fallback, or keep it for `to`.
    #[private]
    pub fn on_refund(
        &mut self,
        to: AccountId,
        amount: U128,
        fallback: Option<AccountId>,
        counted: bool,
    ) {
        if transfer_succeeded() {
            return;
        }
        emit(RefundFailed {
            account_id: to.clone(),
            amount,
            redirected_to: fallback.clone(),
        });
        match fallback {
            Some(payer) => self.refund(payer, amount.0, None, counted),
            None => {
                if counted {
                    self.stats.total_refunded -= amount.0;
                }
                let kept = self.unclaimed.get(&to).copied().unwrap_or(0) + amount.0;
                self.unclaimed.insert(to, kept);
                self.unclaimed_total += amount.0;
            }
        }
    }

    /// Sends the caller what was kept for it after a transfer to it failed.
    pub fn claim_refund(&mut self) -> U128 {
        let account = env::predecessor_account_id();
        let amount = self.unclaimed.remove(&account).unwrap_or(0);
        require!(amount > 0, "nothing is kept for this account");
        self.unclaimed_total -= amount;
        self.refund(account, amount, None, false);
        U128(amount)
    }

    /// What is kept for `account_id` after a transfer to it failed.
    pub fn get_unclaimed_refund(&self, account_id: AccountId) -> U128 {
        U128(self.unclaimed.get(&account_id).copied().unwrap_or(0))
    }

    /// After a fee withdrawal: if it did not arrive, the fees are
    /// withdrawable again.
    #[private]
    pub fn on_fee_withdrawal(&mut self, receiver_id: AccountId, amount: U128) {
        if transfer_succeeded() {
            return;
        }
        self.stats.fees_withdrawn -= amount.0;
        env::log_str(&format!(
            "fee withdrawal of {} yoctoNEAR to {receiver_id} failed; the fees are withdrawable again",
            amount.0
        ));
    }
}

fn emit(event: RefundFailed) {
    env::log_str(&OutlayerEvent::RefundFailed(vec![event]).to_log_line());
}
