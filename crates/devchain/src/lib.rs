//! A local NEAR chain for `outlayer devchain`, `outlayer dev` and end-to-end
//! tests. It runs the real contract wasm in nearcore's own VM
//! (`near-vm-runner` on wasmtime) with nearcore's gas and storage rules,
//! yields and resumes with timeouts, and answers the subset of nearcore's
//! JSON-RPC that OutLayer's services and NEAR's client libraries use, in
//! nearcore's JSON shapes. Blocks, with their receipts' outcomes and logs,
//! are also served as a stream (see `docs/block-stream.md`).
//!
//! One shard, one producer, no validators, no consensus: a block is final
//! as soon as it is produced.

pub mod chain;
pub mod execution;
pub mod external;
pub mod genesis;
pub mod receipt;
pub mod rpc;
pub mod server;
pub mod state;
pub mod stream;
pub mod testing;
pub mod transaction;
pub mod views;
pub mod vm;

pub use chain::{Block, Chain, ChainConfig, FinalStatus, GAS_PRICE};
pub use genesis::{Genesis, GenesisAccounts, ONE_NEAR};
pub use server::{Devchain, DevchainConfig, Running, Shared, spawn};

/// Where `scripts/build-contract` writes the contract wasm in this repository:
/// `OUTLAYER_CONTRACT_WASM` when set, else in [`checkout`].
pub fn contract_wasm_path() -> std::path::PathBuf {
    match std::env::var_os("OUTLAYER_CONTRACT_WASM") {
        Some(path) => path.into(),
        None => checkout().join("contract/res/outlayer_contract.wasm"),
    }
}

/// The OutLayer checkout in use: the nearest directory at or above the
/// current one that holds this crate's sources, else the one this binary
/// was built from. Clones sharing one target directory reuse each other's
/// binaries, and with them the compile-time path, so a test or `outlayer
/// dev` run inside a checkout uses that checkout's contract and examples.
pub fn checkout() -> std::path::PathBuf {
    let here = std::env::current_dir().ok();
    here.iter()
        .flat_map(|dir| dir.ancestors())
        .find(|dir| dir.join("crates/devchain/Cargo.toml").is_file())
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}
