//! `outlayer-devchain` (also `outlayer devchain`): the local NEAR chain with
//! the OutLayer contract, until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use outlayer_devchain::{Devchain, DevchainConfig};

/// A local NEAR chain running the OutLayer contract in nearcore's VM.
#[derive(Parser)]
#[command(name = "outlayer devchain", version)]
struct Args {
    /// Address of the JSON-RPC server (nearcore's default port).
    #[arg(
        long,
        default_value = "127.0.0.1:3030",
        env = "OUTLAYER_DEVCHAIN_LISTEN"
    )]
    listen: SocketAddr,
    /// Milliseconds between blocks.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..=10_000))]
    block_ms: u64,
    /// The contract wasm deployed at genesis (built by scripts/build-contract).
    #[arg(long, default_value_os_t = outlayer_devchain::contract_wasm_path())]
    contract: PathBuf,
    /// Write the genesis accounts' keys here, as near-cli does
    /// (`<dir>/<chain id>/<account>.json`).
    #[arg(long, default_value = ".outlayer/near-credentials")]
    credentials_dir: PathBuf,
}

/// Exit status for usage and configuration errors, as `outlayer` uses.
const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
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
    runtime.block_on(run(args)).unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(USAGE_ERROR)
    })
}

async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let wasm = std::fs::read(&args.contract).with_context(|| {
        format!(
            "cannot read the contract wasm {} (run scripts/build-contract)",
            args.contract.display()
        )
    })?;
    let config = DevchainConfig {
        listen: args.listen,
        block_interval: Duration::from_millis(args.block_ms),
        contract_wasm: Some(wasm),
        credentials_dir: Some(args.credentials_dir.clone()),
        ..DevchainConfig::default()
    };
    let chain_id = config.chain.chain_id.clone();
    let devchain = Devchain::start(config)
        .await
        .with_context(|| format!("cannot start the local chain on {}", args.listen))?;
    let accounts = &devchain.genesis_accounts;
    let users: Vec<String> = accounts.users.iter().map(ToString::to_string).collect();
    println!("local NEAR chain `{chain_id}` at {}", devchain.url);
    println!(
        "  contract  {} (owner {}, operator {})",
        accounts.contract, accounts.owner, accounts.operator
    );
    println!("  users     {}", users.join(", "));
    println!(
        "  keys      {}",
        args.credentials_dir.join(&chain_id).display()
    );
    println!("  blocks    {}/v0/block/<height>", devchain.url);
    tokio::signal::ctrl_c().await.ok();
    tracing::info!("local chain stopping");
    Ok(ExitCode::SUCCESS)
}
