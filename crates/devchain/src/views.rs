//! The chain's data in nearcore's RPC view types, so every JSON shape is
//! nearcore's own serialisation.

use near_crypto::{KeyType, Signature};
use near_primitives::hash::CryptoHash;
use near_primitives::types::{Balance, Gas};
use near_primitives::views::{
    BlockHeaderView, BlockView, ChunkHeaderView, ExecutionMetadataView, ExecutionOutcomeView,
    ExecutionOutcomeWithIdView, FinalExecutionOutcomeView, FinalExecutionStatus,
    SignedTransactionView,
};

use crate::chain::{Block, Chain, FinalStatus, GAS_PRICE, Outcome};
use crate::receipt::system_account;

/// Gas one chunk may use (nearcore's mainnet/testnet limit).
pub const CHUNK_GAS_LIMIT: u64 = 1_000_000_000_000_000;

pub fn epoch_id(chain: &Chain) -> CryptoHash {
    chain.blocks[0].hash
}

pub fn block_view(chain: &Chain, block: &Block) -> BlockView {
    let header = BlockHeaderView {
        height: block.height,
        prev_height: block.height.checked_sub(1).filter(|h| *h >= 1),
        epoch_id: CryptoHash::default(),
        next_epoch_id: epoch_id(chain),
        hash: block.hash,
        prev_hash: block.prev_hash,
        chunks_included: 1,
        timestamp: block.timestamp_ns,
        timestamp_nanosec: block.timestamp_ns,
        random_value: block.random_value,
        chunk_mask: vec![true],
        gas_price: Balance::from_yoctonear(GAS_PRICE),
        block_ordinal: Some(block.height),
        total_supply: Balance::from_yoctonear(chain.state.total_balance()),
        // One producer: every block is final when produced.
        last_final_block: block.hash,
        last_ds_final_block: block.hash,
        signature: Signature::empty(KeyType::ED25519),
        latest_protocol_version: near_primitives::version::PROTOCOL_VERSION,
        ..BlockHeaderView::default()
    };
    BlockView {
        author: chain_author(),
        header,
        chunks: vec![chunk_view(block)],
    }
}

pub fn chunk_view(block: &Block) -> ChunkHeaderView {
    ChunkHeaderView {
        chunk_hash: CryptoHash::hash_bytes(&[b"chunk".as_slice(), &block.hash.0].concat()),
        prev_block_hash: block.prev_hash,
        outcome_root: CryptoHash::default(),
        prev_state_root: CryptoHash::default(),
        encoded_merkle_root: CryptoHash::default(),
        encoded_length: 0,
        height_created: block.height,
        height_included: block.height,
        shard_id: 0.into(),
        gas_used: Gas::from_gas(block.gas_burnt),
        gas_limit: Gas::from_gas(CHUNK_GAS_LIMIT),
        rent_paid: Balance::ZERO,
        validator_reward: Balance::ZERO,
        balance_burnt: Balance::from_yoctonear(block.tokens_burnt),
        outgoing_receipts_root: CryptoHash::default(),
        tx_root: CryptoHash::default(),
        validator_proposals: vec![],
        congestion_info: None,
        bandwidth_requests: None,
        proposed_split: None,
        signature: Signature::empty(KeyType::ED25519),
    }
}

/// The block producer's account, as blocks name their author.
pub fn chain_author() -> near_primitives::types::AccountId {
    system_account()
}

pub fn outcome_view(outcome: &Outcome) -> ExecutionOutcomeWithIdView {
    ExecutionOutcomeWithIdView {
        proof: vec![],
        block_hash: outcome.block_hash,
        id: outcome.id,
        outcome: ExecutionOutcomeView {
            logs: outcome.logs.clone(),
            receipt_ids: outcome.receipt_ids.clone(),
            gas_burnt: Gas::from_gas(outcome.gas_burnt),
            tokens_burnt: Balance::from_yoctonear(outcome.tokens_burnt),
            executor_id: outcome.executor_id.clone(),
            status: outcome.status.clone(),
            metadata: ExecutionMetadataView {
                version: 1,
                gas_profile: None,
                contracts: None,
            },
        },
    }
}

/// nearcore's `FinalExecutionOutcomeView` of a transaction in a block.
pub fn final_outcome(chain: &Chain, tx_hash: &CryptoHash) -> Option<FinalExecutionOutcomeView> {
    let record = chain.transactions.get(tx_hash)?;
    let outcome = record.outcome.as_ref()?;
    let status = match chain.final_status(tx_hash)? {
        FinalStatus::NotStarted => FinalExecutionStatus::NotStarted,
        FinalStatus::Started => FinalExecutionStatus::Started,
        FinalStatus::Success(v) => FinalExecutionStatus::SuccessValue(v),
        FinalStatus::Failure(e) => FinalExecutionStatus::Failure(e),
    };
    Some(FinalExecutionOutcomeView {
        status,
        transaction: SignedTransactionView::from(record.signed.clone()),
        transaction_outcome: outcome_view(outcome),
        receipts_outcome: record
            .receipts
            .iter()
            .filter_map(|id| chain.outcomes.get(id))
            .map(outcome_view)
            .collect(),
    })
}
