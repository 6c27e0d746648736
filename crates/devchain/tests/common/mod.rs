//! A local chain driven block by block, with the real contract wasm.
#![allow(dead_code, unreachable_pub)]

use near_primitives::hash::CryptoHash;
use near_primitives::types::AccountId;
use outlayer_devchain::server::{init_contract, sign_function_call};
use outlayer_devchain::{Chain, ChainConfig, FinalStatus, Genesis, GenesisAccounts};
use serde_json::{Value, json};

pub const TGAS: u64 = 1_000_000_000_000;

/// The built contract, or `None` (test skipped) when it has not been built;
/// `scripts/test` sets `OUTLAYER_REQUIRE_CONTRACT_WASM=1` so it must exist there.
pub fn contract_wasm() -> Option<Vec<u8>> {
    // Cargo names this checkout at run time; the compile-time path may be
    // another clone's when clones share a target directory.
    let path = match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) => std::path::Path::new(&dir).join("../../contract/res/outlayer_contract.wasm"),
        None => outlayer_devchain::contract_wasm_path(),
    };
    match std::fs::read(&path) {
        Ok(code) => Some(code),
        Err(_) => {
            assert!(
                std::env::var_os("OUTLAYER_REQUIRE_CONTRACT_WASM").is_none(),
                "{} is missing: run scripts/build-contract",
                path.display()
            );
            eprintln!(
                "skipped: {} is missing (run scripts/build-contract)",
                path.display()
            );
            None
        }
    }
}

pub struct Local {
    pub chain: Chain,
    pub genesis: Genesis,
}

impl Local {
    pub fn start() -> Option<Self> {
        let genesis = Genesis::new(GenesisAccounts::default(), Some(contract_wasm()?));
        let mut chain = Chain::new(ChainConfig::default(), genesis.state.clone());
        init_contract(&mut chain, &genesis).expect("the contract initialises");
        Some(Self { chain, genesis })
    }

    pub fn accounts(&self) -> &GenesisAccounts {
        &self.genesis.accounts
    }

    pub fn id(name: &str) -> AccountId {
        format!("{name}.test.near").parse().unwrap()
    }

    /// Sends a function call on the contract; returns the transaction hash
    /// once it is in a block.
    pub fn send(
        &mut self,
        who: &str,
        method: &str,
        args: Value,
        deposit: u128,
        tgas: u64,
    ) -> CryptoHash {
        let signer = Self::id(who);
        let key = self
            .genesis
            .key(&signer)
            .expect("a genesis account")
            .clone();
        let contract = self.accounts().contract.clone();
        let tx = sign_function_call(
            &self.chain,
            &signer,
            &key,
            &contract,
            method,
            serde_json::to_vec(&args).unwrap(),
            tgas * TGAS,
            deposit,
        );
        let hash = self.chain.submit(tx).expect("the transaction is valid");
        self.chain.produce_block();
        hash
    }

    /// Produces blocks until every receipt of the transaction has run.
    pub fn settle(&mut self, hash: &CryptoHash) -> FinalStatus {
        for _ in 0..10 {
            if self.chain.is_settled(hash) {
                return self.chain.final_status(hash).unwrap();
            }
            self.chain.produce_block();
        }
        panic!(
            "transaction {hash} did not settle: {:?}",
            self.chain.final_status(hash)
        );
    }

    pub fn call(&mut self, who: &str, method: &str, args: Value, deposit: u128) -> FinalStatus {
        let hash = self.send(who, method, args, deposit, 300);
        self.settle(&hash)
    }

    pub fn balance(&self, id: &AccountId) -> u128 {
        self.chain.state.account(id).unwrap().amount
    }

    pub fn user_balance(&self, name: &str) -> u128 {
        self.balance(&Self::id(name))
    }

    /// yoctoNEAR burnt as gas by the transaction and every receipt of its tree.
    pub fn burnt(&self, hash: &CryptoHash) -> u128 {
        let record = &self.chain.transactions[hash];
        record.outcome.as_ref().unwrap().tokens_burnt
            + record
                .receipts
                .iter()
                .map(|id| self.chain.outcomes[id].tokens_burnt)
                .sum::<u128>()
    }

    pub fn logs(&self, hash: &CryptoHash) -> Vec<String> {
        let record = &self.chain.transactions[hash];
        record
            .receipts
            .iter()
            .flat_map(|id| self.chain.outcomes[id].logs.clone())
            .collect()
    }

    pub fn view(&self, method: &str, args: Value) -> Value {
        let contract = &self.accounts().contract;
        let result = outlayer_devchain::vm::view_call(
            &self.chain,
            contract,
            method,
            serde_json::to_vec(&args).unwrap(),
        )
        .expect("the view succeeds");
        serde_json::from_slice(&result.result).unwrap()
    }

    /// `who` answers request 0 with `response`.
    pub fn resolve(&mut self, who: &str, response: Value) -> FinalStatus {
        let args = json!({"request_id": 0, "response": response});
        self.call(who, "resolve_execution", args, 0)
    }

    pub fn set_test_pricing(&mut self) {
        let pricing = json!({"pricing": {"base_fee": "1000", "per_million_instructions": "10",
            "per_execution_ms": "2", "per_compile_ms": "1"}});
        assert_eq!(
            self.call("owner", "set_pricing", pricing, 1),
            FinalStatus::Success(vec![])
        );
    }
}

pub fn request_args() -> Value {
    json!({
        "code_source": {"GitHub": {"repo": "alice/app", "commit": "main", "build_target": "wasm32-wasip1"}},
        "resource_limits": {"max_instructions": 1_000_000, "max_memory_mb": 64, "max_execution_seconds": 1},
    })
}

/// A successful run printing "42": 300 000 instructions, 250 ms, a 4 s build.
pub fn answer_42() -> Value {
    json!({"success": true, "output": {"Text": "42"},
        "resources_used": {"instructions": 300_000, "time_ms": 250, "compile_time_ms": 4_000}})
}

/// The panic message of a failed status, as nearcore reports it.
pub fn panic_message(status: &FinalStatus) -> String {
    match status {
        FinalStatus::Failure(e) => {
            let text = serde_json::to_value(e).unwrap().to_string();
            let start = text
                .find("Smart contract panicked: ")
                .expect("a contract panic")
                + 25;
            text[start..text[start..].find('"').unwrap() + start].to_owned()
        }
        other => panic!("not a failure: {other:?}"),
    }
}

/// The `execution_completed` event's data, from the transaction's logs.
pub fn completed_event(logs: &[String]) -> Value {
    let line = logs
        .iter()
        .find(|l| l.contains("\"execution_completed\""))
        .expect("an execution_completed event");
    let event: Value = serde_json::from_str(line.strip_prefix("EVENT_JSON:").unwrap()).unwrap();
    event["data"][0].clone()
}

/// A running local chain for client tests over HTTP, with `extra` accounts
/// (id, yoctoNEAR) at genesis and no OutLayer contract; blocks every
/// `block_ms` milliseconds.
pub async fn node(extra: &[(&str, u128)], block_ms: u64) -> outlayer_devchain::Running {
    let accounts = GenesisAccounts {
        extra: extra
            .iter()
            .map(|(id, amount)| (id.parse().unwrap(), *amount))
            .collect(),
        ..GenesisAccounts::default()
    };
    outlayer_devchain::spawn(outlayer_devchain::DevchainConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        block_interval: std::time::Duration::from_millis(block_ms),
        accounts,
        ..Default::default()
    })
    .await
    .expect("the chain starts")
}

/// The production client's signer for a genesis account.
pub fn node_signer(chain: &outlayer_devchain::Running, id: &str) -> outlayer_near_client::Signer {
    let account: AccountId = id.parse().unwrap();
    let key = chain.key(&account).expect("a genesis account");
    outlayer_near_client::Signer::from_secret_key(id.parse().unwrap(), &key.to_string())
        .expect("the key parses")
}

/// Deploys `code` on the signer's own account, through the client.
pub async fn deploy(
    rpc: &outlayer_near_client::NearRpc,
    signer: &outlayer_near_client::Signer,
    code: Vec<u8>,
) {
    let outcome = rpc
        .sign_and_send_tx(
            signer,
            &signer.account_id,
            vec![outlayer_near_client::Action::DeployContract { code }],
            outlayer_near_client::TxExecutionStatus::Final,
        )
        .await
        .expect("the deployment is accepted");
    assert!(outcome.is_success(), "{outcome:?}");
}

/// Calls `method` of `contract` with raw argument bytes (the answers
/// contract's `set` / `unset`), through the client.
pub async fn call_raw(
    rpc: &outlayer_near_client::NearRpc,
    signer: &outlayer_near_client::Signer,
    contract: &str,
    method: &str,
    args: Vec<u8>,
) {
    let outcome = rpc
        .sign_and_send_tx(
            signer,
            &contract.parse().unwrap(),
            vec![outlayer_near_client::Action::function_call(
                method,
                args,
                30 * TGAS,
                0,
            )],
            outlayer_near_client::TxExecutionStatus::Final,
        )
        .await
        .expect("the call is accepted");
    assert!(outcome.is_success(), "{outcome:?}");
}
