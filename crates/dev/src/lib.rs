//! OutLayer on one machine, for `outlayer dev` and the end-to-end tests:
//! [`Stack`] starts the local chain (`outlayer-devchain`, on its own
//! runtime in this process) with the contract, the keystore, the
//! coordinator on SQLite and a worker, each from its own library with the
//! settings its own subcommand parses. [`request`] pays for executions and
//! waits for their settlement, against any chain; [`demo`] is what
//! `outlayer dev --demo` shows. Everything but [`request`] needs the
//! `local-chain` feature (nearcore).

#[cfg(feature = "local-chain")]
pub mod bench;
#[cfg(feature = "local-chain")]
pub mod dashboard;
#[cfg(feature = "local-chain")]
pub mod demo;
pub mod request;
mod settings;
#[cfg(feature = "local-chain")]
mod stack;

pub use settings::parse_flags;
#[cfg(feature = "local-chain")]
pub use stack::{CONTRACT, DevArgs, Stack};
