//! `outlayer`: one binary for every OutLayer part. Each subcommand lives in its
//! own module and calls library code; this file only parses and dispatches.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod coordinator;

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
    /// Serve the coordinator, manage worker tokens, benchmark.
    Coordinator(coordinator::Args),
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
        Command::Coordinator(args) => coordinator::main(args),
    }
}
