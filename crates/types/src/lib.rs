//! Wire types shared by every OutLayer part: the contract, the services and
//! the CLI. Each type is defined once here; its JSON shape is public API and
//! pinned by the tests in `tests/json_shapes.rs`.
//!
//! Enums use serde's default external tagging (`{"GitHub": {...}}`), which is
//! what near-sdk contracts and their callers expect. Types the contract keeps
//! in state also derive Borsh; their variant order is frozen by tests.

mod amount;
pub mod coordinator;
pub mod env;
mod events;
mod execution;
mod secrets;
mod serde_helpers;

pub use amount::U128;
pub use events::{
    EVENT_LOG_PREFIX, EVENT_STANDARD, EVENT_VERSION, ExecutionCompleted, ExecutionRequest,
    OutlayerEvent,
};
pub use execution::{
    BuildTarget, CodeSource, ExecutionContext, ExecutionOutput, ExecutionResponse, ResourceLimits,
    ResourceMetrics, ResponseFormat,
};
pub use near_account_id::AccountId;
pub use secrets::{
    AccessCondition, Accessor, ComparisonOperator, InvalidAccessor, LogicOperator, SecretsRecord,
    SecretsRef, normalize_repo,
};
