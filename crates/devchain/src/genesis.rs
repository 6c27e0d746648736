//! The chain's first state: funded accounts with fresh keys (also written in
//! near-cli's credentials format) and the OutLayer contract deployed.

use std::path::{Path, PathBuf};

use near_crypto::{KeyType, SecretKey};
use near_primitives::types::AccountId;

use crate::state::{Account, State};

pub const ONE_NEAR: u128 = 1_000_000_000_000_000_000_000_000;

/// The accounts a local chain starts with.
#[derive(Clone, Debug)]
pub struct GenesisAccounts {
    /// Parent of the others; may create more sub-accounts.
    pub root: AccountId,
    /// Holds the OutLayer contract.
    pub contract: AccountId,
    pub owner: AccountId,
    /// Resolves requests (the worker's account).
    pub operator: AccountId,
    /// Users for examples and tests.
    pub users: Vec<AccountId>,
    /// More accounts, each with the balance given (tests that need exact
    /// balances or top-level ids such as `alice.near`, which no transaction
    /// can create without a registrar).
    pub extra: Vec<(AccountId, u128)>,
}

impl Default for GenesisAccounts {
    fn default() -> Self {
        let id = |s: &str| s.parse::<AccountId>().expect("a valid account id");
        Self {
            root: id("test.near"),
            contract: id("outlayer.test.near"),
            owner: id("owner.test.near"),
            operator: id("operator.test.near"),
            users: vec![id("alice.test.near"), id("bob.test.near")],
            extra: vec![],
        }
    }
}

impl GenesisAccounts {
    pub fn all(&self) -> impl Iterator<Item = &AccountId> {
        [&self.root, &self.contract, &self.owner, &self.operator]
            .into_iter()
            .chain(&self.users)
            .chain(self.extra.iter().map(|(id, _)| id))
    }

    /// Starting balance of each account.
    pub fn balance(&self, id: &AccountId) -> u128 {
        if let Some((_, amount)) = self.extra.iter().find(|(extra, _)| extra == id) {
            *amount
        } else if *id == self.root {
            1_000_000 * ONE_NEAR
        } else {
            10_000 * ONE_NEAR
        }
    }
}

/// Genesis state and the secret key of every account in it.
pub struct Genesis {
    pub accounts: GenesisAccounts,
    pub keys: Vec<(AccountId, SecretKey)>,
    pub state: State,
}

impl Genesis {
    /// Fresh random keys; the contract's code is deployed when given.
    pub fn new(accounts: GenesisAccounts, contract_wasm: Option<Vec<u8>>) -> Self {
        let mut state = State::default();
        let mut keys = Vec::new();
        for id in accounts.all() {
            state
                .accounts
                .insert(id.clone(), Account::new(accounts.balance(id)));
            let key = SecretKey::from_random(KeyType::ED25519);
            state.add_access_key(
                id,
                key.public_key(),
                near_primitives::account::AccessKey::full_access(),
            );
            keys.push((id.clone(), key));
        }
        if let Some(code) = contract_wasm {
            state.deploy(&accounts.contract, code);
        }
        Self {
            accounts,
            keys,
            state,
        }
    }

    pub fn key(&self, id: &AccountId) -> Option<&SecretKey> {
        self.keys.iter().find(|(a, _)| a == id).map(|(_, k)| k)
    }
}

/// Writes `<dir>/<network>/<account>.json` for every key, as near-cli
/// does, readable only by the owner. Returns the files written.
pub fn write_credentials(
    dir: &Path,
    network: &str,
    keys: &[(AccountId, SecretKey)],
) -> std::io::Result<Vec<PathBuf>> {
    let dir = dir.join(network);
    std::fs::create_dir_all(&dir)?;
    let mut written = Vec::new();
    for (id, key) in keys {
        let path = dir.join(format!("{id}.json"));
        let body = serde_json::json!({
            "account_id": id,
            "public_key": key.public_key().to_string(),
            "private_key": key.to_string(),
        });
        write_private(&path, body.to_string().as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}
