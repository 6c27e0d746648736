//! The fake chain's in-memory state.

use std::collections::{BTreeMap, HashMap};

use outlayer_types::AccountId;
use serde_json::Value;

use super::{Availability, CallFn, ViewFn};
use crate::SignedTransaction;

pub(super) struct FakeAccount {
    pub(super) amount: u128,
    pub(super) has_code: bool,
    /// `ed25519:<base58>` → key; every key is full-access.
    pub(super) keys: BTreeMap<String, FakeKey>,
}

pub(super) struct FakeKey {
    pub(super) nonce: u64,
    /// What `view_access_key` reports instead of `nonce` until the key's
    /// next accepted transaction (a view lagging behind the chain).
    pub(super) shown_nonce: Option<u64>,
}

pub(super) struct State {
    pub(super) height: u64,
    pub(super) accounts: BTreeMap<AccountId, FakeAccount>,
    pub(super) views: HashMap<(AccountId, String), ViewFn>,
    pub(super) calls: HashMap<(AccountId, String), CallFn>,
    pub(super) availability: Availability,
    pub(super) queries: u64,
    /// Accepted transactions, in order.
    pub(super) transactions: Vec<SignedTransaction>,
    /// Full outcomes by transaction hash (base58), for `tx`.
    pub(super) outcomes: HashMap<String, Value>,
}

impl State {
    pub(super) fn new() -> Self {
        Self {
            height: 100,
            accounts: BTreeMap::new(),
            views: HashMap::new(),
            calls: HashMap::new(),
            availability: Availability::Up,
            queries: 0,
            transactions: Vec::new(),
            outcomes: HashMap::new(),
        }
    }

    pub(super) fn account_mut(&mut self, id: &AccountId) -> &mut FakeAccount {
        self.accounts.entry(id.clone()).or_insert(FakeAccount {
            amount: 0,
            has_code: false,
            keys: BTreeMap::new(),
        })
    }

    pub(super) fn block_hash(&self, height: u64) -> String {
        fake_hash(1, height)
    }
}

/// A base58 string that looks like a 32-byte NEAR hash, unique per input.
pub(super) fn fake_hash(tag: u8, n: u64) -> String {
    let mut bytes = [7u8; 32];
    bytes[0] = tag;
    bytes[1..9].copy_from_slice(&n.to_be_bytes());
    bs58::encode(bytes).into_string()
}
