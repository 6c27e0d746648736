//! NEP-297 events the contract emits and the worker's event monitor parses:
//! `EVENT_JSON:{"standard":"near-outlayer","version":"1.0.0","event":...,"data":[...]}`.

use near_account_id::AccountId;
use serde::{Deserialize, Serialize};

use crate::{
    CodeSource, ExecutionContext, ResourceLimits, ResourceMetrics, ResponseFormat, SecretsRef, U128,
};

pub const EVENT_STANDARD: &str = "near-outlayer";
pub const EVENT_VERSION: &str = "1.0.0";
pub const EVENT_LOG_PREFIX: &str = "EVENT_JSON:";

/// Everything a worker needs to run one request (the `execution_requested`
/// event's data, and the coordinator's record of a request).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionRequest {
    pub context: ExecutionContext,
    pub code_source: CodeSource,
    pub resource_limits: ResourceLimits,
    /// The program's stdin; `None` when `input_in_state` (large inputs stay
    /// in contract state and are read with a view call).
    #[serde(default)]
    pub input_data: Option<String>,
    #[serde(default)]
    pub input_in_state: bool,
    #[serde(default)]
    pub secrets_ref: Option<SecretsRef>,
    #[serde(default)]
    pub response_format: ResponseFormat,
    /// The deposit paid for this request.
    pub payment: U128,
    /// Who receives the refund.
    pub payer_account_id: AccountId,
    /// The build time this request paid for (the contract's
    /// `max_compile_seconds` when it was made); absent in older events.
    #[serde(default)]
    pub max_compile_seconds: Option<u64>,
}

/// The `execution_completed` event's data: how a request was settled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionCompleted {
    pub request_id: u64,
    pub success: bool,
    /// Short, safe failure reason (including a yield timeout).
    #[serde(default)]
    pub error: Option<String>,
    pub resources_used: ResourceMetrics,
    pub charged: U128,
    pub refunded: U128,
}

/// The `refund_failed` event's data: a transfer the contract made did not
/// reach `account_id` (it does not exist, or no longer does). The money went
/// to `redirected_to` instead (the account that paid), or, when that is
/// `None`, is kept for `account_id` to take with `claim_refund`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundFailed {
    pub account_id: AccountId,
    pub amount: U128,
    #[serde(default)]
    pub redirected_to: Option<AccountId>,
}

/// One OutLayer event, as found in a receipt's logs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum OutlayerEvent {
    ExecutionRequested(Vec<ExecutionRequest>),
    ExecutionCompleted(Vec<ExecutionCompleted>),
    RefundFailed(Vec<RefundFailed>),
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    standard: String,
    version: String,
    #[serde(flatten)]
    event: OutlayerEvent,
}

impl OutlayerEvent {
    /// The log line the contract writes: `EVENT_JSON:` followed by the NEP-297 envelope.
    pub fn to_log_line(&self) -> String {
        let envelope = Envelope {
            standard: EVENT_STANDARD.into(),
            version: EVENT_VERSION.into(),
            event: self.clone(),
        };
        let json = serde_json::to_string(&envelope).expect("events serialise");
        format!("{EVENT_LOG_PREFIX}{json}")
    }

    /// Parses one log line. `None` when the line is not an OutLayer event
    /// (other standards, plain logs); `Some(Err)` when it claims to be one
    /// but is malformed.
    pub fn from_log_line(line: &str) -> Option<Result<Self, serde_json::Error>> {
        let json = line.strip_prefix(EVENT_LOG_PREFIX)?;
        #[derive(Deserialize)]
        struct Header {
            standard: String,
        }
        let header: Header = serde_json::from_str(json).ok()?;
        if header.standard != EVENT_STANDARD {
            return None;
        }
        Some(serde_json::from_str::<Envelope>(json).map(|e| e.event))
    }
}
