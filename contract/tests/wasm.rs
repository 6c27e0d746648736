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
