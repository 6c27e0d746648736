//! Reading NEAR from inside a program: view calls and accounts, answered by
//! the worker's RPC endpoint, never by a socket the program opens. A P2
//! program (and JavaScript's `near.*`) asks with an HTTP request to the
//! reserved host [`NEAR_HOST`], which the sandbox answers itself
//! (`docs/near-reads.md`):
//!
//! - `POST http://near.invalid/view` with `{"contract_id", "method_name",
//!   "args"}` (`args`: any JSON, sent as the view's JSON arguments) answers
//!   200 with the view's result bytes;
//! - `POST http://near.invalid/account` with `{"account_id"}` answers 200
//!   with `{"amount", "locked", "code_hash", "storage_usage"}`;
//! - anything else answers 4xx/5xx with `{"error", "message"}`.
//!
//! Each execution has a budget of reads; each read is billed as
//! [`NEAR_READ_INSTRUCTIONS`] instructions (within `max_instructions`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use serde::Deserialize;
use serde_json::json;
use wasmtime_wasi_http::WasiBody;

/// The host name the sandbox answers for NEAR reads. `.invalid` never
/// resolves (RFC 2606), so no real server can ever be reached by it.
pub const NEAR_HOST: &str = "near.invalid";

/// What one read costs, in instructions: about what starting the
/// JavaScript engine costs, so reads are priced like the work they replace.
pub const NEAR_READ_INSTRUCTIONS: u64 = 5_000_000;

/// Largest request body a program may send with a read.
const MAX_READ_REQUEST_BYTES: usize = 64 * 1024;

/// One read a program asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NearRead {
    /// `call_function` with raw argument bytes.
    View {
        contract_id: String,
        method_name: String,
        args: Vec<u8>,
    },
    /// `view_account`.
    Account { account_id: String },
}

/// Why a read has no answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NearReadError {
    /// The account, contract or method does not exist, or the view failed.
    #[error("{0}")]
    Refused(String),
    /// The node did not answer usefully (down, timed out, rate limited).
    #[error("{0}")]
    Unavailable(String),
}

pub type ReadFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, NearReadError>> + Send + 'a>>;

/// Answers reads: the worker's RPC client with its rate limit.
pub trait NearReader: Send + Sync + 'static {
    /// The read's answer at the reader's block (the worker reads at
    /// `final`): the view's result bytes, or the account as JSON.
    fn read(&self, read: NearRead) -> ReadFuture<'_>;
}

/// What an execution may read from NEAR.
#[derive(Clone)]
pub struct NearReads {
    pub reader: Arc<dyn NearReader>,
    /// Reads per execution.
    pub max_reads: u32,
    /// Largest answer handed to the program.
    pub max_response_bytes: usize,
    /// Longest wait for one answer (the rate limit's wait included).
    pub timeout: Duration,
}

impl NearReads {
    pub const DEFAULT_MAX_READS: u32 = 32;
    pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 256 * 1024;
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    pub fn new(reader: Arc<dyn NearReader>) -> Self {
        Self {
            reader,
            max_reads: Self::DEFAULT_MAX_READS,
            max_response_bytes: Self::DEFAULT_MAX_RESPONSE_BYTES,
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }
}

impl fmt::Debug for NearReads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NearReads")
            .field("max_reads", &self.max_reads)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Reads made by one execution (counted when asked, answered or not).
#[derive(Clone, Default)]
pub(crate) struct ReadCount(Arc<AtomicU32>);

impl ReadCount {
    pub(crate) fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }

    /// Counts one more read if the budget allows it.
    fn take(&self, max: u32) -> bool {
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok()
    }
}

/// The instructions an execution is billed: its fuel plus its reads,
/// never above its budget.
pub(crate) fn billed_instructions(fuel: u64, reads: u32, max_instructions: u64) -> u64 {
    fuel.saturating_add(u64::from(reads) * NEAR_READ_INSTRUCTIONS)
        .min(max_instructions)
}

/// Answers one request to [`NEAR_HOST`].
pub(crate) async fn answer(
    reads: Option<&NearReads>,
    count: &ReadCount,
    request: http::Request<WasiBody>,
) -> http::Response<WasiBody> {
    let Some(reads) = reads else {
        return reply(
            403,
            error_body(
                "near_reads_disabled",
                "NEAR reads are off for this execution",
            ),
        );
    };
    let path = request.uri().path().to_owned();
    if request.method() != http::Method::POST {
        return reply(
            405,
            error_body("method_not_allowed", "NEAR reads are POST requests"),
        );
    }
    let body = match Limited::new(request.into_body(), MAX_READ_REQUEST_BYTES)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            return reply(
                413,
                error_body(
                    "payload_too_large",
                    &format!("a read's body is at most {MAX_READ_REQUEST_BYTES} bytes"),
                ),
            );
        }
    };
    let read = match parse(&path, &body) {
        Ok(read) => read,
        Err((status, code, message)) => return reply(status, error_body(code, &message)),
    };
    if !count.take(reads.max_reads) {
        return reply(
            429,
            error_body(
                "near_read_budget",
                &format!(
                    "the budget of {} NEAR reads per execution is spent",
                    reads.max_reads
                ),
            ),
        );
    }
    let answer = tokio::time::timeout(reads.timeout, reads.reader.read(read)).await;
    match answer {
        Err(_) => reply(
            504,
            error_body(
                "near_unavailable",
                &format!("no answer within {} s", reads.timeout.as_secs()),
            ),
        ),
        Ok(Err(NearReadError::Refused(message))) => {
            reply(404, error_body("near_refused", &message))
        }
        Ok(Err(NearReadError::Unavailable(message))) => {
            reply(502, error_body("near_unavailable", &message))
        }
        Ok(Ok(bytes)) if bytes.len() > reads.max_response_bytes => reply(
            502,
            error_body(
                "near_response_too_large",
                &format!(
                    "the answer has {} bytes, above the cap of {}",
                    bytes.len(),
                    reads.max_response_bytes
                ),
            ),
        ),
        Ok(Ok(bytes)) => reply(200, bytes),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ViewBody {
    contract_id: String,
    method_name: String,
    #[serde(default)]
    args: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountBody {
    account_id: String,
}

type Refusal = (u16, &'static str, String);

fn parse(path: &str, body: &[u8]) -> Result<NearRead, Refusal> {
    let bad = |e: serde_json::Error| (400, "bad_request", format!("invalid read: {e}"));
    let account = |id: &str| -> Result<String, Refusal> {
        id.parse::<outlayer_types::AccountId>()
            .map(|a| a.to_string())
            .map_err(|e| {
                (
                    400,
                    "bad_request",
                    format!("invalid account id {id:?}: {e}"),
                )
            })
    };
    match path {
        "/view" => {
            let view: ViewBody = serde_json::from_slice(body).map_err(bad)?;
            if view.method_name.is_empty() || view.method_name.len() > 256 {
                return Err((400, "bad_request", "method_name must be 1-256 bytes".into()));
            }
            let args = match view.args {
                None => Vec::new(),
                Some(value) => serde_json::to_vec(&value).expect("JSON values serialise"),
            };
            Ok(NearRead::View {
                contract_id: account(&view.contract_id)?,
                method_name: view.method_name,
                args,
            })
        }
        "/account" => {
            let body: AccountBody = serde_json::from_slice(body).map_err(bad)?;
            Ok(NearRead::Account {
                account_id: account(&body.account_id)?,
            })
        }
        other => Err((
            404,
            "not_found",
            format!("no NEAR read at {other:?}: POST /view or /account"),
        )),
    }
}

fn error_body(code: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"error": code, "message": message})).expect("JSON serialises")
}

fn reply(status: u16, body: Vec<u8>) -> http::Response<WasiBody> {
    let body = Full::new(Bytes::from(body))
        .map_err(|never| match never {})
        .boxed_unsync();
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body)
        .expect("a valid response")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_parse_strictly() {
        assert_eq!(
            parse(
                "/view",
                br#"{"contract_id":"app.near","method_name":"get","args":{"a":1}}"#
            ),
            Ok(NearRead::View {
                contract_id: "app.near".into(),
                method_name: "get".into(),
                args: br#"{"a":1}"#.to_vec(),
            })
        );
        assert_eq!(
            parse("/account", br#"{"account_id":"alice.near"}"#),
            Ok(NearRead::Account {
                account_id: "alice.near".into()
            })
        );
        assert_eq!(
            parse("/view", br#"{"contract_id":"Bad!","method_name":"x"}"#)
                .unwrap_err()
                .0,
            400
        );
        assert_eq!(
            parse("/account", br#"{"account_id":"a.near","x":1}"#)
                .unwrap_err()
                .0,
            400
        );
        assert_eq!(parse("/send", b"{}").unwrap_err().0, 404);
    }

    #[test]
    fn billing_adds_reads_within_the_budget() {
        assert_eq!(billed_instructions(100, 2, u64::MAX), 10_000_100);
        assert_eq!(billed_instructions(100, 2, 1_000_000), 1_000_000);
        let count = ReadCount::default();
        assert!(count.take(2) && count.take(2));
        assert!(!count.take(2));
        assert_eq!(count.get(), 2);
    }
}
