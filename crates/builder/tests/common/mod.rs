//! Helpers for the builder's tests: tiny git repositories of guest crates
//! (dependency-free, so `cargo fetch` needs no network) and builders that
//! work in temporary directories.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use outlayer_builder::{BuildSettings, Builder};
use outlayer_types::{BuildTarget, CodeSource};
use tempfile::TempDir;

/// Generous: tests run side by side on a small machine.
pub const BUILD_TIMEOUT: Duration = Duration::from_secs(300);

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "outlayer_builder=debug".into()),
        )
        .try_init();
}

/// A builder working in its own temporary directories, with an empty
/// registry cache, `file://` repositories allowed and the sandbox on.
pub struct TestBuilder {
    pub builder: Builder,
    pub work_dir: PathBuf,
    _dirs: TempDir,
}

impl TestBuilder {
    pub fn new() -> Self {
        Self::with(|_| {})
    }

    pub fn with(change: impl FnOnce(&mut BuildSettings)) -> Self {
        init_tracing();
        let dirs = tempfile::Builder::new()
            .prefix("builder-test-")
            .tempdir()
            .unwrap();
        let work_dir = dirs.path().join("work");
        let mut settings = BuildSettings {
            work_dir: work_dir.clone(),
            cargo_home: dirs.path().join("cargo-home"),
            allow_file_repos: true,
            ..BuildSettings::default()
        };
        change(&mut settings);
        let builder = Builder::new(settings).expect(
            "the builder must start: git, cargo, prlimit and a working bubblewrap are needed \
             (scripts/setup installs them)",
        );
        Self {
            builder,
            work_dir,
            _dirs: dirs,
        }
    }

    /// No build left its directory behind.
    pub fn assert_clean(&self) {
        let left: Vec<_> = std::fs::read_dir(&self.work_dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "left in the work dir: {left:?}");
    }
}

/// A git repository in a temporary directory, on branch `main`.
pub struct Repo {
    dir: TempDir,
}

impl Repo {
    /// A repository whose first commit holds `files` (and a Cargo.lock
    /// generated for them when `lock`).
    pub fn new(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::Builder::new().prefix("repo-").tempdir().unwrap();
        git(dir.path(), &["init", "--quiet", "--initial-branch=main"]);
        let repo = Self { dir };
        repo.write(files);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn url(&self) -> String {
        format!("file://{}", self.path().display())
    }

    pub fn write(&self, files: &[(&str, &str)]) {
        for (name, content) in files {
            let path = self.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
    }

    /// Generates the Cargo.lock for the manifest at `dir` (offline: the
    /// guest crates have no registry dependencies).
    pub fn lock(&self, dir: &str) {
        let status = Command::new("cargo")
            .args(["generate-lockfile", "--offline", "--quiet"])
            .current_dir(self.path().join(dir))
            .status()
            .unwrap();
        assert!(status.success(), "cargo generate-lockfile");
    }

    /// Commits everything; returns the commit hash.
    pub fn commit(&self, message: &str) -> String {
        git(self.path(), &["add", "--all"]);
        git(
            self.path(),
            &[
                "-c",
                "user.name=test",
                "-c",
                "user.email=test@example.com",
                "commit",
                "--quiet",
                "--allow-empty",
                "-m",
                message,
            ],
        );
        self.head()
    }

    pub fn head(&self) -> String {
        git(self.path(), &["rev-parse", "HEAD"])
    }

    pub fn git(&self, args: &[&str]) -> String {
        git(self.path(), args)
    }

    pub fn source(&self, commit: &str, build_target: BuildTarget) -> CodeSource {
        CodeSource::GitHub {
            repo: self.url(),
            commit: commit.to_owned(),
            build_target,
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// `Cargo.toml` of a dependency-free binary crate.
pub fn manifest(name: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [profile.release]\nopt-level = \"s\"\n"
    )
}

pub const HELLO: &str = "fn main() {\n    println!(\"hello\");\n}\n";

/// A committed repository holding one binary crate with `main` and an
/// optional `build.rs`.
pub fn crate_repo(name: &str, main: &str, build_rs: Option<&str>) -> (Repo, String) {
    let mut manifest = manifest(name);
    let mut files = vec![("src/main.rs", main)];
    if let Some(build_rs) = build_rs {
        manifest = manifest.replace(
            "edition = \"2021\"\n",
            "edition = \"2021\"\nbuild = \"build.rs\"\n",
        );
        files.push(("build.rs", build_rs));
    }
    let repo = Repo::new(&files);
    repo.write(&[("Cargo.toml", &manifest)]);
    repo.lock(".");
    let commit = repo.commit("init");
    (repo, commit)
}

pub fn is_module(wasm: &[u8]) -> bool {
    wasm.starts_with(b"\0asm\x01\0\0\0")
}

pub fn is_component(wasm: &[u8]) -> bool {
    wasm.starts_with(b"\0asm\x0d\0\x01\0")
}

/// Command lines of the host's processes containing `needle`.
pub fn processes_matching(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) {
                found.push(format!("{}: {cmdline}", name.to_string_lossy()));
            }
        }
    }
    found
}
