//! A typed HTTP client for the OutLayer coordinator, for workers, event
//! monitors and the CLI. It carries none of the server (no store, queue or
//! HTTP server crates), reports failures as [`ClientError`] by what they
//! mean for the caller, and retries what is safe to retry, a bounded number
//! of times (see [`CoordinatorClient::with_retries`]).
//!
//! Routes and their JSON shapes: `crates/coordinator/README.md` and the
//! coordinator's `/openapi.json`; the types are in
//! `outlayer_types::coordinator`.

mod client;
mod error;
mod path;
mod response;
mod retry;
pub mod wire;

pub use client::CoordinatorClient;
pub use error::{ClientError, ErrorCode};
/// For [`CoordinatorClient::raw`] and [`RawResponse`], so callers need no
/// HTTP crate of their own.
pub use reqwest::header::HeaderMap;
pub use reqwest::{Method, StatusCode};
pub use response::RawResponse;
