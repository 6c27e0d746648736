//! The NEAR reads programs make (`outlayer_runtime::NearReads`), answered by
//! this worker's RPC endpoint at `final`, through one token bucket for the
//! whole worker so its programs together never exceed what the RPC
//! provider allows (5 requests/s is an anonymous public endpoint's).

use std::sync::Arc;
use std::time::Duration;

use outlayer_near_client::{BlockReference, Error as RpcError, Finality, NearRpc};
use outlayer_runtime::{NearRead, NearReadError, NearReader, NearReads, ReadFuture};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Requests per second, with a burst of at most one second's worth.
pub(crate) struct TokenBucket {
    per_second: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    pub(crate) fn new(per_second: u32) -> Self {
        let per_second = f64::from(per_second.max(1));
        Self {
            per_second,
            state: Mutex::new((per_second, Instant::now())),
        }
    }

    /// Waits for a token. Waiters are served in turn (the lock is fair).
    pub(crate) async fn acquire(&self) {
        let mut state = self.state.lock().await;
        let (tokens, at) = &mut *state;
        let now = Instant::now();
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second)
            .min(self.per_second);
        *at = now;
        if *tokens < 1.0 {
            let wait = Duration::from_secs_f64((1.0 - *tokens) / self.per_second);
            tokio::time::sleep(wait).await;
            *at = Instant::now();
            *tokens = 1.0;
        }
        *tokens -= 1.0;
    }
}

/// Reads at `final` through the worker's RPC client.
pub struct RpcReader {
    rpc: NearRpc,
    bucket: TokenBucket,
}

impl RpcReader {
    /// The capability executions get, or `None` when reads are off.
    pub fn reads(rpc: NearRpc, per_second: u32, per_execution: u32) -> Option<NearReads> {
        if per_second == 0 || per_execution == 0 {
            return None;
        }
        let reader = Arc::new(Self {
            rpc,
            bucket: TokenBucket::new(per_second),
        });
        Some(NearReads {
            max_reads: per_execution,
            ..NearReads::new(reader)
        })
    }
}

impl NearReader for RpcReader {
    fn read(&self, read: NearRead) -> ReadFuture<'_> {
        Box::pin(async move {
            self.bucket.acquire().await;
            let at = BlockReference::Finality(Finality::Final);
            match read {
                NearRead::View {
                    contract_id,
                    method_name,
                    args,
                } => {
                    let contract = parse_account(&contract_id)?;
                    self.rpc
                        .call_function(&contract, &method_name, &args, &at)
                        .await
                        .map(|call| call.result)
                        .map_err(refusal)
                }
                NearRead::Account { account_id } => {
                    let account = parse_account(&account_id)?;
                    let view = self
                        .rpc
                        .view_account(&account, &at)
                        .await
                        .map_err(refusal)?;
                    Ok(serde_json::to_vec(&serde_json::json!({
                        "amount": view.amount,
                        "locked": view.locked,
                        "code_hash": view.code_hash,
                        "storage_usage": view.storage_usage,
                    }))
                    .expect("JSON serialises"))
                }
            }
        })
    }
}

fn parse_account(id: &str) -> Result<outlayer_types::AccountId, NearReadError> {
    id.parse()
        .map_err(|e| NearReadError::Refused(format!("invalid account id {id:?}: {e}")))
}

/// The program's fault (no such account, contract or method; the view
/// failed) or the node's.
fn refusal(error: RpcError) -> NearReadError {
    match error {
        RpcError::UnknownAccount { .. }
        | RpcError::NoContractCode { .. }
        | RpcError::ContractExecution { .. } => NearReadError::Refused(error.to_string()),
        other => NearReadError::Unavailable(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_bucket_holds_many_concurrent_readers_to_its_rate() {
        let bucket = Arc::new(TokenBucket::new(5));
        let started = Instant::now();
        let tasks: Vec<_> = (0..25)
            .map(|_| {
                let bucket = bucket.clone();
                tokio::spawn(async move {
                    bucket.acquire().await;
                    started.elapsed()
                })
            })
            .collect();
        let mut times = Vec::new();
        for task in tasks {
            times.push(task.await.unwrap());
        }
        times.sort();
        // A second's burst at once, then one every 200 ms.
        assert!(times[..5].iter().all(|t| *t == Duration::ZERO), "{times:?}");
        for (n, t) in times.iter().enumerate().skip(5) {
            let expected = Duration::from_millis(200 * (n as u64 - 4));
            assert!(
                t.abs_diff(expected) < Duration::from_millis(2),
                "read {n} at {t:?}, expected {expected:?}"
            );
        }
        // Any window of T seconds holds at most the burst plus 5 × T reads.
        for (i, t) in times.iter().enumerate() {
            for window in [1u64, 2, 4] {
                let end = *t + Duration::from_secs(window);
                let within = times[i..].iter().filter(|u| **u < end).count() as u64;
                assert!(
                    within <= 5 + 5 * window,
                    "{within} reads in {window} s from {t:?}"
                );
            }
        }
    }
}
