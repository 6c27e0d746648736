//! The keystore's HTTP API (`/pubkey`, `/decrypt`) and the contract arguments
//! the CLI prepares for `store_secrets`. The cryptography behind these is
//! specified in `docs/keystore-crypto.md`.

use std::collections::BTreeMap;

use near_account_id::AccountId;
use serde::{Deserialize, Serialize};

use crate::{AccessCondition, Accessor};

/// `POST /pubkey`: the public key secrets for `accessor` owned by `owner` are
/// encrypted to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PubkeyRequest {
    pub accessor: Accessor,
    pub owner: AccountId,
    /// Optional candidate plaintext (`{"NAME": "value"}`), checked before the
    /// key is handed out so a reserved or malformed name is refused before
    /// anything is encrypted. Never stored or logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<serde_json::Value>,
}

/// The X25519 public key, 64 lower-case hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PubkeyResponse {
    pub pubkey: String,
}

/// Evidence of what is asking for a decryption. `type` names the scheme
/// (`none` for development, TEE quote formats later); `evidence` is its
/// scheme-specific payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

impl Attestation {
    /// The development attestation: accepted only by a keystore started with
    /// an explicit opt-in.
    pub fn none() -> Self {
        Self {
            kind: "none".into(),
            evidence: None,
        }
    }
}

/// `POST /decrypt` (workers only): decrypt the secrets pending request
/// `request_id` names. The body says which request and nothing else: the
/// keystore reads the request from the contract (at final) and takes the
/// owner and profile (`secrets_ref`), the caller (the request's signer) and
/// the accessors (its code source) from there, never from the worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecryptRequest {
    pub request_id: u64,
    pub attestation: Attestation,
}

/// The decrypted secrets, name → value. Plaintext: hold it only for one
/// execution.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecryptResponse {
    pub secrets: BTreeMap<String, String>,
}

impl std::fmt::Debug for DecryptResponse {
    // Names only: a stray `{:?}` must not print secret values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecryptResponse")
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Every keystore error response: a stable machine-readable `error` code
/// (`unauthorized`, `attestation_refused`, `bad_request`, `not_found`,
/// `request_not_pending`, `access_denied`, `chain_unavailable`,
/// `bad_ciphertext`, `internal`), a human message, and for `access_denied`
/// the condition that failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeystoreErrorBody {
    pub error: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

/// The arguments of the contract's `store_secrets` call, as
/// `outlayer secrets encrypt` prints them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreSecretsArgs {
    pub accessor: Accessor,
    pub profile: String,
    pub encrypted_secrets_base64: String,
    pub access: AccessCondition,
}
