//! `outlayer`: one binary for every OutLayer part. Each subcommand lives in its
//! own module and calls library code; this file only parses and dispatches.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod coordinator;
mod run;

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
    /// Run a WebAssembly program locally with the worker's runtime and limits.
    Run(run::Args),
    /// Serve the coordinator, manage worker tokens, benchmark.
    Coordinator(coordinator::Args),
}

/// Exit status for usage and configuration errors (clap uses it too).
const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run::main(args).await,
            Command::Coordinator(args) => Ok(coordinator::run(args).await),
        }
    });
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(USAGE_ERROR)
    })
}
