//! A fake NEAR node for tests: in-memory accounts and view functions served
//! over real HTTP as NEAR JSON-RPC, answering in nearcore's JSON shapes
//! (including its quirks: a failing view is a `result` with `error`), so code
//! under test runs its production client against it.
//!
//! ```no_run
//! # async fn demo() {
//! use outlayer_near_client::fake::{FakeChain, ViewOutcome};
//! let chain = FakeChain::start().await;
//! chain.add_account("alice.near", 10u128.pow(24));
//! chain.set_view("ft.near", "ft_balance_of", |_args| ViewOutcome::json(&"5"));
//! let url = chain.url();
//! # }
//! ```

mod rpc;
mod state;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use outlayer_types::AccountId;
use serde::Serialize;
use serde_json::Value;

use state::State;

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

    /// Adds a full-access key (`ed25519:<base58>`) to an existing account.
    pub fn add_full_access_key(&self, account_id: &str, public_key: &str, nonce: u64) {
        self.lock()
            .account_mut(&parse(account_id))
            .keys
            .insert(public_key.to_owned(), nonce);
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

    /// Produces `n` empty blocks.
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
