//! What a request asks to run, within which limits, and what comes back.

use borsh::{BorshDeserialize, BorshSerialize};
use near_account_id::AccountId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::serde_helpers::{base64_bytes, hex_32};

/// The WebAssembly target a program is built for.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
pub enum BuildTarget {
    /// A WASI Preview 1 core module (`_start`), no network.
    #[serde(rename = "wasm32-wasip1")]
    Wasip1,
    /// A WASI Preview 2 component (`wasi:cli/run`), outbound HTTP by policy.
    #[serde(rename = "wasm32-wasip2")]
    Wasip2,
}

impl BuildTarget {
    /// The rustc target triple, as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wasip1 => "wasm32-wasip1",
            Self::Wasip2 => "wasm32-wasip2",
        }
    }
}

/// Where the program comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub enum CodeSource {
    /// Built by a worker from a repository at a fixed commit.
    GitHub {
        repo: String,
        commit: String,
        build_target: BuildTarget,
    },
    /// A prebuilt binary, checked against its SHA-256 (`hash`, hex).
    WasmUrl {
        url: String,
        hash: String,
        build_target: BuildTarget,
    },
    /// Built by a worker from the cargo package at `path` (relative to the
    /// repository root) at a fixed commit: a member of a workspace whose path
    /// dependencies live elsewhere in the same repository.
    GitPackage {
        repo: String,
        commit: String,
        path: String,
        build_target: BuildTarget,
    },
    /// A JavaScript module carried in the request (at most
    /// [`crate::limits::MAX_INLINE_SCRIPT_BYTES`] as a JSON string), run on
    /// the workers' QuickJS engine: nothing to build. Paid for like input
    /// while the request is pending.
    JavaScript { code: String },
    /// A JavaScript module from a repository: the file at `path` (relative
    /// to the repository root, `.js` or `.mjs`) at a fixed commit, run on
    /// the workers' QuickJS engine like inline code. Nothing is built.
    GitScript {
        repo: String,
        commit: String,
        path: String,
    },
}

impl CodeSource {
    pub fn build_target(&self) -> BuildTarget {
        match self {
            Self::GitHub { build_target, .. }
            | Self::WasmUrl { build_target, .. }
            | Self::GitPackage { build_target, .. } => *build_target,
            // The engine that runs it is a WASI P2 component.
            Self::JavaScript { .. } | Self::GitScript { .. } => BuildTarget::Wasip2,
        }
    }

    /// The repository a worker builds from, for sources built from git.
    pub fn repo(&self) -> Option<&str> {
        match self {
            Self::GitHub { repo, .. }
            | Self::GitPackage { repo, .. }
            | Self::GitScript { repo, .. } => Some(repo),
            Self::WasmUrl { .. } | Self::JavaScript { .. } => None,
        }
    }

    /// The commit, branch or tag named, for sources built from git.
    pub fn commit(&self) -> Option<&str> {
        match self {
            Self::GitHub { commit, .. }
            | Self::GitPackage { commit, .. }
            | Self::GitScript { commit, .. } => Some(commit),
            Self::WasmUrl { .. } | Self::JavaScript { .. } => None,
        }
    }

    /// The same source pinned to `commit` (a branch resolved by a worker).
    pub fn with_commit(&self, resolved: &str) -> Self {
        let mut source = self.clone();
        if let Self::GitHub { commit, .. }
        | Self::GitPackage { commit, .. }
        | Self::GitScript { commit, .. } = &mut source
        {
            *commit = resolved.to_owned();
        }
        source
    }

    /// The accessors whose secrets a request for this source may read, most
    /// specific first: for a repository named at a branch, secrets bound to
    /// that branch, then those bound to the repository; for a binary, its
    /// hash; for inline JavaScript, the SHA-256 of its code (the program's
    /// content hash, like a binary's: same bytes, same secrets).
    pub fn secrets_accessors(&self) -> Vec<crate::Accessor> {
        use crate::Accessor;
        match self {
            Self::GitHub { repo, commit, .. }
            | Self::GitPackage { repo, commit, .. }
            | Self::GitScript { repo, commit, .. } => {
                let whole = Accessor::Repo {
                    repo: repo.clone(),
                    branch: None,
                };
                if is_commit_hash(commit) {
                    vec![whole]
                } else {
                    let branch = Accessor::Repo {
                        repo: repo.clone(),
                        branch: Some(commit.clone()),
                    };
                    vec![branch, whole]
                }
            }
            Self::WasmUrl { hash, .. } => vec![Accessor::WasmHash { hash: hash.clone() }],
            Self::JavaScript { .. } => vec![Accessor::WasmHash {
                hash: self.artifact_checksum(),
            }],
        }
    }

    /// The key the built program is cached under: SHA-256 (hex) of
    /// `repo:commit:target` for a repository, the declared content hash
    /// (lower-case) for a prebuilt binary, SHA-256 (hex) of the code for
    /// inline JavaScript. Same source, same key, on every worker and
    /// coordinator.
    pub fn artifact_checksum(&self) -> String {
        match self {
            Self::GitHub {
                repo,
                commit,
                build_target,
            } => {
                let key = format!("{repo}:{commit}:{}", build_target.as_str());
                hex::encode(Sha256::digest(key.as_bytes()))
            }
            Self::GitPackage {
                repo,
                commit,
                path,
                build_target,
            } => {
                let key = format!("{repo}:{commit}:{path}:{}", build_target.as_str());
                hex::encode(Sha256::digest(key.as_bytes()))
            }
            Self::WasmUrl { hash, .. } => hash.to_ascii_lowercase(),
            Self::JavaScript { code } => hex::encode(Sha256::digest(code.as_bytes())),
            Self::GitScript { repo, commit, path } => {
                let key = format!("{repo}:{commit}:{path}:javascript");
                hex::encode(Sha256::digest(key.as_bytes()))
            }
        }
    }

    /// Bytes this source keeps in contract state beyond a binary's or a
    /// repository's few names: inline code, paid for like input.
    pub fn inline_code_bytes(&self) -> u64 {
        match self {
            Self::JavaScript { code } => code.len() as u64,
            _ => 0,
        }
    }

    /// Whether a worker must build this source before running it.
    pub fn needs_build(&self) -> bool {
        matches!(self, Self::GitHub { .. } | Self::GitPackage { .. })
    }
}

/// A full commit id (40 hex digits for SHA-1 repositories, 64 for SHA-256),
/// as opposed to a branch or tag name that moves.
pub fn is_commit_hash(commit: &str) -> bool {
    matches!(commit.len(), 40 | 64) && commit.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Limits the caller pays for. Missing fields take the defaults.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceLimits {
    /// Fuel: WebAssembly instructions the engine may execute.
    pub max_instructions: u64,
    /// Linear memory (and tables) the program may hold, in MiB.
    pub max_memory_mb: u32,
    /// Wall-clock deadline for one execution.
    pub max_execution_seconds: u64,
}

impl ResourceLimits {
    pub const DEFAULT_MAX_INSTRUCTIONS: u64 = 1_000_000_000;
    pub const DEFAULT_MAX_MEMORY_MB: u32 = 128;
    pub const DEFAULT_MAX_EXECUTION_SECONDS: u64 = 60;
}

impl Default for ResourceLimits {
    fn default() -> Self {
        Self {
            max_instructions: Self::DEFAULT_MAX_INSTRUCTIONS,
            max_memory_mb: Self::DEFAULT_MAX_MEMORY_MB,
            max_execution_seconds: Self::DEFAULT_MAX_EXECUTION_SECONDS,
        }
    }
}

/// How the program's stdout is turned into the result.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
pub enum ResponseFormat {
    /// UTF-8 text (invalid sequences are replaced).
    #[default]
    Text,
    /// A JSON value; stdout that is not JSON is an `invalid_output` failure.
    Json,
    /// Raw bytes, base64 on the wire.
    Bytes,
}

/// A program's result, decoded per [`ResponseFormat`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExecutionOutput {
    Text(String),
    Json(serde_json::Value),
    Bytes(#[serde(with = "base64_bytes")] Vec<u8>),
}

/// What was actually used; drives the price.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct ResourceMetrics {
    /// Fuel the engine consumed.
    pub instructions: u64,
    /// Wall-clock execution time.
    pub time_ms: u64,
    /// Build time, when this request had to compile the program.
    #[serde(default)]
    pub compile_time_ms: Option<u64>,
}

/// The worker's answer for one request, delivered to the contract on resume.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionResponse {
    pub success: bool,
    #[serde(default)]
    pub output: Option<ExecutionOutput>,
    /// A short, safe message when `success` is false.
    #[serde(default)]
    pub error: Option<String>,
    pub resources_used: ResourceMetrics,
}

/// The on-chain context of a request, exposed to the program as `NEAR_*`
/// environment variables and used to derive its deterministic randomness.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct ExecutionContext {
    pub request_id: u64,
    /// The account that signed the transaction.
    pub sender_id: AccountId,
    /// The account that called the contract.
    pub predecessor_id: AccountId,
    /// The OutLayer contract.
    pub contract_id: AccountId,
    pub block_height: u64,
    /// Nanoseconds since the Unix epoch, as NEAR reports it.
    pub block_timestamp: u64,
    #[serde(default)]
    pub transaction_hash: Option<String>,
    /// The block's random seed (hex); the program's randomness is derived
    /// from it and the request id.
    #[serde(with = "hex_32")]
    pub random_seed: [u8; 32],
}

impl ExecutionOutput {
    /// The response format this output is in.
    pub fn format(&self) -> ResponseFormat {
        match self {
            Self::Text(_) => ResponseFormat::Text,
            Self::Json(_) => ResponseFormat::Json,
            Self::Bytes(_) => ResponseFormat::Bytes,
        }
    }

    /// The value a calling contract receives: text as a string, JSON as
    /// itself, bytes as a base64 string.
    pub fn into_json(self) -> serde_json::Value {
        use base64::Engine as _;
        match self {
            Self::Text(text) => serde_json::Value::String(text),
            Self::Json(value) => value,
            Self::Bytes(bytes) => {
                serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
        }
    }
}
