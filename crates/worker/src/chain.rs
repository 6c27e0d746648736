//! The contract as the worker reads and answers it: requests at final, and
//! `resolve_execution` signed by the operator with one nonce sequence per
//! process, so concurrent settlements never race for a nonce.

use std::time::Duration;

use outlayer_near_client::transaction::{Action, Transaction};
use outlayer_near_client::{
    BlockReference, Error as NearError, NearRpc, Signer, TxExecutionStatus, TxOutcome,
};
use outlayer_types::{AccountId, ContractConfig, ExecutionResponse, RequestView};
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::sync::Mutex;

/// Gas for `resolve_execution`: it measured 3.3 Tgas on the local chain;
/// a large output moved to state costs more. Unused gas is refunded.
const RESOLVE_GAS: u64 = 50_000_000_000_000;
/// Tries for one chain call before giving up on an unreachable node.
const TRIES: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("chain unavailable: {0}")]
    Unavailable(String),
    #[error("the contract refused: {0}")]
    Refused(String),
    #[error("{0}")]
    Other(String),
}

impl From<NearError> for ChainError {
    fn from(e: NearError) -> Self {
        if e.is_unavailable() || e.is_timeout() {
            Self::Unavailable(e.to_string())
        } else {
            Self::Other(e.to_string())
        }
    }
}

/// How a settlement ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// Our `resolve_execution` went through; the node accepted it at `sent_at`.
    Sent {
        tx_hash: String,
        sent_at: std::time::SystemTime,
    },
    /// The request had already been answered, settled or timed out: final,
    /// nothing to retry.
    AlreadySettled { reason: String },
}

pub struct Chain {
    rpc: NearRpc,
    contract: AccountId,
    operator: Option<Signer>,
    /// The operator key's last used nonce, `None` until read from the chain.
    nonce: Mutex<Option<u64>>,
}

impl Chain {
    pub fn new(rpc: NearRpc, contract: AccountId, operator: Option<Signer>) -> Self {
        Self {
            rpc,
            contract,
            operator,
            nonce: Mutex::new(None),
        }
    }

    pub fn rpc(&self) -> &NearRpc {
        &self.rpc
    }

    pub fn contract(&self) -> &AccountId {
        &self.contract
    }

    /// A view at final, retried while the node is unreachable.
    async fn view<R: DeserializeOwned>(
        &self,
        method: &str,
        args: serde_json::Value,
    ) -> Result<R, ChainError> {
        let mut delay = Duration::from_millis(100);
        for attempt in 1..=TRIES {
            match self
                .rpc
                .view_call(&self.contract, method, &args, &BlockReference::default())
                .await
            {
                Ok(value) => return Ok(value),
                Err(e) if (e.is_unavailable() || e.is_timeout()) && attempt < TRIES => {
                    tracing::warn!(method, error = %e, attempt, "view failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => return Err(e.into()),
            }
        }
        unreachable!("the last attempt returns")
    }

    /// The request as the contract holds it; `None` once settled.
    pub async fn request(&self, request_id: u64) -> Result<Option<RequestView>, ChainError> {
        self.view("get_request", json!({ "request_id": request_id }))
            .await
    }

    /// The input of a request whose input stayed in state.
    pub async fn request_input(&self, request_id: u64) -> Result<Option<String>, ChainError> {
        self.view("get_request_input", json!({ "request_id": request_id }))
            .await
    }

    pub async fn config(&self) -> Result<ContractConfig, ChainError> {
        self.view("get_config", json!({})).await
    }

    /// Every pending request, a page at a time.
    pub async fn pending_requests(&self) -> Result<Vec<RequestView>, ChainError> {
        const PAGE: u32 = 100;
        let mut all = Vec::new();
        loop {
            let page: Vec<RequestView> = self
                .view(
                    "get_pending_requests",
                    json!({ "from_index": all.len(), "limit": PAGE }),
                )
                .await?;
            let done = page.len() < PAGE as usize;
            all.extend(page);
            if done {
                return Ok(all);
            }
        }
    }

    /// Delivers `response` for `request_id`. Transient failures are retried
    /// (looking the transaction up first, so it is never sent twice); a
    /// request that is no longer resolvable is final.
    pub async fn resolve(
        &self,
        request_id: u64,
        response: &ExecutionResponse,
    ) -> Result<Resolved, ChainError> {
        let operator = self
            .operator
            .as_ref()
            .ok_or_else(|| ChainError::Other("no operator key configured".into()))?;
        let args = serde_json::to_vec(&json!({ "request_id": request_id, "response": response }))
            .map_err(|e| ChainError::Other(e.to_string()))?;
        let action = Action::function_call("resolve_execution", args, RESOLVE_GAS, 0);
        let mut delay = Duration::from_millis(200);
        let mut last_error = String::new();
        for attempt in 1..=TRIES {
            match self.send(operator, action.clone()).await {
                Ok((outcome, sent_at)) => return settled(request_id, &outcome, sent_at),
                Err(e) if e.invalid_nonce().is_some() => {
                    // Another process used the key: take the chain's nonce.
                    let nonces = e.invalid_nonce().expect("checked");
                    *self.nonce.lock().await = Some(nonces.ak_nonce);
                    last_error = e.to_string();
                }
                Err(e) if e.is_unavailable() || e.is_timeout() => {
                    tracing::warn!(request_id, attempt, error = %e, "resolve failed; retrying");
                    // The nonce may or may not have been used: read it again.
                    *self.nonce.lock().await = None;
                    last_error = e.to_string();
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => return Err(e.into()),
            }
            // A timed-out send may still have landed: ask before resending.
            if let Some(view) = self.request(request_id).await?
                && !view.resolved
            {
                continue;
            }
            return Ok(Resolved::AlreadySettled {
                reason: "answered while retrying".into(),
            });
        }
        Err(ChainError::Unavailable(last_error))
    }

    /// Signs with the next nonce and sends; the nonce lock is held only
    /// while signing and submitting, not while the transaction executes.
    async fn send(
        &self,
        signer: &Signer,
        action: Action,
    ) -> Result<(TxOutcome, std::time::SystemTime), NearError> {
        let tx = {
            let mut nonce = self.nonce.lock().await;
            let next = match *nonce {
                Some(n) => n + 1,
                None => {
                    self.rpc
                        .view_access_key(
                            &signer.account_id,
                            &signer.public_key(),
                            &BlockReference::Finality(outlayer_near_client::Finality::Optimistic),
                        )
                        .await?
                        .nonce
                        + 1
                }
            };
            let block = self
                .rpc
                .block(&BlockReference::Finality(
                    outlayer_near_client::Finality::Final,
                ))
                .await?;
            let block_hash = block.header.hash.parse().map_err(|e| NearError::Decode {
                method: "block".into(),
                message: format!("{e}"),
            })?;
            let tx = Transaction {
                signer_id: signer.account_id.clone(),
                public_key: signer.public_key_bytes(),
                nonce: next,
                receiver_id: self.contract.clone(),
                block_hash,
                actions: vec![action],
            }
            .sign(signer);
            self.rpc.send_tx(&tx, TxExecutionStatus::None).await?;
            *nonce = Some(next);
            tx
        };
        let sent_at = std::time::SystemTime::now();
        let hash = tx.hash().to_string();
        let outcome = self
            .rpc
            .tx_status(&hash, signer.account_id.as_str(), TxExecutionStatus::Final)
            .await?;
        Ok((outcome, sent_at))
    }
}

/// Reads a resolve transaction's outcome: success, or the contract saying
/// the request can no longer be answered (final), or another refusal.
fn settled(
    request_id: u64,
    outcome: &TxOutcome,
    sent_at: std::time::SystemTime,
) -> Result<Resolved, ChainError> {
    let tx_hash = outcome.hash().unwrap_or_default().to_owned();
    let Some(failure) = outcome.failure() else {
        return Ok(Resolved::Sent { tx_hash, sent_at });
    };
    let message = failure.to_string();
    let gone = [
        "is not pending",
        "already resolved",
        "can no longer be resumed",
    ];
    if gone.iter().any(|g| message.contains(g)) {
        tracing::info!(request_id, %message, "request already settled");
        return Ok(Resolved::AlreadySettled { reason: message });
    }
    Err(ChainError::Refused(message))
}
