//! The whole system in one process (the chain on a runtime of its own):
//! started in dependency order, stopped in reverse.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use outlayer_keystore::{Keystore, KeystoreArgs, hash_token};
use outlayer_near_client::transaction::AccessKey;
use outlayer_near_client::{AccessKeyPermission, Action, DEFAULT_WAIT_UNTIL, NearRpc, Signer};
use outlayer_types::AccountId;

use crate::parse_flags;

/// The contract's account on the local chain.
pub const CONTRACT: &str = "outlayer.test.near";
const CHAIN_ID: &str = "outlayer-local";

#[derive(Clone, Debug, clap::Args)]
pub struct DevArgs {
    /// Where development state lives: the keystore's master secret (kept),
    /// the chain's keys, the coordinator's data and builds (fresh each start).
    #[arg(long, default_value = ".outlayer/dev")]
    pub dir: PathBuf,
    /// Milliseconds between blocks. 600 makes the 200-block yield window two
    /// minutes, close to mainnet's.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(10..=10_000))]
    pub block_ms: u64,
    #[arg(long, default_value = "127.0.0.1:3030")]
    pub rpc_listen: String,
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub coordinator_listen: String,
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub keystore_listen: String,
    /// Workers to run (each with its own job loops; one follows the chain).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=8))]
    pub workers: u32,
    /// More coordinator settings, as `outlayer coordinator serve` takes them
    /// (e.g. `--coordinator-flag=--lease-ms=5000`).
    #[arg(
        long = "coordinator-flag",
        value_name = "FLAG",
        allow_hyphen_values = true
    )]
    pub coordinator_flags: Vec<String>,
}

/// Everything running; [`Stack::stop`] ends it (dropping it stops the chain).
pub struct Stack {
    pub rpc_url: String,
    /// near-cli credentials of the genesis accounts (`<account>.json`).
    pub keys: PathBuf,
    pub keystore_url: String,
    pub keystore_token: String,
    coordinator: Option<outlayer_coordinator::Running>,
    coordinator_addr: Option<std::net::SocketAddr>,
    /// A token workers (and tests) authenticate to the coordinator with.
    pub worker_token: String,
    pub workers: Vec<outlayer_worker::Running>,
    worker_count: usize,
    worker_flags: Vec<String>,
    coordinator_flags: Vec<String>,
    keystore_flags: Vec<String>,
    keystore_addr: std::net::SocketAddr,
    chain: outlayer_devchain::Running,
    keystore: Option<outlayer_keystore::Running>,
}

impl Stack {
    pub async fn start(args: &DevArgs) -> anyhow::Result<Self> {
        let dir = &args.dir;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        // The chain starts from genesis every time, so nothing recorded
        // against an earlier chain may survive (request ids restart at 0).
        for fresh in ["coordinator", "near-credentials", "builds"] {
            let path = dir.join(fresh);
            if path.exists() {
                std::fs::remove_dir_all(&path)
                    .with_context(|| format!("cannot clear {}", path.display()))?;
            }
        }
        let master = master_file(dir)?;
        let chain = start_chain(args).await?;
        let rpc_url = chain.url.clone();
        let keys = dir.join("near-credentials").join(CHAIN_ID);

        let keystore_token = random_hex();
        let keystore_flags: Vec<String> = [
            "--master-file",
            &master.display().to_string(),
            "--near-rpc-url",
            &rpc_url,
            "--contract-id",
            CONTRACT,
            "--auth-token-hashes",
            &hash_token(&keystore_token),
            "--accept-attestation-none",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let keystore = start_keystore(&args.keystore_listen, &keystore_flags).await?;
        let keystore_addr = keystore.addr;
        let keystore_url = keystore.url();

        let mut coordinator_flags: Vec<String> = [
            "--data-dir",
            &dir.join("coordinator").display().to_string(),
            "--keystore-url",
            &keystore_url,
            "--keystore-token",
            &keystore_token,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        coordinator_flags.extend(args.coordinator_flags.iter().cloned());
        let coordinator = start_coordinator(&args.coordinator_listen, &coordinator_flags).await?;
        let worker_token =
            outlayer_coordinator::tokens::create(&coordinator.coordinator.store, "dev-workers")
                .await?;
        let worker_flags: Vec<String> = [
            "--coordinator-url",
            &coordinator.url(),
            "--coordinator-token",
            &worker_token,
            "--keystore-url",
            &keystore_url,
            "--keystore-token",
            &keystore_token,
            "--contract-id",
            CONTRACT,
            "--build-dir",
            &dir.join("builds").display().to_string(),
            "--dev-allow-file-repos",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut stack = Self {
            rpc_url,
            keys,
            keystore_url,
            keystore_token,
            coordinator: Some(coordinator),
            coordinator_addr: None,
            worker_token,
            workers: Vec::new(),
            worker_count: 0,
            worker_flags,
            coordinator_flags,
            keystore_flags,
            keystore_addr,
            chain,
            keystore: Some(keystore),
        };
        for n in 0..args.workers {
            stack.add_worker(n == 0).await?;
        }
        Ok(stack)
    }

    /// Starts one more worker with the stack's settings; one that
    /// `follows_chain` also runs the event monitor and the sweeper.
    pub async fn add_worker(&mut self, follows_chain: bool) -> anyhow::Result<()> {
        let rpc_url = self.rpc_url.clone();
        self.add_worker_via(follows_chain, &rpc_url).await
    }

    /// [`Stack::add_worker`] reaching the chain (RPC and block stream)
    /// through `rpc_url`, e.g. a proxy that injects faults.
    pub async fn add_worker_via(
        &mut self,
        follows_chain: bool,
        rpc_url: &str,
    ) -> anyhow::Result<()> {
        self.worker_count += 1;
        let id = format!("dev-worker-{}", self.worker_count);
        // Each worker signs with its own key of the operator account, so
        // workers never race each other for one key's nonces.
        let key_file = self.worker_key(&id).await?;
        let key_file = key_file.display().to_string();
        let mut flags: Vec<&str> = self.worker_flags.iter().map(String::as_str).collect();
        flags.extend(["--worker-id", &id, "--operator-credentials", &key_file]);
        flags.extend(["--near-rpc-url", rpc_url]);
        if !follows_chain {
            flags.push("--no-monitor");
        }
        let settings: outlayer_worker::WorkerArgs = parse_flags(&flags)?;
        self.workers.push(outlayer_worker::spawn(settings).await?);
        Ok(())
    }

    /// Stops the coordinator and starts it again on the same address and
    /// data (what a restart in production looks like to the workers).
    pub async fn restart_coordinator(&mut self) -> anyhow::Result<()> {
        self.stop_coordinator().await;
        self.start_coordinator().await
    }

    /// A new function-call key of the operator account, allowed only the
    /// contract's operator methods, written as near-cli credentials.
    async fn worker_key(&self, worker_id: &str) -> anyhow::Result<PathBuf> {
        let operator = Signer::from_credentials_file(self.key_file("operator.test.near"))?;
        let key = Signer::generate(operator.account_id.clone())?;
        let permission = AccessKeyPermission::FunctionCall {
            allowance: None,
            receiver_id: self.contract(),
            method_names: vec!["resolve_execution".into(), "submit_execution_output".into()],
        };
        let add = Action::AddKey {
            public_key: key.public_key_bytes(),
            access_key: AccessKey {
                nonce: 0,
                permission,
            },
        };
        let rpc = NearRpc::new(self.rpc_url.clone(), Duration::from_secs(30))?;
        let outcome = rpc
            .sign_and_send_tx(
                &operator,
                &operator.account_id,
                vec![add],
                DEFAULT_WAIT_UNTIL,
            )
            .await
            .context("adding a worker key to the operator account")?;
        if let Some(failure) = outcome.failure() {
            bail!("adding a worker key failed: {failure}");
        }
        let path = self.keys.join(format!("{worker_id}.json"));
        key.write_credentials_file(&path)?;
        Ok(path)
    }

    /// Kills a worker as a crash would: jobs in hand are abandoned and
    /// handed out again when their leases run out.
    pub fn kill_worker(&mut self, index: usize) {
        self.workers.remove(index).abort();
    }

    /// Stops the coordinator (workers and monitors retry until it is back).
    pub async fn stop_coordinator(&mut self) {
        if let Some(running) = self.coordinator.take() {
            self.coordinator_addr = Some(running.addr);
            running.stop().await;
        }
    }

    /// Starts the coordinator again on its address and data.
    pub async fn start_coordinator(&mut self) -> anyhow::Result<()> {
        let addr = self
            .coordinator_addr
            .context("the coordinator was not stopped")?;
        self.coordinator =
            Some(start_coordinator(&addr.to_string(), &self.coordinator_flags).await?);
        Ok(())
    }

    /// Stops the keystore (workers then fail to get secrets).
    pub async fn stop_keystore(&mut self) {
        if let Some(keystore) = self.keystore.take() {
            keystore.stop().await;
        }
    }

    /// Starts the keystore again on its address.
    pub async fn start_keystore(&mut self) -> anyhow::Result<()> {
        self.stop_keystore().await;
        let addr = self.keystore_addr.to_string();
        self.keystore = Some(start_keystore(&addr, &self.keystore_flags).await?);
        Ok(())
    }

    pub fn coordinator_url(&self) -> String {
        self.coordinator().url()
    }

    pub fn coordinator(&self) -> &outlayer_coordinator::Running {
        self.coordinator.as_ref().expect("the coordinator runs")
    }

    /// A genesis account's credentials file (`alice.test.near`, ...).
    pub fn key_file(&self, account: &str) -> PathBuf {
        self.keys.join(format!("{account}.json"))
    }

    pub fn contract(&self) -> AccountId {
        CONTRACT.parse().expect("a valid account id")
    }

    /// Where everything is, for people.
    pub fn describe(&self) -> String {
        let workers: Vec<&str> = self.workers.iter().map(|w| w.worker_id.as_str()).collect();
        format!(
            "OutLayer is running locally:\n  \
             NEAR RPC      {rpc}\n  \
             block stream  {rpc}/v0/block/<height>\n  \
             coordinator   {coordinator}\n  \
             keystore      {keystore} (private: bearer token only)\n  \
             workers       {workers}\n  \
             contract      {CONTRACT} (owner owner.test.near, operator operator.test.near)\n  \
             accounts      alice.test.near, bob.test.near (funded)\n  \
             keys          {keys}",
            rpc = self.rpc_url,
            coordinator = self.coordinator_url(),
            keystore = self.keystore_url,
            workers = workers.join(", "),
            keys = self.keys.display(),
        )
    }

    /// Stops the workers (jobs in hand finish), then the services, then the chain.
    pub async fn stop(self) {
        for worker in self.workers {
            worker.stop().await;
        }
        if let Some(coordinator) = self.coordinator {
            coordinator.stop().await;
        }
        if let Some(keystore) = self.keystore {
            keystore.stop().await;
        }
        self.chain.stop().await;
    }
}

async fn start_keystore(
    listen: &str,
    flags: &[String],
) -> anyhow::Result<outlayer_keystore::Running> {
    let mut all = vec!["--listen", listen];
    all.extend(flags.iter().map(String::as_str));
    let keystore: KeystoreArgs = parse_flags(&all)?;
    let listen = keystore.listen;
    let service = Keystore::new(keystore.into_settings()?)?;
    outlayer_keystore::spawn(listen, service)
        .await
        .with_context(|| format!("keystore: cannot listen on {listen}"))
}

async fn start_coordinator(
    listen: &str,
    flags: &[String],
) -> anyhow::Result<outlayer_coordinator::Running> {
    let mut all = vec!["--listen", listen];
    all.extend(flags.iter().map(String::as_str));
    let config: outlayer_coordinator::Config = parse_flags(&all)?;
    outlayer_coordinator::spawn(config)
        .await
        .context("starting the coordinator")
}

/// The keystore's master secret, made once and kept (mode 0600): the keys
/// secrets are encrypted to stay the same from one `outlayer dev` to the next.
fn master_file(dir: &Path) -> anyhow::Result<PathBuf> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join("keystore-master.hex");
    if !path.exists() {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(random_hex().as_bytes())?;
    }
    Ok(path)
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS entropy source is available");
    hex::encode(bytes)
}

/// Starts the local chain (in this process, on its own runtime) with the
/// contract initialised.
async fn start_chain(args: &DevArgs) -> anyhow::Result<outlayer_devchain::Running> {
    // This checkout's wasm (or `OUTLAYER_CONTRACT_WASM`): one rule, the chain's.
    let contract_wasm = outlayer_devchain::contract_wasm_path();
    let wasm = std::fs::read(&contract_wasm).with_context(|| {
        format!(
            "the contract is not built ({}): run scripts/build-contract",
            contract_wasm.display()
        )
    })?;
    let listen: std::net::SocketAddr = args
        .rpc_listen
        .parse()
        .with_context(|| format!("--rpc-listen {}: not an address", args.rpc_listen))?;
    let config = outlayer_devchain::DevchainConfig {
        listen,
        block_interval: Duration::from_millis(args.block_ms),
        contract_wasm: Some(wasm),
        credentials_dir: Some(args.dir.join("near-credentials")),
        ..Default::default()
    };
    outlayer_devchain::spawn(config)
        .await
        .with_context(|| format!("local chain: cannot listen on {listen}"))
}
