use crate::ContractCode;
use crate::logic::dependencies::{Result, StorageAccessTracker};
use crate::logic::types::{
    ActionIndex, GlobalContractDeployMode, GlobalContractIdentifier, ReceiptIndex,
};
use crate::logic::{External, HostError, ValuePtr};
use near_primitives_core::deterministic_account_id::{
    DeterministicAccountStateInit, DeterministicAccountStateInitV1,
};
use near_primitives_core::hash::{CryptoHash, YieldId, hash};
use near_primitives_core::types::{AccountId, Balance, Gas, GasWeight};
use near_primitives_core::universal_state_init::{
    DecodeMode, RawStateInit, StateInitError, UniversalStateInitCounts,
};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(serde::Serialize)]
#[serde(remote = "GasWeight")]
#[allow(dead_code)] // The value is never read because this is a mock.
struct GasWeightSer(u64);

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum MockAction {
    CreateReceipt {
        receipt_indices: Vec<ReceiptIndex>,
        receiver_id: AccountId,
    },
    CreateAccount {
        receipt_index: ReceiptIndex,
    },
    DeployContract {
        receipt_index: ReceiptIndex,
        code: Vec<u8>,
    },
    DeployGlobalContract {
        receipt_index: ReceiptIndex,
        code: Vec<u8>,
        mode: GlobalContractDeployMode,
    },
    UseGlobalContract {
        receipt_index: ReceiptIndex,
        contract_id: GlobalContractIdentifier,
    },
    DeterministicStateInit {
        receipt_index: ReceiptIndex,
        state_init: DeterministicAccountStateInit,
        amount: Balance,
    },
    UniversalStateInit {
        receipt_index: ReceiptIndex,
        state_init: Vec<u8>,
        amount: Balance,
    },
    FunctionCallWeight {
        receipt_index: ReceiptIndex,
        method_name: Vec<u8>,
        args: Vec<u8>,
        attached_deposit: Balance,
        prepaid_gas: Gas,
        #[serde(with = "GasWeightSer")]
        gas_weight: GasWeight,
    },
    Transfer {
        receipt_index: ReceiptIndex,
        deposit: Balance,
    },
    TransferToGasKey {
        receipt_index: ReceiptIndex,
        public_key: near_crypto::PublicKey,
        deposit: Balance,
    },
    Stake {
        receipt_index: ReceiptIndex,
        stake: Balance,
        public_key: near_crypto::PublicKey,
    },
    DeleteAccount {
        receipt_index: ReceiptIndex,
        beneficiary_id: AccountId,
    },
    DeleteKey {
        receipt_index: ReceiptIndex,
        public_key: near_crypto::PublicKey,
    },
    AddKeyWithFunctionCall {
        receipt_index: ReceiptIndex,
        public_key: near_crypto::PublicKey,
        nonce: u64,
        allowance: Option<Balance>,
        receiver_id: AccountId,
        method_names: Vec<Vec<u8>>,
    },
    AddKeyWithFullAccess {
        receipt_index: ReceiptIndex,
        public_key: near_crypto::PublicKey,
        nonce: u64,
    },
    AddGasKeyWithFullAccess {
        receipt_index: ReceiptIndex,
        public_key: near_crypto::PublicKey,
        num_nonces: u16,
    },
    AddGasKeyWithFunctionCall {
        receipt_index: ReceiptIndex,
        public_key: near_crypto::PublicKey,
        num_nonces: u16,
        allowance: Option<Balance>,
        receiver_id: AccountId,
        method_names: Vec<Vec<u8>>,
    },
    YieldCreate {
        data_id: CryptoHash,
        receiver_id: AccountId,
        yield_id: Option<YieldId>,
    },
    YieldResume {
        data_id: CryptoHash,
        data: Vec<u8>,
    },
    SetRefundTo {
        receipt_index: ReceiptIndex,
        refund_to: AccountId,
    },
}

#[derive(Default, Clone)]
/// Emulates the trie and the mock handling code.
pub struct MockedExternal {
    pub fake_trie: HashMap<Vec<u8>, Vec<u8>>,
    pub validators: HashMap<AccountId, Balance>,
    pub action_log: Vec<MockAction>,
    pub code: Option<std::sync::Arc<ContractCode>>,
    pub code_hash: CryptoHash,
    /// Entry and key counts `state_init_send_counts` reports. The byte count always
    /// comes from the payload, but these two need the typed `UniversalStateInit`,
    /// which lives in `near-primitives`, out of this crate's reach. Tests set them
    /// to exercise the per-entry and per-key fees.
    pub universal_state_init_entries: u64,
    pub universal_state_init_keys: u64,
    /// What `check_state_init` reports. Real decoding needs the typed
    /// `UniversalStateInit`, out of this crate's reach, so tests just pick the answer.
    pub state_init_error: Option<StateInitError>,
    /// How many times `check_state_init` was asked, so a test can assert the
    /// per-byte fee is charged before the host does that work.
    pub check_state_init_calls: Cell<u64>,
    /// How many times `state_init_send_counts` was asked for a decode, so a test can
    /// assert the per-byte fee is charged before the host does that work.
    pub state_init_send_counts_calls: Cell<u64>,
    /// The mode of the last `state_init_send_counts` call, so a test can assert the host
    /// asks for the one its config calls for.
    pub state_init_send_counts_mode: Cell<Option<DecodeMode>>,
    data_count: u64,
}

pub struct MockedValuePtr {
    value: Vec<u8>,
}

impl MockedValuePtr {
    pub fn new<T>(value: T) -> Self
    where
        T: AsRef<[u8]>,
    {
        MockedValuePtr { value: value.as_ref().to_vec() }
    }
}

impl ValuePtr for MockedValuePtr {
    fn len(&self) -> u32 {
        self.value.len() as u32
    }

    fn deref(
        &self,
        _: &mut dyn StorageAccessTracker,
    ) -> crate::logic::dependencies::Result<Vec<u8>> {
        Ok(self.value.clone())
    }
}

impl MockedExternal {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_code(code: ContractCode) -> Self {
        Self::with_code_and_hash(*code.hash(), code)
    }

    pub fn with_code_and_hash(code_hash: CryptoHash, code: ContractCode) -> Self {
        Self { code_hash, code: Some(code.into()), ..Self::default() }
    }
}

impl External for MockedExternal {
    fn storage_set<'a>(
        &'a mut self,
        _: &mut dyn StorageAccessTracker,
        key: &[u8],
        value: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        let value = self.fake_trie.insert(key.to_vec(), value.to_vec());
        Ok(value)
    }

    fn storage_get(
        &self,
        _: &mut dyn StorageAccessTracker,
        key: &[u8],
    ) -> Result<Option<Box<dyn ValuePtr>>> {
        Ok(self
            .fake_trie
            .get(key)
            .map(|value| Box::new(MockedValuePtr { value: value.clone() }) as Box<_>))
    }

    fn storage_remove(
        &mut self,
        _: &mut dyn StorageAccessTracker,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        let value = self.fake_trie.remove(key);
        Ok(value)
    }

    fn storage_has_key(&mut self, _: &mut dyn StorageAccessTracker, key: &[u8]) -> Result<bool> {
        Ok(self.fake_trie.contains_key(key))
    }

    fn generate_data_id(&mut self) -> CryptoHash {
        // Generates some hash for the data ID to receive data. This hash should not be functionally
        // used in any mocked contexts.
        let data_id = hash(&self.data_count.to_le_bytes());
        self.data_count += 1;
        data_id
    }

    fn get_recorded_storage_size(&self) -> usize {
        0
    }

    fn storage_proof_size_before_receipt(&self) -> usize {
        0
    }

    fn validator_stake(&self, account_id: &AccountId) -> Result<Option<Balance>> {
        Ok(self.validators.get(account_id).cloned())
    }

    fn validator_total_stake(&self) -> Result<Balance> {
        Ok(self
            .validators
            .values()
            .fold(Balance::ZERO, |sum, item| sum.checked_add(*item).unwrap()))
    }

    fn chain_id(&self) -> String {
        "test".to_string()
    }

    fn create_action_receipt(
        &mut self,
        receipt_indices: Vec<ReceiptIndex>,
        receiver_id: AccountId,
    ) -> Result<ReceiptIndex, crate::logic::VMLogicError> {
        let index = self.action_log.len();
        self.action_log.push(MockAction::CreateReceipt { receipt_indices, receiver_id });
        Ok(index as u64)
    }

    fn create_promise_yield_receipt(
        &mut self,
        receiver_id: AccountId,
    ) -> Result<(ReceiptIndex, CryptoHash), crate::logic::VMLogicError> {
        let index = self.action_log.len();
        let data_id = self.generate_data_id();
        self.action_log.push(MockAction::YieldCreate { data_id, receiver_id, yield_id: None });
        Ok((index as u64, data_id))
    }

    fn create_promise_yield_receipt_with_id(
        &mut self,
        receiver_id: AccountId,
        user_yield_id: YieldId,
    ) -> Result<Option<(ReceiptIndex, CryptoHash)>, crate::logic::VMLogicError> {
        // Check for duplicate yield_id
        for action in &self.action_log {
            if let MockAction::YieldCreate { yield_id: Some(existing), .. } = action {
                if *existing == user_yield_id {
                    return Ok(None);
                }
            }
        }
        let index = self.action_log.len();
        let data_id = self.generate_data_id();
        self.action_log.push(MockAction::YieldCreate {
            data_id,
            receiver_id,
            yield_id: Some(user_yield_id),
        });
        Ok(Some((index as u64, data_id)))
    }

    fn submit_promise_resume_data(
        &mut self,
        data_id: CryptoHash,
        data: Vec<u8>,
    ) -> Result<bool, crate::logic::VMLogicError> {
        self.action_log.push(MockAction::YieldResume { data_id, data });
        for action in &self.action_log {
            let MockAction::YieldCreate { data_id: did, .. } = action else {
                continue;
            };
            // FIXME: should also check that receiver_id matches current account_id, but there
            // isn't one tracked by `Self`...
            if data_id == *did {
                // NB: does not actually handle timeouts.
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn submit_promise_resume_data_with_yield_id(
        &mut self,
        user_yield_id: YieldId,
        data: Vec<u8>,
    ) -> Result<bool, crate::logic::VMLogicError> {
        // Look up data_id for the given yield_id
        let data_id = self.action_log.iter().find_map(|action| match action {
            MockAction::YieldCreate { data_id, yield_id: Some(yid), .. }
                if *yid == user_yield_id =>
            {
                Some(*data_id)
            }
            _ => None,
        });
        match data_id {
            Some(data_id) => self.submit_promise_resume_data(data_id, data),
            None => Ok(false),
        }
    }

    fn append_action_create_account(&mut self, receipt_index: ReceiptIndex) {
        self.action_log.push(MockAction::CreateAccount { receipt_index });
    }

    fn append_action_deploy_contract(&mut self, receipt_index: ReceiptIndex, code: Vec<u8>) {
        self.action_log.push(MockAction::DeployContract { receipt_index, code });
    }

    fn append_action_deploy_global_contract(
        &mut self,
        receipt_index: ReceiptIndex,
        code: Vec<u8>,
        mode: crate::logic::types::GlobalContractDeployMode,
    ) {
        self.action_log.push(MockAction::DeployGlobalContract { receipt_index, code, mode });
    }

    fn append_action_use_global_contract(
        &mut self,
        receipt_index: ReceiptIndex,
        contract_id: crate::logic::types::GlobalContractIdentifier,
    ) {
        self.action_log.push(MockAction::UseGlobalContract { receipt_index, contract_id });
    }

    fn append_action_deterministic_state_init(
        &mut self,
        receipt_index: ReceiptIndex,
        contract_id: crate::logic::types::GlobalContractIdentifier,
        amount: Balance,
    ) -> ActionIndex {
        let action_index = self.action_log.len();
        let state_init = DeterministicAccountStateInit::V1(DeterministicAccountStateInitV1 {
            code: contract_id.into(),
            data: Default::default(),
        });
        self.action_log.push(MockAction::DeterministicStateInit {
            receipt_index,
            state_init,
            amount,
        });
        action_index as u64
    }

    fn set_deterministic_state_init_data_entry(
        &mut self,
        receipt_index: ReceiptIndex,
        action_index: ActionIndex,
        key: Vec<u8>,
        value: Vec<u8>,
    ) -> Result<(), crate::logic::VMLogicError> {
        let action = self.action_log.get_mut(action_index as usize);
        match action {
            Some(MockAction::DeterministicStateInit {
                receipt_index: expected_receipt_index,
                state_init,
                ..
            }) if *expected_receipt_index == receipt_index => {
                let prev_value = state_init.data_mut().insert(key, value);
                if prev_value.is_some() {
                    Err(HostError::DataEntryAlreadyExists.into())
                } else {
                    Ok(())
                }
            }
            _ => Err(HostError::InvalidActionIndex { receipt_index, action_index }.into()),
        }
    }

    fn check_state_init(&self, _state_init: &RawStateInit) -> Result<(), StateInitError> {
        self.check_state_init_calls.set(self.check_state_init_calls.get() + 1);
        self.state_init_error.map_or(Ok(()), Err)
    }

    /// The byte count comes from the payload; the entry and key counts are
    /// whatever the test asked for, since decoding needs `near-primitives`.
    fn state_init_send_counts(
        &self,
        state_init: &RawStateInit,
        mode: DecodeMode,
    ) -> UniversalStateInitCounts {
        self.state_init_send_counts_calls.set(self.state_init_send_counts_calls.get() + 1);
        self.state_init_send_counts_mode.set(Some(mode));
        UniversalStateInitCounts {
            num_bytes: state_init.0.len() as u64,
            num_entries: self.universal_state_init_entries,
            num_keys: self.universal_state_init_keys,
        }
    }

    /// Records the state init verbatim.
    fn append_action_universal_state_init(
        &mut self,
        receipt_index: ReceiptIndex,
        state_init: RawStateInit,
        amount: Balance,
    ) {
        self.action_log.push(MockAction::UniversalStateInit {
            receipt_index,
            state_init: state_init.0,
            amount,
        });
    }

    fn append_action_function_call_weight(
        &mut self,
        receipt_index: ReceiptIndex,
        method_name: Vec<u8>,
        args: Vec<u8>,
        attached_deposit: Balance,
        prepaid_gas: Gas,
        gas_weight: GasWeight,
    ) -> Result<(), crate::logic::VMLogicError> {
        self.action_log.push(MockAction::FunctionCallWeight {
            receipt_index,
            method_name,
            args,
            attached_deposit,
            prepaid_gas,
            gas_weight,
        });
        Ok(())
    }

    fn append_action_transfer(&mut self, receipt_index: ReceiptIndex, deposit: Balance) {
        self.action_log.push(MockAction::Transfer { receipt_index, deposit });
    }

    fn append_action_transfer_to_gas_key(
        &mut self,
        receipt_index: ReceiptIndex,
        public_key: near_crypto::PublicKey,
        deposit: Balance,
    ) {
        self.action_log.push(MockAction::TransferToGasKey { receipt_index, public_key, deposit });
    }

    fn append_action_add_gas_key_with_full_access(
        &mut self,
        receipt_index: ReceiptIndex,
        public_key: near_crypto::PublicKey,
        num_nonces: near_primitives_core::types::NonceIndex,
    ) {
        self.action_log.push(MockAction::AddGasKeyWithFullAccess {
            receipt_index,
            public_key,
            num_nonces,
        });
    }

    fn append_action_add_gas_key_with_function_call(
        &mut self,
        receipt_index: ReceiptIndex,
        public_key: near_crypto::PublicKey,
        num_nonces: near_primitives_core::types::NonceIndex,
        allowance: Option<Balance>,
        receiver_id: AccountId,
        method_names: Vec<Vec<u8>>,
    ) -> Result<(), crate::logic::VMLogicError> {
        self.action_log.push(MockAction::AddGasKeyWithFunctionCall {
            receipt_index,
            public_key,
            num_nonces,
            allowance,
            receiver_id,
            method_names,
        });
        Ok(())
    }

    fn append_action_stake(
        &mut self,
        receipt_index: ReceiptIndex,
        stake: Balance,
        public_key: near_crypto::PublicKey,
    ) {
        self.action_log.push(MockAction::Stake { receipt_index, stake, public_key });
    }

    fn append_action_add_key_with_full_access(
        &mut self,
        receipt_index: ReceiptIndex,
        public_key: near_crypto::PublicKey,
        nonce: near_primitives_core::types::Nonce,
    ) {
        self.action_log.push(MockAction::AddKeyWithFullAccess { receipt_index, public_key, nonce });
    }

    fn append_action_add_key_with_function_call(
        &mut self,
        receipt_index: ReceiptIndex,
        public_key: near_crypto::PublicKey,
        nonce: near_primitives_core::types::Nonce,
        allowance: Option<Balance>,
        receiver_id: AccountId,
        method_names: Vec<Vec<u8>>,
    ) -> Result<(), crate::logic::VMLogicError> {
        self.action_log.push(MockAction::AddKeyWithFunctionCall {
            receipt_index,
            public_key,
            nonce,
            allowance,
            receiver_id,
            method_names,
        });
        Ok(())
    }

    fn append_action_delete_key(
        &mut self,
        receipt_index: ReceiptIndex,
        public_key: near_crypto::PublicKey,
    ) {
        self.action_log.push(MockAction::DeleteKey { receipt_index, public_key });
    }

    fn append_action_delete_account(
        &mut self,
        receipt_index: ReceiptIndex,
        beneficiary_id: AccountId,
    ) {
        self.action_log.push(MockAction::DeleteAccount { receipt_index, beneficiary_id });
    }

    fn get_receipt_receiver(&self, receipt_index: ReceiptIndex) -> &AccountId {
        match &self.action_log[receipt_index as usize] {
            MockAction::CreateReceipt { receiver_id, .. } => receiver_id,
            MockAction::YieldCreate { receiver_id, .. } => receiver_id,
            _ => panic!("not a valid receipt index!"),
        }
    }

    fn set_refund_to(&mut self, receipt_index: ReceiptIndex, refund_to: AccountId) {
        self.action_log.push(MockAction::SetRefundTo { receipt_index, refund_to });
    }

    fn post_quantum_keys_enabled(&self) -> bool {
        true
    }
}

impl crate::Contract for MockedExternal {
    fn hash(&self) -> CryptoHash {
        self.code_hash
    }

    fn get_code(&self) -> Option<Arc<ContractCode>> {
        self.code.clone()
    }
}
