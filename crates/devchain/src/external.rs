//! What a contract call sees of the chain (nearcore's `External`): its own
//! account's storage, with writes buffered so an aborted call leaves no trace,
//! and the receipts, yields and resumes it asks for, kept until the call's
//! outcome decides whether they happen.

use std::collections::{BTreeMap, HashMap};

use near_crypto::PublicKey;
use near_primitives::account::{AccessKey, AccessKeyPermission, FunctionCallPermission};
use near_primitives::action::{
    Action, AddKeyAction, CreateAccountAction, DeleteAccountAction, DeleteKeyAction,
    DeployContractAction, FunctionCallAction, StakeAction, TransferAction,
};
use near_primitives::hash::CryptoHash;
use near_primitives::types::{AccountId, Balance, Gas, GasWeight, Nonce, NonceIndex};
use near_primitives_core::hash::YieldId;
use near_primitives_core::universal_state_init::{
    DecodeMode, RawStateInit, StateInitError, UniversalStateInitCounts,
};
use near_vm_runner::logic::types::{
    ActionIndex, GlobalContractDeployMode, GlobalContractIdentifier, ReceiptIndex,
};
use near_vm_runner::logic::{External, StorageAccessTracker, VMLogicError, ValuePtr};

/// A receipt the call created; it exists only if the call succeeds.
#[derive(Debug)]
pub struct NewReceipt {
    pub receiver_id: AccountId,
    /// Indices (into the same list) of receipts whose results this one waits for.
    pub dependencies: Vec<ReceiptIndex>,
    pub actions: Vec<Action>,
    /// `(action index, weight)` of function calls that share the unused gas.
    pub gas_weights: Vec<(usize, u64)>,
    /// Set for a yield: the data id its resume (or timeout) delivers.
    pub yield_data_id: Option<CryptoHash>,
    pub refund_to: Option<AccountId>,
}

/// A pending yield another call may resume.
#[derive(Clone, Debug)]
pub struct PendingYield {
    pub account_id: AccountId,
    /// The transaction whose tree the yield's callback belongs to.
    pub origin_tx: CryptoHash,
    pub expires_at_height: u64,
}

pub struct ContractExt<'a> {
    account_id: AccountId,
    storage: Option<&'a BTreeMap<Vec<u8>, Vec<u8>>>,
    /// Writes of this call: `None` is a removal.
    pub overlay: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    yields: &'a HashMap<CryptoHash, PendingYield>,
    /// Derives this call's data ids, so they are unique across the chain.
    receipt_id: CryptoHash,
    data_count: u64,
    chain_id: String,
    pub new_receipts: Vec<NewReceipt>,
    /// Yield data ids resumed by this call, with their payloads.
    pub resumes: Vec<(CryptoHash, Vec<u8>)>,
    /// A host feature the local chain does not implement; fails the call.
    pub unsupported: Option<&'static str>,
}

impl<'a> ContractExt<'a> {
    pub fn new(
        account_id: AccountId,
        storage: Option<&'a BTreeMap<Vec<u8>, Vec<u8>>>,
        yields: &'a HashMap<CryptoHash, PendingYield>,
        receipt_id: CryptoHash,
        chain_id: String,
    ) -> Self {
        Self {
            account_id,
            storage,
            overlay: BTreeMap::new(),
            yields,
            receipt_id,
            data_count: 0,
            chain_id,
            new_receipts: Vec::new(),
            resumes: Vec::new(),
            unsupported: None,
        }
    }

    fn read(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.overlay.get(key) {
            Some(value) => value.clone(),
            None => self.storage.and_then(|s| s.get(key)).cloned(),
        }
    }

    fn push_action(&mut self, index: ReceiptIndex, action: Action) -> usize {
        let actions = &mut self.new_receipts[index as usize].actions;
        actions.push(action);
        actions.len() - 1
    }

    fn unsupported(&mut self, feature: &'static str) {
        self.unsupported.get_or_insert(feature);
    }
}

struct Value(Vec<u8>);

impl ValuePtr for Value {
    fn len(&self) -> u32 {
        self.0.len() as u32
    }

    fn deref(&self, _: &mut dyn StorageAccessTracker) -> Result<Vec<u8>> {
        Ok(self.0.clone())
    }
}

type Result<T> = std::result::Result<T, VMLogicError>;

impl External for ContractExt<'_> {
    fn storage_set(
        &mut self,
        _: &mut dyn StorageAccessTracker,
        key: &[u8],
        value: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        let old = self.read(key);
        self.overlay.insert(key.to_vec(), Some(value.to_vec()));
        Ok(old)
    }

    fn storage_get<'b>(
        &'b self,
        _: &mut dyn StorageAccessTracker,
        key: &[u8],
    ) -> Result<Option<Box<dyn ValuePtr + 'b>>> {
        Ok(self
            .read(key)
            .map(|v| Box::new(Value(v)) as Box<dyn ValuePtr>))
    }

    fn storage_remove(
        &mut self,
        _: &mut dyn StorageAccessTracker,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        let old = self.read(key);
        self.overlay.insert(key.to_vec(), None);
        Ok(old)
    }

    fn storage_has_key(&mut self, _: &mut dyn StorageAccessTracker, key: &[u8]) -> Result<bool> {
        Ok(self.read(key).is_some())
    }

    fn generate_data_id(&mut self) -> CryptoHash {
        let mut bytes = self.receipt_id.0.to_vec();
        bytes.extend_from_slice(&self.data_count.to_le_bytes());
        self.data_count += 1;
        CryptoHash::hash_bytes(&bytes)
    }

    fn get_recorded_storage_size(&self) -> usize {
        0
    }

    fn storage_proof_size_before_receipt(&self) -> usize {
        0
    }

    fn validator_stake(&self, _: &AccountId) -> Result<Option<Balance>> {
        Ok(None)
    }

    fn validator_total_stake(&self) -> Result<Balance> {
        Ok(Balance::ZERO)
    }

    fn chain_id(&self) -> String {
        self.chain_id.clone()
    }

    fn create_action_receipt(
        &mut self,
        receipt_indices: Vec<ReceiptIndex>,
        receiver_id: AccountId,
    ) -> Result<ReceiptIndex> {
        self.new_receipts.push(NewReceipt {
            receiver_id,
            dependencies: receipt_indices,
            actions: Vec::new(),
            gas_weights: Vec::new(),
            yield_data_id: None,
            refund_to: None,
        });
        Ok(self.new_receipts.len() as u64 - 1)
    }

    fn create_promise_yield_receipt(
        &mut self,
        receiver_id: AccountId,
    ) -> Result<(ReceiptIndex, CryptoHash)> {
        let data_id = self.generate_data_id();
        let index = self.create_action_receipt(vec![], receiver_id)?;
        self.new_receipts[index as usize].yield_data_id = Some(data_id);
        Ok((index, data_id))
    }

    fn create_promise_yield_receipt_with_id(
        &mut self,
        _: AccountId,
        _: YieldId,
    ) -> Result<Option<(ReceiptIndex, CryptoHash)>> {
        self.unsupported("yields with a caller-chosen id");
        Ok(None)
    }

    fn submit_promise_resume_data(&mut self, data_id: CryptoHash, data: Vec<u8>) -> Result<bool> {
        let pending = self
            .yields
            .get(&data_id)
            .is_some_and(|y| y.account_id == self.account_id);
        let resumed_here = self.resumes.iter().any(|(id, _)| *id == data_id);
        if !pending || resumed_here {
            return Ok(false);
        }
        self.resumes.push((data_id, data));
        Ok(true)
    }

    fn submit_promise_resume_data_with_yield_id(&mut self, _: YieldId, _: Vec<u8>) -> Result<bool> {
        self.unsupported("yields with a caller-chosen id");
        Ok(false)
    }

    fn append_action_create_account(&mut self, index: ReceiptIndex) {
        self.push_action(index, Action::CreateAccount(CreateAccountAction {}));
    }

    fn append_action_deploy_contract(&mut self, index: ReceiptIndex, code: Vec<u8>) {
        self.push_action(index, Action::DeployContract(DeployContractAction { code }));
    }

    fn append_action_deploy_global_contract(
        &mut self,
        _: ReceiptIndex,
        _: Vec<u8>,
        _: GlobalContractDeployMode,
    ) {
        self.unsupported("global contracts");
    }

    fn append_action_use_global_contract(&mut self, _: ReceiptIndex, _: GlobalContractIdentifier) {
        self.unsupported("global contracts");
    }

    fn append_action_deterministic_state_init(
        &mut self,
        _: ReceiptIndex,
        _: GlobalContractIdentifier,
        _: Balance,
    ) -> ActionIndex {
        self.unsupported("deterministic state init");
        0
    }

    fn set_deterministic_state_init_data_entry(
        &mut self,
        _: ReceiptIndex,
        _: ActionIndex,
        _: Vec<u8>,
        _: Vec<u8>,
    ) -> Result<()> {
        self.unsupported("deterministic state init");
        Ok(())
    }

    fn check_state_init(&self, _: &RawStateInit) -> std::result::Result<(), StateInitError> {
        Ok(())
    }

    fn state_init_send_counts(&self, _: &RawStateInit, _: DecodeMode) -> UniversalStateInitCounts {
        UniversalStateInitCounts::default()
    }

    fn append_action_universal_state_init(&mut self, _: ReceiptIndex, _: RawStateInit, _: Balance) {
        self.unsupported("state init");
    }

    fn append_action_function_call_weight(
        &mut self,
        index: ReceiptIndex,
        method_name: Vec<u8>,
        args: Vec<u8>,
        deposit: Balance,
        gas: Gas,
        weight: GasWeight,
    ) -> Result<()> {
        let action = FunctionCallAction {
            // The VM checked the name is UTF-8 before calling us.
            method_name: String::from_utf8_lossy(&method_name).into_owned(),
            args,
            gas,
            deposit,
        };
        let at = self.push_action(index, Action::FunctionCall(Box::new(action)));
        if weight.0 > 0 {
            self.new_receipts[index as usize]
                .gas_weights
                .push((at, weight.0));
        }
        Ok(())
    }

    fn append_action_transfer(&mut self, index: ReceiptIndex, deposit: Balance) {
        self.push_action(index, Action::Transfer(TransferAction { deposit }));
    }

    fn append_action_transfer_to_gas_key(&mut self, _: ReceiptIndex, _: PublicKey, _: Balance) {
        self.unsupported("gas keys");
    }

    fn append_action_add_gas_key_with_full_access(
        &mut self,
        _: ReceiptIndex,
        _: PublicKey,
        _: NonceIndex,
    ) {
        self.unsupported("gas keys");
    }

    fn append_action_add_gas_key_with_function_call(
        &mut self,
        _: ReceiptIndex,
        _: PublicKey,
        _: NonceIndex,
        _: Option<Balance>,
        _: AccountId,
        _: Vec<Vec<u8>>,
    ) -> Result<()> {
        self.unsupported("gas keys");
        Ok(())
    }

    fn append_action_stake(&mut self, index: ReceiptIndex, stake: Balance, public_key: PublicKey) {
        self.push_action(
            index,
            Action::Stake(Box::new(StakeAction { stake, public_key })),
        );
    }

    fn append_action_add_key_with_full_access(
        &mut self,
        index: ReceiptIndex,
        public_key: PublicKey,
        nonce: Nonce,
    ) {
        let access_key = AccessKey {
            nonce,
            permission: AccessKeyPermission::FullAccess,
        };
        self.push_action(
            index,
            Action::AddKey(Box::new(AddKeyAction {
                public_key,
                access_key,
            })),
        );
    }

    fn append_action_add_key_with_function_call(
        &mut self,
        index: ReceiptIndex,
        public_key: PublicKey,
        nonce: Nonce,
        allowance: Option<Balance>,
        receiver_id: AccountId,
        method_names: Vec<Vec<u8>>,
    ) -> Result<()> {
        let permission = AccessKeyPermission::FunctionCall(FunctionCallPermission {
            allowance,
            receiver_id: receiver_id.into(),
            method_names: method_names
                .into_iter()
                .map(|m| String::from_utf8_lossy(&m).into_owned())
                .collect(),
        });
        let access_key = AccessKey { nonce, permission };
        self.push_action(
            index,
            Action::AddKey(Box::new(AddKeyAction {
                public_key,
                access_key,
            })),
        );
        Ok(())
    }

    fn append_action_delete_key(&mut self, index: ReceiptIndex, public_key: PublicKey) {
        self.push_action(
            index,
            Action::DeleteKey(Box::new(DeleteKeyAction { public_key })),
        );
    }

    fn append_action_delete_account(&mut self, index: ReceiptIndex, beneficiary_id: AccountId) {
        self.push_action(
            index,
            Action::DeleteAccount(DeleteAccountAction { beneficiary_id }),
        );
    }

    fn get_receipt_receiver(&self, index: ReceiptIndex) -> &AccountId {
        &self.new_receipts[index as usize].receiver_id
    }

    fn set_refund_to(&mut self, index: ReceiptIndex, refund_to: AccountId) {
        self.new_receipts[index as usize].refund_to = Some(refund_to);
    }

    fn post_quantum_keys_enabled(&self) -> bool {
        false
    }
}
