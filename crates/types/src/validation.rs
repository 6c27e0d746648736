//! Checks on user input that the contract refuses up front and the services
//! repeat: profile names, access conditions, code sources. One definition,
//! so a value the contract accepted is never refused later for its shape.

use crate::{AccessCondition, CodeSource, normalize_repo};

/// Why a value is malformed: a short message naming the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError(pub String);

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ValidationError {}

fn invalid<T>(message: impl Into<String>) -> Result<T, ValidationError> {
    Err(ValidationError(message.into()))
}

/// Longest secrets profile name.
pub const MAX_PROFILE_NAME_LEN: usize = 64;

/// A secrets profile name: 1–64 of `[A-Za-z0-9_-]`.
pub fn check_profile_name(name: &str) -> Result<(), ValidationError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_PROFILE_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid {
        return invalid(format!(
            "profile name {name:?} must be 1-{MAX_PROFILE_NAME_LEN} characters of [A-Za-z0-9_-]"
        ));
    }
    Ok(())
}

impl AccessCondition {
    /// Deepest nesting of `Logic` and `Not` accepted.
    pub const MAX_DEPTH: usize = 8;
    /// Most conditions in one tree, counting every node.
    pub const MAX_CONDITIONS: usize = 64;
    /// Most accounts across all whitelists of one tree.
    pub const MAX_ACCOUNTS: usize = 256;
    /// Longest account pattern or NFT token id.
    pub const MAX_TEXT_LEN: usize = 256;

    /// Bounded depth and size, so the keystore's evaluation is bounded too.
    /// Regular expressions are compiled (and refused) by the keystore; here
    /// a pattern only has to be non-empty and short.
    pub fn validate(&self) -> Result<(), ValidationError> {
        self.validate_at(1, &mut Totals::default())
    }

    fn validate_at(&self, depth: usize, totals: &mut Totals) -> Result<(), ValidationError> {
        if depth > Self::MAX_DEPTH {
            return invalid(format!(
                "access condition nested deeper than {}",
                Self::MAX_DEPTH
            ));
        }
        totals.conditions += 1;
        if totals.conditions > Self::MAX_CONDITIONS {
            return invalid(format!(
                "access condition has more than {} conditions",
                Self::MAX_CONDITIONS
            ));
        }
        let text_ok = |s: &str| !s.is_empty() && s.len() <= Self::MAX_TEXT_LEN;
        match self {
            Self::AllowAll | Self::NearBalance { .. } | Self::FtBalance { .. } => {}
            Self::Whitelist { accounts: list } => {
                if list.is_empty() {
                    return invalid("Whitelist needs at least one account");
                }
                totals.accounts += list.len();
                if totals.accounts > Self::MAX_ACCOUNTS {
                    return invalid(format!(
                        "access condition lists more than {} accounts",
                        Self::MAX_ACCOUNTS
                    ));
                }
            }
            Self::AccountPattern { pattern } => {
                if !text_ok(pattern) {
                    return invalid(format!(
                        "AccountPattern pattern must be 1-{} bytes",
                        Self::MAX_TEXT_LEN
                    ));
                }
            }
            Self::NftOwned { token_id, .. } => {
                if token_id.as_deref().is_some_and(|t| !text_ok(t)) {
                    return invalid(format!(
                        "NftOwned token_id must be 1-{} bytes",
                        Self::MAX_TEXT_LEN
                    ));
                }
            }
            Self::Logic {
                conditions: list, ..
            } => {
                if list.is_empty() {
                    return invalid("Logic needs at least one condition");
                }
                for condition in list {
                    condition.validate_at(depth + 1, totals)?;
                }
            }
            Self::Not { condition } => condition.validate_at(depth + 1, totals)?,
        }
        Ok(())
    }
}

/// Running counts while validating one condition tree.
#[derive(Default)]
struct Totals {
    conditions: usize,
    accounts: usize,
}

/// Longest commit, branch or tag name in a `GitHub` source.
pub const MAX_COMMIT_LEN: usize = 255;
/// Longest `WasmUrl` URL.
pub const MAX_URL_LEN: usize = 2048;

/// Longest package path in a `GitPackage` source.
pub const MAX_PACKAGE_PATH_LEN: usize = 255;

/// A package path: relative, `/`-separated segments of letters, digits, `-`,
/// `_` and `.`, none of them `.` or `..`.
fn check_package_path(path: &str) -> Result<(), ValidationError> {
    let segment_ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    if path.is_empty() || path.len() > MAX_PACKAGE_PATH_LEN || !path.split('/').all(segment_ok) {
        return invalid(format!(
            "path must be a relative path inside the repository (1-{MAX_PACKAGE_PATH_LEN} characters, no `..`)"
        ));
    }
    Ok(())
}

/// A source's `commit`: a full commit hash, or a branch or tag name by
/// git's ref-name rules (roughly) and nothing git could read as an option.
/// The contract, the CLI and the builder all check with this one rule, so a
/// request the contract accepts names something the builder can look up.
pub fn check_commit_name(name: &str) -> Result<(), ValidationError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_COMMIT_LEN
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("@{")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./+".contains(&b));
    if valid {
        Ok(())
    } else {
        invalid(format!(
            "commit {name:?} is neither a full commit hash nor a branch or tag name \
             (1-{MAX_COMMIT_LEN} of A-Z a-z 0-9 - _ . / +, not starting with - / or .)"
        ))
    }
}

impl CodeSource {
    /// A repository that normalises, a commit or ref name, a URL
    /// with an http(s) scheme, a SHA-256 hash in hex.
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            Self::GitHub { repo, commit, .. } => {
                normalize_repo(repo).map_err(|e| ValidationError(e.0))?;
                check_commit_name(commit)?;
            }
            Self::GitPackage {
                repo, commit, path, ..
            } => {
                Self::GitHub {
                    repo: repo.clone(),
                    commit: commit.clone(),
                    build_target: self.build_target(),
                }
                .validate()?;
                check_package_path(path)?;
            }
            Self::WasmUrl { url, hash, .. } => {
                let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
                let bad_char = url.chars().any(|c| c.is_whitespace() || c.is_control());
                if !scheme_ok || url.len() > MAX_URL_LEN || bad_char {
                    return invalid(format!(
                        "url must be an http(s) URL of at most {MAX_URL_LEN} bytes"
                    ));
                }
                if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return invalid("hash must be 64 hex digits (SHA-256)");
                }
            }
            Self::GitScript { repo, commit, path } => {
                Self::GitHub {
                    repo: repo.clone(),
                    commit: commit.clone(),
                    build_target: self.build_target(),
                }
                .validate()?;
                check_package_path(path)?;
                if !(path.ends_with(".js") || path.ends_with(".mjs")) {
                    return invalid("path must name a .js or .mjs file");
                }
            }
            Self::JavaScript { code } => {
                let size = crate::limits::json_string_len(code);
                let max = crate::limits::MAX_INLINE_SCRIPT_BYTES;
                if code.trim().is_empty() {
                    return invalid("code must not be empty");
                }
                if size > max {
                    return invalid(format!(
                        "code takes {size} bytes as a JSON string, above the cap {max}; put larger scripts in a repository"
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BuildTarget;

    #[test]
    fn a_commit_is_a_hash_or_a_ref_name_git_cannot_read_as_an_option() {
        for good in ["main", "v1.2.3", "feature/x", "release+1", &"a".repeat(40)] {
            check_commit_name(good).unwrap();
        }
        let too_long = "a".repeat(MAX_COMMIT_LEN + 1);
        for bad in [
            "",
            "-x",
            "--upload-pack=evil",
            ".hidden",
            "/abs",
            "a..b",
            "a//b",
            "x@{1}",
            "x.lock",
            "x/",
            "has space",
            "tab\t",
            "ünï",
            &too_long,
        ] {
            assert!(check_commit_name(bad).is_err(), "{bad:?}");
            let source = CodeSource::GitHub {
                repo: "github.com/alice/app".into(),
                commit: bad.into(),
                build_target: BuildTarget::Wasip1,
            };
            assert!(source.validate().is_err(), "{bad:?}");
        }
    }
}
