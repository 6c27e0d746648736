//! The block stream: one JSON document per block in the shape of NEAR
//! Lake's `StreamerMessage`, as neardata.xyz serves it for testnet and
//! mainnet at `/v0/block/{height}`, so one reader works here and there.
//! See `docs/block-stream.md`.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use near_primitives::hash::CryptoHash;
use near_primitives::views::{
    BlockView, ChunkHeaderView, ExecutionOutcomeWithIdView, ReceiptView, SignedTransactionView,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::chain::{Block, Chain};
use crate::server::Shared;
use crate::views::{block_view, chain_author, chunk_view, outcome_view};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StreamerMessage {
    pub block: BlockView,
    pub shards: Vec<Shard>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Shard {
    pub shard_id: u64,
    pub chunk: Option<Chunk>,
    pub receipt_execution_outcomes: Vec<ReceiptExecutionOutcome>,
    /// Always empty here: the local chain does not record state changes.
    pub state_changes: Vec<serde_json::Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Chunk {
    pub author: near_primitives::types::AccountId,
    pub header: ChunkHeaderView,
    pub transactions: Vec<TransactionWithOutcome>,
    /// Receipts that arrived in this chunk (here: those executed in it).
    pub receipts: Vec<ReceiptView>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TransactionWithOutcome {
    pub transaction: SignedTransactionView,
    pub outcome: TransactionOutcome,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TransactionOutcome {
    pub execution_outcome: ExecutionOutcomeWithIdView,
    pub receipt: Option<ReceiptView>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReceiptExecutionOutcome {
    pub execution_outcome: ExecutionOutcomeWithIdView,
    pub receipt: ReceiptView,
    /// The transaction whose tree the receipt belongs to (neardata adds this too).
    pub tx_hash: Option<CryptoHash>,
}

pub fn streamer_message(chain: &Chain, block: &Block) -> StreamerMessage {
    let transactions = block
        .transactions
        .iter()
        .filter_map(|hash| {
            let record = chain.transactions.get(hash)?;
            Some(TransactionWithOutcome {
                transaction: SignedTransactionView::from(record.signed.clone()),
                outcome: TransactionOutcome {
                    execution_outcome: outcome_view(record.outcome.as_ref()?),
                    receipt: None,
                },
            })
        })
        .collect();
    let executed: Vec<ReceiptExecutionOutcome> = block
        .receipts
        .iter()
        .filter_map(|id| {
            let receipt = chain.receipts.get(id)?;
            Some(ReceiptExecutionOutcome {
                execution_outcome: outcome_view(chain.outcomes.get(id)?),
                receipt: receipt.view(),
                tx_hash: Some(receipt.origin_tx),
            })
        })
        .collect();
    StreamerMessage {
        block: block_view(chain, block),
        shards: vec![Shard {
            shard_id: 0,
            chunk: Some(Chunk {
                author: chain_author(),
                header: chunk_view(block),
                transactions,
                receipts: executed.iter().map(|o| o.receipt.clone()).collect(),
            }),
            receipt_execution_outcomes: executed,
            state_changes: vec![],
        }],
    }
}

#[derive(Debug, Deserialize)]
pub struct WaitQuery {
    /// Milliseconds to wait for a block not produced yet (default 10 000, at most 60 000).
    pub wait_ms: Option<u64>,
}

/// `GET /v0/block/{height}`: the block's message; a future block is waited
/// for up to `wait_ms`, then 404 with `{"error": ...}`.
pub async fn block(
    State(shared): State<Shared>,
    Path(height): Path<u64>,
    Query(query): Query<WaitQuery>,
) -> Response {
    let wait = Duration::from_millis(query.wait_ms.unwrap_or(10_000).min(60_000));
    let mut heads = shared.heads();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        {
            let chain = shared.chain();
            if let Some(block) = chain.block_at(height) {
                return Json(streamer_message(&chain, block)).into_response();
            }
            if height < crate::chain::GENESIS_HEIGHT {
                return not_found(format!("block {height} is before genesis"));
            }
        }
        if !matches!(
            tokio::time::timeout_at(deadline, heads.changed()).await,
            Ok(Ok(()))
        ) {
            return not_found(format!("block {height} is not produced yet"));
        }
    }
}

fn not_found(message: String) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"error": message}))).into_response()
}

/// `GET /v0/last_block/final`: the head's message.
pub async fn last_block(State(shared): State<Shared>) -> Response {
    let chain = shared.chain();
    Json(streamer_message(&chain, chain.head())).into_response()
}

/// `GET /status`, as nearcore serves it besides the `status` RPC method.
pub async fn status(State(shared): State<Shared>) -> Response {
    let request = json!({"jsonrpc": "2.0", "id": "status", "method": "status", "params": []});
    let (_, Json(response)) =
        crate::rpc::handle(State(shared), axum::body::Bytes::from(request.to_string())).await;
    Json(response["result"].clone()).into_response()
}
