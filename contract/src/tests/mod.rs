//! Unit tests on near-sdk's mocked blockchain. The mock's limits shape
//! them: its action log does not survive a new `testing_env!`, resuming
//! twice returns true, and it never runs callbacks, so tests call
//! `on_execution_response` directly and assert on transfers and events.

mod admin;
mod money;
mod refunds;
mod requests;
mod secrets;
mod settlement;

use std::panic::{AssertUnwindSafe, catch_unwind};

use near_sdk::mock::MockAction;
use near_sdk::serde_json::{self, Value};
use near_sdk::test_utils::{VMContextBuilder, get_created_receipts, get_logs};
use near_sdk::{AccountId, Gas, NearToken, PromiseResult, RuntimeFeesConfig, testing_env};
use outlayer_types::{
    BuildTarget, CodeSource, ExecutionResponse, Pricing, ResourceLimits, ResourceMetrics, U128,
};

use crate::Contract;

pub(crate) const NEAR: u128 = 1_000_000_000_000_000_000_000_000;
/// nearcore's storage price: 10^19 yoctoNEAR per byte.
pub(crate) const BYTE: u128 = 10_000_000_000_000_000_000;
pub(crate) const BLOCK: u64 = 100;
pub(crate) const SEED: [u8; 32] = [7; 32];

pub(crate) fn account(id: &str) -> AccountId {
    id.parse().unwrap()
}

/// Prices with round numbers, so expected amounts read easily:
/// base 1000, 10 per million instructions, 2 per ms, 1 per compile ms.
pub(crate) fn round_pricing() -> Pricing {
    Pricing {
        base_fee: U128(1_000),
        per_million_instructions: U128(10),
        per_execution_ms: U128(2),
        per_compile_ms: U128(1),
    }
}

/// A fresh context: `predecessor` (also the signer) calls with `deposit`
/// yoctoNEAR and 300 Tgas at block [`BLOCK`].
pub(crate) fn call(predecessor: &str, deposit: u128) {
    call_with(predecessor, deposit, Gas::from_tgas(300), BLOCK);
}

pub(crate) fn call_with(predecessor: &str, deposit: u128, gas: Gas, block: u64) {
    testing_env!(builder(predecessor, deposit, gas, block).build());
}

fn builder(predecessor: &str, deposit: u128, gas: Gas, block: u64) -> VMContextBuilder {
    let mut b = VMContextBuilder::new();
    b.current_account_id(account("outlayer.near"))
        .signer_account_id(account(predecessor))
        .predecessor_account_id(account(predecessor))
        .attached_deposit(NearToken::from_yoctonear(deposit))
        .prepaid_gas(gas)
        .block_height(block)
        .block_timestamp(1_700_000_000_000_000_000 + block)
        .random_seed(SEED)
        .account_balance(NearToken::from_near(1_000));
    b
}

/// The yield callback's context: called by the contract itself at `block`,
/// with the resume payload (or the timeout's failure) as promise result.
pub(crate) fn callback(result: PromiseResult, block: u64) {
    testing_env!(
        builder("outlayer.near", 0, Gas::from_tgas(100), block).build(),
        near_sdk::test_vm_config(),
        RuntimeFeesConfig::test(),
        Default::default(),
        vec![result],
    );
}

/// Settles `request_id` through the callback with `response`.
pub(crate) fn respond(
    contract: &mut Contract,
    request_id: u64,
    response: &ExecutionResponse,
) -> Option<Value> {
    callback(
        PromiseResult::Successful(serde_json::to_vec(response).unwrap()),
        BLOCK + 5,
    );
    contract.on_execution_response(request_id, Ok(response.clone()))
}

/// The contract as deployed: owner `owner.near`, operator `operator.near`,
/// round prices.
pub(crate) fn setup() -> Contract {
    call("owner.near", 0);
    let mut contract = Contract::new(account("owner.near"), Some(account("operator.near")));
    call("owner.near", 1);
    contract.set_pricing(round_pricing());
    contract
}

pub(crate) fn github() -> CodeSource {
    CodeSource::GitHub {
        repo: "github.com/alice/app".into(),
        commit: "main".into(),
        build_target: BuildTarget::Wasip1,
    }
}

pub(crate) fn small_limits() -> ResourceLimits {
    ResourceLimits {
        max_instructions: 1_000_000,
        max_memory_mb: 64,
        max_execution_seconds: 1,
    }
}

/// Estimate of [`small_limits`] at [`round_pricing`] with the default
/// 120 s build timeout: 1000 + 10 + 1000·2 + 120000·1.
pub(crate) const SMALL_ESTIMATE: u128 = 1_000 + 10 + 2_000 + 120_000;

/// `alice.near` requests with [`small_limits`], no input and `deposit`;
/// returns the id.
pub(crate) fn request(contract: &mut Contract, deposit: u128) -> u64 {
    call("alice.near", deposit);
    let id = contract.get_stats().total_requests;
    contract
        .request_execution(github(), Some(small_limits()), None, None, None, None)
        .detach();
    id
}

pub(crate) fn success(instructions: u64, time_ms: u64, compile: Option<u64>) -> ExecutionResponse {
    ExecutionResponse {
        success: true,
        output: None,
        error: None,
        resources_used: ResourceMetrics {
            instructions,
            time_ms,
            compile_time_ms: compile,
        },
    }
}

/// Transfers created by the last call: `(receiver, yoctoNEAR)`.
pub(crate) fn transfers() -> Vec<(String, u128)> {
    get_created_receipts()
        .into_iter()
        .flat_map(|r| {
            let receiver = r.receiver_id.to_string();
            r.actions.into_iter().filter_map(move |a| match a {
                MockAction::Transfer { deposit, .. } => {
                    Some((receiver.clone(), deposit.as_yoctonear()))
                }
                _ => None,
            })
        })
        .collect()
}

/// The logs of the last call.
pub(crate) fn logs() -> Vec<String> {
    get_logs()
}

/// Runs `f`, which must panic; returns the panic message.
pub(crate) fn refused(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("the call should have been refused");
    let message = if let Some(s) = err.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = err.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        panic!("panic without a message")
    };
    // `env::panic_str` goes through the mock's host, which reports the
    // guest panic as an error it unwraps: take the message back out.
    const WRAPPED: &str = "HostError(GuestPanic { panic_msg: ";
    match message.find(WRAPPED) {
        Some(at) => {
            let quoted = message[at + WRAPPED.len()..].trim_end_matches(" })");
            serde_json::from_str(quoted).expect("a quoted message")
        }
        None => message,
    }
}

/// Writes the cached collection entries, as the end of a call would.
pub(crate) fn flush(contract: &mut Contract) {
    contract.requests.flush();
    contract.large_inputs.flush();
    contract.outputs.flush();
    contract.secrets.flush();
    contract.user_secrets.flush();
}

/// [`setup`] with `alice.near` as the operator too: the mock forgets a
/// yield when the context changes, so a test that resumes one must request
/// and resolve in one context, by one account.
pub(crate) fn setup_alice_operates() -> Contract {
    let mut contract = setup();
    call("owner.near", 1);
    contract.set_operator(account("alice.near"));
    contract
}

#[test]
fn init_sets_roles_and_defaults() {
    call("owner.near", 0);
    let contract = Contract::new(account("owner.near"), None);
    let config = serde_json::to_value(contract.get_config()).unwrap();
    assert_eq!(
        config,
        serde_json::json!({
            "owner_id": "owner.near",
            "operator_id": "owner.near",
            "paused": false,
            "pricing": {
                "base_fee": "1000000000000000000000",
                "per_million_instructions": "1000000000000000000",
                "per_execution_ms": "100000000000000000",
                "per_compile_ms": "100000000000000000"
            },
            "max_limits": {
                "max_instructions": 10_000_000_000u64,
                "max_memory_mb": 512,
                "max_execution_seconds": 60,
                "max_compile_seconds": 120,
                "max_input_bytes": 65536,
                "max_output_bytes": 65536
            },
            "yield_timeout_blocks": 200,
            "stale_after_blocks": 300,
            "min_request_tgas": 100,
            "large_input_bytes": 10240,
            "state_version": 2
        })
    );
    assert_eq!(
        contract.estimate_execution_cost(None, None),
        U128(20_000_000_000_000_000_000_000),
        "0.02 NEAR for the default limits"
    );
}

#[test]
fn migrate_keeps_the_state() {
    let mut contract = setup();
    request(&mut contract, NEAR);
    flush(&mut contract);
    near_sdk::env::state_write(&contract);
    call("outlayer.near", 0);
    let migrated = Contract::migrate();
    assert_eq!(migrated.get_config(), contract.get_config());
    assert_eq!(migrated.get_stats(), contract.get_stats());
    assert_eq!(migrated.get_request(0), contract.get_request(0));
}

#[test]
fn borsh_layout_is_frozen() {
    use crate::{StateVersion, StorageKey};
    let tag = |v: Vec<u8>| v[0];
    assert_eq!(near_sdk::borsh::to_vec(&StateVersion::V1).unwrap(), vec![0]);
    assert_eq!(near_sdk::borsh::to_vec(&StateVersion::V2).unwrap(), vec![1]);
    let keys = [
        StorageKey::Requests,
        StorageKey::LargeInputs,
        StorageKey::Outputs,
        StorageKey::Secrets,
        StorageKey::UserSecrets,
        StorageKey::Unclaimed,
    ];
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(tag(near_sdk::borsh::to_vec(key).unwrap()), i as u8);
    }
}
