//! Encrypted secrets with access conditions, paid for by storage staking.
//!
//! A profile is keyed by its owner, its accessor in normalised form (the
//! same form the keystore derives keys from, `Accessor::key_seed`) and its
//! name. The owner's deposit covers exactly the bytes the profile adds to
//! state (record and index entry, measured); updates settle the difference
//! and delete refunds it all.

use base64::Engine as _;
use near_sdk::{AccountId, assert_one_yocto, borsh, env, near, require};
use outlayer_types::{
    AccessCondition, Accessor, SecretsRecord, SecretsSummary, U128, check_profile_name,
};

use crate::{Contract, ContractExt, StorageKey};

/// Longest ciphertext accepted (base64 text), defined once in `outlayer-types`.
pub const MAX_SECRETS_BASE64_BYTES: usize = outlayer_types::limits::MAX_SECRETS_BLOB_BASE64;
/// Most profiles one account may hold (the index is one list per account).
pub const MAX_PROFILES_PER_ACCOUNT: usize = 100;
/// Page size of `list_user_secrets` when none is given, and its maximum.
pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 100;
/// nearcore's storage overhead per key-value record (`storage_num_extra_bytes_record`).
const RECORD_OVERHEAD_BYTES: u64 = 40;

#[near(serializers = [borsh])]
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SecretKey {
    pub owner: AccountId,
    pub accessor: Accessor,
    pub profile: String,
}

/// One entry of an owner's index.
#[near(serializers = [borsh])]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretId {
    pub accessor: Accessor,
    pub profile: String,
}

#[near(serializers = [borsh])]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretEntry {
    pub encrypted_secrets_base64: String,
    pub access: AccessCondition,
    /// yoctoNEAR staked for `storage_bytes`, refunded on delete.
    pub storage_deposit: u128,
    pub storage_bytes: u64,
    pub created_at: u64,
    pub updated_at: u64,
}

#[near]
impl Contract {
    /// Creates or replaces a profile of the caller's. Attach at least the
    /// storage it needs (`estimate_storage_cost`, less what an existing
    /// profile already holds); the excess is refunded.
    #[payable]
    pub fn store_secrets(
        &mut self,
        accessor: Accessor,
        profile: String,
        encrypted_secrets_base64: String,
        access: AccessCondition,
    ) {
        let key = checked_key(env::predecessor_account_id(), &accessor, profile);
        check_ciphertext(&encrypted_secrets_base64);
        check_access(&access);
        self.put_secrets(key, encrypted_secrets_base64, access);
    }

    /// Replaces a profile's access condition; storage settles as in `store_secrets`.
    #[payable]
    pub fn update_access(&mut self, accessor: Accessor, profile: String, access: AccessCondition) {
        let key = checked_key(env::predecessor_account_id(), &accessor, profile);
        check_access(&access);
        let entry = self.existing(&key);
        self.put_secrets(key, entry.encrypted_secrets_base64, access);
    }

    /// Deletes a profile of the caller's and refunds its storage deposit
    /// (with the 1 yoctoNEAR that confirms a full-access key).
    #[payable]
    pub fn delete_secrets(&mut self, accessor: Accessor, profile: String) {
        assert_one_yocto();
        let key = checked_key(env::predecessor_account_id(), &accessor, profile);
        let entry = self.existing(&key);
        self.secrets.remove(&key);
        let mut ids = self
            .user_secrets
            .get(&key.owner)
            .cloned()
            .unwrap_or_default();
        ids.retain(|id| id.accessor != key.accessor || id.profile != key.profile);
        if ids.is_empty() {
            self.user_secrets.remove(&key.owner);
        } else {
            self.user_secrets.insert(key.owner.clone(), ids);
        }
        let refund = entry.storage_deposit + env::attached_deposit().as_yoctonear();
        self.refund(key.owner, refund, None, false);
    }

    /// The stored profile, as the keystore reads it before decrypting.
    pub fn get_secrets(
        &self,
        accessor: Accessor,
        profile: String,
        owner: AccountId,
    ) -> Option<SecretsRecord> {
        let key = checked_key(owner, &accessor, profile);
        let entry = self.secrets.get(&key)?;
        Some(SecretsRecord {
            accessor: key.accessor,
            profile: key.profile,
            owner: key.owner,
            encrypted_secrets_base64: entry.encrypted_secrets_base64.clone(),
            access: entry.access.clone(),
            storage_deposit: U128(entry.storage_deposit),
            created_at: entry.created_at,
            updated_at: entry.updated_at,
        })
    }

    /// An account's profiles without ciphertexts, in the order they were created
    /// (a delete moves nothing but the deleted entry).
    pub fn list_user_secrets(
        &self,
        account_id: AccountId,
        from_index: Option<u32>,
        limit: Option<u32>,
    ) -> Vec<SecretsSummary> {
        let Some(ids) = self.user_secrets.get(&account_id) else {
            return Vec::new();
        };
        let limit = limit.unwrap_or(DEFAULT_PAGE).min(MAX_PAGE) as usize;
        ids.iter()
            .skip(from_index.unwrap_or(0) as usize)
            .take(limit)
            .map(|id| {
                let key = SecretKey {
                    owner: account_id.clone(),
                    accessor: id.accessor.clone(),
                    profile: id.profile.clone(),
                };
                let entry = self.secrets.get(&key).expect("indexed profiles exist");
                SecretsSummary {
                    accessor: key.accessor,
                    profile: key.profile,
                    owner: key.owner,
                    access: entry.access.clone(),
                    storage_deposit: U128(entry.storage_deposit),
                    created_at: entry.created_at,
                    updated_at: entry.updated_at,
                }
            })
            .collect()
    }

    /// The storage deposit `owner`'s profile would hold after this
    /// `store_secrets`, in yoctoNEAR. For an existing profile, attach the
    /// difference to its current `storage_deposit`.
    pub fn estimate_storage_cost(
        &self,
        owner: AccountId,
        accessor: Accessor,
        profile: String,
        encrypted_secrets_base64: String,
        access: AccessCondition,
    ) -> U128 {
        let key = checked_key(owner, &accessor, profile);
        check_ciphertext(&encrypted_secrets_base64);
        check_access(&access);
        let entry = SecretEntry {
            encrypted_secrets_base64,
            access,
            storage_deposit: 0,
            storage_bytes: 0,
            created_at: 0,
            updated_at: 0,
        };
        let bytes = self.storage_bytes(&key, &entry, self.secrets.get(&key));
        U128(u128::from(bytes) * env::storage_byte_cost().as_yoctonear())
    }
}

impl Contract {
    /// Writes a profile and settles its storage deposit against what it
    /// already held. The deposit is checked before anything is written.
    fn put_secrets(
        &mut self,
        key: SecretKey,
        encrypted_secrets_base64: String,
        access: AccessCondition,
    ) {
        let attached = env::attached_deposit().as_yoctonear();
        require!(
            attached >= 1,
            "attach a deposit: changing secrets needs a full-access key (at least 1 yoctoNEAR)"
        );
        let now = env::block_timestamp();
        let old = self.secrets.get(&key).cloned();
        let mut entry = SecretEntry {
            encrypted_secrets_base64,
            access,
            storage_deposit: 0,
            storage_bytes: 0,
            created_at: old.as_ref().map_or(now, |o| o.created_at),
            updated_at: now,
        };
        let bytes = self.storage_bytes(&key, &entry, old.as_ref());
        let required = u128::from(bytes) * env::storage_byte_cost().as_yoctonear();
        let old_deposit = old.as_ref().map_or(0, |o| o.storage_deposit);
        let available = attached + old_deposit;
        if available < required {
            env::panic_str(&format!(
                "attach at least {} yoctoNEAR to store {bytes} bytes (missing {})",
                required.saturating_sub(old_deposit),
                required - available
            ));
        }
        if old.is_none() {
            self.add_to_index(&key);
        }
        entry.storage_deposit = required;
        entry.storage_bytes = bytes;
        self.secrets.insert(key.clone(), entry);
        self.refund(key.owner, available - required, None, false);
    }

    /// The bytes a profile holds in state once `entry` is written: its
    /// record, plus its index entry (and the index record itself for an
    /// account's first profile). Computed the way nearcore counts storage
    /// (key, value and a fixed overhead per record); the tests check it
    /// against the measured `storage_usage`.
    fn storage_bytes(
        &self,
        key: &SecretKey,
        entry: &SecretEntry,
        old: Option<&SecretEntry>,
    ) -> u64 {
        let entry_len = borsh_len(entry);
        if let Some(old) = old {
            // Only the value changes size; fixed-width fields keep theirs.
            return old.storage_bytes - borsh_len(old) + entry_len;
        }
        let id_len = borsh_len(&SecretId {
            accessor: key.accessor.clone(),
            profile: key.profile.clone(),
        });
        let index_len = if self.user_secrets.contains_key(&key.owner) {
            id_len
        } else {
            // A new index: its key, the list's length prefix and one id.
            record_len(&StorageKey::UserSecrets, &key.owner, 4 + id_len)
        };
        record_len(&StorageKey::Secrets, key, entry_len) + index_len
    }

    fn add_to_index(&mut self, key: &SecretKey) {
        let mut ids = self
            .user_secrets
            .get(&key.owner)
            .cloned()
            .unwrap_or_default();
        if ids.len() >= MAX_PROFILES_PER_ACCOUNT {
            env::panic_str(&format!(
                "{} already has {MAX_PROFILES_PER_ACCOUNT} secrets profiles, the most allowed",
                key.owner
            ));
        }
        ids.push(SecretId {
            accessor: key.accessor.clone(),
            profile: key.profile.clone(),
        });
        self.user_secrets.insert(key.owner.clone(), ids);
    }

    fn existing(&self, key: &SecretKey) -> SecretEntry {
        self.secrets.get(key).cloned().unwrap_or_else(|| {
            env::panic_str(&format!(
                "no secrets profile {:?} of {} for this accessor",
                key.profile, key.owner
            ))
        })
    }
}

fn checked_key(owner: AccountId, accessor: &Accessor, profile: String) -> SecretKey {
    let accessor = accessor
        .normalized()
        .unwrap_or_else(|e| env::panic_str(&format!("invalid accessor: {e}")));
    if let Err(e) = check_profile_name(&profile) {
        env::panic_str(&e.0);
    }
    SecretKey {
        owner,
        accessor,
        profile,
    }
}

fn check_ciphertext(encrypted_secrets_base64: &str) {
    let len = encrypted_secrets_base64.len();
    if len == 0 || len > MAX_SECRETS_BASE64_BYTES {
        env::panic_str(&format!(
            "encrypted_secrets_base64 must be 1-{MAX_SECRETS_BASE64_BYTES} bytes (got {len})"
        ));
    }
    if base64::engine::general_purpose::STANDARD
        .decode(encrypted_secrets_base64)
        .is_err()
    {
        env::panic_str("encrypted_secrets_base64 is not valid base64");
    }
}

fn check_access(access: &AccessCondition) {
    if let Err(e) = access.validate() {
        env::panic_str(&format!("invalid access condition: {e}"));
    }
}

fn borsh_len<T: borsh::BorshSerialize>(value: &T) -> u64 {
    borsh::to_vec(value).expect("state serialises").len() as u64
}

/// The bytes one `LookupMap` record takes: prefix and key, value, overhead.
fn record_len<K: borsh::BorshSerialize>(prefix: &StorageKey, key: &K, value_len: u64) -> u64 {
    borsh_len(prefix) + borsh_len(key) + value_len + RECORD_OVERHEAD_BYTES
}
