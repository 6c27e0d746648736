//! The deployable wasm passes nearcore's own deploy-time preparation
//! (parsing with the protocol's WebAssembly features, import checks,
//! limits, gas instrumentation), at the current protocol and with
//! bulk-memory and reference types off, as older protocols have it.
//!
//! Needs `scripts/build-contract` first; `scripts/test` sets
//! `OUTLAYER_REQUIRE_CONTRACT_WASM=1` so a missing wasm fails there.

use near_parameters::vm::VMKind;
use near_vm_runner::prepare::prepare_contract;

#[test]
fn built_wasm_passes_nearcore_preparation() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/res/outlayer_contract.wasm");
    let Ok(code) = std::fs::read(path) else {
        assert!(
            std::env::var_os("OUTLAYER_REQUIRE_CONTRACT_WASM").is_none(),
            "{path} is missing: run scripts/build-contract"
        );
        eprintln!("skipped: {path} is missing (run scripts/build-contract)");
        return;
    };
    for method in EXPORTED {
        assert!(
            contains(&code, method.as_bytes()),
            "{method} is not exported"
        );
    }
    // Refusals must reach callers as messages: `--cfg near` keeps them.
    for message in [
        "contract is paused: new requests are refused",
        "only the operator can do this",
        "is already resolved",
    ] {
        assert!(contains(&code, message.as_bytes()), "{message:?} missing");
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

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
