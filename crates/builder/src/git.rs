//! Fetching the user's repository with the git command line: which
//! addresses are allowed, branch and tag resolution, and a checkout of
//! exactly one commit.
//!
//! git runs outside the sandbox (it needs the network) but with everything
//! that could run code or use the operator's identity turned off: no hooks,
//! no system or global configuration (so no credential helpers, no
//! `url.insteadOf`, no LFS filters), no credential prompts, no submodules,
//! and only the https (and, in development, file) protocols. Symbolic links
//! are checked out as plain files holding the link text, so a repository
//! cannot point `Cargo.toml` (or anything cargo reads on the host) at a host
//! file.

use std::path::{Path, PathBuf};

use tokio::process::Command;

use crate::error::{BuildError, Stage};
use crate::process::{self, Deadline, RunError};

/// The URL git fetches for `repo`: `https://…` as given, `file://…` only
/// when `allow_file` (development), and the normalised `host/owner/name`
/// form (what `outlayer_types::normalize_repo` produces) as `https://`.
pub(crate) fn repo_url(repo: &str, allow_file: bool) -> Result<String, BuildError> {
    let refuse = |reason: &str| BuildError::RepoRefused {
        reason: reason.to_owned(),
    };
    let repo = repo.trim();
    if repo.is_empty() || repo.len() > 1024 {
        return Err(refuse("repository address is empty or too long"));
    }
    if repo.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(refuse("repository address contains whitespace"));
    }
    let lower = repo.to_ascii_lowercase();
    if lower.starts_with("https://") {
        if repo.len() == "https://".len() {
            return Err(refuse("repository address has no host"));
        }
        return Ok(repo.to_owned());
    }
    if lower.starts_with("file://") {
        return if allow_file {
            Ok(repo.to_owned())
        } else {
            Err(refuse("file:// repositories are built only in development"))
        };
    }
    if repo.contains("://") || repo.contains('@') || repo.contains(':') || repo.starts_with('-') {
        return Err(refuse("only https:// repositories are built"));
    }
    // `host/owner/name`: the host has a dot, every segment is plain.
    let segments: Vec<&str> = repo.split('/').collect();
    let plain = |s: &&str| {
        !s.is_empty()
            && *s != "."
            && *s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    if segments.len() < 3 || !segments[0].contains('.') || !segments.iter().all(plain) {
        return Err(refuse("repository must be https://… or host/owner/name"));
    }
    Ok(format!("https://{repo}"))
}

/// Branch and tag names we look up: the contract's rule for a source's
/// commit (`outlayer_types::check_commit_name`).
fn check_ref_name(name: &str) -> Result<(), BuildError> {
    outlayer_types::check_commit_name(name).map_err(|e| BuildError::InvalidSource(e.0))
}

/// The git command line with our fixed settings.
pub(crate) struct Git {
    program: PathBuf,
    allow_file: bool,
}

impl Git {
    pub(crate) fn new(program: PathBuf, allow_file: bool) -> Self {
        Self {
            program,
            allow_file,
        }
    }

    fn command(&self, dir: Option<&Path>) -> Command {
        let mut command = Command::new(&self.program);
        command.env_clear();
        command.env("PATH", crate::toolchain::HOST_PATH);
        // No home: nothing reads ~/.gitconfig, ~/.netrc or ~/.git-credentials.
        command.env("HOME", "/nonexistent");
        command.env("GIT_CONFIG_NOSYSTEM", "1");
        command.env("GIT_CONFIG_GLOBAL", "/dev/null");
        command.env("GIT_TERMINAL_PROMPT", "0");
        command.env("GIT_ASKPASS", "/bin/false");
        command.env("SSH_ASKPASS", "/bin/false");
        command.env("GCM_INTERACTIVE", "never");
        command.env("GIT_LFS_SKIP_SMUDGE", "1");
        command.env("LC_ALL", "C");
        process::network_env(&mut command);
        if let Some(dir) = dir {
            command.arg("-C").arg(dir);
        }
        command.args([
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "core.symlinks=false",
            "-c",
            "core.fsmonitor=false",
            "-c",
            "credential.helper=",
            "-c",
            "submodule.recurse=false",
            "-c",
            "fetch.recurseSubmodules=false",
            "-c",
            "protocol.allow=never",
            "-c",
            "protocol.https.allow=always",
        ]);
        if self.allow_file {
            command.args(["-c", "protocol.file.allow=always"]);
        }
        command
    }

    /// The commit `name` (a branch, a tag, `HEAD`, or a full ref) names in
    /// the repository now. Branches win over tags of the same name, as in
    /// git; annotated tags give the commit they point at.
    pub(crate) async fn ls_remote(
        &self,
        url: &str,
        name: &str,
        deadline: Deadline,
    ) -> Result<String, BuildError> {
        check_ref_name(name)?;
        let candidates: Vec<String> = if name == "HEAD" || name.starts_with("refs/") {
            vec![name.to_owned()]
        } else {
            vec![format!("refs/heads/{name}"), format!("refs/tags/{name}")]
        };
        let mut command = self.command(None);
        command.args(["ls-remote", "--", url]);
        for candidate in &candidates {
            command.arg(candidate);
            if candidate.starts_with("refs/tags/") {
                command.arg(format!("{candidate}^{{}}"));
            }
        }
        let output = self.run(command, deadline, "git ls-remote").await?;
        let listing = String::from_utf8_lossy(&output);
        let lookup = |wanted: &str| {
            listing.lines().find_map(|line| {
                let (commit, reference) = line.split_once('\t')?;
                (reference == wanted).then(|| commit.to_owned())
            })
        };
        for candidate in &candidates {
            // A peeled annotated tag first: the tag object itself is not a
            // commit.
            let found = lookup(&format!("{candidate}^{{}}")).or_else(|| lookup(candidate));
            if let Some(commit) = found
                && outlayer_types::is_commit_hash(&commit)
            {
                return Ok(commit.to_ascii_lowercase());
            }
        }
        Err(BuildError::UnknownRevision {
            name: name.to_owned(),
        })
    }

    /// Checks out exactly `commit` of `url` into `dir` (created here).
    ///
    /// A shallow fetch of the commit alone where the server allows fetching
    /// by hash (GitHub does); otherwise every branch and tag, hoping one
    /// reaches the commit.
    pub(crate) async fn checkout(
        &self,
        url: &str,
        commit: &str,
        dir: &Path,
        deadline: Deadline,
    ) -> Result<(), BuildError> {
        let mut init = self.command(None);
        // An empty template: no sample hooks, nothing copied from the host.
        init.args(["init", "--quiet", "--template=", "--"]).arg(dir);
        self.run(init, deadline, "git init").await?;

        let mut shallow = self.command(Some(dir));
        shallow.args([
            "fetch",
            "--quiet",
            "--depth=1",
            "--no-tags",
            "--no-recurse-submodules",
            "--",
            url,
            commit,
        ]);
        let fetched_by_hash = match self.run(shallow, deadline, "git fetch").await {
            Ok(_) => true,
            Err(error @ (BuildError::RepoUnavailable { .. } | BuildError::Timeout { .. })) => {
                return Err(error);
            }
            Err(error) => {
                tracing::debug!(%error, "fetching the commit by hash failed; fetching all refs");
                false
            }
        };
        if !fetched_by_hash {
            let mut full = self.command(Some(dir));
            full.args([
                "fetch",
                "--quiet",
                "--no-recurse-submodules",
                "--",
                url,
                "+refs/heads/*:refs/remotes/origin/*",
                "+refs/tags/*:refs/tags/*",
            ]);
            self.run(full, deadline, "git fetch").await?;
            let mut exists = self.command(Some(dir));
            exists.args(["cat-file", "-e", &format!("{commit}^{{commit}}")]);
            if self.run(exists, deadline, "git cat-file").await.is_err() {
                return Err(BuildError::CommitNotFound {
                    commit: commit.to_owned(),
                });
            }
        }
        let mut checkout = self.command(Some(dir));
        checkout.args(["checkout", "--quiet", "--detach", commit, "--"]);
        self.run(checkout, deadline, "git checkout").await?;

        let mut head = self.command(Some(dir));
        head.args(["rev-parse", "--verify", "HEAD^{commit}"]);
        let head = self.run(head, deadline, "git rev-parse").await?;
        let head = String::from_utf8_lossy(&head).trim().to_ascii_lowercase();
        if head != commit.to_ascii_lowercase() {
            return Err(BuildError::Git {
                detail: format!("checked out {head}, expected {commit}"),
            });
        }
        Ok(())
    }

    /// Runs a git command; its stdout on success, a classified error
    /// otherwise.
    async fn run(
        &self,
        command: Command,
        deadline: Deadline,
        what: &str,
    ) -> Result<Vec<u8>, BuildError> {
        match process::run(command, deadline.at, 1 << 20).await {
            Ok(finished) if finished.status.success() => Ok(finished.stdout),
            Ok(finished) => Err(classify(what, &finished.stderr.text())),
            Err(RunError::Spawn(error)) => Err(BuildError::ToolMissing {
                tool: "git",
                detail: error.to_string(),
            }),
            Err(RunError::TimedOut(log)) => Err(deadline.timed_out(Stage::Checkout, &log)),
        }
    }
}

/// Whose fault a failed git command is, from what git said: a repository
/// that does not exist (or is private, which looks the same from outside) or
/// a commit it does not have is the user's; anything else (network, disk)
/// is ours.
fn classify(what: &str, stderr: &str) -> BuildError {
    let lower = stderr.to_ascii_lowercase();
    let first = stderr
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("no output");
    let repo_missing = [
        "repository not found",
        "' not found",
        "does not appear to be a git repository",
        "authentication failed",
        "could not read username",
        "terminal prompts disabled",
        "returned error: 401",
        "returned error: 403",
        "returned error: 404",
    ];
    if repo_missing.iter().any(|needle| lower.contains(needle)) && !lower.contains("not our ref") {
        return BuildError::RepoUnavailable {
            detail: format!("{what}: {first}"),
        };
    }
    BuildError::Git {
        detail: format!("{what}: {first}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_addresses() {
        let ok = |repo: &str, allow: bool| repo_url(repo, allow).unwrap();
        assert_eq!(
            ok("github.com/alice/app", false),
            "https://github.com/alice/app"
        );
        assert_eq!(
            ok("https://github.com/alice/app.git", false),
            "https://github.com/alice/app.git"
        );
        assert_eq!(ok("file:///tmp/repo", true), "file:///tmp/repo");
        for refused in [
            "file:///tmp/repo",
            "http://github.com/alice/app",
            "ssh://git@github.com/alice/app",
            "git://github.com/alice/app",
            "git@github.com:alice/app",
            "alice/app",
            "-uhttps://x/y/z",
            "github.com/alice/../app",
            "https://github.com/a b/c",
        ] {
            let error = repo_url(refused, false).unwrap_err();
            assert!(
                matches!(error, BuildError::RepoRefused { .. }),
                "{refused}: {error}"
            );
            assert!(error.is_user_error());
        }
    }

    #[test]
    fn ref_names() {
        for good in ["main", "release/1.2", "v1.0.0", "feature_x-y"] {
            check_ref_name(good).unwrap();
        }
        for bad in [
            "",
            "-x",
            "--upload-pack=evil",
            "a..b",
            "x.lock",
            "a b",
            "/x",
            "a@{1}",
        ] {
            assert!(check_ref_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn classification() {
        assert!(classify("git fetch", "fatal: repository 'x' not found").is_user_error());
        assert!(
            !classify(
                "git fetch",
                "fatal: unable to access 'x': Could not resolve host: github.com"
            )
            .is_user_error()
        );
        assert!(
            !classify(
                "git fetch",
                "fatal: remote error: upload-pack: not our ref 0123"
            )
            .is_user_error()
        );
    }
}
