//! `outlayer`: one binary for every OutLayer part. Each subcommand lives in its
//! own module and calls library code; this file only parses and dispatches.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod keystore;
mod secrets;
mod util;

#[derive(Parser)]
#[command(
    name = "outlayer",
    version,
    about = "Off-chain WebAssembly execution for NEAR"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the JSON shape of the default resource limits.
    Limits,
    /// Run the keystore service (private: workers and the coordinator only).
    Keystore(keystore::Args),
    /// Encrypt secrets for the contract's `store_secrets`.
    Secrets(secrets::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Limits => {
            let limits = outlayer_types::ResourceLimits::default();
            println!(
                "{}",
                serde_json::to_string_pretty(&limits).expect("limits serialise")
            );
            ExitCode::SUCCESS
        }
        Command::Keystore(args) => keystore::run(args),
        Command::Secrets(args) => secrets::run(args),
    }
}
