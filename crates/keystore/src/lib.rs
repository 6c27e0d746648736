//! OutLayer's keystore: the only place where users' secrets are decrypted.
//!
//! - [`crypto`]: per-accessor X25519 keys derived from one master secret and
//!   the ECIES blob format (specified in `docs/keystore-crypto.md`).
//! - [`conditions`]: access conditions evaluated against live chain state.
//! - [`service`]: the HTTP service (`/health`, `/pubkey`, `/decrypt`) with
//!   bearer-token auth and pluggable attestation checks.
//! - [`client`]: what workers (and the CLI) use to talk to it.

pub mod attestation;
mod auth;
pub mod client;
pub mod conditions;
mod config;
pub mod crypto;
mod error;
mod master;
mod plaintext;
pub mod service;

pub use attestation::{AttestationError, AttestationVerifier, Attestations, NoneVerifier};
pub use auth::{BearerTokens, hash_token};
pub use client::{ClientError, KeystoreClient};
pub use conditions::{CheckLimits, Denial};
pub use config::KeystoreArgs;
pub use error::{Error, Result};
pub use master::MasterSecret;
pub use plaintext::{MAX_PLAINTEXT_BYTES, MAX_SECRETS, MAX_VALUE_BYTES, SecretMap, SecretsError};
pub use service::{Keystore, KeystoreSettings, Running, app, serve, spawn};
