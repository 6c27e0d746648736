//! What can go wrong, whose fault it is, and what the caller on chain may
//! be told about it.

use std::time::Duration;

/// The longest [`BuildError::summary`]: it ends up in a contract's state.
pub const SUMMARY_MAX_BYTES: usize = 200;

/// Which step of a build ran out of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// `git ls-remote`, `git fetch`, `git checkout`.
    Checkout,
    /// `cargo fetch`: downloading the dependencies.
    Fetch,
    /// `cargo build` in the sandbox.
    Compile,
    /// Downloading a prebuilt binary.
    Download,
}

impl Stage {
    fn as_str(self) -> &'static str {
        match self {
            Self::Checkout => "checkout",
            Self::Fetch => "dependency fetch",
            Self::Compile => "build",
            Self::Download => "download",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed resolve, build or download. `Display` is for operators (it may
/// name host paths); [`summary`](Self::summary) is for the caller.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    // --- The user's source is at fault. ---
    /// The repository address is not one workers build from.
    #[error("repository refused: {reason}")]
    RepoRefused { reason: String },
    /// A malformed part of the source: package path, branch name, hash, URL.
    #[error("invalid source: {0}")]
    InvalidSource(String),
    /// The repository does not exist or is not public.
    #[error("repository unavailable: {detail}")]
    RepoUnavailable { detail: String },
    /// No branch or tag of that name.
    #[error("no branch or tag named {name:?}")]
    UnknownRevision { name: String },
    /// The repository has no such commit.
    #[error("commit {commit} not found in the repository")]
    CommitNotFound { commit: String },
    /// The checkout alone is larger than the build's disk budget.
    #[error("checkout is larger than the {limit}-byte disk limit")]
    RepoTooLarge { limit: u64 },
    /// No `Cargo.toml` where the source says the package is.
    #[error("no Cargo.toml at {path:?}")]
    NoManifest { path: String },
    /// Builds are `--locked`: without a lock file they would not be
    /// reproducible.
    #[error("no Cargo.lock in the repository: builds are --locked")]
    MissingLockfile,
    /// `cargo fetch --locked` failed: a dependency that cannot be fetched or
    /// a lock file that does not match the manifests.
    #[error("fetching dependencies failed: {message}")]
    DependencyFetch { message: String, log: String },
    /// `cargo build` failed: a compile error, a failing build script (such
    /// as one that tries the network or writes outside its directory), a
    /// link error, or a compiler killed by the memory limit.
    #[error("compilation failed: {message}")]
    Compile { message: String, log: String },
    /// The build succeeded but did not produce exactly one `.wasm` binary.
    #[error("no single WebAssembly binary: {detail}")]
    NoArtifact { detail: String, log: String },
    /// The binary is too large, not WebAssembly, or of the wrong kind for
    /// the target (a module where a component was expected, or the reverse).
    #[error("unusable binary: {0}")]
    BadArtifact(String),
    /// A prebuilt binary could not be downloaded from the given URL.
    #[error("download failed: {0}")]
    Download(String),
    /// A prebuilt binary is not the one the source names.
    #[error("hash mismatch: expected {expected}, got {actual}")]
    HashMismatch { expected: String, actual: String },
    /// The build did not finish within the time the request paid for.
    #[error("{stage} timed out after {} s", limit.as_secs())]
    Timeout {
        stage: Stage,
        limit: Duration,
        log: String,
    },

    // --- Our infrastructure is at fault: retry elsewhere. ---
    /// The source given to `build` still names a branch: `resolve` first.
    #[error("source not resolved to a commit (commit {commit:?}); call resolve first")]
    Unresolved { commit: String },
    /// A tool the builder needs is missing or broken.
    #[error("{tool} is not usable: {detail}")]
    ToolMissing { tool: &'static str, detail: String },
    /// git failed for a reason that is not the repository's (network, disk).
    #[error("git failed: {detail}")]
    Git { detail: String },
    /// crates.io could not be reached while fetching dependencies.
    #[error("registry unreachable: {detail}")]
    Registry { detail: String },
    /// The sandbox could not be set up.
    #[error("sandbox failed: {detail}")]
    Sandbox { detail: String, log: String },
    /// A local file operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl BuildError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// True when the user's source is at fault (compile error, missing
    /// commit, wrong hash, build.rs network attempt, timeout): the request
    /// fails with `compilation_failed`; false for our infrastructure
    /// (git/cargo missing, disk, sandbox setup): retry elsewhere.
    pub fn is_user_error(&self) -> bool {
        match self {
            Self::RepoRefused { .. }
            | Self::InvalidSource(_)
            | Self::RepoUnavailable { .. }
            | Self::UnknownRevision { .. }
            | Self::CommitNotFound { .. }
            | Self::RepoTooLarge { .. }
            | Self::NoManifest { .. }
            | Self::MissingLockfile
            | Self::DependencyFetch { .. }
            | Self::Compile { .. }
            | Self::NoArtifact { .. }
            | Self::BadArtifact(_)
            | Self::Download(_)
            | Self::HashMismatch { .. }
            | Self::Timeout { .. } => true,
            Self::Unresolved { .. }
            | Self::ToolMissing { .. }
            | Self::Git { .. }
            | Self::Registry { .. }
            | Self::Sandbox { .. }
            | Self::Io { .. } => false,
        }
    }

    /// A short (≤ 200 bytes), safe one-line summary for the caller on chain:
    /// no host paths, no environment, e.g. "compilation failed:
    /// error[E0425]: cannot find value `x` in this scope (src/main.rs:3:5)".
    ///
    /// Texts that come from the build (`message`, `detail`) were already
    /// stripped of the build's own paths where they were made; details of
    /// infrastructure failures are never included.
    pub fn summary(&self) -> String {
        let text = match self {
            Self::RepoRefused { reason } => format!("repository refused: {reason}"),
            Self::InvalidSource(reason) => format!("invalid source: {reason}"),
            Self::RepoUnavailable { .. } => "repository not found or not public".to_owned(),
            Self::UnknownRevision { name } => format!("no branch or tag named {name}"),
            Self::CommitNotFound { commit } => format!("commit {commit} not found"),
            Self::RepoTooLarge { limit } => {
                format!("repository larger than the {} MiB build disk", limit >> 20)
            }
            Self::NoManifest { path } => format!("no Cargo.toml at {path}"),
            Self::MissingLockfile => "no Cargo.lock: builds are --locked".to_owned(),
            Self::DependencyFetch { message, .. } => {
                format!("fetching dependencies failed: {message}")
            }
            Self::Compile { message, .. } => format!("compilation failed: {message}"),
            Self::NoArtifact { detail, .. } => format!("no single wasm binary: {detail}"),
            Self::BadArtifact(reason) => format!("unusable wasm: {reason}"),
            Self::Download(reason) => format!("download failed: {reason}"),
            Self::HashMismatch { expected, actual } => format!(
                "wasm hash mismatch: expected {}…, got {}…",
                prefix(expected, 12),
                prefix(actual, 12)
            ),
            Self::Timeout { stage, limit, .. } => {
                format!("{stage} timed out after {} s", limit.as_secs())
            }
            Self::Unresolved { .. } => "internal error: source not resolved".to_owned(),
            Self::ToolMissing { tool, .. } => format!("internal error: {tool} unavailable"),
            Self::Git { .. } => "internal error: git failed".to_owned(),
            Self::Registry { .. } => "internal error: crates.io unreachable".to_owned(),
            Self::Sandbox { .. } => "internal error: build sandbox failed".to_owned(),
            Self::Io { .. } => "internal error: local file operation failed".to_owned(),
        };
        one_line(&text, SUMMARY_MAX_BYTES)
    }

    /// The tail of the build's output, for operators, when there is one.
    pub fn log(&self) -> Option<&str> {
        match self {
            Self::DependencyFetch { log, .. }
            | Self::Compile { log, .. }
            | Self::NoArtifact { log, .. }
            | Self::Timeout { log, .. }
            | Self::Sandbox { log, .. } => Some(log),
            _ => None,
        }
    }
}

fn prefix(text: &str, chars: usize) -> &str {
    match text.char_indices().nth(chars) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// One line of printable text of at most `max` bytes (cut on a character
/// boundary, with `…` marking the cut).
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let mut line = String::with_capacity(text.len().min(max));
    let mut last_space = true;
    for c in text.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        line.push(c);
    }
    let line = line.trim_end();
    if line.len() <= max {
        return line.to_owned();
    }
    let ellipsis = '…';
    let mut cut = max - ellipsis.len_utf8();
    while !line.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{ellipsis}", &line[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_one_short_line() {
        let error = BuildError::Compile {
            message: format!("error: {}\n\tnext line", "é".repeat(300)),
            log: String::new(),
        };
        let summary = error.summary();
        assert!(summary.len() <= SUMMARY_MAX_BYTES, "{}", summary.len());
        assert!(summary.ends_with('…'));
        assert!(!summary.contains('\n') && !summary.contains('\t'));
    }

    #[test]
    fn infrastructure_details_stay_out_of_summaries() {
        let error = BuildError::io(
            "creating /srv/secret/work",
            std::io::Error::other("disk full"),
        );
        assert!(!error.is_user_error());
        assert!(!error.summary().contains("/srv"));
        let error = BuildError::Sandbox {
            detail: "bwrap: /home/op".into(),
            log: String::new(),
        };
        assert!(!error.summary().contains("/home"));
    }

    #[test]
    fn hash_mismatch_names_both_prefixes() {
        let error = BuildError::HashMismatch {
            expected: "a".repeat(64),
            actual: "b".repeat(64),
        };
        assert!(error.is_user_error());
        let summary = error.summary();
        assert!(summary.contains(&"a".repeat(12)) && !summary.contains(&"a".repeat(13)));
        assert!(summary.contains(&"b".repeat(12)) && !summary.contains(&"b".repeat(13)));
    }
}
