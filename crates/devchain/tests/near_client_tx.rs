//! `outlayer-near-client`'s signed transactions against the local chain over
//! HTTP: signing with the fetched nonce and block hash, outcomes, the nonce
//! retry, and every refusal, in nearcore's shapes. (These tests were the
//! client's own, against a fake chain; they live here because the chain
//! depends on the client.)

mod common;

use std::time::Duration;

use common::{deploy, node, node_signer};
use near_parameters::ActionCosts;
use outlayer_devchain::testing::FlakyRpc;
use outlayer_devchain::{GAS_PRICE, ONE_NEAR, Running};
use outlayer_near_client::{
    Action, BlockReference, CryptoHash, Error, ExecutionStatus, FinalExecutionStatus, Finality,
    InvalidNonce, NearRpc, Signer, Transaction, TxExecutionStatus,
};
use outlayer_types::AccountId;
use serde_json::{Value, json};

const TGAS: u64 = 10u64.pow(12);
/// `min_gas_purchase_price` of protocol 88.
const PURCHASE_PRICE: u128 = 1_000_000_000;

/// `resolve_execution` logs its arguments and returns them; given
/// `{"request_id":0}` it logs "about to fail" and panics.
const OUTLAYER: &str = r#"(module
  (import "env" "input" (func $input (param i64)))
  (import "env" "register_len" (func $register_len (param i64) (result i64)))
  (import "env" "read_register" (func $read_register (param i64 i64)))
  (import "env" "log_utf8" (func $log_utf8 (param i64 i64)))
  (import "env" "value_return" (func $value_return (param i64 i64)))
  (import "env" "panic_utf8" (func $panic_utf8 (param i64 i64)))
  (memory 1)
  (data (i32.const 0) "about to fail")
  (data (i32.const 16) "no such request")
  (func (export "resolve_execution")
    (local $len i64)
    (call $input (i64.const 0))
    (local.set $len (call $register_len (i64.const 0)))
    (call $read_register (i64.const 0) (i64.const 1024))
    (call $log_utf8 (local.get $len) (i64.const 1024))
    (if (i32.and (i64.eq (local.get $len) (i64.const 16))
                 (i32.eq (i32.load8_u (i32.const 1038)) (i32.const 48)))
      (then
        (call $log_utf8 (i64.const 13) (i64.const 0))
        (call $panic_utf8 (i64.const 15) (i64.const 16))))
    (call $value_return (local.get $len) (i64.const 1024))))"#;

fn account(id: &str) -> AccountId {
    id.parse().unwrap()
}

struct Setup {
    chain: Running,
    /// In front of the chain; every client call goes through it.
    proxy: FlakyRpc,
    rpc: NearRpc,
    signer: Signer,
}

impl Setup {
    fn balance(&self, id: &str) -> u128 {
        let id: near_primitives::types::AccountId = id.parse().unwrap();
        self.chain.shared.chain().state.account(&id).unwrap().amount
    }

    fn nonce(&self) -> u64 {
        let id: near_primitives::types::AccountId = "worker.near".parse().unwrap();
        let key: near_crypto::PublicKey = self.signer.public_key().parse().unwrap();
        self.chain
            .shared
            .chain()
            .state
            .access_key(&id, &key)
            .unwrap()
            .nonce
    }

    /// Whether the chain accepted the transaction with this hash.
    fn accepted(&self, hash: &str) -> bool {
        let hash: near_primitives::hash::CryptoHash = hash.parse().unwrap();
        self.chain.shared.chain().transactions.contains_key(&hash)
    }
}

/// A chain with `worker.near` (10 NEAR, its genesis key at nonce 0) and
/// `outlayer.near` running [`OUTLAYER`].
async fn setup() -> Setup {
    let chain = node(
        &[("worker.near", 10 * ONE_NEAR), ("outlayer.near", ONE_NEAR)],
        20,
    )
    .await;
    let direct = NearRpc::new(chain.url.clone(), Duration::from_secs(10)).unwrap();
    deploy(
        &direct,
        &node_signer(&chain, "outlayer.near"),
        wat::parse_str(OUTLAYER).unwrap(),
    )
    .await;
    let proxy = FlakyRpc::start(&chain.url).await.unwrap();
    let rpc = NearRpc::new(proxy.url(), Duration::from_secs(10)).unwrap();
    let signer = node_signer(&chain, "worker.near");
    Setup {
        chain,
        proxy,
        rpc,
        signer,
    }
}

#[tokio::test]
async fn call_function_tx_signs_sends_and_decodes() {
    let s = setup().await;
    let (rpc, signer) = (&s.rpc, &s.signer);
    let final_block = rpc
        .block(&BlockReference::Finality(Finality::Final))
        .await
        .unwrap();
    let (worker_before, outlayer_before) = (s.balance("worker.near"), s.balance("outlayer.near"));

    let outcome = rpc
        .call_function_tx(
            signer,
            &account("outlayer.near"),
            "resolve_execution",
            &json!({"request_id": 42}),
            30 * TGAS,
            1,
        )
        .await
        .unwrap();

    // What was sent: nonce + 1, a final block, the call, a valid signature.
    let hash = outcome.hash().unwrap().to_owned();
    let signed = {
        let chain = s.chain.shared.chain();
        let record = &chain.transactions[&hash.parse().unwrap()];
        record.signed.clone()
    };
    assert!(signed.signature.verify(
        signed.transaction.get_hash_and_size().0.as_ref(),
        signed.transaction.public_key()
    ));
    assert_eq!(signed.transaction.signer_id().as_str(), "worker.near");
    assert_eq!(
        signed.transaction.public_key().to_string(),
        signer.public_key()
    );
    assert_eq!(signed.transaction.nonce().nonce(), 1);
    let signed_on = rpc
        .block(&BlockReference::Hash(
            signed.transaction.block_hash().to_string(),
        ))
        .await
        .unwrap();
    assert!(signed_on.header.height >= final_block.header.height);
    assert_eq!(s.nonce(), 1);
    let burnt = outcome.tokens_burnt();
    assert_eq!(s.balance("worker.near"), worker_before - 1 - burnt);
    assert_eq!(s.balance("outlayer.near"), outlayer_before + 1);

    // What came back.
    assert_eq!(
        outcome.final_execution_status,
        Some(TxExecutionStatus::Final)
    );
    assert!(outcome.is_success());
    assert_eq!(outcome.failure(), None);
    assert_eq!(
        outcome.success_value::<Value>().unwrap(),
        json!({"request_id": 42})
    );
    assert_eq!(outcome.logs().collect::<Vec<_>>(), [r#"{"request_id":42}"#]);
    let view = outcome.transaction.as_ref().unwrap();
    assert_eq!(view.nonce, 1);
    assert_eq!(view.public_key, signer.public_key());
    assert_eq!(view.signature, signed.signature.to_string());
    assert_eq!(
        view.actions,
        [json!({"FunctionCall": {
            "method_name": "resolve_execution",
            "args": "eyJyZXF1ZXN0X2lkIjo0Mn0=",
            "gas": 30 * TGAS,
            "deposit": "1",
        }})]
    );
    let tx_outcome = outcome.transaction_outcome.as_ref().unwrap();
    assert_eq!(tx_outcome.id, hash);
    // The call, then the refund of its unused gas.
    let [receipt, refund] = outcome.receipts_outcome.as_slice() else {
        panic!("the call and its refund: {outcome:?}");
    };
    assert_eq!(
        tx_outcome.outcome.status,
        ExecutionStatus::SuccessReceiptId(receipt.id.clone())
    );
    assert_eq!(
        tx_outcome.outcome.receipt_ids,
        std::slice::from_ref(&receipt.id)
    );
    assert_eq!(receipt.outcome.executor_id, account("outlayer.near"));
    assert_eq!(
        receipt.outcome.status,
        ExecutionStatus::SuccessValue("eyJyZXF1ZXN0X2lkIjo0Mn0=".into())
    );
    assert_eq!(refund.outcome.executor_id, account("worker.near"));
    // A refund's gas is counted (its execution fees) but burns nothing.
    assert!(refund.outcome.gas_burnt > 0);
    assert_eq!(refund.outcome.tokens_burnt.0, 0, "refunds are free");
    assert_eq!(
        outcome.tokens_burnt(),
        u128::from(outcome.gas_burnt() - refund.outcome.gas_burnt) * GAS_PRICE,
        "burnt at the gas price"
    );
    // Included in a block after the final one the signer saw; on the local
    // chain the first receipt runs in the block that includes it.
    let included = rpc
        .block(&BlockReference::Hash(tx_outcome.block_hash.clone()))
        .await
        .unwrap();
    assert!(included.header.height > signed_on.header.height);
    assert_eq!(receipt.block_hash, tx_outcome.block_hash);

    // Looked up again by hash.
    let again = rpc
        .tx_status(&hash, "worker.near", TxExecutionStatus::Final)
        .await
        .unwrap();
    assert_eq!(again, outcome);
    let err = rpc
        .tx_status(
            &CryptoHash([1; 32]).to_string(),
            "worker.near",
            TxExecutionStatus::Final,
        )
        .await
        .unwrap_err();
    match err {
        Error::UnknownTransaction { tx_hash } => {
            assert_eq!(tx_hash, CryptoHash([1; 32]).to_string())
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_refused_nonce_is_retried_once_with_the_nodes_nonce() {
    let s = setup().await;
    let (rpc, signer) = (&s.rpc, &s.signer);
    let worker = account("worker.near");
    // Another sender uses the key up to 40...
    let tx = rpc
        .sign_tx(signer, &account("outlayer.near"), vec![Action::transfer(1)])
        .await
        .unwrap();
    let other = Transaction {
        nonce: 40,
        ..tx.transaction
    }
    .sign(signer);
    assert!(
        rpc.send_tx(&other, TxExecutionStatus::Final)
            .await
            .unwrap()
            .is_success()
    );
    // ...through another RPC node: the one this client asks still says 0.
    s.proxy.hold_nonce("worker.near", &signer.public_key(), 0);
    let key = rpc
        .view_access_key(&worker, &signer.public_key(), &BlockReference::default())
        .await
        .unwrap();
    assert_eq!(key.nonce, 0);

    // By hand: signed from the view, refused with both nonces.
    let stale = rpc
        .sign_tx(signer, &account("outlayer.near"), vec![Action::transfer(1)])
        .await
        .unwrap();
    assert_eq!(stale.transaction.nonce, 1);
    let err = rpc
        .send_tx(&stale, TxExecutionStatus::Final)
        .await
        .unwrap_err();
    assert_eq!(
        err.invalid_nonce(),
        Some(InvalidNonce {
            tx_nonce: 1,
            ak_nonce: 40
        })
    );
    match &err {
        Error::InvalidTransaction { error, .. } => {
            assert_eq!(
                error,
                &json!({"InvalidNonce": {"tx_nonce": 1, "ak_nonce": 40}})
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_unavailable());
    assert!(!s.accepted(&stale.hash().to_string()));

    // The helper signs again with 41 and succeeds.
    let outcome = rpc
        .call_function_tx(
            signer,
            &account("outlayer.near"),
            "resolve_execution",
            &json!({"request_id": 3}),
            30 * TGAS,
            0,
        )
        .await
        .unwrap();
    assert_eq!(
        outcome.success_value::<Value>().unwrap()["request_id"],
        json!(3)
    );
    assert_eq!(outcome.transaction.as_ref().unwrap().nonce, 41);
    assert_eq!(s.nonce(), 41);
    // The view has caught up.
    let key = rpc
        .view_access_key(&worker, &signer.public_key(), &BlockReference::default())
        .await
        .unwrap();
    assert_eq!(key.nonce, 41);
}

#[tokio::test]
async fn failed_executions_are_outcomes_and_refund_the_deposit() {
    let s = setup().await;
    let (rpc, signer) = (&s.rpc, &s.signer);
    let outlayer = account("outlayer.near");
    let (worker_before, outlayer_before) = (s.balance("worker.near"), s.balance("outlayer.near"));

    let outcome = rpc
        .call_function_tx(
            signer,
            &outlayer,
            "resolve_execution",
            &json!({"request_id": 0}),
            30 * TGAS,
            ONE_NEAR,
        )
        .await
        .unwrap();
    let failure = json!({"ActionError": {"index": 0, "kind": {"FunctionCallError": {
        "ExecutionError": "Smart contract panicked: no such request"
    }}}});
    assert_eq!(
        outcome.status,
        FinalExecutionStatus::Failure(failure.clone())
    );
    assert_eq!(outcome.failure(), Some(&failure));
    assert!(!outcome.is_success());
    match outcome.success_value::<Value>().unwrap_err() {
        Error::TxFailed { failure: f } => assert_eq!(f, failure),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        outcome.logs().collect::<Vec<_>>(),
        [r#"{"request_id":0}"#, "about to fail"]
    );
    // The deposit came back; only gas was spent.
    let mut spent = outcome.tokens_burnt();
    assert_eq!(s.balance("worker.near"), worker_before - spent);
    assert_eq!(s.balance("outlayer.near"), outlayer_before);

    let mut nonces = vec![outcome.transaction.as_ref().unwrap().nonce];
    let outcome = rpc
        .call_function_tx(signer, &outlayer, "nope", &json!({}), TGAS, 0)
        .await
        .unwrap();
    assert_eq!(
        outcome.failure(),
        Some(
            &json!({"ActionError": {"index": 0, "kind": {"FunctionCallError": {"MethodResolveError": "MethodNotFound"}}}})
        )
    );
    spent += outcome.tokens_burnt();
    nonces.push(outcome.transaction.as_ref().unwrap().nonce);
    let outcome = rpc
        .call_function_tx(signer, &account("worker.near"), "x", &json!({}), TGAS, 0)
        .await
        .unwrap();
    assert_eq!(
        outcome.failure(),
        Some(
            &json!({"ActionError": {"index": 0, "kind": {"FunctionCallError": {"CompilationError": {"CodeDoesNotExist": {"account_id": "worker.near"}}}}}})
        )
    );
    spent += outcome.tokens_burnt();
    nonces.push(outcome.transaction.as_ref().unwrap().nonce);
    let outcome = rpc
        .transfer(signer, &account("nobody.near"), 5)
        .await
        .unwrap();
    assert_eq!(
        outcome.failure(),
        Some(
            &json!({"ActionError": {"index": 0, "kind": {"AccountDoesNotExist": {"account_id": "nobody.near"}}}})
        )
    );
    spent += outcome.tokens_burnt();
    nonces.push(outcome.transaction.as_ref().unwrap().nonce);
    assert_eq!(s.balance("worker.near"), worker_before - spent);
    // Each transaction used the next nonce.
    assert_eq!(nonces, [1, 2, 3, 4]);
}

#[tokio::test]
async fn refused_transactions_are_typed_errors() {
    let s = setup().await;
    let (rpc, signer) = (&s.rpc, &s.signer);
    let good = rpc
        .sign_tx(signer, &account("outlayer.near"), vec![Action::transfer(1)])
        .await
        .unwrap();
    let refusal = |tx: Transaction, signer: &Signer| {
        let rpc = rpc.clone();
        let signed = tx.sign(signer);
        async move {
            match rpc.send_tx(&signed, TxExecutionStatus::Final).await {
                Err(Error::InvalidTransaction { error, .. }) => error,
                other => panic!("{other:?}"),
            }
        }
    };

    let mut expired = good.transaction.clone();
    expired.block_hash = CryptoHash([3; 32]);
    assert_eq!(refusal(expired, signer).await, json!("Expired"));

    let stranger = Signer::generate(account("stranger.near")).unwrap();
    let unknown_signer = Transaction {
        signer_id: account("stranger.near"),
        public_key: stranger.public_key_bytes(),
        ..good.transaction.clone()
    };
    assert_eq!(
        refusal(unknown_signer, &stranger).await,
        json!({"SignerDoesNotExist": {"signer_id": "stranger.near"}})
    );

    let other_key = Signer::generate(account("worker.near")).unwrap();
    let unknown_key = Transaction {
        public_key: other_key.public_key_bytes(),
        ..good.transaction.clone()
    };
    assert_eq!(
        refusal(unknown_key, &other_key).await,
        json!({"InvalidAccessKeyError": {"AccessKeyNotFound": {
            "account_id": "worker.near",
            "public_key": other_key.public_key(),
        }}})
    );

    // Signed by another key than the one it names.
    assert_eq!(
        refusal(good.transaction.clone(), &other_key).await,
        json!("InvalidSignature")
    );

    // The cost: the send fees at the gas price, the execution fees bought at
    // the purchase price, and the deposit.
    let (send, exec) = {
        let chain = s.chain.shared.chain();
        let fees = &chain.runtime.fees;
        let gas = |cost: ActionCosts| {
            let fee = fees.fee(cost);
            (
                u128::from(fee.send_not_sir.gas().as_gas()),
                u128::from(fee.execution.gas().as_gas()),
            )
        };
        let (receipt, transfer) = (
            gas(ActionCosts::new_action_receipt),
            gas(ActionCosts::transfer),
        );
        (receipt.0 + transfer.0, receipt.1 + transfer.1)
    };
    let too_much = Transaction {
        actions: vec![Action::transfer(11 * ONE_NEAR)],
        ..good.transaction.clone()
    };
    assert_eq!(
        refusal(too_much, signer).await,
        json!({"NotEnoughBalance": {
            "signer_id": "worker.near",
            "balance": (10 * ONE_NEAR).to_string(),
            "cost": (11 * ONE_NEAR + send * GAS_PRICE + exec * PURCHASE_PRICE).to_string(),
        }})
    );
    assert_eq!(s.nonce(), 0, "nothing was accepted");

    // The client's own reads fail first for an unknown signer.
    let err = rpc
        .transfer(&stranger, &account("outlayer.near"), 1)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownAccount { .. }), "{err:?}");

    // On the wire, exactly as nearcore sends them.
    let url = s.chain.url.clone();
    let raw_send = |tx_base64: String| {
        let url = url.clone();
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .body(
                    json!({
                        "jsonrpc": "2.0",
                        "id": "t",
                        "method": "send_tx",
                        "params": {"signed_tx_base64": tx_base64, "wait_until": "FINAL"},
                    })
                    .to_string(),
                )
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.bytes().await.unwrap();
            (status, serde_json::from_slice::<Value>(&body).unwrap())
        }
    };
    let (status, body) = raw_send(good.to_base64()).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["final_execution_status"], "FINAL", "{body}");
    assert_eq!(body["result"]["status"], json!({"SuccessValue": ""}));
    // Another transaction with the nonce just used.
    let same_nonce = Transaction {
        actions: vec![Action::transfer(2)],
        ..good.transaction.clone()
    }
    .sign(signer);
    let nonce_error = json!({"TxExecutionError": {"InvalidTxError": {"InvalidNonce": {"tx_nonce": 1, "ak_nonce": 1}}}});
    let (status, body) = raw_send(same_nonce.to_base64()).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"jsonrpc": "2.0", "id": "t", "error": {
            "name": "HANDLER_ERROR",
            "cause": {"name": "INVALID_TRANSACTION", "info": {}},
            "code": -32000,
            "message": "Server error",
            "data": nonce_error,
        }})
    );
    match rpc
        .send_tx(&same_nonce, TxExecutionStatus::Final)
        .await
        .unwrap_err()
    {
        Error::InvalidTransaction { error, message } => {
            assert_eq!(error, nonce_error["TxExecutionError"]["InvalidTxError"]);
            assert_eq!(
                serde_json::from_str::<Value>(&message).unwrap(),
                nonce_error
            );
        }
        other => panic!("{other:?}"),
    }
    let (status, body) = raw_send("not base64!".into()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["name"], "REQUEST_VALIDATION_ERROR", "{body}");
    assert_eq!(body["error"]["cause"]["name"], "PARSE_ERROR");
}

#[tokio::test]
async fn transfers_wait_levels_and_broadcast_tx_commit() {
    let s = setup().await;
    let (rpc, signer) = (&s.rpc, &s.signer);
    // A zero-balance account (NEP-448): a key and no contract need no balance.
    let bob_key = Signer::generate(account("bob.worker.near")).unwrap();
    let created = rpc
        .sign_and_send_tx(
            signer,
            &account("bob.worker.near"),
            vec![
                Action::CreateAccount,
                Action::AddKey {
                    public_key: bob_key.public_key_bytes(),
                    access_key: outlayer_near_client::transaction::AccessKey::full_access(),
                },
            ],
            TxExecutionStatus::Final,
        )
        .await
        .unwrap();
    assert!(created.is_success(), "{created:?}");
    let bob = account("bob.worker.near");
    assert_eq!(s.balance("bob.worker.near"), 0);
    let worker_before = s.balance("worker.near");

    let outcome = rpc.transfer(signer, &bob, 5).await.unwrap();
    assert_eq!(outcome.success_bytes().unwrap(), b"");
    outcome.success_value::<()>().unwrap();
    assert_eq!(s.balance("bob.worker.near"), 5);
    let mut spent = 5 + outcome.tokens_burnt();
    assert_eq!(s.balance("worker.near"), worker_before - spent);

    // NONE: only the status comes back; the outcome is there by hash later.
    let tx = rpc
        .sign_tx(signer, &bob, vec![Action::transfer(7)])
        .await
        .unwrap();
    let pending = rpc.send_tx(&tx, TxExecutionStatus::None).await.unwrap();
    assert_eq!(
        pending.final_execution_status,
        Some(TxExecutionStatus::None)
    );
    assert_eq!(pending.status, FinalExecutionStatus::NotStarted);
    assert_eq!(pending.transaction, None);
    assert_eq!(pending.hash(), None);
    match pending.success_value::<()>().unwrap_err() {
        Error::TxPending {
            final_execution_status,
        } => assert_eq!(final_execution_status, Some(TxExecutionStatus::None)),
        other => panic!("{other:?}"),
    }
    let hash = tx.hash().to_string();
    let done = rpc
        .tx_status(&hash, "worker.near", TxExecutionStatus::Final)
        .await
        .unwrap();
    assert_eq!(done.hash(), Some(hash.as_str()));
    assert!(done.is_success());
    assert_eq!(s.balance("bob.worker.near"), 12);
    spent += 7 + done.tokens_burnt();

    // Sending the same transaction again answers its outcome; nothing moves twice.
    let again = rpc
        .send_tx(&tx, TxExecutionStatus::ExecutedOptimistic)
        .await
        .unwrap();
    // The status reached, which is more than what was asked for.
    assert_eq!(again.final_execution_status, Some(TxExecutionStatus::Final));
    assert_eq!(again.hash(), Some(hash.as_str()));
    assert_eq!(s.balance("bob.worker.near"), 12);

    let tx = rpc
        .sign_tx(signer, &bob, vec![Action::transfer(1)])
        .await
        .unwrap();
    assert_eq!(tx.transaction.nonce, 4);
    let committed = rpc.broadcast_tx_commit(&tx).await.unwrap();
    assert_eq!(committed.hash(), Some(tx.hash().to_string().as_str()));
    assert!(committed.is_success());
    // broadcast_tx_commit waits for EXECUTED_OPTIMISTIC: the refund may
    // still be on its way; wait for it.
    let committed = rpc
        .tx_status(
            &tx.hash().to_string(),
            "worker.near",
            TxExecutionStatus::Final,
        )
        .await
        .unwrap();
    assert_eq!(s.balance("bob.worker.near"), 13);
    spent += 1 + committed.tokens_burnt();
    assert_eq!(s.balance("worker.near"), worker_before - spent);
}
