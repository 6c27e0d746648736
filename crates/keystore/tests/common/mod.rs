//! A keystore on a real port reading the local chain (`outlayer-devchain`)
//! through its JSON-RPC, as it reads NEAR. The contract account and the token
//! accounts run `answers_wasm`, a contract whose views answer what the test
//! stored for their exact arguments, so a test stores records and pending
//! requests as the OutLayer contract would hold them (and token balances)
//! by transactions, then asks for a request's secrets by its id. The keystore
//! talks to the chain through `FlakyRpc`, which can make it unavailable or
//! slow and counts its reads.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different part.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use outlayer_devchain::testing::{
    Answer, Availability, FlakyRpc, answers_wasm, set_answer, set_default_answer,
};
use outlayer_devchain::{DevchainConfig, GenesisAccounts, ONE_NEAR, Running};
use outlayer_keystore::crypto::{AccessorKey, encrypt};
use outlayer_keystore::{
    Attestations, BearerTokens, CheckLimits, Keystore, KeystoreClient, KeystoreSettings,
    MasterSecret, hash_token,
};
use outlayer_types::{
    AccessCondition, Accessor, AccountId, Attestation, BuildTarget, CodeSource, DecryptRequest,
    ExecutionContext, ExecutionRequest, RequestView, ResourceLimits, ResponseFormat, SecretsRecord,
    SecretsRef, U128,
};
use serde_json::{Value, json};

pub const CONTRACT: &str = "outlayer.test.near";
pub const TOKEN: &str = "worker-secret-token";
pub const MASTER_HEX: &str = "5ec12e75ec12e75ec12e75ec12e75ec12e75ec12e75ec12e75ec12e75ec12e7a";

pub fn account(id: &str) -> AccountId {
    id.parse().unwrap()
}

/// The repository-wide accessor of `github.com/alice/app`.
pub fn app_repo() -> Accessor {
    Accessor::Repo {
        repo: "github.com/alice/app".into(),
        branch: None,
    }
}

/// The accessor of `github.com/alice/app` bound to `branch`.
pub fn app_branch(branch: &str) -> Accessor {
    Accessor::Repo {
        repo: "github.com/alice/app".into(),
        branch: Some(branch.into()),
    }
}

/// A commit hash: a source pinned to it reads the repository's secrets only.
pub const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// `github.com/alice/app` at [`COMMIT`]: its secrets are [`app_repo`]'s.
pub fn app_source() -> CodeSource {
    app_at(COMMIT)
}

/// `github.com/alice/app` at a branch, tag or commit.
pub fn app_at(commit: &str) -> CodeSource {
    CodeSource::GitHub {
        repo: "https://github.com/alice/app".into(),
        commit: commit.into(),
        build_target: BuildTarget::Wasip1,
    }
}

pub fn wasm_source(hash: &str) -> CodeSource {
    CodeSource::WasmUrl {
        url: "https://example.com/app.wasm".into(),
        hash: hash.into(),
        build_target: BuildTarget::Wasip1,
    }
}

/// A pending request as `get_request` returns it: `sender` signed it, it
/// runs `source` and names `secrets` (profile, owner) if any.
pub fn request_view(
    request_id: u64,
    source: &CodeSource,
    secrets: Option<(&str, &str)>,
    sender: &str,
) -> RequestView {
    RequestView {
        request: ExecutionRequest {
            context: ExecutionContext {
                request_id,
                sender_id: account(sender),
                predecessor_id: account(sender),
                contract_id: account(CONTRACT),
                block_height: 100,
                block_timestamp: 1_700_000_000_000_000_000,
                transaction_hash: None,
                random_seed: [7; 32],
            },
            code_source: source.clone(),
            resource_limits: ResourceLimits::default(),
            input_data: Some("{}".into()),
            input_in_state: false,
            secrets_ref: secrets.map(|(profile, owner)| SecretsRef {
                profile: profile.into(),
                account_id: account(owner),
            }),
            response_format: ResponseFormat::default(),
            payment: U128(1),
            payer_account_id: account(sender),
            max_compile_seconds: None,
        },
        resolved: false,
        output_submitted: false,
    }
}

/// The body of `POST /decrypt` for `request_id`, with the development
/// attestation.
pub fn decrypt_body(request_id: u64) -> DecryptRequest {
    DecryptRequest {
        request_id,
        attestation: Attestation::none(),
    }
}

/// The local chain as the keystore sees it: through [`FlakyRpc`].
pub struct LocalChain {
    pub running: Running,
    proxy: FlakyRpc,
}

/// Accounts at genesis with exact balances: alice 20 NEAR, bob 1 NEAR,
/// carol 50 NEAR, and the token contracts.
const ACCOUNTS: [(&str, u128); 6] = [
    ("alice.near", 20 * ONE_NEAR),
    ("bob.near", ONE_NEAR),
    ("carol.near", 50 * ONE_NEAR),
    ("ft.near", 10 * ONE_NEAR),
    ("nft.near", 10 * ONE_NEAR),
    ("broken.near", 10 * ONE_NEAR),
];

impl LocalChain {
    async fn start() -> Self {
        let accounts = GenesisAccounts {
            extra: ACCOUNTS
                .iter()
                .map(|(id, amount)| (id.parse().unwrap(), *amount))
                .collect(),
            ..GenesisAccounts::default()
        };
        assert_eq!(accounts.contract.as_str(), CONTRACT);
        let running = outlayer_devchain::spawn(DevchainConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            block_interval: Duration::from_millis(50),
            accounts,
            ..DevchainConfig::default()
        })
        .await
        .expect("the local chain starts");
        let proxy = FlakyRpc::start(&running.url).await.unwrap();
        let chain = Self { running, proxy };
        for account in [CONTRACT, "ft.near", "nft.near", "broken.near"] {
            chain.deploy(account, answers_wasm());
        }
        chain
    }

    /// The URL the keystore reads.
    pub fn url(&self) -> String {
        self.proxy.url()
    }

    /// `query` requests the keystore made so far.
    pub fn queries(&self) -> u64 {
        self.proxy.queries()
    }

    pub fn set_availability(&self, availability: Availability) {
        self.proxy.set_availability(availability);
    }

    /// `contract`'s views called with exactly `args` give `answer`.
    pub fn answer(&self, contract: &str, args: &Value, answer: &Answer) {
        let args = serde_json::to_vec(args).unwrap();
        self.call(contract, contract, "set", set_answer(&args, answer));
    }

    /// `contract`'s `method` gives `answer` for arguments nothing was stored for.
    pub fn answer_default(&self, contract: &str, method: &str, answer: &Answer) {
        self.call(
            contract,
            contract,
            "set",
            set_default_answer(method, answer),
        );
    }

    pub fn deploy(&self, account: &str, code: Vec<u8>) {
        outlayer_devchain::testing::deploy(&self.running, account, code);
    }

    fn call(&self, signer: &str, receiver: &str, method: &str, args: Vec<u8>) {
        outlayer_devchain::testing::call_raw(&self.running, signer, receiver, method, args);
    }
}

pub struct Harness {
    pub chain: LocalChain,
    pub url: String,
    pub master: MasterSecret,
    requests: Mutex<BTreeMap<u64, RequestView>>,
    next_id: AtomicU64,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Harness {
    pub async fn start(accept_none: bool, limits: CheckLimits) -> Self {
        let chain = LocalChain::start().await;
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
            requests: Mutex::default(),
            next_id: AtomicU64::new(1),
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
        let record = SecretsRecord {
            accessor: accessor.normalized().unwrap(),
            profile: profile.into(),
            owner: account(owner),
            encrypted_secrets_base64: blob_base64.into(),
            access,
            storage_deposit: U128(0),
            created_at: 0,
            updated_at: 0,
        };
        self.answer_secrets(
            &record.accessor,
            profile,
            owner,
            &Answer::json(&Some(&record)),
        );
    }

    /// What `get_secrets` answers for (accessor, profile, owner), called as
    /// the keystore calls it.
    pub fn answer_secrets(&self, accessor: &Accessor, profile: &str, owner: &str, answer: &Answer) {
        let args = json!({"accessor": accessor, "profile": profile, "owner": account(owner)});
        self.chain.answer(CONTRACT, &args, answer);
    }

    /// What `get_request` answers for `request_id`.
    pub fn answer_request(&self, request_id: u64, answer: &Answer) {
        self.chain
            .answer(CONTRACT, &json!({"request_id": request_id}), answer);
    }
}

impl Harness {
    /// Puts `view` in the contract's pending requests (replacing its id's).
    pub fn put_request(&self, view: RequestView) {
        let id = view.request.context.request_id;
        self.answer_request(id, &Answer::json(&Some(&view)));
        self.requests.lock().unwrap().insert(id, view);
    }

    /// A new pending request signed by `caller`, running `source` with
    /// `owner`'s `profile`: its id.
    pub fn submit(&self, source: &CodeSource, profile: &str, owner: &str, caller: &str) -> u64 {
        let id = self.next_request_id();
        self.put_request(request_view(id, source, Some((profile, owner)), caller));
        id
    }

    /// [`submit`](Self::submit) for [`app_source`].
    pub fn submit_app(&self, profile: &str, owner: &str, caller: &str) -> u64 {
        self.submit(&app_source(), profile, owner, caller)
    }

    /// An id no request had so far.
    pub fn next_request_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The operator resumed the request's yield: `resolved` is set.
    pub fn resolve(&self, request_id: u64) {
        let mut view = self
            .requests
            .lock()
            .unwrap()
            .get(&request_id)
            .expect("a pending request")
            .clone();
        view.resolved = true;
        self.put_request(view);
    }

    /// The request was settled: the contract forgot it.
    pub fn settle(&self, request_id: u64) {
        self.requests.lock().unwrap().remove(&request_id);
        self.answer_request(request_id, &Answer::json(&Value::Null));
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
    }
}

pub fn json_str(value: &Value) -> String {
    serde_json::to_string(value).unwrap()
}
