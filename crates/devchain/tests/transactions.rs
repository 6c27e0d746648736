//! Transaction admission with nearcore's errors, and the plain actions:
//! accounts, keys, transfers, with exact balances.

mod common;

use common::{Local, TGAS};
use near_crypto::{KeyType, SecretKey};
use near_primitives::account::{AccessKey, AccessKeyPermission, FunctionCallPermission};
use near_primitives::action::{
    Action, AddKeyAction, CreateAccountAction, FunctionCallAction, TransferAction,
};
use near_primitives::errors::{
    ActionErrorKind, InvalidAccessKeyError, InvalidTxError, TxExecutionError,
};
use near_primitives::transaction::{SignedTransaction, Transaction};
use near_primitives::types::{AccountId, Balance, Gas};
use outlayer_devchain::server::sign;
use outlayer_devchain::state::{ACCOUNT_BYTES, STORAGE_PRICE_PER_BYTE};
use outlayer_devchain::{FinalStatus, ONE_NEAR};

fn transfer(amount: u128) -> Action {
    Action::Transfer(TransferAction {
        deposit: Balance::from_yoctonear(amount),
    })
}

fn call(method: &str, deposit: u128) -> Action {
    Action::FunctionCall(Box::new(FunctionCallAction {
        method_name: method.into(),
        args: b"{}".to_vec(),
        gas: Gas::from_gas(30 * TGAS),
        deposit: Balance::from_yoctonear(deposit),
    }))
}

fn key_of(local: &Local, name: &str) -> SecretKey {
    local.genesis.key(&Local::id(name)).unwrap().clone()
}

fn signed(
    local: &Local,
    signer: &str,
    key: &SecretKey,
    receiver: &AccountId,
    actions: Vec<Action>,
) -> SignedTransaction {
    sign(&local.chain, &Local::id(signer), key, receiver, actions)
}

#[test]
fn a_transfer_moves_exactly_the_amount() {
    let Some(mut local) = Local::start() else {
        return;
    };
    let (alice, bob) = (Local::id("alice"), Local::id("bob"));
    let (alice_before, bob_before) = (local.balance(&alice), local.balance(&bob));
    let tx = signed(
        &local,
        "alice",
        &key_of(&local, "alice"),
        &bob,
        vec![transfer(7 * ONE_NEAR)],
    );
    let hash = local.chain.submit(tx).unwrap();
    assert_eq!(local.settle(&hash), FinalStatus::Success(vec![]));
    assert_eq!(local.balance(&bob) - bob_before, 7 * ONE_NEAR);
    assert_eq!(
        alice_before - local.balance(&alice),
        7 * ONE_NEAR + local.burnt(&hash)
    );
    assert!(local.burnt(&hash) > 0, "transfers burn gas");
}

#[test]
fn bad_signature_reused_nonce_and_unknown_key_are_refused() {
    let Some(mut local) = Local::start() else {
        return;
    };
    let bob = Local::id("bob");
    let alice_key = key_of(&local, "alice");

    // Signed by bob's key while naming alice's.
    let mut forged = signed(&local, "alice", &alice_key, &bob, vec![transfer(1)]);
    let (hash, _) = forged.transaction.get_hash_and_size();
    forged.signature = key_of(&local, "bob").sign(hash.as_ref());
    let forged = SignedTransaction::new(forged.signature.clone(), forged.transaction.clone());
    assert_eq!(
        local.chain.submit(forged),
        Err(InvalidTxError::InvalidSignature)
    );

    let first = signed(&local, "alice", &alice_key, &bob, vec![transfer(1)]);
    let nonce = first.transaction.nonce().nonce();
    local.chain.submit(first).unwrap();
    let again = signed(&local, "alice", &alice_key, &bob, vec![transfer(2)]);
    assert_eq!(
        again.transaction.nonce().nonce(),
        nonce + 1,
        "sign() takes the next nonce"
    );
    let Transaction::V0(mut reused) = again.transaction.clone() else {
        unreachable!()
    };
    reused.nonce = nonce;
    let tx = Transaction::V0(reused);
    let (hash, _) = tx.get_hash_and_size();
    let reused = SignedTransaction::new(alice_key.sign(hash.as_ref()), tx);
    assert_eq!(
        local.chain.submit(reused),
        Err(InvalidTxError::InvalidNonce {
            tx_nonce: nonce,
            ak_nonce: nonce
        })
    );

    let stranger = SecretKey::from_random(KeyType::ED25519);
    let unknown = signed(&local, "alice", &stranger, &bob, vec![transfer(1)]);
    assert!(matches!(
        local.chain.submit(unknown),
        Err(InvalidTxError::InvalidAccessKeyError(
            InvalidAccessKeyError::AccessKeyNotFound { .. }
        ))
    ));
    let nobody = signed(&local, "nobody", &stranger, &bob, vec![transfer(1)]);
    assert_eq!(
        local.chain.submit(nobody),
        Err(InvalidTxError::SignerDoesNotExist {
            signer_id: Local::id("nobody")
        })
    );

    let Transaction::V0(mut stale) =
        signed(&local, "alice", &alice_key, &bob, vec![transfer(1)]).transaction
    else {
        unreachable!()
    };
    stale.block_hash = near_primitives::hash::CryptoHash::hash_bytes(b"no such block");
    let tx = Transaction::V0(stale);
    let (hash, _) = tx.get_hash_and_size();
    assert_eq!(
        local
            .chain
            .submit(SignedTransaction::new(alice_key.sign(hash.as_ref()), tx)),
        Err(InvalidTxError::Expired)
    );
}

#[test]
fn not_enough_balance_is_refused_with_the_cost() {
    let Some(mut local) = Local::start() else {
        return;
    };
    let alice = Local::id("alice");
    let balance = local.balance(&alice);
    let tx = signed(
        &local,
        "alice",
        &key_of(&local, "alice"),
        &Local::id("bob"),
        vec![transfer(balance)],
    );
    match local.chain.submit(tx) {
        Err(InvalidTxError::NotEnoughBalance {
            signer_id,
            balance: b,
            cost,
        }) => {
            assert_eq!(signer_id, alice);
            assert_eq!(b.as_yoctonear(), balance);
            assert!(cost.as_yoctonear() > balance);
        }
        other => panic!("expected NotEnoughBalance, got {other:?}"),
    }
    assert_eq!(
        local.balance(&alice),
        balance,
        "a refused transaction costs nothing"
    );
}

#[test]
fn function_call_keys_are_held_to_their_permission() {
    let Some(mut local) = Local::start() else {
        return;
    };
    let alice = Local::id("alice");
    let contract = local.accounts().contract.clone();
    let limited = SecretKey::from_random(KeyType::ED25519);
    let add_key = Action::AddKey(Box::new(AddKeyAction {
        public_key: limited.public_key(),
        access_key: AccessKey {
            nonce: 0,
            permission: AccessKeyPermission::FunctionCall(FunctionCallPermission {
                allowance: Some(Balance::from_yoctonear(ONE_NEAR)),
                receiver_id: contract.to_string(),
                method_names: vec!["get_config".into()],
            }),
        },
    }));
    let tx = signed(
        &local,
        "alice",
        &key_of(&local, "alice"),
        &alice,
        vec![add_key],
    );
    let hash = local.chain.submit(tx).unwrap();
    assert_eq!(local.settle(&hash), FinalStatus::Success(vec![]));

    let refused = |local: &mut Local, receiver: &AccountId, actions: Vec<Action>| {
        let tx = signed(local, "alice", &limited, receiver, actions);
        match local.chain.submit(tx) {
            Err(InvalidTxError::InvalidAccessKeyError(e)) => e,
            other => panic!("expected an access key error, got {other:?}"),
        }
    };
    assert_eq!(
        refused(&mut local, &contract, vec![call("request_execution", 0)]),
        InvalidAccessKeyError::MethodNameMismatch {
            method_name: "request_execution".into()
        }
    );
    assert_eq!(
        refused(&mut local, &contract, vec![call("get_config", 1)]),
        InvalidAccessKeyError::DepositWithFunctionCall
    );
    assert_eq!(
        refused(&mut local, &contract, vec![transfer(1)]),
        InvalidAccessKeyError::RequiresFullAccess
    );
    assert_eq!(
        refused(&mut local, &Local::id("bob"), vec![call("get_config", 0)]),
        InvalidAccessKeyError::ReceiverMismatch {
            tx_receiver: Local::id("bob"),
            ak_receiver: contract.to_string(),
        }
    );
    // Allowed: the method it names, paid from its allowance.
    let tx = signed(
        &local,
        "alice",
        &limited,
        &contract,
        vec![call("get_config", 0)],
    );
    let hash = local.chain.submit(tx).unwrap();
    assert!(matches!(local.settle(&hash), FinalStatus::Success(_)));
    let AccessKeyPermission::FunctionCall(p) = &local
        .chain
        .state
        .access_key(&alice, &limited.public_key())
        .unwrap()
        .permission
    else {
        unreachable!()
    };
    assert!(p.allowance.unwrap().as_yoctonear() < ONE_NEAR);
}

#[test]
fn sub_accounts_are_created_funded_and_keyed() {
    let Some(mut local) = Local::start() else {
        return;
    };
    let carol: AccountId = "carol.alice.test.near".parse().unwrap();
    let carol_key = SecretKey::from_random(KeyType::ED25519);
    let actions = vec![
        Action::CreateAccount(CreateAccountAction {}),
        transfer(5 * ONE_NEAR),
        Action::AddKey(Box::new(AddKeyAction {
            public_key: carol_key.public_key(),
            access_key: AccessKey::full_access(),
        })),
    ];
    let tx = signed(&local, "alice", &key_of(&local, "alice"), &carol, actions);
    let hash = local.chain.submit(tx).unwrap();
    assert_eq!(local.settle(&hash), FinalStatus::Success(vec![]));
    let account = local.chain.state.account(&carol).unwrap().clone();
    assert_eq!(account.amount, 5 * ONE_NEAR);
    assert!(account.storage_usage > ACCOUNT_BYTES);

    // Bob may not create accounts under alice.
    let dave: AccountId = "dave.alice.test.near".parse().unwrap();
    let tx = signed(
        &local,
        "bob",
        &key_of(&local, "bob"),
        &dave,
        vec![
            Action::CreateAccount(CreateAccountAction {}),
            transfer(ONE_NEAR),
        ],
    );
    let bob_before = local.balance(&Local::id("bob"));
    let hash = local.chain.submit(tx).unwrap();
    match local.settle(&hash) {
        FinalStatus::Failure(TxExecutionError::ActionError(e)) => {
            assert_eq!(e.index, Some(0));
            assert!(matches!(
                e.kind,
                ActionErrorKind::CreateAccountNotAllowed { .. }
            ));
        }
        other => panic!("expected CreateAccountNotAllowed, got {other:?}"),
    }
    // The deposit came back; only gas was spent.
    assert_eq!(
        bob_before - local.balance(&Local::id("bob")),
        local.burnt(&hash)
    );

    // An account of at most 770 bytes needs no balance for them (NEP-448):
    // carol may spend what her storage would otherwise lock.
    assert!(account.storage_usage <= 770);
    let needed = u128::from(account.storage_usage) * STORAGE_PRICE_PER_BYTE;
    let tx = sign(
        &local.chain,
        &carol,
        &carol_key,
        &Local::id("bob"),
        vec![transfer(account.amount - needed / 2)],
    );
    let hash = local.chain.submit(tx).unwrap();
    assert_eq!(local.settle(&hash), FinalStatus::Success(vec![]));
    assert!(local.balance(&carol) < needed);
}

#[test]
fn a_batch_deploys_and_initialises_a_contract_on_a_new_account() {
    let Some(mut local) = Local::start() else {
        return;
    };
    let wasm = common::contract_wasm().unwrap();
    let second: AccountId = "second.alice.test.near".parse().unwrap();
    let init = serde_json::json!({"owner_id": "alice.test.near"});
    let actions = vec![
        Action::CreateAccount(CreateAccountAction {}),
        transfer(10 * ONE_NEAR),
        Action::DeployContract(near_primitives::action::DeployContractAction {
            code: wasm.clone(),
        }),
        Action::FunctionCall(Box::new(FunctionCallAction {
            method_name: "new".into(),
            args: serde_json::to_vec(&init).unwrap(),
            gas: Gas::from_gas(100 * TGAS),
            deposit: Balance::ZERO,
        })),
    ];
    let tx = signed(&local, "alice", &key_of(&local, "alice"), &second, actions);
    let hash = local.chain.submit(tx).unwrap();
    assert_eq!(local.settle(&hash), FinalStatus::Success(vec![]));
    let account = local.chain.state.account(&second).unwrap();
    assert!(
        account.storage_usage > wasm.len() as u64,
        "the code is paid for"
    );
    let config =
        outlayer_devchain::vm::view_call(&local.chain, &second, "get_config", b"{}".to_vec())
            .unwrap();
    let config: serde_json::Value = serde_json::from_slice(&config.result).unwrap();
    assert_eq!(config["owner_id"], "alice.test.near");
    assert_eq!(config["operator_id"], "alice.test.near");

    // Too little balance for the code's storage: the whole batch is undone.
    let poor: AccountId = "poor.alice.test.near".parse().unwrap();
    let actions = vec![
        Action::CreateAccount(CreateAccountAction {}),
        transfer(ONE_NEAR),
        Action::DeployContract(near_primitives::action::DeployContractAction { code: wasm }),
    ];
    let tx = signed(&local, "alice", &key_of(&local, "alice"), &poor, actions);
    let hash = local.chain.submit(tx).unwrap();
    match local.settle(&hash) {
        FinalStatus::Failure(TxExecutionError::ActionError(e)) => {
            assert_eq!(e.index, None);
            assert!(
                matches!(e.kind, ActionErrorKind::LackBalanceForState { .. }),
                "{e:?}"
            );
        }
        other => panic!("expected LackBalanceForState, got {other:?}"),
    }
    assert!(local.chain.state.account(&poor).is_none());
}
