//! Finding the tools a build needs on the host, once, when the builder is
//! made: git, the Rust toolchain, bubblewrap and prlimit.
//!
//! Builds call the toolchain's own `cargo` and `rustc` (`<sysroot>/bin`),
//! not rustup's proxies: the toolchain is pinned by path, so a repository's
//! `rust-toolchain.toml` cannot make a worker download another toolchain,
//! and the sandbox only needs that one directory of the rustup home.

use std::path::{Path, PathBuf};
use std::process::Command;

use outlayer_types::BuildTarget;

use crate::error::BuildError;

/// `PATH` for the commands we run: system directories only, never the
/// worker's own `PATH`.
pub(crate) const HOST_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The host's tools, as absolute paths.
#[derive(Clone, Debug)]
pub(crate) struct Tools {
    pub(crate) git: PathBuf,
    /// Only looked for when the sandbox is on.
    pub(crate) bwrap: Option<PathBuf>,
    pub(crate) prlimit: PathBuf,
    pub(crate) sh: PathBuf,
    /// The Rust toolchain's root: `bin/cargo`, `bin/rustc`, `lib/rustlib`.
    pub(crate) sysroot: PathBuf,
    /// The triple build scripts and proc macros are compiled for.
    pub(crate) host_triple: String,
}

impl Tools {
    pub(crate) fn discover(sandbox: bool) -> Result<Self, BuildError> {
        let git = find("git")?;
        check_runs("git", &git, &["--version"])?;
        let prlimit = find("prlimit")?;
        check_runs("prlimit", &prlimit, &["--version"])?;
        let sh = PathBuf::from("/bin/sh");
        let bwrap = if sandbox {
            let bwrap = find("bwrap")?;
            check_runs("bwrap", &bwrap, &["--version"])?;
            Some(bwrap)
        } else {
            None
        };

        // `rustc` as the operator's environment finds it (rustup honours
        // RUSTUP_TOOLCHAIN and RUSTUP_HOME here), then that toolchain by path.
        let rustc = find("rustc")?;
        let sysroot = output("rustc", &rustc, &["--print", "sysroot"])?;
        let sysroot = PathBuf::from(sysroot.trim());
        let cargo = sysroot.join("bin/cargo");
        check_runs("cargo", &cargo, &["--version"])?;
        let version = output("rustc", &sysroot.join("bin/rustc"), &["-vV"])?;
        let host_triple = version
            .lines()
            .find_map(|line| line.strip_prefix("host: "))
            .ok_or_else(|| BuildError::ToolMissing {
                tool: "rustc",
                detail: "`rustc -vV` names no host triple".into(),
            })?
            .trim()
            .to_owned();
        Ok(Self {
            git,
            bwrap,
            prlimit,
            sh,
            sysroot,
            host_triple,
        })
    }

    pub(crate) fn cargo(&self) -> PathBuf {
        self.sysroot.join("bin/cargo")
    }

    /// `PATH` inside builds: the toolchain first.
    pub(crate) fn build_path(&self) -> String {
        format!("{}:{HOST_PATH}", self.sysroot.join("bin").display())
    }

    /// Whether the toolchain has the standard library for `target`
    /// (`rustup target add` was run).
    pub(crate) fn has_target(&self, target: BuildTarget) -> bool {
        self.sysroot
            .join("lib/rustlib")
            .join(target.as_str())
            .join("lib")
            .is_dir()
    }

    /// `RUSTUP_HOME` and `RUSTUP_TOOLCHAIN` for a rustup-managed toolchain
    /// (`<rustup home>/toolchains/<name>`): informational inside builds,
    /// since builds call the toolchain's binaries directly.
    pub(crate) fn rustup(&self) -> Option<(PathBuf, String)> {
        let toolchains = self.sysroot.parent()?;
        if toolchains.file_name()? != "toolchains" {
            return None;
        }
        let name = self.sysroot.file_name()?.to_str()?.to_owned();
        Some((toolchains.parent()?.to_owned(), name))
    }
}

/// The first `name` in the worker's `PATH`, then in the system directories.
fn find(name: &'static str) -> Result<PathBuf, BuildError> {
    let from_env = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&from_env)
        .chain(std::env::split_paths(HOST_PATH))
        .map(|dir| dir.join(name))
        .find(|path| is_executable(path))
        .ok_or_else(|| BuildError::ToolMissing {
            tool: name,
            detail: format!("`{name}` not found in PATH (scripts/setup installs it)"),
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

fn check_runs(tool: &'static str, program: &Path, args: &[&str]) -> Result<(), BuildError> {
    output(tool, program, args).map(drop)
}

fn output(tool: &'static str, program: &Path, args: &[&str]) -> Result<String, BuildError> {
    let out =
        Command::new(program)
            .args(args)
            .output()
            .map_err(|error| BuildError::ToolMissing {
                tool,
                detail: format!("running {}: {error}", program.display()),
            })?;
    if !out.status.success() {
        return Err(BuildError::ToolMissing {
            tool,
            detail: format!(
                "{} {} failed: {}",
                program.display(),
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
