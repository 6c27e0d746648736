//! `outlayer dev --demo`: alice stores an encrypted secret for a program in
//! this project's git repository, then pays for two requests of it. The
//! worker builds the first from git; the second finds the build cached. A
//! third request carries a JavaScript program inline (`examples/js/hello.js`).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use outlayer_keystore::{KeystoreClient, SecretMap};
use outlayer_near_client::{NearRpc, Signer};
use outlayer_types::{
    AccessCondition, Accessor, AccountId, BuildTarget, CodeSource, PubkeyRequest, ResourceLimits,
    ResponseFormat, SecretsRef, U128,
};
use serde_json::json;

use crate::Stack;
use crate::request::{self, NewRequest, Settled};

/// The package the demo builds, inside the project's repository.
pub const PACKAGE: &str = "examples/secrets-env";

/// The JavaScript program the demo sends inline.
pub const JS_EXAMPLE: &str = "examples/js/hello.js";

/// Runs the demo against `stack` with the git checkout at `project`;
/// prints as it goes and returns each request's settlement.
pub async fn run(stack: &Stack, project: &Path) -> anyhow::Result<Vec<Settled>> {
    let project = project
        .canonicalize()
        .with_context(|| format!("project {}", project.display()))?;
    let commit = git_head(&project)?;
    let repo = format!("file://{}", project.display());
    let alice = Signer::from_credentials_file(stack.key_file("alice.test.near"))?;
    let rpc = NearRpc::new(stack.rpc_url.clone(), Duration::from_secs(30))?;
    let contract = stack.contract();

    println!("\n== alice stores an encrypted secret (API_KEY) for {repo}");
    let accessor = Accessor::Repo {
        repo: repo.clone(),
        branch: None,
    };
    let deposit = store_secret(stack, &rpc, &alice, &contract, &accessor, "default").await?;
    println!(
        "  profile \"default\", encrypted here, storage deposit {}",
        request::near(deposit)
    );

    let request = NewRequest {
        code_source: CodeSource::GitPackage {
            repo,
            commit: commit.clone(),
            path: PACKAGE.into(),
            build_target: BuildTarget::Wasip1,
        },
        limits: ResourceLimits::default(),
        input: String::new(),
        secrets_ref: Some(SecretsRef {
            profile: "default".into(),
            account_id: alice.account_id.clone(),
        }),
        response_format: ResponseFormat::Json,
    };
    let mut settled = Vec::new();
    for (n, what) in [
        (1, "the worker builds it from git"),
        (2, "same commit: no build"),
    ] {
        println!("\n== request {n}: {PACKAGE} at {}, {what}", &commit[..12]);
        let deposit = request::estimate(&rpc, &contract, &request).await?;
        let done = request::send(
            &rpc,
            &alice,
            &contract,
            &request,
            deposit,
            Duration::from_secs(300),
        )
        .await?;
        print!("{}", request::describe(&done));
        settled.push(done);
    }

    println!("\n== request 3: {JS_EXAMPLE}, inline JavaScript on the workers' QuickJS");
    let code = std::fs::read_to_string(project.join(JS_EXAMPLE))
        .with_context(|| format!("reading {JS_EXAMPLE}"))?;
    let script = NewRequest {
        code_source: CodeSource::JavaScript { code },
        limits: ResourceLimits::default(),
        input: "NEAR".into(),
        secrets_ref: None,
        response_format: ResponseFormat::Json,
    };
    let deposit = request::estimate(&rpc, &contract, &script).await?;
    let done = request::send(
        &rpc,
        &alice,
        &contract,
        &script,
        deposit,
        Duration::from_secs(120),
    )
    .await?;
    print!("{}", request::describe(&done));
    settled.push(done);
    Ok(settled)
}

pub(crate) fn git_head(project: &Path) -> anyhow::Result<String> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(project)
        .args(["rev-parse", "HEAD"])
        .output()
        .context("running git")?;
    if !output.status.success() {
        bail!(
            "{} is not a git checkout: the demo builds its examples/ from git",
            project.display()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Encrypts `{"API_KEY": …}` for `accessor` with the keystore's public key
/// (the plaintext never leaves this process) and stores it with
/// `store_secrets`, paying exactly the storage. Returns the deposit.
pub async fn store_secret(
    stack: &Stack,
    rpc: &NearRpc,
    owner: &Signer,
    contract: &AccountId,
    accessor: &Accessor,
    profile: &str,
) -> anyhow::Result<u128> {
    store_secrets(
        stack,
        rpc,
        owner,
        contract,
        accessor,
        profile,
        br#"{"API_KEY": "demo-key-1234"}"#,
        AccessCondition::AllowAll,
    )
    .await
}

/// Encrypts `secrets` (a JSON object) and stores them under `profile`.
#[allow(clippy::too_many_arguments)]
pub async fn store_secrets(
    stack: &Stack,
    rpc: &NearRpc,
    owner: &Signer,
    contract: &AccountId,
    accessor: &Accessor,
    profile: &str,
    secrets: &[u8],
    access: AccessCondition,
) -> anyhow::Result<u128> {
    let keystore = KeystoreClient::new(
        stack.keystore_url.clone(),
        Some(stack.keystore_token.clone()),
        Duration::from_secs(10),
    )?;
    let pubkey = keystore
        .pubkey(&PubkeyRequest {
            accessor: accessor.clone(),
            owner: owner.account_id.clone(),
            secrets: None,
        })
        .await?
        .pubkey;
    let pubkey = outlayer_keystore::crypto::parse_public_key(&pubkey).context("public key")?;
    let secrets = SecretMap::parse(secrets)?;
    let blob = base64::engine::general_purpose::STANDARD.encode(
        outlayer_keystore::crypto::encrypt(&pubkey, &secrets.to_json()),
    );
    let args = json!({
        "accessor": accessor,
        "profile": profile,
        "encrypted_secrets_base64": blob,
        "access": access,
    });
    let mut estimate_args = args.clone();
    estimate_args["owner"] = json!(owner.account_id);
    let deposit: U128 = rpc
        .view_call(
            contract,
            "estimate_storage_cost",
            &estimate_args,
            &Default::default(),
        )
        .await
        .context("estimate_storage_cost")?;
    let outcome = rpc
        .call_function_tx(
            owner,
            contract,
            "store_secrets",
            &args,
            30_000_000_000_000,
            deposit.0,
        )
        .await?;
    if let Some(failure) = outcome.failure() {
        bail!("store_secrets failed: {failure}");
    }
    Ok(deposit.0)
}
