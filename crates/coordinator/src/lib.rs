//! The OutLayer coordinator: the hub workers, event monitors and the
//! dashboard talk to.
//!
//! - [`store`]: the source of truth (PostgreSQL, or SQLite embedded), with
//!   idempotent requests, atomic claims under leases and lease expiry.
//! - [`queue`]: wake-ups only (Redis lists, or in-process); losing them loses
//!   nothing, the reconciler re-sends them.
//! - [`api`]: the HTTP API (axum), documented at `/openapi.json`.
//!
//! Workers, monitors and the CLI talk to it through the
//! `outlayer-coordinator-client` crate, which carries none of this.

// The OpenAPI component schemas are large `json!` literals.
#![recursion_limit = "256"]

pub mod api;
pub mod artifacts;
pub mod auth;
pub mod bench;
pub mod cache;
pub mod clock;
pub mod config;
pub mod error;
mod http;
pub mod keystore;
pub mod metrics;
pub mod openapi;
pub mod pins;
pub mod queue;
pub mod ratelimit;
pub mod service;
pub mod store;
pub mod tokens;

pub use config::Config;
pub use error::{Error, Result};
pub use service::{Coordinator, Running, serve, spawn};
