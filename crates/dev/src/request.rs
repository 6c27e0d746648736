//! Paying for executions and waiting for their settlement, against any
//! chain: what `outlayer request` and `outlayer dev --demo` do.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use outlayer_near_client::{Action, NearRpc, Signer, Transaction, TxExecutionStatus, TxOutcome};
use outlayer_types::{
    AccountId, CodeSource, ExecutionCompleted, OutlayerEvent, ResourceLimits, ResponseFormat,
    SecretsRef, U128,
};
use serde_json::{Value, json};

/// Gas for `request_execution`: the contract asks for at least 100 Tgas; the
/// unused part pays for the settlement callback.
const REQUEST_TGAS: u64 = 150;

/// A request to send: the `request_execution` arguments.
#[derive(Clone, Debug)]
pub struct NewRequest {
    pub code_source: CodeSource,
    pub limits: ResourceLimits,
    pub input: String,
    pub secrets_ref: Option<SecretsRef>,
    pub response_format: ResponseFormat,
}

/// How a request ended.
#[derive(Debug)]
pub struct Settled {
    pub request_id: Option<u64>,
    /// Height of the block that holds the request.
    pub request_block: Option<u64>,
    /// Hash of the block in which the contract settled the request.
    pub settled_in: Option<String>,
    pub tx_hash: String,
    pub deposit: u128,
    /// What the calling contract received (the callback's return value).
    pub value: Option<Value>,
    pub failure: Option<Value>,
    pub completed: Option<ExecutionCompleted>,
    pub tokens_burnt: u128,
}

impl Settled {
    pub fn success(&self) -> bool {
        self.completed.as_ref().is_some_and(|c| c.success)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "request_id": self.request_id,
            "transaction": self.tx_hash,
            "deposit": U128(self.deposit),
            "success": self.success(),
            "output": self.value,
            "failure": self.failure,
            "settlement": self.completed,
            "gas_tokens_burnt": U128(self.tokens_burnt),
        })
    }
}

/// The deposit the contract asks for: the worst-case cost and the input's
/// storage.
pub async fn estimate(
    rpc: &NearRpc,
    contract: &AccountId,
    request: &NewRequest,
) -> anyhow::Result<u128> {
    let estimate: U128 = rpc
        .view_call(
            contract,
            "estimate_execution_cost",
            // Inline code is stored with the request and paid like input.
            &json!({
                "resource_limits": request.limits,
                "input_bytes": request.input.len() as u64 + request.code_source.inline_code_bytes(),
            }),
            &Default::default(),
        )
        .await
        .context("estimate_execution_cost")?;
    Ok(estimate.0)
}

/// Pays for `request` and waits (up to `timeout`) until the contract has
/// settled it.
pub async fn send(
    rpc: &NearRpc,
    signer: &Signer,
    contract: &AccountId,
    request: &NewRequest,
    deposit: u128,
    timeout: Duration,
) -> anyhow::Result<Settled> {
    let tx_hash = submit(rpc, signer, contract, request, deposit).await?;
    wait(rpc, &signer.account_id, &tx_hash, deposit, timeout).await
}

/// Signs and submits `request_execution` without waiting for it; returns
/// the transaction hash (computed here: a node answering a submission
/// without waiting need not return it).
pub async fn submit(
    rpc: &NearRpc,
    signer: &Signer,
    contract: &AccountId,
    request: &NewRequest,
    deposit: u128,
) -> anyhow::Result<String> {
    let args = json!({
        "code_source": request.code_source,
        "resource_limits": request.limits,
        "input_data": request.input,
        "secrets_ref": request.secrets_ref,
        "response_format": request.response_format,
    });
    let action = Action::function_call(
        "request_execution",
        serde_json::to_vec(&args)?,
        REQUEST_TGAS * 1_000_000_000_000,
        deposit,
    );
    let mut tx = rpc
        .sign_tx(signer, contract, vec![action])
        .await
        .context("signing request_execution")?;
    if let Err(e) = rpc.send_tx(&tx, TxExecutionStatus::None).await {
        // Another transaction of this key got in first: take the next nonce.
        let nonces = e
            .invalid_nonce()
            .ok_or(e)
            .context("sending request_execution")?;
        tx = Transaction {
            nonce: nonces.ak_nonce + 1,
            ..tx.transaction
        }
        .sign(signer);
        rpc.send_tx(&tx, TxExecutionStatus::None)
            .await
            .context("sending request_execution")?;
    }
    Ok(tx.hash().to_string())
}

/// Waits (up to `timeout`) until every receipt of `tx_hash` has run: for a
/// request, until the contract has settled it.
pub async fn wait(
    rpc: &NearRpc,
    sender: &AccountId,
    tx_hash: &str,
    deposit: u128,
    timeout: Duration,
) -> anyhow::Result<Settled> {
    let deadline = Instant::now() + timeout;
    let outcome = loop {
        match rpc
            .tx_status(tx_hash, sender.as_str(), TxExecutionStatus::Final)
            .await
        {
            Ok(outcome) => break outcome,
            // Not seen yet, or the node's own wait ran out: ask again.
            Err(e)
                if (e.is_timeout()
                    || e.is_unavailable()
                    || matches!(e, outlayer_near_client::Error::UnknownTransaction { .. }))
                    && Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e).context("waiting for the settlement"),
        }
    };
    Ok(settled(tx_hash.to_owned(), deposit, &outcome))
}

fn settled(tx_hash: String, deposit: u128, outcome: &TxOutcome) -> Settled {
    let mut request_id = None;
    let mut request_block = None;
    let mut completed = None;
    for line in outcome.logs() {
        match OutlayerEvent::from_log_line(line) {
            Some(Ok(OutlayerEvent::ExecutionRequested(list))) => {
                if let Some(request) = list.first() {
                    request_id = Some(request.context.request_id);
                    request_block = Some(request.context.block_height);
                }
            }
            Some(Ok(OutlayerEvent::ExecutionCompleted(list))) => {
                completed = list.into_iter().next()
            }
            _ => {}
        }
    }
    // The block of the receipt that logged the settlement.
    let settled_in = outcome
        .receipts_outcome
        .iter()
        .find(|o| {
            o.outcome
                .logs
                .iter()
                .any(|l| l.contains("\"execution_completed\""))
        })
        .map(|o| o.block_hash.clone());
    Settled {
        request_id,
        request_block,
        settled_in,
        tx_hash,
        deposit,
        value: outcome.success_value::<Value>().ok(),
        failure: outcome.failure().cloned(),
        completed,
        tokens_burnt: outcome.tokens_burnt(),
    }
}

/// yoctoNEAR as NEAR with enough digits to see small charges.
pub fn near(yocto: u128) -> String {
    format!("{:.6} NEAR", yocto as f64 / 1e24)
}

/// A few lines for people: output or failure, usage, money.
pub fn describe(settled: &Settled) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let id = settled
        .request_id
        .map_or_else(|| "?".to_owned(), |id| id.to_string());
    let _ = writeln!(out, "request {id} (transaction {})", settled.tx_hash);
    if let Some(failure) = &settled.failure {
        let _ = writeln!(out, "  refused by the contract: {failure}");
        return out;
    }
    let Some(c) = &settled.completed else {
        let _ = writeln!(out, "  not settled");
        return out;
    };
    match (&settled.value, c.success) {
        (Some(value), true) => {
            let _ = writeln!(out, "  output    {value}");
        }
        _ => {
            let error = c.error.as_deref().unwrap_or("(no message)");
            let _ = writeln!(out, "  failed    {error}");
        }
    }
    let used = &c.resources_used;
    let build = used
        .compile_time_ms
        .map_or_else(|| "none (cached)".to_owned(), |ms| format!("{ms} ms"));
    let _ = writeln!(
        out,
        "  used      {} instructions, {} ms running, build {build}",
        used.instructions, used.time_ms
    );
    let _ = writeln!(
        out,
        "  paid      {}  charged {}  refunded {}",
        near(settled.deposit),
        near(c.charged.0),
        near(c.refunded.0)
    );
    out
}
