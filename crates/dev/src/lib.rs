//! OutLayer on one machine, for `outlayer dev` and the end-to-end tests:
//! [`Stack`] starts the local chain (the `outlayer-devchain` binary) with
//! the contract, the keystore, the coordinator on SQLite and a worker, each
//! from its own library with the settings its own subcommand parses.
//! [`request`] pays for executions and waits for their settlement, against
//! any chain; [`demo`] is what `outlayer dev --demo` shows.

pub mod bench;
pub mod demo;
pub mod request;
mod settings;
mod stack;

pub use settings::parse_flags;
pub use stack::{CONTRACT, DevArgs, Stack, devchain_binary};
