//! Sending transactions: the raw `send_tx` / `broadcast_tx_commit` / `tx`
//! calls, and signing helpers that fetch the nonce and block hash.

use outlayer_types::AccountId;
use serde::Serialize;
use serde_json::json;

use crate::outcome::{TxExecutionStatus, TxOutcome};
use crate::signer::Signer;
use crate::transaction::{Action, CryptoHash, SignedTransaction, Transaction};
use crate::views::{BlockReference, Finality};
use crate::{Error, NearRpc, Result};

/// How long the high-level helpers wait: until every receipt, refunds
/// included, executed in final blocks, so the outcome cannot revert.
pub const DEFAULT_WAIT_UNTIL: TxExecutionStatus = TxExecutionStatus::Final;

impl NearRpc {
    /// `send_tx`: submits the transaction and waits until `wait_until`.
    /// A transaction that executed and failed is an `Ok` outcome whose
    /// [`TxOutcome::failure`] is set; a refused one is
    /// [`Error::InvalidTransaction`]. On a timeout ([`Error::is_timeout`]) it
    /// may still execute: ask [`Self::tx_status`] with its hash.
    pub async fn send_tx(
        &self,
        tx: &SignedTransaction,
        wait_until: TxExecutionStatus,
    ) -> Result<TxOutcome> {
        self.call_typed(
            "send_tx",
            json!({"signed_tx_base64": tx.to_base64(), "wait_until": wait_until}),
        )
        .await
    }

    /// The older `broadcast_tx_commit` (waits for execution); prefer
    /// [`Self::send_tx`].
    pub async fn broadcast_tx_commit(&self, tx: &SignedTransaction) -> Result<TxOutcome> {
        self.call_typed("broadcast_tx_commit", json!([tx.to_base64()]))
            .await
    }

    /// `tx`: a sent transaction's outcome by hash (base58) and signer,
    /// waiting until `wait_until`. [`Error::UnknownTransaction`] if the node
    /// has not seen it.
    pub async fn tx_status(
        &self,
        tx_hash: &str,
        sender_account_id: &str,
        wait_until: TxExecutionStatus,
    ) -> Result<TxOutcome> {
        self.call_typed(
            "tx",
            json!({
                "tx_hash": tx_hash,
                "sender_account_id": sender_account_id,
                "wait_until": wait_until,
            }),
        )
        .await
    }

    /// Builds and signs a transaction from `signer` to `receiver_id`: reads
    /// the key's nonce (optimistic view, so a just-landed transaction is
    /// counted) and the latest final block's hash, and uses nonce + 1. Keep
    /// its [`SignedTransaction::hash`] to look it up after a timeout.
    pub async fn sign_tx(
        &self,
        signer: &Signer,
        receiver_id: &AccountId,
        actions: Vec<Action>,
    ) -> Result<SignedTransaction> {
        let public_key = signer.public_key();
        let key = self
            .view_access_key(
                &signer.account_id,
                &public_key,
                &BlockReference::Finality(Finality::Optimistic),
            )
            .await?;
        let block = self
            .block(&BlockReference::Finality(Finality::Final))
            .await?;
        let block_hash: CryptoHash = block.header.hash.parse().map_err(|e| Error::Decode {
            method: "block".into(),
            message: format!("block hash {:?}: {e}", block.header.hash),
        })?;
        Ok(Transaction {
            signer_id: signer.account_id.clone(),
            public_key: signer.public_key_bytes(),
            nonce: key.nonce + 1,
            receiver_id: receiver_id.clone(),
            block_hash,
            actions,
        }
        .sign(signer))
    }

    /// Signs ([`Self::sign_tx`]) and sends ([`Self::send_tx`]) `actions`.
    /// If the node refuses the nonce (another sender used the key since it
    /// was read), signs once more with the nonce the refusal names, + 1.
    pub async fn sign_and_send_tx(
        &self,
        signer: &Signer,
        receiver_id: &AccountId,
        actions: Vec<Action>,
        wait_until: TxExecutionStatus,
    ) -> Result<TxOutcome> {
        let tx = self.sign_tx(signer, receiver_id, actions).await?;
        match self.send_tx(&tx, wait_until).await {
            Err(e) => match e.invalid_nonce() {
                Some(nonces) => {
                    tracing::debug!(
                        signer = %signer.account_id,
                        tx_nonce = nonces.tx_nonce,
                        ak_nonce = nonces.ak_nonce,
                        "nonce refused; signing again"
                    );
                    let retry = Transaction {
                        nonce: nonces.ak_nonce + 1,
                        ..tx.transaction
                    }
                    .sign(signer);
                    self.send_tx(&retry, wait_until).await
                }
                None => Err(e),
            },
            outcome => outcome,
        }
    }

    /// Calls `method_name` on `receiver_id` with JSON `args`, `gas` and
    /// `deposit` (yoctoNEAR), signed by `signer`, and waits for
    /// [`DEFAULT_WAIT_UNTIL`]. Read the result with
    /// [`TxOutcome::success_value`]; a panic in the contract is an `Ok`
    /// outcome with [`TxOutcome::failure`] set.
    pub async fn call_function_tx<A: Serialize + ?Sized>(
        &self,
        signer: &Signer,
        receiver_id: &AccountId,
        method_name: &str,
        args: &A,
        gas: u64,
        deposit: u128,
    ) -> Result<TxOutcome> {
        let args = serde_json::to_vec(args).map_err(|e| Error::Decode {
            method: method_name.to_owned(),
            message: format!("arguments do not serialise: {e}"),
        })?;
        let action = Action::function_call(method_name, args, gas, deposit);
        self.sign_and_send_tx(signer, receiver_id, vec![action], DEFAULT_WAIT_UNTIL)
            .await
    }

    /// Sends `deposit` yoctoNEAR from `signer` to `receiver_id` and waits
    /// for [`DEFAULT_WAIT_UNTIL`].
    pub async fn transfer(
        &self,
        signer: &Signer,
        receiver_id: &AccountId,
        deposit: u128,
    ) -> Result<TxOutcome> {
        self.sign_and_send_tx(
            signer,
            receiver_id,
            vec![Action::transfer(deposit)],
            DEFAULT_WAIT_UNTIL,
        )
        .await
    }
}
