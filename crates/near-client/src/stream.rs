//! A reader of the block stream (`docs/block-stream.md`): one NEAR Lake
//! `StreamerMessage` per height from `GET {base}/v0/block/{height}`, as the
//! local chain and neardata.xyz serve it. The worker's event monitor follows
//! it and picks the contract's events out of receipt outcomes.

use std::time::Duration;

use outlayer_types::{AccountId, OutlayerEvent};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// Follows the stream from a height on, one block at a time.
pub struct BlockStream {
    http: reqwest::Client,
    base: String,
    next_height: u64,
    wait: Duration,
}

/// One block: its header fields and every receipt outcome in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamBlock {
    pub height: u64,
    pub hash: String,
    pub timestamp_nanosec: u64,
    pub outcomes: Vec<ReceiptOutcome>,
}

/// One executed receipt, as the event monitor needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptOutcome {
    pub receipt_id: String,
    pub executor_id: AccountId,
    pub predecessor_id: AccountId,
    pub logs: Vec<String>,
    /// False when the receipt failed: its logs describe nothing that happened.
    pub succeeded: bool,
    /// The transaction the receipt descends from, when the source says.
    pub tx_hash: Option<String>,
}

impl StreamBlock {
    /// The OutLayer events `contract` logged in this block, from receipts
    /// that succeeded, in order. Malformed event lines are errors, not skipped.
    pub fn outlayer_events(
        &self,
        contract: &AccountId,
    ) -> Result<Vec<(&ReceiptOutcome, OutlayerEvent)>> {
        let mut events = Vec::new();
        for outcome in self
            .outcomes
            .iter()
            .filter(|o| o.succeeded && &o.executor_id == contract)
        {
            for line in &outcome.logs {
                match OutlayerEvent::from_log_line(line) {
                    Some(Ok(event)) => events.push((outcome, event)),
                    Some(Err(e)) => {
                        return Err(Error::Decode {
                            method: "block stream".into(),
                            message: format!(
                                "malformed event in receipt {}: {e}",
                                outcome.receipt_id
                            ),
                        });
                    }
                    None => {}
                }
            }
        }
        Ok(events)
    }
}

impl BlockStream {
    /// Starts at `from_height`; each `next` waits up to `wait` for a block
    /// not produced yet.
    pub fn new(base_url: impl Into<String>, from_height: u64, wait: Duration) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(wait + Duration::from_secs(10))
            .build()
            .map_err(|e| Error::Transport {
                method: "block stream".into(),
                message: e.to_string(),
            })?;
        Ok(Self {
            http,
            base: base_url.into().trim_end_matches('/').to_owned(),
            next_height: from_height,
            wait,
        })
    }

    /// The height `next` asks for.
    pub fn next_height(&self) -> u64 {
        self.next_height
    }

    /// The next block, or `None` when it was not produced within the wait
    /// (ask again). A skipped height (`null`, as testnet has) is passed over.
    pub async fn next(&mut self) -> Result<Option<StreamBlock>> {
        loop {
            let height = self.next_height;
            let url = format!(
                "{}/v0/block/{height}?wait_ms={}",
                self.base,
                self.wait.as_millis()
            );
            let transport = |e: reqwest::Error| Error::Transport {
                method: "block stream".into(),
                message: e.without_url().to_string(),
            };
            let response = self.http.get(&url).send().await.map_err(transport)?;
            if response.status() == reqwest::StatusCode::NOT_FOUND {
                return Ok(None);
            }
            if !response.status().is_success() {
                return Err(Error::Http {
                    method: "block stream".into(),
                    status: response.status().as_u16(),
                });
            }
            let body = response.bytes().await.map_err(transport)?;
            let message: Option<Message> =
                serde_json::from_slice(&body).map_err(|e| Error::Decode {
                    method: "block stream".into(),
                    message: e.to_string(),
                })?;
            self.next_height = height + 1;
            if let Some(message) = message {
                return Ok(Some(message.into_block(height)?));
            }
        }
    }
}

#[derive(Deserialize)]
struct Message {
    block: BlockJson,
    shards: Vec<Shard>,
}

#[derive(Deserialize)]
struct BlockJson {
    header: Header,
}

#[derive(Deserialize)]
struct Header {
    height: u64,
    hash: String,
    timestamp_nanosec: crate::U64String,
}

#[derive(Deserialize)]
struct Shard {
    #[serde(default)]
    receipt_execution_outcomes: Vec<ExecutedReceipt>,
}

#[derive(Deserialize)]
struct ExecutedReceipt {
    execution_outcome: OutcomeWithId,
    receipt: ReceiptJson,
    #[serde(default)]
    tx_hash: Option<String>,
}

#[derive(Deserialize)]
struct OutcomeWithId {
    id: String,
    outcome: OutcomeJson,
}

#[derive(Deserialize)]
struct OutcomeJson {
    executor_id: AccountId,
    logs: Vec<String>,
    status: Value,
}

#[derive(Deserialize)]
struct ReceiptJson {
    predecessor_id: AccountId,
}

impl Message {
    fn into_block(self, asked: u64) -> Result<StreamBlock> {
        if self.block.header.height != asked {
            return Err(Error::Decode {
                method: "block stream".into(),
                message: format!("asked for block {asked}, got {}", self.block.header.height),
            });
        }
        let outcomes = self
            .shards
            .into_iter()
            .flat_map(|s| s.receipt_execution_outcomes)
            .map(|r| ReceiptOutcome {
                receipt_id: r.execution_outcome.id,
                executor_id: r.execution_outcome.outcome.executor_id,
                predecessor_id: r.receipt.predecessor_id,
                logs: r.execution_outcome.outcome.logs,
                succeeded: r.execution_outcome.outcome.status.get("Failure").is_none(),
                tx_hash: r.tx_hash,
            })
            .collect();
        Ok(StreamBlock {
            height: self.block.header.height,
            hash: self.block.header.hash,
            timestamp_nanosec: self.block.header.timestamp_nanosec.0,
            outcomes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outcome(executor: &str, logs: &[&str], status: Value) -> Value {
        json!({
            "execution_outcome": {"id": "r1", "block_hash": "b", "proof": [],
                "outcome": {"executor_id": executor, "logs": logs, "receipt_ids": [], "gas_burnt": 1,
                    "tokens_burnt": "1", "status": status, "metadata": {"version": 1, "gas_profile": null}}},
            "receipt": {"predecessor_id": "alice.near", "receiver_id": executor, "receipt_id": "r1", "receipt": {}},
        })
    }

    fn block(outcomes: Vec<Value>) -> StreamBlock {
        let message = json!({
            "block": {"author": "x", "header": {"height": 7, "hash": "h7", "timestamp_nanosec": "123"}, "chunks": []},
            "shards": [{"shard_id": 0, "chunk": null, "receipt_execution_outcomes": outcomes, "state_changes": []}],
        });
        serde_json::from_value::<Message>(message)
            .unwrap()
            .into_block(7)
            .unwrap()
    }

    const COMPLETED: &str = r#"EVENT_JSON:{"standard":"near-outlayer","version":"1.0.0","event":"execution_completed","data":[{"request_id":3,"success":true,"error":null,"resources_used":{"instructions":1,"time_ms":1,"compile_time_ms":0},"charged":"5","refunded":"6"}]}"#;

    #[test]
    fn only_the_contracts_successful_receipts_count() {
        let contract: AccountId = "outlayer.near".parse().unwrap();
        let block = block(vec![
            outcome(
                "outlayer.near",
                &["plain log", COMPLETED],
                json!({"SuccessValue": ""}),
            ),
            outcome("other.near", &[COMPLETED], json!({"SuccessValue": ""})),
            outcome(
                "outlayer.near",
                &[COMPLETED],
                json!({"Failure": {"ActionError": {}}}),
            ),
        ]);
        assert_eq!(
            (block.height, block.hash.as_str(), block.timestamp_nanosec),
            (7, "h7", 123)
        );
        assert!(!block.outcomes[2].succeeded);
        let events = block.outlayer_events(&contract).unwrap();
        assert_eq!(events.len(), 1);
        let OutlayerEvent::ExecutionCompleted(list) = &events[0].1 else {
            panic!("{events:?}")
        };
        assert_eq!(list[0].request_id, 3);
    }

    #[test]
    fn a_malformed_event_is_an_error_and_a_wrong_height_is_refused() {
        let contract: AccountId = "outlayer.near".parse().unwrap();
        let bad = r#"EVENT_JSON:{"standard":"near-outlayer","version":"1.0.0","event":"execution_completed","data":"nope"}"#;
        let block = block(vec![outcome(
            "outlayer.near",
            &[bad],
            json!({"SuccessValue": ""}),
        )]);
        assert!(matches!(
            block.outlayer_events(&contract),
            Err(Error::Decode { .. })
        ));
        let message = json!({"block": {"header": {"height": 8, "hash": "h", "timestamp_nanosec": "1"}}, "shards": []});
        let wrong = serde_json::from_value::<Message>(message)
            .unwrap()
            .into_block(7);
        assert!(
            matches!(wrong, Err(Error::Decode { message, .. }) if message == "asked for block 7, got 8")
        );
    }
}
