//! Signed transactions against the fake node over HTTP: signing with the
//! fetched nonce and block hash, outcomes, the nonce retry, and every refusal.

use std::time::Duration;

use outlayer_near_client::fake::{CallOutcome, FakeChain, ViewOutcome};
use outlayer_near_client::{
    Action, BlockReference, CryptoHash, Error, ExecutionStatus, FinalExecutionStatus, Finality,
    InvalidNonce, NearRpc, Signer, Transaction, TxExecutionStatus,
};
use outlayer_types::AccountId;
use serde_json::{Value, json};

const NEAR: u128 = 10u128.pow(24);
const TGAS: u64 = 10u64.pow(12);
/// What the fake reports for a transaction plus its receipt.
const GAS_BURNT: u64 = 223_182_562_500 + 2_428_000_000_000;
/// near-api-js's test key; its public key is
/// `ed25519:Anu7LYDfpLtkP7E16LT9imXF694BdQaa9ufVkQiwTQxC`.
const SECRET: &str = "ed25519:3hoMW1HvnRLSFCLZnvPzWeoGwtdHzke34B2cTHM8rhcbG3TbuLKtShTv3DvyejnXKXKBiV7YPkLeqUHN1ghnqpFv";
const PUBLIC: &str = "ed25519:Anu7LYDfpLtkP7E16LT9imXF694BdQaa9ufVkQiwTQxC";

fn account(id: &str) -> AccountId {
    id.parse().unwrap()
}

/// A chain with `worker.near` (10 NEAR, key SECRET at `nonce`) and
/// `outlayer.near`, whose `resolve_execution` echoes the request id, logs,
/// and panics on request 0.
async fn setup(nonce: u64) -> (FakeChain, NearRpc, Signer) {
    let chain = FakeChain::start().await;
    chain.add_account("worker.near", 10 * NEAR);
    chain.add_full_access_key("worker.near", PUBLIC, nonce);
    chain.add_account("outlayer.near", NEAR);
    chain.set_call("outlayer.near", "resolve_execution", |call| {
        let id = call.args["request_id"].as_u64().unwrap_or_default();
        let log = format!("resolving {id} for {}", call.signer_id);
        if id == 0 {
            return CallOutcome {
                result: ViewOutcome::Panic("no such request".into()),
                logs: vec![log, "about to fail".into()],
            };
        }
        CallOutcome::json(&json!({"request_id": id, "deposit": call.deposit.to_string()})).log(log)
    });
    let rpc = NearRpc::new(chain.url(), Duration::from_secs(5)).unwrap();
    let signer = Signer::from_secret_key(account("worker.near"), SECRET).unwrap();
    (chain, rpc, signer)
}

#[tokio::test]
async fn call_function_tx_signs_sends_and_decodes() {
    let (chain, rpc, signer) = setup(7).await;
    let final_block = rpc
        .block(&BlockReference::Finality(Finality::Final))
        .await
        .unwrap();

    let outcome = rpc
        .call_function_tx(
            &signer,
            &account("outlayer.near"),
            "resolve_execution",
            &json!({"request_id": 42}),
            30 * TGAS,
            1,
        )
        .await
        .unwrap();

    // What was sent: nonce + 1, the final block, the call, a valid signature.
    let sent = chain.transactions();
    assert_eq!(sent.len(), 1);
    let tx = &sent[0];
    assert!(tx.verify());
    assert_eq!(tx.transaction.signer_id, account("worker.near"));
    assert_eq!(tx.transaction.public_key.to_string(), PUBLIC);
    assert_eq!(tx.transaction.nonce, 8);
    assert_eq!(
        tx.transaction.block_hash.to_string(),
        final_block.header.hash
    );
    assert_eq!(
        tx.transaction.actions,
        vec![Action::function_call(
            "resolve_execution",
            br#"{"request_id":42}"#.to_vec(),
            30 * TGAS,
            1
        )]
    );
    assert_eq!(chain.access_key_nonce("worker.near", PUBLIC), Some(8));
    assert_eq!(chain.balance("worker.near"), Some(10 * NEAR - 1));
    assert_eq!(chain.balance("outlayer.near"), Some(NEAR + 1));

    // What came back.
    assert_eq!(
        outcome.final_execution_status,
        Some(TxExecutionStatus::Final)
    );
    assert!(outcome.is_success());
    assert_eq!(outcome.failure(), None);
    let hash = tx.hash().to_string();
    assert_eq!(outcome.hash(), Some(hash.as_str()));
    assert_eq!(
        outcome.success_value::<Value>().unwrap(),
        json!({"request_id": 42, "deposit": "1"})
    );
    assert_eq!(
        outcome.logs().collect::<Vec<_>>(),
        ["resolving 42 for worker.near"]
    );
    let view = outcome.transaction.as_ref().unwrap();
    assert_eq!(view.nonce, 8);
    assert_eq!(view.public_key, PUBLIC);
    assert_eq!(view.signature, tx.signature.to_string());
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
    let [receipt] = outcome.receipts_outcome.as_slice() else {
        panic!("one receipt: {outcome:?}");
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
        ExecutionStatus::SuccessValue("eyJkZXBvc2l0IjoiMSIsInJlcXVlc3RfaWQiOjQyfQ==".into())
    );
    assert_eq!(outcome.gas_burnt(), GAS_BURNT);
    assert_eq!(outcome.tokens_burnt(), GAS_BURNT as u128 * 100_000_000);
    // Included in the block after the final one, executed in the next.
    let height = final_block.header.height;
    let rpc_ref = &rpc;
    let block = |h| async move {
        rpc_ref
            .block(&BlockReference::Height(h))
            .await
            .unwrap()
            .header
            .hash
    };
    assert_eq!(tx_outcome.block_hash, block(height + 1).await);
    assert_eq!(receipt.block_hash, block(height + 2).await);

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
    let (chain, rpc, signer) = setup(5).await;
    // Another sender used the key up to 40; views still say 5.
    chain.bump_nonce_unseen("worker.near", PUBLIC, 40);
    let key = rpc
        .view_access_key(&account("worker.near"), PUBLIC, &BlockReference::default())
        .await
        .unwrap();
    assert_eq!(key.nonce, 5);

    // By hand: signed from the view, refused with both nonces.
    let stale = rpc
        .sign_tx(
            &signer,
            &account("outlayer.near"),
            vec![Action::transfer(1)],
        )
        .await
        .unwrap();
    assert_eq!(stale.transaction.nonce, 6);
    let err = rpc
        .send_tx(&stale, TxExecutionStatus::Final)
        .await
        .unwrap_err();
    assert_eq!(
        err.invalid_nonce(),
        Some(InvalidNonce {
            tx_nonce: 6,
            ak_nonce: 40
        })
    );
    match &err {
        Error::InvalidTransaction { error, .. } => {
            assert_eq!(
                error,
                &json!({"InvalidNonce": {"tx_nonce": 6, "ak_nonce": 40}})
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_unavailable());
    assert!(chain.transactions().is_empty());

    // The helper signs again with 41 and succeeds.
    let outcome = rpc
        .call_function_tx(
            &signer,
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
    let sent = chain.transactions();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].transaction.nonce, 41);
    assert_eq!(chain.access_key_nonce("worker.near", PUBLIC), Some(41));
    // The view has caught up.
    let key = rpc
        .view_access_key(&account("worker.near"), PUBLIC, &BlockReference::default())
        .await
        .unwrap();
    assert_eq!(key.nonce, 41);
}

#[tokio::test]
async fn failed_executions_are_outcomes_and_refund_the_deposit() {
    let (chain, rpc, signer) = setup(0).await;
    let outlayer = account("outlayer.near");

    let outcome = rpc
        .call_function_tx(
            &signer,
            &outlayer,
            "resolve_execution",
            &json!({"request_id": 0}),
            30 * TGAS,
            NEAR,
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
        ["resolving 0 for worker.near", "about to fail"]
    );
    assert_eq!(chain.balance("worker.near"), Some(10 * NEAR));
    assert_eq!(chain.balance("outlayer.near"), Some(NEAR));

    let outcome = rpc
        .call_function_tx(&signer, &outlayer, "nope", &json!({}), TGAS, 0)
        .await
        .unwrap();
    assert_eq!(
        outcome.failure(),
        Some(
            &json!({"ActionError": {"index": 0, "kind": {"FunctionCallError": {"MethodResolveError": "MethodNotFound"}}}})
        )
    );
    let outcome = rpc
        .call_function_tx(&signer, &account("worker.near"), "x", &json!({}), TGAS, 0)
        .await
        .unwrap();
    assert_eq!(
        outcome.failure(),
        Some(
            &json!({"ActionError": {"index": 0, "kind": {"FunctionCallError": {"CompilationError": {"CodeDoesNotExist": {"account_id": "worker.near"}}}}}})
        )
    );
    let outcome = rpc
        .transfer(&signer, &account("nobody.near"), 5)
        .await
        .unwrap();
    assert_eq!(
        outcome.failure(),
        Some(
            &json!({"ActionError": {"index": 0, "kind": {"AccountDoesNotExist": {"account_id": "nobody.near"}}}})
        )
    );
    assert_eq!(chain.balance("worker.near"), Some(10 * NEAR));
    // Each transaction used the next nonce.
    let nonces: Vec<u64> = chain
        .transactions()
        .iter()
        .map(|t| t.transaction.nonce)
        .collect();
    assert_eq!(nonces, [1, 2, 3, 4]);
}

#[tokio::test]
async fn refused_transactions_are_typed_errors() {
    let (chain, rpc, signer) = setup(0).await;
    let good = rpc
        .sign_tx(
            &signer,
            &account("outlayer.near"),
            vec![Action::transfer(1)],
        )
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
    assert_eq!(refusal(expired, &signer).await, json!("Expired"));

    let stranger = Signer::from_secret_key(account("stranger.near"), SECRET).unwrap();
    let unknown_signer = Transaction {
        signer_id: account("stranger.near"),
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

    let too_much = Transaction {
        actions: vec![Action::transfer(11 * NEAR)],
        ..good.transaction.clone()
    };
    assert_eq!(
        refusal(too_much, &signer).await,
        json!({"NotEnoughBalance": {
            "signer_id": "worker.near",
            "balance": (10 * NEAR).to_string(),
            "cost": (11 * NEAR).to_string(),
        }})
    );
    assert!(chain.transactions().is_empty());

    // The client's own reads fail first for an unknown signer.
    let err = rpc
        .transfer(&stranger, &account("outlayer.near"), 1)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownAccount { .. }), "{err:?}");

    // On the wire, exactly as nearcore sends them.
    let url = chain.url();
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
    .sign(&signer);
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
    let (chain, rpc, signer) = setup(0).await;
    chain.add_account("bob.near", 0);
    let outcome = rpc
        .transfer(&signer, &account("bob.near"), 5)
        .await
        .unwrap();
    assert_eq!(outcome.success_bytes().unwrap(), b"");
    outcome.success_value::<()>().unwrap();
    assert_eq!(chain.balance("bob.near"), Some(5));
    assert_eq!(chain.balance("worker.near"), Some(10 * NEAR - 5));

    // NONE: only the status comes back; the outcome is there by hash later.
    let tx = rpc
        .sign_tx(&signer, &account("bob.near"), vec![Action::transfer(7)])
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
    assert_eq!(chain.balance("bob.near"), Some(12));

    // Sending the same transaction again answers its outcome; nothing moves twice.
    let again = rpc
        .send_tx(&tx, TxExecutionStatus::ExecutedOptimistic)
        .await
        .unwrap();
    assert_eq!(
        again.final_execution_status,
        Some(TxExecutionStatus::ExecutedOptimistic)
    );
    assert_eq!(again.hash(), Some(hash.as_str()));
    assert_eq!(chain.balance("bob.near"), Some(12));

    let tx = rpc
        .sign_tx(&signer, &account("bob.near"), vec![Action::transfer(1)])
        .await
        .unwrap();
    assert_eq!(tx.transaction.nonce, 3);
    let committed = rpc.broadcast_tx_commit(&tx).await.unwrap();
    assert_eq!(committed.hash(), Some(tx.hash().to_string().as_str()));
    assert!(committed.is_success());
    assert_eq!(chain.balance("bob.near"), Some(13));
    assert_eq!(chain.transactions().len(), 3);
}
