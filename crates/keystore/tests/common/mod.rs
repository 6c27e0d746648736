//! A keystore on a real port in front of a fake chain holding the OutLayer
//! contract's `get_secrets` view and token contracts.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different part.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use outlayer_keystore::crypto::{AccessorKey, encrypt};
use outlayer_keystore::{
    Attestations, BearerTokens, CheckLimits, Keystore, KeystoreClient, KeystoreSettings,
    MasterSecret, hash_token,
};
use outlayer_near_client::fake::{FakeChain, ViewOutcome};
use outlayer_types::{
    AccessCondition, Accessor, AccountId, Attestation, DecryptRequest, SecretsRecord, U128,
};
use serde_json::Value;

pub const CONTRACT: &str = "outlayer.test.near";
pub const TOKEN: &str = "worker-secret-token";
pub const MASTER_HEX: &str = "5ec12e75ec12e75ec12e75ec12e75ec12e75ec12e75ec12e75ec12e75ec12e7a";

pub fn account(id: &str) -> AccountId {
    id.parse().unwrap()
}

pub fn app_repo() -> Accessor {
    Accessor::Repo {
        repo: "github.com/alice/app".into(),
        branch: None,
    }
}

pub struct Harness {
    pub chain: FakeChain,
    pub url: String,
    pub master: MasterSecret,
    records: Arc<Mutex<Vec<SecretsRecord>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Harness {
    pub async fn start(accept_none: bool, limits: CheckLimits) -> Self {
        let chain = FakeChain::start().await;
        let records: Arc<Mutex<Vec<SecretsRecord>>> = Arc::default();
        let shared = records.clone();
        chain.set_view(CONTRACT, "get_secrets", move |args| {
            let records = shared.lock().unwrap();
            let found = records.iter().find(|r| {
                serde_json::to_value(&r.accessor).unwrap() == args["accessor"]
                    && args["profile"] == r.profile.as_str()
                    && args["owner"] == r.owner.as_str()
            });
            ViewOutcome::json(&found)
        });
        let master = MasterSecret::from_hex(MASTER_HEX).unwrap();
        let mut attestations = Attestations::new();
        if accept_none {
            attestations = attestations.accept_none();
        }
        let keystore = Keystore::new(KeystoreSettings {
            master: master.clone(),
            near_rpc_url: chain.url(),
            contract_id: account(CONTRACT),
            tokens: BearerTokens::from_hashes([hash_token(TOKEN)]).unwrap(),
            attestations,
            limits,
        })
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(outlayer_keystore::serve(listener, keystore, async {
            rx.await.ok();
        }));
        Self {
            chain,
            url,
            master,
            records,
            shutdown: Some(tx),
        }
    }

    pub async fn dev() -> Self {
        Self::start(true, CheckLimits::default()).await
    }

    pub fn client(&self) -> KeystoreClient {
        self.client_with(Some(TOKEN))
    }

    pub fn client_with(&self, token: Option<&str>) -> KeystoreClient {
        KeystoreClient::new(
            self.url.clone(),
            token.map(str::to_owned),
            std::time::Duration::from_secs(20),
        )
        .unwrap()
    }

    /// Encrypts `plaintext` for (accessor, owner) and stores the record as
    /// the contract would.
    pub fn store(
        &self,
        accessor: &Accessor,
        profile: &str,
        owner: &str,
        plaintext: &str,
        access: AccessCondition,
    ) {
        let seed = accessor.normalized().unwrap().key_seed(&account(owner));
        let key = AccessorKey::derive(&self.master, &seed);
        let blob = STANDARD.encode(encrypt(key.public(), plaintext.as_bytes()));
        self.store_blob(accessor, profile, owner, &blob, access);
    }

    pub fn store_blob(
        &self,
        accessor: &Accessor,
        profile: &str,
        owner: &str,
        blob_base64: &str,
        access: AccessCondition,
    ) {
        self.records.lock().unwrap().push(SecretsRecord {
            accessor: accessor.normalized().unwrap(),
            profile: profile.into(),
            owner: account(owner),
            encrypted_secrets_base64: blob_base64.into(),
            access,
            storage_deposit: U128(0),
            created_at: 0,
            updated_at: 0,
        });
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
    }
}

pub fn decrypt_request(
    accessor: &Accessor,
    profile: &str,
    owner: &str,
    caller: &str,
) -> DecryptRequest {
    DecryptRequest {
        accessor: accessor.clone(),
        profile: profile.into(),
        owner: account(owner),
        caller: account(caller),
        attestation: Attestation::none(),
    }
}

pub fn json_str(value: &Value) -> String {
    serde_json::to_string(value).unwrap()
}
