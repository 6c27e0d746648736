//! `outlayer`: one binary for every OutLayer part. Each subcommand lives in its
//! own module and calls library code; this file only parses and dispatches.
//!
//! Exit status: 0 success, 1 the command's work failed, 2 usage or
//! configuration error (clap uses 2 too). A subcommand's `main` returns
//! `Ok(code)` for its own status and `Err` for a usage or configuration error.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod bench;
mod build;
mod coordinator;
#[cfg(feature = "local-chain")]
mod dev;
#[cfg(feature = "local-chain")]
mod devchain;
mod keystore;
mod near;
mod request;
mod run;
mod secrets;
mod source;
mod status;
mod worker;

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
    /// The whole system locally: chain, keystore, coordinator, worker (`--demo` runs requests).
    #[cfg(feature = "local-chain")]
    Dev(dev::Args),
    /// Follow the chain and carry requests to settlement (build, secrets, run, resolve).
    Worker(worker::Args),
    /// Pay for one execution, wait for its settlement, print output, charge and refund.
    Request(request::Args),
    /// Build a program as a worker would, ahead of any request (into the coordinator's cache).
    Build(build::Args),
    /// Where a request is: on chain and in the coordinator's jobs.
    Status(status::Args),
    /// Run a WebAssembly program locally with the worker's runtime and limits.
    Run(run::Args),
    /// Run the keystore service (private: workers and the coordinator only).
    Keystore(keystore::Args),
    /// Encrypt secrets for the contract's `store_secrets`.
    Secrets(secrets::Args),
    /// Measure the sandbox's execution path (`outlayer bench runtime`).
    Bench(bench::Args),
    /// Serve the coordinator, manage worker tokens, benchmark.
    Coordinator(coordinator::Args),
    /// Run a local NEAR chain with the OutLayer contract deployed (nearcore's VM).
    #[cfg(feature = "local-chain")]
    Devchain(devchain::Args),
    /// View, call and look up transactions on a NEAR chain (the local one by default).
    Near(near::Args),
}

impl Command {
    /// Services log their progress; one-shot tools only warnings, so their
    /// stderr stays readable. `RUST_LOG` overrides either.
    fn default_log_level(&self) -> &'static str {
        match self {
            Self::Keystore(_) | Self::Coordinator(_) | Self::Worker(_) => "info",
            #[cfg(feature = "local-chain")]
            Self::Devchain(_) => "info",
            #[cfg(feature = "local-chain")]
            Self::Dev(_) => "warn",
            Self::Run(_)
            | Self::Secrets(_)
            | Self::Near(_)
            | Self::Request(_)
            | Self::Build(_)
            | Self::Status(_)
            | Self::Bench(_) => "warn",
        }
    }
}

/// Colour only on a terminal, and never when `NO_COLOR` is set
/// (<https://no-color.org>): escape codes in a piped log are noise.
fn colour_on_stderr() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Exit status for usage and configuration errors.
const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(cli.command.default_log_level())
            }),
        )
        .with_writer(std::io::stderr)
        .with_ansi(colour_on_stderr())
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
            #[cfg(feature = "local-chain")]
            Command::Dev(args) => dev::main(args).await,
            Command::Worker(args) => worker::main(args).await,
            Command::Request(args) => request::main(args).await,
            Command::Build(args) => build::main(args).await,
            Command::Status(args) => status::main(args).await,
            Command::Run(args) => run::main(args).await,
            Command::Keystore(args) => keystore::main(args).await,
            Command::Secrets(args) => secrets::main(args).await,
            Command::Coordinator(args) => Ok(coordinator::run(args).await),
            // Measures on its own runtime and threads, off this one.
            Command::Bench(args) => tokio::task::spawn_blocking(move || bench::main(args))
                .await
                .map_err(anyhow::Error::from)
                .and_then(|r| r),
            #[cfg(feature = "local-chain")]
            Command::Devchain(args) => devchain::main(args).await,
            Command::Near(args) => near::main(args).await,
        }
    });
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(USAGE_ERROR)
    })
}
