//! Test support for other crates' tests against the local chain: a contract
//! whose views answer what a test stored for them, and an RPC proxy that
//! misbehaves on demand (an unavailable or slow node, a lagging view). The
//! chain itself stays the one chain: the views run as wasm in nearcore's VM
//! and every read goes through the chain's JSON-RPC.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;

/// The view methods of [`answers_wasm`], in the order of their ids.
pub const ANSWER_METHODS: [&str; 6] = [
    "ft_balance_of",
    "nft_token",
    "nft_tokens_for_owner",
    "get_request",
    "get_secrets",
    "get_config",
];

/// A contract whose views (the [`ANSWER_METHODS`]) answer what was stored
/// for their exact argument bytes ([`set_answer`]), else the method's
/// default ([`set_default_answer`]), else `null`. `set` stores an answer,
/// `unset` removes one; both are ordinary function calls, so answers are
/// chain state, paid for like any other.
pub fn answers_wasm() -> Vec<u8> {
    let views: String = ANSWER_METHODS
        .iter()
        .enumerate()
        .map(|(id, name)| {
            format!(
                "  (func (export \"{name}\") (call $answer (i32.const {})))\n",
                id + 1
            )
        })
        .collect();
    let wat = format!(
        r#"(module
  (import "env" "input" (func $input (param i64)))
  (import "env" "register_len" (func $register_len (param i64) (result i64)))
  (import "env" "read_register" (func $read_register (param i64 i64)))
  (import "env" "storage_read" (func $storage_read (param i64 i64 i64) (result i64)))
  (import "env" "storage_write" (func $storage_write (param i64 i64 i64 i64 i64) (result i64)))
  (import "env" "storage_remove" (func $storage_remove (param i64 i64 i64) (result i64)))
  (import "env" "value_return" (func $value_return (param i64 i64)))
  (import "env" "panic_utf8" (func $panic_utf8 (param i64 i64)))
  (memory 8)
  (data (i32.const 0) "null")
  ;; 16..18: a default's key; 1024..: the input; 262144..: a stored answer.
  (func $reply
    (local $len i64)
    (local.set $len (call $register_len (i64.const 1)))
    (call $read_register (i64.const 1) (i64.const 262144))
    (if (i32.eq (i32.load8_u (i32.const 262144)) (i32.const 1))
      (then (call $panic_utf8 (i64.sub (local.get $len) (i64.const 1)) (i64.const 262145)))
      (else (call $value_return (i64.sub (local.get $len) (i64.const 1)) (i64.const 262145)))))
  (func $answer (param $method i32)
    (call $input (i64.const 0))
    (call $read_register (i64.const 0) (i64.const 1024))
    (if (i64.eq (call $storage_read (call $register_len (i64.const 0)) (i64.const 1024) (i64.const 1))
                (i64.const 1))
      (then (call $reply) (return)))
    (i32.store8 (i32.const 16) (i32.const 255))
    (i32.store8 (i32.const 17) (local.get $method))
    (if (i64.eq (call $storage_read (i64.const 2) (i64.const 16) (i64.const 1)) (i64.const 1))
      (then (call $reply) (return)))
    (call $value_return (i64.const 4) (i64.const 0)))
  (func (export "set")
    (local $len i64) (local $key_len i64)
    (call $input (i64.const 0))
    (local.set $len (call $register_len (i64.const 0)))
    (call $read_register (i64.const 0) (i64.const 1024))
    (local.set $key_len (i64.extend_i32_u (i32.load (i32.const 1024))))
    (drop (call $storage_write
      (local.get $key_len) (i64.const 1028)
      (i64.sub (i64.sub (local.get $len) (i64.const 4)) (local.get $key_len))
      (i64.add (i64.const 1028) (local.get $key_len))
      (i64.const 2))))
  (func (export "unset")
    (call $input (i64.const 0))
    (call $read_register (i64.const 0) (i64.const 1024))
    (drop (call $storage_remove (call $register_len (i64.const 0)) (i64.const 1024) (i64.const 2))))
{views})"#
    );
    wat::parse_str(wat).expect("the answers contract assembles")
}

/// What a view of [`answers_wasm`] does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Returns these bytes (normally JSON).
    Return(Vec<u8>),
    /// Panics with this message, as `env::panic_str` would.
    Panic(String),
}

impl Answer {
    pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Self {
        Self::Return(serde_json::to_vec(value).expect("an answer serialises"))
    }

    fn stored(&self) -> Vec<u8> {
        match self {
            Self::Return(bytes) => [&[0u8][..], bytes].concat(),
            Self::Panic(message) => [&[1u8][..], message.as_bytes()].concat(),
        }
    }
}

/// The arguments of `set` storing `answer` for views called with exactly
/// `view_args`.
pub fn set_answer(view_args: &[u8], answer: &Answer) -> Vec<u8> {
    let key_len = u32::try_from(view_args.len()).expect("arguments under 4 GiB");
    [&key_len.to_le_bytes()[..], view_args, &answer.stored()].concat()
}

/// The arguments of `set` storing `answer` for calls of `method` with
/// arguments nothing was stored for.
pub fn set_default_answer(method: &str, answer: &Answer) -> Vec<u8> {
    set_answer(&default_key(method), answer)
}

/// The arguments of `unset` removing the default of `method`.
pub fn default_key(method: &str) -> Vec<u8> {
    let id = ANSWER_METHODS
        .iter()
        .position(|m| *m == method)
        .expect("one of ANSWER_METHODS");
    vec![255, id as u8 + 1]
}

/// How [`FlakyRpc`] answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Availability {
    #[default]
    Up,
    /// Every request gets HTTP 503 with a plain-text body, as an overloaded
    /// node behind a load balancer.
    Unavailable,
    /// Every request waits this long before it is forwarded.
    Slow(Duration),
}

#[derive(Default)]
struct Faults {
    availability: Availability,
    queries: u64,
    /// `(account, public key)` → the nonce `view_access_key` keeps showing.
    held_nonces: HashMap<(String, String), u64>,
}

/// A JSON-RPC proxy on `127.0.0.1:<random port>` in front of a chain: it
/// forwards every request unchanged unless told to fail, stall, or show an
/// access key's old nonce (as an RPC node that lags behind the one that
/// took a transaction); it counts `query` requests. Stops when dropped.
pub struct FlakyRpc {
    faults: Arc<Mutex<Faults>>,
    url: String,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Upstream {
    url: String,
    client: reqwest::Client,
    faults: Arc<Mutex<Faults>>,
}

impl FlakyRpc {
    pub async fn start(upstream: &str) -> std::io::Result<Self> {
        let faults = Arc::new(Mutex::new(Faults::default()));
        let state = Upstream {
            url: upstream.to_owned(),
            client: reqwest::Client::new(),
            faults: faults.clone(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = Router::new().route("/", post(forward)).with_state(state);
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Ok(Self {
            faults,
            url,
            server,
        })
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn set_availability(&self, availability: Availability) {
        self.lock().availability = availability;
    }

    /// `query` requests forwarded so far.
    pub fn queries(&self) -> u64 {
        self.lock().queries
    }

    /// `view_access_key` shows `nonce` for this key until a transaction
    /// sent through this proxy is accepted.
    pub fn hold_nonce(&self, account_id: &str, public_key: &str, nonce: u64) {
        self.lock()
            .held_nonces
            .insert((account_id.to_owned(), public_key.to_owned()), nonce);
    }

    fn lock(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for FlakyRpc {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn forward(State(up): State<Upstream>, body: Bytes) -> Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let method = request["method"].as_str().unwrap_or_default().to_owned();
    let (availability, held) = {
        let mut faults = up.faults.lock().unwrap_or_else(|e| e.into_inner());
        if method == "query" {
            faults.queries += 1;
        }
        let params = &request["params"];
        let key = (
            params["account_id"].as_str().unwrap_or_default().to_owned(),
            params["public_key"].as_str().unwrap_or_default().to_owned(),
        );
        let held = (params["request_type"] == "view_access_key")
            .then(|| faults.held_nonces.get(&key).copied())
            .flatten();
        (faults.availability, held)
    };
    match availability {
        Availability::Up => {}
        Availability::Unavailable => {
            return (StatusCode::SERVICE_UNAVAILABLE, "node unavailable").into_response();
        }
        Availability::Slow(delay) => tokio::time::sleep(delay).await,
    }
    let answer = up
        .client
        .post(&up.url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let bytes = answer.bytes().await.unwrap_or_default();
    let sends = matches!(
        method.as_str(),
        "send_tx" | "broadcast_tx_commit" | "broadcast_tx_async"
    );
    if sends && serde_json::from_slice::<Value>(&bytes).is_ok_and(|v| v.get("result").is_some()) {
        // A transaction was accepted: views catch up.
        up.faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .held_nonces
            .clear();
    }
    let bytes = match held {
        Some(nonce) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(mut value) if value["result"]["nonce"].is_u64() => {
                value["result"]["nonce"] = nonce.into();
                serde_json::to_vec(&value).unwrap_or_default().into()
            }
            _ => bytes,
        },
        None => bytes,
    };
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        bytes,
    )
        .into_response()
}

/// Runs a transaction of `actions` from `signer` (a genesis account) to
/// `receiver` on a running chain, producing blocks until it has settled;
/// panics unless it succeeded. For setting up a test's chain state.
pub fn run_tx(
    chain: &crate::Running,
    signer: &str,
    receiver: &str,
    actions: Vec<near_primitives::action::Action>,
) {
    let signer_id: near_primitives::types::AccountId = signer.parse().expect("a valid signer id");
    let receiver_id: near_primitives::types::AccountId =
        receiver.parse().expect("a valid receiver id");
    let key = chain.key(&signer_id).expect("a genesis account").clone();
    let shared = &chain.shared;
    let tx = crate::server::sign(&shared.chain(), &signer_id, &key, &receiver_id, actions);
    let hash = shared.chain().submit(tx).expect("the transaction is valid");
    for _ in 0..10 {
        shared.produce_block();
        let chain = shared.chain();
        if chain.is_settled(&hash) {
            let status = chain.final_status(&hash);
            assert!(
                matches!(status, Some(crate::FinalStatus::Success(_))),
                "{status:?}"
            );
            return;
        }
    }
    panic!("{hash} did not settle");
}

/// Calls `method` of `receiver` with raw argument bytes and 30 Tgas
/// ([`run_tx`]).
pub fn call_raw(chain: &crate::Running, signer: &str, receiver: &str, method: &str, args: Vec<u8>) {
    let action = near_primitives::action::Action::FunctionCall(Box::new(
        near_primitives::action::FunctionCallAction {
            method_name: method.into(),
            args,
            gas: near_primitives::types::Gas::from_gas(30_000_000_000_000),
            deposit: near_primitives::types::Balance::ZERO,
        },
    ));
    run_tx(chain, signer, receiver, vec![action]);
}

/// Deploys `code` on `account` (a genesis account), by its own key ([`run_tx`]).
pub fn deploy(chain: &crate::Running, account: &str, code: Vec<u8>) {
    let action = near_primitives::action::Action::DeployContract(
        near_primitives::action::DeployContractAction { code },
    );
    run_tx(chain, account, account, vec![action]);
}
