//! `outlayer secrets encrypt`: checks a secrets file, encrypts it for an
//! accessor and owner on this machine, and prints the blob and the exact
//! arguments of the contract's `store_secrets` call. Plaintext never leaves
//! the machine; only the public key is fetched (or given).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use outlayer_keystore::crypto::{encrypt, parse_public_key};
use outlayer_keystore::{KeystoreClient, SecretMap};
use outlayer_types::{AccessCondition, Accessor, AccountId, PubkeyRequest, StoreSecretsArgs};
use serde_json::json;

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: SecretsCommand,
}

#[derive(clap::Subcommand)]
enum SecretsCommand {
    /// Encrypt a secrets file and print the `store_secrets` arguments.
    Encrypt(EncryptArgs),
}

#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("accessor").required(true))]
#[command(group = clap::ArgGroup::new("key_source").required(true))]
struct EncryptArgs {
    /// The repository whose programs may read the secrets.
    #[arg(long, group = "accessor")]
    repo: Option<String>,
    /// Only programs built from this branch of --repo.
    #[arg(long, requires = "repo")]
    branch: Option<String>,
    /// Only the WASM binary with this SHA-256 (hex).
    #[arg(long, group = "accessor")]
    wasm_hash: Option<String>,
    /// The account that will store (and own) the secrets.
    #[arg(long)]
    owner: AccountId,
    /// Profile name: 1–64 of [A-Za-z0-9_-].
    #[arg(long)]
    profile: String,
    /// JSON object of NAME → value.
    #[arg(long)]
    file: PathBuf,
    /// Who may use the secrets, as AccessCondition JSON (e.g.
    /// '{"Whitelist":{"accounts":["bob.near"]}}'), or @FILE.
    #[arg(long, default_value = "\"AllowAll\"")]
    access: String,
    /// The accessor's public key (64 hex digits), if already known.
    #[arg(long, group = "key_source")]
    pubkey: Option<String>,
    /// Ask a keystore for the public key (development; needs --keystore-token).
    #[arg(long, group = "key_source")]
    keystore: Option<String>,
    /// Bearer token for --keystore.
    #[arg(long, env = "KEYSTORE_TOKEN", hide_env_values = true)]
    keystore_token: Option<String>,
    /// Ask a coordinator (its public `POST /secrets/pubkey` proxy).
    #[arg(long, group = "key_source")]
    coordinator: Option<String>,
    /// Print only the `store_secrets` arguments.
    #[arg(long)]
    args_only: bool,
}

/// Entry point for a caller without an async runtime.
/// `Err` is a usage or input error (exit 2); a key source that fails is exit 1.
pub(crate) async fn main(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        SecretsCommand::Encrypt(args) => encrypt_command(args).await,
    }
}

async fn encrypt_command(args: EncryptArgs) -> anyhow::Result<ExitCode> {
    let accessor = match (&args.repo, &args.wasm_hash) {
        (Some(repo), None) => Accessor::Repo {
            repo: repo.clone(),
            branch: args.branch.clone(),
        },
        (None, Some(hash)) => Accessor::WasmHash { hash: hash.clone() },
        _ => bail!("give exactly one of --repo and --wasm-hash"),
    };
    let accessor = accessor.normalized()?;
    check_profile(&args.profile)?;
    let access = parse_access(&args.access)?;
    // Check before encrypting: reserved or malformed names are refused here,
    // not discovered by a worker later.
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let secrets = SecretMap::parse(&bytes).with_context(|| format!("{}", args.file.display()))?;

    let pubkey_hex = match fetch_pubkey(&args, &accessor).await {
        Ok(pubkey) => pubkey,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let pubkey = parse_public_key(&pubkey_hex)
        .with_context(|| format!("public key {pubkey_hex:?} is not 64 hex digits"))?;
    let blob = STANDARD.encode(encrypt(&pubkey, &secrets.to_json()));
    let store_args = StoreSecretsArgs {
        accessor,
        profile: args.profile,
        encrypted_secrets_base64: blob.clone(),
        access,
    };
    let output = if args.args_only {
        serde_json::to_value(&store_args)?
    } else {
        json!({
            "pubkey": pubkey_hex,
            "secret_names": secrets.names().collect::<Vec<_>>(),
            "encrypted_secrets_base64": blob,
            "store_secrets_args": store_args,
        })
    };
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(ExitCode::SUCCESS)
}

async fn fetch_pubkey(args: &EncryptArgs, accessor: &Accessor) -> anyhow::Result<String> {
    if let Some(pubkey) = &args.pubkey {
        return Ok(pubkey.trim().to_owned());
    }
    let (base, token) = match (&args.keystore, &args.coordinator) {
        (Some(url), _) => (
            url.trim_end_matches('/').to_owned(),
            args.keystore_token.clone(),
        ),
        (None, Some(url)) => (format!("{}/secrets", url.trim_end_matches('/')), None),
        (None, None) => bail!("give one of --pubkey, --keystore and --coordinator"),
    };
    let client = KeystoreClient::new(base.clone(), token, Duration::from_secs(30))?;
    // Secrets are not sent along: they were checked locally above.
    let request = PubkeyRequest {
        accessor: accessor.clone(),
        owner: args.owner.clone(),
        secrets: None,
    };
    let response = client
        .pubkey(&request)
        .await
        .with_context(|| format!("fetching the public key from {base}"))?;
    Ok(response.pubkey)
}

/// The contract's own check, so a refused profile fails here, before encrypting.
fn check_profile(profile: &str) -> anyhow::Result<()> {
    outlayer_types::check_profile_name(profile)
        .map_err(|e| anyhow::anyhow!("profile {profile:?}: {e}"))
}

fn parse_access(text: &str) -> anyhow::Result<AccessCondition> {
    let json = match text.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?
        }
        None => text.to_owned(),
    };
    let access: AccessCondition =
        serde_json::from_str(&json).context("--access is not a valid AccessCondition")?;
    // The contract refuses what fails this; say so before anything is sent.
    access
        .validate()
        .map_err(|e| anyhow::anyhow!("--access is refused by the contract: {e}"))?;
    Ok(access)
}
