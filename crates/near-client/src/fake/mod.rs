//! A fake NEAR node for tests: in-memory accounts, view functions and
//! change methods served over real HTTP as NEAR JSON-RPC, answering in
//! nearcore's JSON shapes (including its quirks: a failing view is a `result`
//! with `error`), so code under test runs its production client against it.
//!
//! Transactions (`send_tx`, `broadcast_tx_commit`, then `tx`) are checked as
//! a node would: the signer and key must exist, the ED25519 signature over
//! `sha256(borsh(tx))` must verify, the nonce must exceed the key's, the
//! block hash must be one of the chain's and the signer must afford the
//! deposits (`InvalidTxError` otherwise). Accepted ones execute at once, in
//! the next two blocks: `Transfer` moves balance and `FunctionCall` runs the
//! method set with [`FakeChain::set_call`] (deposits are refunded on
//! failure); other actions fail with an `ActionError`. Gas is reported but
//! never charged, so balances stay exact.
//!
//! ```no_run
//! # async fn demo() {
//! use outlayer_near_client::fake::{CallOutcome, FakeChain, ViewOutcome};
//! let chain = FakeChain::start().await;
//! chain.add_account("alice.near", 10u128.pow(24));
//! chain.set_view("ft.near", "ft_balance_of", |_args| ViewOutcome::json(&"5"));
//! chain.set_call("ft.near", "ft_transfer", |call| {
//!     CallOutcome::nothing().log(format!("transfer by {}", call.signer_id))
//! });
//! let url = chain.url();
//! # }
//! ```

mod rpc;
mod state;
mod tx;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use outlayer_types::AccountId;
use serde::Serialize;
use serde_json::Value;

use crate::SignedTransaction;
use state::{FakeKey, State};

/// What a fake view function does when called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewOutcome {
    /// Returns these bytes (normally JSON).
    Return(Vec<u8>),
    /// Panics with this message, as `env::panic_str` would.
    Panic(String),
}

impl ViewOutcome {
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Self {
        Self::Return(serde_json::to_vec(value).expect("fake view result serialises"))
    }
}

/// A view function: gets the call's JSON arguments (`Null` when empty).
pub type ViewFn = Arc<dyn Fn(&Value) -> ViewOutcome + Send + Sync>;

/// A change method called by a transaction, as the method sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallContext {
    /// The transaction's signer (also the predecessor: no cross-contract
    /// calls here).
    pub signer_id: AccountId,
    pub receiver_id: AccountId,
    pub method_name: String,
    /// The argument bytes parsed as JSON (`Null` when empty or not JSON).
    pub args: Value,
    pub raw_args: Vec<u8>,
    pub gas: u64,
    /// Attached yoctoNEAR.
    pub deposit: u128,
}

/// What a fake change method does: return (bytes, normally JSON) or panic,
/// after logging `logs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallOutcome {
    pub result: ViewOutcome,
    pub logs: Vec<String>,
}

impl CallOutcome {
    /// Returns `value` as JSON.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Self {
        Self {
            result: ViewOutcome::json(value),
            logs: Vec::new(),
        }
    }

    /// Returns nothing (an empty `SuccessValue`).
    pub fn nothing() -> Self {
        Self {
            result: ViewOutcome::Return(Vec::new()),
            logs: Vec::new(),
        }
    }

    /// Panics with `message`, as `env::panic_str` would.
    pub fn panic(message: impl Into<String>) -> Self {
        Self {
            result: ViewOutcome::Panic(message.into()),
            logs: Vec::new(),
        }
    }

    /// Adds a log line (logs are kept when the method then panics).
    pub fn log(mut self, line: impl Into<String>) -> Self {
        self.logs.push(line.into());
        self
    }
}

/// A change method.
pub type CallFn = Arc<dyn Fn(&CallContext) -> CallOutcome + Send + Sync>;

/// How the fake node misbehaves, for failure tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Availability {
    #[default]
    Up,
    /// Every request gets HTTP 503 with a plain-text body.
    Unavailable,
    /// Every request waits this long before being answered.
    Slow(Duration),
}

/// A running fake node on `127.0.0.1:<random port>`; stops when dropped.
pub struct FakeChain {
    state: Arc<Mutex<State>>,
    url: String,
    server: tokio::task::JoinHandle<()>,
}

impl FakeChain {
    /// Starts the server on a free loopback port.
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::new()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the fake chain");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let app = rpc::router(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Self { state, url, server }
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Creates (or updates the balance of) an account.
    pub fn add_account(&self, account_id: &str, amount: u128) {
        self.lock().account_mut(&parse(account_id)).amount = amount;
    }

    /// Adds a full-access key (`ed25519:<base58>`) to an account, creating
    /// the account if needed.
    pub fn add_full_access_key(&self, account_id: &str, public_key: &str, nonce: u64) {
        self.lock().account_mut(&parse(account_id)).keys.insert(
            public_key.to_owned(),
            FakeKey {
                nonce,
                shown_nonce: None,
            },
        );
    }

    /// Moves an existing key's nonce to `nonce` as another sender would,
    /// while `view_access_key` keeps reporting the old one until the key's
    /// next accepted transaction: a transaction signed from the view is then
    /// refused with `InvalidNonce`.
    pub fn bump_nonce_unseen(&self, account_id: &str, public_key: &str, nonce: u64) {
        let mut state = self.lock();
        let key = state
            .account_mut(&parse(account_id))
            .keys
            .get_mut(public_key)
            .expect("bump_nonce_unseen: the key exists");
        key.shown_nonce.get_or_insert(key.nonce);
        key.nonce = nonce;
    }

    /// The key's nonce on chain (not as a lagging view shows it).
    pub fn access_key_nonce(&self, account_id: &str, public_key: &str) -> Option<u64> {
        let state = self.lock();
        let account = state.accounts.get(&parse(account_id))?;
        account.keys.get(public_key).map(|key| key.nonce)
    }

    /// The account's balance in yoctoNEAR, if it exists.
    pub fn balance(&self, account_id: &str) -> Option<u128> {
        self.lock()
            .accounts
            .get(&parse(account_id))
            .map(|account| account.amount)
    }

    /// Deploys change method `method` on `contract` (creating the account
    /// if needed); transactions calling it run `call`.
    pub fn set_call<F>(&self, contract: &str, method: &str, call: F)
    where
        F: Fn(&CallContext) -> CallOutcome + Send + Sync + 'static,
    {
        let contract = parse(contract);
        let mut state = self.lock();
        state.account_mut(&contract).has_code = true;
        state
            .calls
            .insert((contract, method.to_owned()), Arc::new(call));
    }

    /// The transactions accepted so far, in order.
    pub fn transactions(&self) -> Vec<SignedTransaction> {
        self.lock().transactions.clone()
    }

    /// Deploys `method` on `contract` (creating the account if needed).
    pub fn set_view<F>(&self, contract: &str, method: &str, view: F)
    where
        F: Fn(&Value) -> ViewOutcome + Send + Sync + 'static,
    {
        let contract = parse(contract);
        let mut state = self.lock();
        state.account_mut(&contract).has_code = true;
        state
            .views
            .insert((contract, method.to_owned()), Arc::new(view));
    }

    /// Makes the next requests fail or stall; `Up` restores service.
    pub fn set_availability(&self, availability: Availability) {
        self.lock().availability = availability;
    }

    /// Produces `n` empty blocks (each accepted transaction adds two: one
    /// including it, one executing its receipt).
    pub fn advance(&self, n: u64) {
        self.lock().height += n;
    }

    /// How many `query` requests were answered so far (reads are bounded;
    /// tests check the bound).
    pub fn queries(&self) -> u64 {
        self.lock().queries
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("fake chain state poisoned")
    }
}

impl Drop for FakeChain {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn parse(account_id: &str) -> AccountId {
    account_id.parse().expect("valid account id in a test")
}
