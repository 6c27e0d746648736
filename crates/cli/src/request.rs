//! `outlayer request`: pays for one execution on any chain, waits for its
//! settlement and prints the output, the charge and the refund. Exit status:
//! 0 the program succeeded, 1 it failed or was refused, 2 usage.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::ValueEnum;
use outlayer_dev::request::{self, NewRequest};
use outlayer_near_client::{NearRpc, Signer};
use outlayer_types::{
    AccountId, BuildTarget, CodeSource, ResourceLimits, ResponseFormat, SecretsRef, U128,
};
use serde_json::json;

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
    /// Repository to build the program from.
    #[arg(long, required_unless_present = "wasm_url")]
    repo: Option<String>,
    /// Commit, branch or tag of --repo.
    #[arg(long, requires = "repo", default_value = "main")]
    commit: String,
    /// The package's directory inside --repo, when it is not the root.
    #[arg(long, requires = "repo")]
    path: Option<String>,
    /// A prebuilt program's URL instead of a repository.
    #[arg(long, conflicts_with = "repo", requires = "wasm_hash")]
    wasm_url: Option<String>,
    /// SHA-256 (hex) of --wasm-url's content.
    #[arg(long)]
    wasm_hash: Option<String>,
    #[arg(long, value_enum, default_value_t = TargetArg::Wasip1)]
    target: TargetArg,
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
enum TargetArg {
    #[value(name = "wasm32-wasip1")]
    Wasip1,
    #[value(name = "wasm32-wasip2")]
    Wasip2,
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
    let build_target = match args.target {
        TargetArg::Wasip1 => BuildTarget::Wasip1,
        TargetArg::Wasip2 => BuildTarget::Wasip2,
    };
    let code_source = match (&args.repo, &args.wasm_url, &args.path) {
        (Some(repo), None, Some(path)) => CodeSource::GitPackage {
            repo: repo.clone(),
            commit: args.commit.clone(),
            path: path.clone(),
            build_target,
        },
        (Some(repo), None, None) => CodeSource::GitHub {
            repo: repo.clone(),
            commit: args.commit.clone(),
            build_target,
        },
        (None, Some(url), _) => CodeSource::WasmUrl {
            url: url.clone(),
            hash: args.wasm_hash.clone().unwrap_or_default(),
            build_target,
        },
        _ => bail!("give --repo or --wasm-url"),
    };
    // The contract's own checks, so nothing is paid for a refused request.
    code_source
        .validate()
        .map_err(|e| anyhow::anyhow!("the contract would refuse this source: {e}"))?;
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
