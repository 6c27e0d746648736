//! Wire types shared by every OutLayer part: the contract, the services and
//! the CLI. Each type is defined once here; its JSON shape is public API and
//! pinned by the tests in `tests/json_shapes.rs`.
//!
//! Enums use serde's default external tagging (`{"GitHub": {...}}`), which is
//! what near-sdk contracts and their callers expect. Types the contract keeps
//! in state also derive Borsh; their variant order is frozen by tests.

mod amount;
mod contract;
pub mod coordinator;
pub mod env;
mod events;
mod execution;
mod keystore;
pub mod limits;
mod pricing;
mod secrets;
mod serde_helpers;
mod validation;

pub use amount::U128;
pub use contract::{ContractConfig, ContractStats, RequestView, SecretsSummary};
pub use events::{
    EVENT_LOG_PREFIX, EVENT_STANDARD, EVENT_VERSION, ExecutionCompleted, ExecutionRequest,
    OutlayerEvent, RefundFailed,
};
pub use execution::{
    BuildTarget, CodeSource, ExecutionContext, ExecutionOutput, ExecutionResponse, ResourceLimits,
    ResourceMetrics, ResponseFormat, is_commit_hash,
};
pub use keystore::{
    Attestation, DecryptRequest, DecryptResponse, KeystoreErrorBody, PubkeyRequest, PubkeyResponse,
    StoreSecretsArgs,
};
pub use near_account_id::AccountId;
pub use pricing::{MaxLimits, Pricing, Settlement};
pub use secrets::{
    AccessCondition, Accessor, ComparisonOperator, InvalidAccessor, LogicOperator, SecretsRecord,
    SecretsRef, normalize_repo,
};
pub use validation::{
    MAX_COMMIT_LEN, MAX_PACKAGE_PATH_LEN, MAX_PROFILE_NAME_LEN, MAX_URL_LEN, ValidationError,
    check_commit_name, check_profile_name,
};
