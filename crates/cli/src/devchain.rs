//! `outlayer devchain`: the local NEAR chain with the OutLayer contract
//! (`outlayer-devchain`, nearcore's VM), in this process until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use outlayer_devchain::DevchainConfig;

#[derive(clap::Args)]
pub(crate) struct Args {
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

pub(crate) async fn main(args: Args) -> anyhow::Result<ExitCode> {
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
    let chain = outlayer_devchain::spawn(config)
        .await
        .with_context(|| format!("cannot start the local chain on {}", args.listen))?;
    let accounts = &chain.genesis_accounts;
    let users: Vec<String> = accounts.users.iter().map(ToString::to_string).collect();
    println!("local NEAR chain `{chain_id}` at {}", chain.url);
    println!(
        "  contract  {} (owner {}, operator {})",
        accounts.contract, accounts.owner, accounts.operator
    );
    println!("  users     {}", users.join(", "));
    println!(
        "  keys      {}",
        args.credentials_dir.join(&chain_id).display()
    );
    println!("  blocks    {}/v0/block/<height>", chain.url);
    tokio::signal::ctrl_c().await.ok();
    tracing::info!("local chain stopping");
    chain.stop().await;
    Ok(ExitCode::SUCCESS)
}
