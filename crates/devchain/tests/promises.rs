//! Promise chains between contracts (not only yields): a callback receives
//! its dependency's value or failure, a returned promise's value becomes the
//! transaction's, and a failed call's deposit comes back. The contract is a
//! few lines of WAT against nearcore's host functions.

mod common;

use common::{Local, TGAS};
use near_primitives::action::{
    Action, CreateAccountAction, DeployContractAction, FunctionCallAction, TransferAction,
};
use near_primitives::types::{AccountId, Balance, Gas};
use outlayer_devchain::server::sign;
use outlayer_devchain::{FinalStatus, ONE_NEAR};

/// `ping` returns "pong"; `fail` panics; `ping_then` / `fail_then` call
/// `ping` / `fail` on this account with `callback` chained after it and
/// return that promise; `callback` returns its dependency's value, or
/// "failed".
const RELAY: &str = r#"(module
  (import "env" "promise_create" (func $promise_create (param i64 i64 i64 i64 i64 i64 i64 i64) (result i64)))
  (import "env" "promise_then" (func $promise_then (param i64 i64 i64 i64 i64 i64 i64 i64 i64) (result i64)))
  (import "env" "promise_return" (func $promise_return (param i64)))
  (import "env" "promise_result" (func $promise_result (param i64 i64) (result i64)))
  (import "env" "register_len" (func $register_len (param i64) (result i64)))
  (import "env" "read_register" (func $read_register (param i64 i64)))
  (import "env" "value_return" (func $value_return (param i64 i64)))
  (import "env" "panic_utf8" (func $panic_utf8 (param i64 i64)))
  (memory 1)
  (data (i32.const 0) "relay.alice.test.near")
  (data (i32.const 32) "ping")
  (data (i32.const 40) "fail")
  (data (i32.const 48) "callback")
  (data (i32.const 64) "pong")
  (data (i32.const 72) "failed")
  (data (i32.const 80) "asked to fail")
  ;; 16 zero bytes at 96: a zero deposit.
  (func $chain (param $method i64)
    (call $promise_return
      (call $promise_then
        (call $promise_create (i64.const 21) (i64.const 0) (i64.const 4) (local.get $method)
          (i64.const 0) (i64.const 0) (i64.const 96) (i64.const 20000000000000))
        (i64.const 21) (i64.const 0) (i64.const 8) (i64.const 48)
        (i64.const 0) (i64.const 0) (i64.const 96) (i64.const 20000000000000))))
  (func (export "ping") (call $value_return (i64.const 4) (i64.const 64)))
  (func (export "fail") (call $panic_utf8 (i64.const 13) (i64.const 80)))
  (func (export "ping_then") (call $chain (i64.const 32)))
  (func (export "fail_then") (call $chain (i64.const 40)))
  (func (export "callback")
    (if (i64.eq (call $promise_result (i64.const 0) (i64.const 0)) (i64.const 1))
      (then
        (call $read_register (i64.const 0) (i64.const 256))
        (call $value_return (call $register_len (i64.const 0)) (i64.const 256)))
      (else (call $value_return (i64.const 6) (i64.const 72))))))"#;

fn call(method: &str, deposit: u128) -> Action {
    Action::FunctionCall(Box::new(FunctionCallAction {
        method_name: method.into(),
        args: vec![],
        gas: Gas::from_gas(100 * TGAS),
        deposit: Balance::from_yoctonear(deposit),
    }))
}

fn relay() -> AccountId {
    "relay.alice.test.near".parse().unwrap()
}

fn deploy(local: &mut Local) {
    let alice = Local::id("alice");
    let key = local.genesis.key(&alice).unwrap().clone();
    let actions = vec![
        Action::CreateAccount(CreateAccountAction {}),
        Action::Transfer(TransferAction {
            deposit: Balance::from_yoctonear(5 * ONE_NEAR),
        }),
        Action::DeployContract(DeployContractAction {
            code: wat::parse_str(RELAY).unwrap(),
        }),
    ];
    let tx = sign(&local.chain, &alice, &key, &relay(), actions);
    let hash = local.chain.submit(tx).unwrap();
    assert_eq!(local.settle(&hash), FinalStatus::Success(vec![]));
}

fn run(
    local: &mut Local,
    method: &str,
    deposit: u128,
) -> (FinalStatus, near_primitives::hash::CryptoHash) {
    let bob = Local::id("bob");
    let key = local.genesis.key(&bob).unwrap().clone();
    let tx = sign(
        &local.chain,
        &bob,
        &key,
        &relay(),
        vec![call(method, deposit)],
    );
    let hash = local.chain.submit(tx).unwrap();
    (local.settle(&hash), hash)
}

#[test]
fn a_callback_gets_its_dependencys_value_or_failure() {
    let Some(mut local) = Local::start() else {
        return;
    };
    deploy(&mut local);
    assert_eq!(
        run(&mut local, "ping", 0).0,
        FinalStatus::Success(b"pong".to_vec())
    );
    // The returned promise's value is the transaction's value.
    assert_eq!(
        run(&mut local, "ping_then", 0).0,
        FinalStatus::Success(b"pong".to_vec())
    );
    let (status, hash) = run(&mut local, "fail_then", 0);
    assert_eq!(status, FinalStatus::Success(b"failed".to_vec()));
    // The chain ran three receipts: fail_then, fail (failed), callback.
    let failed = local.chain.transactions[&hash]
        .receipts
        .iter()
        .filter(|id| {
            matches!(
                local.chain.outcomes[*id].status,
                near_primitives::views::ExecutionStatusView::Failure(_)
            )
        })
        .count();
    assert_eq!(failed, 1);
}

#[test]
fn a_failed_call_returns_its_deposit() {
    let Some(mut local) = Local::start() else {
        return;
    };
    deploy(&mut local);
    let bob = Local::id("bob");
    let before = local.balance(&bob);
    let (status, hash) = run(&mut local, "fail", 3 * ONE_NEAR);
    let FinalStatus::Failure(error) = status else {
        panic!("{status:?}")
    };
    assert!(
        serde_json::to_string(&error)
            .unwrap()
            .contains("Smart contract panicked: asked to fail")
    );
    assert_eq!(before - local.balance(&bob), local.burnt(&hash));
}
