//! What can go wrong talking to a NEAR node, by cause: callers decide between
//! "the answer is no" (unknown account, a view that panicked) and "no answer"
//! (timeout, transport, a node error).

use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The node did not answer within the client's timeout.
    #[error("NEAR RPC {method} timed out after {after:?}")]
    Timeout { method: String, after: Duration },
    /// Connecting, sending or reading failed.
    #[error("NEAR RPC {method} failed: {message}")]
    Transport { method: String, message: String },
    /// A non-200 HTTP status without a JSON-RPC error body.
    #[error("NEAR RPC {method} answered HTTP {status}")]
    Http { method: String, status: u16 },
    /// The answer was not the JSON we expected.
    #[error("NEAR RPC {method}: unexpected response: {message}")]
    Decode { method: String, message: String },
    #[error("account {account_id} does not exist")]
    UnknownAccount { account_id: String },
    #[error("access key {public_key} does not exist")]
    UnknownAccessKey { public_key: String },
    #[error("account {account_id} has no contract deployed")]
    NoContractCode { account_id: String },
    /// The view function failed (panicked, missing method, bad arguments).
    #[error("contract execution failed: {message}")]
    ContractExecution { message: String },
    #[error("block not found: {message}")]
    UnknownBlock { message: String },
    /// Any other structured nearcore error (`cause.name`, e.g. `NO_SYNCED_BLOCKS`).
    #[error("NEAR RPC error {name}/{cause}: {message}")]
    Rpc {
        name: String,
        cause: String,
        message: String,
    },
}

impl Error {
    /// True when the node gave no answer, so asking again may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Timeout { .. } | Self::Transport { .. } | Self::Http { .. }
        )
    }
}
