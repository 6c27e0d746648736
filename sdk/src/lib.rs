//! Helpers for OutLayer guest programs (built for `wasm32-wasip1` or
//! `wasm32-wasip2`): read the input, write the result, read the request's
//! context and secrets. Everything here is plain WASI (stdin, stdout,
//! environment), so programs also run unchanged under `outlayer run`.
//!
//! ```no_run
//! #[derive(serde::Deserialize)]
//! struct Args { name: String }
//!
//! let args: Args = outlayer_sdk::input_json().expect("JSON input");
//! let context = outlayer_sdk::Context::from_env();
//! outlayer_sdk::output_json(&serde_json::json!({
//!     "greeting": format!("hello {}", args.name),
//!     "caller": context.sender_id,
//! }));
//! ```

use std::io::{Read, Write};

#[cfg(all(target_os = "wasi", target_env = "p2"))]
pub mod near;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The request's input (stdin), all of it.
pub fn input() -> Vec<u8> {
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .expect("stdin is readable");
    buf
}

/// The input as UTF-8 text (invalid sequences replaced).
pub fn input_string() -> String {
    String::from_utf8_lossy(&input()).into_owned()
}

/// The input parsed as JSON.
pub fn input_json<T: DeserializeOwned>() -> Result<T, serde_json::Error> {
    serde_json::from_slice(&input())
}

/// Writes the result (stdout). Call once: everything written to stdout is
/// the result.
pub fn output(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes).expect("stdout is writable");
    stdout.flush().expect("stdout flushes");
}

/// Writes the result as JSON (for `response_format: "Json"`).
pub fn output_json<T: Serialize>(value: &T) {
    output(&serde_json::to_vec(value).expect("value serialises to JSON"));
}

/// A secret the caller stored for this program, by name. Names the runtime
/// reserves (`NEAR_*`, `OUTLAYER_*`, `TZ`, `LANG`) are never secrets.
pub fn secret(name: &str) -> Option<String> {
    if is_reserved(name) {
        return None;
    }
    std::env::var(name).ok()
}

/// Names of all secrets present (never their values).
pub fn secret_names() -> Vec<String> {
    let mut names: Vec<String> = std::env::vars()
        .map(|(k, _)| k)
        .filter(|k| !is_reserved(k))
        .collect();
    names.sort();
    names
}

fn is_reserved(name: &str) -> bool {
    name.starts_with("NEAR_") || name.starts_with("OUTLAYER_") || name == "TZ" || name == "LANG"
}

/// The request's on-chain context and limits, from the environment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Context {
    pub request_id: Option<u64>,
    pub sender_id: Option<String>,
    pub predecessor_id: Option<String>,
    pub contract_id: Option<String>,
    pub block_height: Option<u64>,
    /// Nanoseconds since the Unix epoch.
    pub block_timestamp: Option<u64>,
    pub transaction_hash: Option<String>,
    pub max_instructions: Option<u64>,
    pub max_memory_mb: Option<u64>,
    pub max_execution_seconds: Option<u64>,
    /// `NEAR`, `HTTPS` or `LOCAL`.
    pub execution_type: Option<String>,
}

impl Context {
    pub fn from_env() -> Self {
        let text = |name: &str| std::env::var(name).ok();
        let number = |name: &str| text(name).and_then(|v| v.parse().ok());
        Self {
            request_id: number("NEAR_REQUEST_ID"),
            sender_id: text("NEAR_SENDER_ID"),
            predecessor_id: text("NEAR_PREDECESSOR_ID"),
            contract_id: text("NEAR_CONTRACT_ID"),
            block_height: number("NEAR_BLOCK_HEIGHT"),
            block_timestamp: number("NEAR_BLOCK_TIMESTAMP"),
            transaction_hash: text("NEAR_TRANSACTION_HASH"),
            max_instructions: number("NEAR_MAX_INSTRUCTIONS"),
            max_memory_mb: number("NEAR_MAX_MEMORY_MB"),
            max_execution_seconds: number("NEAR_MAX_EXECUTION_SECONDS"),
            execution_type: text("OUTLAYER_EXECUTION_TYPE"),
        }
    }

    /// True when running for an on-chain request.
    pub fn is_request(&self) -> bool {
        self.request_id.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_are_not_secrets() {
        for name in ["NEAR_SENDER_ID", "OUTLAYER_EXECUTION_TYPE", "TZ", "LANG"] {
            assert!(is_reserved(name));
        }
        assert!(!is_reserved("API_KEY"));
    }
}
