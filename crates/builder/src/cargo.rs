//! cargo: `fetch` on the host (network, no build scripts), `build` in the
//! sandbox (offline), and reading cargo's JSON messages for the first error
//! and the binary.
//!
//! The build's tmpfs disappears with the sandbox, so the binary leaves it
//! through standard output: a small shell script runs cargo (with stdin
//! closed), prints a marker with cargo's exit status, reads from stdin the
//! path we pick from cargo's `compiler-artifact` messages, and `cat`s that
//! file after the marker.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;

use outlayer_types::BuildTarget;
use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use crate::error::{BuildError, Stage};
use crate::process::{self, Deadline, Group, LogTail, RunError};

/// First line the script prints: the sandbox is up and the shell runs.
const UP: &str = "OUTLAYER-BUILD-UP";
/// Printed after cargo with its exit status; the binary follows.
const EXITED: &str = "OUTLAYER-CARGO-EXIT ";

/// Runs cargo with stdin closed (nothing it starts can read the path we
/// send), then hands over the file we name.
const SCRIPT: &str = r#"printf '%s\n' OUTLAYER-BUILD-UP
"$@" </dev/null
status=$?
printf '\n%s%s\n' 'OUTLAYER-CARGO-EXIT ' "$status"
IFS= read -r artifact || exit "$status"
[ -n "$artifact" ] || exit "$status"
exec cat -- "$artifact"
"#;

/// cargo's JSON lines can carry a whole rendered diagnostic; longer lines
/// are cut (and then fail to parse, which only loses that message).
const MAX_LINE: usize = 4 << 20;

/// Replaces the build's own paths in texts that leave the worker.
#[derive(Clone, Debug, Default)]
pub(crate) struct Redactor {
    pairs: Vec<(String, &'static str)>,
}

impl Redactor {
    /// Paths in `srcs` (the checkout, as the host and the build see it)
    /// become relative; the `others` become names.
    pub(crate) fn new(srcs: &[&Path], others: &[(&Path, &'static str)]) -> Self {
        let mut pairs = Vec::new();
        for src in srcs {
            pairs.push((format!("{}/", src.display()), ""));
            pairs.push((src.display().to_string(), "."));
        }
        for (path, name) in others {
            pairs.push((path.display().to_string(), name));
        }
        // Longest first, so a path inside another is replaced whole.
        pairs.sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
        pairs.retain(|(path, _)| path.len() > 1);
        Self { pairs }
    }

    pub(crate) fn apply(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (path, name) in &self.pairs {
            text = text.replace(path.as_str(), name);
        }
        text
    }
}

/// `cargo fetch --locked` on the host, for `manifest`, with the registry
/// cache `cargo_home`. Runs from `build_dir` (outside the checkout) so the
/// repository's own `.cargo/config.toml` does not apply: it could name
/// programs (credential providers) cargo would run on the host.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn fetch(
    cargo: &Path,
    path_env: &str,
    cargo_home: &Path,
    build_dir: &Path,
    manifest: &Path,
    targets: [&str; 2],
    deadline: Deadline,
    redactor: &Redactor,
) -> Result<(), BuildError> {
    let home = build_dir.join("fetch-home");
    std::fs::create_dir_all(&home).map_err(|e| BuildError::io("creating the fetch home", e))?;
    let mut command = Command::new(cargo);
    command
        .env_clear()
        .env("PATH", path_env)
        .env("HOME", &home)
        .env("CARGO_HOME", cargo_home)
        .env("CARGO_TERM_COLOR", "never")
        .env("GIT_TERMINAL_PROMPT", "0")
        .current_dir(build_dir);
    process::network_env(&mut command);
    command
        .args(["fetch", "--locked", "--manifest-path"])
        .arg(manifest);
    for target in targets {
        command.args(["--target", target]);
    }
    match process::run(command, deadline.at, 64 << 10).await {
        Ok(finished) if finished.status.success() => Ok(()),
        Ok(finished) => {
            let log = finished.stderr.text();
            let message = redactor.apply(&first_error_line(&log).unwrap_or_default());
            if is_registry_outage(&log) {
                Err(BuildError::Registry { detail: message })
            } else {
                Err(BuildError::DependencyFetch { message, log })
            }
        }
        Err(RunError::Spawn(error)) => Err(BuildError::ToolMissing {
            tool: "cargo",
            detail: error.to_string(),
        }),
        Err(RunError::TimedOut(log)) => Err(deadline.timed_out(Stage::Fetch, &log)),
    }
}

/// Whether a failed fetch failed to reach crates.io itself (our network),
/// rather than a dependency the user named.
fn is_registry_outage(log: &str) -> bool {
    let lower = log.to_ascii_lowercase();
    let ours = lower.contains("index.crates.io") || lower.contains("static.crates.io");
    let network = [
        "could not resolve host",
        "couldn't resolve host",
        "failed to connect",
        "connection refused",
        "timed out",
        "ssl connect error",
        "network failure",
    ];
    ours && network.iter().any(|needle| lower.contains(needle))
}

/// The first line that starts with `error` in cargo's text output.
fn first_error_line(log: &str) -> Option<String> {
    log.lines()
        .find(|line| line.starts_with("error"))
        .map(|line| line.trim().to_owned())
}

/// What the build produced.
pub(crate) struct Built {
    pub(crate) wasm: Vec<u8>,
    pub(crate) log: String,
}

/// The argv (inside the build) that runs `cargo build` for `manifest`.
pub(crate) fn build_argv(sh: &Path, manifest: &Path, target: BuildTarget) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec![
        sh.into(),
        "-c".into(),
        SCRIPT.into(),
        "outlayer-build".into(),
        "cargo".into(),
        "build".into(),
        "--offline".into(),
        "--locked".into(),
        "--release".into(),
        "--target".into(),
        target.as_str().into(),
        // Plain `json`: `json-render-diagnostics` leaves compiler messages
        // out of the JSON, and we want the first error's code and span. The
        // rendered text goes to the log.
        "--message-format=json".into(),
        "--manifest-path".into(),
    ];
    argv.push(manifest.into());
    argv
}

/// Where things are, as the build sees them.
pub(crate) struct BuildPaths<'a> {
    /// The package's manifest.
    pub(crate) manifest: &'a Path,
    /// `CARGO_TARGET_DIR`: the binary must come from here.
    pub(crate) target_dir: &'a Path,
}

/// Runs the build `command` (from [`crate::sandbox::command`] with
/// [`build_argv`]) and returns the binary.
pub(crate) async fn build(
    command: Command,
    paths: BuildPaths<'_>,
    deadline: Deadline,
    max_artifact_bytes: u64,
    redactor: &Redactor,
) -> Result<Built, BuildError> {
    let mut command = command;
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut group = Group::spawn(command).map_err(|error| BuildError::Sandbox {
        detail: format!("starting the build: {error}"),
        log: String::new(),
    })?;
    let stdin = group.child().stdin.take();
    let stdout = group.child().stdout.take();
    let stderr = group.child().stderr.take();
    let log = Mutex::new(LogTail::default());
    let mut errors = StderrErrors::default();
    let mut messages = Messages::default();

    let work = async {
        let (wasm, ()) = tokio::join!(
            read_stdout(
                stdout,
                stdin,
                &paths,
                &mut messages,
                &log,
                max_artifact_bytes
            ),
            read_stderr(stderr, &mut errors, &log),
        );
        let status = group.wait().await;
        (wasm, status)
    };
    let outcome = tokio::time::timeout_at(deadline.at, work).await;
    let log = log
        .into_inner()
        .unwrap_or_else(|poison| poison.into_inner());
    let Ok((wasm, _status)) = outcome else {
        group.kill_and_reap().await;
        return Err(deadline.timed_out(Stage::Compile, &log));
    };
    let wasm = wasm.map_err(|error| BuildError::Sandbox {
        detail: format!("reading the build's output: {error}"),
        log: log.text(),
    })?;
    let log_text = log.text();

    if !messages.up {
        // The shell never ran: bubblewrap or prlimit failed to set up.
        return Err(BuildError::Sandbox {
            detail: errors
                .first
                .clone()
                .or_else(|| log_text.lines().next().map(str::to_owned))
                .unwrap_or_else(|| "the sandbox exited before the build started".into()),
            log: log_text,
        });
    }
    match messages.cargo_status {
        Some(0) => {}
        status => {
            let message = messages
                .first_error
                .clone()
                .or_else(|| errors.message())
                .unwrap_or_else(|| match status {
                    Some(code) => format!("cargo exited with status {code}"),
                    // Killed with the shell: the memory limit, or a signal.
                    None => "the build was killed".to_owned(),
                });
            return Err(BuildError::Compile {
                message: redactor.apply(&message),
                log: log_text,
            });
        }
    }
    let Some(wasm) = wasm else {
        return Err(BuildError::NoArtifact {
            detail: messages
                .artifact_problem
                .clone()
                .unwrap_or_else(|| "the binary could not be read from the build".to_owned()),
            log: log_text,
        });
    };
    if wasm.len() as u64 > max_artifact_bytes {
        return Err(BuildError::BadArtifact(format!(
            "larger than {max_artifact_bytes} bytes"
        )));
    }
    Ok(Built {
        wasm,
        log: log_text,
    })
}

/// What cargo's JSON said.
#[derive(Default)]
struct Messages {
    up: bool,
    cargo_status: Option<i32>,
    /// `error[CODE]: message (file:line:column)` of the first error.
    first_error: Option<String>,
    /// `(manifest_path, file)` of every `bin` target's `.wasm`.
    artifacts: Vec<(PathBuf, PathBuf)>,
    /// Why no binary was picked.
    artifact_problem: Option<String>,
}

impl Messages {
    fn handle(&mut self, message: &Value, log: &Mutex<LogTail>) {
        match message["reason"].as_str() {
            Some("compiler-message") => {
                let diagnostic = &message["message"];
                if let Some(rendered) = diagnostic["rendered"].as_str() {
                    lock(log).push_line(rendered);
                }
                if self.first_error.is_none() && is_error(diagnostic) {
                    self.first_error = Some(describe(diagnostic));
                }
            }
            Some("compiler-artifact") => {
                let is_bin = message["target"]["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"));
                let manifest = message["manifest_path"].as_str().unwrap_or_default();
                if is_bin && let Some(files) = message["filenames"].as_array() {
                    for file in files.iter().filter_map(Value::as_str) {
                        if file.ends_with(".wasm") {
                            self.artifacts.push((manifest.into(), file.into()));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The one binary to hand over, or why there is none.
    fn pick(&mut self, paths: &BuildPaths<'_>) -> Option<PathBuf> {
        let inside = |file: &Path| {
            file.starts_with(paths.target_dir)
                && !file
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
                && !file.as_os_str().to_string_lossy().contains('\n')
        };
        let mut candidates: Vec<&(PathBuf, PathBuf)> = self
            .artifacts
            .iter()
            .filter(|(_, file)| inside(file))
            .collect();
        candidates.dedup_by(|a, b| a.1 == b.1);
        if candidates.len() > 1 {
            candidates.retain(|(manifest, _)| manifest == paths.manifest);
        }
        match candidates.as_slice() {
            [(_, file)] => Some(file.clone()),
            [] => {
                self.artifact_problem = Some("the package has no binary target".into());
                None
            }
            several => {
                let names: Vec<String> = several
                    .iter()
                    .filter_map(|(_, file)| Some(file.file_name()?.to_string_lossy().into_owned()))
                    .collect();
                self.artifact_problem = Some(format!(
                    "several binaries ({}): the package must have one",
                    names.join(", ")
                ));
                None
            }
        }
    }
}

fn is_error(diagnostic: &Value) -> bool {
    let level = diagnostic["level"].as_str().unwrap_or_default();
    let text = diagnostic["message"].as_str().unwrap_or_default();
    level.starts_with("error") && !text.starts_with("aborting due to")
}

/// `error[E0425]: cannot find value `x` in this scope (src/main.rs:3:5)`.
fn describe(diagnostic: &Value) -> String {
    let level = diagnostic["level"].as_str().unwrap_or("error");
    let text = diagnostic["message"].as_str().unwrap_or_default();
    let mut line = match diagnostic["code"]["code"].as_str() {
        Some(code) => format!("{level}[{code}]: {text}"),
        None => format!("{level}: {text}"),
    };
    let spans = diagnostic["spans"].as_array();
    let primary = spans.and_then(|spans| {
        spans
            .iter()
            .find(|span| span["is_primary"].as_bool() == Some(true))
            .or_else(|| spans.first())
    });
    if let Some(span) = primary {
        let file = span["file_name"].as_str().unwrap_or("?");
        let row = span["line_start"].as_u64().unwrap_or(0);
        let column = span["column_start"].as_u64().unwrap_or(0);
        line.push_str(&format!(" ({file}:{row}:{column})"));
    }
    line
}

fn lock(log: &Mutex<LogTail>) -> std::sync::MutexGuard<'_, LogTail> {
    log.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// Reads cargo's messages until the exit marker, answers with the binary's
/// path, and returns the binary (at most `max + 1` bytes: more is refused
/// by the caller).
async fn read_stdout(
    stdout: Option<impl AsyncRead + Unpin>,
    stdin: Option<impl tokio::io::AsyncWrite + Unpin>,
    paths: &BuildPaths<'_>,
    messages: &mut Messages,
    log: &Mutex<LogTail>,
    max: u64,
) -> std::io::Result<Option<Vec<u8>>> {
    let (Some(stdout), Some(mut stdin)) = (stdout, stdin) else {
        return Ok(None);
    };
    let mut reader = BufReader::new(stdout);
    while let Some(line) = next_line(&mut reader, MAX_LINE).await? {
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end();
        if line == UP {
            messages.up = true;
        } else if let Some(status) = line.strip_prefix(EXITED) {
            messages.cargo_status = status.trim().parse().ok();
            break;
        } else if line.starts_with('{') {
            match serde_json::from_str::<Value>(line) {
                Ok(message) => messages.handle(&message, log),
                Err(_) => lock(log).push_line(line),
            }
        } else if !line.is_empty() {
            lock(log).push_line(line);
        }
    }
    let picked = match messages.cargo_status {
        Some(0) => messages.pick(paths),
        _ => None,
    };
    let answer = match &picked {
        Some(path) => format!("{}\n", path.display()),
        None => "\n".to_owned(),
    };
    // The shell may be gone already (cargo failed): a broken pipe is fine.
    let _ = stdin.write_all(answer.as_bytes()).await;
    drop(stdin);
    if picked.is_none() {
        return Ok(None);
    }
    let mut wasm = Vec::new();
    (&mut reader).take(max + 1).read_to_end(&mut wasm).await?;
    Ok(Some(wasm))
}

/// The first error cargo printed as text (build script failures, link
/// errors) and, for a panicking build script, its panic message.
#[derive(Default)]
struct StderrErrors {
    first: Option<String>,
    panic: Option<String>,
    after_panic_header: bool,
}

impl StderrErrors {
    fn see(&mut self, line: &str) {
        let trimmed = line.trim();
        if self.after_panic_header {
            self.after_panic_header = false;
            self.panic.get_or_insert_with(|| trimmed.to_owned());
        }
        if self.first.is_none() && trimmed.starts_with("error") {
            self.first = Some(trimmed.to_owned());
        }
        if self.panic.is_none() && trimmed.contains("panicked at") {
            // `thread 'main' panicked at build.rs:3:5:` then the message.
            self.after_panic_header = true;
        }
    }

    fn message(&self) -> Option<String> {
        let first = self.first.clone()?;
        Some(match &self.panic {
            Some(panic) => format!("{first}: {panic}"),
            None => first,
        })
    }
}

async fn read_stderr(
    stderr: Option<impl AsyncRead + Unpin>,
    errors: &mut StderrErrors,
    log: &Mutex<LogTail>,
) {
    let Some(stderr) = stderr else { return };
    let mut reader = BufReader::new(stderr);
    while let Ok(Some(line)) = next_line(&mut reader, MAX_LINE).await {
        let line = String::from_utf8_lossy(&line);
        errors.see(&line);
        lock(log).push_line(&line);
    }
}

/// The next line without its newline, at most `max` bytes of it; `None` at
/// the end.
async fn next_line(
    reader: &mut (impl AsyncBufRead + Unpin),
    max: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let mut any = false;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(any.then_some(line));
        }
        any = true;
        let (chunk, used, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(at) => (&buf[..at], at + 1, true),
            None => (buf, buf.len(), false),
        };
        let room = max.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        reader.consume(used);
        if done {
            return Ok(Some(line));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_error_with_code_and_location() {
        let message: Value = serde_json::from_str(
            r#"{"reason":"compiler-message","message":{"rendered":"error[E0425]: …","level":"error",
            "message":"cannot find value `x` in this scope","code":{"code":"E0425","explanation":"…"},
            "spans":[{"file_name":"src/main.rs","line_start":3,"column_start":5,"is_primary":true}]}}"#,
        )
        .unwrap();
        let mut messages = Messages::default();
        let log = Mutex::new(LogTail::default());
        messages.handle(&message, &log);
        assert_eq!(
            messages.first_error.as_deref(),
            Some("error[E0425]: cannot find value `x` in this scope (src/main.rs:3:5)")
        );
        assert!(lock(&log).text().contains("error[E0425]"));
    }

    #[test]
    fn the_one_binary_is_picked_from_the_target_dir() {
        let mut messages = Messages::default();
        let log = Mutex::new(LogTail::default());
        for (kind, file) in [
            ("lib", "/build/target/wasm32-wasip1/release/libsdk.rlib"),
            ("bin", "/build/target/wasm32-wasip1/release/echo.wasm"),
            ("bin", "/etc/passwd.wasm"),
        ] {
            let message = serde_json::json!({
                "reason": "compiler-artifact",
                "manifest_path": "/build/src/echo/Cargo.toml",
                "target": {"kind": [kind]},
                "filenames": [file],
            });
            messages.handle(&message, &log);
        }
        let paths = BuildPaths {
            manifest: Path::new("/build/src/echo/Cargo.toml"),
            target_dir: Path::new("/build/target"),
        };
        assert_eq!(
            messages.pick(&paths).unwrap(),
            Path::new("/build/target/wasm32-wasip1/release/echo.wasm")
        );
    }

    #[test]
    fn build_script_panics_are_summarised() {
        let mut errors = StderrErrors::default();
        for line in [
            "   Compiling leaky v0.1.0 (/build/src)",
            "error: failed to run custom build command for `leaky v0.1.0 (/build/src)`",
            "--- stderr",
            "thread 'main' (7) panicked at build.rs:4:10:",
            "connect: Os { code: 111, kind: ConnectionRefused }",
        ] {
            errors.see(line);
        }
        let redactor = Redactor::new(&[Path::new("/build/src")], &[]);
        assert_eq!(
            redactor.apply(&errors.message().unwrap()),
            "error: failed to run custom build command for `leaky v0.1.0 (.)`: \
             connect: Os { code: 111, kind: ConnectionRefused }"
        );
    }

    #[test]
    fn redaction_replaces_longest_paths_first() {
        let redactor = Redactor::new(
            &[Path::new("/srv/work/b1/src")],
            &[
                (Path::new("/srv/work"), "<work>"),
                (Path::new("/root/.cargo"), "$CARGO_HOME"),
            ],
        );
        assert_eq!(
            redactor
                .apply("/srv/work/b1/src/src/main.rs and /srv/work/b2 and /root/.cargo/registry"),
            "src/main.rs and <work>/b2 and $CARGO_HOME/registry"
        );
    }

    #[tokio::test]
    async fn long_lines_are_cut() {
        let data = format!("{}\nshort\n", "x".repeat(100));
        let mut reader = BufReader::with_capacity(16, data.as_bytes());
        assert_eq!(
            next_line(&mut reader, 10).await.unwrap().unwrap(),
            b"xxxxxxxxxx"
        );
        assert_eq!(next_line(&mut reader, 10).await.unwrap().unwrap(), b"short");
        assert!(next_line(&mut reader, 10).await.unwrap().is_none());
    }
}
