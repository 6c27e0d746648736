//! The command line that runs a build: inside bubblewrap (production), or
//! directly (explicit development use), always under resource limits.
//!
//! Inside bubblewrap the build sees:
//! - the host's system directories (`/usr`, `/bin`, `/lib*`, `/sbin` and the
//!   few `/etc` files the C linker needs) and the Rust toolchain, read-only;
//! - the registry cache (`$CARGO_HOME/registry`, `git`, `config.toml`)
//!   read-only at `/cargo`, never the rest of the cargo home (credentials);
//! - the checkout read-only at `/build/src`;
//! - `/build` itself, a tmpfs of `max_disk_bytes`, as the only writable
//!   place (`target`, `home`, `tmp`; `/tmp` links there);
//! - its own `/dev`, `/proc`, user, pid, network (loopback only), ipc, uts
//!   and cgroup namespaces, no capabilities, no way to make new user
//!   namespaces, a cleared environment, and a new session (no terminal).
//!
//! Everything else (the worker's home, keys, other builds, the host network)
//! does not exist in there. The fixed paths also make builds the same on
//! every worker, and keep host paths out of compiler messages.
//!
//! Limits: `prlimit` (util-linux) sets RLIMIT_AS (`max_memory_bytes`, per
//! process), RLIMIT_FSIZE, RLIMIT_NPROC and RLIMIT_CORE on the shell that
//! runs cargo, so they apply to cargo, rustc and build scripts; the pid
//! namespace means killing bubblewrap at the deadline kills every process
//! of the build.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::BuildSettings;
use crate::toolchain::Tools;

/// Where the build directory is mounted inside the sandbox.
pub(crate) const BUILD_ROOT: &str = "/build";
/// Where the registry cache is mounted inside the sandbox.
pub(crate) const CARGO_HOME: &str = "/cargo";

/// Processes per user id (RLIMIT_NPROC). Counts every process of the uid the
/// build runs as, so it bounds fork bombs rather than budgeting a build.
/// Linux does not enforce it for host root: a worker run as root relies on
/// the deadline (and the pid namespace) alone.
pub(crate) const MAX_PROCESSES: u64 = 1024;

/// Host directories mirrored into the sandbox read-only (or as the same
/// symbolic link, on merged-/usr systems).
const SYSTEM_PATHS: &[&str] = &[
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    // `cc` (build scripts link for the host) is an alternatives link on
    // Debian; the dynamic loader wants its cache.
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
];

/// The paths a build uses, as the build sees them.
#[derive(Clone, Debug)]
pub(crate) struct Dirs {
    /// The checkout.
    pub(crate) src: PathBuf,
    pub(crate) target: PathBuf,
    pub(crate) home: PathBuf,
    pub(crate) tmp: PathBuf,
    pub(crate) cargo_home: PathBuf,
}

impl Dirs {
    /// Inside the sandbox: fixed paths.
    pub(crate) fn sandboxed() -> Self {
        let root = Path::new(BUILD_ROOT);
        Self {
            src: root.join("src"),
            target: root.join("target"),
            home: root.join("home"),
            tmp: root.join("tmp"),
            cargo_home: PathBuf::from(CARGO_HOME),
        }
    }

    /// Without the sandbox: directories under the build's own directory.
    pub(crate) fn on_host(build_dir: &Path, cargo_home: &Path) -> Self {
        Self {
            src: build_dir.join("src"),
            target: build_dir.join("target"),
            home: build_dir.join("home"),
            tmp: build_dir.join("tmp"),
            cargo_home: cargo_home.to_owned(),
        }
    }
}

/// A command line, environment and working directory, turned into a
/// process by the caller.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<OsString>,
    /// The whole environment (the parent's is cleared).
    pub(crate) env: Vec<(String, OsString)>,
    pub(crate) cwd: PathBuf,
}

impl Spec {
    pub(crate) fn tokio(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&self.args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.cwd);
        command
    }

    pub(crate) fn std(&self) -> std::process::Command {
        let mut command = std::process::Command::new(&self.program);
        command
            .args(&self.args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.cwd);
        command
    }
}

impl Dirs {
    /// The paths of a build whose host directory is `build_dir`.
    pub(crate) fn for_build(settings: &BuildSettings, build_dir: &Path) -> Self {
        if settings.sandbox {
            Self::sandboxed()
        } else {
            Self::on_host(build_dir, &settings.cargo_home)
        }
    }
}

/// Runs `argv` (inside the build, `cwd` relative to the checkout) for the
/// build whose host directory is `build_dir` (holding the checkout in
/// `src`); `dirs` from [`Dirs::for_build`].
pub(crate) fn command(
    tools: &Tools,
    settings: &BuildSettings,
    build_dir: &Path,
    dirs: &Dirs,
    cwd_in_src: &Path,
    argv: &[OsString],
) -> Spec {
    let env = build_env(tools, dirs);
    let cwd = dirs.src.join(cwd_in_src);
    let mut limited: Vec<OsString> = vec![tools.prlimit.clone().into()];
    limited.extend(limits(settings));
    limited.push("--".into());
    limited.extend(argv.iter().cloned());

    let Some(bwrap) = tools.bwrap.as_ref().filter(|_| settings.sandbox) else {
        return Spec {
            program: limited.remove(0).into(),
            args: limited,
            env,
            cwd,
        };
    };
    let mut args = bwrap_args(tools, settings, &build_dir.join("src"), dirs);
    for (name, value) in &env {
        args.extend(["--setenv".into(), name.into(), value.clone()]);
    }
    args.extend(["--chdir".into(), cwd.into_os_string()]);
    args.push("--".into());
    args.extend(limited);
    Spec {
        program: bwrap.clone(),
        args,
        // bwrap itself needs nothing from the environment (--clearenv
        // clears the build's anyway).
        env: vec![("PATH".into(), crate::toolchain::HOST_PATH.into())],
        cwd: build_dir.to_owned(),
    }
}

/// prlimit's options: memory per process, file size, processes, no cores.
fn limits(settings: &BuildSettings) -> Vec<OsString> {
    [
        format!("--as={}", settings.max_memory_bytes),
        format!("--fsize={}", settings.max_disk_bytes),
        format!("--nproc={MAX_PROCESSES}"),
        "--core=0".to_owned(),
    ]
    .into_iter()
    .map(OsString::from)
    .collect()
}

/// The environment of a build: only what cargo needs, nothing of the
/// worker's.
fn build_env(tools: &Tools, dirs: &Dirs) -> Vec<(String, OsString)> {
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let mut env: Vec<(String, OsString)> = vec![
        ("PATH".into(), tools.build_path().into()),
        ("HOME".into(), dirs.home.clone().into()),
        ("TMPDIR".into(), dirs.tmp.clone().into()),
        ("CARGO_HOME".into(), dirs.cargo_home.clone().into()),
        ("CARGO_TARGET_DIR".into(), dirs.target.clone().into()),
        // Bounded parallelism: memory is limited per process.
        ("CARGO_BUILD_JOBS".into(), jobs.to_string().into()),
        ("CARGO_INCREMENTAL".into(), "0".into()),
        ("CARGO_NET_OFFLINE".into(), "true".into()),
        ("CARGO_TERM_COLOR".into(), "never".into()),
        ("CARGO_TERM_PROGRESS_WHEN".into(), "never".into()),
        ("LANG".into(), "C".into()),
        ("TZ".into(), "UTC".into()),
    ];
    if let Some((rustup_home, toolchain)) = tools.rustup() {
        env.push(("RUSTUP_HOME".into(), rustup_home.into()));
        env.push(("RUSTUP_TOOLCHAIN".into(), toolchain.into()));
    }
    env
}

/// bubblewrap's options up to (not including) the environment and command.
fn bwrap_args(
    tools: &Tools,
    settings: &BuildSettings,
    host_src: &Path,
    dirs: &Dirs,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |items: &[&dyn AsRefOs]| args.extend(items.iter().map(|a| a.os()));
    push(&[
        // New user, pid, network, ipc, uts, cgroup (and mount) namespaces:
        // the network namespace has only its own loopback.
        &"--unshare-all",
        &"--unshare-user",
        // No nested user namespaces: they would hand capabilities back.
        &"--disable-userns",
        // bwrap keeps the caller's capabilities when run by root.
        &"--cap-drop",
        &"ALL",
        &"--die-with-parent",
        // setsid: no access to a controlling terminal (TIOCSTI).
        &"--new-session",
        &"--hostname",
        &"outlayer-build",
        &"--clearenv",
    ]);
    for path in SYSTEM_PATHS {
        let host = Path::new(path);
        match host.symlink_metadata() {
            Ok(meta) if meta.file_type().is_symlink() => {
                if let Ok(target) = host.read_link() {
                    push(&[&"--symlink", &target, &host]);
                }
            }
            Ok(_) => push(&[&"--ro-bind", &host, &host]),
            Err(_) => {}
        }
    }
    // The toolchain (under the rustup home, which is otherwise hidden).
    push(&[&"--ro-bind", &tools.sysroot, &tools.sysroot]);
    push(&[&"--dev", &"/dev", &"--proc", &"/proc"]);

    // The one writable place, bounded by the tmpfs size.
    let disk = settings.max_disk_bytes.to_string();
    push(&[&"--size", &disk, &"--tmpfs", &BUILD_ROOT]);
    for dir in [&dirs.target, &dirs.home, &dirs.tmp] {
        push(&[&"--dir", dir]);
    }
    push(&[&"--symlink", &dirs.tmp, &"/tmp"]);
    push(&[&"--ro-bind", &host_src, &dirs.src]);

    // Registry cache only: the cargo home may also hold credentials.
    push(&[&"--dir", &dirs.cargo_home]);
    for entry in ["registry", "git", "config.toml", "config"] {
        push(&[
            &"--ro-bind-try",
            &settings.cargo_home.join(entry),
            &dirs.cargo_home.join(entry),
        ]);
    }
    // Last: the root (a tmpfs bwrap made, holding the mount points) becomes
    // read-only, so nothing outside /build can be written.
    push(&[&"--remount-ro", &"/"]);
    args
}

/// Arguments of mixed kinds (`&str`, `Path`, `String`) in one list.
trait AsRefOs {
    fn os(&self) -> OsString;
}

impl<T: AsRef<std::ffi::OsStr> + ?Sized> AsRefOs for T {
    fn os(&self) -> OsString {
        self.as_ref().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools() -> Tools {
        Tools {
            git: "/usr/bin/git".into(),
            bwrap: Some("/usr/bin/bwrap".into()),
            prlimit: "/usr/bin/prlimit".into(),
            sh: "/bin/sh".into(),
            sysroot: "/opt/rust/toolchains/stable".into(),
            host_triple: "x86_64-unknown-linux-gnu".into(),
        }
    }

    fn settings(sandbox: bool) -> BuildSettings {
        BuildSettings {
            work_dir: "/srv/work".into(),
            cargo_home: "/srv/cargo".into(),
            sandbox,
            max_memory_bytes: 1 << 30,
            max_disk_bytes: 1 << 29,
            ..BuildSettings::default()
        }
    }

    fn text(spec: &Spec) -> String {
        let args: Vec<String> = spec
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        args.join(" ")
    }

    #[test]
    fn sandboxed_command_line() {
        let settings = settings(true);
        let build_dir = Path::new("/srv/work/build-1");
        let spec = command(
            &tools(),
            &settings,
            build_dir,
            &Dirs::for_build(&settings, build_dir),
            Path::new("pkg"),
            &["cargo".into(), "build".into()],
        );
        assert_eq!(spec.program, Path::new("/usr/bin/bwrap"));
        let line = text(&spec);
        for expected in [
            "--unshare-all --unshare-user --disable-userns --cap-drop ALL --die-with-parent --new-session",
            "--clearenv",
            "--ro-bind /opt/rust/toolchains/stable /opt/rust/toolchains/stable",
            "--size 536870912 --tmpfs /build",
            "--ro-bind /srv/work/build-1/src /build/src",
            "--ro-bind-try /srv/cargo/registry /cargo/registry",
            "--remount-ro /",
            "--setenv CARGO_HOME /cargo",
            "--setenv CARGO_TARGET_DIR /build/target",
            "--chdir /build/src/pkg",
            "-- /usr/bin/prlimit --as=1073741824 --fsize=536870912 --nproc=1024 --core=0 -- cargo build",
        ] {
            assert!(line.contains(expected), "missing {expected:?} in {line}");
        }
        // The writable tmpfs comes before the read-only remount of the root,
        // which comes last among the mounts.
        assert!(line.find("--tmpfs /build").unwrap() < line.find("--remount-ro /").unwrap());
        assert!(line.find("--remount-ro /").unwrap() < line.find("--setenv").unwrap());
        // Nothing of the cargo home but the registry cache and config.
        assert!(!line.contains("/srv/cargo "), "{line}");
        assert!(!line.contains("credentials"), "{line}");
    }

    #[test]
    fn unsandboxed_command_line_keeps_the_limits() {
        let settings = settings(false);
        let build_dir = Path::new("/srv/work/build-1");
        let spec = command(
            &tools(),
            &settings,
            build_dir,
            &Dirs::for_build(&settings, build_dir),
            Path::new(""),
            &["cargo".into(), "build".into()],
        );
        assert_eq!(spec.program, Path::new("/usr/bin/prlimit"));
        assert_eq!(
            text(&spec),
            "--as=1073741824 --fsize=536870912 --nproc=1024 --core=0 -- cargo build"
        );
        assert_eq!(spec.cwd, Path::new("/srv/work/build-1/src"));
        let env: std::collections::HashMap<_, _> = spec.env.iter().cloned().collect();
        assert_eq!(env["CARGO_HOME"], "/srv/cargo");
        assert_eq!(env["CARGO_TARGET_DIR"], "/srv/work/build-1/target");
    }
}
