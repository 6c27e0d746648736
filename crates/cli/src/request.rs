//! `outlayer request`: pays for one execution on any chain, waits for its
//! settlement and prints the output, the charge and the refund. Exit status:
//! 0 the program succeeded, 1 it failed or was refused, 2 usage.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::ValueEnum;
use outlayer_dev::request::{self, NewRequest};
use outlayer_near_client::{NearRpc, Signer};
use outlayer_types::{AccountId, ResourceLimits, ResponseFormat, SecretsRef, U128};
use serde_json::json;

use crate::source::SourceArgs;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// NEAR JSON-RPC endpoint.
    #[arg(long, env = "NEAR_RPC_URL", default_value = "http://127.0.0.1:3030")]
    rpc: String,
    /// The OutLayer contract.
    #[arg(
        long,
        env = "OUTLAYER_CONTRACT_ID",
        default_value = "outlayer.test.near"
    )]
    contract: AccountId,
    /// near-cli credentials file of the paying account.
    #[arg(long)]
    credentials: PathBuf,
    #[command(flatten)]
    source: SourceArgs,
    /// The program's input.
    #[arg(long, default_value = "")]
    input: String,
    #[arg(long, default_value_t = ResourceLimits::DEFAULT_MAX_INSTRUCTIONS)]
    max_instructions: u64,
    #[arg(long, default_value_t = ResourceLimits::DEFAULT_MAX_MEMORY_MB)]
    max_memory_mb: u32,
    #[arg(long, default_value_t = ResourceLimits::DEFAULT_MAX_EXECUTION_SECONDS)]
    max_seconds: u64,
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
    /// Secrets profile the program gets.
    #[arg(long)]
    secrets_profile: Option<String>,
    /// Owner of --secrets-profile (default: the paying account).
    #[arg(long, requires = "secrets_profile")]
    secrets_owner: Option<AccountId>,
    /// Only print the deposit the contract asks for.
    #[arg(long)]
    estimate: bool,
    /// Give up waiting for the settlement after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout_s: u64,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Bytes,
}

pub(crate) async fn main(args: Args) -> anyhow::Result<ExitCode> {
    let signer = Signer::from_credentials_file(&args.credentials)
        .with_context(|| format!("credentials {}", args.credentials.display()))?;
    let new = new_request(&args, &signer)?;
    // The chain bounds each wait; the client waits a little longer.
    let rpc = NearRpc::new(args.rpc.clone(), Duration::from_secs(30))?;
    let deposit = request::estimate(&rpc, &args.contract, &new).await?;
    if args.estimate {
        println!("{}", json!({"deposit": U128(deposit)}));
        return Ok(ExitCode::SUCCESS);
    }
    let timeout = Duration::from_secs(args.timeout_s);
    let settled = request::send(&rpc, &signer, &args.contract, &new, deposit, timeout).await?;
    if args.json {
        println!("{}", settled.to_json());
    } else {
        print!("{}", request::describe(&settled));
    }
    Ok(if settled.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn new_request(args: &Args, signer: &Signer) -> anyhow::Result<NewRequest> {
    let code_source = args.source.code_source()?;
    let secrets_ref = args.secrets_profile.as_ref().map(|profile| SecretsRef {
        profile: profile.clone(),
        account_id: args
            .secrets_owner
            .clone()
            .unwrap_or_else(|| signer.account_id.clone()),
    });
    if let Some(secrets) = &secrets_ref {
        outlayer_types::check_profile_name(&secrets.profile)
            .map_err(|e| anyhow::anyhow!("--secrets-profile: {e}"))?;
    }
    Ok(NewRequest {
        code_source,
        limits: ResourceLimits {
            max_instructions: args.max_instructions,
            max_memory_mb: args.max_memory_mb,
            max_execution_seconds: args.max_seconds,
        },
        input: args.input.clone(),
        secrets_ref,
        response_format: match args.format {
            FormatArg::Text => ResponseFormat::Text,
            FormatArg::Json => ResponseFormat::Json,
            FormatArg::Bytes => ResponseFormat::Bytes,
        },
    })
}
