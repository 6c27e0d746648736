//! Who may read a set of encrypted secrets, and under which conditions.

use borsh::{BorshDeserialize, BorshSerialize};
use near_account_id::AccountId;
use serde::{Deserialize, Serialize};

use crate::U128;

/// Names the secrets profile a request wants: `profile` stored by `account_id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct SecretsRef {
    pub profile: String,
    pub account_id: AccountId,
}

/// The code a secret is bound to. Keys are derived per accessor and owner, so
/// a secret encrypted for one repository cannot be decrypted for another.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
pub enum Accessor {
    /// Programs built from this repository (optionally only this branch).
    Repo {
        repo: String,
        #[serde(default)]
        branch: Option<String>,
    },
    /// Exactly this binary (SHA-256, hex).
    WasmHash { hash: String },
}

/// Why an accessor is malformed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidAccessor(pub String);

impl std::fmt::Display for InvalidAccessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidAccessor {}

impl Accessor {
    /// The canonical form: repository normalised (see [`normalize_repo`]),
    /// empty branch dropped, hash lower-case and checked to be 64 hex digits.
    pub fn normalized(&self) -> Result<Self, InvalidAccessor> {
        match self {
            Self::Repo { repo, branch } => {
                let branch = branch
                    .as_deref()
                    .map(str::trim_ascii)
                    .filter(|b| !b.is_empty());
                if let Some(b) = branch
                    && (b.len() > 255 || b.chars().any(|c| c.is_whitespace() || c.is_control()))
                {
                    return Err(InvalidAccessor(format!("invalid branch name {b:?}")));
                }
                Ok(Self::Repo {
                    repo: normalize_repo(repo)?,
                    branch: branch.map(str::to_owned),
                })
            }
            Self::WasmHash { hash } => {
                let hash = hash.trim_ascii().to_ascii_lowercase();
                if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(InvalidAccessor(
                        "wasm hash must be 64 hex digits (SHA-256)".into(),
                    ));
                }
                Ok(Self::WasmHash { hash })
            }
        }
    }

    /// The string the keystore derives this accessor's key from, for secrets
    /// owned by `owner`: `repo:<repo>:<owner>[:<branch>]` or
    /// `wasm:<hash>:<owner>`. Call on a [`normalized`](Self::normalized) accessor.
    pub fn key_seed(&self, owner: &AccountId) -> String {
        match self {
            Self::Repo { repo, branch: None } => format!("repo:{repo}:{owner}"),
            Self::Repo {
                repo,
                branch: Some(branch),
            } => format!("repo:{repo}:{owner}:{branch}"),
            Self::WasmHash { hash } => format!("wasm:{hash}:{owner}"),
        }
    }
}

/// Normalises the many ways to write a repository to one form:
/// `host/owner/name`, lower-case, without scheme, credentials, port, `.git`
/// or trailing slashes. `owner/name` alone means GitHub. The steps, in
/// order, are the ones `docs/keystore-crypto.md` §1 specifies.
///
/// `https://github.com/Alice/App.git`, `git@github.com:alice/app`,
/// `ssh://git@github.com:22/alice/app` and `alice/app` all become
/// `github.com/alice/app`.
pub fn normalize_repo(input: &str) -> Result<String, InvalidAccessor> {
    let refuse = |why: &str| InvalidAccessor(format!("repository {:?} {why}", input.trim_ascii()));
    // 1. Trim ASCII whitespace; 1-512 characters.
    let raw = input.trim_ascii();
    if raw.is_empty() {
        return Err(InvalidAccessor("repository must not be empty".into()));
    }
    if raw.len() > 512 {
        return Err(InvalidAccessor(
            "repository longer than 512 characters".into(),
        ));
    }
    // 2. ASCII lower case.
    let lower = raw.to_ascii_lowercase();
    // 3. Local repositories (development and tests) keep their scheme: they
    // name a path, not a host.
    if lower.starts_with("file://") {
        let path = lower.trim_end_matches('/');
        return Ok(path.strip_suffix(".git").unwrap_or(path).to_owned());
    }
    // 4. One scheme.
    let mut had_scheme = false;
    let mut rest = lower.as_str();
    for scheme in ["https://", "http://", "ssh://", "git://", "git+ssh://"] {
        if let Some(stripped) = rest.strip_prefix(scheme) {
            rest = stripped;
            had_scheme = true;
            break;
        }
    }
    // The authority is what comes before the first `/`.
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    // 5. Credentials (`user@`, `user:token@`): up to the authority's last `@`.
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    // 6. A `:` in the authority: a port after a scheme (digits, dropped), or
    // the scp form `host:owner/name` without one.
    let joined = match authority.split_once(':') {
        Some((host, port)) if had_scheme => {
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(refuse("has a port that is not a number"));
            }
            format!("{host}/{path}")
        }
        Some((host, scp_path)) => format!("{host}/{scp_path}/{path}"),
        None => format!("{authority}/{path}"),
    };
    // 7. Trailing slashes, one `.git`, trailing slashes again.
    let trimmed = joined.trim_end_matches('/');
    let trimmed = trimmed
        .strip_suffix(".git")
        .unwrap_or(trimmed)
        .trim_end_matches('/');
    // 8. A leading `www.`.
    let trimmed = trimmed.strip_prefix("www.").unwrap_or(trimmed);
    // 9. No host (a first segment without a dot) means GitHub.
    let has_host = trimmed.split('/').next().is_some_and(|s| s.contains('.'));
    let repo = if has_host {
        trimmed.to_owned()
    } else {
        format!("github.com/{trimmed}")
    };
    // 10. At least host/owner/name, each segment of [a-z0-9._-], not `.`/`..`.
    let valid_segment = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    let segments: Vec<&str> = repo.split('/').collect();
    if segments.len() < 3 || !segments.iter().all(|s| valid_segment(s)) {
        return Err(InvalidAccessor(format!(
            "repository {raw:?} is not of the form host/owner/name"
        )));
    }
    Ok(repo)
}

/// Compares an account's balance with a threshold.
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
pub enum ComparisonOperator {
    Gte,
    Lte,
    Gt,
    Lt,
    Eq,
    Ne,
}

impl ComparisonOperator {
    pub fn compare(self, actual: u128, threshold: u128) -> bool {
        match self {
            Self::Gte => actual >= threshold,
            Self::Lte => actual <= threshold,
            Self::Gt => actual > threshold,
            Self::Lt => actual < threshold,
            Self::Eq => actual == threshold,
            Self::Ne => actual != threshold,
        }
    }
}

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
pub enum LogicOperator {
    And,
    Or,
}

/// Who may have a stored secret decrypted for their request. The contract
/// stores and validates these; the keystore evaluates them against chain
/// state for the request's sender.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub enum AccessCondition {
    AllowAll,
    Whitelist {
        accounts: Vec<AccountId>,
    },
    /// A regular expression, matched against the whole account id.
    AccountPattern {
        pattern: String,
    },
    NearBalance {
        operator: ComparisonOperator,
        value: U128,
    },
    FtBalance {
        contract: AccountId,
        operator: ComparisonOperator,
        value: U128,
    },
    NftOwned {
        contract: AccountId,
        #[serde(default)]
        token_id: Option<String>,
    },
    Logic {
        operator: LogicOperator,
        conditions: Vec<AccessCondition>,
    },
    Not {
        condition: Box<AccessCondition>,
    },
}

/// A stored secrets profile as the contract's `get_secrets` view returns it;
/// the keystore reads it before deciding whether to decrypt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretsRecord {
    pub accessor: Accessor,
    pub profile: String,
    pub owner: AccountId,
    /// The ECIES blob (see the keystore's crypto spec), base64.
    pub encrypted_secrets_base64: String,
    pub access: AccessCondition,
    /// Storage staked for this record, refunded on delete.
    pub storage_deposit: U128,
    /// Block timestamps (ns).
    pub created_at: u64,
    pub updated_at: u64,
}
