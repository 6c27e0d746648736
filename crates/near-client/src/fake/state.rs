//! The fake chain's in-memory state.

use std::collections::{BTreeMap, HashMap};

use outlayer_types::AccountId;

use super::{Availability, ViewFn};

pub(super) struct FakeAccount {
    pub(super) amount: u128,
    pub(super) has_code: bool,
    /// public key → nonce; every key is full-access.
    pub(super) keys: BTreeMap<String, u64>,
}

pub(super) struct State {
    pub(super) height: u64,
    pub(super) accounts: BTreeMap<AccountId, FakeAccount>,
    pub(super) views: HashMap<(AccountId, String), ViewFn>,
    pub(super) availability: Availability,
    pub(super) queries: u64,
}

impl State {
    pub(super) fn new() -> Self {
        Self {
            height: 100,
            accounts: BTreeMap::new(),
            views: HashMap::new(),
            availability: Availability::Up,
            queries: 0,
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
    base58(&bytes)
}

fn base58(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut digits: Vec<u8> = Vec::new();
    for &byte in bytes {
        let mut carry = byte as u32;
        for d in digits.iter_mut() {
            carry += (*d as u32) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    std::iter::repeat_n(b'1', zeros)
        .chain(digits.iter().rev().map(|&d| ALPHABET[d as usize]))
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn base58_matches_known_values() {
        assert_eq!(super::base58(&[0, 0, 1]), "112");
        assert_eq!(super::base58(b"hello world"), "StV1DL6CwTryKyV");
        assert_eq!(super::base58(&[0u8; 32]), "1".repeat(32));
    }
}
