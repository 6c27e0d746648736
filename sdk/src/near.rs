//! Reading NEAR from a WASI P2 program: view calls and accounts at `final`,
//! answered by the worker (never a socket of the program's), within the
//! execution's budget of reads. The same reads JavaScript's `near.view` and
//! `near.account` make (`docs/javascript.md`, *Reading NEAR*).
//!
//! ```no_run
//! let config: serde_json::Value =
//!     outlayer_sdk::near::view_json("outlayer.near", "get_config", &serde_json::json!({}))
//!         .expect("the view");
//! ```

use serde::Deserialize;
use serde::de::DeserializeOwned;
use wasi::http::outgoing_handler;
use wasi::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
use wasi::io::streams::StreamError;

/// The host the sandbox answers reads at.
const NEAR_HOST: &str = "near.invalid";

/// Why a read has no answer: the sandbox's status and `{error, message}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NearError {
    /// 0 when the request could not be made at all.
    pub status: u16,
    /// `near_refused`, `near_read_budget`, `near_unavailable`, …
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for NearError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for NearError {}

/// An account as `near::account` returns it (yoctoNEAR as decimal strings).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Account {
    pub amount: String,
    pub locked: String,
    pub code_hash: String,
    pub storage_usage: u64,
}

/// A view call with JSON arguments: its result bytes.
pub fn view(
    contract_id: &str,
    method_name: &str,
    args: &serde_json::Value,
) -> Result<Vec<u8>, NearError> {
    read(
        "/view",
        &serde_json::json!({"contract_id": contract_id, "method_name": method_name, "args": args}),
    )
}

/// A view call whose result is JSON, parsed.
pub fn view_json<T: DeserializeOwned>(
    contract_id: &str,
    method_name: &str,
    args: &serde_json::Value,
) -> Result<T, NearError> {
    let bytes = view(contract_id, method_name, args)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| local(format!("the view's result is not the JSON expected: {e}")))
}

/// An account's balance, stake, code hash and storage.
pub fn account(account_id: &str) -> Result<Account, NearError> {
    let bytes = read("/account", &serde_json::json!({"account_id": account_id}))?;
    serde_json::from_slice(&bytes).map_err(|e| local(format!("unexpected account answer: {e}")))
}

fn local(message: String) -> NearError {
    NearError {
        status: 0,
        code: "near_client".into(),
        message,
    }
}

fn read(path: &str, body: &serde_json::Value) -> Result<Vec<u8>, NearError> {
    let body = serde_json::to_vec(body).expect("JSON serialises");
    let fail = |m: &str| local(m.to_owned());
    let headers = Fields::new();
    headers
        .append("content-type", b"application/json")
        .map_err(|_| fail("header refused"))?;
    let request = OutgoingRequest::new(headers);
    request
        .set_method(&Method::Post)
        .map_err(|()| fail("method"))?;
    request
        .set_scheme(Some(&Scheme::Http))
        .map_err(|()| fail("scheme"))?;
    request
        .set_authority(Some(NEAR_HOST))
        .map_err(|()| fail("authority"))?;
    request
        .set_path_with_query(Some(path))
        .map_err(|()| fail("path"))?;
    let outgoing = request.body().map_err(|()| fail("request body"))?;
    let pending = outgoing_handler::handle(request, None)
        .map_err(|e| local(format!("the sandbox refused the read: {e:?}")))?;
    {
        let stream = outgoing.write().map_err(|()| fail("request stream"))?;
        stream
            .blocking_write_and_flush(&body)
            .map_err(|e| local(format!("sending the read: {e:?}")))?;
    }
    OutgoingBody::finish(outgoing, None).map_err(|e| local(format!("sending the read: {e:?}")))?;
    pending.subscribe().block();
    let response = pending
        .get()
        .ok_or_else(|| fail("no answer"))?
        .map_err(|()| fail("answer already taken"))?
        .map_err(|e| local(format!("the read failed: {e:?}")))?;
    let status = response.status();
    let incoming = response.consume().map_err(|()| fail("answer body"))?;
    let stream = incoming.stream().map_err(|()| fail("answer stream"))?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(local(format!(
                    "reading the answer: {}",
                    e.to_debug_string()
                )));
            }
        }
    }
    if status == 200 {
        return Ok(bytes);
    }
    #[derive(Deserialize)]
    struct Refusal {
        error: String,
        message: String,
    }
    let refusal: Refusal = serde_json::from_slice(&bytes).map_err(|_| NearError {
        status,
        code: "near_unavailable".into(),
        message: String::from_utf8_lossy(&bytes).into_owned(),
    })?;
    Err(NearError {
        status,
        code: refusal.error,
        message: refusal.message,
    })
}
