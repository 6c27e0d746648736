//! The deployable wasm passes nearcore's deploy-time preparation (features,
//! imports, limits, instrumentation) at the current protocol and with bulk
//! memory off, as older protocols have it, and exports the contract's API.

mod common;

use near_parameters::vm::VMKind;
use near_vm_runner::prepare::prepare_contract;

/// The public API: every method must be an export of the wasm.
const EXPORTED: [&str; 32] = [
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
    "on_fee_withdrawal",
    "on_refund",
    "claim_refund",
    "get_unclaimed_refund",
    "get_config",
    "get_stats",
    "get_request",
    "get_request_input",
    "get_pending_requests",
];

#[test]
fn built_wasm_passes_nearcore_preparation() {
    let Some(code) = common::contract_wasm() else {
        return;
    };
    for method in EXPORTED {
        let name = method.as_bytes();
        assert!(
            code.windows(name.len()).any(|w| w == name),
            "{method} is not exported"
        );
    }
    let current = (*outlayer_devchain::chain::runtime_config().wasm_config).clone();
    let mut strict = current.clone();
    strict.reftypes_bulk_memory = false;
    for (name, config) in [("current", current), ("no bulk memory", strict)] {
        if let Err(e) = prepare_contract(&code, &config, VMKind::Wasmtime) {
            panic!("nearcore refuses the wasm ({name}): {e:?}");
        }
    }
}
