//! The chain's state: accounts, access keys, contract code and contract
//! storage, with nearcore's storage accounting so storage staking is checked
//! the way testnet checks it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use borsh::BorshSerialize;
use near_crypto::PublicKey;
use near_primitives::account::AccessKey;
use near_primitives::hash::CryptoHash;
use near_primitives::types::AccountId;
use near_vm_runner::ContractCode;

/// Bytes every account is charged for itself (nearcore's `num_bytes_account`).
pub const ACCOUNT_BYTES: u64 = 100;
/// Bytes every storage record or access key costs beyond its key and value
/// (nearcore's `num_extra_bytes_record`; the VM counts contract records itself).
pub const RECORD_EXTRA_BYTES: u64 = 40;
/// yoctoNEAR locked per byte of state (nearcore's `storage_amount_per_byte`).
pub const STORAGE_PRICE_PER_BYTE: u128 = 10_000_000_000_000_000_000;
/// An account using at most this many bytes needs no balance for them
/// (NEP-448 zero-balance accounts: `ZERO_BALANCE_ACCOUNT_STORAGE_LIMIT` in
/// nearcore's `runtime/runtime/src/verifier.rs`).
pub const ZERO_BALANCE_ACCOUNT_STORAGE_LIMIT: u64 = 770;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub amount: u128,
    pub locked: u128,
    /// `None` until a contract is deployed.
    pub code_hash: Option<CryptoHash>,
    pub storage_usage: u64,
}

impl Account {
    pub fn new(amount: u128) -> Self {
        Self {
            amount,
            locked: 0,
            code_hash: None,
            storage_usage: ACCOUNT_BYTES,
        }
    }

    /// The balance this account's state requires it to keep.
    pub fn storage_cost(&self) -> u128 {
        u128::from(self.storage_usage) * STORAGE_PRICE_PER_BYTE
    }

    /// Whether the account still pays for its state, as nearcore's
    /// `check_storage_stake` decides: its balance and stake cover its bytes,
    /// or it is a zero-balance account (at most 770 bytes: an account with a
    /// few keys and no contract).
    pub fn covers_storage(&self) -> bool {
        self.amount.saturating_add(self.locked) >= self.storage_cost()
            || self.storage_usage <= ZERO_BALANCE_ACCOUNT_STORAGE_LIMIT
    }
}

/// Bytes an access key adds to its account's storage usage.
pub fn access_key_bytes(public_key: &PublicKey, key: &AccessKey) -> u64 {
    let encoded = |v: &dyn Fn(&mut Vec<u8>)| {
        let mut out = Vec::new();
        v(&mut out);
        out.len() as u64
    };
    encoded(&|out| public_key.serialize(out).expect("writes to a Vec"))
        + encoded(&|out| key.serialize(out).expect("writes to a Vec"))
        + RECORD_EXTRA_BYTES
}

#[derive(Clone, Default)]
pub struct State {
    pub accounts: BTreeMap<AccountId, Account>,
    pub access_keys: BTreeMap<AccountId, BTreeMap<PublicKey, AccessKey>>,
    pub code: HashMap<CryptoHash, Arc<ContractCode>>,
    pub storage: BTreeMap<AccountId, BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl State {
    pub fn account(&self, id: &AccountId) -> Option<&Account> {
        self.accounts.get(id)
    }

    pub fn access_key(&self, id: &AccountId, key: &PublicKey) -> Option<&AccessKey> {
        self.access_keys.get(id)?.get(key)
    }

    pub fn contract(&self, id: &AccountId) -> Option<Arc<ContractCode>> {
        let hash = self.accounts.get(id)?.code_hash?;
        self.code.get(&hash).cloned()
    }

    /// Adds an access key and charges its bytes to the account.
    pub fn add_access_key(&mut self, id: &AccountId, public_key: PublicKey, key: AccessKey) {
        let bytes = access_key_bytes(&public_key, &key);
        if let Some(account) = self.accounts.get_mut(id) {
            account.storage_usage += bytes;
        }
        self.access_keys
            .entry(id.clone())
            .or_default()
            .insert(public_key, key);
    }

    /// Replaces the account's code, keeping its storage usage true.
    pub fn deploy(&mut self, id: &AccountId, code: Vec<u8>) {
        let code = ContractCode::new(code, None);
        let hash = *code.hash();
        let new_len = code.code().len() as u64;
        let old_len = self.contract(id).map_or(0, |c| c.code().len() as u64);
        if let Some(account) = self.accounts.get_mut(id) {
            account.storage_usage = account.storage_usage + new_len - old_len;
            account.code_hash = Some(hash);
        }
        self.code.insert(hash, Arc::new(code));
    }

    /// The sum of every balance, for conservation checks.
    pub fn total_balance(&self) -> u128 {
        self.accounts.values().map(|a| a.amount + a.locked).sum()
    }
}
