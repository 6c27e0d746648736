//! The JSON-RPC transport and the typed calls built on it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use outlayer_types::AccountId;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::views::{AccessKeyView, AccountView, BlockReference, BlockView, CallResult, StatusView};
use crate::{Error, Result};

/// Long enough for a loaded public RPC node, short enough that a caller
/// holding a request (the keystore deciding an access check) is not stuck.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client for one NEAR RPC endpoint. Cheap to clone (shares connections).
#[derive(Clone, Debug)]
pub struct NearRpc {
    url: String,
    http: reqwest::Client,
    timeout: Duration,
    next_id: std::sync::Arc<AtomicU64>,
}

impl NearRpc {
    /// A client for `url` (e.g. `https://rpc.testnet.near.org`) whose calls
    /// each give up after `timeout`.
    pub fn new(url: impl Into<String>, timeout: Duration) -> Result<Self> {
        let url = url.into();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| Error::Transport {
                method: "client".into(),
                message: e.to_string(),
            })?;
        Ok(Self {
            url,
            http,
            timeout,
            next_id: Default::default(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The node's chain id, protocol version and latest block.
    pub async fn status(&self) -> Result<StatusView> {
        self.call_typed("status", json!([])).await
    }

    pub async fn block(&self, block: &BlockReference) -> Result<BlockView> {
        self.call_typed("block", Value::Object(block.to_params()))
            .await
    }

    pub async fn view_account(
        &self,
        account_id: &AccountId,
        block: &BlockReference,
    ) -> Result<AccountView> {
        let value = self
            .query(block, "view_account", json!({"account_id": account_id}))
            .await?;
        decode("query", value)
    }

    /// `public_key` as NEAR writes it: `ed25519:<base58>`.
    pub async fn view_access_key(
        &self,
        account_id: &AccountId,
        public_key: &str,
        block: &BlockReference,
    ) -> Result<AccessKeyView> {
        let value = self
            .query(
                block,
                "view_access_key",
                json!({"account_id": account_id, "public_key": public_key}),
            )
            .await?;
        // nearcore answers a missing key with a *result* carrying `error`,
        // kept for backward compatibility.
        if let Some(message) = value.get("error").and_then(Value::as_str) {
            if message.contains("does not exist") {
                return Err(Error::UnknownAccessKey {
                    public_key: public_key.to_owned(),
                });
            }
            return Err(Error::Rpc {
                name: "HANDLER_ERROR".into(),
                cause: "UNKNOWN".into(),
                message: message.to_owned(),
                info: Box::default(),
                data: Box::default(),
            });
        }
        decode("query", value)
    }

    /// Runs a view function with raw argument bytes.
    pub async fn call_function(
        &self,
        contract_id: &AccountId,
        method_name: &str,
        args: &[u8],
        block: &BlockReference,
    ) -> Result<CallResult> {
        let value = self
            .query(
                block,
                "call_function",
                json!({
                    "account_id": contract_id,
                    "method_name": method_name,
                    "args_base64": STANDARD.encode(args),
                }),
            )
            .await?;
        // A failing view is reported as a result with `error` (see above).
        if let Some(message) = value.get("error").and_then(Value::as_str) {
            return Err(Error::ContractExecution {
                message: message.to_owned(),
            });
        }
        decode("query", value)
    }

    /// Runs a view function with JSON arguments and parses its JSON result.
    pub async fn view_call<A: Serialize, R: DeserializeOwned>(
        &self,
        contract_id: &AccountId,
        method_name: &str,
        args: &A,
        block: &BlockReference,
    ) -> Result<R> {
        let args = serde_json::to_vec(args).map_err(|e| Error::Decode {
            method: method_name.to_owned(),
            message: format!("arguments do not serialise: {e}"),
        })?;
        let result = self
            .call_function(contract_id, method_name, &args, block)
            .await?;
        serde_json::from_slice(&result.result).map_err(|e| Error::Decode {
            method: method_name.to_owned(),
            message: format!("view result is not the expected JSON: {e}"),
        })
    }

    async fn query(
        &self,
        block: &BlockReference,
        request_type: &str,
        fields: Value,
    ) -> Result<Value> {
        let mut params = block.to_params();
        params.insert("request_type".into(), json!(request_type));
        if let Value::Object(fields) = fields {
            params.extend(fields);
        }
        self.call("query", Value::Object(params)).await
    }

    pub(crate) async fn call_typed<R: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<R> {
        let value = self.call(method, params).await?;
        decode(method, value)
    }

    /// One JSON-RPC round trip for any method (`tx`, `chunk`, ...): returns
    /// `result` or the typed `error`.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed).to_string();
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        tracing::debug!(method, url = %self.url, "near rpc call");
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                Error::Timeout {
                    method: method.to_owned(),
                    after: self.timeout,
                }
            } else {
                Error::Transport {
                    method: method.to_owned(),
                    message: without_url(&e),
                }
            }
        };
        let response = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        // nearcore sends structured errors with 4xx/5xx statuses too, so
        // look for a JSON-RPC body before judging by the status.
        let Ok(mut parsed) = serde_json::from_slice::<Map<String, Value>>(&bytes) else {
            return Err(if status.is_success() {
                Error::Decode {
                    method: method.to_owned(),
                    message: "response is not a JSON object".into(),
                }
            } else {
                Error::Http {
                    method: method.to_owned(),
                    status: status.as_u16(),
                }
            });
        };
        if let Some(error) = parsed.remove("error") {
            return Err(rpc_error(&error));
        }
        match parsed.remove("result") {
            Some(result) => Ok(result),
            None if !status.is_success() => Err(Error::Http {
                method: method.to_owned(),
                status: status.as_u16(),
            }),
            None => Err(Error::Decode {
                method: method.to_owned(),
                message: "response has neither result nor error".into(),
            }),
        }
    }
}

pub(crate) fn decode<R: DeserializeOwned>(method: &str, value: Value) -> Result<R> {
    serde_json::from_value(value).map_err(|e| Error::Decode {
        method: method.to_owned(),
        message: e.to_string(),
    })
}

/// reqwest's messages include the URL, which for hosted RPC providers may
/// carry an API key; keep only the error chain.
fn without_url(e: &reqwest::Error) -> String {
    let mut message = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&s.to_string());
        source = s.source();
    }
    if message.is_empty() {
        message = "request failed".into();
    }
    message
}

/// Maps nearcore's `{"name", "cause": {"name", "info"}, "code", "message",
/// "data"}` error to our variants.
fn rpc_error(error: &Value) -> Error {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let name = text(error.get("name"));
    let cause = error.get("cause");
    let cause_name = text(cause.and_then(|c| c.get("name")));
    let info = cause
        .and_then(|c| c.get("info"))
        .cloned()
        .unwrap_or(Value::Null);
    let data = error.get("data").cloned().unwrap_or(Value::Null);
    let field = |key: &str| text(info.get(key));
    let message = match &data {
        Value::String(s) => s.clone(),
        Value::Null => text(error.get("message")),
        other => other.to_string(),
    };
    // nearcore puts the `InvalidTxError` in `data` (`info` is empty); look
    // in `info` too, and accept it without `name`/`cause` as old nodes sent.
    let invalid_tx = [&data, &info].into_iter().find_map(|v| {
        v.pointer("/TxExecutionError/InvalidTxError")
            .or_else(|| v.get("InvalidTxError"))
            .cloned()
    });
    if cause_name == "INVALID_TRANSACTION" || invalid_tx.is_some() {
        return Error::InvalidTransaction {
            error: invalid_tx.unwrap_or(Value::Null),
            message,
        };
    }
    match cause_name.as_str() {
        "UNKNOWN_ACCOUNT" | "INVALID_ACCOUNT" => Error::UnknownAccount {
            account_id: field("requested_account_id"),
        },
        "UNKNOWN_ACCESS_KEY" => Error::UnknownAccessKey {
            public_key: field("public_key"),
        },
        "NO_CONTRACT_CODE" => Error::NoContractCode {
            account_id: field("contract_account_id"),
        },
        "CONTRACT_EXECUTION_ERROR" => Error::ContractExecution {
            message: field("vm_error"),
        },
        "UNKNOWN_BLOCK" => Error::UnknownBlock { message },
        "UNKNOWN_TRANSACTION" => Error::UnknownTransaction {
            tx_hash: field("requested_transaction_hash"),
        },
        _ => Error::Rpc {
            name,
            cause: cause_name,
            message,
            info: Box::new(info),
            data: Box::new(data),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::rpc_error;
    use crate::{Error, InvalidNonce};

    #[test]
    fn invalid_transactions_in_current_and_old_shapes() {
        let nonce = json!({"TxExecutionError": {"InvalidTxError": {"InvalidNonce": {"tx_nonce": 3, "ak_nonce": 9}}}});
        let current = rpc_error(&json!({
            "name": "HANDLER_ERROR",
            "cause": {"name": "INVALID_TRANSACTION", "info": {}},
            "code": -32000,
            "message": "Server error",
            "data": nonce,
        }));
        // Nodes before structured errors sent only code, message and data.
        let old = rpc_error(&json!({"code": -32000, "message": "Server error", "data": nonce}));
        for err in [current, old] {
            assert_eq!(
                err.invalid_nonce(),
                Some(InvalidNonce {
                    tx_nonce: 3,
                    ak_nonce: 9
                })
            );
            assert!(!err.is_timeout() && !err.is_unavailable());
        }
        let expired = rpc_error(&json!({
            "name": "HANDLER_ERROR",
            "cause": {"name": "INVALID_TRANSACTION", "info": {}},
            "code": -32000,
            "message": "Server error",
            "data": {"TxExecutionError": {"InvalidTxError": "Expired"}},
        }));
        match &expired {
            Error::InvalidTransaction { error, .. } => assert_eq!(error, &json!("Expired")),
            other => panic!("{other:?}"),
        }
        assert_eq!(expired.invalid_nonce(), None);
        assert_eq!(expired.to_string(), "invalid transaction: \"Expired\"");
    }

    #[test]
    fn other_errors_keep_cause_info_and_data() {
        let err = rpc_error(&json!({
            "name": "HANDLER_ERROR",
            "cause": {"name": "TIMEOUT_ERROR", "info": {"cause": "NOT_OBSERVED"}},
            "code": -32000,
            "message": "Server error",
            "data": "Timeout",
        }));
        match &err {
            Error::Rpc {
                name,
                cause,
                message,
                info,
                data,
            } => {
                assert_eq!(name, "HANDLER_ERROR");
                assert_eq!(cause, "TIMEOUT_ERROR");
                assert_eq!(message, "Timeout");
                assert_eq!(**info, json!({"cause": "NOT_OBSERVED"}));
                assert_eq!(**data, json!("Timeout"));
            }
            other => panic!("{other:?}"),
        }
        assert!(err.is_timeout());
        assert_eq!(err.invalid_nonce(), None);

        let err = rpc_error(&json!({
            "name": "HANDLER_ERROR",
            "cause": {"name": "UNKNOWN_TRANSACTION", "info": {"requested_transaction_hash": "9zX"}},
            "code": -32000,
            "message": "Server error",
            "data": "Transaction 9zX doesn't exist",
        }));
        assert!(
            matches!(&err, Error::UnknownTransaction { tx_hash } if tx_hash == "9zX"),
            "{err:?}"
        );
    }
}
