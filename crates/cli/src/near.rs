//! `outlayer near`: the few NEAR calls a developer needs against a chain
//! (the local one by default): `view` a contract method, `call` one with a
//! near-cli credentials file, and look a transaction up with `tx`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use outlayer_near_client::{Action, BlockReference, NearRpc, Signer, TxExecutionStatus, TxOutcome};
use outlayer_types::AccountId;
use serde_json::{Value, json};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// NEAR JSON-RPC endpoint.
    #[arg(
        long,
        global = true,
        default_value = "http://127.0.0.1:3030",
        env = "NEAR_RPC_URL"
    )]
    rpc: String,
    #[command(subcommand)]
    command: NearCommand,
}

#[derive(clap::Subcommand)]
enum NearCommand {
    /// Call a view method and print its JSON result.
    View {
        contract: AccountId,
        method: String,
        /// Arguments as JSON.
        #[arg(default_value = "{}")]
        args: String,
    },
    /// Sign and send a function call; print the outcome as JSON.
    Call {
        contract: AccountId,
        method: String,
        /// Arguments as JSON.
        #[arg(default_value = "{}")]
        args: String,
        /// near-cli credentials file of the signer (`account_id`, `private_key`).
        #[arg(long)]
        credentials: PathBuf,
        /// Attached deposit in yoctoNEAR.
        #[arg(long, default_value_t = 0)]
        deposit: u128,
        /// Attached gas in Tgas.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=300))]
        tgas: u64,
        /// Return once the transaction is in a block instead of when its
        /// receipts have all run (a request waits on its yield until resolved).
        #[arg(long)]
        included: bool,
    },
    /// Look a transaction up; waits until all its receipts have run.
    Tx { hash: String, sender: AccountId },
}

pub(crate) async fn main(args: Args) -> anyhow::Result<ExitCode> {
    let rpc = NearRpc::new(args.rpc.clone(), Duration::from_secs(30))?;
    let json_args = |text: &str| -> anyhow::Result<Value> {
        serde_json::from_str(text).with_context(|| format!("arguments are not JSON: {text}"))
    };
    match args.command {
        NearCommand::View {
            contract,
            method,
            args,
        } => {
            let value: Value = rpc
                .view_call(
                    &contract,
                    &method,
                    &json_args(&args)?,
                    &BlockReference::default(),
                )
                .await?;
            println!("{}", serde_json::to_string_pretty(&value)?);
            Ok(ExitCode::SUCCESS)
        }
        NearCommand::Call {
            contract,
            method,
            args,
            credentials,
            deposit,
            tgas,
            included,
        } => {
            let signer = Signer::from_credentials_file(&credentials)?;
            let args = serde_json::to_vec(&json_args(&args)?)?;
            let action = Action::function_call(method, args, tgas * 1_000_000_000_000, deposit);
            let wait = if included {
                TxExecutionStatus::IncludedFinal
            } else {
                TxExecutionStatus::Final
            };
            let outcome = rpc
                .sign_and_send_tx(&signer, &contract, vec![action], wait)
                .await?;
            report(&outcome)
        }
        NearCommand::Tx { hash, sender } => {
            let outcome = rpc
                .tx_status(&hash, sender.as_str(), TxExecutionStatus::Final)
                .await?;
            report(&outcome)
        }
    }
}

/// Prints `{hash, status, value, failure, logs, tokens_burnt}`; exit 1 when
/// the transaction failed.
fn report(outcome: &TxOutcome) -> anyhow::Result<ExitCode> {
    let value = outcome.success_bytes().ok().map(|bytes| {
        serde_json::from_slice::<Value>(&bytes)
            .unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)))
    });
    let status = if outcome.failure().is_some() {
        "failed"
    } else if outcome.is_success() {
        "succeeded"
    } else {
        // In a block, still running (a request waits on its yield).
        "pending"
    };
    let report = json!({
        "hash": outcome.hash(),
        "status": status,
        "value": value,
        "failure": outcome.failure(),
        "logs": outcome.logs().collect::<Vec<_>>(),
        "tokens_burnt": outcome.tokens_burnt().to_string(),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if outcome.failure().is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
