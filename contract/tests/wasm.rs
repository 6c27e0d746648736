//! The deployable wasm in nearcore itself: its deploy-time preparation
//! (WebAssembly features, imports, limits, instrumentation) at the current
//! protocol and with bulk memory off as older protocols have it, and its VM
//! (wasmtime) running the contract's main path against nearcore's mocked
//! external state: yield, resume, settlement, refusals with their messages.
//!
//! Needs `scripts/build-contract` first; `scripts/test` sets
//! `OUTLAYER_REQUIRE_CONTRACT_WASM=1` so a missing wasm fails there.

use std::sync::Arc;

use near_parameters::RuntimeConfigStore;
use near_parameters::vm::VMKind;
use near_primitives::version::PROTOCOL_VERSION;
use near_primitives_core::hash::CryptoHash;
use near_primitives_core::types::{Balance, Gas};
use near_vm_runner::logic::mocks::mock_external::{MockAction, MockedExternal};
use near_vm_runner::logic::types::PromiseResult;
use near_vm_runner::logic::{ReturnData, VMContext, VMOutcome};
use near_vm_runner::prepare::prepare_contract;
use near_vm_runner::{Contract, ContractCode, MockContractRuntimeCache};
use serde_json::{Value, json};

fn wasm() -> Option<Vec<u8>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/res/outlayer_contract.wasm");
    match std::fs::read(path) {
        Ok(code) => Some(code),
        Err(_) => {
            assert!(
                std::env::var_os("OUTLAYER_REQUIRE_CONTRACT_WASM").is_none(),
                "{path} is missing: run scripts/build-contract"
            );
            eprintln!("skipped: {path} is missing (run scripts/build-contract)");
            None
        }
    }
}

#[test]
fn built_wasm_passes_nearcore_preparation() {
    let Some(code) = wasm() else { return };
    for method in EXPORTED {
        let name = method.as_bytes();
        assert!(
            code.windows(name.len()).any(|w| w == name),
            "{method} is not exported"
        );
    }
    let current = near_sdk::test_vm_config();
    let mut strict = current.clone();
    strict.reftypes_bulk_memory = false;
    for (name, config) in [("current", current), ("no bulk memory", strict)] {
        for kind in [VMKind::NearVm, VMKind::Wasmtime] {
            if let Err(e) = prepare_contract(&code, &config, kind) {
                panic!("nearcore refuses the wasm ({name}, {kind:?}): {e:?}");
            }
        }
    }
}

/// The public API: every method must be an export of the wasm.
const EXPORTED: [&str; 28] = [
    "new",
    "migrate",
    "request_execution",
    "submit_execution_output",
    "resolve_execution",
    "on_execution_response",
    "cancel_stale_execution",
    "emergency_cancel_execution",
    "store_secrets",
    "update_access",
    "delete_secrets",
    "get_secrets",
    "list_user_secrets",
    "estimate_storage_cost",
    "set_pricing",
    "set_max_limits",
    "get_pricing",
    "get_max_limits",
    "estimate_execution_cost",
    "set_owner",
    "set_operator",
    "set_paused",
    "withdraw_fees",
    "get_config",
    "get_stats",
    "get_request",
    "get_request_input",
    "get_pending_requests",
];

struct Code(Arc<ContractCode>);

impl Contract for Code {
    fn hash(&self) -> CryptoHash {
        *self.0.hash()
    }
    fn get_code(&self) -> Option<Arc<ContractCode>> {
        Some(self.0.clone())
    }
}

/// One contract account on nearcore's mocked external state.
struct Chain {
    code: Code,
    ext: MockedExternal,
    storage_usage: u64,
    /// Compiles the contract once, not once per call.
    cache: MockContractRuntimeCache,
}

impl Chain {
    fn call(
        &mut self,
        who: &str,
        method: &str,
        args: Value,
        deposit: u128,
        tgas: u64,
    ) -> VMOutcome {
        self.call_with(who, method, args, deposit, tgas, vec![])
    }

    fn call_with(
        &mut self,
        who: &str,
        method: &str,
        args: Value,
        deposit: u128,
        tgas: u64,
        promise_results: Vec<PromiseResult>,
    ) -> VMOutcome {
        let store = RuntimeConfigStore::new(None);
        let runtime = store.get_config(PROTOCOL_VERSION);
        let config = runtime.wasm_config.clone();
        let context = VMContext {
            current_account_id: "outlayer.near".parse().unwrap(),
            signer_account_id: who.parse().unwrap(),
            signer_account_pk: vec![0; 33],
            predecessor_account_id: who.parse().unwrap(),
            refund_to_account_id: who.parse().unwrap(),
            input: serde_json::to_vec(&args).unwrap().into(),
            promise_results: promise_results.into(),
            block_height: 100,
            block_timestamp: 1_700_000_000_000_000_000,
            epoch_height: 1,
            account_balance: Balance::from_near(100),
            account_locked_balance: Balance::from_yoctonear(0),
            storage_usage: self.storage_usage,
            account_contract: near_primitives::account::AccountContract::None,
            attached_deposit: Balance::from_yoctonear(deposit),
            prepaid_gas: Gas::from_teragas(tgas),
            random_seed: vec![7; 32],
            view_config: None,
            output_data_receivers: vec![],
        };
        let gas_counter = context.make_gas_counter(&config);
        let prepared =
            near_vm_runner::prepare(&self.code, config, Some(&self.cache), gas_counter, method);
        let outcome = near_vm_runner::run(prepared, &mut self.ext, &context, runtime.fees.clone())
            .expect("the VM runs");
        if outcome.aborted.is_none() {
            self.storage_usage = outcome.storage_usage;
        }
        outcome
    }
}

fn refusal(outcome: &VMOutcome) -> String {
    let aborted = format!("{:?}", outcome.aborted.as_ref().expect("refused"));
    let start = aborted.find("panic_msg: \"").expect("a guest panic") + 12;
    aborted[start..aborted.rfind("\" })").unwrap()].replace("\\\"", "\"")
}

fn returned(outcome: &VMOutcome) -> Value {
    assert_eq!(outcome.aborted, None);
    match &outcome.return_data {
        ReturnData::Value(bytes) => serde_json::from_slice(bytes).unwrap(),
        other => panic!("no value returned: {other:?}"),
    }
}

#[test]
fn the_main_path_runs_in_nearcores_vm() {
    let Some(code) = wasm() else { return };
    let mut chain = Chain {
        code: Code(Arc::new(ContractCode::new(code, None))),
        ext: MockedExternal::new(),
        storage_usage: 1_000,
        cache: MockContractRuntimeCache::default(),
    };
    let new = json!({"owner_id": "owner.near", "operator_id": "operator.near"});
    assert_eq!(
        chain.call("outlayer.near", "new", new, 0, 300).aborted,
        None
    );
    let pricing = json!({"pricing": {"base_fee": "1000", "per_million_instructions": "10",
        "per_execution_ms": "2", "per_compile_ms": "1"}});
    assert_eq!(
        chain
            .call("owner.near", "set_pricing", pricing, 1, 300)
            .aborted,
        None
    );

    let request = json!({
        "code_source": {"GitHub": {"repo": "alice/app", "commit": "main", "build_target": "wasm32-wasip1"}},
        "resource_limits": {"max_instructions": 1_000_000, "max_memory_mb": 64, "max_execution_seconds": 1},
    });
    let paid = 1_000 + 10 + 2_000 + 120_000; // the estimate for these limits
    let low_gas = chain.call("alice.near", "request_execution", request.clone(), paid, 50);
    assert_eq!(refusal(&low_gas), "attach at least 100 Tgas (got 50 Tgas)");
    let requested = chain.call("alice.near", "request_execution", request, paid, 300);
    assert_eq!(requested.aborted, None);
    assert!(
        matches!(requested.return_data, ReturnData::ReceiptIndex(_)),
        "returns the yield"
    );
    assert!(requested.logs[0].starts_with(
        r#"EVENT_JSON:{"standard":"near-outlayer","version":"1.0.0","event":"execution_requested""#
    ));
    assert!(
        chain
            .ext
            .action_log
            .iter()
            .any(|a| matches!(a, MockAction::YieldCreate { .. }))
    );

    let response = json!({"success": true, "output": {"Text": "42"},
        "resources_used": {"instructions": 300_000, "time_ms": 250, "compile_time_ms": 4_000}});
    let resolve = json!({"request_id": 0, "response": response});
    let by_alice = chain.call("alice.near", "resolve_execution", resolve.clone(), 0, 300);
    assert_eq!(refusal(&by_alice), "only the operator can do this");
    assert_eq!(
        chain
            .call(
                "operator.near",
                "resolve_execution",
                resolve.clone(),
                0,
                300
            )
            .aborted,
        None
    );
    let again = chain.call("operator.near", "resolve_execution", resolve, 0, 300);
    assert_eq!(refusal(&again), "request 0 is already resolved");

    let payload = serde_json::to_vec(&response).unwrap();
    let not_private = chain.call_with(
        "alice.near",
        "on_execution_response",
        json!({"request_id": 0}),
        0,
        30,
        vec![PromiseResult::Successful(payload.clone().into())],
    );
    assert_eq!(
        refusal(&not_private),
        "Method on_execution_response is private"
    );
    chain.ext.action_log.clear();
    let settled = chain.call_with(
        "outlayer.near",
        "on_execution_response",
        json!({"request_id": 0}),
        0,
        30,
        vec![PromiseResult::Successful(payload.into())],
    );
    assert_eq!(returned(&settled), json!("42"));
    let charged = 1_000 + 3 + 500 + 4_000;
    assert!(settled.logs[0].ends_with(&format!(
        r#""charged":"{charged}","refunded":"{}"}}]}}"#,
        paid - charged
    )));
    assert!(chain.ext.action_log.iter().any(|a| matches!(a,
        MockAction::Transfer { deposit, .. } if deposit.as_yoctonear() == paid - charged)));

    // Storage deposits match what nearcore counts.
    let secrets = json!({"accessor": {"Repo": {"repo": "alice/app"}}, "profile": "p",
        "encrypted_secrets_base64": "c2VjcmV0", "access": "AllowAll"});
    let mut estimate_args = secrets.clone();
    estimate_args["owner"] = json!("alice.near");
    let estimate =
        returned(&chain.call("alice.near", "estimate_storage_cost", estimate_args, 0, 300));
    let deposit: u128 = estimate.as_str().unwrap().parse().unwrap();
    let before = chain.storage_usage;
    assert_eq!(
        chain
            .call("alice.near", "store_secrets", secrets, deposit, 300)
            .aborted,
        None
    );
    let storage_price = 10_000_000_000_000_000_000u128;
    assert_eq!(
        u128::from(chain.storage_usage - before) * storage_price,
        deposit
    );
}
