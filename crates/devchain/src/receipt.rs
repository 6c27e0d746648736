//! Receipts as nearcore has them: action receipts that wait for their input
//! data, and data receipts that carry a promise's result (or a resume).

use near_crypto::PublicKey;
use near_primitives::action::Action;
use near_primitives::hash::CryptoHash;
use near_primitives::types::{AccountId, Balance};
use near_primitives::views::{ActionView, DataReceiverView, ReceiptEnumView, ReceiptView};

#[derive(Clone, Debug)]
pub struct Receipt {
    pub id: CryptoHash,
    pub predecessor_id: AccountId,
    pub receiver_id: AccountId,
    /// The transaction whose tree this receipt belongs to.
    pub origin_tx: CryptoHash,
    pub kind: ReceiptKind,
}

#[derive(Clone, Debug)]
pub enum ReceiptKind {
    Action(ActionReceipt),
    Data {
        data_id: CryptoHash,
        /// `None` is a failed promise (or a yield that timed out).
        data: Option<Vec<u8>>,
        is_promise_resume: bool,
    },
}

#[derive(Clone, Debug)]
pub struct ActionReceipt {
    pub signer_id: AccountId,
    pub signer_public_key: PublicKey,
    pub gas_price: u128,
    pub output_data_receivers: Vec<(CryptoHash, AccountId)>,
    pub input_data_ids: Vec<CryptoHash>,
    pub actions: Vec<Action>,
    pub is_promise_yield: bool,
    pub refund_to: Option<AccountId>,
}

/// The account refunds of gas and deposits come from.
pub fn system_account() -> AccountId {
    "system".parse().expect("a valid account id")
}

impl Receipt {
    /// A refund: a transfer from `system`, burning no gas.
    pub fn refund(
        id: CryptoHash,
        origin_tx: CryptoHash,
        receiver_id: AccountId,
        amount: u128,
    ) -> Self {
        Self {
            id,
            predecessor_id: system_account(),
            receiver_id,
            origin_tx,
            kind: ReceiptKind::Action(ActionReceipt {
                signer_id: system_account(),
                signer_public_key: PublicKey::empty(near_crypto::KeyType::ED25519),
                gas_price: 0,
                output_data_receivers: vec![],
                input_data_ids: vec![],
                actions: vec![Action::Transfer(near_primitives::action::TransferAction {
                    deposit: Balance::from_yoctonear(amount),
                })],
                is_promise_yield: false,
                refund_to: None,
            }),
        }
    }

    pub fn view(&self) -> ReceiptView {
        let receipt = match &self.kind {
            ReceiptKind::Action(a) => ReceiptEnumView::Action {
                signer_id: a.signer_id.clone(),
                signer_public_key: a.signer_public_key.clone(),
                gas_price: Balance::from_yoctonear(a.gas_price),
                output_data_receivers: a
                    .output_data_receivers
                    .iter()
                    .map(|(data_id, receiver_id)| DataReceiverView {
                        data_id: *data_id,
                        receiver_id: receiver_id.clone(),
                    })
                    .collect(),
                input_data_ids: a.input_data_ids.clone(),
                actions: a.actions.iter().cloned().map(ActionView::from).collect(),
                is_promise_yield: a.is_promise_yield,
                refund_to: a.refund_to.clone(),
            },
            ReceiptKind::Data {
                data_id,
                data,
                is_promise_resume,
            } => ReceiptEnumView::Data {
                data_id: *data_id,
                data: data.clone(),
                is_promise_resume: *is_promise_resume,
            },
        };
        ReceiptView {
            predecessor_id: self.predecessor_id.clone(),
            receiver_id: self.receiver_id.clone(),
            receipt_id: self.id,
            receipt,
            _priority: 0,
        }
    }
}
