//! The running chain: a block producer on a timer and the HTTP server
//! (JSON-RPC at `/`, nearcore's `/status`, the block stream at `/v0/...`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use near_primitives::transaction::{SignedTransaction, Transaction, TransactionV0};
use near_primitives::types::{AccountId, Balance, Gas};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::chain::{Chain, ChainConfig};
use crate::genesis::{Genesis, GenesisAccounts, write_credentials};

#[derive(Clone, Debug)]
pub struct DevchainConfig {
    pub listen: SocketAddr,
    pub block_interval: Duration,
    pub chain: ChainConfig,
    pub accounts: GenesisAccounts,
    /// The contract deployed at genesis and initialised in block 2.
    pub contract_wasm: Option<Vec<u8>>,
    /// near-cli credentials are written under `<dir>/<chain_id>/`.
    pub credentials_dir: Option<PathBuf>,
    /// How long `send_tx` / `tx` wait for their condition.
    pub wait_timeout: Duration,
}

impl Default for DevchainConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3030)),
            block_interval: Duration::from_millis(200),
            chain: ChainConfig::default(),
            accounts: GenesisAccounts::default(),
            contract_wasm: None,
            credentials_dir: None,
            wait_timeout: crate::rpc::WAIT_TIMEOUT,
        }
    }
}

/// What handlers share: the chain and a signal for every new block.
#[derive(Clone)]
pub struct Shared {
    chain: Arc<Mutex<Chain>>,
    heads: watch::Sender<u64>,
    pub(crate) wait_timeout: Duration,
}

impl Shared {
    pub fn new(chain: Chain, wait_timeout: Duration) -> Self {
        let (heads, _) = watch::channel(chain.head().height);
        Self {
            chain: Arc::new(Mutex::new(chain)),
            heads,
            wait_timeout,
        }
    }

    /// The chain; a panic while it was held leaves it usable for reads.
    pub fn chain(&self) -> MutexGuard<'_, Chain> {
        self.chain.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn heads(&self) -> watch::Receiver<u64> {
        self.heads.subscribe()
    }

    /// Produces one block and tells every waiter.
    pub fn produce_block(&self) -> u64 {
        let height = self.chain().produce_block().height;
        self.heads.send_replace(height);
        height
    }
}

pub fn router(shared: Shared) -> Router {
    Router::new()
        .route("/", post(crate::rpc::handle))
        .route("/status", get(crate::stream::status))
        .route("/health", get(|| async { "" }))
        .route("/v0/block/{height}", get(crate::stream::block))
        .route("/v0/last_block/final", get(crate::stream::last_block))
        .with_state(shared)
        // Any page may read a public chain: NEAR's RPC providers answer
        // every origin, and the dashboard relies on it.
        .layer(tower_http::cors::CorsLayer::permissive())
}

/// A running local chain.
pub struct Devchain {
    pub url: String,
    pub shared: Shared,
    pub genesis_accounts: GenesisAccounts,
    pub keys: Vec<(AccountId, near_crypto::SecretKey)>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Devchain {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Devchain {
    /// Builds genesis, initialises the contract, binds the server and
    /// starts producing blocks.
    pub async fn start(config: DevchainConfig) -> anyhow::Result<Self> {
        let has_contract = config.contract_wasm.is_some();
        let genesis = Genesis::new(config.accounts.clone(), config.contract_wasm.clone());
        if let Some(dir) = &config.credentials_dir {
            write_credentials(dir, &config.chain.chain_id, &genesis.keys)?;
        }
        let mut chain = Chain::new(config.chain.clone(), genesis.state.clone());
        if has_contract {
            init_contract(&mut chain, &genesis)?;
        }
        let shared = Shared::new(chain, config.wait_timeout);
        let listener = TcpListener::bind(config.listen).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = router(shared.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "devchain server stopped");
            }
        });
        let producer = {
            let shared = shared.clone();
            let interval = config.block_interval;
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval(interval);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    ticks.tick().await;
                    let shared = shared.clone();
                    if tokio::task::spawn_blocking(move || shared.produce_block())
                        .await
                        .is_err()
                    {
                        tracing::error!("block production panicked");
                    }
                }
            })
        };
        Ok(Self {
            url,
            shared,
            genesis_accounts: genesis.accounts.clone(),
            keys: genesis.keys.clone(),
            tasks: vec![server, producer],
        })
    }

    pub fn key(&self, id: &AccountId) -> Option<&near_crypto::SecretKey> {
        self.keys.iter().find(|(a, _)| a == id).map(|(_, k)| k)
    }
}

/// A local chain on its own runtime (its own threads), as it ran when it was
/// a separate process: block production and VM calls never hold up the
/// services that share the process.
pub struct Running {
    pub url: String,
    pub genesis_accounts: GenesisAccounts,
    pub keys: Vec<(AccountId, near_crypto::SecretKey)>,
    pub shared: Shared,
    devchain: Option<Devchain>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// Starts a local chain on a runtime of its own; [`Running::stop`] (or
/// dropping it) ends it and frees its port.
pub async fn spawn(config: DevchainConfig) -> anyhow::Result<Running> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("devchain")
        .enable_all()
        .build()?;
    let devchain = runtime.spawn(Devchain::start(config)).await??;
    Ok(Running {
        url: devchain.url.clone(),
        genesis_accounts: devchain.genesis_accounts.clone(),
        keys: devchain.keys.clone(),
        shared: devchain.shared.clone(),
        devchain: Some(devchain),
        runtime: Some(runtime),
    })
}

impl Running {
    pub fn key(&self, id: &AccountId) -> Option<&near_crypto::SecretKey> {
        self.keys.iter().find(|(a, _)| a == id).map(|(_, k)| k)
    }

    /// Stops producing blocks and serving; the port is free on return.
    pub async fn stop(mut self) {
        let tasks = self
            .devchain
            .as_mut()
            .map(|d| std::mem::take(&mut d.tasks))
            .unwrap_or_default();
        for task in &tasks {
            task.abort();
        }
        for task in tasks {
            let _ = task.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.devchain.take();
        // Dropping a runtime blocks, which an async context forbids.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Calls the contract's `new` from its own account, through a real
/// transaction, and produces the block that executes it.
pub fn init_contract(chain: &mut Chain, genesis: &Genesis) -> anyhow::Result<()> {
    let accounts = &genesis.accounts;
    let args = serde_json::json!({"owner_id": accounts.owner, "operator_id": accounts.operator});
    let key = genesis
        .key(&accounts.contract)
        .ok_or_else(|| anyhow::anyhow!("no key for {}", accounts.contract))?;
    let tx = sign_function_call(
        chain,
        &accounts.contract,
        key,
        &accounts.contract,
        "new",
        serde_json::to_vec(&args)?,
        300_000_000_000_000,
        0,
    );
    let hash = chain
        .submit(tx)
        .map_err(|e| anyhow::anyhow!("init refused: {e:?}"))?;
    chain.produce_block();
    match chain.final_status(&hash) {
        Some(crate::FinalStatus::Success(_)) => Ok(()),
        other => anyhow::bail!("contract init failed: {other:?}"),
    }
}

/// Signs a single function call with the key's next nonce, on the head
/// block (for genesis set-up and tests; clients sign their own).
#[allow(clippy::too_many_arguments)]
pub fn sign_function_call(
    chain: &Chain,
    signer: &AccountId,
    key: &near_crypto::SecretKey,
    receiver: &AccountId,
    method: &str,
    args: Vec<u8>,
    gas: u64,
    deposit: u128,
) -> SignedTransaction {
    let action = near_primitives::action::Action::FunctionCall(Box::new(
        near_primitives::action::FunctionCallAction {
            method_name: method.into(),
            args,
            gas: Gas::from_gas(gas),
            deposit: Balance::from_yoctonear(deposit),
        },
    ));
    sign(chain, signer, key, receiver, vec![action])
}

/// Signs actions with the key's next nonce on the head block.
pub fn sign(
    chain: &Chain,
    signer: &AccountId,
    key: &near_crypto::SecretKey,
    receiver: &AccountId,
    actions: Vec<near_primitives::action::Action>,
) -> SignedTransaction {
    let nonce = chain
        .state
        .access_key(signer, &key.public_key())
        .map_or(0, |k| k.nonce)
        + 1;
    let tx = Transaction::V0(TransactionV0 {
        signer_id: signer.clone(),
        public_key: key.public_key(),
        nonce,
        receiver_id: receiver.clone(),
        block_hash: chain.head().hash,
        actions,
    });
    let (hash, _) = tx.get_hash_and_size();
    SignedTransaction::new(key.sign(hash.as_ref()), tx)
}
