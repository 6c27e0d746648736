//! The fee rules of the protocol the chain reports (88), one test each, with
//! exact yoctoNEAR amounts computed here from the runtime config's values:
//! the minimum gas purchase price, the refund of the price difference, the
//! account creation charge, the gas refund penalty and the burnt-gas reward.
//! Where protocol 88 sets a rule to zero (the penalty, the reward), a second
//! chain with nonzero values shows the rule is applied, not skipped.

use std::sync::Arc;

use near_crypto::{KeyType, SecretKey};
use near_parameters::ActionCosts;
use near_primitives::account::{AccessKey, AccessKeyPermission, FunctionCallPermission};
use near_primitives::action::{
    Action, AddKeyAction, CreateAccountAction, DeployContractAction, FunctionCallAction,
    TransferAction,
};
use near_primitives::errors::{InvalidAccessKeyError, InvalidTxError};
use near_primitives::hash::CryptoHash;
use near_primitives::num_rational::Rational32;
use near_primitives::types::{AccountId, Balance, Gas};
use near_primitives::version::PROTOCOL_VERSION;
use outlayer_devchain::receipt::ReceiptKind;
use outlayer_devchain::server::sign;
use outlayer_devchain::{
    Chain, ChainConfig, FinalStatus, GAS_PRICE, Genesis, GenesisAccounts, ONE_NEAR,
};

const TGAS: u64 = 1_000_000_000_000;
/// `min_gas_purchase_price` of protocol 85 and later (85.yaml).
const PURCHASE_PRICE: u128 = 1_000_000_000;

/// `noop` does nothing; `burn` loops a while, so its call burns more.
const CONTRACT: &str = r#"(module
  (func (export "noop"))
  (func (export "burn") (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 10000))))))"#;

struct Fees {
    chain: Chain,
    genesis: Genesis,
}

fn alice() -> AccountId {
    "alice.test.near".parse().unwrap()
}

fn contract() -> AccountId {
    "fees.alice.test.near".parse().unwrap()
}

fn call(method: &str, tgas: u64) -> Action {
    Action::FunctionCall(Box::new(FunctionCallAction {
        method_name: method.into(),
        args: vec![],
        gas: Gas::from_gas(tgas * TGAS),
        deposit: Balance::ZERO,
    }))
}

fn transfer(amount: u128) -> Action {
    Action::Transfer(TransferAction {
        deposit: Balance::from_yoctonear(amount),
    })
}

impl Fees {
    /// A chain with the WAT contract on `fees.alice.test.near`, after
    /// `adjust` changed its runtime config.
    fn start(adjust: impl FnOnce(&mut near_parameters::RuntimeConfig)) -> Self {
        let genesis = Genesis::new(GenesisAccounts::default(), None);
        let mut chain = Chain::new(ChainConfig::default(), genesis.state.clone());
        adjust(&mut chain.runtime);
        let mut fees = Self { chain, genesis };
        let hash = fees.submit(
            &alice(),
            &contract(),
            vec![
                Action::CreateAccount(CreateAccountAction {}),
                transfer(5 * ONE_NEAR),
                Action::DeployContract(DeployContractAction {
                    code: wat::parse_str(CONTRACT).unwrap(),
                }),
            ],
        );
        assert_eq!(fees.settle(&hash), FinalStatus::Success(vec![]));
        fees
    }

    fn key(&self, id: &AccountId) -> SecretKey {
        self.genesis.key(id).unwrap().clone()
    }

    fn submit(
        &mut self,
        signer: &AccountId,
        receiver: &AccountId,
        actions: Vec<Action>,
    ) -> CryptoHash {
        let key = self.key(signer);
        let tx = sign(&self.chain, signer, &key, receiver, actions);
        self.chain.submit(tx).expect("the transaction is valid")
    }

    fn settle(&mut self, hash: &CryptoHash) -> FinalStatus {
        for _ in 0..10 {
            self.chain.produce_block();
            if self.chain.is_settled(hash) {
                return self.chain.final_status(hash).unwrap();
            }
        }
        panic!("{hash} did not settle");
    }

    fn balance(&self, id: &AccountId) -> u128 {
        self.chain.state.account(id).unwrap().amount
    }

    /// The send (not sender-is-receiver) and execution gas of a fee.
    fn fee(&self, cost: ActionCosts) -> (u128, u128) {
        let fee = self.chain.runtime.fees.fee(cost);
        (
            u128::from(fee.send_not_sir.gas().as_gas()),
            u128::from(fee.execution.gas().as_gas()),
        )
    }

    /// Send and execution gas of a receipt with one argument-less call.
    fn call_fees(&self, method: &str) -> (u128, u128) {
        let (receipt_send, receipt_exec) = self.fee(ActionCosts::new_action_receipt);
        let (base_send, base_exec) = self.fee(ActionCosts::function_call_base);
        let (byte_send, byte_exec) = self.fee(ActionCosts::function_call_byte);
        let bytes = method.len() as u128;
        (
            receipt_send + base_send + byte_send * bytes,
            receipt_exec + base_exec + byte_exec * bytes,
        )
    }

    /// The first receipt of a transaction: its gas burnt and tokens burnt.
    fn first_receipt(&self, tx: &CryptoHash) -> (u128, u128) {
        let first = self.chain.transactions[tx]
            .outcome
            .as_ref()
            .unwrap()
            .receipt_ids[0];
        let outcome = &self.chain.outcomes[&first];
        (u128::from(outcome.gas_burnt), outcome.tokens_burnt)
    }

    /// Transfers from `system` to `to` in the transaction's tree: the refunds.
    fn refunds_to(&self, tx: &CryptoHash, to: &AccountId) -> Vec<u128> {
        self.chain.transactions[tx]
            .receipts
            .iter()
            .map(|id| &self.chain.receipts[id])
            .filter(|r| r.predecessor_id.as_str() == "system" && &r.receiver_id == to)
            .filter_map(|r| match &r.kind {
                ReceiptKind::Action(a) => match a.actions.as_slice() {
                    [Action::Transfer(t)] => Some(t.deposit.as_yoctonear()),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }
}

#[test]
fn protocol_88_has_these_fee_parameters() {
    let chain = Chain::new(
        ChainConfig::default(),
        Genesis::new(GenesisAccounts::default(), None).state,
    );
    assert_eq!(PROTOCOL_VERSION, 88);
    let config = &chain.runtime;
    assert_eq!(config.min_gas_purchase_price.as_yoctonear(), PURCHASE_PRICE);
    assert_eq!(
        config.account_creation_charge.as_yoctonear(),
        7 * ONE_NEAR / 1000
    );
    assert_eq!(config.fees.gas_refund_penalty, Rational32::new(0, 100));
    assert_eq!(config.fees.min_gas_refund_penalty, Gas::ZERO);
    assert_eq!(config.fees.burnt_gas_reward, Rational32::new(0, 1));
    assert_eq!(
        config.fees.pessimistic_gas_price_inflation_ratio,
        Rational32::new(1, 1)
    );
    assert_eq!(GAS_PRICE, 100_000_000, "nearcore's genesis min_gas_price");
}

/// `tx_cost`: the send fees at the gas price, the receipt's gas (execution
/// fees and attached gas) at `max(gas price, min_gas_purchase_price)`.
#[test]
fn attached_gas_is_bought_at_the_minimum_purchase_price() {
    let mut fees = Fees::start(|_| {});
    let (send, exec) = fees.call_fees("noop");
    let cost = |tgas: u64| send * GAS_PRICE + (exec + u128::from(tgas * TGAS)) * PURCHASE_PRICE;
    // 300 Tgas needs 0.3 NEAR and more, not the 0.03 NEAR of 300 Tgas at the gas price.
    assert!(cost(300) > 3 * ONE_NEAR / 10);

    // An account holding 0.2 NEAR cannot attach 300 Tgas.
    let poor: AccountId = "poor.alice.test.near".parse().unwrap();
    let poor_key = SecretKey::from_random(KeyType::ED25519);
    let hash = fees.submit(
        &alice(),
        &poor,
        vec![
            Action::CreateAccount(CreateAccountAction {}),
            transfer(2 * ONE_NEAR / 10),
            Action::AddKey(Box::new(AddKeyAction {
                public_key: poor_key.public_key(),
                access_key: AccessKey::full_access(),
            })),
        ],
    );
    assert_eq!(fees.settle(&hash), FinalStatus::Success(vec![]));
    let tx = sign(
        &fees.chain,
        &poor,
        &poor_key,
        &contract(),
        vec![call("noop", 300)],
    );
    assert_eq!(
        fees.chain.submit(tx),
        Err(InvalidTxError::NotEnoughBalance {
            signer_id: poor.clone(),
            balance: Balance::from_yoctonear(2 * ONE_NEAR / 10),
            cost: Balance::from_yoctonear(cost(300)),
        })
    );

    // 150 Tgas fits; the account is charged the purchase up front...
    let tx = sign(
        &fees.chain,
        &poor,
        &poor_key,
        &contract(),
        vec![call("noop", 150)],
    );
    let hash = fees.chain.submit(tx).unwrap();
    assert_eq!(fees.balance(&poor), 2 * ONE_NEAR / 10 - cost(150));
    // ...and the receipt carries the purchase price.
    let first = fees.chain.transactions[&hash]
        .outcome
        .as_ref()
        .unwrap()
        .receipt_ids[0];
    fees.chain.produce_block();
    match &fees.chain.receipts[&first].kind {
        ReceiptKind::Action(a) => assert_eq!(a.gas_price, PURCHASE_PRICE),
        other => panic!("{other:?}"),
    }
    assert_eq!(fees.settle(&hash), FinalStatus::Success(vec![]));
    // In the end it paid for what was burnt, at the gas price.
    let (gas_burnt, _) = fees.first_receipt(&hash);
    assert_eq!(
        2 * ONE_NEAR / 10 - fees.balance(&poor),
        send * GAS_PRICE + gas_burnt * GAS_PRICE
    );
}

/// A function-call key's allowance must cover the purchase too (near-cli's
/// default allowance of 0.25 NEAR does not cover 300 Tgas), and a gas refund
/// gives the allowance back (`try_refund_allowance`).
#[test]
fn an_allowance_pays_the_purchase_and_gets_the_refund_back() {
    let mut fees = Fees::start(|_| {});
    let allowance = ONE_NEAR / 4;
    let limited = SecretKey::from_random(KeyType::ED25519);
    let hash = fees.submit(
        &alice(),
        &alice(),
        vec![Action::AddKey(Box::new(AddKeyAction {
            public_key: limited.public_key(),
            access_key: AccessKey {
                nonce: 0,
                permission: AccessKeyPermission::FunctionCall(FunctionCallPermission {
                    allowance: Some(Balance::from_yoctonear(allowance)),
                    receiver_id: contract().to_string(),
                    method_names: vec![],
                }),
            },
        }))],
    );
    assert_eq!(fees.settle(&hash), FinalStatus::Success(vec![]));
    let (send, exec) = fees.call_fees("noop");
    let cost = |tgas: u64| send * GAS_PRICE + (exec + u128::from(tgas * TGAS)) * PURCHASE_PRICE;

    let tx = sign(
        &fees.chain,
        &alice(),
        &limited,
        &contract(),
        vec![call("noop", 300)],
    );
    assert_eq!(
        fees.chain.submit(tx),
        Err(InvalidTxError::InvalidAccessKeyError(
            InvalidAccessKeyError::NotEnoughAllowance {
                account_id: alice(),
                public_key: Box::new(limited.public_key()),
                allowance: Balance::from_yoctonear(allowance),
                cost: Balance::from_yoctonear(cost(300)),
            }
        ))
    );

    let tx = sign(
        &fees.chain,
        &alice(),
        &limited,
        &contract(),
        vec![call("noop", 200)],
    );
    let hash = fees.chain.submit(tx).unwrap();
    assert_eq!(fees.settle(&hash), FinalStatus::Success(vec![]));
    let (gas_burnt, _) = fees.first_receipt(&hash);
    let key = fees
        .chain
        .state
        .access_key(&alice(), &limited.public_key())
        .unwrap();
    let AccessKeyPermission::FunctionCall(p) = &key.permission else {
        unreachable!()
    };
    assert_eq!(
        p.allowance.unwrap().as_yoctonear(),
        allowance - send * GAS_PRICE - gas_burnt * GAS_PRICE,
        "the allowance is down by what was burnt only"
    );
}

/// `refund_unspent_gas_and_deposits`: unused gas back at the purchase
/// price, and the gas burnt back at the difference between the purchase and
/// the burn price (`price_surplus`).
#[test]
fn unused_gas_and_the_price_difference_come_back() {
    let mut fees = Fees::start(|_| {});
    let (send, exec) = fees.call_fees("burn");
    let before = fees.balance(&alice());
    let hash = fees.submit(&alice(), &contract(), vec![call("burn", 100)]);
    assert_eq!(fees.settle(&hash), FinalStatus::Success(vec![]));
    let tx_outcome = fees.chain.transactions[&hash].outcome.clone().unwrap();
    assert_eq!(u128::from(tx_outcome.gas_burnt), send);
    assert_eq!(tx_outcome.tokens_burnt, send * GAS_PRICE);

    let (gas_burnt, tokens_burnt) = fees.first_receipt(&hash);
    assert!(gas_burnt > exec, "the call burnt gas in the VM");
    assert_eq!(
        tokens_burnt,
        gas_burnt * GAS_PRICE,
        "burnt at the gas price"
    );
    let unused = exec + u128::from(100 * TGAS) - gas_burnt;
    assert_eq!(
        fees.refunds_to(&hash, &alice()),
        vec![unused * PURCHASE_PRICE + (PURCHASE_PRICE - GAS_PRICE) * gas_burnt]
    );
    assert_eq!(
        before - fees.balance(&alice()),
        (send + gas_burnt) * GAS_PRICE
    );
    // The refund's own outcome counts its execution fees as gas, burning nothing.
    let refund = *fees.chain.transactions[&hash].receipts.last().unwrap();
    let refund = &fees.chain.outcomes[&refund];
    assert_eq!(refund.executor_id, alice());
    assert_eq!(
        u128::from(refund.gas_burnt),
        fees.fee(ActionCosts::new_action_receipt).1 + fees.fee(ActionCosts::transfer).1
    );
    assert_eq!(refund.tokens_burnt, 0);
}

/// NEP-536's refund penalty: 0 % and 0 gas at protocol 88, so the previous
/// test's refund is whole; with the values NEP-536 plans (5 %, at least
/// 1 Tgas) the penalty is taken from the refund at the burn price and burnt.
#[test]
fn the_gas_refund_penalty_is_taken_from_the_refund() {
    let mut fees = Fees::start(|config| {
        let mut table = (*config.fees).clone();
        table.gas_refund_penalty = Rational32::new(5, 100);
        table.min_gas_refund_penalty = Gas::from_gas(TGAS);
        config.fees = Arc::new(table);
    });
    let (send, exec) = fees.call_fees("noop");
    let before = fees.balance(&alice());
    let hash = fees.submit(&alice(), &contract(), vec![call("noop", 100)]);
    assert_eq!(fees.settle(&hash), FinalStatus::Success(vec![]));
    let (gas_burnt, tokens_burnt) = fees.first_receipt(&hash);
    let unused = exec + u128::from(100 * TGAS) - gas_burnt;
    let penalty_gas = (unused * 5 / 100).max(u128::from(TGAS));
    assert_eq!(
        penalty_gas,
        unused * 5 / 100,
        "5 % of ~100 Tgas is above 1 Tgas"
    );
    assert_eq!(tokens_burnt, (gas_burnt + penalty_gas) * GAS_PRICE);
    assert_eq!(
        fees.refunds_to(&hash, &alice()),
        vec![
            unused * PURCHASE_PRICE - penalty_gas * GAS_PRICE
                + (PURCHASE_PRICE - GAS_PRICE) * gas_burnt
        ]
    );
    assert_eq!(
        before - fees.balance(&alice()),
        (send + gas_burnt + penalty_gas) * GAS_PRICE
    );

    // A small refund pays the 1 Tgas minimum: 5 % of 2 Tgas is less.
    let before = fees.balance(&alice());
    let hash = fees.submit(&alice(), &contract(), vec![call("noop", 2)]);
    assert_eq!(fees.settle(&hash), FinalStatus::Success(vec![]));
    let (gas_burnt, _) = fees.first_receipt(&hash);
    let unused = exec + u128::from(2 * TGAS) - gas_burnt;
    assert!(unused * 5 / 100 < u128::from(TGAS) && unused > u128::from(TGAS));
    assert_eq!(
        before - fees.balance(&alice()),
        (send + gas_burnt + u128::from(TGAS)) * GAS_PRICE
    );
}

/// `account_creation_charge` (0.007 NEAR since protocol 85): a receipt that
/// creates an account keeps, out of the price difference it would refund,
/// the charge less what the `create_account` execution fee already burnt.
#[test]
fn creating_an_account_costs_the_account_creation_charge() {
    let mut fees = Fees::start(|_| {});
    let new: AccountId = "new.alice.test.near".parse().unwrap();
    let key = SecretKey::from_random(KeyType::ED25519);
    let costs = [
        ActionCosts::new_action_receipt,
        ActionCosts::create_account,
        ActionCosts::transfer,
        ActionCosts::add_full_access_key,
    ];
    let send: u128 = costs.iter().map(|c| fees.fee(*c).0).sum();
    let exec: u128 = costs.iter().map(|c| fees.fee(*c).1).sum();
    let (_, create_exec) = fees.fee(ActionCosts::create_account);
    let charge = 7 * ONE_NEAR / 1000 - create_exec * GAS_PRICE;

    let before = fees.balance(&alice());
    let hash = fees.submit(
        &alice(),
        &new,
        vec![
            Action::CreateAccount(CreateAccountAction {}),
            transfer(ONE_NEAR),
            Action::AddKey(Box::new(AddKeyAction {
                public_key: key.public_key(),
                access_key: AccessKey::full_access(),
            })),
        ],
    );
    assert_eq!(fees.settle(&hash), FinalStatus::Success(vec![]));
    let (gas_burnt, tokens_burnt) = fees.first_receipt(&hash);
    assert_eq!(gas_burnt, exec);
    assert_eq!(tokens_burnt, exec * GAS_PRICE + charge);
    assert_eq!(
        fees.refunds_to(&hash, &alice()),
        vec![(PURCHASE_PRICE - GAS_PRICE) * exec - charge]
    );
    assert_eq!(
        before - fees.balance(&alice()),
        ONE_NEAR + (send + exec) * GAS_PRICE + charge
    );
    assert_eq!(
        (send + exec) * GAS_PRICE + charge,
        send * GAS_PRICE + 7 * ONE_NEAR / 1000 + (exec - create_exec) * GAS_PRICE,
        "0.007 NEAR for the account itself"
    );

    // A receipt that creates nothing pays no charge.
    let before = fees.balance(&alice());
    let hash = fees.submit(&alice(), &new, vec![transfer(1)]);
    assert_eq!(fees.settle(&hash), FinalStatus::Success(vec![]));
    let (send, exec) = (
        fees.fee(ActionCosts::new_action_receipt).0 + fees.fee(ActionCosts::transfer).0,
        fees.fee(ActionCosts::new_action_receipt).1 + fees.fee(ActionCosts::transfer).1,
    );
    assert_eq!(
        before - fees.balance(&alice()),
        1 + (send + exec) * GAS_PRICE
    );
}

/// The burnt-gas reward: 0/1 since protocol 87, so the contract gets
/// nothing; at the 3/10 of earlier protocols it gets 30 % of the gas its
/// call burnt in the VM, at the burn price, out of what was burnt.
#[test]
fn the_contract_gets_its_share_of_burnt_gas() {
    let mut fees = Fees::start(|_| {});
    let before = fees.balance(&contract());
    let hash = fees.submit(&alice(), &contract(), vec![call("burn", 100)]);
    assert_eq!(fees.settle(&hash), FinalStatus::Success(vec![]));
    assert_eq!(
        fees.balance(&contract()),
        before,
        "no reward at protocol 88"
    );

    let mut fees = Fees::start(|config| {
        let mut table = (*config.fees).clone();
        table.burnt_gas_reward = Rational32::new(3, 10);
        config.fees = Arc::new(table);
    });
    let (_, exec) = fees.call_fees("burn");
    let before = fees.balance(&contract());
    let burnt_before = fees.chain.total_burnt;
    let hash = fees.submit(&alice(), &contract(), vec![call("burn", 100)]);
    assert_eq!(fees.settle(&hash), FinalStatus::Success(vec![]));
    let (gas_burnt, tokens_burnt) = fees.first_receipt(&hash);
    let vm_gas = gas_burnt - exec;
    let reward = vm_gas * 3 / 10 * GAS_PRICE;
    assert_eq!(fees.balance(&contract()) - before, reward);
    assert_eq!(
        tokens_burnt,
        gas_burnt * GAS_PRICE,
        "the outcome reports it burnt"
    );
    let (send, _) = fees.call_fees("burn");
    assert_eq!(
        fees.chain.total_burnt - burnt_before,
        (send + gas_burnt) * GAS_PRICE - reward,
        "but it is not destroyed"
    );
}
