//! The chain: admits transactions, produces blocks and executes receipts in
//! them. Single-threaded and deterministic given its inputs; the server
//! drives it on a timer and tests drive it block by block.

use std::collections::HashMap;
use std::sync::Arc;

use near_parameters::vm::VMKind;
use near_parameters::{RuntimeConfig, RuntimeConfigStore};
use near_primitives::account::AccessKeyPermission;
use near_primitives::errors::{InvalidTxError, TxExecutionError};
use near_primitives::hash::CryptoHash;
use near_primitives::transaction::SignedTransaction;
use near_primitives::types::AccountId;
use near_primitives::version::PROTOCOL_VERSION;
use near_primitives::views::ExecutionStatusView;
use near_vm_runner::MockContractRuntimeCache;

use crate::external::PendingYield;
use crate::receipt::{ActionReceipt, Receipt, ReceiptKind};
use crate::state::State;
use crate::transaction::Admission;

/// The block gas price, in yoctoNEAR per gas: the `min_gas_price` of
/// nearcore's testnet and mainnet genesis, which an unloaded chain stays at.
/// Gas is burnt at this price; the gas a receipt carries is bought at
/// `max(GAS_PRICE, min_gas_purchase_price)` (see [`crate::transaction::tx_cost`]).
pub const GAS_PRICE: u128 = 100_000_000;

#[derive(Clone, Debug)]
pub struct ChainConfig {
    pub chain_id: String,
    /// Timestamp of genesis; each block is at least one nanosecond later.
    pub genesis_time_ns: u64,
    /// Blocks a yield waits before its callback gets a timeout.
    pub yield_timeout_blocks: u64,
}

impl Default for ChainConfig {
    fn default() -> Self {
        Self {
            chain_id: "outlayer-local".into(),
            genesis_time_ns: now_ns(),
            yield_timeout_blocks: runtime_config()
                .wasm_config
                .limit_config
                .yield_timeout_length_in_blocks,
        }
    }
}

pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// nearcore's runtime parameters at the current protocol, on wasmtime.
pub fn runtime_config() -> RuntimeConfig {
    let store = RuntimeConfigStore::new(None);
    let mut config = (**store.get_config(PROTOCOL_VERSION)).clone();
    let mut wasm = (*config.wasm_config).clone();
    wasm.vm_kind = VMKind::Wasmtime;
    config.wasm_config = Arc::new(wasm);
    config
}

#[derive(Clone, Debug)]
pub struct Block {
    pub height: u64,
    pub hash: CryptoHash,
    pub prev_hash: CryptoHash,
    pub timestamp_ns: u64,
    pub random_value: CryptoHash,
    pub transactions: Vec<CryptoHash>,
    /// Receipts executed in this block, in order.
    pub receipts: Vec<CryptoHash>,
    pub gas_burnt: u64,
    pub tokens_burnt: u128,
}

/// One executed transaction or receipt.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub id: CryptoHash,
    pub block_hash: CryptoHash,
    pub executor_id: AccountId,
    pub logs: Vec<String>,
    pub receipt_ids: Vec<CryptoHash>,
    pub gas_burnt: u64,
    pub tokens_burnt: u128,
    pub status: ExecutionStatusView,
}

#[derive(Clone, Debug)]
pub struct TxRecord {
    pub signed: SignedTransaction,
    /// `None` until the transaction is in a block.
    pub outcome: Option<Outcome>,
    /// Receipts of this transaction's tree, in execution order.
    pub receipts: Vec<CryptoHash>,
}

pub struct Chain {
    pub config: ChainConfig,
    pub runtime: RuntimeConfig,
    pub state: State,
    pub blocks: Vec<Block>,
    block_heights: HashMap<CryptoHash, u64>,
    /// Admitted, waiting for the next block: `(hash, first receipt)`.
    pool: Vec<(CryptoHash, Receipt)>,
    /// Receipts to execute in the next block.
    pub(crate) incoming: Vec<Receipt>,
    /// Action receipts waiting for input data, by receipt id.
    pub(crate) postponed: HashMap<CryptoHash, Receipt>,
    /// Data id → the receipt waiting for it.
    pub(crate) awaited: HashMap<CryptoHash, CryptoHash>,
    /// Data that arrived before (or for) its receipt.
    pub(crate) data: HashMap<CryptoHash, Option<Vec<u8>>>,
    /// Yields that may still be resumed, by data id.
    pub(crate) yields: HashMap<CryptoHash, PendingYield>,
    pub transactions: HashMap<CryptoHash, TxRecord>,
    pub outcomes: HashMap<CryptoHash, Outcome>,
    pub receipts: HashMap<CryptoHash, Receipt>,
    pub(crate) cache: MockContractRuntimeCache,
    /// Every yoctoNEAR ever burnt as gas, for conservation checks.
    pub total_burnt: u128,
}

/// Height of the genesis block.
pub const GENESIS_HEIGHT: u64 = 1;

impl Chain {
    /// A chain at genesis with `state` (see [`crate::genesis`]).
    pub fn new(config: ChainConfig, state: State) -> Self {
        let genesis = Block {
            height: GENESIS_HEIGHT,
            hash: CryptoHash::hash_bytes(format!("genesis:{}", config.chain_id).as_bytes()),
            prev_hash: CryptoHash::default(),
            timestamp_ns: config.genesis_time_ns,
            random_value: CryptoHash::hash_bytes(b"genesis random value"),
            transactions: vec![],
            receipts: vec![],
            gas_burnt: 0,
            tokens_burnt: 0,
        };
        Self {
            block_heights: HashMap::from([(genesis.hash, genesis.height)]),
            blocks: vec![genesis],
            config,
            runtime: runtime_config(),
            state,
            pool: vec![],
            incoming: vec![],
            postponed: HashMap::new(),
            awaited: HashMap::new(),
            data: HashMap::new(),
            yields: HashMap::new(),
            transactions: HashMap::new(),
            outcomes: HashMap::new(),
            receipts: HashMap::new(),
            cache: MockContractRuntimeCache::default(),
            total_burnt: 0,
        }
    }

    pub fn head(&self) -> &Block {
        self.blocks.last().expect("genesis exists")
    }

    pub fn block_at(&self, height: u64) -> Option<&Block> {
        let index = height.checked_sub(GENESIS_HEIGHT)?;
        self.blocks.get(usize::try_from(index).ok()?)
    }

    pub fn block_by_hash(&self, hash: &CryptoHash) -> Option<&Block> {
        self.block_at(*self.block_heights.get(hash)?)
    }

    /// Admits a transaction: checks it as nearcore does, charges its signer
    /// and queues its receipt for the next block. Returns its hash.
    pub fn submit(&mut self, signed: SignedTransaction) -> Result<CryptoHash, InvalidTxError> {
        let hash = signed.get_hash();
        if self.transactions.contains_key(&hash) {
            return Ok(hash);
        }
        let tx = &signed.transaction;
        let cost = Admission {
            state: &self.state,
            fees: &self.runtime.fees,
            gas_price: GAS_PRICE,
            min_gas_purchase_price: self.runtime.min_gas_purchase_price.as_yoctonear(),
            max_prepaid_gas: self
                .runtime
                .wasm_config
                .limit_config
                .max_total_prepaid_gas
                .as_gas(),
            head_height: self.head().height,
            block_height: self.block_heights.get(tx.block_hash()).copied(),
        }
        .check(&signed)?;
        let signer_id = tx.signer_id().clone();
        let account = self.state.accounts.get_mut(&signer_id).expect("checked");
        account.amount -= cost.total;
        let key = self
            .state
            .access_keys
            .get_mut(&signer_id)
            .and_then(|keys| keys.get_mut(tx.public_key()))
            .expect("checked");
        key.nonce = tx.nonce().nonce();
        if let AccessKeyPermission::FunctionCall(p) = &mut key.permission
            && let Some(allowance) = &mut p.allowance
        {
            *allowance = near_primitives::types::Balance::from_yoctonear(
                allowance.as_yoctonear() - cost.total,
            );
        }
        let conversion_tokens = cost.burnt;
        self.total_burnt += conversion_tokens;
        let receipt = Receipt {
            id: derive_id(&hash, 0),
            predecessor_id: signer_id.clone(),
            receiver_id: tx.receiver_id().clone(),
            origin_tx: hash,
            kind: ReceiptKind::Action(ActionReceipt {
                signer_id: signer_id.clone(),
                signer_public_key: tx.public_key().clone(),
                gas_price: cost.receipt_gas_price,
                output_data_receivers: vec![],
                input_data_ids: vec![],
                actions: tx.actions().to_vec(),
                is_promise_yield: false,
                refund_to: None,
            }),
        };
        let outcome = Outcome {
            id: hash,
            // Set by the block that includes it.
            block_hash: CryptoHash::default(),
            executor_id: signer_id,
            logs: vec![],
            receipt_ids: vec![receipt.id],
            gas_burnt: cost.conversion_gas,
            tokens_burnt: conversion_tokens,
            status: ExecutionStatusView::SuccessReceiptId(receipt.id),
        };
        self.transactions.insert(
            hash,
            TxRecord {
                signed,
                outcome: Some(outcome),
                receipts: vec![],
            },
        );
        self.pool.push((hash, receipt));
        Ok(hash)
    }

    /// Whether a transaction is in a block yet.
    pub fn is_included(&self, hash: &CryptoHash) -> bool {
        self.transactions
            .get(hash)
            .and_then(|r| r.outcome.as_ref())
            .is_some_and(|o| o.block_hash != CryptoHash::default())
    }

    /// Produces the next block: includes pooled transactions, executes every
    /// receipt due, then times out expired yields (their callbacks run in the
    /// next block).
    pub fn produce_block(&mut self) -> &Block {
        let prev = self.head().clone();
        let height = prev.height + 1;
        let timestamp_ns = now_ns().max(prev.timestamp_ns + 1);
        let pool = std::mem::take(&mut self.pool);
        let transactions: Vec<CryptoHash> = pool.iter().map(|(h, _)| *h).collect();
        let mut header = prev.hash.0.to_vec();
        header.extend_from_slice(&height.to_le_bytes());
        header.extend_from_slice(&timestamp_ns.to_le_bytes());
        for tx in &transactions {
            header.extend_from_slice(&tx.0);
        }
        let hash = CryptoHash::hash_bytes(&header);
        let mut block = Block {
            height,
            hash,
            prev_hash: prev.hash,
            timestamp_ns,
            random_value: CryptoHash::hash_bytes(&[prev.random_value.0, hash.0].concat()),
            transactions,
            receipts: vec![],
            gas_burnt: 0,
            tokens_burnt: 0,
        };

        let mut due: Vec<Receipt> = Vec::new();
        for (tx_hash, receipt) in pool {
            if let Some(outcome) = self
                .transactions
                .get_mut(&tx_hash)
                .and_then(|r| r.outcome.as_mut())
            {
                outcome.block_hash = hash;
                block.gas_burnt += outcome.gas_burnt;
                block.tokens_burnt += outcome.tokens_burnt;
            }
            due.push(receipt);
        }
        due.append(&mut self.incoming);
        for receipt in due {
            self.apply_receipt(receipt, &mut block);
        }
        self.time_out_yields(height);
        self.block_heights.insert(block.hash, block.height);
        self.blocks.push(block);
        self.head()
    }

    /// nearcore's `resolve_promise_yield_timeouts` (runtime/runtime/src/lib.rs),
    /// run after the chunk's receipts: every yield whose `expires_at` (its
    /// creation height + `yield_timeout_length_in_blocks`, set by
    /// `enqueue_promise_yield_timeout` in `apply_action_receipt`) is at or below
    /// this height and is still unresolved gets a `PromiseResume` receipt with
    /// no data. The receipt is forwarded like any outgoing receipt
    /// (`receipt_sink.forward_or_buffer_receipt`), so the callback runs in the
    /// next block: created at H, timed out at H + 200, callback at H + 201.
    /// A yield resumed in this block was removed by its resume and gets none.
    fn time_out_yields(&mut self, height: u64) {
        let mut expired: Vec<(CryptoHash, PendingYield)> = self
            .yields
            .iter()
            .filter(|(_, y)| y.expires_at_height <= height)
            .map(|(id, y)| (*id, y.clone()))
            .collect();
        expired.sort_by_key(|(id, y)| (y.expires_at_height, *id));
        for (data_id, pending) in expired {
            self.yields.remove(&data_id);
            self.incoming.push(Receipt {
                id: derive_id(&data_id, u64::MAX),
                predecessor_id: pending.account_id.clone(),
                receiver_id: pending.account_id.clone(),
                origin_tx: pending.origin_tx,
                kind: ReceiptKind::Data {
                    data_id,
                    data: None,
                    is_promise_resume: true,
                },
            });
        }
    }

    /// Routes a receipt: data feeds its waiting receipt, an action receipt
    /// runs once all its inputs are here.
    fn apply_receipt(&mut self, receipt: Receipt, block: &mut Block) {
        self.receipts.insert(receipt.id, receipt.clone());
        match &receipt.kind {
            ReceiptKind::Data { data_id, data, .. } => {
                self.data.insert(*data_id, data.clone());
                if let Some(waiting) = self.awaited.remove(data_id) {
                    let ready = match self.postponed.get(&waiting).map(|r| &r.kind) {
                        Some(ReceiptKind::Action(a)) => {
                            a.input_data_ids.iter().all(|d| self.data.contains_key(d))
                        }
                        _ => false,
                    };
                    if ready && let Some(receipt) = self.postponed.remove(&waiting) {
                        self.execute(receipt, block);
                    }
                }
            }
            ReceiptKind::Action(action) => {
                let missing: Vec<CryptoHash> = action
                    .input_data_ids
                    .iter()
                    .filter(|d| !self.data.contains_key(d))
                    .copied()
                    .collect();
                if missing.is_empty() {
                    self.execute(receipt, block);
                } else {
                    for data_id in missing {
                        self.awaited.insert(data_id, receipt.id);
                    }
                    self.postponed.insert(receipt.id, receipt);
                }
            }
        }
    }

    /// Runs an action receipt whose inputs are all here and records its outcome.
    fn execute(&mut self, receipt: Receipt, block: &mut Block) {
        let result = crate::execution::execute(self, &receipt, block);
        let outcome = Outcome {
            id: receipt.id,
            block_hash: block.hash,
            executor_id: receipt.receiver_id.clone(),
            logs: result.logs,
            // Data receipts (results, resumes) have no outcome of their own.
            receipt_ids: result
                .new_receipts
                .iter()
                .filter(|r| matches!(r.kind, ReceiptKind::Action(_)))
                .map(|r| r.id)
                .collect(),
            gas_burnt: result.gas_burnt,
            tokens_burnt: result.tokens_burnt,
            status: result.status,
        };
        block.receipts.push(receipt.id);
        block.gas_burnt += outcome.gas_burnt;
        // The contract's reward is out of what the outcome reports burnt.
        block.tokens_burnt += outcome.tokens_burnt - result.reward;
        self.total_burnt += outcome.tokens_burnt - result.reward;
        if let Some(tx) = self.transactions.get_mut(&receipt.origin_tx) {
            tx.receipts.push(receipt.id);
        }
        self.outcomes.insert(receipt.id, outcome);
        self.incoming.extend(result.new_receipts);
    }

    /// The transaction's status as nearcore's `tx` reports it: follows the
    /// chain of `SuccessReceiptId`s to the value that settles it.
    pub fn final_status(&self, tx_hash: &CryptoHash) -> Option<FinalStatus> {
        let record = self.transactions.get(tx_hash)?;
        let Some(outcome) = record
            .outcome
            .as_ref()
            .filter(|o| o.block_hash != CryptoHash::default())
        else {
            return Some(FinalStatus::NotStarted);
        };
        let mut status = &outcome.status;
        loop {
            match status {
                ExecutionStatusView::SuccessReceiptId(id) => match self.outcomes.get(id) {
                    Some(next) => status = &next.status,
                    None => return Some(FinalStatus::Started),
                },
                ExecutionStatusView::SuccessValue(v) => {
                    return Some(FinalStatus::Success(v.clone()));
                }
                ExecutionStatusView::Failure(e) => return Some(FinalStatus::Failure(e.clone())),
                ExecutionStatusView::Unknown => return Some(FinalStatus::Started),
            }
        }
    }

    /// Whether every receipt of the transaction's tree has run (nearcore's
    /// `EXECUTED` / `FINAL` wait conditions).
    pub fn is_settled(&self, tx_hash: &CryptoHash) -> bool {
        let Some(record) = self.transactions.get(tx_hash) else {
            return false;
        };
        if !self.is_included(tx_hash) {
            return false;
        }
        let mut pending: Vec<CryptoHash> = record
            .outcome
            .as_ref()
            .map(|o| o.receipt_ids.clone())
            .unwrap_or_default();
        while let Some(id) = pending.pop() {
            match self.outcomes.get(&id) {
                Some(o) => pending.extend(o.receipt_ids.iter().copied()),
                None => return false,
            }
        }
        true
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FinalStatus {
    NotStarted,
    Started,
    Success(Vec<u8>),
    Failure(TxExecutionError),
}

/// A receipt or data id derived from a parent id and an index.
pub fn derive_id(parent: &CryptoHash, index: u64) -> CryptoHash {
    let mut bytes = parent.0.to_vec();
    bytes.extend_from_slice(&index.to_le_bytes());
    CryptoHash::hash_bytes(&bytes)
}
