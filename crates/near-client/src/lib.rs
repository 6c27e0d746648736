//! A small NEAR JSON-RPC client: node `status`, `block`, and the `query`
//! views OutLayer reads (`view_account`, `view_access_key`, `call_function`).
//!
//! Every call has a bounded timeout and fails with a typed [`Error`] that
//! tells a missing account from a panicking view from an unreachable node.
//! With the `fake` feature, [`fake::FakeChain`] serves the same protocol over
//! HTTP from in-memory state, in nearcore's exact JSON shapes, for tests.

mod client;
mod error;
#[cfg(feature = "fake")]
pub mod fake;
mod views;

pub use client::{DEFAULT_TIMEOUT, NearRpc};
pub use error::{Error, Result};
pub use views::{
    AccessKeyPermission, AccessKeyView, AccountView, BlockHeaderView, BlockReference, BlockView,
    CallResult, ChunkHeaderView, Finality, StatusView, SyncInfo, U64String,
};
