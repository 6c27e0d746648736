//! Builds untrusted repositories into WebAssembly, contained.
//!
//! A [`Builder`] turns a [`CodeSource`] into an [`Artifact`]:
//! - `GitHub` / `GitPackage`: [`Builder::resolve`] pins a branch or tag to
//!   its commit; [`Builder::build`] checks that commit out with git, fetches
//!   the dependencies with `cargo fetch --locked` (network, no build scripts),
//!   then runs `cargo build --offline --locked --release` in a bubblewrap
//!   sandbox with no network, a read-only host, one size-bounded writable
//!   directory, resource limits and the paid-for deadline (see
//!   `sandbox.rs` for exactly what the build can see and do);
//! - `WasmUrl`: downloads the binary and checks its SHA-256.
//!
//! Either way the binary must be a core module for `wasm32-wasip1` or a
//! component for `wasm32-wasip2`, within `max_artifact_bytes`.
//!
//! Failures are [`BuildError`]s that say whose fault they are
//! ([`BuildError::is_user_error`]) and what the caller may be told
//! ([`BuildError::summary`]).

mod cargo;
mod download;
mod error;
mod git;
mod process;
mod sandbox;
mod toolchain;
mod wasm;

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use outlayer_types::{BuildTarget, CodeSource, is_commit_hash};

pub use error::{BuildError, SUMMARY_MAX_BYTES, Stage};

use cargo::{BuildPaths, Redactor};
use git::Git;
use process::Deadline;
use sandbox::Dirs;
use toolchain::Tools;

/// How long a resolved branch or tag is trusted before asking again.
pub const RESOLVE_TTL: Duration = Duration::from_secs(30);
/// How long `git ls-remote` may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(60);

/// Where builds happen and what each may use.
#[derive(Clone, Debug)]
pub struct BuildSettings {
    /// Checkouts and build directories live under it (one per build,
    /// removed afterwards).
    pub work_dir: PathBuf,
    /// Registry cache: `cargo fetch` fills it; mounted read-only in the
    /// sandbox (only its `registry`, `git` and `config.toml`).
    pub cargo_home: PathBuf,
    /// `file://` repositories (and plain-http downloads from loopback), only
    /// in development.
    pub allow_file_repos: bool,
    /// bubblewrap on. `false` runs untrusted build scripts with the worker's
    /// own privileges: explicit development use only (logs a loud warning).
    pub sandbox: bool,
    /// Address space of each build process (RLIMIT_AS): cargo, every rustc
    /// and build script.
    pub max_memory_bytes: u64,
    /// The build's writable tmpfs (target dir, home, tmp); also the largest
    /// checkout accepted.
    pub max_disk_bytes: u64,
    /// Largest wasm accepted.
    pub max_artifact_bytes: u64,
    /// `WasmUrl` downloads (also bounded by the build's own timeout).
    pub download_timeout: Duration,
}

impl Default for BuildSettings {
    fn default() -> Self {
        Self {
            work_dir: std::env::temp_dir().join("outlayer-builds"),
            cargo_home: default_cargo_home(),
            allow_file_repos: false,
            sandbox: true,
            max_memory_bytes: 4 << 30,
            max_disk_bytes: 2 << 30,
            max_artifact_bytes: 32 << 20,
            download_timeout: Duration::from_secs(60),
        }
    }
}

/// `$CARGO_HOME`, else `~/.cargo`.
fn default_cargo_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CARGO_HOME").filter(|v| !v.is_empty()) {
        return home.into();
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/nonexistent".into());
    PathBuf::from(home).join(".cargo")
}

/// A built (or downloaded and verified) program.
#[derive(Clone)]
pub struct Artifact {
    pub wasm: Vec<u8>,
    /// SHA-256 of `wasm`, lower-case hex.
    pub sha256: String,
    /// Wall-clock time of the whole build (checkout, fetch, compile) or
    /// download.
    pub compile_time_ms: u64,
    /// The last ~8 KiB of the build log, for operators.
    pub log_tail: String,
}

impl std::fmt::Debug for Artifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Artifact")
            .field("wasm_bytes", &self.wasm.len())
            .field("sha256", &self.sha256)
            .field("compile_time_ms", &self.compile_time_ms)
            .finish_non_exhaustive()
    }
}

/// Builds sources; one per worker, shared by concurrent builds.
pub struct Builder {
    settings: BuildSettings,
    tools: Tools,
    git: Git,
    http: reqwest::Client,
    /// `(repository URL, branch or tag)` → (commit, when resolved).
    resolved: Mutex<HashMap<(String, String), (String, std::time::Instant)>>,
}

impl Builder {
    /// Checks git, cargo, prlimit (and bwrap, by starting one empty sandbox,
    /// when the sandbox is on) are present and work: clear error otherwise.
    pub fn new(settings: BuildSettings) -> Result<Self, BuildError> {
        let tools = Tools::discover(settings.sandbox)?;
        std::fs::create_dir_all(&settings.work_dir).map_err(|error| {
            BuildError::io(
                format!("creating the work dir {}", settings.work_dir.display()),
                error,
            )
        })?;
        if settings.sandbox {
            probe_sandbox(&tools, &settings)?;
        } else {
            tracing::warn!(
                "BUILD SANDBOX DISABLED: untrusted build scripts and proc macros will run \
                 with this process's privileges, network and files. Development only."
            );
        }
        for target in [BuildTarget::Wasip1, BuildTarget::Wasip2] {
            if !tools.has_target(target) {
                tracing::warn!(
                    target = target.as_str(),
                    "the Rust toolchain lacks this target (rustup target add); its builds will fail"
                );
            }
        }
        let git = Git::new(tools.git.clone(), settings.allow_file_repos);
        let http = download::client(settings.allow_file_repos)?;
        Ok(Self {
            settings,
            tools,
            git,
            http,
            resolved: Mutex::new(HashMap::new()),
        })
    }

    /// A GitHub/GitPackage source whose `commit` is a branch or tag is
    /// resolved to the commit it names now (`git ls-remote`), cached for
    /// 30 s; a full commit hash and WasmUrl sources come back unchanged.
    pub async fn resolve(&self, source: &CodeSource) -> Result<CodeSource, BuildError> {
        let (Some(repo), Some(name)) = (source.repo(), source.commit()) else {
            return Ok(source.clone());
        };
        if is_commit_hash(name) {
            return Ok(source.clone());
        }
        let url = git::repo_url(repo, self.settings.allow_file_repos)?;
        let key = (url, name.to_owned());
        if let Some(commit) = self.cached(&key) {
            return Ok(source.with_commit(&commit));
        }
        let commit = self
            .git
            .ls_remote(&key.0, name, Deadline::after(RESOLVE_TIMEOUT))
            .await?;
        tracing::debug!(repo = %key.0, name, %commit, "resolved");
        let mut resolved = self.lock_resolved();
        resolved.retain(|_, (_, at)| at.elapsed() < RESOLVE_TTL);
        resolved.insert(key, (commit.clone(), std::time::Instant::now()));
        Ok(source.with_commit(&commit))
    }

    /// Forgets every resolved branch and tag (tests; an operator who knows
    /// a branch moved).
    pub fn clear_resolve_cache(&self) {
        self.lock_resolved().clear();
    }

    fn cached(&self, key: &(String, String)) -> Option<String> {
        let resolved = self.lock_resolved();
        let (commit, at) = resolved.get(key)?;
        (at.elapsed() < RESOLVE_TTL).then(|| commit.clone())
    }

    fn lock_resolved(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(String, String), (String, std::time::Instant)>> {
        self.resolved
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Builds a resolved source (or downloads+verifies a WasmUrl) within
    /// `timeout` (the request's paid max_compile_seconds).
    pub async fn build(
        &self,
        source: &CodeSource,
        timeout: Duration,
    ) -> Result<Artifact, BuildError> {
        let started = std::time::Instant::now();
        let deadline = Deadline::after(timeout);
        let target = source.build_target();
        let result = match source {
            CodeSource::WasmUrl { url, hash, .. } => download::download(
                &self.http,
                url,
                hash,
                self.settings.allow_file_repos,
                self.settings.max_artifact_bytes,
                self.settings.download_timeout.min(timeout),
            )
            .await
            .map(|wasm| (wasm, String::new())),
            CodeSource::GitHub { repo, commit, .. } => {
                self.build_git(repo, commit, None, target, deadline).await
            }
            CodeSource::GitPackage {
                repo, commit, path, ..
            } => {
                self.build_git(repo, commit, Some(path), target, deadline)
                    .await
            }
            CodeSource::JavaScript { .. } | CodeSource::GitScript { .. } => {
                Err(BuildError::InvalidSource(
                    "JavaScript runs on the workers' engine: there is nothing to build".into(),
                ))
            }
        };
        let checked = result.and_then(|(wasm, log)| {
            wasm::check(&wasm, target, self.settings.max_artifact_bytes)?;
            Ok((wasm, log))
        });
        let compile_time_ms = started.elapsed().as_millis() as u64;
        match checked {
            Ok((wasm, log_tail)) => {
                let sha256 = wasm::sha256_hex(&wasm);
                tracing::info!(
                    source = %source.artifact_checksum(),
                    %sha256,
                    bytes = wasm.len(),
                    compile_time_ms,
                    "build finished"
                );
                Ok(Artifact {
                    wasm,
                    sha256,
                    compile_time_ms,
                    log_tail,
                })
            }
            Err(error) => {
                tracing::info!(
                    source = %source.artifact_checksum(),
                    %error,
                    user_error = error.is_user_error(),
                    compile_time_ms,
                    "build failed"
                );
                Err(error)
            }
        }
    }

    /// The JavaScript file of a resolved `GitScript` source: checked out
    /// as a build's source is (no hooks, submodules or symlinks), at most
    /// [`MAX_SCRIPT_BYTES`], UTF-8, within `timeout`.
    pub async fn fetch_script(
        &self,
        source: &CodeSource,
        timeout: Duration,
    ) -> Result<String, BuildError> {
        let CodeSource::GitScript { repo, commit, path } = source else {
            return Err(BuildError::InvalidSource(
                "not a JavaScript file in a repository".into(),
            ));
        };
        let url = git::repo_url(repo, self.settings.allow_file_repos)?;
        if !is_commit_hash(commit) {
            return Err(BuildError::Unresolved {
                commit: commit.to_owned(),
            });
        }
        let relative = package_path(path)?;
        let dir = tempfile::Builder::new()
            .prefix("script-")
            .tempdir_in(&self.settings.work_dir)
            .map_err(|error| BuildError::io("creating a checkout directory", error))?;
        let src = dir.path().join("src");
        let checked_out = self
            .git
            .checkout(&url, commit, &src, Deadline::after(timeout))
            .await;
        let result = checked_out.and_then(|()| read_script(&src.join(&relative), path));
        let _ = tokio::task::spawn_blocking(move || drop(dir)).await;
        result
    }

    async fn build_git(
        &self,
        repo: &str,
        commit: &str,
        path: Option<&str>,
        target: BuildTarget,
        deadline: Deadline,
    ) -> Result<(Vec<u8>, String), BuildError> {
        let url = git::repo_url(repo, self.settings.allow_file_repos)?;
        if !is_commit_hash(commit) {
            return Err(BuildError::Unresolved {
                commit: commit.to_owned(),
            });
        }
        let package = match path {
            Some(path) => package_path(path)?,
            None => PathBuf::new(),
        };
        if !self.tools.has_target(target) {
            return Err(BuildError::ToolMissing {
                tool: "rust target",
                detail: format!(
                    "the toolchain lacks {} (rustup target add)",
                    target.as_str()
                ),
            });
        }
        let build_dir = tempfile::Builder::new()
            .prefix("build-")
            .tempdir_in(&self.settings.work_dir)
            .map_err(|error| BuildError::io("creating a build directory", error))?;
        let result = self
            .build_in(build_dir.path(), &url, commit, &package, target, deadline)
            .await;
        // Removing a checkout (and, unsandboxed, a target dir) blocks.
        let _ = tokio::task::spawn_blocking(move || drop(build_dir)).await;
        result
    }

    async fn build_in(
        &self,
        build_dir: &Path,
        url: &str,
        commit: &str,
        package: &Path,
        target: BuildTarget,
        deadline: Deadline,
    ) -> Result<(Vec<u8>, String), BuildError> {
        let settings = &self.settings;
        let src = build_dir.join("src");
        self.git.checkout(url, commit, &src, deadline).await?;

        let size = {
            let src = src.clone();
            tokio::task::spawn_blocking(move || dir_size(&src))
                .await
                .map_err(|error| BuildError::io("measuring the checkout", error.into()))?
                .map_err(|error| BuildError::io("measuring the checkout", error))?
        };
        if size > settings.max_disk_bytes {
            return Err(BuildError::RepoTooLarge {
                limit: settings.max_disk_bytes,
            });
        }
        let manifest = src.join(package).join("Cargo.toml");
        if !manifest.is_file() {
            return Err(BuildError::NoManifest {
                path: match package.as_os_str().is_empty() {
                    true => ".".to_owned(),
                    false => package.display().to_string(),
                },
            });
        }
        if !has_lockfile(&src, package) {
            return Err(BuildError::MissingLockfile);
        }

        let dirs = Dirs::for_build(settings, build_dir);
        let redactor = Redactor::new(
            &[&src, &dirs.src],
            &[
                (&dirs.target, "target"),
                (&dirs.cargo_home, "$CARGO_HOME"),
                (&settings.cargo_home, "$CARGO_HOME"),
                (&self.tools.sysroot, "<rust>"),
                (&settings.work_dir, "<work>"),
            ],
        );
        cargo::fetch(
            &self.tools.cargo(),
            &self.tools.build_path(),
            &settings.cargo_home,
            build_dir,
            &manifest,
            [target.as_str(), &self.tools.host_triple],
            deadline,
            &redactor,
        )
        .await?;

        if !settings.sandbox {
            tracing::warn!("building WITHOUT the sandbox (development only)");
            for dir in [&dirs.target, &dirs.home, &dirs.tmp] {
                std::fs::create_dir_all(dir)
                    .map_err(|error| BuildError::io("creating build directories", error))?;
            }
        }
        let manifest_inside = dirs.src.join(package).join("Cargo.toml");
        let argv = cargo::build_argv(&self.tools.sh, &manifest_inside, target);
        let spec = sandbox::command(&self.tools, settings, build_dir, &dirs, package, &argv);
        let built = cargo::build(
            spec.tokio(),
            BuildPaths {
                manifest: &manifest_inside,
                target_dir: &dirs.target,
            },
            deadline,
            settings.max_artifact_bytes,
            &redactor,
        )
        .await?;
        Ok((built.wasm, built.log))
    }
}

/// Starts one empty sandbox, so a machine that cannot create namespaces
/// (or lacks a mount the build needs) fails at start-up, not per build.
fn probe_sandbox(tools: &Tools, settings: &BuildSettings) -> Result<(), BuildError> {
    let probe = tempfile::Builder::new()
        .prefix("probe-")
        .tempdir_in(&settings.work_dir)
        .map_err(|error| BuildError::io("creating the sandbox probe dir", error))?;
    std::fs::create_dir(probe.path().join("src"))
        .map_err(|error| BuildError::io("creating the sandbox probe dir", error))?;
    let argv = [
        tools.sh.clone().into(),
        "-c".into(),
        // The toolchain must be visible and runnable inside.
        "exec cargo --version".into(),
    ];
    let dirs = Dirs::for_build(settings, probe.path());
    let spec = sandbox::command(tools, settings, probe.path(), &dirs, Path::new(""), &argv);
    let output = spec
        .std()
        .output()
        .map_err(|error| BuildError::ToolMissing {
            tool: "bwrap",
            detail: error.to_string(),
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(BuildError::Sandbox {
        detail: format!(
            "bubblewrap cannot start a sandbox here ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        log: String::new(),
    })
}

/// A `GitPackage` path: relative, plain components, inside the repository.
/// Largest JavaScript file a `GitScript` source may name.
pub const MAX_SCRIPT_BYTES: u64 = 1024 * 1024;

/// A regular file (never a link out of the checkout), capped, UTF-8.
fn read_script(file: &Path, path: &str) -> Result<String, BuildError> {
    let missing = || BuildError::InvalidSource(format!("no file {path:?} in the repository"));
    let meta = std::fs::symlink_metadata(file).map_err(|_| missing())?;
    if !meta.is_file() {
        return Err(missing());
    }
    if meta.len() > MAX_SCRIPT_BYTES {
        return Err(BuildError::InvalidSource(format!(
            "{path:?} has {} bytes, above the {MAX_SCRIPT_BYTES}-byte limit for scripts",
            meta.len()
        )));
    }
    let bytes = std::fs::read(file).map_err(|error| BuildError::io("reading the script", error))?;
    String::from_utf8(bytes)
        .map_err(|_| BuildError::InvalidSource(format!("{path:?} is not UTF-8 text")))
}

fn package_path(path: &str) -> Result<PathBuf, BuildError> {
    let invalid = || {
        BuildError::InvalidSource(format!(
            "package path {path:?} must be a relative path inside the repository"
        ))
    };
    if path.is_empty()
        || path.len() > 1024
        || path.contains('\\')
        || path.chars().any(char::is_control)
    {
        return Err(invalid());
    }
    let parsed = Path::new(path);
    if !parsed
        .components()
        .all(|component| matches!(component, Component::Normal(_)))
    {
        return Err(invalid());
    }
    Ok(parsed.components().collect())
}

/// Whether a `Cargo.lock` is in the package's directory or above it, up to
/// the repository root (where a workspace keeps it).
fn has_lockfile(src: &Path, package: &Path) -> bool {
    let mut dir = src.join(package);
    loop {
        if dir.join("Cargo.lock").is_file() {
            return true;
        }
        if dir == src || !dir.pop() {
            return false;
        }
    }
}

/// Bytes in regular files under `dir` (links are not followed; git checks
/// them out as plain files anyway).
fn dir_size(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let meta = entry.path().symlink_metadata()?;
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_paths() {
        assert_eq!(
            package_path("examples/echo/").unwrap(),
            Path::new("examples/echo")
        );
        for bad in ["", "/etc", "../x", "a/../../b", "./a", "a\\b", "a\nb"] {
            let error = package_path(bad).unwrap_err();
            assert!(error.is_user_error(), "{bad}");
        }
    }

    #[test]
    fn default_settings() {
        let settings = BuildSettings::default();
        assert!(settings.sandbox && !settings.allow_file_repos);
        assert!(settings.work_dir.ends_with("outlayer-builds"));
        assert_eq!(settings.max_memory_bytes, 4 << 30);
        assert_eq!(settings.max_disk_bytes, 2 << 30);
        assert_eq!(settings.max_artifact_bytes, 32 << 20);
    }
}
